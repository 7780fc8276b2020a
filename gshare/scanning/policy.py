"""The content-type policy: executables, installers and scripts are not shared, whatever
their name says, and a file whose content contradicts its name is stopped with that reason."""

from __future__ import annotations

import mimetypes
import posixpath

# Types a name may claim that an executable must never hide behind (documents, media, archives).
_HARMLESS_FAMILIES = (
    "text/",
    "image/",
    "audio/",
    "video/",
    "application/pdf",
    "application/vnd.",
    "application/msword",
    "application/zip",
    "application/x-7z",
    "application/x-rar",
    "application/gzip",
)


def policy_violation(settings, name: str, detected_type: str) -> str | None:
    """Return why a file must be blocked under the [antivirus] settings, or None."""
    extension = posixpath.splitext(name.lower())[1]
    claimed = mimetypes.guess_type(name, strict=False)[0]
    if detected_type in settings.deny_types:
        if (
            settings.check_name_matches_content
            and claimed
            and claimed.startswith(_HARMLESS_FAMILIES)
            and claimed != detected_type
        ):
            return f"the content is a program ({detected_type}) but the name says {claimed}"
        return f"programs and scripts ({detected_type}) may not be shared"
    if extension and extension in settings.deny_extensions:
        return f"files ending in {extension} may not be shared"
    return None
