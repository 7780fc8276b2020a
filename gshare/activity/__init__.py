"""What happened, kept and told: the audit log (audit.py) and in-app notices (notifications.py)."""
