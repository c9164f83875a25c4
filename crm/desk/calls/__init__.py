"""The staff workspace, the 311 desk: find the citizen, answer from the information bank,
log the call or file a request."""
