"""Security alerts: when a file is found infected, or a rescan pulls a shared file back, the
site's system administrators are told at once (a notice in the app, and an e-mail when they
have an address and [mail] is set), with the addresses in `[alerts] emails` (NIST SP 800-53
SI-3: named roles are alerted when malicious code is found)."""

from __future__ import annotations

from sqlalchemy import select

from gshare.activity import mail, notifications
from gshare.core.context import Context
from gshare.core.models import User, UserRole, Version
from gshare.core.paths import node_path

SUBJECTS = {
    "alert.infected": "G-Share: ພົບໄຟລ໌ຕິດໄວຣັສ / a file was found infected",
    "alert.pulled_back": "G-Share: ໄຟລ໌ທີ່ແບ່ງປັນແລ້ວຖືກຖອນຄືນ / a shared file was pulled back",
}


def malware_found(ctx: Context, version: Version, pulled_back: bool) -> None:
    """Alert the system administrators (and [alerts] emails) that a version was found infected
    at upload (alert.infected) or after it had been shared (alert.pulled_back)."""
    kind = "alert.pulled_back" if pulled_back else "alert.infected"
    node = version.node
    uploader = ctx.db.get(User, version.uploaded_by) if version.uploaded_by else None
    facts = {
        "name": node.name,
        "path": node_path(ctx.db, node),
        "signature": version.scan_signature,
        "uploader": uploader.username if uploader else "",
    }
    admins = list(
        ctx.db.scalars(
            select(User).where(User.role == UserRole.SYSTEM_ADMIN, User.disabled.is_(False))
        )
    )
    for admin in admins:
        notifications.notify(ctx, admin.id, kind, node_id=node.id, version_id=version.id, **facts)
    to = sorted({a.email for a in admins if a.email} | set(ctx.config.alerts.emails))
    if to and mail.configured(ctx.config.mail):
        body = _body(kind, facts, version.id)
        ctx.after_commit(lambda: mail.send_later(ctx.config.mail, to, SUBJECTS[kind], body))


def _body(kind: str, facts: dict, version_id: int) -> str:
    lao = (
        "ໄຟລ໌ {path} (ອັບໂຫຼດໂດຍ {uploader}) ຖືກກວດພົບວ່າຕິດໄວຣັສ ({signature}) ແລະ ຖືກກັກກັນໄວ້."
        if kind == "alert.infected"
        else "ໄຟລ໌ {path} (ອັບໂຫຼດໂດຍ {uploader}) ຖືກກວດພົບວ່າຕິດໄວຣັສ ({signature}) ຫຼັງຈາກ"
        "ແບ່ງປັນແລ້ວ ແລະ ຖືກຖອນຄືນ. ຜູ້ທີ່ດາວໂຫຼດໄປແລ້ວຄວນລຶບສຳເນົາຂອງຕົນ."
    )
    english = (
        "The file {path} (uploaded by {uploader}) was found infected ({signature}) and is "
        "quarantined."
        if kind == "alert.infected"
        else "The file {path} (uploaded by {uploader}) was found infected ({signature}) after "
        "it had been shared, and was withdrawn. Anyone who downloaded it should delete their "
        "copy."
    )
    review = f"gshare quarantine show {version_id}"
    return f"{lao.format(**facts)}\n\n{english.format(**facts)}\n\n{review}\n"
