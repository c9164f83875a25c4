"""The staff workspace, the request page: timeline, transitions, assignment, notes and
replies, attachments, duplicates."""
