"""Sharing: roles granted to people and departments (grants.py), public links (links.py)."""
