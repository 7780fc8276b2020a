"""Thumbnails: made only for clean versions, on request, stored under their own key, refused
cleanly for what cannot be drawn, removed with their version, known to fsck and gc."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pillow_heif import register_heif_opener

from gshare.core.actor import OPERATOR
from gshare.core.blobs import thumbnail_key
from gshare.core.errors import Busy, NotFound
from gshare.core.models import ScanState, Version
from gshare.files import previews, trash
from gshare.ops import maintenance
from tests.fixtures.world import World, mark_scanned


def jpeg(width=1600, height=900, orientation=None) -> bytes:
    """A JPEG, wide, with an EXIF orientation if given."""
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def pdf(pages=3) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(595, 842)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def png_bomb(side=60_000) -> bytes:
    """A PNG of side x side pixels that is a few kilobytes: its header alone says the size."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (side + 1) * 64)  # a few rows; the header is what counts
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def image_bytes(fmt: str, size=(640, 480)) -> bytes:
    register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 200)).save(out, fmt)
    return out.getvalue()


def animated_gif() -> bytes:
    """Two frames: red, then green; the thumbnail is of the first."""
    frames = [Image.new("RGB", (400, 200), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


def picture_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP"
        return image.size


def test_a_thumbnail_is_made_for_a_clean_image_only_after_the_scan(ctx, world):
    owner = world.user("somsak")
    version = world.upload(owner, world.home(owner), "photo.jpg", jpeg(), clean=False)
    assert version.content_type == "image/jpeg"
    with pytest.raises(NotFound):
        previews.open_thumbnail(ctx, owner, version.node_id)
    assert version.thumbnail is None
    assert not _stored(ctx, thumbnail_key(version.blob_key))

    mark_scanned(version, ScanState.CLEAN)
    picture = previews.open_thumbnail(ctx, owner, version.node_id)
    assert picture is not None
    assert picture_size(picture.data) == (320, 180)
    assert version.thumbnail == previews.MADE
    assert _stored(ctx, thumbnail_key(version.blob_key))
    again = previews.open_thumbnail(ctx, owner, version.node_id)  # read back, not drawn again
    assert again is not None and again.data == picture.data


@pytest.mark.parametrize(
    "fmt, content_type",
    [
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("TIFF", "image/tiff"),
        ("HEIF", "image/heic"),
    ],
)
def test_each_image_format_gets_a_thumbnail(ctx, world, fmt, content_type):
    owner = world.user("somsak")
    version = world.upload(owner, world.home(owner), f"picture.{fmt.lower()}", image_bytes(fmt))
    assert version.content_type == content_type
    picture = previews.open_thumbnail(ctx, owner, version.node_id)
    assert picture is not None and picture_size(picture.data) == (320, 240)


def test_an_animated_gif_s_thumbnail_is_its_first_frame(ctx, world):
    owner = world.user("somsak")
    version = world.upload(owner, world.home(owner), "blink.gif", animated_gif())
    picture = previews.open_thumbnail(ctx, owner, version.node_id)
    assert picture is not None
    with Image.open(io.BytesIO(picture.data)) as image:
        red, green, _ = image.convert("RGB").getpixel((10, 10))
    assert red > 200 and green < 50


def test_the_thumbnail_is_turned_as_the_photo_s_exif_says(ctx, world):
    owner = world.user("somsak")
    version = world.upload(owner, world.home(owner), "portrait.jpg", jpeg(orientation=6))
    picture = previews.open_thumbnail(ctx, owner, version.node_id)
    assert picture is not None and picture_size(picture.data) == (180, 320)


@pytest.mark.parametrize("state", [ScanState.INFECTED, ScanState.BLOCKED, ScanState.ERROR])
def test_no_thumbnail_is_made_of_a_held_or_unjudged_version(ctx, world, state):
    owner = world.user("somsak")
    version = world.upload(owner, world.home(owner), "photo.jpg", jpeg(), clean=False)
    mark_scanned(version, state)
    with pytest.raises(Exception) as refused:
        previews.open_thumbnail(ctx, owner, version.node_id)
    assert refused.type.__name__ in ("NotFound", "Quarantined")
    assert version.thumbnail is None


def test_a_pdf_s_first_page_makes_its_thumbnail_and_its_pages_are_counted(ctx, world):
    owner = world.user("somsak")
    version = world.upload(owner, world.home(owner), "plan.pdf", pdf(3))
    picture = previews.open_thumbnail(ctx, owner, version.node_id)
    assert picture is not None
    width, height = picture_size(picture.data)
    assert height == 320 and 220 <= width <= 230  # A4, portrait
    assert version.page_count == 3
    page = previews.draw_page(ctx, owner, version.node_id, version.id, 3)
    assert page is not None and picture_size(page.data)[1] == previews.PAGE_SIZE
    with pytest.raises(NotFound):
        previews.draw_page(ctx, owner, version.node_id, version.id, previews.MAX_PAGES + 1)


def test_a_decompression_bomb_is_refused_cleanly_and_not_tried_again(ctx, world):
    owner = world.user("somsak")
    version = world.upload(owner, world.home(owner), "bomb.png", png_bomb())
    assert version.content_type == "image/png"
    assert previews.open_thumbnail(ctx, owner, version.node_id) is None
    assert version.thumbnail == previews.NONE
    assert not previews.has_thumbnail(version)
    assert not _stored(ctx, thumbnail_key(version.blob_key))


def test_a_broken_pdf_gives_no_thumbnail_and_no_error(ctx, world):
    owner = world.user("somsak")
    version = world.upload(owner, world.home(owner), "broken.pdf", b"%PDF-1.7\n1 0 obj << /Ty")
    assert version.content_type == "application/pdf"
    assert previews.open_thumbnail(ctx, owner, version.node_id) is None
    assert version.thumbnail == previews.NONE


def test_purge_removes_the_thumbnail_and_fsck_is_silent_about_thumbnails(gs):
    with gs.unit_of_work() as ctx:
        world = World(ctx)
        owner = world.user("somsak")
        version = world.upload(owner, world.home(owner), "photo.jpg", jpeg())
        assert previews.open_thumbnail(ctx, owner, version.node_id) is not None
        key, node_id = thumbnail_key(version.blob_key), version.node_id
    with gs.unit_of_work() as ctx:
        assert _stored(ctx, key)
        report = maintenance.fsck(ctx)
        assert report.ok, report
    with gs.unit_of_work() as ctx:
        trash.delete_node(ctx, OPERATOR, node_id)
        trash.purge_node(ctx, OPERATOR, node_id)
        assert ctx.db.get(Version, version.id) is None
    with gs.unit_of_work() as ctx:
        assert not _stored(ctx, key)


def test_fsck_reports_a_thumbnail_without_its_version_and_gc_removes_it(gs):
    with gs.unit_of_work() as ctx:
        ctx.store.put("t/0123abcd.webp", io.BytesIO(b"RIFF"), 4)
    with gs.unit_of_work() as ctx:
        report = maintenance.fsck(ctx)
        assert [blob.key for blob in report.orphan_blobs] == ["t/0123abcd.webp"]
    with gs.unit_of_work() as ctx:
        assert maintenance.gc(ctx, grace=timedelta(0)).orphans_removed == 1
        assert not _stored(ctx, "t/0123abcd.webp")


def _stored(ctx, key: str) -> bool:
    return any(blob.key == key for blob in ctx.store.list(key))


def test_a_drawing_that_takes_too_long_is_stopped_and_gives_no_thumbnail(ctx, world, monkeypatch):
    owner = world.user("somsak")
    version = world.upload(owner, world.home(owner), "plan.pdf", pdf(1))
    monkeypatch.setattr(previews, "RENDER_SECONDS", 0.01)  # less than a child takes to start
    assert previews.open_thumbnail(ctx, owner, version.node_id) is None
    assert version.thumbnail == previews.NONE


def test_when_every_drawing_turn_is_taken_the_reader_is_asked_to_try_again(ctx, world, monkeypatch):
    owner = world.user("somsak")
    version = world.upload(owner, world.home(owner), "photo.jpg", jpeg())
    monkeypatch.setattr(previews, "_drawing_turns", threading.BoundedSemaphore(1))
    monkeypatch.setattr(previews, "DRAWING_WAIT_SECONDS", 0.05)
    previews._drawing_turns.acquire()  # another request is drawing
    with pytest.raises(Busy):
        previews.open_thumbnail(ctx, owner, version.node_id)
    assert version.thumbnail is None  # not remembered as "none": tried again next time
    previews._drawing_turns.release()
    assert previews.open_thumbnail(ctx, owner, version.node_id) is not None


def test_a_thumbnail_lost_from_the_store_is_drawn_again(ctx, world):
    owner = world.user("somsak")
    version = world.upload(owner, world.home(owner), "photo.jpg", jpeg())
    assert previews.open_thumbnail(ctx, owner, version.node_id) is not None
    ctx.store.delete(thumbnail_key(version.blob_key))
    assert not _stored(ctx, thumbnail_key(version.blob_key))
    picture = previews.open_thumbnail(ctx, owner, version.node_id)
    assert picture is not None and picture_size(picture.data) == (320, 180)
    assert _stored(ctx, thumbnail_key(version.blob_key))
