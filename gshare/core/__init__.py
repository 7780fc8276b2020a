"""The ground every concept stands on: config, the SQL schema and its sessions, errors, names,
who acts (actor.py), where a node sits (paths.py), the unit of work (context.py), blob keys and
the object store's errors in gshare's words (blobs.py), the server secret (crypto.py) and the
embedded object store (embedded.py). Imports nothing else of gshare."""
