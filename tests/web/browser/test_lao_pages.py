"""No English left on a Lao page: every page a Lao reader visits shows Lao words only, apart
from names and data (file names, user names, codes) and a few tokens that have no Lao form."""

from __future__ import annotations

import re

from sqlalchemy import select

from gshare.core.models import Space
from tests.web.browser.conftest import DESKTOP, shot, sign_in
from tests.web.browser.test_layout import _office

# Not words of the UI: the product, protocols and formats, and the data _office made.
ALLOWED = {
    "G-Share", "S3", "API", "PDF", "ZIP", "CSV", "QR", "TOTP", "URL", "OpenID", "English",
    "MB", "KB", "GB", "B", "aws", "cli", "rclone", "s3cmd", "http", "https", "IP", "ClamAV",
    "USB", "NFC", "PIN",
    "khamla", "Khamla", "souksavanh", "final_v3", "pdf", "txt", "jpg", "png", "old", "virus",
    "Eicar-Test",
}  # fmt: skip
# Codes a page quotes for a program to read: the CSV's columns, the API's header.
CODES = {
    "people": {"username", "display_name", "department", "role", "email"},
    "account": {"Authorization", "Bearer", "api", "v1"},
    "sessions": {"Chrome", "Linux", "HeadlessChrome"},  # the browser's own description
    "second-factor": {"passkey"},  # glossed: ພາສຄີ (passkey), the word the phone's dialog shows
}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
# The text a person reads and the words a screen reader or a tooltip gives: not what is in a
# list to choose from (time zones, departments) or quoted as code (slugs, keys).
UI_TEXT = """() => {
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walk.nextNode()) {
    const node = walk.currentNode;
    if (node.parentElement.closest('select, code, script, style, [hidden]')) continue;
    if (!node.parentElement.getClientRects().length) continue;
    parts.push(node.textContent);
  }
  for (const e of document.querySelectorAll('[placeholder], [aria-label], [title], img[alt]'))
    parts.push(...['placeholder', 'aria-label', 'title', 'alt'].map((a) => e.getAttribute(a)));
  return parts.filter(Boolean).join('\\n');
}"""
DATA = re.compile(
    r"\b\d{1,2}/\d{1,2}/\d{4}\b|[\w.+-]+@[\w.-]+|https?://\S+|\bv/[0-9a-f]+|[0-9a-f]{16,}"
)


def _latin_words(text: str, data: set[str]) -> set[str]:
    text = DATA.sub(" ", text)
    return {w for w in LATIN_WORD.findall(text) if w not in ALLOWED and w not in data}


def test_lao_pages_have_no_english_words(site, open_page):
    person, outsider = _office(site)
    page = open_page("lo", **DESKTOP)
    sign_in(page, "khamla")
    stranger = open_page("lo", **DESKTOP)
    data = {"budget-committee-2026"} | set(site.run(lambda w: w.ctx.db.scalars(select(Space.slug))))
    found = []
    for visitor, pages in ((page, person), (stranger, outsider)):
        for name, path in pages.items():
            visitor.goto(path)
            if name in ("start", "departments", "audit-log", "access-keys"):
                shot(visitor, f"lao-words-{name}")
            words = _latin_words(visitor.evaluate(UI_TEXT), data | CODES.get(name, set()))
            if words:
                found.append(f"{name}: {sorted(words)}")
    assert not found, "\n".join(found)
