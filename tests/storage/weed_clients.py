"""Clients for the embedded SeaweedFS's inner ports: as another local account would call them, and
as the S3 gateway does, with the keys and certificates the server wrote into its data directory.

The gRPC client is one bare HTTP/2 exchange (a unary or server-streaming call) over a socket, as
gshare does not depend on grpcio: enough to see whether a port gives something away, no more.
"""

import base64
import hashlib
import hmac
import http.client
import json
import socket
import ssl
import struct
import time
import tomllib
from pathlib import Path
from typing import NamedTuple

from storage.weed_security import SECURITY_FILE, TLS_DIR

TIMEOUT = 30.0  # ReadAllNeedles streams a whole volume: late in the suite it holds much
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0, 1, 3, 4, 6, 7
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


class WeedKeys:
    """The secrets a running embedded server wrote into its data directory."""

    def __init__(self, data_dir: Path):
        self.tls_dir = data_dir / TLS_DIR
        self.config = tomllib.loads((data_dir / SECURITY_FILE).read_text())

    def tls(self) -> ssl.SSLContext:
        """A TLS context presenting the S3 gateway's client certificate."""
        context = stranger_tls()
        context.load_cert_chain(self.tls_dir / "client.crt", self.tls_dir / "client.key")
        return context

    def filer_read_token(self) -> str:
        """A JWT the filer accepts for reads, as the S3 gateway makes them."""
        return sign_jwt(self.config["jwt"]["filer_signing"]["read"]["key"], {})

    def volume_read_token(self, fid: str) -> str:
        """A JWT the volume server accepts for reading fid, as the master makes them."""
        return sign_jwt(self.config["jwt"]["signing"]["read"]["key"], {"fid": fid})


def stranger_tls() -> ssl.SSLContext:
    """TLS as anyone can speak it: no client certificate, the server's certificate unchecked."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def sign_jwt(key: str, claims: dict[str, object]) -> str:
    """An HS256 JWT with claims, valid for a minute."""

    def encode(part: bytes) -> bytes:
        return base64.urlsafe_b64encode(part).rstrip(b"=")

    header = encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = encode(json.dumps({**claims, "exp": int(time.time()) + 60}).encode())
    signature = hmac.new(key.encode(), header + b"." + body, hashlib.sha256).digest()
    return (header + b"." + body + b"." + encode(signature)).decode()


def http_get(
    port: int,
    path: str,
    tls: ssl.SSLContext | None = None,
    token: str | None = None,
) -> tuple[int, bytes]:
    """GET path on 127.0.0.1:port, over TLS when tls is given; return status and body."""
    if tls is None:
        connection: http.client.HTTPConnection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=TIMEOUT
        )
    else:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=TIMEOUT, context=tls)
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class GrpcReply(NamedTuple):
    """What a gRPC call got back: whether the server answered at all, and its DATA frames."""

    answered: bool
    data: bytes


def grpc_call(
    port: int, method: str, message: bytes, tls: ssl.SSLContext | None = None
) -> GrpcReply:
    """Call method ("/package.Service/Method") on 127.0.0.1:port with one protobuf message.

    Raises OSError (ssl.SSLError among them) when the port refuses the connection.
    """
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    if tls is not None:
        tls.set_alpn_protocols(["h2"])
        raw = tls.wrap_socket(raw)
    with raw as sock:
        sock.sendall(
            H2_PREFACE
            + _frame(SETTINGS, 0, 0, b"")
            + _frame(
                HEADERS, END_HEADERS, 1, _grpc_headers(port, method, "https" if tls else "http")
            )
            + _frame(DATA, END_STREAM, 1, b"\x00" + struct.pack(">I", len(message)) + message)
        )
        return _read_reply(sock)


def list_entries_request(directory: str) -> bytes:
    """filer_pb.ListEntriesRequest{directory, limit: 100}."""
    return _proto_string(1, directory.encode()) + b"\x28\x64"


def lookup_volume_request(volume_id: str) -> bytes:
    """master_pb.LookupVolumeRequest{volume_or_file_ids: [volume_id]}."""
    return _proto_string(1, volume_id.encode())


def read_all_needles_request(volume_id: int) -> bytes:
    """volume_server_pb.ReadAllNeedlesRequest{volume_ids: [volume_id]}."""
    assert volume_id < 128
    return bytes([0x08, volume_id])


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))[1:]
        + bytes([kind, flags])
        + struct.pack(">I", stream)
        + payload
    )


def _proto_string(field: int, value: bytes) -> bytes:
    assert len(value) < 128
    return bytes([field << 3 | 2, len(value)]) + value


def _grpc_headers(port: int, method: str, scheme: str) -> bytes:
    """HPACK literal fields, never indexed nor Huffman-coded: the simplest valid encoding."""
    fields = [
        (":method", "POST"),
        (":scheme", scheme),
        (":path", method),
        (":authority", f"127.0.0.1:{port}"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
    block = b""
    for name, value in fields:
        block += b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()
    return block


def _read_reply(sock: socket.socket) -> GrpcReply:
    """Read frames until stream 1 ends or the server hangs up."""
    answered, data = False, b""
    while True:
        head = _read_exactly(sock, 9)
        if head is None:
            return GrpcReply(answered, data)
        length = int.from_bytes(head[:3], "big")
        kind, flags, stream = head[3], head[4], int.from_bytes(head[5:], "big") & 0x7FFFFFFF
        payload = _read_exactly(sock, length) or b""
        if kind == SETTINGS and not flags & ACK:
            sock.sendall(_frame(SETTINGS, ACK, 0, b""))
        elif kind == PING and not flags & ACK:
            sock.sendall(_frame(PING, ACK, 0, payload))
        elif kind == DATA and stream == 1:
            data += payload
        answered = answered or (kind == HEADERS and stream == 1)
        if kind in (GOAWAY, RST_STREAM) or (stream == 1 and flags & END_STREAM):
            return GrpcReply(answered, data)


def _read_exactly(sock: socket.socket, count: int) -> bytes | None:
    chunks = b""
    while len(chunks) < count:
        chunk = sock.recv(count - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return chunks
