"""The ministry's directory (OpenLDAP or Active Directory) through ldap3: find a person with
gshare's service account, check their password by binding as them, read their groups, and
stream everyone with paged results for `gshare directory sync`.

Every value typed by a person goes into a filter only through `escape_filter_chars`. Errors
leave this module as DirectoryUnavailable (the directory cannot be reached, or TLS fails) or
DirectoryError (gshare's settings or the directory's data are wrong); ldap3's never do.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import ldap3
from ldap3.core import exceptions as ldap_errors
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from gshare.core.config import LdapConfig
from gshare.core.errors import GshareError

# Active Directory's "in chain" matching rule: membership through nested groups.
IN_CHAIN = "1.2.840.113556.1.4.1941"
SERVICE_REFUSED = (
    "The directory refused gshare's service account: check [ldap] bind_dn and bind_password."
)


class DirectoryUnavailable(GshareError):
    """The directory did not answer, or its TLS certificate is not trusted."""


class DirectoryError(GshareError):
    """gshare's [ldap] settings or the directory's entries do not allow this."""


@dataclass(frozen=True)
class DirectoryPerson:
    """One person's entry as gshare reads it."""

    dn: str
    entry_id: str
    username: str
    display_name: str
    email: str | None
    department: str | None  # from an attribute, when the mapping says so


def normal_dn(dn: str) -> str:
    """Return a DN in one spelling (lower case, no spaces around separators) for comparing."""
    try:
        return ",".join(f"{attr.lower()}={value.lower()}" for attr, value, _sep in parse_dn(dn))
    except ldap_errors.LDAPException:
        return dn.lower()


def ou_path(dn: str, base: str) -> list[str]:
    """Return the OU names between an entry and base, from the top down."""
    parts = parse_dn(dn)
    depth = len(parse_dn(base)) if base else 0
    between = parts[1 : len(parts) - depth]
    return [value for attr, value, _sep in reversed(between) if attr.lower() == "ou"]


