"""gshare in S3's shape for the S3 endpoint: spaces as buckets and paths as keys (view.py),
changing them (objects.py), files in the trash as delete markers (markers.py)."""
