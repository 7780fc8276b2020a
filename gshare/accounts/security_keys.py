"""Security keys and passkeys (WebAuthn, through Duo Labs' `webauthn` library) as a second
factor: registered on the account page, asked for after the password.

Each challenge gshare sends is a row (`key_challenges`) for one person and one purpose, spent
by deleting it, so an answer cannot be played twice and dies after `CHALLENGE_MINUTES`; a
person has at most `OUTSTANDING_CHALLENGES` of each purpose waiting (a new one retires the
oldest), so asking for challenges again and again fills no table. The
relying party is gshare's public address (`[server] public_url`; `[mfa] webauthn_rp_id` may
widen it to a parent domain). A key's signature counter must go up at every use: one that goes
back may be a copied key, and is refused and audited (`factor.webauthn.cloned`). User
verification (PIN, fingerprint) is "preferred": asked where the key can, not required.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import webauthn
from sqlalchemy import delete, select, update
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from gshare.accounts import factors, login
from gshare.activity import audit
from gshare.core.context import Context
from gshare.core.errors import InvalidInput
from gshare.core.models import KeyChallenge, SecondFactor, User, utcnow

WEBAUTHN = "webauthn"
REGISTER, SIGN_IN = "register", "sign_in"
CHALLENGE_MINUTES = 5
OUTSTANDING_CHALLENGES = 5  # per person and purpose: a few tabs or devices at once
RP_NAME = factors.ISSUER


def relying_party(ctx: Context) -> tuple[str, str]:
    """Return the RP id and the one origin answers must come from."""
    public = urlsplit(ctx.config.server.public_url)
    return (
        ctx.config.mfa.webauthn_rp_id or public.hostname or "",
        f"{public.scheme}://{public.netloc}",
    )


def list_keys(ctx: Context, user: User) -> list[SecondFactor]:
    """Return a person's security keys, oldest first."""
    return [f for f in factors.list_factors(ctx, user) if f.kind == WEBAUTHN]


def begin_registration(ctx: Context, actor: User) -> str:
    """Return the options (JSON) for navigator.credentials.create() to make a key for gshare."""
    rp_id, _origin = relying_party(ctx)
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_name=actor.username,
        user_id=_user_handle(actor),
        user_display_name=actor.display_name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(list_keys(ctx, actor)),
    )
    _keep_challenge(ctx, actor, REGISTER, options.challenge)
    return webauthn.options_to_json(options)


def finish_registration(ctx: Context, actor: User, answer: str, label: str = "") -> list[str]:
    """Add the key the browser made; return new recovery codes when the person had none left
    (shown once), else an empty list."""
    credential, challenge = _read_answer(answer)
    _spend_challenge(ctx, actor, REGISTER, challenge)
    rp_id, origin = relying_party(ctx)
    try:
        made = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(
            "The security key's answer was not for this site or was changed.", reason="key_refused"
        ) from exc
    credential_id = bytes_to_base64url(made.credential_id)
    if ctx.db.scalar(select(SecondFactor.id).where(SecondFactor.credential_id == credential_id)):
        raise InvalidInput("This security key is already registered.", reason="key_taken")
    factor = SecondFactor(
        user_id=actor.id,
        kind=WEBAUTHN,
        label=(label or "").strip()[:200],
        confirmed_at=utcnow(),
        credential_id=credential_id,
        public_key=bytes_to_base64url(made.credential_public_key),
        sign_count=made.sign_count,
    )
    ctx.db.add(factor)
    ctx.db.flush()
    audit.record(ctx, actor, "factor.webauthn.add", target=actor.username, factor_id=factor.id)
    if factors.count_recovery_codes(ctx, actor):
        return []
    return factors.new_recovery_codes(ctx, actor)


def begin_sign_in(ctx: Context, user: User) -> str:
    """Return the options (JSON) for navigator.credentials.get() with one of the person's keys."""
    rp_id, _origin = relying_party(ctx)
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=_descriptors(list_keys(ctx, user)),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _keep_challenge(ctx, user, SIGN_IN, options.challenge)
    return webauthn.options_to_json(options)


def verify_security_key(
    ctx: Context, user: User, answer: str, now: datetime | None = None
) -> tuple[login.Outcome, InvalidInput | None]:
    """Check the key's answer after the password; a refused one counts toward the lockout like
    a wrong code. Return the outcome and, when refused, the error saying why."""
    now = now or utcnow()
    if login.is_locked(user, now):
        audit.record(ctx, None, "factor.locked", target=user.username)
        return login.Outcome.LOCKED, None
    try:
        factor = _check_assertion(ctx, user, answer, now)
    except InvalidInput as exc:
        reason = exc.detail.get("reason")
        audit.record(ctx, None, "factor.failed", target=user.username, method=WEBAUTHN, why=reason)
        return login.count_wrong_factor(ctx, user, now).outcome, exc
    login.forget_failures(ctx, user)
    audit.record(
        ctx, user, "factor.passed", target=user.username, method=WEBAUTHN, factor_id=factor.id
    )
    return login.Outcome.OK, None


