"""Split a migration file into statements the way psql does, keeping each statement's position in the file.

A small lexer following PostgreSQL's scanner (``scan.l``) and psql's statement splitting (``psqlscan.l``):
string constants (``'…'`` with ``''``, ``E'…'`` with backslash escapes, ``B''``/``X''``/``N''``/``U&''``), quoted
identifiers, dollar quotes (``$tag$…$tag$``), ``--`` and nested ``/* */`` comments, parameters (``$1``). A
semicolon ends a statement outside parentheses and outside a ``BEGIN ATOMIC … END`` function body (psql's rule:
inside ``CREATE [OR REPLACE] FUNCTION|PROCEDURE``, ``BEGIN`` and ``CASE`` open a block and ``END`` closes it).

It is a lexer, not a parser: enough to find statement boundaries, the words of a statement and their offsets.
sqlglot's tokenizer was tried for this and rejected: it folds ``DO``, ``VACUUM``, ``REFRESH``, ``REINDEX``,
``LOCK`` and ``CALL`` statements into one opaque string token, its line numbers drift after a ``$1`` parameter,
and it splits ``U&"…"`` identifiers. Text that does not lex (an unterminated quote or comment) ends up in the
last statement, and the server reports the error with its position.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["LineIndex", "Statement", "Token", "split_statements", "tokenize"]

TokenKind = Literal["word", "ident", "string", "dollar", "number", "param", "op", "punct"]

_DOLLAR_TAG = re.compile(r"\$([^\W\d$][\w]*)?\$")
_PARAM = re.compile(r"\$\d+")
_NUMBER = re.compile(r"(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?")
_PUNCT = frozenset("();,[]")


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token; ``start``/``end`` are offsets in the file's text (end exclusive)."""

    kind: TokenKind
    text: str
    start: int
    end: int

    @property
    def word(self) -> str:
        """The upper-cased keyword or unquoted identifier ("" for any other token)."""
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str | None:
        """An identifier as the server folds it: unquoted lower-cased, quoted as written; else None."""
        if self.kind == "word":
            return self.text.lower()
        if self.kind == "ident":
            body = self.text[3:-1] if self.text[:2].upper() == "U&" else self.text[1:-1]
            return body.replace('""', '"')
        return None


class LineIndex:
    """Maps offsets in a text to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a file: its exact source text (without the closing semicolon) and where it starts."""

    text: str
    offset: int  # offset of the statement's first character in the file
    line: int  # 1-based line of the statement's first character
    tokens: tuple[Token, ...]  # offsets relative to the file

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(t.word for t in self.tokens)

    def line_at(self, position: int) -> int:
        """File line of a 1-based character position inside ``text`` (the server's error position)."""
        return self.line + self.text.count("\n", 0, max(position - 1, 0))

    def local(self, start: int, end: int) -> str:
        """Source text between two file offsets inside this statement."""
        return self.text[start - self.offset : end - self.offset]


def _ident_start(c: str) -> bool:
    return c.isalpha() or c == "_" or ord(c) >= 128


def _ident_part(c: str) -> bool:
    return c.isalnum() or c in "_$" or ord(c) >= 128


def _quoted_end(text: str, i: int, quote: str, backslash: bool) -> int:
    """End (exclusive) of a quoted token whose opening quote is at ``i``; len(text) when unterminated."""
    n = len(text)
    j = i + 1
    while j < n:
        c = text[j]
        if backslash and c == "\\":
            j += 2
            continue
        if c == quote:
            if j + 1 < n and text[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return n


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` (comments and whitespace dropped)."""
    tokens: list[Token] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if text.startswith("--", i):  # like the server's scanner, a comment ends at \n or \r
            ends = [k for k in (text.find("\n", i), text.find("\r", i)) if k >= 0]
            i = min(ends) + 1 if ends else n
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            i = j
            continue
        nxt = text[i + 1] if i + 1 < n else ""
        if c in "eE" and nxt == "'":
            end = _quoted_end(text, i + 1, "'", backslash=True)
            tokens.append(Token("string", text[i:end], i, end))
        elif c in "bBxXnN" and nxt == "'":
            end = _quoted_end(text, i + 1, "'", backslash=False)
            tokens.append(Token("string", text[i:end], i, end))
        elif c in "uU" and nxt == "&" and i + 2 < n and text[i + 2] in "'\"":
            quote = text[i + 2]
            end = _quoted_end(text, i + 2, quote, backslash=False)
            tokens.append(Token("string" if quote == "'" else "ident", text[i:end], i, end))
        elif c == "'":
            end = _quoted_end(text, i, "'", backslash=False)
            tokens.append(Token("string", text[i:end], i, end))
        elif c == '"':
            end = _quoted_end(text, i, '"', backslash=False)
            tokens.append(Token("ident", text[i:end], i, end))
        elif c == "$":
            tag = _DOLLAR_TAG.match(text, i)
            param = _PARAM.match(text, i)
            if tag is not None:
                close = text.find(tag.group(0), tag.end())
                end = n if close < 0 else close + len(tag.group(0))
                tokens.append(Token("dollar", text[i:end], i, end))
            elif param is not None:
                end = param.end()
                tokens.append(Token("param", text[i:end], i, end))
            else:
                end = i + 1
                tokens.append(Token("op", c, i, end))
        elif _ident_start(c):
            end = i + 1
            while end < n and _ident_part(text[end]):
                end += 1
            tokens.append(Token("word", text[i:end], i, end))
        elif c.isdigit() or (c == "." and nxt.isdigit()):
            match = _NUMBER.match(text, i)
            end = match.end() if match else i + 1
            tokens.append(Token("number", text[i:end], i, end))
        elif c in _PUNCT or c == ".":
            end = i + 1
            tokens.append(Token("punct", c, i, end))
        elif c == ":" and nxt == ":":
            end = i + 2
            tokens.append(Token("op", "::", i, end))
        else:
            end = i + 1
            tokens.append(Token("op", c, i, end))
        i = end
    return tokens


def _opens_function_body(words: list[str]) -> bool:
    """psql's test: the statement starts CREATE [OR REPLACE] FUNCTION|PROCEDURE."""
    if words[:1] != ["CREATE"] or len(words) < 2:
        return False
    if words[1] in ("FUNCTION", "PROCEDURE"):
        return True
    return words[1:3] == ["OR", "REPLACE"] and len(words) > 3 and words[3] in ("FUNCTION", "PROCEDURE")


def split_statements(text: str) -> tuple[Statement, ...]:
    """The statements of a SQL script, in order, as psql would send them (empty statements dropped)."""
    lines = LineIndex(text)
    statements: list[Statement] = []
    current: list[Token] = []
    head: list[str] = []  # the first words, for psql's BEGIN ATOMIC rule
    paren = begin = 0

    def flush() -> None:
        if current:
            start, end = current[0].start, current[-1].end
            statements.append(Statement(text[start:end], start, lines.line(start), tuple(current)))
        current.clear()
        head.clear()

    for token in tokenize(text):
        if token.kind == "punct" and token.text == ";" and paren == 0 and begin == 0:
            flush()
            paren = begin = 0
            continue
        current.append(token)
        if token.kind == "punct":
            paren += {"(": 1, ")": -1}.get(token.text, 0)
            paren = max(paren, 0)
        elif token.kind == "word":
            if len(head) < 4:
                head.append(token.word)
            if _opens_function_body(head):
                word = token.word
                if word == "BEGIN" or (word == "CASE" and begin):
                    begin += 1
                elif word == "END" and begin:
                    begin -= 1
    flush()
    return tuple(statements)
