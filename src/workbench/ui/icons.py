"""The application icon: the PNG sizes shipped in workbench/resources/icons (generated from
resources/icons/workbench.svg by packaging/make-icons.py)."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QIcon, QPixmap

ICON_SIZES = (16, 32, 48, 64, 128, 256)
DESKTOP_FILE_NAME = "io.github.pgreview.Workbench"  # packaging/linux/<this>.desktop; Wayland matches on it


def app_icon() -> QIcon:
    """All sizes in one QIcon (needs a QGuiApplication); a missing size is skipped, never fatal."""
    icon = QIcon()
    folder = resources.files("workbench").joinpath("resources", "icons")
    for size in ICON_SIZES:
        try:
            data = folder.joinpath(f"workbench-{size}.png").read_bytes()
        except OSError:
            continue
        pixmap = QPixmap()
        if pixmap.loadFromData(data, "PNG"):
            icon.addPixmap(pixmap)
    return icon
