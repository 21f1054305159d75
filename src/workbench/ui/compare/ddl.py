"""The definition of one compared object as readable SQL, and two definitions aligned line by line.

No Qt here: `DdlIndex` maps the (kind, key) pairs of `workbench.core.compare.diff_snapshots` to the snapshot's
objects and renders them (view and function definitions as the server deparses them, policies as CREATE POLICY,
columns as ADD COLUMN with one attribute per line, grants as one GRANT per privilege, …) so that a line diff
points at what changed. The text is for reading, never for running: the sync script is built elsewhere with
`psycopg.sql`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from workbench.core.compare.snapshot_diff import COMPARED_SETTINGS
from workbench.core.model import (
    Column,
    Constraint,
    Extension,
    Function,
    Grant,
    Index,
    Policy,
    Relation,
    Schema,
    Sequence,
    Snapshot,
    Trigger,
)

_SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema"})
_REL_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized_view", "f": "foreign_table"}
_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")
# Reserved words that must be quoted as identifiers (the common ones; display only).
_RESERVED_TEXT = """
all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create
current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc
distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral
leading limit localtime localtimestamp not null offset on only or order placing primary references returning
select session_user some symmetric system_user table then to trailing true union unique user using variadic when
where window with
"""
_RESERVED = frozenset(_RESERVED_TEXT.split())


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort `t2` before `t10`: runs of digits compare as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text) if part)


def quote_ident(name: str) -> str:
    """An identifier as PostgreSQL prints it: bare when it can be, else double-quoted."""
    if _PLAIN.fullmatch(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def _role(name: str) -> str:
    return "PUBLIC" if name == "PUBLIC" else quote_ident(name)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# -- objects ------------------------------------------------------------------------------------------------------


def _column_clauses(col: Column, *, explicit_null: bool = True) -> list[str]:
    clauses = [f"{quote_ident(col.name)} {col.type}"]
    if col.collation:
        clauses.append(f"COLLATE {col.collation}")
    if col.generated == "s" and col.default:
        clauses.append(f"GENERATED ALWAYS AS ({col.default}) STORED")
    elif col.default:
        clauses.append(f"DEFAULT {col.default}")
    if col.identity:
        clauses.append(f"GENERATED {'ALWAYS' if col.identity == 'a' else 'BY DEFAULT'} AS IDENTITY")
    if col.not_null or explicit_null:
        clauses.append("NOT NULL" if col.not_null else "NULL")
    return clauses


def schema_ddl(schema: Schema) -> str:
    return f"CREATE SCHEMA {quote_ident(schema.name)} AUTHORIZATION {_role(schema.owner)};"


def column_ddl(rel: Relation, col: Column) -> str:
    """ADD COLUMN with one attribute per line, so a change of nullability or default is one changed line."""
    first, *rest = _column_clauses(col)
    lines = [f"ALTER TABLE {qualified(rel.schema, rel.name)}", f"    ADD COLUMN {first}"]
    lines += [f"        {clause}" for clause in rest]
    return "\n".join(lines) + ";"


def _owner(kind: str, name: str, owner: str) -> str:
    return f"ALTER {kind} {name} OWNER TO {_role(owner)};"


def table_ddl(snap: Snapshot, rel: Relation) -> str:
    name = qualified(rel.schema, rel.name)
    foreign = rel.kind == "f"
    lines = [f"CREATE {'FOREIGN ' if foreign else ''}TABLE {name} ("]
    body = [" ".join(_column_clauses(col, explicit_null=False)) for col in rel.columns]
    for con in sorted(snap.constraints_of(rel.oid), key=lambda c: c.name):
        if con.type != "n":
            body.append(f"CONSTRAINT {quote_ident(con.name)} {con.definition}")
    lines += [f"    {item}{',' if i < len(body) - 1 else ''}" for i, item in enumerate(body)]
    tail = ")"
    if rel.partition_key:
        tail += f" PARTITION BY {rel.partition_key}"
    if rel.parent_oid is not None and rel.partition_bound:
        parent = snap.relation(rel.parent_oid)
        if parent is not None:
            tail = f") -- partition of {qualified(parent.schema, parent.name)} {rel.partition_bound}"
    if rel.options:
        tail += f"\nWITH ({', '.join(rel.options)})"
    lines.append(tail + ";")
    lines.append(f"ALTER TABLE {name} {'ENABLE' if rel.rls_enabled else 'DISABLE'} ROW LEVEL SECURITY;")
    lines.append(f"ALTER TABLE {name} {'' if rel.rls_forced else 'NO '}FORCE ROW LEVEL SECURITY;")
    lines.append(_owner("FOREIGN TABLE" if foreign else "TABLE", name, rel.owner))
    return "\n".join(lines)


def view_ddl(rel: Relation) -> str:
    name = qualified(rel.schema, rel.name)
    kind = "MATERIALIZED VIEW" if rel.kind == "m" else "VIEW"
    # The options and AS on lines of their own: a changed option is one changed line, not the header.
    options = [f"WITH ({', '.join(rel.options)})"] if rel.options else []
    definition = (rel.view_definition or "").rstrip().rstrip(";")
    lines = [f"CREATE {kind} {name}", *options, "AS", *definition.splitlines()]
    lines[-1] += ";"
    lines.append(_owner(kind, name, rel.owner))
    return "\n".join(lines)


def constraint_ddl(rel: Relation, con: Constraint) -> str:
    lines = [
        f"ALTER TABLE {qualified(rel.schema, rel.name)}",
        f"    ADD CONSTRAINT {quote_ident(con.name)}",
        f"    {con.definition}",
    ]
    if not con.validated and "NOT VALID" not in con.definition:
        lines.append("    NOT VALID")
    lines[-1] += ";"
    return "\n".join(lines)


def index_ddl(ix: Index) -> str:
    lines = [ix.definition.rstrip(";") + ";"]
    if ix.constraint:
        lines.append(f"-- backs constraint {quote_ident(ix.constraint)}")
    if not ix.is_valid:
        lines.append("-- INVALID: a CREATE INDEX CONCURRENTLY failed or is still running")
    return "\n".join(lines)


def policy_ddl(pol: Policy) -> str:
    lines = [
        f"CREATE POLICY {quote_ident(pol.name)}",
        f"    ON {qualified(pol.schema, pol.table)}",
        f"    AS {'PERMISSIVE' if pol.permissive else 'RESTRICTIVE'}",
        f"    FOR {pol.command}",
        f"    TO {', '.join(_role(r) for r in pol.roles)}",
    ]
    if pol.using is not None:
        lines.append(f"    USING ({pol.using})")
    if pol.with_check is not None:
        lines.append(f"    WITH CHECK ({pol.with_check})")
    lines[-1] += ";"
    return "\n".join(lines)


def function_ddl(fn: Function) -> str:
    name = f"{qualified(fn.schema, fn.name)}({fn.identity_args})"
    kind = "PROCEDURE" if fn.kind == "p" else "AGGREGATE" if fn.kind == "a" else "FUNCTION"
    if fn.definition:
        text = fn.definition.rstrip()
        if not text.endswith(";"):
            text += ";"
    else:
        volatility = {"i": "IMMUTABLE", "s": "STABLE", "v": "VOLATILE"}.get(fn.volatility, fn.volatility)
        lines = [f"-- {kind.lower()} {name}", f" RETURNS {fn.result_type}", f" LANGUAGE {fn.language}"]
        lines.append(f" {volatility}")
        if fn.security_definer:
            lines.append(" SECURITY DEFINER")
        lines += [f" SET {c.split('=', 1)[0]} TO {c.split('=', 1)[1]}" for c in fn.config if "=" in c]
        text = "\n".join(lines)
    return text + "\n" + _owner(kind, name, fn.owner)


def trigger_ddl(snap: Snapshot, trg: Trigger) -> str:
    lines = [trg.definition.rstrip(";") + ";"]
    rel = snap.relation(trg.table_oid)
    state = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}.get(trg.enabled)
    if rel is not None:
        table = qualified(rel.schema, rel.name)
        lines.append(f"ALTER TABLE {table} {state or 'ENABLE'} TRIGGER {quote_ident(trg.name)};")
    return "\n".join(lines)


def sequence_ddl(seq: Sequence) -> str:
    name = qualified(seq.schema, seq.name)
    lines = [
        f"CREATE SEQUENCE {name}",
        f"    AS {seq.data_type}",
        f"    INCREMENT BY {seq.increment}",
        f"    MINVALUE {seq.min_value}",
        f"    MAXVALUE {seq.max_value}",
        f"    START WITH {seq.start_value}",
        f"    {'CYCLE' if seq.cycle else 'NO CYCLE'};",
        _owner("SEQUENCE", name, seq.owner),
    ]
    return "\n".join(lines)


def extension_ddl(ext: Extension) -> str:
    return (
        f"CREATE EXTENSION {quote_ident(ext.name)}\n    SCHEMA {quote_ident(ext.schema)}\n"
        f"    VERSION {_literal(ext.installed_version)};"
    )


def setting_ddl(name: str, value: str) -> str:
    return f"-- server setting\n{name} = {_literal(value)}"


def grants_ddl(target: str, grants: list[str], column: str | None = None) -> str:
    """One GRANT per line from the diff's normalised `grantee:PRIVILEGE[*]` entries ('*' = grantable)."""
    if not grants:
        return f"-- no privileges granted on {target} beyond its owner's"
    lines = []
    for entry in grants:
        grantee, _, privilege = entry.partition(":")
        grantable = privilege.endswith("*")
        privilege = privilege.rstrip("*")
        on_column = f" ({quote_ident(column)})" if column else ""
        option = " WITH GRANT OPTION" if grantable else ""
        lines.append(f"GRANT {privilege}{on_column} ON {target} TO {_role(grantee)}{option};")
    return "\n".join(lines)


