"""The organisation: departments, people, spaces and their quotas."""
