"""Lao and English: the reader's language (chosen, else the browser's), sizes and dates."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from babel.numbers import format_decimal
from flask import Flask, request, session, url_for
from flask_babel import Babel, format_datetime, get_locale

LANGUAGES = {"lo": "ພາສາລາວ", "en": "English"}
DEFAULT = "lo"
STATIC = Path(__file__).parent / "static"


def select_locale() -> str:
    """Return the language chosen in this session, else the browser's best, else Lao."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def install(app: Flask) -> None:
    """Set up Flask-Babel and the template helpers for sizes, dates and assets."""
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.filters.update(filesize=filesize, when=when)
    app.jinja_env.globals.update(asset=asset, languages=LANGUAGES, current_lang=current_lang)


def current_lang() -> str:
    """Return the code of the language pages are shown in."""
    return str(get_locale() or DEFAULT)


def filesize(size: int | None) -> str:
    """Format a size in bytes for people: 1.5 MB, in the reader's number format."""
    if size is None:
        return ""
    value, unit = float(size), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            break
        value /= 1024
    pattern = "#,##0" if unit == "B" else "#,##0.#"
    return f"{format_decimal(value, pattern, locale=current_lang())} {unit}"


def when(moment) -> str:
    """Format a timestamp in the reader's language."""
    return format_datetime(moment, "medium") if moment else ""


def asset(filename: str) -> str:
    """Return the URL of a static file with a version that changes when the file does."""
    return url_for("static", filename=filename, v=_fingerprint(filename))


@lru_cache(maxsize=64)
def _fingerprint(filename: str) -> str:
    path = STATIC / filename
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"
