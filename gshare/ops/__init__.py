"""Keeping a site healthy: health checks (health.py), fsck and gc (maintenance.py)."""