def attributes_text(attributes: dict[str, Any]) -> str:
    """The fallback for an object without a richer rendering: one `name: value` line per attribute."""
    width = max((len(k) for k in attributes), default=0)
    return "\n".join(f"{name:{width}} : {display_value(value)}" for name, value in sorted(attributes.items()))


def display_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


# -- the index ----------------------------------------------------------------------------------------------------

Render = Callable[[], str]
Entries = Iterator[tuple[str, Render]]


class DdlIndex:
    """(kind, key) -> the object's definition, for the objects `diff_snapshots` compares.

    The keys are built as in `workbench.core.compare.snapshot_diff`. Nothing is done up front: the first lookup
    of a kind maps that kind's keys, and only the definitions shown are rendered."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self._maps: dict[str, dict[str, Render]] = {}
        self._builders: dict[str, Callable[[], Entries]] = {
            "schema": self._schemas,
            "table": lambda: self._relations("table"),
            "view": lambda: self._relations("view"),
            "materialized_view": lambda: self._relations("materialized_view"),
            "foreign_table": lambda: self._relations("foreign_table"),
            "column": self._columns,
            "constraint": self._constraints,
            "index": self._indexes,
            "policy": self._policies,
            "function": self._functions,
            "trigger": self._triggers,
            "sequence": self._sequences,
            "extension": self._extensions,
            "grant": self._grants,
            "setting": self._settings,
        }

    def keys(self, kind: str) -> frozenset[str]:
        return frozenset(self._map(kind))

    def ddl(self, kind: str, key: str) -> str | None:
        render = self._map(kind).get(key)
        return render() if render is not None else None

    def _map(self, kind: str) -> dict[str, Render]:
        found = self._maps.get(kind)
        if found is None:
            build = self._builders.get(kind)
            found = dict(build()) if build is not None else {}
            self._maps[kind] = found
        return found

    # One generator per kind: (key, renderer).
    def _user_relations(self) -> Iterator[Relation]:
        for rel in self.snapshot.relations:
            if rel.extension is None and rel.schema not in _SYSTEM_SCHEMAS:
                yield rel

    def _schemas(self) -> Entries:
        for schema in self.snapshot.schemas:
            if schema.extension is None:
                yield schema.name, partial(schema_ddl, schema)

    def _relations(self, kind: str) -> Entries:
        snap = self.snapshot
        for rel in self._user_relations():
            if _REL_KINDS.get(rel.kind, "table") != kind:
                continue
            if kind in ("view", "materialized_view"):
                yield rel.qualified, partial(view_ddl, rel)
            else:
                yield rel.qualified, partial(table_ddl, snap, rel)

    def _columns(self) -> Entries:
        for rel in self._user_relations():
            for col in rel.columns:
                yield f"{rel.qualified}.{col.name}", partial(column_ddl, rel, col)

    def _constraints(self) -> Entries:
        for rel in self._user_relations():
            for con in self.snapshot.constraints_of(rel.oid):
                if con.type != "n":
                    yield f"{rel.qualified}:{con.name}", partial(constraint_ddl, rel, con)

    def _indexes(self) -> Entries:
        for rel in self._user_relations():
            for ix in self.snapshot.indexes_of(rel.oid):
                yield f"{ix.schema}.{ix.name}", partial(index_ddl, ix)

    def _policies(self) -> Entries:
        for pol in self.snapshot.policies:
            yield f"{pol.schema}.{pol.table}:{pol.name}", partial(policy_ddl, pol)

    def _user_functions(self) -> Iterator[Function]:
        for fn in self.snapshot.functions:
            if fn.extension is None and fn.schema not in _SYSTEM_SCHEMAS:
                yield fn

    def _functions(self) -> Entries:
        for fn in self._user_functions():
            yield fn.signature, partial(function_ddl, fn)

    def _triggers(self) -> Entries:
        snap = self.snapshot
        for trg in snap.triggers:
            table = snap.relation(trg.table_oid)
            yield f"{table.qualified if table else trg.schema}:{trg.name}", partial(trigger_ddl, snap, trg)

    def _sequences(self) -> Entries:
        for seq in self.snapshot.sequences:
            if seq.schema not in _SYSTEM_SCHEMAS:
                yield seq.qualified, partial(sequence_ddl, seq)

    def _extensions(self) -> Entries:
        for ext in self.snapshot.extensions:
            yield ext.name, partial(extension_ddl, ext)

    def _settings(self) -> Entries:
        settings = dict(self.snapshot.settings)
        for name in COMPARED_SETTINGS:
            if name in settings:
                yield name, partial(setting_ddl, name, settings[name])

    def _grants(self) -> Entries:
        for schema in self.snapshot.schemas:
            if schema.extension is None:
                target = f"SCHEMA {quote_ident(schema.name)}"
                yield f"schema {schema.name}", _grant_renderer(target, schema.grants, schema.owner)
        for rel in self._user_relations():
            label = _REL_KINDS.get(rel.kind, "table").replace("_", " ")
            target = f"{'FOREIGN TABLE' if rel.kind == 'f' else 'TABLE'} {qualified(rel.schema, rel.name)}"
            yield f"{label} {rel.qualified}", _grant_renderer(target, rel.grants, rel.owner)
            for col in rel.columns:
                if col.grants:
                    table = f"TABLE {qualified(rel.schema, rel.name)}"
                    yield f"column {rel.qualified}.{col.name}", _grant_renderer(table, col.grants, None, col.name)
        for fn in self._user_functions():
            kind = "PROCEDURE" if fn.kind == "p" else "FUNCTION"
            target = f"{kind} {qualified(fn.schema, fn.name)}({fn.identity_args})"
            yield f"function {fn.signature}", _grant_renderer(target, fn.grants, fn.owner)
        for seq in self.snapshot.sequences:
            if seq.schema not in _SYSTEM_SCHEMAS:
                target = f"SEQUENCE {qualified(seq.schema, seq.name)}"
                yield f"sequence {seq.qualified}", _grant_renderer(target, seq.grants, seq.owner)


def _grant_renderer(target: str, grants: tuple[Grant, ...], owner: str | None, column: str | None = None) -> Render:
    def render() -> str:
        held = {f"{g.grantee}:{g.privilege}{'*' if g.grantable else ''}" for g in grants if g.grantee != owner}
        return grants_ddl(target, sorted(held), column)

    return render


# -- line alignment -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One aligned row of the two panes. A side is None where the other side has a line this side lacks."""

    a: str | None
    b: str | None
    tag: str  # "equal", "changed" (both sides, different), "removed" (only A), "added" (only B)
    a_spans: tuple[tuple[int, int], ...] = ()  # (start, length) of the characters that differ, for "changed"
    b_spans: tuple[tuple[int, int], ...] = ()


