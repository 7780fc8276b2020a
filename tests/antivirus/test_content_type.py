"""What content type gshare records for an upload, judged from its first bytes."""

import io
import random
import struct
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from antivirus import SNIFF_BYTES, detect_content_type

PE_TYPES = {"application/vnd.microsoft.portable-executable", "application/x-dosexec"}
ELF_TYPES = {"application/x-executable", "application/x-sharedlib", "application/x-pie-executable"}


def pdf_head() -> bytes:
    """Return the start of a PDF file."""
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"


def png_head() -> bytes:
    """Return a PNG signature and a valid IHDR chunk for a 1x1 RGB image."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + crc


def zip_file() -> bytes:
    """Return a small ZIP archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def pe_head() -> bytes:
    """Return a minimal Windows PE32 console executable header."""
    dos_header = b"MZ" + bytes(58) + struct.pack("<I", 64)
    coff_header = b"PE\0\0" + struct.pack("<HHIIIHH", 0x14C, 1, 0, 0, 0, 0xE0, 0x0102)
    optional_header = bytearray(0xE0)
    struct.pack_into("<H", optional_header, 0, 0x10B)  # PE32
    struct.pack_into("<H", optional_header, 68, 3)  # console subsystem
    return dos_header + coff_header + bytes(optional_header)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (pdf_head(), "application/pdf"),
        (png_head(), "image/png"),
        (zip_file(), "application/zip"),
        ("ສະບາຍດີ".encode(), "text/plain"),
        ("ສະບາຍດີ\nຂອບໃຈ\n".encode(), "text/plain"),
    ],
    ids=["pdf", "png", "zip", "lao-word", "lao-lines"],
)
def test_upload_is_recognised_by_its_first_bytes(head, expected):
    assert detect_content_type(head) == expected


def test_linux_program_is_recognised_as_elf():
    head = Path("/bin/ls").read_bytes()[:SNIFF_BYTES]

    assert detect_content_type(head) in ELF_TYPES


def test_windows_program_is_recognised_as_pe():
    assert detect_content_type(pe_head()) in PE_TYPES


@pytest.mark.parametrize("head", [b"", bytes(100)], ids=["empty", "zeros"])
def test_empty_or_unknown_bytes_are_octet_stream(head):
    assert detect_content_type(head) == "application/octet-stream"


def test_only_the_first_sniff_bytes_are_looked_at():
    head = pdf_head() + bytes(SNIFF_BYTES * 4)

    assert detect_content_type(head) == "application/pdf"


def test_detection_gives_the_same_answers_from_many_threads():
    heads = [pdf_head(), png_head(), zip_file(), pe_head()] * 50
    expected = [detect_content_type(head) for head in heads]

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(detect_content_type, heads)) == expected


def test_random_bytes_are_not_taken_for_a_program():
    """Compressed and encrypted files look random; libmagic guesses a DOS COM program for about
    1 in 100 of them from their first byte, which would block them as programs."""
    generator = random.Random(20261121)
    buffers = [generator.randbytes(4096) for _ in range(3000)]
    guessed = [b for b in buffers if b[0] in (0xB8, 0x8C, 0xEB, 0xE9)]
    assert len(guessed) > 30  # the first bytes libmagic reads as an instruction are there
    assert not [b for b in buffers if detect_content_type(b) in PE_TYPES]
