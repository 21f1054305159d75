"""What one migration statement does, read from its tokens: created objects, idempotency guards, destructive
changes, lock-heavy forms, and whether it can run inside a transaction.

Pure functions over :class:`~workbench.core.migrations.sqltext.Statement`. Names are normalised the way the
server folds them (unquoted lower-cased) and qualified with ``public`` when written without a schema, which is
what a default ``search_path`` resolves them to; the replay resolves them on the server instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

from workbench.core.migrations.sqltext import Statement, Token

__all__ = ["Operation", "StatementInfo", "describe", "quote_ident"]

# Object kinds whose DROP loses data (a recreate does not bring the rows back).
_DATA_KINDS = frozenset({"TABLE", "SCHEMA", "DATABASE", "SEQUENCE", "MATERIALIZED VIEW", "FOREIGN TABLE"})
_IF_NOT_EXISTS_KINDS = frozenset(
    {"TABLE", "INDEX", "SCHEMA", "SEQUENCE", "EXTENSION", "MATERIALIZED VIEW", "FOREIGN TABLE", "SERVER"}
)
_OR_REPLACE_KINDS = frozenset({"VIEW", "FUNCTION", "PROCEDURE", "TRIGGER", "RULE", "AGGREGATE", "LANGUAGE"})
_DROP_GUARDED_KINDS = frozenset({"POLICY", "TRIGGER", "TYPE", "DOMAIN", "RULE", "PUBLICATION", "CAST"})
_TWO_WORD_KINDS = ("MATERIALIZED VIEW", "FOREIGN TABLE", "EVENT TRIGGER", "TEXT SEARCH", "FOREIGN DATA")
_CREATE_MODIFIERS = frozenset(
    {"OR", "REPLACE", "UNIQUE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "RECURSIVE", "TRUSTED",
     "PROCEDURAL", "CONSTRAINT", "DEFAULT"}
)  # fmt: skip
_CONSTRAINT_WORDS = frozenset({"CONSTRAINT", "CHECK", "FOREIGN", "UNIQUE", "PRIMARY", "EXCLUDE"})
_VOLATILE_DEFAULTS = frozenset(
    {"random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "clock_timestamp",
     "timeofday", "nextval", "gen_random_bytes", "txid_current", "statement_timestamp"}
)  # fmt: skip
_SERIAL_TYPES = frozenset({"SERIAL", "BIGSERIAL", "SMALLSERIAL", "SERIAL2", "SERIAL4", "SERIAL8"})
_TRANSACTION_CONTROL = frozenset({"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"})


def quote_ident(name: str) -> str:
    """An identifier quoted for SQL text."""
    return sql.Identifier(name).as_string()


def _keyword_like(word: str, model: Token) -> str:
    """``word`` in the letter case of the statement's own keyword ``model``."""
    return word.lower() if model.text.islower() else word


@dataclass(frozen=True, slots=True)
class Operation:
    """One lock-heavy form found in a statement, on ``table`` (normalised name), with the safer way to do it."""

    kind: str
    table: str  # normalised, schema-qualified
    table_text: str  # as written in the statement
    summary: str  # one phrase for the finding's detail
    safer_sql: str  # the safer alternative, as SQL with comments
    column: str | None = None
    constraint: str | None = None


@dataclass(frozen=True, slots=True)
class StatementInfo:
    """What a statement does, as far as its text tells."""

    statement: Statement
    command: str  # "CREATE TABLE", "ALTER TABLE", "DROP POLICY", "INSERT", "DO", …
    creates: tuple[tuple[str, str], ...] = ()  # (kind, normalised name)
    drops: tuple[tuple[str, str], ...] = ()
    guard: bool | None = None  # True: guarded (IF [NOT] EXISTS, OR REPLACE), False: not, None: not applicable
    destructive: tuple[str, ...] = ()  # phrases such as "DROP TABLE public.orders", "DROP COLUMN", "UPDATE"
    altered_table: str | None = None  # the relation an ALTER TABLE changes
    alter_actions: int = 0
    replaces: tuple[tuple[str, str], ...] = ()  # CREATE OR REPLACE targets (kind, name)
    operations: tuple[Operation, ...] = ()
    transaction_control: bool = False
    outside_transaction: bool = False  # cannot run inside a transaction block
    needs_guard_from: tuple[tuple[str, str], ...] = ()  # (kind, name): re-runnable after a DROP … IF EXISTS of it
    guarded_drops: tuple[tuple[str, str], ...] = ()  # (kind, name) dropped with IF EXISTS

    @property
    def line(self) -> int:
        return self.statement.line