_TOKEN = re.compile(r"\w+|\s+|.")


def _char_spans(a: str, b: str) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """The differing parts of two paired lines, by token (a word, a run of spaces, one symbol), so that `0` vs
    `10` marks both numbers rather than one inserted digit."""
    a_tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(a)]
    b_tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(b)]
    matcher = difflib.SequenceMatcher(None, [t for _, t in a_tokens], [t for _, t in b_tokens], autojunk=False)
    a_spans: list[tuple[int, int]] = []
    b_spans: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for tokens, lo, hi, spans in ((a_tokens, i1, i2, a_spans), (b_tokens, j1, j2, b_spans)):
            if hi > lo:
                start = tokens[lo][0]
                end = tokens[hi - 1][0] + len(tokens[hi - 1][1])
                spans.append((start, end - start))
    return tuple(a_spans), tuple(b_spans)


def align(a_text: str, b_text: str) -> list[Row]:
    """Pair the lines of two definitions: equal lines side by side, changed lines paired, the rest padded."""
    a_lines, b_lines = a_text.splitlines(), b_text.splitlines()
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [Row(a_lines[i], b_lines[j], "equal") for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            continue
        a_part, b_part = a_lines[i1:i2], b_lines[j1:j2]
        paired = min(len(a_part), len(b_part))
        for x, y in zip(a_part[:paired], b_part[:paired], strict=True):
            a_spans, b_spans = _char_spans(x, y)
            rows.append(Row(x, y, "changed", a_spans, b_spans))
        rows += [Row(x, None, "removed") for x in a_part[paired:]]
        rows += [Row(None, y, "added") for y in b_part[paired:]]
    return rows
