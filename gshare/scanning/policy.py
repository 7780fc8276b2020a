"""The content policy: executables, installers, scripts and shortcuts are not shared, whatever
their name says; a file whose content contradicts its name is stopped with that reason; Office
files with macros are stopped by content and by name where `block_office_macros` asks."""

from __future__ import annotations

import functools
import mimetypes

from gshare.core.errors import NameInvalid

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

# What antivirus.detect_content_type calls an Office file that holds a macro project.
MACRO_TYPES = frozenset(
    {
        "application/vnd.ms-word.document.macroEnabled.12",
        "application/vnd.ms-word.template.macroEnabled.12",
        "application/vnd.ms-excel.sheet.macroEnabled.12",
        "application/vnd.ms-excel.template.macroEnabled.12",
        "application/vnd.ms-excel.addin.macroEnabled.12",
        "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
        "application/vnd.ms-powerpoint.slideshow.macroEnabled.12",
        "application/vnd.ms-powerpoint.template.macroEnabled.12",
        "application/vnd.ms-powerpoint.addin.macroEnabled.12",
        "application/vnd.ms-powerpoint.slide.macroEnabled.12",
    }
)
# Office's endings for files with macros (.xla and .ppa: the add-ins of the older formats).
MACRO_EXTENSIONS = (
    *(".docm", ".dotm", ".xlsm", ".xltm", ".xlam", ".xla"),
    *(".pptm", ".potm", ".ppsm", ".ppam", ".ppa", ".sldm"),
)


def policy_violation(settings, name: str, detected_type: str) -> str | None:
    """Return why a file must be blocked under the [antivirus] settings, or None."""
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
    if settings.block_office_macros and detected_type in MACRO_TYPES:
        return f"documents with macros ({detected_type}) may not be shared"
    denied = settings.deny_extensions + (MACRO_EXTENSIONS if settings.block_office_macros else ())
    if ending := denied_ending(name, denied):
        return f"files ending in {ending} may not be shared"
    return None


def denied_ending(name: str, endings) -> str | None:
    """Return the ending of endings that a name has as Windows sees it, or None: in any case,
    and after the trailing dots and spaces Windows drops ('evil.exe. ' is 'evil.exe')."""
    seen = name.rstrip(". ").casefold()
    folded = _folded(tuple(endings))
    if not seen.endswith(folded):  # one call for the whole list: every upload asks
        return None
    return next(e for e in folded if seen.endswith(e))


@functools.lru_cache(maxsize=8)
def _folded(endings: tuple) -> tuple:
    return tuple(e.casefold() for e in endings)


def refuse_blocked_ending(settings, old_name: str, new_name: str) -> None:
    """Raise NameInvalid when a file would be renamed to an ending the policy blocks: a rename
    must not turn a shared text file into a script that Windows runs. (A file whose name
    was blocked already stays blocked, whatever it is renamed to.)"""
    denied = settings.deny_extensions + (MACRO_EXTENSIONS if settings.block_office_macros else ())
    if denied_ending(old_name, denied):
        return
    if ending := denied_ending(new_name, denied):
        raise NameInvalid(
            f"Files ending in {ending} may not be shared: choose another name.",
            reason="blocked_ending",
            ending=ending,
        )
