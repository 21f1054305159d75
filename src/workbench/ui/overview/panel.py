"""The overview tab: pyqtgraph charts of the findings and of the database, each exportable as PNG."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.checks import AuditResult
from workbench.core.model import Level
from workbench.ui.overview import charts
from workbench.ui.theme import ACCENT, CATEGORY_LABELS, LEVEL_COLOURS, LEVEL_LABELS

_MAX_LABEL = 30


def _short(label: str) -> str:
    return label if len(label) <= _MAX_LABEL else "…" + label[-(_MAX_LABEL - 1) :]


def _count_ticks(largest: float) -> list[tuple[float, str]]:
    """Whole-number ticks, 1, 2 or 5 × 10^n apart, at most about six of them, for an axis of counts."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if largest / step <= 6:
                return [(float(v), f"{v:,}") for v in range(0, int(largest) + step, step)]
        magnitude *= 10


def _legend() -> str:
    return " &nbsp; ".join(
        f"<span style='color:{LEVEL_COLOURS[level]}'>■</span> {LEVEL_LABELS[level].lower()}" for level in Level
    )


class ChartCard(QFrame):
    """A titled chart with an "Export PNG…" button."""

    def __init__(self, key: str, title: str, subtitle: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.setProperty("role", "card")
        self.setObjectName(f"chart_{key}")
        self.title = QLabel(title)
        self.title.setProperty("role", "heading")
        self.subtitle = QLabel(subtitle)
        self.subtitle.setProperty("role", "muted")
        self.subtitle.setTextFormat(Qt.TextFormat.RichText)
        self.export_button = QToolButton()
        self.export_button.setText("Export PNG…")
        self.export_button.setToolTip("Save this chart as a PNG image")
        self.export_button.clicked.connect(self._export_clicked)
        self.plot = pg.PlotWidget()
        self.plot.setFixedHeight(230)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addLayout(head)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.plot, 1)
        self._message: pg.TextItem | None = None
        self.apply_palette()

    def apply_palette(self) -> None:
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        grid = QColor(text)
        grid.setAlpha(60)
        self.plot.setBackground(base)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setTextPen(pg.mkPen(text))
            axis.setPen(pg.mkPen(grid))

    def reset(self) -> pg.PlotItem:
        item: pg.PlotItem = self.plot.getPlotItem()
        item.clear()
        item.setLabel("bottom", "")
        item.setLabel("left", "")
        item.showGrid(x=False, y=False)
        for name in ("left", "bottom"):
            item.getAxis(name).setTicks(None)
            item.getAxis(name).setLogMode(False)
        item.setLogMode(False, False)
        self._message = None
        return item

    def show_message(self, text: str) -> None:
        item = self.reset()
        for name in ("left", "bottom"):
            item.getAxis(name).setTicks([[]])
        message = pg.TextItem(text, color=self.palette().color(QPalette.ColorRole.PlaceholderText), anchor=(0.5, 0.5))
        item.addItem(message)
        message.setPos(0.5, 0.5)
        item.setXRange(0, 1, padding=0)
        item.setYRange(0, 1, padding=0)
        self._message = message

    @property
    def message(self) -> str | None:
        return self._message.textItem.toPlainText() if self._message is not None else None

    def export_png(self, path: Path) -> Path:
        exporter = ImageExporter(self.plot.getPlotItem())
        exporter.parameters()["width"] = max(800, int(self.plot.width() * 2))
        exporter.export(str(path))
        return path

    def _export_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export chart", f"{self.key}.png", "PNG image (*.png)")
        if name:
            self.export_png(Path(name if name.lower().endswith(".png") else name + ".png"))


