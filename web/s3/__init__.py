"""gshare's S3-compatible endpoint."""
