"""Signing in and the keys people hold: sign-in with lockout (login.py), API tokens, S3 access
keys (secrets encrypted)."""
