"""Who may do what, in one place: roles and actions on nodes (permissions.py), what of a space
a person sees (visibility.py), the scan gate (gate.py), who manages which people and
departments, and what an S3 access key may do (accounts.py). Depends on gshare.core only;
every service, view, template and S3 handler asks it."""
