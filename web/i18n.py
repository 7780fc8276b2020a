"""Lao and English: the reader's language (chosen, else the browser's), sizes and dates.

Times are shown in the reader's time zone (their own choice, else `[server] time_zone`,
Asia/Vientiane by default) as Lao people write them: dd/mm/yyyy and a 24-hour clock, with
relative times ("5 ນາທີກ່ອນ") in lists and the full time in a tooltip.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta
from babel.numbers import format_decimal
from flask import Flask, current_app, request, session, url_for
from flask_babel import Babel, format_datetime, get_locale, get_timezone, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from gshare.core.config import time_zones
from gshare.org.departments import unit_kind
from web.context import ctx

LANGUAGES = {"lo": "ພາສາລາວ", "en": "English"}
DEFAULT = "lo"
STATIC = Path(__file__).parent / "static"
# What a unit of the department tree is called (`[org] unit_names`), as a word inside a
# sentence: "My %(unit)s" reads "My division", "ພະແນກຂອງຂ້ອຍ". docs/glossary.md says why.
UNIT_WORDS = {
    "ministry": _l("ministry"),
    "department": _l("department"),
    "division": _l("division"),
    "section": _l("section"),
    "office": _l("office"),
    "unit": _l("unit"),
}


def select_locale() -> str:
    """Return the language chosen in this session, else the browser's best, else Lao."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def install(app: Flask) -> None:
    """Set up Flask-Babel and the template helpers for sizes, dates and assets."""
    Babel(
        app,
        locale_selector=select_locale,
        timezone_selector=select_time_zone,
        default_translation_directories="translations",
    )
    app.jinja_env.filters.update(filesize=filesize, when=when, ago=ago, day=day)
    app.jinja_env.globals.update(
        asset=asset,
        languages=LANGUAGES,
        current_lang=current_lang,
        time_zones=time_zones,
        site_time_zone=site_time_zone,
        unit_of=unit_of,
    )


def select_time_zone() -> str:
    """Return the reader's time zone: their own choice, else the site's."""
    user = getattr(current_user, "user", None) if current_user else None
    return getattr(user, "time_zone", None) or site_time_zone()


def site_time_zone() -> str:
    """Return the time zone of the site, `[server] time_zone`."""
    return current_app.extensions["gshare"].config.server.time_zone


def unit_of(department) -> str:
    """Return what a department is called at its level of the tree, in the reader's language."""
    return str(UNIT_WORDS[unit_kind(ctx(), department)])


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
    """Format a timestamp as 15/08/2025 13:12 in the reader's time zone."""
    return format_datetime(moment, "dd/MM/y HH:mm") if moment else ""


def day(moment) -> str:
    """Format a date as 15/08/2025 in the reader's time zone."""
    return format_datetime(moment, "dd/MM/y") if moment else ""


def ago(moment, now: datetime | None = None) -> Markup:
    """Format a timestamp as "5 minutes ago" (within a week), else as a date, in a <time>
    element whose tooltip is the full time in the reader's time zone."""
    if not moment:
        return Markup("")
    elapsed = (now or datetime.now(UTC)) - moment
    shown = when(moment)
    if timedelta(0) <= elapsed < timedelta(days=7):
        shown = (
            format_timedelta(
                -elapsed, threshold=1, add_direction=True, format="long", locale=current_lang()
            )
            if elapsed >= timedelta(minutes=1)
            else gettext("just now")
        )
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        moment.isoformat(), when(moment), escape(shown)
    )


def parse_day(text: str, at: time = time(23, 59, 59)) -> datetime | None:
    """Read a date typed as dd/mm/yyyy as the end of that day (or another time of it) in the
    reader's time zone, in UTC; None when the text is not such a date."""
    parts = text.strip().replace(".", "/").replace("-", "/").split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None
    try:
        date = datetime(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None
    local = datetime.combine(date.date(), at, ZoneInfo(str(get_timezone())))
    return local.astimezone(UTC)


def asset(filename: str) -> str:
    """Return the URL of a static file with a version that changes when the file does."""
    return url_for("static", filename=filename, v=_fingerprint(filename))


@lru_cache(maxsize=64)
def _fingerprint(filename: str) -> str:
    path = STATIC / filename
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"