def normalise(name: str) -> str:
    return name if "." in name else f"public.{name}"


class _Cursor:
    """Walks a statement's tokens."""

    def __init__(self, tokens: Sequence[Token], pos: int = 0) -> None:
        self.tokens = tokens
        self.pos = pos

    def peek(self, ahead: int = 0) -> str:
        i = self.pos + ahead
        return self.tokens[i].word if i < len(self.tokens) else ""

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def accept(self, *words: str) -> bool:
        """Consume ``words`` when they come next."""
        if all(self.peek(k) == w for k, w in enumerate(words)):
            self.pos += len(words)
            return True
        return False

    def name(self) -> tuple[str, int, int] | None:
        """A (possibly qualified) name: (normalised, start offset, end offset)."""
        parts: list[str] = []
        start = end = None
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            part = token.name
            if part is None:
                break
            parts.append(part)
            start = token.start if start is None else start
            end = token.end
            self.pos += 1
            if self.pos < len(self.tokens) and self.tokens[self.pos].text == ".":
                self.pos += 1
                continue
            break
        if not parts or start is None or end is None:
            return None
        return ".".join(parts), start, end


def _split_top_level(tokens: Sequence[Token]) -> list[list[Token]]:
    """Comma-separated parts at parenthesis depth 0 (the actions of an ALTER TABLE)."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "punct":
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth = max(depth - 1, 0)
            elif token.text == "," and depth == 0:
                parts.append([])
                continue
        parts[-1].append(token)
    return [p for p in parts if p]


def _object_kind(cur: _Cursor) -> str:
    for two in _TWO_WORD_KINDS:
        first, second = two.split()
        if cur.accept(first, second):
            return two
    word = cur.peek()
    cur.pos += 1
    return word


def describe(statement: Statement) -> StatementInfo:
    """Classify one statement."""
    words = statement.words
    first = words[0] if words else ""
    savepoint = first == "ROLLBACK" and "TO" in words[:3]
    if first in _TRANSACTION_CONTROL and not savepoint:
        return StatementInfo(statement, first, transaction_control=True)
    if first == "CREATE":
        return _describe_create(statement)
    if first == "ALTER" and len(words) > 1 and words[1] == "TABLE":
        return _describe_alter_table(statement)
    if first == "ALTER":
        return _describe_alter_other(statement)
    if first == "DROP":
        return _describe_drop(statement)
    if first == "TRUNCATE":
        return StatementInfo(statement, "TRUNCATE", destructive=("TRUNCATE",))
    if first in ("DELETE", "UPDATE"):
        return StatementInfo(statement, first, destructive=(first,))
    if first == "WITH" and ("DELETE" in words or "UPDATE" in words):
        return StatementInfo(statement, "WITH", destructive=("DELETE" if "DELETE" in words else "UPDATE",))
    if first == "REFRESH":
        return _describe_refresh(statement)
    if first == "REINDEX":
        outside = "CONCURRENTLY" in words[:4] or words[1:2] in (("SYSTEM",), ("DATABASE",))
        return StatementInfo(statement, "REINDEX", outside_transaction=outside)
    if first in ("VACUUM", "CLUSTER") or (first == "ALTER" and words[1:2] == ("SYSTEM",)):
        return StatementInfo(statement, first, outside_transaction=first == "VACUUM")
    return StatementInfo(statement, " ".join(words[:1]))


# -- CREATE ---------------------------------------------------------------------------------------------------


def _describe_create(st: Statement) -> StatementInfo:
    cur = _Cursor(st.tokens, 1)
    or_replace = False
    temporary = False
    while cur.peek() in _CREATE_MODIFIERS:
        word = cur.peek()
        or_replace = or_replace or word == "REPLACE"
        temporary = temporary or word in ("TEMP", "TEMPORARY")
        cur.pos += 1
    kind = _object_kind(cur)
    command = f"CREATE {kind}"
    if kind == "INDEX":
        return _describe_create_index(st, cur)
    if_not_exists = cur.accept("IF", "NOT", "EXISTS")
    named = cur.name()
    name = normalise(named[0]) if named else ""
    if kind in ("POLICY", "TRIGGER", "RULE") and named:
        on = _find_word(st.tokens, "ON", cur.pos)
        table = _Cursor(st.tokens, on + 1).name() if on is not None else None
        if table is not None:
            name = f"{normalise(table[0])}:{named[0]}"
    creates = ((kind, name),) if name else ()
    if temporary:
        return StatementInfo(st, command, creates=creates)
    guard: bool | None
    if kind in _IF_NOT_EXISTS_KINDS:
        guard = if_not_exists
    elif kind in _OR_REPLACE_KINDS:
        guard = or_replace
    elif kind in _DROP_GUARDED_KINDS or kind in ("ROLE", "USER", "GROUP"):
        guard = False
    else:
        guard = None
    # An unguarded CREATE is still idempotent right after a DROP … IF EXISTS of the same object.
    needs = creates if guard is False else ()
    replaces = creates if or_replace else ()
    return StatementInfo(st, command, creates=creates, guard=guard, replaces=replaces, needs_guard_from=needs)


def _find_word(tokens: Sequence[Token], word: str, start: int = 0) -> int | None:
    depth = 0
    for i in range(start, len(tokens)):
        token = tokens[i]
        if token.kind == "punct":
            depth += {"(": 1, ")": -1}.get(token.text, 0)
        elif depth == 0 and token.word == word:
            return i
    return None


def _describe_create_index(st: Statement, cur: _Cursor) -> StatementInfo:
    index_token = st.tokens[cur.pos - 1]
    concurrently = cur.accept("CONCURRENTLY")
    if_not_exists = cur.accept("IF", "NOT", "EXISTS")
    index_name = None if cur.peek() == "ON" else cur.name()
    on = _find_word(st.tokens, "ON", cur.pos)
    table = None
    if on is not None:
        tcur = _Cursor(st.tokens, on + 1)
        tcur.accept("ONLY")
        table = tcur.name()
    creates = (("INDEX", normalise(index_name[0])),) if index_name else ()
    operations: tuple[Operation, ...] = ()
    if table is not None and not concurrently:
        table_text = st.local(table[1], table[2])
        cut = index_token.end - st.offset
        safer = (
            "-- Build the index without blocking writes. CONCURRENTLY cannot run inside a transaction block:\n"
            "-- put it in a migration of its own (most runners have a no-transaction option). If it fails,\n"
            "-- drop the INVALID index it leaves (DROP INDEX CONCURRENTLY) and run it again.\n"
            f"{st.text[:cut]} {_keyword_like('CONCURRENTLY', index_token)}{st.text[cut:]};"
        )
        operations = (
            Operation(
                "create_index",
                normalise(table[0]),
                table_text,
                f"CREATE INDEX without CONCURRENTLY on {table_text} blocks every write to it while the index builds",
                safer,
            ),
        )
    return StatementInfo(
        st,
        "CREATE INDEX",
        creates=creates,
        guard=if_not_exists and index_name is not None,
        operations=operations,
        outside_transaction=concurrently,
    )


# -- ALTER TABLE ----------------------------------------------------------------------------------------------


def _describe_alter_table(st: Statement) -> StatementInfo:
    cur = _Cursor(st.tokens, 2)
    cur.accept("IF", "EXISTS")
    cur.accept("ONLY")
    named = cur.name()
    if named is None:
        return StatementInfo(st, "ALTER TABLE")
    table, table_text = normalise(named[0]), st.local(named[1], named[2])
    if cur.pos < len(st.tokens) and st.tokens[cur.pos].text == "*":
        cur.pos += 1
    actions = _split_top_level(st.tokens[cur.pos :])
    guards: list[bool] = []
    destructive: list[str] = []
    operations: list[Operation] = []
    dropped_constraints: set[str] = set()
    needs: list[tuple[str, str]] = []  # unguarded ADD CONSTRAINTs: guarded by an earlier DROP CONSTRAINT IF EXISTS
    guarded_drops: list[tuple[str, str]] = []
    rescuable = True
    for action in actions:
        words = [t.word for t in action]
        head = words[0] if words else ""
        if head == "ADD":
            guard, ops, constraint = _alter_add(st, action, table, table_text, dropped_constraints)
            guards.append(guard)
            operations.extend(ops)
            if not guard:
                if constraint is None:
                    rescuable = False
                else:
                    needs.append(("CONSTRAINT", f"{table}:{constraint}"))
        elif head == "DROP":
            rest = _Cursor(action, 1)
            what = "CONSTRAINT" if rest.accept("CONSTRAINT") else "COLUMN"
            rest.accept("COLUMN")
            guarded = rest.accept("IF", "EXISTS")
            named_target = rest.name()
            if what == "CONSTRAINT" and named_target and guarded:
                dropped_constraints.add(named_target[0])
                guarded_drops.append(("CONSTRAINT", f"{table}:{named_target[0]}"))
            guards.append(guarded)
            rescuable = rescuable and guarded
            if what == "COLUMN":
                column = named_target[0] if named_target else "?"
                destructive.append(f"DROP COLUMN {column} of {table}")
        elif head == "ALTER":
            operations.extend(_alter_column(st, action, table, table_text))
            if "TYPE" in words:
                destructive.append(f"column type change on {table}")
        elif head == "RENAME":
            guards.append(False)
            rescuable = False
            destructive.append(f"RENAME on {table}")
        elif head == "SET" and tuple(words[1:2]) in (("TABLESPACE",), ("LOGGED",), ("UNLOGGED",)):
            operations.append(
                Operation(
                    "table_rewrite",
                    table,
                    table_text,
                    f"SET {words[1]} rewrites {table_text} under an ACCESS EXCLUSIVE lock",
                    "-- Rewrites the whole table while holding ACCESS EXCLUSIVE: schedule it in a maintenance window,\n"
                    "-- or copy the data online (pg_repack, logical replication) instead.",
                )
            )
    return StatementInfo(
        st,
        "ALTER TABLE",
        guard=all(guards) if guards else None,
        needs_guard_from=tuple(needs) if rescuable else (),
        guarded_drops=tuple(guarded_drops),
        destructive=tuple(destructive),
        altered_table=table,
        alter_actions=len(actions),
        operations=tuple(operations),
    )


def _constraint_name(cur: _Cursor) -> str | None:
    if cur.accept("CONSTRAINT"):
        named = cur.name()
        return named[0] if named else None
    return None


def _alter_add(
    st: Statement, action: list[Token], table: str, table_text: str, dropped: set[str]
) -> tuple[bool, list[Operation], str | None]:
    """Guard, lock-heavy forms and constraint name of one ``ADD …`` action."""
    words = [t.word for t in action]
    cur = _Cursor(action, 1)
    is_constraint = cur.peek() in _CONSTRAINT_WORDS
    if not is_constraint:
        guard, ops = _alter_add_column(st, action, table, table_text)
        return guard, ops, None
    name = _constraint_name(cur)
    guard = name is not None and name in dropped
    kind = cur.peek()
    action_text = st.local(action[0].start, action[-1].end)
    not_valid = "VALID" in words and words[words.index("VALID") - 1] == "NOT"
    shown = quote_ident(name) if name else "<constraint_name>"
    if kind in ("CHECK", "FOREIGN") and not not_valid:
        what = "FOREIGN KEY" if kind == "FOREIGN" else "CHECK constraint"
        lock = "SHARE ROW EXCLUSIVE locks on both tables" if kind == "FOREIGN" else "an ACCESS EXCLUSIVE lock"
        safer = (
            "-- Add the constraint without checking the existing rows (a brief lock), then validate it in a\n"
            "-- separate transaction: VALIDATE takes only SHARE UPDATE EXCLUSIVE, reads and writes go on.\n"
            f"ALTER TABLE {table_text} {action_text} NOT VALID;\n"
            f"ALTER TABLE {table_text} VALIDATE CONSTRAINT {shown};"
        )
        summary = f"adding a validated {what} to {table_text} scans every row while holding {lock}"
        op_kind = "add_foreign_key" if kind == "FOREIGN" else "add_check"
        return guard, [Operation(op_kind, table, table_text, summary, safer, constraint=name)], name
    if kind in ("UNIQUE", "PRIMARY") and "USING" not in words:
        columns = _parenthesised(st, action)
        index = quote_ident(f"{table.split('.')[-1]}_{name or 'key'}_idx".replace('"', ""))
        constraint = "PRIMARY KEY" if kind == "PRIMARY" else "UNIQUE"
        safer = (
            "-- Build the unique index online first, then attach it (a brief ACCESS EXCLUSIVE lock, no scan):\n"
            f"CREATE UNIQUE INDEX CONCURRENTLY {index} ON {table_text} {columns or '(…)'};\n"
            f"ALTER TABLE {table_text} ADD CONSTRAINT {shown} {constraint} USING INDEX {index};"
        )
        summary = f"adding a {constraint} constraint builds its index on {table_text} under an ACCESS EXCLUSIVE lock"
        return guard, [Operation("add_unique_constraint", table, table_text, summary, safer, constraint=name)], name
    return guard, [], name


def _parenthesised(st: Statement, tokens: Sequence[Token]) -> str | None:
    """The first parenthesised group of ``tokens``, as written."""
    depth = 0
    start = None
    for token in tokens:
        if token.kind != "punct":
            continue
        if token.text == "(":
            if depth == 0:
                start = token.start
            depth += 1
        elif token.text == ")":
            depth -= 1
            if depth == 0 and start is not None:
                return st.local(start, token.end)
    return None


def _alter_add_column(st: Statement, action: list[Token], table: str, table_text: str) -> tuple[bool, list[Operation]]:
    cur = _Cursor(action, 1)
    cur.accept("COLUMN")
    guard = cur.accept("IF", "NOT", "EXISTS")
    named = cur.name()
    if named is None:
        return guard, []
    column = named[0]
    rest = action[cur.pos :]
    words = [t.word for t in rest]
    names = [t.name for t in rest]
    has_default = "DEFAULT" in words
    generated = "GENERATED" in words
    not_null = any(words[i] == "NOT" and words[i + 1] == "NULL" for i in range(len(words) - 1))
    serial = bool(words) and words[0] in _SERIAL_TYPES
    volatile = has_default and any(n in _VOLATILE_DEFAULTS for n in names[words.index("DEFAULT") :] if n)
    stored = generated and "STORED" in words
    identity = generated and "IDENTITY" in words
    col = quote_ident(column)
    operations: list[Operation] = []
    if not_null and not has_default and not generated and not serial:
        nn_start = next(rest[i].start for i in range(len(rest) - 1) if words[i] == "NOT" and words[i + 1] == "NULL")
        nn_end = next(rest[i + 1].end for i in range(len(rest) - 1) if words[i] == "NOT" and words[i + 1] == "NULL")
        nullable = (st.local(action[0].start, nn_start) + st.local(nn_end, action[-1].end)).rstrip()
        check = quote_ident(f"{column}_not_null")
        safer = (
            "-- A NOT NULL column without a default cannot be added to a table that has rows. Add it nullable (or\n"
            "-- with a constant DEFAULT: instant since PostgreSQL 11), backfill in batches, then enforce NOT NULL\n"
            "-- through a validated CHECK so that SET NOT NULL needs no scan (PostgreSQL 12+):\n"
            f"ALTER TABLE {table_text} {nullable};\n"
            f"-- UPDATE {table_text} SET {col} = … WHERE {col} IS NULL;  -- in batches\n"
            f"ALTER TABLE {table_text} ADD CONSTRAINT {check} CHECK ({col} IS NOT NULL) NOT VALID;\n"
            f"ALTER TABLE {table_text} VALIDATE CONSTRAINT {check};\n"
            f"ALTER TABLE {table_text} ALTER COLUMN {col} SET NOT NULL;\n"
            f"ALTER TABLE {table_text} DROP CONSTRAINT {check};"
        )
        summary = f"ADD COLUMN {column} NOT NULL without a DEFAULT fails on {table_text} as soon as it has rows"
        operations.append(Operation("add_column_not_null", table, table_text, summary, safer, column=column))
    if volatile or stored or serial or identity:
        why = "a volatile DEFAULT" if volatile else "a serial type" if serial else "a generated value"
        safer = (
            f"-- {why.capitalize()} is computed for every existing row: the table is rewritten under ACCESS\n"
            "-- EXCLUSIVE. Add the column without it, set the default for new rows, then backfill in batches:\n"
            f"ALTER TABLE {table_text} ADD COLUMN {col} <type>;\n"
            f"ALTER TABLE {table_text} ALTER COLUMN {col} SET DEFAULT <expression>;\n"
            f"-- UPDATE {table_text} SET {col} = <expression> WHERE {col} IS NULL;  -- in batches"
        )
        summary = f"ADD COLUMN {column} with {why} rewrites {table_text} under an ACCESS EXCLUSIVE lock"
        operations.append(Operation("add_column_rewrite", table, table_text, summary, safer, column=column))
    return guard, operations


def _alter_column(st: Statement, action: list[Token], table: str, table_text: str) -> list[Operation]:
    cur = _Cursor(action, 1)
    cur.accept("COLUMN")
    named = cur.name()
    if named is None:
        return []
    column = named[0]
    col = quote_ident(column)
    words = [t.word for t in action[cur.pos :]]
    if words[:2] == ["SET", "NOT"]:
        check = quote_ident(f"{column}_not_null")
        safer = (
            "-- SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK already proves\n"
            "-- it (PostgreSQL 12+). Add and validate the CHECK first; VALIDATE does not block reads or writes:\n"
            f"ALTER TABLE {table_text} ADD CONSTRAINT {check} CHECK ({col} IS NOT NULL) NOT VALID;\n"
            f"ALTER TABLE {table_text} VALIDATE CONSTRAINT {check};\n"
            f"ALTER TABLE {table_text} ALTER COLUMN {col} SET NOT NULL;\n"
            f"ALTER TABLE {table_text} DROP CONSTRAINT {check};"
        )
        summary = f"SET NOT NULL on {table_text}.{column} scans every row while holding an ACCESS EXCLUSIVE lock"
        return [Operation("set_not_null", table, table_text, summary, safer, column=column)]
    if "TYPE" in words[:3]:
        safer = (
            "-- Changing a column's type rewrites the table (unless the types are binary compatible, e.g. a\n"
            "-- longer varchar) under ACCESS EXCLUSIVE. Online alternative: add a column of the new type, keep it\n"
            "-- in sync with a trigger, backfill in batches, then swap the columns in one short transaction:\n"
            f"ALTER TABLE {table_text} ADD COLUMN {quote_ident(column + '_new')} <new type>;\n"
            f"-- UPDATE {table_text} SET {quote_ident(column + '_new')} = {col}::<new type> WHERE …;  -- in batches"
        )
        summary = f"changing the type of {table_text}.{column} rewrites the table under an ACCESS EXCLUSIVE lock"
        return [Operation("alter_column_type", table, table_text, summary, safer, column=column)]
    return []


# -- other statements -----------------------------------------------------------------------------------------


def _describe_alter_other(st: Statement) -> StatementInfo:
    words = st.words
    cur = _Cursor(st.tokens, 1)
    kind = _object_kind(cur)
    cur.accept("IF", "EXISTS")
    named = cur.name()
    rename = "RENAME" in words
    destructive: tuple[str, ...] = (f"RENAME on {kind} {named[0] if named else ''}".strip(),) if rename else ()
    if kind == "TYPE" and "DROP" in words:
        destructive += ("ALTER TYPE … DROP",)
    guard = False if rename else None
    if kind == "TYPE" and "ADD" in words and "VALUE" in words:
        guard = "IF" in words
    return StatementInfo(st, f"ALTER {kind}", guard=guard, destructive=destructive)


def _describe_drop(st: Statement) -> StatementInfo:
    cur = _Cursor(st.tokens, 1)
    kind = _object_kind(cur)
    concurrently = cur.accept("CONCURRENTLY")
    guard = cur.accept("IF", "EXISTS")
    names: list[str] = []
    while True:
        named = cur.name()
        if named is None:
            break
        names.append(normalise(named[0]))
        if cur.pos < len(st.tokens) and st.tokens[cur.pos].text == ",":
            cur.pos += 1
            continue
        break
    if kind in ("POLICY", "TRIGGER", "RULE") and names and cur.accept("ON"):
        table = cur.name()
        if table is not None:
            names = [f"{normalise(table[0])}:{names[0].removeprefix('public.')}"]
    drops = tuple((kind, n) for n in names)
    return StatementInfo(
        st,
        f"DROP {kind}",
        drops=drops,
        guarded_drops=drops if guard else (),
        guard=guard,
        destructive=tuple(f"DROP {kind} {n}" for n in names) or (f"DROP {kind}",),
        outside_transaction=concurrently or kind in ("DATABASE", "TABLESPACE"),
    )


def _describe_refresh(st: Statement) -> StatementInfo:
    cur = _Cursor(st.tokens, 1)
    if not cur.accept("MATERIALIZED", "VIEW"):
        return StatementInfo(st, "REFRESH")
    if cur.accept("CONCURRENTLY"):
        return StatementInfo(st, "REFRESH MATERIALIZED VIEW")
    named = cur.name()
    if named is None:
        return StatementInfo(st, "REFRESH MATERIALIZED VIEW")
    view_text = st.local(named[1], named[2])
    view_token = st.tokens[2]
    cut = view_token.end - st.offset
    safer = (
        "-- CONCURRENTLY keeps the view readable while it refreshes (it needs a unique index on the view):\n"
        f"{st.text[:cut]} {_keyword_like('CONCURRENTLY', view_token)}{st.text[cut:]};"
    )
    summary = f"REFRESH MATERIALIZED VIEW {view_text} blocks every read of it until the refresh commits"
    op = Operation("refresh_materialized_view", normalise(named[0]), view_text, summary, safer)
    return StatementInfo(st, "REFRESH MATERIALIZED VIEW", operations=(op,))
