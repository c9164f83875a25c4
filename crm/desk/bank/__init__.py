"""The staff workspace, the information bank: search for every role; editing, preview,
versions and reviews for administrators."""
