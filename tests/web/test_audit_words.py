"""Every action the code base writes to the audit log reads as a sentence on the audit page,
in Lao and English: none falls back to "another action"."""

from __future__ import annotations

import ast
from pathlib import Path

from flask_babel import force_locale

from web.audit_words import SENTENCES, SOMETHING_ELSE, describe

ROOT = Path(__file__).resolve().parents[2]
# Codes built at run time: "factor.<kind>.remove" and "scan.<state>" (a version quarantined).
DYNAMIC = {
    "f'factor.{factor.kind}.remove'": {"factor.totp.remove", "factor.webauthn.remove"},
    "action": {"scan.infected", "scan.blocked", "scan.pulled_back"},
}


def recorded_actions() -> set[str]:
    """Return every action code passed to audit.record in gshare/ and web/."""
    actions = set()
    for path in [*(ROOT / "gshare").rglob("*.py"), *(ROOT / "web").rglob("*.py")]:
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "record"
                and getattr(call.func.value, "id", None) == "audit"
            ):
                continue
            code = call.args[2]
            if isinstance(code, ast.Constant):
                actions.add(code.value)
            else:
                actions |= DYNAMIC[ast.unparse(code)]  # a new dynamic code: name it above
    return actions


def test_every_recorded_action_has_a_sentence_and_every_sentence_an_action():
    actions = recorded_actions()
    assert {"file.upload", "share.grant", "directory.disable"} <= actions  # the scan works
    assert sorted(actions - SENTENCES.keys()) == []
    # file.download is written by audit.record_download itself
    assert sorted(SENTENCES.keys() - actions - {"file.download"}) == []


def test_the_sentences_read_in_lao_and_english_without_a_code(app):
    with app.test_request_context():
        for locale in ("en", "lo"):
            with force_locale(locale):
                fallback = describe("no.such.action", "Somsak", "plan.txt")
                assert fallback == str(SOMETHING_ELSE) % {"who": "Somsak", "what": "plan.txt"}
                for action in SENTENCES:
                    sentence = describe(action, "Somsak", "plan.txt")
                    assert sentence != fallback and action not in sentence
                    if locale == "lo":
                        assert any("\u0e80" <= ch <= "\u0eff" for ch in sentence), sentence
