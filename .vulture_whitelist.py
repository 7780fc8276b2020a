"""Names only a framework or a protocol uses, for vulture (never imported).

Routes, hooks, click commands and Flask-Login loaders are found by their decorators
(pyproject.toml, [tool.vulture]). What is below is called or read by name where vulture cannot
see it. Add a name here only when no code of ours uses it on purpose.
"""

# SQLAlchemy: a TypeDecorator's protocol (gshare.core.models.UTCDateTime), and a column the
# trash fills for whoever reads the database (Node.deleted_by).
_.impl
_.cache_ok
_.process_bind_param
_.process_result_value
_.deleted_by

# Alembic: a migration script's module names, and env.py's render_item hook's arguments.
_.down_revision
_.branch_labels
_.depends_on
_.downgrade
_.autogen_context

# Flask and Flask-Login: settings, the user protocol, and what views keep on flask.g by name.
_.permanent
_.login_view
_.session_protection
_.is_anonymous
_.is_active
_.get_id
_.uow_stack
_.uow_failed

# File-like objects: tell() of zipstream's sink (zipfile) and of storage's request bodies (the
# SDKs rewind them), and a ZipInfo's file_size (gshare.files.zipstream).
_.tell
_.file_size

# Context managers: __exit__(*exc_info) of storage, antivirus.
_.exc_info

# antivirus: ClamdScanner.reload, the adapter's RELOAD command, which tests/antivirus drives.
_.reload

# SignatureGeneration.first_seen_at: when a signature database was first used, for operators
# reading the table after an update (docs/clamav.md).
_.first_seen_at

# prometheus-client calls a collector's collect() when scraped (gshare/ops/metrics.py).
_.collect

# UserSession.device: the user agent summed up, shown on the sessions page (sessions.html).
_.device

# pydantic: a model's settings, and answer fields (web/api/payloads.py) that only the OpenAPI
# document and the scripts reading the answers use.
_.model_config
_.personal_folder
_.department_folder
_.html  # Badge and Live: what web/static/live.js reads of /api/v1/live
_.badges
_.space_use

# Second factors (issue 11): WebAuthn columns that step 3 reads.
_.credential_id
_.sign_count

# SQLAlchemy: a @validates hook keeps a node's search and sort keys with its name.
_._keep_keys
# SQLAlchemy: a @validates hook keeps a person's search key with their names.
_._keep_search_key
# Thumbnails: Pillow reads its decompression-bomb limit from this module attribute.
_.MAX_IMAGE_PIXELS
