"""A cursor over one statement's tokens: keywords, (qualified) names, parenthesised groups and lists."""

from __future__ import annotations

from workbench.core.migrations.sqltext import Statement, Token


class Cursor:
    """Walks the tokens of a statement; every method either consumes what it recognises or leaves `pos` alone."""

    def __init__(self, statement: Statement, pos: int = 0, *, end: int | None = None) -> None:
        self.statement = statement
        self.tokens: tuple[Token, ...] = statement.tokens if end is None else statement.tokens[:end]
        self.pos = pos

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def word(self, ahead: int = 0) -> str:
        i = self.pos + ahead
        return self.tokens[i].word if i < len(self.tokens) else ""

    def token(self, ahead: int = 0) -> Token | None:
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else None

    def accept(self, *words: str) -> bool:
        """Consume `words` when they come next."""
        if all(self.word(k) == w for k, w in enumerate(words)):
            self.pos += len(words)
            return True
        return False

    def skip_to(self, *words: str) -> bool:
        """Move just past the first occurrence (at parenthesis depth 0) of the word sequence `words`."""
        depth = 0
        for i in range(self.pos, len(self.tokens)):
            t = self.tokens[i]
            if self._is(t, "("):
                depth += 1
            elif self._is(t, ")"):
                depth -= 1
            elif depth == 0 and all(
                i + k < len(self.tokens) and self.tokens[i + k].word == w for k, w in enumerate(words)
            ):
                self.pos = i + len(words)
                return True
        return False

    def punct(self, char: str) -> bool:
        t = self.token()
        if t is not None and self._is(t, char):
            self.pos += 1
            return True
        return False

    @staticmethod
    def _is(token: Token, char: str) -> bool:
        return token.kind == "punct" and token.text == char

    def name(self) -> tuple[str, ...] | None:
        """A possibly qualified name, as the server folds it (unquoted lower-cased, quoted exact)."""
        parts: list[str] = []
        pos = self.pos
        while pos < len(self.tokens):
            part = self.tokens[pos].name
            if part is None:
                break
            parts.append(part)
            pos += 1
            if pos < len(self.tokens) and self._is(self.tokens[pos], "."):
                pos += 1
                continue
            break
        if not parts:
            return None
        self.pos = pos
        return tuple(parts)

    def group(self) -> tuple[int, int] | None:
        """Consume a balanced parenthesised group; its tokens' index range (exclusive of the parentheses)."""
        if not self.punct("("):
            return None
        start = self.pos
        depth = 1
        while self.pos < len(self.tokens):
            t = self.tokens[self.pos]
            if self._is(t, "("):
                depth += 1
            elif self._is(t, ")"):
                depth -= 1
                if depth == 0:
                    end = self.pos
                    self.pos += 1
                    return start, end
            self.pos += 1
        return None

    def text(self, start: int, end: int) -> str:
        """Source text of tokens[start:end]."""
        if start >= end:
            return ""
        return self.statement.local(self.tokens[start].start, self.tokens[end - 1].end)

    def items(self, start: int, end: int) -> list[tuple[int, int]]:
        """Comma-separated items of tokens[start:end] at depth 0, as index ranges."""
        out: list[tuple[int, int]] = []
        depth, first = 0, start
        for i in range(start, end):
            t = self.tokens[i]
            if self._is(t, "("):
                depth += 1
            elif self._is(t, ")"):
                depth -= 1
            elif self._is(t, ",") and depth == 0:
                out.append((first, i))
                first = i + 1
        if first < end:
            out.append((first, end))
        return out

    def names_in(self, start: int, end: int) -> list[str] | None:
        """A comma-separated list of plain names (column lists); None when an item is anything else."""
        out: list[str] = []
        for a, b in self.items(start, end):
            if b - a != 1 or self.tokens[a].name is None:
                return None
            out.append(self.tokens[a].name or "")
        return out

    def role_list(self) -> list[str] | None:
        """Grantees / policy roles: names separated by commas; unquoted PUBLIC is the pseudo-role."""
        roles: list[str] = []
        while True:
            self.accept("GROUP")
            t = self.token()
            if t is None or t.name is None:
                return None
            if t.kind == "word" and t.word in ("CURRENT_USER", "SESSION_USER", "CURRENT_ROLE"):
                return None
            roles.append("PUBLIC" if t.kind == "word" and t.word == "PUBLIC" else t.name)
            self.pos += 1
            if not self.punct(","):
                return roles
