"""The report's charts, drawn with pyqtgraph and exported as images: findings by level, findings by category.

pyqtgraph draws on a QGraphicsScene, which needs a QApplication; `workbench.ui.report.pdf.ensure_app` makes one
(offscreen when there is no display) before these are called.
"""

from __future__ import annotations

from collections import Counter

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QImage

from workbench.core.model import Category, Level
from workbench.core.report.md_text import CATEGORY_TITLES
from workbench.core.report.model import ReportModel

LEVEL_COLOURS = {Level.ERROR: "#d32f2f", Level.WARN: "#ef8f00", Level.INFO: "#1e88e5"}
LEVEL_NAMES = {Level.ERROR: "Error", Level.WARN: "Warning", Level.INFO: "Info"}
INK = "#1d2330"
GRID = "#d7dbe2"
CHART_SIZE = (330, 210)  # logical pixels; exported at SCALE times that
SCALE = 4


def _plot() -> tuple[pg.PlotWidget, pg.PlotItem]:
    """An empty chart of CHART_SIZE; its title is the caption the document sets above the image. The widget is
    "shown" without ever reaching the screen, so that its layout takes the size."""
    widget = pg.PlotWidget(background="w")
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    widget.resize(*CHART_SIZE)
    widget.show()
    item = widget.getPlotItem()
    font = QFont("DejaVu Sans")
    font.setPointSizeF(8)
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.setPen(pg.mkPen(INK, width=1))
        axis.setTextPen(pg.mkPen(INK))
        axis.setStyle(tickFont=font, tickLength=-4)
    item.showGrid(x=False, y=True, alpha=0.25)
    item.setMenuEnabled(False)
    item.hideButtons()
    return widget, item


def _export(widget: pg.PlotWidget, item: pg.PlotItem) -> QImage:
    item.layout.activate()  # apply pending layout changes (axis widths) before drawing
    exporter = ImageExporter(item)
    exporter.parameters()["width"] = CHART_SIZE[0] * SCALE
    exporter.parameters()["background"] = QColor("white")
    exporter.parameters()["antialias"] = True
    image = exporter.export(toBytes=True)
    widget.close()
    widget.deleteLater()
    if not isinstance(image, QImage):  # pragma: no cover - pyqtgraph's contract
        raise TypeError("pyqtgraph did not return an image")
    return image


def findings_by_level(model: ReportModel) -> QImage:
    counts = Counter(e.finding.level for e in model.entries)
    levels = (Level.ERROR, Level.WARN, Level.INFO)
    widget, item = _plot()
    for i, level in enumerate(levels):
        value = counts.get(level, 0)
        item.addItem(
            pg.BarGraphItem(x=[i], height=[value], width=0.6, brush=QColor(LEVEL_COLOURS[level]), pen=pg.mkPen(None))
        )
        label = pg.TextItem(str(value), color=INK, anchor=(0.5, 1.0))
        label.setFont(QFont("DejaVu Sans", 8))
        label.setPos(i, value)
        item.addItem(label)
    item.getAxis("bottom").setTicks([[(i, LEVEL_NAMES[lv]) for i, lv in enumerate(levels)]])
    top = max([counts.get(lv, 0) for lv in levels] + [1])
    item.setXRange(-0.6, len(levels) - 0.4, padding=0)
    item.setYRange(0, top * 1.18, padding=0)
    return _export(widget, item)


def findings_by_category(model: ReportModel) -> QImage:
    """Horizontal stacked bars: one per category with findings (first at the top), split by level."""
    counts = Counter((e.finding.category, e.finding.level) for e in model.entries)
    categories = [c for c in Category if any(counts.get((c, lv), 0) for lv in Level)]
    widget, item = _plot()
    item.showGrid(x=True, y=False, alpha=0.25)
    rows = list(range(len(categories)))[::-1]  # the first category on the top row
    base = [0.0] * len(categories)
    for level in (Level.ERROR, Level.WARN, Level.INFO):
        widths = [float(counts.get((c, level), 0)) for c in categories]
        bar = pg.BarGraphItem(
            x0=list(base), y=rows, width=widths, height=0.6, brush=QColor(LEVEL_COLOURS[level]), pen=pg.mkPen(None)
        )
        item.addItem(bar)
        base = [b + w for b, w in zip(base, widths, strict=True)]
    for row, total in zip(rows, base, strict=True):
        label = pg.TextItem(f" {int(total)}", color=INK, anchor=(0.0, 0.5))
        label.setFont(QFont("DejaVu Sans", 8))
        label.setPos(total, row)
        item.addItem(label)
    left = item.getAxis("left")
    left.setTicks([[(r, CATEGORY_TITLES[c]) for r, c in zip(rows, categories, strict=True)]])
    left.setWidth(78)
    item.setYRange(-0.6, max(len(categories), 1) - 0.4, padding=0)
    item.setXRange(0, max([*base, 1.0]) * 1.15, padding=0)
    return _export(widget, item)
