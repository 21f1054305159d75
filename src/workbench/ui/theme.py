"""Colours, fonts and the light/dark palettes of the app."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

from workbench.core.connections.profiles import Environment
from workbench.core.model import Level


class Theme(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


LEVEL_COLOURS = {Level.ERROR: "#d32f2f", Level.WARN: "#ef8f00", Level.INFO: "#1e88e5"}
LEVEL_LABELS = {Level.ERROR: "Error", Level.WARN: "Warning", Level.INFO: "Info"}
ENVIRONMENT_COLOURS = {
    Environment.DEV: "#2e7d32",
    Environment.STAGING: "#ef8f00",
    Environment.PRODUCTION: "#c62828",
}
CATEGORY_LABELS = {
    "security": "Security",
    "performance": "Performance",
    "integrity": "Integrity",
    "reliability": "Reliability",
    "maintenance": "Maintenance",
    "migrations": "Migrations",
}
ACCENT = "#3f6fd8"

_icons: dict[str, QIcon] = {}


def dot_icon(colour: str, diameter: int = 10) -> QIcon:
    """A filled circle, cached per colour (QApplication must exist)."""
    key = f"{colour}:{diameter}"
    icon = _icons.get(key)
    if icon is None:
        icon = QIcon()
        for scale in (1, 2):
            size = (diameter + 4) * scale
            pix = QPixmap(QSize(size, size))
            pix.setDevicePixelRatio(scale)
            pix.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pix)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawEllipse(2, 2, diameter, diameter)
            painter.end()
            icon.addPixmap(pix)
        _icons[key] = icon
    return icon


def level_icon(level: Level) -> QIcon:
    return dot_icon(LEVEL_COLOURS[level])


def monospace_font(point_size: int | None = None) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if point_size:
        font.setPointSize(point_size)
    return font


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def _light_palette() -> QPalette:
    pal = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#f4f5f7",
        QPalette.ColorRole.WindowText: "#1d2330",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f6f8fb",
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1d2330",
        QPalette.ColorRole.PlaceholderText: "#8a93a3",
        QPalette.ColorRole.Text: "#1d2330",
        QPalette.ColorRole.Button: "#f9fafb",
        QPalette.ColorRole.ButtonText: "#1d2330",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#d6e2fb",
        QPalette.ColorRole.HighlightedText: "#0f1a33",
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.Mid: "#c9ced6",
        QPalette.ColorRole.Midlight: "#e3e6eb",
        QPalette.ColorRole.Dark: "#9aa3b0",
        QPalette.ColorRole.Light: "#ffffff",
        QPalette.ColorRole.Shadow: "#7c8593",
    }
    for role, colour in colours.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#9aa3b0"))
    return pal


def _dark_palette() -> QPalette:
    pal = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#1f2229",
        QPalette.ColorRole.WindowText: "#e3e6eb",
        QPalette.ColorRole.Base: "#171a20",
        QPalette.ColorRole.AlternateBase: "#1c2027",
        QPalette.ColorRole.ToolTipBase: "#2a2e37",
        QPalette.ColorRole.ToolTipText: "#e3e6eb",
        QPalette.ColorRole.PlaceholderText: "#7d8593",
        QPalette.ColorRole.Text: "#e3e6eb",
        QPalette.ColorRole.Button: "#2a2e37",
        QPalette.ColorRole.ButtonText: "#e3e6eb",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#2f4a80",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#7fa5ff",
        QPalette.ColorRole.Mid: "#3a3f4a",
        QPalette.ColorRole.Midlight: "#323742",
        QPalette.ColorRole.Dark: "#121419",
        QPalette.ColorRole.Light: "#3d4350",
        QPalette.ColorRole.Shadow: "#08090b",
    }
    for role, colour in colours.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7280"))
    return pal


def _stylesheet(dark: bool) -> str:
    border = "#3a3f4a" if dark else "#d5d9e0"
    muted = "#9aa3b0" if dark else "#5f6b7a"
    header_bg = "#252932" if dark else "#eef0f4"
    card = "#1b1e25" if dark else "#ffffff"
    return f"""
    QToolBar {{ border: none; spacing: 6px; padding: 4px 6px; }}
    QToolBar QToolButton {{ padding: 4px 8px; border-radius: 4px; }}
    QToolBar QToolButton:hover {{ background: {header_bg}; }}
    QSplitter::handle {{ background: transparent; }}
    QTreeView, QListView, QTableView, QTextBrowser, QPlainTextEdit {{
        border: 1px solid {border}; border-radius: 4px;
    }}
    QHeaderView::section {{
        background: {header_bg}; border: none; border-right: 1px solid {border};
        border-bottom: 1px solid {border}; padding: 4px 6px; font-weight: 600;
    }}
    QTabWidget::pane {{ border: 1px solid {border}; border-radius: 4px; top: -1px; }}
    QTabBar::tab {{ padding: 6px 14px; border: 1px solid transparent; }}
    QTabBar::tab:selected {{ border-bottom: 2px solid {ACCENT}; font-weight: 600; }}
    QLabel[role="muted"] {{ color: {muted}; }}
    QLabel[role="heading"] {{ font-size: 15px; font-weight: 600; }}
    QLabel[role="section"] {{ font-weight: 600; color: {muted}; text-transform: uppercase; }}
    QFrame[role="card"] {{ background: {card}; border: 1px solid {border}; border-radius: 6px; }}
    QStatusBar QLabel {{ padding: 0 6px; }}
    QPushButton[role="primary"] {{
        background: {ACCENT}; color: white; border: none; border-radius: 4px; padding: 6px 14px;
        font-weight: 600;
    }}
    QPushButton[role="primary"]:disabled {{ background: {border}; color: {muted}; }}
    """


def apply_theme(app: QApplication, theme: Theme) -> None:
    """Fusion style with our palette; SYSTEM follows the platform's colour scheme."""
    app.setStyle("Fusion")
    dark = theme is Theme.DARK
    if theme is Theme.SYSTEM:
        hints = app.styleHints()
        dark = hints.colorScheme() == Qt.ColorScheme.Dark
    app.setPalette(_dark_palette() if dark else _light_palette())
    app.setStyleSheet(_stylesheet(dark))