class Directory:
    """A connection to the directory with gshare's service account."""

    def __init__(self, settings: LdapConfig):
        self.settings = settings
        self._conn = self._bind(settings.bind_dn, settings.bind_password, service=True)

    def close(self) -> None:
        """Unbind from the directory."""
        self._conn.unbind()

    def __enter__(self) -> Directory:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def find_person(self, username: str) -> DirectoryPerson | None:
        """Return the one entry this user name matches, None for none; two are an error."""
        value = escape_filter_chars(username)
        query = self.settings.user_filter.replace("{username}", value)
        entries = list(self._search(self.settings.user_base, query, paged=False))
        if len(entries) > 1:
            raise DirectoryError(f"The user name '{username}' matches {len(entries)} entries.")
        return self._person(entries[0]) if entries else None

    def check_password(self, person: DirectoryPerson, password: str) -> bool:
        """Return whether the directory accepts this password for this person (a bind)."""
        if not password:  # an empty password is an anonymous bind that "succeeds"
            return False
        try:
            self._bind(person.dn, password, service=False).unbind()
        except ldap_errors.LDAPBindError:
            return False
        return True

    def is_disabled(self, person: DirectoryPerson) -> bool:
        """Return whether the person's entry matches [ldap] disabled_filter."""
        if not self.settings.disabled_filter:
            return False
        return any(self._search(person.dn, self.settings.disabled_filter, scope=ldap3.BASE))

    def is_member(self, person: DirectoryPerson, group_dn: str) -> bool:
        """Return whether the person is in a group (through nested groups with nested_groups)."""
        rule = f":{IN_CHAIN}:" if self.settings.nested_groups else ""
        query = f"(member{rule}={escape_filter_chars(person.dn)})"
        return any(self._search(group_dn, query, scope=ldap3.BASE, missing_ok=True))

    def group_members(self, group_dn: str) -> set[str]:
        """Return the normal DNs of a group's members (nested ones too with nested_groups)."""
        if self.settings.nested_groups:
            query = f"(memberOf:{IN_CHAIN}:={escape_filter_chars(group_dn)})"
            found = self._search(self.settings.user_base, query, paged=True, attributes=["1.1"])
            return {normal_dn(entry["dn"]) for entry in found}
        members: set[str] = set()
        entries = self._search(group_dn, "(objectClass=*)", ldap3.BASE, attributes=["member"])
        for entry in entries:
            members |= {normal_dn(dn) for dn in _texts(entry, "member")}
        return members

    def list_people(self) -> Iterator[DirectoryPerson]:
        """Stream every enabled person under user_base, a page at a time."""
        query = self.settings.user_filter.replace("{username}", "*")
        if self.settings.disabled_filter:
            query = f"(&{query}(!{self.settings.disabled_filter}))"
        for entry in self._search(self.settings.user_base, query, paged=True):
            person = self._person(entry)
            if person.username:
                yield person

    def _person(self, entry: dict) -> DirectoryPerson:
        s = self.settings
        username = (_texts(entry, s.username_attribute) or [""])[0].strip().lower()
        department = _texts(entry, s.department_attribute) if s.department_attribute else []
        return DirectoryPerson(
            dn=entry["dn"],
            entry_id=_entry_id(entry, s.uuid_attribute) or normal_dn(entry["dn"]),
            username=username,
            display_name=(_texts(entry, s.display_name_attribute) or [username])[0].strip(),
            email=(_texts(entry, s.email_attribute) or [None])[0],
            department=department[0].strip() if department else None,
        )

    def _search(
        self,
        base: str,
        query: str,
        scope=ldap3.SUBTREE,
        paged: bool = False,
        attributes: list[str] | None = None,
        missing_ok: bool = False,
    ) -> Iterator[dict]:
        s = self.settings
        wanted = attributes or [
            a
            for a in (
                s.username_attribute,
                s.display_name_attribute,
                s.email_attribute,
                s.uuid_attribute,
                s.department_attribute,
            )
            if a
        ]
        try:
            if paged:
                yield from (
                    entry
                    for entry in self._conn.extend.standard.paged_search(
                        base,
                        query,
                        scope,
                        attributes=wanted,
                        paged_size=s.page_size,
                        generator=True,
                    )
                    if entry.get("type") == "searchResEntry"
                )
                return
            self._conn.search(base, query, scope, attributes=wanted)
            yield from (e for e in self._conn.response if e.get("type") == "searchResEntry")
        except ldap_errors.LDAPNoSuchObjectResult:
            if not missing_ok:
                raise DirectoryError(f"'{base}' is not in the directory.") from None
        except ldap_errors.LDAPInvalidFilterError:
            raise DirectoryError(f"The LDAP filter {query!r} is not valid.") from None
        except ldap_errors.LDAPCommunicationError as exc:
            raise DirectoryUnavailable(f"The directory stopped answering: {exc}") from None
        except ldap_errors.LDAPOperationResult as exc:
            raise DirectoryError(f"The directory refused the search of '{base}': {exc}") from None

    def _bind(self, dn: str, password: str, service: bool) -> ldap3.Connection:
        s = self.settings
        conn = ldap3.Connection(
            _server(s),
            user=dn or None,
            password=password or None,
            receive_timeout=s.timeout_seconds,
            raise_exceptions=True,
            read_only=True,
        )
        try:
            conn.open()
            if s.start_tls:
                conn.start_tls()
            conn.bind()
        except ldap_errors.LDAPBindError:
            conn.unbind()
            if not service:
                raise
            raise DirectoryUnavailable(SERVICE_REFUSED) from None
        except ldap_errors.LDAPInvalidCredentialsResult:
            conn.unbind()
            if not service:
                raise ldap_errors.LDAPBindError("invalid credentials") from None
            raise DirectoryUnavailable(SERVICE_REFUSED) from None
        except (ldap_errors.LDAPSocketOpenError, ldap_errors.LDAPStartTLSError) as exc:
            raise DirectoryUnavailable(_unreachable(s, exc)) from None
        except ldap_errors.LDAPCommunicationError as exc:
            raise DirectoryUnavailable(_unreachable(s, exc)) from None
        except ldap_errors.LDAPException as exc:
            raise DirectoryError(f"The directory refused the connection: {exc}") from None
        return conn


def _server(s: LdapConfig) -> ldap3.Server:
    tls = ldap3.Tls(
        validate=ssl.CERT_REQUIRED,
        ca_certs_file=s.ca_file or None,
        version=ssl.PROTOCOL_TLS_CLIENT,
    )
    return ldap3.Server(
        s.url,
        use_ssl=s.url.startswith("ldaps://"),
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=s.timeout_seconds,
    )


def _unreachable(s: LdapConfig, exc: Exception) -> str:
    text = str(exc)
    if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
        return (
            f"The directory at {s.url} has a TLS certificate gshare does not trust "
            f"([ldap] ca_file): {text}"
        )
    return f"The directory at {s.url} cannot be reached: {text}"


def _texts(entry: dict, attribute: str) -> list[str]:
    raw = _raw(entry, attribute)
    return [value.decode("utf-8", "replace") for value in raw]


def _raw(entry: dict, attribute: str) -> list[bytes]:
    for name, values in (entry.get("raw_attributes") or {}).items():
        if name.lower() == attribute.lower():
            return list(values)
    return []


def _entry_id(entry: dict, attribute: str) -> str | None:
    """Return the entry's lasting id: entryUUID's text, or AD's objectGUID (16 bytes)."""
    raw = _raw(entry, attribute)
    if not raw:
        return None
    value = raw[0]
    if len(value) == 16:
        try:
            value.decode("ascii")
        except UnicodeDecodeError:
            return str(uuid.UUID(bytes_le=value))
    return value.decode("utf-8", "replace").lower()
