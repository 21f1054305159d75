"""Read-only SQL with syntax highlighting and a Copy button."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QFont, QGuiApplication, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from workbench.ui.theme import is_dark, monospace_font

_KEYWORDS_TEXT = """
add all alter analyze and any as asc authorization begin between by cascade case cast check collate column
commit concurrently constraint create cross current_role current_user default deferrable definer delete desc
distinct do drop each else enable disable end exception execute exists extension false for force foreign
from full function grant group having if ilike immutable in index inherit inner insert instead into invoker
is join key language lateral leading left like limit local materialized not nothing notify null nulls of on
only or order outer over owner partition permissive perform plpgsql policy primary procedure public raise
recursive references refresh rename replace restrict restrictive return returns revoke right role rollback
row rows rule schema security select sequence session_user set setof stable strict table tablespace temp
temporary then to trigger true truncate union unique update usage using vacuum valid validate values view
volatile when where window with within level declare loop while elsif found
"""
KEYWORDS = frozenset(_KEYWORDS_TEXT.split())
_TYPES_TEXT = """
bigint bigserial bit boolean bool bytea char character date decimal double float4 float8 int int2 int4 int8
integer interval json jsonb money numeric oid precision real regclass regproc serial smallint text time
timestamp timestamptz tsvector uuid varchar varying void zone trigger record
"""
TYPES = frozenset(_TYPES_TEXT.split())

_WORD = re.compile(r"\b[A-Za-z_][A-Za-z0-9_$]*\b")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_STRING = re.compile(r"[EeBbXx]?'(?:[^']|'')*'")
_QUOTED_IDENT = re.compile(r'"(?:[^"]|"")*"')
_DOLLAR = re.compile(r"\$[A-Za-z_]*\$")


class SqlHighlighter(QSyntaxHighlighter):
    """PostgreSQL highlighting: keywords, types, strings, quoted identifiers, numbers, comments, $$ quotes.

    Block comments may span lines (block state 1). Dollar-quoted bodies are code (function bodies), so only
    the quote tags are highlighted.
    """

    IN_COMMENT = 1

    def __init__(self, document: QTextDocument, *, dark: bool | None = None):
        super().__init__(document)
        self.set_dark(is_dark() if dark is None else dark)

    def set_dark(self, dark: bool) -> None:
        def fmt(colour: str, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(colour))
            if bold:
                f.setFontWeight(QFont.Weight.Bold)
            f.setFontItalic(italic)
            return f

        if dark:
            self.keyword = fmt("#c792ea", bold=True)
            self.type = fmt("#82aaff")
            self.string = fmt("#c3e88d")
            self.ident = fmt("#ffcb6b")
            self.number = fmt("#f78c6c")
            self.comment = fmt("#7f8799", italic=True)
            self.dollar = fmt("#89ddff", bold=True)
        else:
            self.keyword = fmt("#7b2fb5", bold=True)
            self.type = fmt("#1d5fbf")
            self.string = fmt("#2e7d32")
            self.ident = fmt("#8a5a00")
            self.number = fmt("#b35c00")
            self.comment = fmt("#7a8391", italic=True)
            self.dollar = fmt("#00838f", bold=True)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        for m in _WORD.finditer(text):
            word = m.group().lower()
            if word in KEYWORDS:
                self.setFormat(m.start(), m.end() - m.start(), self.keyword)
            elif word in TYPES:
                self.setFormat(m.start(), m.end() - m.start(), self.type)
        for m in _NUMBER.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), self.number)
        for m in _DOLLAR.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), self.dollar)
        for m in _QUOTED_IDENT.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), self.ident)
        for m in _STRING.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), self.string)
        self._comments(text)

    def _comments(self, text: str) -> None:
        self.setCurrentBlockState(0)
        start = 0 if self.previousBlockState() == self.IN_COMMENT else -1
        pos = 0
        while True:
            if start < 0:
                line = _first_outside_strings(text, "--", pos)
                block = _first_outside_strings(text, "/*", pos)
                if line >= 0 and (block < 0 or line < block):
                    self.setFormat(line, len(text) - line, self.comment)
                    return
                if block < 0:
                    return
                start = block
                search_from = block + 2
            else:
                search_from = start
            end = text.find("*/", search_from)
            if end < 0:
                self.setFormat(start, len(text) - start, self.comment)
                self.setCurrentBlockState(self.IN_COMMENT)
                return
            self.setFormat(start, end + 2 - start, self.comment)
            pos = end + 2
            start = -1


def _first_outside_strings(text: str, token: str, pos: int) -> int:
    """Index of `token` at or after `pos` that is not inside a '…' string, else -1."""
    in_string = False
    i = pos
    while i < len(text):
        ch = text[i]
        if ch == "'":
            in_string = not in_string
        elif not in_string and text.startswith(token, i):
            return i
        i += 1
    return -1


class SqlView(QWidget):
    """Read-only, highlighted SQL with a one-line hint and a Copy button (the whole text goes to the clipboard)."""

    def __init__(self, hint: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.hint = QLabel(hint)
        self.hint.setProperty("role", "muted")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the SQL to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.editor = QPlainTextEdit()
        self.editor.setReadOnly(True)
        self.editor.setFont(monospace_font())
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.editor.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.highlighter = SqlHighlighter(self.editor.document())
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.hint)
        head.addStretch(1)
        head.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.editor, 1)
        self._sql = ""

    def set_sql(self, sql: str | None, *, placeholder: str = "") -> None:
        self._sql = sql or ""
        self.editor.setPlainText(self._sql)
        self.editor.setPlaceholderText(placeholder)
        self.copy_button.setEnabled(bool(self._sql))

    def sql(self) -> str:
        return self._sql

    def copy(self) -> None:
        if self._sql:
            QGuiApplication.clipboard().setText(self._sql)
            self.copy_button.setText("Copied")
            QTimer.singleShot(1200, self.copy_button, lambda: self.copy_button.setText("Copy"))
