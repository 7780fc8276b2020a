"""Load gshare's settings from a TOML file into one frozen object, read once and passed in."""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

MiB = 1024 * 1024
GiB = 1024 * MiB
MAX_CLAMD_MB = 2047  # clamd refuses files of 2 GiB and more (Heuristics.Limits.Exceeded)


class ConfigError(ValueError):
    """A setting is missing, unknown or has a wrong value."""


@dataclass(frozen=True)
class ServerConfig:
    listen: str = "127.0.0.1:8080"
    s3_listen: str = "127.0.0.1:9000"
    s3_public_url: str = ""
    secret_key: str = ""
    old_secret_keys: tuple = ()
    public_url: str = "http://127.0.0.1:8080"
    data_dir: str = "var"
    workers: int = 2
    scan_workers: int = 1
    trusted_proxies: int = 0
    node_name: str = ""
    log_format: str = "text"
    time_zone: str = "Asia/Vientiane"


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = ""
    auto_upgrade: bool = True
    pool_size: int = 5
    max_overflow: int = 5
    prepared_statements: bool = True


@dataclass(frozen=True)
class StorageConfig:
    endpoint: str = ""
    access_key: str = ""
    secret_key: str = ""
    bucket: str = "gshare"
    region: str = "us-east-1"
    part_size_mb: int = 16
    embedded_port: int = 8333
    encrypted_at_rest: bool = False


@dataclass(frozen=True)
class AntivirusConfig:
    clamd: str = "unix:///run/clamav/clamd.ctl"
    max_scan_size_mb: int = 100
    timeout_seconds: int = 60
    scan_while_uploading: bool = True
    unscannable: str = "block"
    lease_seconds: int = 30
    rescans_per_hour: int = 10_000
    # Detected content types never shared (see docs/clamav.md, "The content policy").
    deny_types: tuple = (
        "application/x-dosexec",
        "application/x-msdownload",
        "application/vnd.microsoft.portable-executable",
        "application/x-msi",
        "application/x-ole-storage-msi",
        "application/x-executable",
        "application/x-elf",
        "application/x-sharedlib",
        "application/x-pie-executable",
        "application/x-mach-binary",
        "application/x-sh",
        "text/x-shellscript",
        "application/x-shellscript",
        "text/x-msdos-batch",
        "application/x-bat",
        "application/x-ms-shortcut",
        "application/x-mswinurl",
        "text/x-ms-scf",
        "text/x-ms-regedit",
        "application/vnd.ms-htmlhelp",
        "application/x-virtualbox-vhd",
        "application/vnd.android.package-archive",
        "application/x-java-applet",
    )
    # Name endings never shared, whatever the content: what Windows runs, installs, mounts or
    # hands to a handler that runs code (after trailing dots and spaces, in any case).
    deny_extensions: tuple = (
        *(".exe", ".com", ".scr", ".pif", ".cpl", ".dll", ".sys", ".ocx", ".drv", ".xll"),
        *(".msi", ".msp", ".mst", ".msix", ".msixbundle", ".appx", ".appxbundle"),
        *(".appinstaller", ".application", ".appref-ms", ".gadget", ".apk", ".jar", ".jnlp"),
        *(".bat", ".cmd", ".ps1", ".psm1", ".psd1", ".ps1xml", ".psc1", ".sh", ".elf"),
        *(".vb", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".wsc", ".sct", ".hta"),
        *(".lnk", ".url", ".scf", ".shb", ".reg", ".inf", ".ins", ".isp", ".msc", ".chm"),
        *(".hlp", ".settingcontent-ms", ".library-ms", ".searchconnector-ms", ".diagcab"),
        *(".ade", ".adp", ".mde", ".accde", ".iso", ".img", ".vhd", ".vhdx"),
    )
    # Office files with macros (.docm, .xlsm, ... and a macro project inside a .docx).
    block_office_macros: bool = True
    check_name_matches_content: bool = True


@dataclass(frozen=True)
class QuotaConfig:
    department_gb: float = 100.0
    personal_gb: float = 10.0


@dataclass(frozen=True)
class RetentionConfig:
    trash_days: int = 30
    orphan_grace_hours: int = 24


@dataclass(frozen=True)
class SpacesConfig:
    allow_user_spaces: bool = True


# What a unit of the department tree is called, by level (gshare.org.departments.unit_kind).
UNIT_KINDS = ("ministry", "department", "division", "section", "office", "unit")


@dataclass(frozen=True)
class OrgConfig:
    unit_names: tuple = ()  # one of UNIT_KINDS per level, top first; () names every level "unit"


@dataclass(frozen=True)
class MailConfig:
    smtp_host: str = ""
    smtp_port: int = 587
    starttls: bool = True
    username: str = ""
    password: str = ""
    sender: str = ""


