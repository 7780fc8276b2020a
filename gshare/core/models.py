"""The SQL schema: departments, users, spaces, the tree, versions, grants, links, keys, audit."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from gshare.core.collation import sort_key
from gshare.core.names import person_search_key, search_key

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use gshare.models.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UserRole(enum.StrEnum):
    MEMBER = "member"
    DEPARTMENT_ADMIN = "department_admin"
    SYSTEM_ADMIN = "system_admin"


class SpaceKind(enum.StrEnum):
    DEPARTMENT = "department"
    PERSONAL = "personal"
    PROJECT = "project"


class NodeKind(enum.StrEnum):
    FOLDER = "folder"
    FILE = "file"


# SQL for the scan queue's partial indexes; queries repeat them word for word (SQLite uses a
# partial index only when the query's WHERE contains the index's terms as written).
SCAN_DUE_SQL = "scan_state IN ('pending', 'error')"
CLEAN_SQL = "scan_state = 'clean'"


class ScanState(enum.StrEnum):
    PENDING = "pending"
    CLEAN = "clean"
    INFECTED = "infected"
    UNSCANNABLE = "unscannable"
    ERROR = "error"
    BLOCKED = "blocked"  # refused by the content-type policy (an executable, a disguised type)


class LinkMode(enum.StrEnum):
    VIEW = "view"
    UPLOAD = "upload"


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Department | None] = relationship(remote_side=[id])


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # the search key (gshare.core.names) of the display name and user name, for the picker
    search_name: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=UserRole.MEMBER)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # who the person is at the OpenID Connect provider (issuer and subject), once they used it
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    time_zone: Mapped[str | None] = mapped_column(String(64))  # None: the site's [server] one
    # where the account comes from: "local" (a password here) or "ldap" (the directory)
    source: Mapped[str] = mapped_column(String(10), default="local", server_default="local")
    directory_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    directory_dn: Mapped[str | None] = mapped_column(String(1024))
    directory_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # who disabled the account: "directory" (the sync or a sign-in: it enables them again when
    # the directory does) or "admin" (by hand: only an administrator enables them again)
    disabled_by: Mapped[str | None] = mapped_column(String(20))
    # when a rule of `[mfa] required_for` first met this person without a factor: grace starts
    factor_grace_from: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department] = relationship()

    is_operator = False  # a person, not the operator at the command line (core/actor.py)

    @validates("display_name", "username")
    def _keep_search_key(self, field: str, value: str) -> str:
        """Keep the search key of the names with them, whichever service sets one."""
        names = {"display_name": self.display_name, "username": self.username, field: value}
        self.search_name = person_search_key(names["display_name"], names["username"])
        return value


class UserSession(Base):
    """A signed-in browser: its cookie carries the token, stored here only as a digest."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the absolute end
    device: Mapped[str] = mapped_column(String(200), default="")  # the user agent, summed up
    ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # second factor proven
    # the OpenID Connect provider's session it came from (the ID token's sid): its logout ends it
    provider_sid: Mapped[str | None] = mapped_column(String(255), index=True)


class SecondFactor(Base):
    """An authenticator app (TOTP) or a security key (WebAuthn) of one person's."""

    __tablename__ = "second_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "totp" or "webauthn"
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: enrolling
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP: the secret (Fernet, purpose "gshare totp v1") and the last time step accepted
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    # WebAuthn: the credential's id (base64url), its COSE public key (base64url), its counter
    credential_id: Mapped[str | None] = mapped_column(String(700), unique=True)
    public_key: Mapped[str | None] = mapped_column(Text)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)


