"""Thumbnails and previews: small pictures of images and PDF first pages, PDF pages, text.

Only a clean version is ever decoded or pictured: a pending, infected, blocked or merely
released version has no thumbnail and no rendered preview, whoever asks. Each request goes
through the same check as a download first (the person reads the file, the version is one they
may read), so a thumbnail can show nothing its reader could not download.

Thumbnails are made lazily, on the first request of someone who may read the version, and
stored once under the version's own thumbnail key (`blobs.thumbnail_key`), the version row
recording "made" or "none" (never tried again). Lazily, because a clean verdict comes from two
places (the inline scan of an upload, the worker), a rescan may pull it back, and most files are
never looked at in a grid: the request knows that its reader may see the version now.
Pages of a PDF are drawn on request and not stored (the browser keeps them: one version's
page never changes).
"""

from __future__ import annotations

import codecs
import io
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass

from gshare.access.gate import is_quarantined, readable_version
from gshare.access.permissions import Action
from gshare.core.actor import Actor
from gshare.core.blobs import store_errors, thumbnail_key
from gshare.core.context import Context
from gshare.core.errors import Busy, GshareError, NotFound
from gshare.core.models import Node, ScanState, Version
from gshare.files import render
from gshare.files.content import open_checked, read_version
from gshare.files.lookup import get_node

BROWSER_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DRAWN_IMAGES = frozenset({"image/tiff", "image/heic", "image/heif"})  # shown as a drawn picture
TEXT_TYPES = frozenset({"application/json", "application/xml"})
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
THUMBNAIL_SIZE = 320  # pixels on the longer side
PAGE_SIZE = 1400
MAX_SOURCE_BYTES = 100 << 20  # larger files get no thumbnail and no drawn preview
MAX_PAGES = 20  # pages of a PDF previewed; the rest is read after downloading
RENDER_SECONDS = 20.0
TEXT_BYTES = 256 << 10
MADE, NONE = "made", "none"
# Drawings at once per process, and how long a request waits for its turn: a first grid view
# of a folder of new photos asks for many at once, and each child may take 2 GiB.
DRAWINGS_AT_ONCE = 2
DRAWING_WAIT_SECONDS = 30.0
_drawing_turns = threading.BoundedSemaphore(DRAWINGS_AT_ONCE)


@dataclass
class Picture:
    """A drawn picture (WebP bytes) of a version."""

    version: Version
    data: bytes


@dataclass
class TextPreview:
    """The start of a text file, decoded; truncated when the file is longer."""

    text: str
    encoding: str
    truncated: bool


def preview_kind(content_type: str) -> str | None:
    """Return how a type is previewed: image (the browser shows it), picture (drawn by the
    server: TIFF, HEIC), pdf (pages drawn by the server), text, document (a Word document's
    text, read by the server), or None."""
    if content_type in BROWSER_IMAGES:
        return "image"
    if content_type in DRAWN_IMAGES:
        return "picture"
    if content_type == "application/pdf":
        return "pdf"
    if content_type.startswith("text/") or content_type in TEXT_TYPES:
        return "text"
    if content_type == DOCX:
        return "document"
    return None


def _drawable(version: Version) -> bool:
    """Tell whether a version may be decoded at all: clean, and not too large."""
    return version.scan_state == ScanState.CLEAN and version.size <= MAX_SOURCE_BYTES


def describe_preview(ctx: Context, actor: Actor, node: Node, version: Version) -> dict | None:
    """Return what a file page's preview box shows of a version the actor reads: {"kind"},
    with a PDF's "pages" and "shown", or a text's "text"; kind "failed" for a preview that
    cannot be made (not clean yet, broken, bytes missing, busy); None for no preview."""
    kind = preview_kind(version.content_type)
    if is_quarantined(version) or kind is None:
        return None  # the page shows its state, or says there is no preview
    try:
        if kind in ("pdf", "picture") and not has_thumbnail(version):
            return {"kind": "failed"}
        if kind == "pdf":
            pages = count_pages(ctx, actor, node, version)
            shown = min(pages or 0, MAX_PAGES)
            return {"kind": "pdf" if pages else "failed", "pages": pages, "shown": shown}
        if kind == "text":
            return {"kind": "text", "text": read_text(ctx, actor, node.id)}
        if kind == "document":
            text = read_document(ctx, actor, node.id)
            return {"kind": "text", "text": text} if text else {"kind": "failed"}
    except GshareError:
        return {"kind": "failed"}
    return {"kind": kind}


def has_thumbnail(version: Version | None) -> bool:
    """Tell whether a version may have a thumbnail (a clean image or PDF not refused yet)."""
    return (
        version is not None
        and _drawable(version)
        and preview_kind(version.content_type) in ("image", "picture", "pdf")
        and version.thumbnail != NONE
    )


