"""The tree and its content: finding and listing (lookup.py), folders, files and their versions
(content.py), uploads in parts (uploads.py), the trash, and folders as ZIP (zipstream.py)."""