class KeyChallenge(Base):
    """A WebAuthn challenge gshare sent a browser: spent once (deleted), else dead at expires_at."""

    __tablename__ = "key_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "register" or "sign_in"
    challenge: Mapped[str] = mapped_column(String(100), unique=True)  # base64url
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecoveryCode(Base):
    """A one-time recovery code, stored as a digest; used_at set when it is spent."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInFailures(Base):
    """Wrong passwords in a row from one address for one username (the sign-in throttle)."""

    __tablename__ = "sign_in_failures"

    ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Space(Base):
    __tablename__ = "spaces"
    __table_args__ = (
        Index(
            "uq_spaces_personal_owner",
            "owner_id",
            unique=True,
            sqlite_where=text("kind = 'personal'"),
            postgresql_where=text("kind = 'personal'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger)
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Node(Base):
    """A folder or a file. `path` lists the ids of its ancestors, root first: '/1/7/'."""

    __tablename__ = "nodes"
    __table_args__ = (
        Index(
            "uq_nodes_live_name",
            "parent_id",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "uq_nodes_space_root",
            "space_id",
            unique=True,
            sqlite_where=text("parent_id IS NULL"),
            postgresql_where=text("parent_id IS NULL"),
        ),
        Index("ix_nodes_path", "path"),
        Index("ix_nodes_parent_id_sort_key", "parent_id", "sort_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id"))
    path: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(255))
    search_name: Mapped[str] = mapped_column(String(255), index=True)
    # Lao dictionary order (gshare.core.collation): what listings are sorted and paged by.
    sort_key: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    space: Mapped[Space] = relationship()

    @validates("name")
    def _keep_keys(self, _key: str, name: str) -> str:
        """Keep the search and sort keys of a name with it, whichever service sets it."""
        self.search_name, self.sort_key = search_key(name), sort_key(name)
        return name

    @property
    def is_folder(self) -> bool:
        return self.kind == NodeKind.FOLDER

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    @property
    def child_path(self) -> str:
        return f"{self.path}{self.id}/"


class Version(Base):
    """One stored content of a file: an immutable blob plus its scan state."""

    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("node_id", "number"),
        Index("ix_versions_scan_queue", "scan_state", "scan_not_before"),
        # The scan queue's two lanes (gshare/scanning/queue.py), each small or read from its
        # head whatever the number of versions: what is due (new uploads, retries), oldest first;
        # and the clean versions by the signature generation that judged them, most used first.
        Index(
            "ix_versions_scan_due",
            "uploaded_at",
            "id",
            sqlite_where=text(SCAN_DUE_SQL),
            postgresql_where=text(SCAN_DUE_SQL),
        ),
        Index(
            "ix_versions_rescan",
            "scan_generation",
            column("last_accessed_at").desc(),
            column("id").desc(),
            sqlite_where=text(CLEAN_SQL),
            postgresql_where=text(CLEAN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    blob_key: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))  # None until scanned (multipart)
    md5: Mapped[str | None] = mapped_column(String(32))
    etag: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(255))  # detected: the gate, web downloads
    # The Content-Type its S3 client gave (PUT, CreateMultipartUpload, CopyObject's REPLACE):
    # what S3 clients get back; None: they get the detected one.
    client_content_type: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_metadata: Mapped[dict | None] = mapped_column(JSON)
    # The checksum its uploader sent and the upload verified, as S3 returns it:
    # {"algorithm": "crc32", "type": "FULL_OBJECT" or "COMPOSITE", "value": base64 ("-N")}.
    checksum: Mapped[dict | None] = mapped_column(JSON)
    scan_state: Mapped[str] = mapped_column(String(16), default=ScanState.PENDING)
    scan_signature: Mapped[str | None] = mapped_column(String(255))
    scan_db_version: Mapped[str | None] = mapped_column(String(64))
    # The SignatureGeneration that judged a clean version (0: unknown, the oldest).
    scan_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scan_attempts: Mapped[int] = mapped_column(Integer, default=0)
    scan_not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scan_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scan_lease_owner: Mapped[str | None] = mapped_column(String(64))
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    release_reason: Mapped[str | None] = mapped_column(Text)
    # When it was last uploaded, downloaded or shared (to the hour): orders rescans.
    last_accessed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Its thumbnail (gshare/files/previews.py): None not made yet, "made" stored under
    # blobs.thumbnail_key(blob_key), "none" none can be made (broken, too large, refused).
    thumbnail: Mapped[str | None] = mapped_column(String(8))
    page_count: Mapped[int | None] = mapped_column(Integer)  # a PDF's, learnt with its thumbnail

    node: Mapped[Node] = relationship()


class SignatureGeneration(Base):
    """A signature database clamd has reported, numbered in the order gshare first saw it.
    A clean version judged by an older generation is due for a rescan."""

    __tablename__ = "signature_generations"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(64), unique=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RescanBudget(Base):
    """The fleet's allowance of rescans (a token bucket, one row): `[antivirus]
    rescans_per_hour` tokens an hour, at most a minute's worth saved up."""

    __tablename__ = "rescan_budget"

    id: Mapped[int] = mapped_column(primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notification(Base):
    """An in-app notice to one person (e.g. "your upload was found infected")."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    node_id: Mapped[int | None] = mapped_column(Integer)
    version_id: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Grant(Base):
    """A role on a node for a user or a department (optionally with its sub-departments)."""

    __tablename__ = "grants"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (department_id IS NULL)", name="one_grantee"),
        UniqueConstraint("node_id", "user_id"),
        UniqueConstraint("node_id", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    include_subdepartments: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShareLink(Base):
    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    # the token itself, encrypted (gshare.sharing.links), so its managers can see it again;
    # None for links made before 0013: those can only be looked up by their digest
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(8), default=LinkMode.VIEW)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_downloads: Mapped[int | None] = mapped_column(Integer)
    download_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkPasswordThrottle(Base):
    """Wrong link passwords counted per link or per address, in a window, and the lock that
    follows too many (one row per link or address, changed only by atomic updates)."""

    __tablename__ = "link_password_throttles"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # "link" or "address"
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)  # link id or address
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)


class AccessKey(Base):
    __tablename__ = "access_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200), default="")
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A personal token for the JSON API (shown once, stored as a digest)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UploadSession(Base):
    """An upload in progress, in parts (browser chunks or S3 multipart), resumable."""

    __tablename__ = "upload_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"), index=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    name: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int | None] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(255))
    user_metadata: Mapped[dict | None] = mapped_column(JSON)
    blob_key: Mapped[str] = mapped_column(String(64), unique=True)
    backend_upload_id: Mapped[str] = mapped_column(String(255))
    # The checksum S3's CreateMultipartUpload asked for: every part carries this algorithm's
    # ("crc32", ...), and the object's is of this type ("COMPOSITE" or "FULL_OBJECT").
    checksum_algorithm: Mapped[str | None] = mapped_column(String(16))
    checksum_type: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompletedUpload(Base):
    """An upload in parts that was completed, remembered for a day so that a completion sent
    again (an S3 client that lost the answer) gets the same answer. Plain ids, no foreign
    keys: it must never keep a folder, a version or a space from being deleted."""

    __tablename__ = "completed_uploads"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    folder_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(1024))  # as the upload asked for it
    version_id: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class UploadPart(Base):
    __tablename__ = "upload_parts"

    upload_id: Mapped[int] = mapped_column(ForeignKey("upload_sessions.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(64))
    md5: Mapped[str | None] = mapped_column(String(32))
    checksums: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """One line of the audit log. Ids are plain numbers: the log outlives what it mentions."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    space_id: Mapped[int | None] = mapped_column(Integer, index=True)
    node_id: Mapped[int | None] = mapped_column(Integer)
    version_id: Mapped[int | None] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict | None] = mapped_column(JSON)
