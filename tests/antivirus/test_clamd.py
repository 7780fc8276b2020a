"""What gshare's scan gate sees when it asks a real clamd about people's files."""

import io
import os
import signal
import time
import uuid
import zipfile
from collections.abc import Iterator

import pytest

from antivirus import (
    ClamdScanner,
    ScanLimitExceeded,
    ScannerError,
    ScannerUnavailable,
    ScannerVersion,
    ScanResult,
)
from antivirus.clamd import _parse_version
from tests.fixtures.clamd import (
    EICAR_SIGNATURE,
    MARKER,
    MARKER_SIGNATURE,
    body_signature,
    eicar_bytes,
)
from tests.helpers import eventually

MIB = 1024 * 1024
CLEAN_TEXT = "Minutes of the budget meeting, ສະບາຍດີ\n".encode() * 100


def zip_with(name: str, data: bytes, method: int) -> bytes:
    """Return a ZIP archive holding one file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    """Yield data in pieces of the given size."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def zeros(total: int, size: int = MIB) -> Iterator[bytes]:
    """Yield total zero bytes in pieces, without holding them all at once."""
    while total > 0:
        yield bytes(min(size, total))
        total -= size


def push(scanner: ClamdScanner, chunks) -> ScanResult:
    """Scan chunks in push mode, the way an uploader's read loop does."""
    with scanner.start_scan() as stream:
        for chunk in chunks:
            stream.feed(chunk)
        return stream.finish()


def unique_marker() -> bytes:
    """Return a marker no other test has a signature for."""
    return f"GSHARE-TEST-{uuid.uuid4().hex}".encode()


@pytest.fixture(params=["unix", "tcp"])
def scanner_on(request, clamd_daemon) -> ClamdScanner:
    """Return a scanner on clamd's unix socket and, in a second run, on its TCP port."""
    clamd_daemon.start()
    address = clamd_daemon.address if request.param == "unix" else clamd_daemon.tcp_address
    return ClamdScanner(address, timeout=20.0)


@pytest.fixture
def restart_afterwards(clamd_daemon) -> Iterator[None]:
    """Start clamd again after a test that stops or freezes it."""
    yield
    if clamd_daemon.pid is not None:
        os.kill(clamd_daemon.pid, signal.SIGCONT)
    clamd_daemon.start()


def test_ordinary_document_is_clean(scanner_on):
    result = scanner_on.scan([CLEAN_TEXT])

    assert result == ScanResult(signature=None)
    assert result.clean


def test_empty_file_is_clean(scanner):
    assert scanner.scan([]).clean


def test_eicar_test_file_is_infected_with_its_signature_name(scanner_on):
    result = scanner_on.scan([eicar_bytes()])

    assert not result.clean
    assert result.signature == EICAR_SIGNATURE


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"]
)
def test_malware_inside_a_zip_is_found(scanner, method):
    archive = zip_with("minutes.txt", CLEAN_TEXT + MARKER + CLEAN_TEXT, method)

    if method == zipfile.ZIP_DEFLATED:
        assert MARKER not in archive  # so clamd has to unpack the archive to find it
    assert scanner.scan([archive]).signature == MARKER_SIGNATURE


def test_eicar_inside_a_deflated_zip_is_found(scanner):
    archive = zip_with("eicar.com", eicar_bytes(), zipfile.ZIP_DEFLATED)

    assert scanner.scan([archive]).signature == EICAR_SIGNATURE


@pytest.mark.parametrize("chunk_size", [1, 7, 4093, MIB], ids=["1B", "7B", "4093B", "1MiB"])
def test_push_mode_gives_the_same_verdicts_whatever_the_chunk_size(scanner, chunk_size):
    random_part = os.urandom(600 * 1024)
    payloads = {
        "clean": (random_part + CLEAN_TEXT, None),
        "eicar": (eicar_bytes(), EICAR_SIGNATURE),
        "zip": (zip_with("a.bin", random_part + MARKER, zipfile.ZIP_STORED), MARKER_SIGNATURE),
    }
    for data, signature in payloads.values():
        assert push(scanner, pieces(data, chunk_size)).signature == signature
        assert scanner.scan(pieces(data, chunk_size)).signature == signature


