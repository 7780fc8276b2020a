"""Lock the embedded SeaweedFS's inner ports with JWT keys and mutual TLS, new at each start.

weed reads `security.toml` from its working directory (the server's data directory). With the
one written here, the master, volume, filer and admin HTTP ports and every gRPC port (master,
volume, filer, S3, admin) speak only TLS to a client holding a certificate of a CA made for this
start, and the volume and filer HTTP APIs also want a request signed with this start's JWT keys.
weed's own S3 gateway holds all of them; gshare holds only its S3 key and notices nothing;
another local account holds none, since everything is written 0600 under a 0700 directory.
"""

import datetime
import ipaddress
import json
import os
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SECURITY_FILE = "security.toml"
TLS_DIR = "tls"
GRPC_COMPONENTS = ("master", "volume", "filer", "s3", "admin", "worker", "client")
HTTPS_COMPONENTS = ("master", "volume", "filer", "admin")
CERT_LIFETIME = datetime.timedelta(days=3650)  # rewritten at every start anyway
CLOCK_SKEW = datetime.timedelta(minutes=5)


def write_security_config(data_dir: Path) -> None:
    """Write data_dir/security.toml with new JWT keys and a new CA and certificates under tls/."""
    tls_dir = data_dir / TLS_DIR
    tls_dir.mkdir(mode=0o700, exist_ok=True)
    tls_dir.chmod(0o700)
    ca_key, ca_cert = _new_ca()
    _write_private(tls_dir / "ca.crt", _cert_pem(ca_cert))
    for component in GRPC_COMPONENTS:
        key, cert = _new_leaf(component, ca_key, ca_cert)
        _write_private(tls_dir / f"{component}.key", _key_pem(key))
        _write_private(tls_dir / f"{component}.crt", _cert_pem(cert))
    _write_private(data_dir / SECURITY_FILE, _security_toml(tls_dir).encode())


def _security_toml(tls_dir: Path) -> str:
    lines = ["[access]", "ui = false", ""]
    for section in (
        "jwt.signing",
        "jwt.signing.read",
        "jwt.filer_signing",
        "jwt.filer_signing.read",
    ):
        lines += [f"[{section}]", f"key = {_quote(secrets.token_hex(32))}", ""]
    lines += ["[grpc]", f"ca = {_quote(tls_dir / 'ca.crt')}", ""]
    for component in GRPC_COMPONENTS:
        lines += [
            f"[grpc.{component}]",
            f"cert = {_quote(tls_dir / f'{component}.crt')}",
            f"key = {_quote(tls_dir / f'{component}.key')}",
            "",
        ]
    for component in HTTPS_COMPONENTS:
        lines += [
            f"[https.{component}]",
            f"cert = {_quote(tls_dir / f'{component}.crt')}",
            f"key = {_quote(tls_dir / f'{component}.key')}",
            f"ca = {_quote(tls_dir / 'ca.crt')}",
            "",
        ]
    lines += [
        "[https.client]",
        "enabled = true",
        f"cert = {_quote(tls_dir / 'client.crt')}",
        f"key = {_quote(tls_dir / 'client.key')}",
        f"ca = {_quote(tls_dir / 'ca.crt')}",
        "",
    ]
    return "\n".join(lines)


def _quote(value: object) -> str:
    """A TOML basic string: JSON's escapes are TOML's, so a path with quotes stays one value."""
    return json.dumps(str(value), ensure_ascii=False)


def _new_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gshare embedded store CA")])
    cert = (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _new_leaf(
    component: str, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, component)])
    cert = (
        _builder(name, ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + CERT_LIFETIME)
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, content: bytes) -> None:
    """Write content to path, readable by this account alone, replacing what was there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