@dataclass(frozen=True)
class AlertsConfig:
    emails: tuple = ()


@dataclass(frozen=True)
class SessionsConfig:
    idle_timeout_minutes: int = 720
    lifetime_hours: int = 168
    lock_after_failures: int = 5
    lock_minutes: int = 15
    address_failure_limit: int = 300
    address_window_minutes: int = 15


@dataclass(frozen=True)
class LinksConfig:
    password_checks_at_once: int = 2
    password_check_wait_seconds: float = 2.0


@dataclass(frozen=True)
class OidcConfig:
    issuer: str = ""
    client_id: str = ""
    client_secret: str = ""
    provider_name: str = ""
    scopes: tuple = ("openid", "profile", "email")
    username_claim: str = "preferred_username"
    name_claim: str = "name"
    email_claim: str = "email"
    department_claim: str = "department"
    groups_claim: str = "groups"
    department_admin_groups: tuple = ()
    system_admin_groups: tuple = ()
    default_department: str = ""
    leeway_seconds: int = 60
    sign_in_minutes: int = 10
    local_passwords: bool = True
    break_glass: tuple = ()

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)


@dataclass(frozen=True)
class LdapConfig:
    """Sign-in with the ministry's directory and `gshare directory sync` (docs/identity.md)."""

    url: str = ""  # ldap://host:389 or ldaps://host:636; empty: no directory
    start_tls: bool = False
    ca_file: str = ""
    bind_dn: str = ""
    bind_password: str = ""
    timeout_seconds: int = 10
    user_base: str = ""
    user_filter: str = "(&(objectClass=inetOrgPerson)(uid={username}))"
    disabled_filter: str = ""
    username_attribute: str = "uid"
    display_name_attribute: str = "displayName"
    email_attribute: str = "mail"
    uuid_attribute: str = "entryUUID"
    page_size: int = 500
    department_from: str = "ou"
    department_base: str = ""
    department_root: str = ""
    department_attribute: str = ""
    department_groups: tuple = ()
    default_department: str = ""
    create_departments: bool = True
    system_admin_group: str = ""
    department_admin_group: str = ""
    nested_groups: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class MfaConfig:
    required_for: tuple = ()
    grace_days: int = 14
    recent_minutes: int = 15
    sign_in_minutes: int = 5
    webauthn_rp_id: str = ""


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    antivirus: AntivirusConfig = field(default_factory=AntivirusConfig)
    quota: QuotaConfig = field(default_factory=QuotaConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    spaces: SpacesConfig = field(default_factory=SpacesConfig)
    org: OrgConfig = field(default_factory=OrgConfig)
    mail: MailConfig = field(default_factory=MailConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    sessions: SessionsConfig = field(default_factory=SessionsConfig)
    links: LinksConfig = field(default_factory=LinksConfig)
    oidc: OidcConfig = field(default_factory=OidcConfig)
    ldap: LdapConfig = field(default_factory=LdapConfig)
    mfa: MfaConfig = field(default_factory=MfaConfig)

    @property
    def data_dir(self) -> Path:
        return Path(self.server.data_dir)

    @property
    def database_url(self) -> str:
        """Return the database URL; the embedded default is a SQLite file under data_dir."""
        return self.database.url or f"sqlite:///{(self.data_dir / 'gshare.db').resolve()}"

    @property
    def embedded_storage(self) -> bool:
        return not self.storage.endpoint

    def replace(self, **sections: dict[str, Any]) -> Config:
        """Return a copy with some keys of some sections changed (used by tests and the CLI)."""
        changes = {
            name: dataclasses.replace(getattr(self, name), **values)
            for name, values in sections.items()
        }
        return _validated(dataclasses.replace(self, **changes))


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read the config file at path (or return the defaults when path is None)."""
    if path is None:
        return _validated(Config())
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return _validated(_build(Config, raw, ""))


def config_path_from_env(environ: Mapping[str, str]) -> str | None:
    """Return the config path named by GSHARE_CONFIG, if any."""
    return environ.get("GSHARE_CONFIG") or None


def _build(cls, raw: dict[str, Any], where: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"[{where}] must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        name = f"{where}.{key}" if where else key
        if key not in fields:
            hint = difflib.get_close_matches(key, fields, n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise ConfigError(f"unknown setting '{name}'{suggestion}")
        values[key] = _coerce(fields[key], value, name)
    return cls(**values)


def _coerce(fld: dataclasses.Field, value: Any, name: str):
    factory = fld.default_factory
    default = fld.default if fld.default is not dataclasses.MISSING else factory()  # type: ignore[operator]
    if dataclasses.is_dataclass(default):
        return _build(type(default), value, name)
    kind = type(default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is tuple and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if not isinstance(value, kind) or isinstance(value, bool) != isinstance(default, bool):
        kind_name = "list of strings" if kind is tuple else kind.__name__
        raise ConfigError(f"'{name}' must be a {kind_name}, not {value!r}")
    return value


def _validated(config: Config) -> Config:
    _check_address(config.server.listen, "server.listen")
    _check_address(config.server.s3_listen, "server.s3_listen")
    if not config.server.public_url.startswith(("http://", "https://")):
        raise ConfigError("'server.public_url' must start with http:// or https://")
    if config.server.s3_public_url and not config.server.s3_public_url.startswith(
        ("http://", "https://")
    ):
        raise ConfigError("'server.s3_public_url' must be empty or start with http:// or https://")
    if config.storage.endpoint and not config.storage.endpoint.startswith(("http://", "https://")):
        raise ConfigError("'storage.endpoint' must be empty (embedded) or an http(s):// URL")
    if config.storage.endpoint and not (config.storage.access_key and config.storage.secret_key):
        raise ConfigError(
            "'storage.access_key' and 'storage.secret_key' are needed with an endpoint"
        )
    if config.antivirus.unscannable not in ("block", "allow"):
        raise ConfigError('\'antivirus.unscannable\' must be "block" or "allow"')
    if not config.antivirus.clamd.startswith(("unix://", "tcp://")):
        raise ConfigError("'antivirus.clamd' must look like unix:///path or tcp://host:port")
    unknown = [n for n in config.org.unit_names if n not in UNIT_KINDS]
    if unknown:
        known = ", ".join(UNIT_KINDS)
        raise ConfigError(f"'org.unit_names' knows only {known}, not {unknown[0]!r}")
    if not all(e.startswith(".") and len(e) > 1 for e in config.antivirus.deny_extensions):
        raise ConfigError("'antivirus.deny_extensions' must list endings like \".exe\"")
    _check_positive(
        config,
        "server.workers",
        "server.scan_workers",
        "storage.part_size_mb",
        "antivirus.max_scan_size_mb",
        "antivirus.timeout_seconds",
        "antivirus.lease_seconds",
        "database.pool_size",
        "sessions.idle_timeout_minutes",
        "sessions.lifetime_hours",
        "sessions.lock_after_failures",
        "sessions.lock_minutes",
        "sessions.address_failure_limit",
        "sessions.address_window_minutes",
        "links.password_checks_at_once",
        "links.password_check_wait_seconds",
    )
    _check_database_url(config.database.url)
    _check_secret(config.server.secret_key)
    if config.mail.smtp_host and "@" not in config.mail.sender:
        raise ConfigError("'mail.sender' must be an e-mail address when 'mail.smtp_host' is set")
    if not is_time_zone(config.server.time_zone):
        raise ConfigError("'server.time_zone' must be an IANA time zone such as \"Asia/Vientiane\"")
    if config.server.log_format not in ("text", "json"):
        raise ConfigError('\'server.log_format\' must be "text" or "json"')
    if config.antivirus.rescans_per_hour < 0:
        raise ConfigError("'antivirus.rescans_per_hour' must be 0 (no rescans) or more")
    if config.database.max_overflow < 0:
        raise ConfigError("'database.max_overflow' must be 0 or more")
    if config.storage.part_size_mb < 5:
        raise ConfigError("'storage.part_size_mb' must be at least 5 (the S3 minimum part size)")
    if config.server.trusted_proxies < 0:
        raise ConfigError("'server.trusted_proxies' must be 0 (no proxy) or more")
    if config.antivirus.max_scan_size_mb > MAX_CLAMD_MB:
        raise ConfigError(
            f"'antivirus.max_scan_size_mb' can be at most {MAX_CLAMD_MB}: clamd "
            "cannot scan a file of 2 GiB or more"
        )
    if config.quota.department_gb < 0 or config.quota.personal_gb < 0:
        raise ConfigError("quotas must be 0 (unlimited) or more")
    _check_oidc(config.oidc)
    _check_ldap(config.ldap)
    _check_mfa(config.mfa)
    _check_webauthn_rp_id(config)
    return config


MFA_ROLES = ("system_admin", "department_admin", "everyone")


def _check_mfa(mfa: MfaConfig) -> None:
    """Refuse a second-factor rule that names no role gshare knows, or negative times."""
    unknown = [role for role in mfa.required_for if role not in MFA_ROLES]
    if unknown:
        raise ConfigError(f"'mfa.required_for' knows only {', '.join(MFA_ROLES)}: not {unknown}")
    if mfa.grace_days < 0 or mfa.recent_minutes <= 0 or mfa.sign_in_minutes <= 0:
        raise ConfigError("'mfa.grace_days' must be 0 or more, the minutes more than 0")


def _check_webauthn_rp_id(config: Config) -> None:
    """Refuse a WebAuthn RP id that the public address's host is not, nor a subdomain of."""
    rp_id = config.mfa.webauthn_rp_id
    host = urlsplit(config.server.public_url).hostname or ""
    if rp_id and not (host == rp_id or host.endswith("." + rp_id)):
        raise ConfigError(
            f"'mfa.webauthn_rp_id' ({rp_id}) must be the host of 'server.public_url' ({host}) "
            "or a domain above it"
        )


def _check_oidc(oidc: OidcConfig) -> None:
    """Refuse an [oidc] section gshare could not sign anyone in with."""
    if not oidc.enabled:
        if not oidc.local_passwords:
            raise ConfigError("'oidc.local_passwords' may be false only with 'oidc.issuer' set")
        return
    if not oidc.issuer.startswith(("https://", "http://")):
        raise ConfigError("'oidc.issuer' must be the provider's https:// address")
    if not (oidc.client_id and oidc.client_secret):
        raise ConfigError("'oidc.client_id' and 'oidc.client_secret' are needed with an issuer")
    if "openid" not in oidc.scopes:
        raise ConfigError("'oidc.scopes' must include \"openid\"")
    if oidc.leeway_seconds < 0 or oidc.sign_in_minutes <= 0:
        raise ConfigError("'oidc.leeway_seconds' must be 0 or more, 'sign_in_minutes' more than 0")
    if not oidc.local_passwords and not oidc.break_glass:
        raise ConfigError(
            "'oidc.break_glass' must name at least one administrator when local passwords are off"
        )


DEPARTMENT_SOURCES = ("ou", "group", "attribute")


def _check_ldap(ldap: LdapConfig) -> None:
    """Refuse an [ldap] section gshare could not use."""
    if not ldap.url:
        return
    if not ldap.url.startswith(("ldap://", "ldaps://")):
        raise ConfigError("'ldap.url' must start with ldap:// or ldaps://")
    if ldap.start_tls and ldap.url.startswith("ldaps://"):
        raise ConfigError("'ldap.start_tls' is for ldap:// URLs; ldaps:// is TLS already")
    if not ldap.user_base or "{username}" not in ldap.user_filter:
        raise ConfigError("'ldap.user_base' is needed, and 'ldap.user_filter' must hold {username}")
    if ldap.department_from not in DEPARTMENT_SOURCES:
        raise ConfigError('\'ldap.department_from\' must be "ou", "group" or "attribute"')
    if any(" = " not in line for line in ldap.department_groups):
        raise ConfigError("'ldap.department_groups' lines look like \"<group DN> = <department>\"")
    if ldap.page_size <= 0 or ldap.timeout_seconds <= 0:
        raise ConfigError("'ldap.page_size' and 'ldap.timeout_seconds' must be more than 0")


DATABASE_BACKENDS = ("sqlite", "postgresql")
MIN_SECRET_LENGTH = 32
MIN_SECRET_SYMBOLS = 12


def is_time_zone(name: str) -> bool:
    """Tell whether a name is an IANA time zone this machine knows (e.g. Asia/Vientiane)."""
    return name in time_zones()


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Return the IANA time zones this machine knows, sorted (e.g. Asia/Vientiane)."""
    return tuple(sorted(available_timezones()))


def _check_secret(secret: str) -> None:
    """Refuse a guessable [server] secret_key: it signs sessions and encrypts S3 key secrets."""
    if secret and (len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < MIN_SECRET_SYMBOLS):
        raise ConfigError(
            f"'server.secret_key' is too weak: use at least {MIN_SECRET_LENGTH} random "
            "characters, e.g. the output of `python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'` (or leave it empty on a single node)"
        )


def _check_database_url(url: str) -> None:
    """Refuse a [database] url that is not a SQLite or PostgreSQL URL gshare can use."""
    if not url:
        return
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise ConfigError(
            f"'database.url' is not a database URL: {url!r}; use "
            '"postgresql+psycopg://user@host/dbname" or "sqlite:////path/gshare.db"'
        ) from None
    if backend not in DATABASE_BACKENDS:
        raise ConfigError(f"'database.url' names {backend!r}; gshare runs on PostgreSQL or SQLite")


def _check_address(value: str, name: str) -> None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"'{name}' must look like host:port, not {value!r}")


def _check_positive(config: Config, *names: str) -> None:
    for name in names:
        section, key = name.split(".")
        if getattr(getattr(config, section), key) <= 0:
            raise ConfigError(f"'{name}' must be more than 0")
