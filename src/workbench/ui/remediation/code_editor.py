"""An editable SQL editor: the app's highlighter, line numbers, marked lines, "go to line"."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QResizeEvent, QTextCursor, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from workbench.ui.sql_view import SqlHighlighter
from workbench.ui.theme import is_dark, monospace_font


class _Gutter(QWidget):
    def __init__(self, editor: CodeEditor):
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.editor.paint_gutter(event)


class CodeEditor(QPlainTextEdit):
    """SQL with highlighting and line numbers; `mark_lines` tints lines (e.g. statements that failed)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFont(monospace_font())
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self.highlighter = SqlHighlighter(self.document())
        self.gutter = _Gutter(self)
        self._marks: dict[int, str] = {}
        self.blockCountChanged.connect(lambda _count: self._fit_gutter())
        self.updateRequest.connect(self._update_gutter)
        self.cursorPositionChanged.connect(self._refresh_selections)
        self._fit_gutter()

    # -- gutter --------------------------------------------------------------------------------------------------
    def gutter_width(self) -> int:
        digits = max(len(str(max(1, self.blockCount()))), 3)
        return 14 + self.fontMetrics().horizontalAdvance("9") * digits

    def _fit_gutter(self) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())
        if rect.contains(self.viewport().rect()):
            self._fit_gutter()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the app switched between light and dark
            self.highlighter.set_dark(is_dark())
            self.gutter.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        area = self.contentsRect()
        self.gutter.setGeometry(QRect(area.left(), area.top(), self.gutter_width(), area.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        dark = is_dark()
        painter = QPainter(self.gutter)
        painter.fillRect(event.rect(), QColor("#20242c" if dark else "#f2f4f7"))
        normal = QColor("#6b7385" if dark else "#9aa3b0")
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        height = self.fontMetrics().height()
        width = self.gutter.width() - 6
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                line = number + 1
                mark = self._marks.get(line)
                font = painter.font()
                font.setBold(mark is not None)
                painter.setFont(font)
                painter.setPen(QColor(mark) if mark else normal)
                painter.drawText(0, top, width, height, Qt.AlignmentFlag.AlignRight, str(line))
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            number += 1
        painter.end()

    # -- marks and navigation ------------------------------------------------------------------------------------
    def mark_lines(self, marks: Mapping[int, str]) -> None:
        """Tint these 1-based lines with their colour (an empty mapping clears the marks)."""
        self._marks = dict(marks)
        self._refresh_selections()
        self.gutter.update()

    @property
    def marks(self) -> dict[int, str]:
        return dict(self._marks)

    def _refresh_selections(self) -> None:
        selections: list[QTextEdit.ExtraSelection] = []
        for line, colour in sorted(self._marks.items()):
            block = self.document().findBlockByNumber(line - 1)
            if not block.isValid():
                continue
            tint = QColor(colour)
            tint.setAlpha(60)
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(tint)  # type: ignore[attr-defined]
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)  # type: ignore[attr-defined]
            selection.cursor = QTextCursor(block)  # type: ignore[attr-defined]
            selections.append(selection)
        current = QTextEdit.ExtraSelection()
        accent = QColor("#3f6fd8")
        accent.setAlpha(28)
        current.format.setBackground(accent)  # type: ignore[attr-defined]
        current.format.setProperty(QTextFormat.Property.FullWidthSelection, True)  # type: ignore[attr-defined]
        cursor = self.textCursor()
        cursor.clearSelection()
        current.cursor = cursor  # type: ignore[attr-defined]
        selections.append(current)
        self.setExtraSelections(selections)

    def goto_line(self, line: int) -> None:
        """Put the cursor at the start of a 1-based line, scrolled into the middle of the view, and focus."""
        block = self.document().findBlockByNumber(max(line, 1) - 1)
        if not block.isValid():
            block = self.document().lastBlock()
        cursor = QTextCursor(block)
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def current_line(self) -> int:
        return self.textCursor().blockNumber() + 1
