"""E-mail through the ministry's SMTP server ([mail]): sent after the transaction that asked
for it commits, from a thread of its own, so a slow or absent mail server never holds up an
upload or a scan. A failure is logged, never raised."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage

from gshare.core.config import MailConfig

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20


def configured(mail: MailConfig) -> bool:
    return bool(mail.smtp_host)


def send_later(mail: MailConfig, to: list[str], subject: str, body: str) -> threading.Thread:
    """Send one message to `to` from a thread; return the thread (tests may wait for it)."""
    thread = threading.Thread(
        target=send, args=(mail, to, subject, body), name="gshare-mail", daemon=True
    )
    thread.start()
    return thread


def send(mail: MailConfig, to: list[str], subject: str, body: str) -> bool:
    """Send one message now; say whether the SMTP server took it."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = mail.sender, ", ".join(to), subject
    message.set_content(body)
    try:
        with smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            if mail.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if mail.username:
                smtp.login(mail.username, mail.password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning(
            "e-mail %r to %s not sent: %s; check [mail] (smtp_host %s:%s)",
            subject,
            ", ".join(to),
            exc,
            mail.smtp_host,
            mail.smtp_port,
        )
        return False
    return True
