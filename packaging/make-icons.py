"""Render the application icon (resources/icons/workbench.svg) to the PNG sizes the app and the packages use.

    .venv/bin/python packaging/make-icons.py          # writes src/workbench/resources/icons/workbench-<N>.png
    .venv/bin/python packaging/make-icons.py --check  # exit 1 when a PNG is missing or has the wrong size
    .venv/bin/python packaging/make-icons.py --output DIR

Uses QtSvg from PySide6-Essentials (no other image tool needed) on the offscreen platform, so it runs headless.
The generated PNGs are committed: the app loads them at run time from the package.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "resources" / "icons" / "workbench.svg"
TARGET = ROOT / "src" / "workbench" / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def render(source: Path, target: Path, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise SystemExit(f"make-icons: {source} is not a valid SVG for QtSvg")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        path = target / f"workbench-{size}.png"
        tmp = path.with_suffix(".png.tmp")
        if not image.save(str(tmp), "PNG"):
            raise SystemExit(f"make-icons: cannot write {path}")
        tmp.replace(path)
        written.append(path)
    return written


def check(target: Path, sizes: tuple[int, ...] = SIZES) -> list[str]:
    problems = []
    for size in sizes:
        path = target / f"workbench-{size}.png"
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif png_size(path) != (size, size):
            problems.append(f"{path} is {png_size(path)}, expected {(size, size)}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that every size exists")
    parser.add_argument("--output", type=Path, default=TARGET, help=f"folder of the PNGs (default {TARGET})")
    args = parser.parse_args()
    if args.check:
        problems = check(args.output)
        for problem in problems:
            print(f"make-icons: {problem}", file=sys.stderr)
        return 1 if problems else 0
    for path in render(SOURCE, args.output):
        print(f"{path}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
