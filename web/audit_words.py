"""The audit log in words: one sentence per action code, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SENTENCES = {
    "file.download": _l("%(who)s downloaded %(what)s"),
    "folder.download_zip": _l("%(who)s downloaded %(what)s as a ZIP"),
    "folder.create": _l("%(who)s created the folder %(what)s"),
    "file.upload": _l("%(who)s uploaded %(what)s"),
    "file.metadata": _l("%(who)s changed the details of %(what)s"),
    "node.rename": _l("%(who)s renamed %(what)s"),
    "node.move": _l("%(who)s moved %(what)s"),
    "node.copy": _l("%(who)s copied %(what)s"),
    "node.delete": _l("%(who)s moved %(what)s to the trash"),
    "node.restore": _l("%(who)s restored %(what)s from the trash"),
    "node.purge": _l("%(who)s deleted %(what)s for good"),
    "grant.add": _l("%(who)s shared %(what)s"),
    "grant.revoke": _l("%(who)s stopped sharing %(what)s"),
    "link.create": _l("%(who)s made a public link to %(what)s"),
    "link.revoke": _l("%(who)s revoked a public link to %(what)s"),
    "link.upload": _l("Someone with a link uploaded %(what)s"),
    "link.download_zip": _l("Someone with a link downloaded %(what)s as a ZIP"),
    "link.password_failed": _l("A wrong link password was tried for %(what)s"),
    "login": _l("%(who)s signed in"),
    "login.failed": _l("A sign-in as %(what)s failed"),
    "login.locked": _l("Sign-in as %(what)s was refused: the account is locked"),
    "login.lockout": _l("The account %(what)s was locked after wrong passwords"),
    "login.slowed": _l("Sign-in as %(what)s was slowed after wrong passwords"),
    "login.throttled": _l("Too many sign-ins from one address were refused"),
    "login.unlock": _l("%(who)s lifted the sign-in lock of %(what)s"),
    "logout": _l("%(who)s signed out"),
    "session.end": _l("%(who)s ended a session"),
    "session.end_all": _l("%(who)s ended every session of %(what)s"),
    "session.end_others": _l("%(who)s ended their other sessions"),
    "session.provider_logout": _l(
        "A session of %(what)s ended: they signed out at the single sign-on provider"
    ),
    "factor.reset": _l("%(who)s reset the second factor of %(what)s"),
    "factor.webauthn.add": _l("%(who)s added a security key"),
    "factor.webauthn.remove": _l("%(who)s removed a security key"),
    "factor.webauthn.cloned": _l(
        "A security key of %(what)s was refused: its counter went back (it may have been copied)"
    ),
    "user.add": _l("%(who)s added the account %(what)s"),
    "user.place": _l("%(who)s changed the department or role of %(what)s"),
    "user.disable": _l("%(who)s disabled the account %(what)s"),
    "user.enable": _l("%(who)s enabled the account %(what)s"),
    "user.set_password": _l("%(who)s set the password of %(what)s"),
    "department.add": _l("%(who)s added the department %(what)s"),
    "department.rename": _l("%(who)s renamed the department %(what)s"),
    "department.move": _l("%(who)s moved the department %(what)s"),
    "space.create": _l("%(who)s created the space %(what)s"),
    "space.delete": _l("%(who)s deleted the space %(what)s"),
    "space.quota": _l("%(who)s set the quota of %(what)s"),
    "api_token.create": _l("%(who)s created an API token"),
    "api_token.revoke": _l("%(who)s revoked an API token"),
    "api_token.revoke_all": _l("%(who)s revoked every API token of %(what)s"),
    "key.create": _l("%(who)s created an S3 access key"),
    "key.revoke": _l("%(who)s revoked an S3 access key"),
    "key.revoke_all": _l("%(who)s revoked every S3 access key of %(what)s"),
    "quarantine.release": _l("%(who)s released %(what)s from the quarantine"),
    "quarantine.delete": _l("%(who)s deleted the quarantined %(what)s"),
    "scan.infected": _l("The scanner found %(what)s infected"),
}
SYSTEM = _l("the system")
SOMETHING_ELSE = _l("%(who)s: another action on %(what)s")


def describe(action: str, who: str | None, what: str) -> str:
    """Return one audit event as a sentence: who did what to which item."""
    sentence = SENTENCES.get(action, SOMETHING_ELSE)
    return str(sentence) % {"who": who or str(SYSTEM), "what": what or "—"}
