"""What drawing a thumbnail or a preview page costs: the child process's start, a phone
photo, a large photo, a PDF's first and twentieth page, and the refusal of a bomb.

    .venv/bin/python bench/bench_thumbnails.py [--runs 5]

Draws through gshare.files.render (a child process per picture, as the web does), from local
files: the object store's part is a plain streamed GET, measured by bench_transfer.py.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from PIL import Image, ImageDraw  # noqa: E402

from gshare.files import previews, render  # noqa: E402


def photo(path: Path, width: int, height: int) -> None:
    image = Image.effect_noise((width, height), 60).convert("RGB")
    ImageDraw.Draw(image).ellipse((width // 4, height // 4, width // 2, height // 2), fill="gold")
    image.save(path, "JPEG", quality=90)


def pdf(path: Path, pages: int) -> None:
    drawn = []
    for n in range(pages):
        page = Image.new("RGB", (1240, 1754), "white")
        draw = ImageDraw.Draw(page)
        for line in range(40):
            draw.text((100, 100 + line * 40), f"page {n + 1}, line {line}: ບົດລາຍງານ" * 2, "black")
        drawn.append(page)
    out = io.BytesIO()
    drawn[0].save(out, "PDF", save_all=True, append_images=drawn[1:])
    path.write_bytes(out.getvalue())


def bomb(path: Path) -> None:
    Image.new("1", (20_000, 20_000)).save(path, "PNG")  # 400 megapixels, ~50 KB


def timed(job: render.Job, runs: int) -> tuple[float, str]:
    times, outcome = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        try:
            render.render(job, previews.RENDER_SECONDS)
            outcome = f"{Path(job.target).stat().st_size / 1024:.1f} KiB"
        except render.Unrenderable as refused:
            outcome = f"refused ({refused})"
        times.append(time.perf_counter() - start)
    return statistics.median(times), outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        photo(here / "phone.jpg", 4032, 3024)
        photo(here / "camera.jpg", 6000, 4000)
        pdf(here / "report.pdf", 40)
        bomb(here / "bomb.png")
        Image.new("RGB", (8, 8)).save(here / "tiny.png")
        cases = [
            ("child start + 8x8 PNG", "image", "tiny.png", previews.THUMBNAIL_SIZE, 1),
            ("12 MP JPEG thumbnail", "image", "phone.jpg", previews.THUMBNAIL_SIZE, 1),
            ("24 MP JPEG thumbnail", "image", "camera.jpg", previews.THUMBNAIL_SIZE, 1),
            ("40-page PDF, page 1 thumbnail", "pdf", "report.pdf", previews.THUMBNAIL_SIZE, 1),
            ("40-page PDF, page 20 at 1400 px", "pdf", "report.pdf", previews.PAGE_SIZE, 20),
            ("400 MP PNG bomb", "image", "bomb.png", previews.THUMBNAIL_SIZE, 1),
        ]
        print(f"{'case':34} {'median s':>9}  result  ({runs} runs each)")
        for name, kind, source, size, page in cases:
            target = str(here / f"{source}.{size}.{page}.webp")
            seconds, outcome = timed(render.Job(kind, str(here / source), target, size, page), runs)
            print(f"{name:34} {seconds:9.3f}  {outcome}")


if __name__ == "__main__":
    main()