def test_signature_split_across_many_instream_chunks_is_found(clamd_daemon):
    scanner = ClamdScanner(clamd_daemon.address, chunk_size=16)

    assert scanner.scan([b"prefix " + MARKER + b" suffix"]).signature == MARKER_SIGNATURE
    assert scanner.scan([eicar_bytes()]).signature == EICAR_SIGNATURE


def test_empty_pieces_in_the_middle_do_not_end_the_scan_early(scanner):
    eicar = eicar_bytes()

    result = push(scanner, [b"", eicar[:10], b"", b"", eicar[10:], b""])

    assert result.signature == EICAR_SIGNATURE


def test_file_of_exactly_the_stream_limit_is_scanned_to_its_last_byte(scanner, clamd_daemon):
    body = zeros(clamd_daemon.stream_max_length - len(MARKER))

    assert scanner.scan([*body, MARKER]).signature == MARKER_SIGNATURE


def test_file_above_the_stream_limit_is_unscannable_not_clean(scanner_on, clamd_daemon):
    started = time.monotonic()

    with pytest.raises(ScanLimitExceeded):
        scanner_on.scan(zeros(clamd_daemon.stream_max_length + 1))

    assert time.monotonic() - started < 10


def test_oversized_upload_is_refused_while_it_streams_not_at_its_end(scanner_on, clamd_daemon):
    sent = 0
    with pytest.raises(ScanLimitExceeded), scanner_on.start_scan() as stream:
        for chunk in zeros(1024 * MIB):
            stream.feed(chunk)
            sent += len(chunk)
        stream.finish()

    assert sent < clamd_daemon.stream_max_length + 32 * MIB


def test_archive_expanding_beyond_the_scan_size_limit_is_unscannable(scanner, clamd_daemon):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number in range(5):
            archive.writestr(f"part{number}.bin", bytes(clamd_daemon.stream_max_length - MIB))

    with pytest.raises(ScanLimitExceeded, match="MaxScanSize"):
        scanner.scan([buffer.getvalue()])


def test_stopped_clamd_is_unavailable_at_once_and_answers_after_restart(
    scanner, clamd_daemon, restart_afterwards
):
    tcp_scanner = ClamdScanner(clamd_daemon.tcp_address)
    clamd_daemon.stop()
    started = time.monotonic()

    for attempt in (scanner.ping, tcp_scanner.ping, lambda: scanner.scan([CLEAN_TEXT])):
        with pytest.raises(ScannerUnavailable):
            attempt()
    with pytest.raises(ScannerUnavailable):
        scanner.start_scan()

    assert time.monotonic() - started < 2
    clamd_daemon.start()
    assert scanner.scan([eicar_bytes()]).signature == EICAR_SIGNATURE


def test_clamd_dying_during_an_upload_is_unavailable_not_clean(
    scanner, clamd_daemon, restart_afterwards
):
    with pytest.raises(ScannerUnavailable), scanner.start_scan() as stream:
        stream.feed(CLEAN_TEXT)
        clamd_daemon.stop()
        for chunk in zeros(4 * MIB):
            stream.feed(chunk)
        stream.finish()


@pytest.mark.slow  # waits out the scanner timeout
def test_frozen_clamd_times_out_instead_of_hanging(clamd_daemon, restart_afterwards):
    scanner = ClamdScanner(clamd_daemon.address, timeout=1.0)
    os.kill(clamd_daemon.pid, signal.SIGSTOP)
    started = time.monotonic()

    with pytest.raises(ScannerUnavailable):
        scanner.ping()
    with pytest.raises(ScannerUnavailable):
        scanner.scan(zeros(8 * MIB))

    assert time.monotonic() - started < 5


