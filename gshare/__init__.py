"""G-Share: the government file-share (domain, services, CLI)."""