class OverviewPanel(QWidget):
    """A summary line and six charts; `show_result` draws them from an audit result."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        pg.setConfigOptions(antialias=True)
        self.summary = QLabel("Run an audit to see an overview of the database.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.cards = {
            "levels": ChartCard("levels", "Findings by level"),
            "categories": ChartCard("categories", "Findings by category", _legend()),
            "tables": ChartCard("tables", "Largest tables", "total size, with indexes and TOAST"),
            "indexes": ChartCard("indexes", "Largest indexes"),
            "index_usage": ChartCard(
                "index_usage", "Index usage", "scans since the statistics reset vs size; red: never scanned"
            ),
            "dead_tuples": ChartCard("dead_tuples", "Dead tuples", "share of dead rows per table"),
        }
        grid = QGridLayout()
        grid.setSpacing(12)
        for i, card in enumerate(self.cards.values()):
            grid.addWidget(card, i // 2, i % 2)
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(4, 8, 4, 8)
        content_layout.addWidget(self.summary)
        content_layout.addLayout(grid)
        content_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self._result: AuditResult | None = None
        self._pending: list[Callable[[], None]] = []
        self._drawn = False
        for card in self.cards.values():
            card.show_message("No audit yet")

    def apply_palette(self) -> None:
        for card in self.cards.values():
            card.apply_palette()

    def clear(self) -> None:
        self._result = None
        self._pending = []
        self._drawn = False
        self.summary.setText("Run an audit to see an overview of the database.")
        for card in self.cards.values():
            card.show_message("No audit yet")

    # Charts are drawn when the tab is shown, one per event-loop turn, so a finished audit never blocks the
    # window for the time of six charts.
    def set_result(self, result: AuditResult | None) -> None:
        self._result = result
        self._drawn = False
        if result is None:
            self.clear()
        elif self.isVisible():
            self._schedule()

    @property
    def is_drawn(self) -> bool:
        return self._drawn

    def redraw(self) -> None:
        self._drawn = False
        if self._result is not None and self.isVisible():
            self._schedule()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._result is not None and not self._drawn:
            self._schedule()

    def _schedule(self) -> None:
        result = self._result
        if result is None or self._pending:
            return
        self._pending = [
            lambda: self._summary(result),
            lambda: self._levels(result.findings),
            lambda: self._categories(result.findings),
            lambda: self._sizes(self.cards["tables"], charts.largest_tables(result.snapshot), "No user tables."),
            lambda: self._sizes(self.cards["indexes"], charts.largest_indexes(result.snapshot), "No user indexes."),
            lambda: self._index_usage(charts.index_usage(result.snapshot)),
            lambda: self._dead(charts.dead_tuple_ratios(result.snapshot)),
        ]
        QTimer.singleShot(0, self, self._step)

    def _step(self) -> None:
        if not self._pending:
            return
        self._pending.pop(0)()
        if self._pending:
            QTimer.singleShot(0, self, self._step)
        else:
            self._drawn = True

    def show_result(self, result: AuditResult) -> None:
        """Draw everything now (for exports and screenshots)."""
        self._result = result
        self._pending = []
        self._summary(result)
        self._levels(result.findings)
        self._categories(result.findings)
        snap = result.snapshot
        self._sizes(self.cards["tables"], charts.largest_tables(snap), "No user tables.")
        self._sizes(self.cards["indexes"], charts.largest_indexes(snap), "No user indexes.")
        self._index_usage(charts.index_usage(snap))
        self._dead(charts.dead_tuple_ratios(snap))
        self._drawn = True

    def _summary(self, result: AuditResult) -> None:
        snap = result.snapshot
        skipped = "".join(
            f"<li><code>{html.escape(s.check)}</code>: {html.escape(s.reason)}</li>" for s in result.checks_skipped
        )
        user_tables = sum(
            1
            for r in snap.relations
            if r.kind in "rp" and not r.schema.startswith("pg_") and r.schema != "information_schema"
        )
        self.summary.setText(
            f"<b>{html.escape(snap.database)}</b> · PostgreSQL {html.escape(snap.server_version)} · "
            f"{user_tables:,} tables, {len(snap.indexes):,} indexes, {len(snap.policies):,} policies, "
            f"{len(snap.functions):,} functions · {len(result.checks_run)} checks run"
            + (f", {len(result.checks_skipped)} skipped:<ul style='margin:2px'>{skipped}</ul>" if skipped else ".")
        )

    # -- charts ----------------------------------------------------------------------------------------------
    def _levels(self, findings: tuple[object, ...]) -> None:
        card = self.cards["levels"]
        bars = charts.findings_by_level(findings)  # type: ignore[arg-type]
        if not any(bars.values):
            card.show_message("No findings")
            return
        item = card.reset()
        levels = [Level(v) for v in bars.labels]
        item.addItem(
            pg.BarGraphItem(
                x=list(range(len(levels))),
                height=list(bars.values),
                width=0.6,
                brushes=[pg.mkBrush(LEVEL_COLOURS[lv]) for lv in levels],
                pens=[pg.mkPen(None)] * len(levels),
            )
        )
        for i, value in enumerate(bars.values):
            label = pg.TextItem(
                f"{int(value):,}", color=card.palette().color(QPalette.ColorRole.Text), anchor=(0.5, 1.0)
            )
            label.setPos(i, value)
            item.addItem(label)
        item.getAxis("bottom").setTicks([[(i, LEVEL_LABELS[lv]) for i, lv in enumerate(levels)]])
        item.getAxis("left").setTicks([_count_ticks(max(bars.values))])
        item.setYRange(0, max(bars.values) * 1.2, padding=0)
        item.setXRange(-0.6, len(levels) - 0.4, padding=0)

    def _categories(self, findings: tuple[object, ...]) -> None:
        card = self.cards["categories"]
        stacks = charts.findings_by_category(findings)  # type: ignore[arg-type]
        labels = stacks[Level.ERROR].labels
        if not labels:
            card.show_message("No findings")
            return
        item = card.reset()
        n = len(labels)
        ys = [n - 1 - i for i in range(n)]  # first category at the top
        left = [0.0] * n
        for level in (Level.ERROR, Level.WARN, Level.INFO):
            values = stacks[level].values
            item.addItem(
                pg.BarGraphItem(
                    x0=left,
                    y=ys,
                    width=list(values),
                    height=0.6,
                    brush=pg.mkBrush(LEVEL_COLOURS[level]),
                    pen=pg.mkPen(None),
                )
            )
            left = [a + b for a, b in zip(left, values, strict=True)]
        item.getAxis("left").setTicks([[(y, CATEGORY_LABELS.get(lab, lab)) for y, lab in zip(ys, labels, strict=True)]])
        item.getAxis("bottom").setTicks([_count_ticks(max(left))])
        item.setXRange(0, max(left) * 1.1, padding=0)
        item.setYRange(-0.6, n - 0.4, padding=0)
        item.setLabel("bottom", "findings")

    def _sizes(self, card: ChartCard, bars: charts.Bars, empty: str) -> None:
        if not bars.labels or not any(bars.values):
            card.show_message(empty)
            return
        unit, divisor = charts.byte_unit(max(bars.values))
        self._hbars(card, bars.labels, [v / divisor for v in bars.values], ACCENT)
        card.plot.getPlotItem().setLabel("bottom", unit)

    def _hbars(self, card: ChartCard, labels: tuple[str, ...], values: list[float], colour: str | list[str]) -> None:
        item = card.reset()
        n = len(labels)
        ys = [n - 1 - i for i in range(n)]
        brushes = [pg.mkBrush(c) for c in colour] if isinstance(colour, list) else None
        bar = pg.BarGraphItem(
            x0=[0.0] * n,
            y=ys,
            width=values,
            height=0.65,
            pen=pg.mkPen(None),
            **({"brushes": brushes} if brushes else {"brush": pg.mkBrush(colour)}),
        )
        item.addItem(bar)
        item.getAxis("left").setTicks([[(y, _short(lab)) for y, lab in zip(ys, labels, strict=True)]])
        item.setXRange(0, max(values) * 1.08 if max(values) > 0 else 1, padding=0)
        item.setYRange(-0.6, n - 0.4, padding=0)

    def _index_usage(self, points: charts.Points) -> None:
        card = self.cards["index_usage"]
        if not points.labels:
            card.show_message("No user indexes.")
            return
        item = card.reset()
        unit, divisor = charts.byte_unit(max(points.x) if points.x else 0)
        xs = [x / divisor for x in points.x]
        ys = list(points.y)
        unused = QColor(LEVEL_COLOURS[Level.ERROR])
        used = QColor(ACCENT)
        spots = pg.ScatterPlotItem(
            x=xs,
            y=ys,
            size=9,
            pen=pg.mkPen(None),
            brush=[pg.mkBrush(unused if y == 0 else used) for y in ys],
            data=list(points.labels),
            hoverable=True,
            tip=lambda x, y, data: f"{data}\n{x:,.3g} {unit}, {int(y):,} scans",
        )
        item.addItem(spots)
        item.setLabel("bottom", f"index size ({unit})")
        item.setLabel("left", "index scans")
        item.showGrid(x=True, y=True, alpha=0.2)
        top = max(ys) if ys else 1
        right = max(xs) if xs else 1
        item.setXRange(0, right * 1.1 or 1, padding=0)
        item.setYRange(-top * 0.05 - 0.5, top * 1.1 + 1, padding=0)

    def _dead(self, bars: charts.Bars) -> None:
        card = self.cards["dead_tuples"]
        if not bars.labels:
            card.show_message("No dead rows recorded (or no statistics yet).")
            return
        colours = [
            LEVEL_COLOURS[Level.ERROR] if v >= 20 else LEVEL_COLOURS[Level.WARN] if v >= 10 else ACCENT
            for v in bars.values
        ]
        self._hbars(card, bars.labels, list(bars.values), colours)
        card.plot.getPlotItem().setLabel("bottom", "% dead rows")