def test_ping_answers_and_version_names_engine_and_database(scanner, clamd_daemon):
    scanner.ping()
    version = scanner.version()

    assert version.engine.startswith("ClamAV ")
    assert version.database == clamd_daemon.database_version
    assert version.database_date


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            "ClamAV 1.0.7/27480/Tue Dec 10 09:32:01 2024",
            ("ClamAV 1.0.7", 27480, "Tue Dec 10 09:32:01 2024"),
        ),
        ("ClamAV 1.4.6", ("ClamAV 1.4.6", None, None)),
    ],
)
def test_version_reply_is_read_with_and_without_a_database_version(reply, expected):
    assert _parse_version(reply, "unix:///x") == ScannerVersion(*expected)


@pytest.mark.parametrize("reply", ["PONG", "ClamAV 1.4.6/x/date", "UNKNOWN COMMAND"])
def test_unexpected_version_reply_is_a_scanner_error(reply):
    with pytest.raises(ScannerError):
        _parse_version(reply, "unix:///x")


@pytest.mark.parametrize(
    "address",
    [
        "",
        "/run/clamav/clamd.ctl",
        "unix://relative/clamd.sock",
        "unix:///run/clamav/clamd.ctl?x=1",
        "tcp://127.0.0.1",
        "tcp://:3310",
        "tcp://127.0.0.1:99999",
        "tcp://127.0.0.1:3310/path",
        "http://127.0.0.1:3310",
        "127.0.0.1:3310",
    ],
)
def test_badly_written_address_is_refused_at_once(address):
    with pytest.raises(ValueError, match="unix:///path or tcp://host:port"):
        ClamdScanner(address)


@pytest.mark.parametrize(
    "address",
    ["unix:///run/clamav/clamd.ctl", "tcp://127.0.0.1:3310", "tcp://[::1]:3310", "tcp://av:3310"],
)
def test_well_written_address_is_accepted_without_connecting(address):
    assert ClamdScanner(address).address == address


def test_new_signature_version_makes_a_formerly_clean_file_infected(scanner, clamd_daemon):
    marker = unique_marker()
    report = CLEAN_TEXT + marker
    assert scanner.scan([report]).clean
    before = scanner.version()

    clamd_daemon.add_signature(body_signature("Gshare.Test.Reload", marker))
    clamd_daemon.reload()

    after = scanner.version()
    assert after.database == before.database + 1
    assert after != before
    assert scanner.scan([report]).signature == "Gshare.Test.Reload.UNOFFICIAL"


def test_scanner_reload_loads_a_local_signature_but_keeps_the_version(scanner, clamd_daemon):
    marker = unique_marker()
    assert scanner.scan([marker]).clean
    before = scanner.version()

    clamd_daemon.add_signature(body_signature("Gshare.Test.Local", marker))
    scanner.reload()

    found = eventually(
        lambda: scanner.scan([marker]).signature, what="clamd to load the local signature"
    )
    assert found == "Gshare.Test.Local.UNOFFICIAL"
    # Only a new daily database changes what VERSION reports; local signature files do not.
    assert scanner.version() == before


def test_finished_scan_cannot_be_fed_again(scanner):
    stream = scanner.start_scan()
    stream.feed(CLEAN_TEXT)
    assert stream.finish().clean

    with pytest.raises(ScannerError):
        stream.feed(b"more")
    with pytest.raises(ScannerError):
        stream.finish()


def test_error_in_the_upload_loop_closes_the_scan(scanner):
    with pytest.raises(RuntimeError), scanner.start_scan() as stream:
        stream.feed(CLEAN_TEXT)
        raise RuntimeError("client went away")

    with pytest.raises(ScannerError):
        stream.feed(b"more")
    stream.abort()
    assert scanner.scan([CLEAN_TEXT]).clean