def open_thumbnail(
    ctx: Context, actor: Actor, node_id: int, version_id: int | None = None
) -> Picture | None:
    """Return the thumbnail of a version of a file the actor reads (the newest they may read,
    or version_id), made now if it was not yet; None when it has none (the refusal is
    remembered, so this returns rather than raises)."""
    node = get_node(ctx, actor, node_id, Action.READ)
    version = readable_version(ctx.db, actor, node, version_id)
    if not has_thumbnail(version):
        raise NotFound("This file has no thumbnail.")
    key = thumbnail_key(version.blob_key)
    if version.thumbnail == MADE:
        try:
            with store_errors(), ctx.store.get(key) as stream:
                return Picture(version, b"".join(stream))
        except NotFound:
            pass  # lost from the store: make it again
    drawn = _draw(version, lambda: open_checked(ctx, node, version), THUMBNAIL_SIZE, 1)
    if drawn is None:
        version.thumbnail = NONE
        return None
    data, pages = drawn
    with store_errors():
        ctx.store.put(key, io.BytesIO(data), len(data), content_type="image/webp")
    ctx.delete_blob_after_rollback(key)
    version.thumbnail, version.page_count = MADE, pages
    return Picture(version, data)


def count_pages(ctx: Context, actor: Actor, node: Node, version: Version) -> int | None:
    """Return the number of pages of a clean PDF the actor reads (learnt with its thumbnail);
    None when it cannot be drawn."""
    if version.page_count is None and version.thumbnail != NONE:
        open_thumbnail(ctx, actor, node.id, version.id)
    return version.page_count


def draw_page(
    ctx: Context, actor: Actor, node_id: int, version_id: int, page: int
) -> Picture | None:
    """Draw page `page` of a clean PDF (or a TIFF or HEIC image, page 1) the actor reads, for
    its preview; recorded in the audit log as a read. None when it cannot be drawn."""
    node = get_node(ctx, actor, node_id, Action.READ)
    version = readable_version(ctx.db, actor, node, version_id)
    kind = preview_kind(version.content_type)
    pages = MAX_PAGES if kind == "pdf" else 1
    if kind not in ("pdf", "picture") or not _drawable(version):
        raise NotFound("This file has no preview.")
    if not 1 <= page <= pages:
        raise NotFound("The preview has no such page.")
    drawn = _draw(version, lambda: read_version(ctx, actor, node, version), PAGE_SIZE, page)
    return None if drawn is None else Picture(version, drawn[0])


def read_text(ctx: Context, actor: Actor, node_id: int) -> TextPreview:
    """Return the start of a text file the actor reads, decoded (see decode_text)."""
    node = get_node(ctx, actor, node_id, Action.READ)
    version = readable_version(ctx.db, actor, node)
    if preview_kind(version.content_type) != "text":
        raise NotFound("This file has no text preview.")
    download = read_version(ctx, actor, node, version, (0, TEXT_BYTES))
    with store_errors():
        data = b"".join(download.stream or ())
        if download.stream:
            download.stream.close()
    text, encoding = decode_text(data, complete=version.size <= TEXT_BYTES)
    return TextPreview(text, encoding, version.size > TEXT_BYTES)


def read_document(ctx: Context, actor: Actor, node_id: int) -> TextPreview | None:
    """Return the text of a clean Word document the actor reads, read in a child process and
    recorded in the audit log as a read; None when it cannot be read (broken, refused)."""
    node = get_node(ctx, actor, node_id, Action.READ)
    version = readable_version(ctx.db, actor, node)
    if preview_kind(version.content_type) != "document" or not _drawable(version):
        raise NotFound("This file has no preview.")
    read = _draw(version, lambda: read_version(ctx, actor, node, version), TEXT_BYTES + 1, 1)
    if read is None:
        return None
    text = read[0].decode("utf-8")
    return TextPreview(text[:TEXT_BYTES], "utf-8", len(text) > TEXT_BYTES)


def decode_text(data: bytes, complete: bool) -> tuple[str, str]:
    """Decode the start of a text file: UTF-16 with its byte-order mark, else UTF-8 (a
    character cut at the end of an incomplete start is dropped), else Windows-1252, the usual
    8-bit encoding of older Western files (a guesser misreads short ones; Lao text from before
    Unicode used font tricks no decoder can undo)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=complete), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _draw(version: Version, open_source, size: int, page: int):
    """Wait for a turn, open the version's bytes (open_source()), copy them to a private
    temporary file and draw them; return (WebP bytes, pages), or None when they cannot be drawn
    (broken, refused, too slow); a Word document's "picture" is its text, UTF-8."""
    kind = {"application/pdf": "pdf", DOCX: "docx"}.get(version.content_type, "image")
    if not _drawing_turns.acquire(timeout=DRAWING_WAIT_SECONDS):
        raise Busy("Previews are being drawn for others; try again in a moment.", retry_after=5)
    folder = tempfile.mkdtemp(prefix="gshare-render-")
    try:
        source, target = os.path.join(folder, "source"), os.path.join(folder, "drawn")
        _copy(open_source(), source)
        try:
            pages = render.render(render.Job(kind, source, target, size, page), RENDER_SECONDS)
        except render.Unrenderable:
            return None
        with open(target, "rb") as drawn:
            return drawn.read(), pages
    finally:
        _drawing_turns.release()
        shutil.rmtree(folder, ignore_errors=True)


def _copy(download, path: str) -> None:
    """Write an open download to a file, and close it."""
    try:
        with store_errors(), open(path, "wb") as copy:
            for chunk in download.stream or ():
                copy.write(chunk)
    finally:
        if download.stream:
            download.stream.close()
