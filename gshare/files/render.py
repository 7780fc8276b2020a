"""Pictures of a file's content (an image or a PDF page made small, WebP) and the text of a
Word document, made in a child process.

Decoding what people upload is the riskiest thing gshare does with their bytes, so it happens
in a short-lived process of its own (`python -m gshare.files.render`: a fresh interpreter, no
locks or threads inherited from a web worker, about 0.2 s to start), killed when it takes longer
than the limit. A decoder that crashes, hangs or eats memory takes only that process with it.
Limits: pixels (Pillow's decompression-bomb guard, set lower and made an error), a PDF page's
size, the child's memory, its time, and (the caller's) the source's size and the pages of a
PDF drawn. No PDF script runs: PDFium's form environment, the only place its JavaScript lives,
is never started.

Nothing here imports the project: a path in, a WebP file out (and the number of pages on the
child's stdout), or Unrenderable.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import warnings
from dataclasses import dataclass

import docx
import pypdfium2 as pdfium
from PIL import Image, ImageOps
from pillow_heif import register_heif_opener

IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "HEIF")
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; a decompression bomb is far beyond it
MAX_PDF_POINTS = 14_400  # PDF's own page-size limit (200 inches), checked before rendering
WEBP_QUALITY = 80
MAX_MEMORY = 2 << 30  # the child's address space: a decoder that asks for more fails
register_heif_opener()
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # in this process too: only the child decodes, but be sure
# The exit codes of the child: what went wrong, in a word the parent can log.
EXIT_UNREADABLE = 3


class Unrenderable(Exception):
    """The content cannot be made into a picture (broken, too large, too slow, or refused)."""


@dataclass(frozen=True)
class Job:
    """What to draw: page (1-based) of the source at most size pixels on its longer side."""

    kind: str  # "image", "pdf" or "docx" (its text, at most size characters, UTF-8)
    source: str
    target: str
    size: int
    page: int = 1


def render(job: Job, timeout: float) -> int:
    """Draw the job's picture into job.target in a child process and return the source's
    number of pages (1 for an image); Unrenderable when it cannot, or not within timeout."""
    command = [sys.executable, "-m", __name__, job.kind, job.source, job.target]
    try:
        done = subprocess.run(
            [*command, str(job.size), str(job.page)],
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed the child
        raise Unrenderable(f"rendering took longer than {timeout:g} s") from exc
    if done.returncode != 0:
        raise Unrenderable(f"the renderer refused the content (exit code {done.returncode})")
    try:
        return int(done.stdout)
    except ValueError as exc:
        raise Unrenderable("the renderer gave no answer") from exc


def _main(argv: list[str]) -> None:  # pragma: no cover - runs in the child process
    kind, source, target, size, page = argv
    job = Job(kind, source, target, int(size), int(page))
    resource.setrlimit(resource.RLIMIT_AS, (MAX_MEMORY, MAX_MEMORY))
    try:
        pages = {"pdf": draw_pdf, "docx": docx_text}.get(job.kind, draw_image)(job)
    except Exception:  # whatever the decoder raises, the content is what is wrong
        os._exit(EXIT_UNREADABLE)
    print(pages)  # the parent reads the number of pages


def draw_image(job: Job) -> int:
    """Draw an image (its first frame, turned as its EXIF says) small, as WebP."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(job.source, formats=IMAGE_FORMATS) as image:
            if image.width * image.height > MAX_PIXELS:
                raise Unrenderable("too many pixels")
            image.draft("RGB", (job.size, job.size))  # JPEG: decode at a fraction of the size
            turned = ImageOps.exif_transpose(image)
            turned.thumbnail((job.size, job.size))
            _save(turned, job.target)
    return 1


def draw_pdf(job: Job) -> int:
    """Draw one page of a PDF small, as WebP; return the document's number of pages."""
    document = pdfium.PdfDocument(job.source)
    try:
        pages = len(document)
        if not 1 <= job.page <= pages:
            raise Unrenderable("no such page")
        page = document[job.page - 1]
        width, height = page.get_size()
        if not (0 < width <= MAX_PDF_POINTS and 0 < height <= MAX_PDF_POINTS):
            raise Unrenderable("a page of impossible size")
        scale = job.size / max(width, height)
        bitmap = page.render(scale=scale, may_draw_forms=False)
        _save(bitmap.to_pil(), job.target)
    finally:
        document.close()
    return pages


def docx_text(job: Job) -> int:
    """Write the text of a Word document (paragraphs, and table rows as cells joined by tabs,
    in document order), at most job.size characters; return 1."""
    lines: list[str] = []
    length = 0
    for block in docx.Document(job.source).iter_inner_content():
        if isinstance(block, docx.table.Table):
            found = ["\t".join(cell.text for cell in row.cells) for row in block.rows]
        else:
            found = [block.text]
        lines.extend(found)
        length += sum(len(line) + 1 for line in found)
        if length > job.size:
            break
    with open(job.target, "w", encoding="utf-8") as out:
        out.write("\n".join(lines)[: job.size])
    return 1


def _save(image, target: str) -> None:
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    image.save(target, "WEBP", quality=WEBP_QUALITY, method=4)


if __name__ == "__main__":  # pragma: no cover - the child process
    _main(sys.argv[1:])
