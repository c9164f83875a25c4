"""The citizen portal: the town's public site (answers, following a request)."""
