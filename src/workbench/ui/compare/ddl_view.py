"""Two read-only SQL panes side by side (A and B), lines aligned, the changed lines and characters highlighted.

The rows come from `ddl.align`: equal lines face each other, changed lines are paired (their differing characters
tinted darker), and a line one side lacks faces a hatched filler row. Both panes scroll together. When the
object exists on one side only, that side shows its whole definition tinted and the other side says it is absent.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QPainter, QPaintEvent, QResizeEvent, QTextCursor
from PySide6.QtGui import QTextFormat as Fmt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.compare.ddl import Row, align
from workbench.ui.sql_view import SqlHighlighter
from workbench.ui.theme import is_dark, monospace_font

# (line background, changed characters) per side, light and dark.
_COLOURS = {
    (False, "a"): ("#fde8e8", "#f6b9b9"),
    (False, "b"): ("#e3f6e5", "#a9e2b0"),
    (True, "a"): ("#4a2328", "#7a3039"),
    (True, "b"): ("#1f4229", "#2d6b3d"),
}
_FILLER = {False: "#eef0f3", True: "#23262d"}
Spans = tuple[tuple[int, int], ...]


class _Gutter(QWidget):
    def __init__(self, pane: DiffPane):
        super().__init__(pane)
        self.pane = pane

    def sizeHint(self) -> QSize:
        return QSize(self.pane.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.pane.paint_gutter(event)


class DiffPane(QPlainTextEdit):
    """One side: highlighted SQL, line numbers of the real lines (filler rows have none), tinted rows."""

    def __init__(self, side: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.side = side
        self.setReadOnly(True)
        self.setFont(monospace_font())
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.highlighter = SqlHighlighter(self.document())
        self.gutter = _Gutter(self)
        self.numbers: list[int | None] = []  # per block: the line number in the real definition, None for filler
        self.marks: list[str] = []  # per block: the row tag
        self.updateRequest.connect(self._update_gutter)
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def gutter_width(self) -> int:
        digits = max(len(str(max((n for n in self.numbers if n), default=1))), 2)
        return 16 + self.fontMetrics().horizontalAdvance("9") * digits

    def _update_gutter(self, rect: object, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        area = self.contentsRect()
        self.gutter.setGeometry(area.left(), area.top(), self.gutter_width(), area.height())

    def paint_gutter(self, event: QPaintEvent) -> None:
        dark = is_dark()
        painter = QPainter(self.gutter)
        painter.fillRect(event.rect(), QColor("#20242c" if dark else "#f2f4f7"))
        painter.setPen(QColor("#6b7385" if dark else "#9aa3b0"))
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        width = self.gutter.width() - 6
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            number = block.blockNumber()
            if block.isVisible() and bottom >= event.rect().top() and number < len(self.numbers):
                line = self.numbers[number]
                tag = self.marks[number]
                if line is not None:
                    painter.drawText(0, top, width, height, Qt.AlignmentFlag.AlignRight, str(line))
                if tag in ("changed", "removed", "added", "only"):
                    painter.drawText(2, top, 10, height, Qt.AlignmentFlag.AlignLeft, "+" if self.side == "b" else "−")
            block = block.next()
            top = bottom
        painter.end()

    def show_rows(self, texts: list[str], numbers: list[int | None], marks: list[str], spans: list[Spans]) -> None:
        self.numbers, self.marks = numbers, marks
        self.setPlainText("\n".join(texts))
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)
        self.gutter.setGeometry(
            self.contentsRect().left(), self.contentsRect().top(), self.gutter_width(), self.contentsRect().height()
        )
        self._tint(spans)

    def _tint(self, spans: list[Spans]) -> None:
        dark = is_dark()
        line_colour, char_colour = _COLOURS[(dark, self.side)]
        selections: list[QTextEdit.ExtraSelection] = []
        doc = self.document()
        for number, tag in enumerate(self.marks):
            if tag == "equal":
                continue
            block = doc.findBlockByNumber(number)
            sel = QTextEdit.ExtraSelection()
            cursor = QTextCursor(block)
            sel.cursor = cursor  # type: ignore[attr-defined]
            fmt = sel.format  # type: ignore[attr-defined]
            if tag == "filler":
                brush = QBrush(QColor(_FILLER[dark]), Qt.BrushStyle.BDiagPattern)
                fmt.setBackground(brush)
            else:
                fmt.setBackground(QColor(line_colour))
            fmt.setProperty(Fmt.Property.FullWidthSelection, True)
            selections.append(sel)
            for start, length in spans[number] if number < len(spans) else ():
                char = QTextEdit.ExtraSelection()
                c = QTextCursor(block)
                c.setPosition(block.position() + start)
                c.setPosition(block.position() + start + length, QTextCursor.MoveMode.KeepAnchor)
                char.cursor = c  # type: ignore[attr-defined]
                char.format.setBackground(QColor(char_colour))  # type: ignore[attr-defined]
                selections.append(char)
        self.setExtraSelections(selections)

    def retint(self, spans: list[Spans]) -> None:
        self.highlighter.set_dark(is_dark())
        self._tint(spans)


class SideBySideDiff(QWidget):
    """Headers, two panes scrolling together, and a Copy button per side (copies the real definition)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.a_pane, self.b_pane = DiffPane("a"), DiffPane("b")
        self.a_pane.setObjectName("ddl_a")
        self.b_pane.setObjectName("ddl_b")
        self.a_title, self.b_title = QLabel("A"), QLabel("B")
        self.a_copy, self.b_copy = QPushButton("Copy"), QPushButton("Copy")
        self._texts: dict[str, str] = {"a": "", "b": ""}
        self._spans: dict[str, list[Spans]] = {"a": [], "b": []}
        self.rows: list[Row] = []
        columns = QHBoxLayout()
        columns.setContentsMargins(0, 0, 0, 0)
        columns.setSpacing(6)
        for side, title, pane, copy in (
            ("a", self.a_title, self.a_pane, self.a_copy),
            ("b", self.b_title, self.b_pane, self.b_copy),
        ):
            title.setTextFormat(Qt.TextFormat.RichText)
            title.setWordWrap(False)
            # A long name must not widen the window: the title is clipped, its full text is the tooltip.
            title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            copy.setToolTip("Copy this side's definition to the clipboard")
            copy.clicked.connect(lambda _checked=False, s=side: self.copy(s))
            head = QHBoxLayout()
            head.setContentsMargins(0, 0, 0, 0)
            head.addWidget(title, 1)
            head.addWidget(copy)
            column = QVBoxLayout()
            column.setSpacing(3)
            column.addLayout(head)
            column.addWidget(pane, 1)
            columns.addLayout(column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(columns, 1)
        self._syncing = False
        for one, other in ((self.a_pane, self.b_pane), (self.b_pane, self.a_pane)):
            one.verticalScrollBar().valueChanged.connect(lambda v, o=other: self._sync(o.verticalScrollBar(), v))
            one.horizontalScrollBar().valueChanged.connect(lambda v, o=other: self._sync(o.horizontalScrollBar(), v))
        self.clear()

    def _sync(self, bar: object, value: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            bar.setValue(value)  # type: ignore[attr-defined]
        finally:
            self._syncing = False

    def set_titles(self, a: str, b: str) -> None:
        self.a_title.setText(a)
        self.b_title.setText(b)
        self.a_title.setToolTip(a)
        self.b_title.setToolTip(b)

    def clear(self, message: str = "Select an object to compare its definitions.") -> None:
        self.rows = []
        self._texts = {"a": "", "b": ""}
        self._spans = {"a": [], "b": []}
        for pane in (self.a_pane, self.b_pane):
            pane.show_rows([], [], [], [])
            pane.setPlaceholderText(message)
        self.a_copy.setEnabled(False)
        self.b_copy.setEnabled(False)

    def show_definitions(self, a: str | None, b: str | None, *, a_missing: str = "", b_missing: str = "") -> None:
        """Show two definitions; None for a side that lacks the object (its pane shows `*_missing`)."""
        self._texts = {"a": a or "", "b": b or ""}
        self.a_copy.setEnabled(a is not None)
        self.b_copy.setEnabled(b is not None)
        self.a_pane.setPlaceholderText(a_missing)
        self.b_pane.setPlaceholderText(b_missing)
        if a is None or b is None:
            self.rows = []
            for side, text, pane in (("a", a, self.a_pane), ("b", b, self.b_pane)):
                lines = text.splitlines() if text is not None else []
                marks = ["only"] * len(lines)
                self._spans[side] = [()] * len(lines)
                pane.show_rows(lines, list(range(1, len(lines) + 1)), marks, self._spans[side])
            return
        self.rows = align(a, b)
        a_texts: list[str] = []
        b_texts: list[str] = []
        a_numbers: list[int | None] = []
        b_numbers: list[int | None] = []
        a_marks: list[str] = []
        b_marks: list[str] = []
        a_spans: list[Spans] = []
        b_spans: list[Spans] = []
        a_line = b_line = 0
        for row in self.rows:
            for text, texts, numbers, marks, spans, row_spans, counter in (
                (row.a, a_texts, a_numbers, a_marks, a_spans, row.a_spans, "a"),
                (row.b, b_texts, b_numbers, b_marks, b_spans, row.b_spans, "b"),
            ):
                texts.append(text if text is not None else "")
                if text is None:
                    numbers.append(None)
                    marks.append("filler")
                else:
                    if counter == "a":
                        a_line += 1
                        numbers.append(a_line)
                    else:
                        b_line += 1
                        numbers.append(b_line)
                    marks.append(row.tag)
                spans.append(row_spans)
        self._spans = {"a": a_spans, "b": b_spans}
        self.a_pane.show_rows(a_texts, a_numbers, a_marks, a_spans)
        self.b_pane.show_rows(b_texts, b_numbers, b_marks, b_spans)

    @property
    def changed_rows(self) -> int:
        return sum(1 for r in self.rows if r.tag != "equal")

    def text(self, side: str) -> str:
        return self._texts[side]

    def copy(self, side: str) -> None:
        if self._texts[side]:
            QGuiApplication.clipboard().setText(self._texts[side])

    def refresh_theme(self) -> None:
        self.a_pane.retint(self._spans["a"])
        self.b_pane.retint(self._spans["b"])