def _check_assertion(ctx: Context, user: User, answer: str, now: datetime) -> SecondFactor:
    credential, challenge = _read_answer(answer)
    _spend_challenge(ctx, user, SIGN_IN, challenge, now)
    factor = ctx.db.scalar(
        select(SecondFactor).where(
            SecondFactor.user_id == user.id,
            SecondFactor.kind == WEBAUTHN,
            SecondFactor.credential_id == str(credential.get("id", "")),
        )
    )
    if factor is None:
        raise InvalidInput("This security key is not one of yours.", reason="key_unknown")
    rp_id, origin = relying_party(ctx)
    try:
        checked = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=webauthn.base64url_to_bytes(factor.public_key or ""),
            credential_current_sign_count=0,  # compared below, so a copied key is named
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(
            "The security key's answer was not for this site or was changed.", reason="key_refused"
        ) from exc
    _advance_counter(ctx, user, factor, checked.new_sign_count, now)
    return factor


def _advance_counter(
    ctx: Context, user: User, factor: SecondFactor, count: int, now: datetime
) -> None:
    """Store the key's new counter unless it did not go up (atomically); keys that keep no
    counter (always 0, as many passkeys) pass."""
    higher = (SecondFactor.sign_count < count) if count else (SecondFactor.sign_count == 0)
    moved = ctx.db.execute(
        update(SecondFactor)
        .where(SecondFactor.id == factor.id, higher)
        .values(sign_count=count, last_used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        audit.record(
            ctx,
            None,
            "factor.webauthn.cloned",
            target=user.username,
            factor_id=factor.id,
            counter=count,
            stored=factor.sign_count,
        )
        raise InvalidInput(
            "This security key's counter went back: it may have been copied. "
            "It was refused; tell your administrator.",
            reason="key_cloned",
        )


def _read_answer(answer: str) -> tuple[dict, bytes]:
    """Return the browser's answer as a dict and the challenge its clientDataJSON names."""
    try:
        credential = json.loads(answer)
        client_data = json.loads(_unbase64url(credential["response"]["clientDataJSON"]))
        challenge = _unbase64url(client_data["challenge"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidInput(
            "The security key's answer could not be read. Try again.", reason="key_unreadable"
        ) from exc
    if not isinstance(credential, dict) or not challenge:
        raise InvalidInput(
            "The security key's answer could not be read. Try again.", reason="key_unreadable"
        )
    return credential, challenge


def _keep_challenge(ctx: Context, user: User, purpose: str, challenge: bytes) -> None:
    now = utcnow()
    ctx.db.execute(delete(KeyChallenge).where(KeyChallenge.expires_at < now))
    ctx.db.add(
        KeyChallenge(
            user_id=user.id,
            purpose=purpose,
            challenge=bytes_to_base64url(challenge),
            expires_at=now + timedelta(minutes=CHALLENGE_MINUTES),
        )
    )
    ctx.db.flush()
    mine = (KeyChallenge.user_id == user.id) & (KeyChallenge.purpose == purpose)
    newest = (
        select(KeyChallenge.id)
        .where(mine)
        .order_by(KeyChallenge.id.desc())
        .limit(OUTSTANDING_CHALLENGES)
    )
    ctx.db.execute(delete(KeyChallenge).where(mine, KeyChallenge.id.not_in(newest)))


def _spend_challenge(
    ctx: Context, user: User, purpose: str, challenge: bytes, now: datetime | None = None
) -> None:
    """Delete the challenge gshare sent this person for this purpose; refuse one it did not
    send, one already answered, or one too old."""
    spent = ctx.db.execute(
        delete(KeyChallenge).where(
            KeyChallenge.user_id == user.id,
            KeyChallenge.purpose == purpose,
            KeyChallenge.challenge == bytes_to_base64url(challenge),
            KeyChallenge.expires_at > (now or utcnow()),
        )
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidInput(
            "This request to the security key was already answered or is too old. Try again.",
            reason="key_expired",
        )


def _descriptors(keys: list[SecondFactor]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(k.credential_id or ""))
        for k in keys
    ]


def _user_handle(user: User) -> bytes:
    """An opaque, stable handle for the person (no user name or id in the key)."""
    return hashlib.sha256(f"gshare user handle {user.id}".encode()).digest()


def _unbase64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
