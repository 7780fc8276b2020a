"""Every string of the pages and messages has a Lao translation, and the compiled file is fresh."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "web" / "translations" / "lo" / "LC_MESSAGES"
METHODS = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def _strings() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _lao_script(text: str) -> bool:
    return any("\u0e80" <= ch <= "\u0eff" for ch in text)


def test_every_string_has_a_lao_translation():
    with open(CATALOG / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    strings = _strings()
    assert len(strings) > 150
    missing = sorted(s for s in strings if not (catalog.get(s) and catalog.get(s).string))
    assert missing == []
    not_lao = sorted(s for s in strings if not _lao_script(catalog.get(s).string))
    assert not_lao == []


def test_compiled_catalog_matches_the_po_file():
    with open(CATALOG / "messages.po", "rb") as fh:
        source = {m.id: m.string for m in read_po(fh) if m.id}
    with open(CATALOG / "messages.mo", "rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    assert compiled == source
