"""For one forward statement: the statements that restore the previous state (read from the snapshot), and the
queries that show whether the statement took effect.

Covers the statement kinds the checks emit: row level security flags, view and table options, policies,
indexes, constraints, column NOT NULL / type / default, replica identity, grants and revokes, function settings
and security, extensions, schemas, sequences, new tables and partitions. A statement it does not understand gets
no rollback but a note saying so; a change the snapshot cannot undo (dropped column data, updated rows) says so
too. Every name in the generated SQL comes from the snapshot or from the parsed statement and is quoted with
`psycopg.sql`; expressions and definitions are the server's own deparse (pg_get_expr, pg_get_indexdef,
pg_get_constraintdef, format_type), read with `search_path = ''` and therefore schema-qualified.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from psycopg import sql

from workbench.core.checks.objects import function_ident, rel_ident, role_ident, roles_list
from workbench.core.migrations.sqltext import Statement, tokenize
from workbench.core.model import Function, Grant, Index, Policy, Relation, Snapshot
from workbench.core.remediation.tokens import Cursor

_OPTION_NAME = re.compile(r"[a-z_][a-z0-9_.]*")
_TYPE_NAME = re.compile(r"[a-z][a-z0-9 ]*")
_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN")
_PRIVILEGES = frozenset({*_TABLE_PRIVILEGES, "EXECUTE", "USAGE", "CREATE", "TEMPORARY", "CONNECT"})
_FUNCTION_ACTIONS = frozenset({"SET", "RESET", "SECURITY", "EXTERNAL"})


@dataclass(frozen=True, slots=True)
class StatementPlan:
    """How to undo one statement and how to see that it took effect."""

    rollback: tuple[sql.Composable, ...] = ()  # in the order they must run
    note: str | None = None  # what cannot be restored automatically, for a comment in the rollback section
    checks: tuple[sql.Composable, ...] = ()  # verification queries


@dataclass
class PlanContext:
    """What the planner knows beyond one statement: the snapshot and the other statements of the same fix."""

    snapshot: Snapshot
    attached: set[tuple[str, str]] = field(default_factory=set)  # partition indexes attached by the same fix

    def note_attachments(self, statements: Iterable[Statement]) -> None:
        """Remember `ALTER INDEX parent ATTACH PARTITION child` targets: dropping the parent drops them."""
        for st in statements:
            cur = Cursor(st)
            if cur.accept("ALTER", "INDEX") and cur.name() is not None and cur.accept("ATTACH", "PARTITION"):
                child = cur.name()
                if child is not None and len(child) == 2:
                    self.attached.add((child[0], child[1]))


# --- lookups and small builders -----------------------------------------------------------------------------------


def _ident(parts: tuple[str, ...]) -> sql.Identifier:
    return sql.Identifier(*parts)


def _regclass(parts: tuple[str, ...]) -> sql.Composable:
    """`'"schema"."name"'::regclass`: the quoted name as a string literal, so any name is safe."""
    return sql.SQL("{}::pg_catalog.regclass").format(sql.Literal(_ident(parts).as_string()))


def _relation(snapshot: Snapshot, parts: tuple[str, ...]) -> Relation | None:
    if len(parts) == 2:
        return snapshot.relation_named(parts[0], parts[1])
    if len(parts) == 1:
        found = [r for r in snapshot.relations if r.name == parts[0]]
        return found[0] if len(found) == 1 else None
    return None


def _rel_parts(rel: Relation | None, parts: tuple[str, ...]) -> tuple[str, ...]:
    return (rel.schema, rel.name) if rel is not None else parts


def _index(snapshot: Snapshot, schema: str | None, name: str) -> Index | None:
    found = [ix for ix in snapshot.indexes if ix.name == name and (schema is None or ix.schema == schema)]
    return found[0] if len(found) == 1 else None


def _policy(snapshot: Snapshot, rel: Relation | None, name: str) -> Policy | None:
    if rel is None:
        return None
    return next((p for p in snapshot.policies_of(rel.oid) if p.name == name), None)


def _policy_create(pol: Policy, table: sql.Composable) -> sql.Composable:
    command = pol.command if pol.command in ("ALL", "SELECT", "INSERT", "UPDATE", "DELETE") else "ALL"
    parts: list[sql.Composable] = [
        sql.SQL("CREATE POLICY {} ON {} AS {} FOR {} TO {}").format(
            sql.Identifier(pol.name),
            table,
            sql.SQL("PERMISSIVE" if pol.permissive else "RESTRICTIVE"),
            sql.SQL(command),
            roles_list(list(pol.roles) or ["PUBLIC"]),
        )
    ]
    if pol.using is not None:
        parts.append(sql.SQL("USING ({})").format(sql.SQL(pol.using)))
    if pol.with_check is not None:
        parts.append(sql.SQL("WITH CHECK ({})").format(sql.SQL(pol.with_check)))
    return sql.SQL(" ").join(parts)


def _policy_check(table: tuple[str, ...], name: str) -> sql.Composable:
    return sql.SQL(
        "SELECT p.polname, p.polpermissive, p.polcmd, p.polroles::pg_catalog.regrole[] AS roles, "
        "pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using_expr, "
        "pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check_expr "
        "FROM pg_catalog.pg_policy p WHERE p.polrelid = {} AND p.polname = {}"
    ).format(_regclass(table), sql.Literal(name))


def _rls_check(table: tuple[str, ...]) -> sql.Composable:
    return sql.SQL("SELECT c.relrowsecurity, c.relforcerowsecurity FROM pg_catalog.pg_class c WHERE c.oid = {}").format(
        _regclass(table)
    )


def _options_check(table: tuple[str, ...]) -> sql.Composable:
    return sql.SQL("SELECT c.reloptions FROM pg_catalog.pg_class c WHERE c.oid = {}").format(_regclass(table))


def _constraint_check(table: tuple[str, ...], name: str) -> sql.Composable:
    return sql.SQL(
        "SELECT c.conname, c.contype, c.convalidated, pg_catalog.pg_get_constraintdef(c.oid) AS definition "
        "FROM pg_catalog.pg_constraint c WHERE c.conrelid = {} AND c.conname = {}"
    ).format(_regclass(table), sql.Literal(name))


def _column_check(table: tuple[str, ...], column: str) -> sql.Composable:
    return sql.SQL(
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull, "
        "pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default_expr FROM pg_catalog.pg_attribute a "
        "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = {} AND a.attname = {} AND NOT a.attisdropped"
    ).format(_regclass(table), sql.Literal(column))


def _index_check(parts: tuple[str, ...]) -> sql.Composable:
    literal = sql.Literal(_ident(parts).as_string())
    return sql.SQL(
        "SELECT pg_catalog.to_regclass({}) IS NOT NULL AS present, "
        "(SELECT i.indisvalid FROM pg_catalog.pg_index i WHERE i.indexrelid = pg_catalog.to_regclass({})) AS valid"
    ).format(literal, literal)


def _exists_check(parts: tuple[str, ...]) -> sql.Composable:
    return sql.SQL("SELECT pg_catalog.to_regclass({}) IS NOT NULL AS present").format(
        sql.Literal(_ident(parts).as_string())
    )


def _restore_options(
    keyword: str, target: sql.Composable, rel: Relation | None, names: list[str]
) -> tuple[list[sql.Composable], str | None]:
    """SET the options the statement touched back to their snapshot values, RESET those that had none."""
    if rel is None:
        return [], "the relation is not in the snapshot: restore its options by hand"
    safe = [n for n in names if _OPTION_NAME.fullmatch(n)]
    note = None if len(safe) == len(names) else "some option names were not understood: restore them by hand"
    kept = [
        sql.SQL("{} = {}").format(sql.SQL(n), sql.Literal(value)) for n in safe if (value := rel.option(n)) is not None
    ]
    absent = [sql.SQL(n) for n in safe if rel.option(n) is None]
    out: list[sql.Composable] = []
    if kept:
        out.append(sql.SQL("ALTER {} {} SET ({})").format(sql.SQL(keyword), target, sql.SQL(", ").join(kept)))
    if absent:
        out.append(sql.SQL("ALTER {} {} RESET ({})").format(sql.SQL(keyword), target, sql.SQL(", ").join(absent)))
    return out, note


def _option_names(cur: Cursor) -> list[str] | None:
    """Names inside `SET ( a = 1, b )` / `RESET ( a, b )`, the cursor standing on the parenthesis."""
    group = cur.group()
    if group is None:
        return None
    names = []
    for a, _ in cur.items(*group):
        name = cur.tokens[a].name
        if name is None:
            return None
        names.append(name)
    return names


# --- the planner ------------------------------------------------------------------------------------------------


def plan_statement(st: Statement, ctx: PlanContext) -> StatementPlan:
    """Rollback statements and verification queries for one forward statement."""
    w = st.words
    first, second = (*w, "", "")[:2]
    try:
        if first == "ALTER" and second == "TABLE":
            return _alter_table(st, ctx)
        if first == "ALTER" and second == "VIEW":
            return _alter_view(st, ctx)
        if second == "POLICY" and first in ("CREATE", "ALTER", "DROP"):
            return _policy_statement(st, ctx, first)
        if first == "CREATE" and "INDEX" in w[1:3]:
            return _create_index(st, ctx)
        if first == "DROP" and second == "INDEX":
            return _drop_index(st, ctx)
        if first == "ALTER" and second == "INDEX":
            return _alter_index(st)
        if first in ("GRANT", "REVOKE"):
            return _grant(st, ctx, first == "GRANT")
        if first == "ALTER" and second in ("FUNCTION", "PROCEDURE", "ROUTINE"):
            return _alter_function(st, ctx)
        if first == "ALTER" and second == "EXTENSION":
            return _alter_extension(st, ctx)
        if first == "CREATE" and second == "SCHEMA":
            return _create_schema(st, ctx)
        if first == "ALTER" and second == "SEQUENCE":
            return _alter_sequence(st, ctx)
        if first == "CREATE" and "TABLE" in w[1:4]:
            return _create_table(st, ctx)
        if first in ("VACUUM", "ANALYZE"):
            return _maintenance(st)
    except _NotUnderstood:
        pass
    if first in ("UPDATE", "INSERT", "DELETE", "MERGE", "TRUNCATE"):
        return StatementPlan(note="changes data, which the snapshot does not hold: restore it from a backup")
    if first in ("SET", "RESET", "SELECT", "SHOW", "BEGIN", "COMMIT", "START", "END", "ROLLBACK"):
        return StatementPlan()
    return StatementPlan(note="no automatic rollback for this statement: restore the previous state by hand")


class _NotUnderstood(Exception):
    """The statement has a shape the planner does not handle."""


def _need(value: object) -> None:
    if value is None or value is False:
        raise _NotUnderstood


# --- ALTER TABLE --------------------------------------------------------------------------------------------------


def _alter_table(st: Statement, ctx: PlanContext) -> StatementPlan:
    cur = Cursor(st, 2)
    cur.accept("IF", "EXISTS")
    cur.accept("ONLY")
    parts = cur.name()
    _need(parts)
    assert parts is not None
    rel = _relation(ctx.snapshot, parts)
    table = _rel_parts(rel, parts)
    target = _ident(table)
    rollbacks: list[list[sql.Composable]] = []
    notes: list[str] = []
    checks: list[sql.Composable] = []
    for a, b in cur.items(cur.pos, len(cur.tokens)):
        back, note, check = _alter_table_action(Cursor(st, a, end=b), ctx, rel, table, target)
        rollbacks.append(back)
        if note:
            notes.append(note)
        checks.extend(check)
    ordered = [s for back in reversed(rollbacks) for s in back]
    return StatementPlan(tuple(ordered), "; ".join(dict.fromkeys(notes)) or None, tuple(_unique(checks)))


def _unique(items: Iterable[sql.Composable]) -> list[sql.Composable]:
    seen: dict[str, sql.Composable] = {}
    for item in items:
        seen.setdefault(item.as_string(), item)
    return list(seen.values())


_ActionPlan = tuple[list[sql.Composable], str | None, list[sql.Composable]]


def _alter_table_action(
    cur: Cursor, ctx: PlanContext, rel: Relation | None, table: tuple[str, ...], target: sql.Composable
) -> _ActionPlan:
    alter = sql.SQL("ALTER TABLE {} ").format(target)
    missing = f"{'.'.join(table)} is not in the snapshot"
    for enable in ("ENABLE", "DISABLE"):
        if cur.accept(enable, "ROW", "LEVEL", "SECURITY"):
            if rel is None:
                return [], missing, [_rls_check(table)]
            flag = "ENABLE" if rel.rls_enabled else "DISABLE"
            return [alter + sql.SQL(f"{flag} ROW LEVEL SECURITY")], None, [_rls_check(table)]
    if cur.accept("FORCE", "ROW", "LEVEL", "SECURITY") or cur.accept("NO", "FORCE", "ROW", "LEVEL", "SECURITY"):
        if rel is None:
            return [], missing, [_rls_check(table)]
        flag = "FORCE" if rel.rls_forced else "NO FORCE"
        return [alter + sql.SQL(f"{flag} ROW LEVEL SECURITY")], None, [_rls_check(table)]
    if cur.accept("ADD"):
        return _add(cur, ctx, rel, table, alter)
    if cur.accept("DROP", "CONSTRAINT"):
        cur.accept("IF", "EXISTS")
        name = cur.name()
        _need(name)
        assert name is not None
        con = next((c for c in ctx.snapshot.constraints_of(rel.oid) if c.name == name[-1]), None) if rel else None
        check = [_constraint_check(table, name[-1])]
        if con is None or not con.definition:
            return [], f"constraint {name[-1]} is not in the snapshot: re-create it by hand", check
        add = alter + sql.SQL("ADD CONSTRAINT {} {}").format(sql.Identifier(con.name), sql.SQL(con.definition))
        return [add], None, check
    if cur.accept("DROP"):
        cur.accept("COLUMN")
        cur.accept("IF", "EXISTS")
        column = cur.name()
        check = [_column_check(table, column[-1])] if column else []
        return [], "a dropped column's data cannot be restored from the snapshot: restore it from a backup", check
    if cur.accept("VALIDATE", "CONSTRAINT"):
        name = cur.name()
        _need(name)
        assert name is not None
        con = next((c for c in ctx.snapshot.constraints_of(rel.oid) if c.name == name[-1]), None) if rel else None
        check = [_constraint_check(table, name[-1])]
        if con is None or con.validated or not con.definition:
            return [], None, check  # created by this script (its ADD is undone) or already valid
        definition = con.definition if con.definition.endswith("NOT VALID") else con.definition + " NOT VALID"
        drop = alter + sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(con.name))
        add = alter + sql.SQL("ADD CONSTRAINT {} {}").format(sql.Identifier(con.name), sql.SQL(definition))
        return [drop, add], None, check
    if cur.accept("ALTER"):
        return _alter_column(cur, rel, table, alter)
    if cur.accept("REPLICA", "IDENTITY"):
        check = [sql.SQL("SELECT c.relreplident FROM pg_catalog.pg_class c WHERE c.oid = {}").format(_regclass(table))]
        if rel is None:
            return [], missing, check
        current = next((ix for ix in ctx.snapshot.indexes_of(rel.oid) if ix.is_replica_identity), None)
        if current is not None:
            using = alter + sql.SQL("REPLICA IDENTITY USING INDEX {}").format(sql.Identifier(current.name))
            return [using], None, check
        note = "the snapshot does not record FULL or NOTHING: DEFAULT is restored"
        return [alter + sql.SQL("REPLICA IDENTITY DEFAULT")], note, check
    if cur.word() in ("SET", "RESET") and (t := cur.token(1)) is not None and t.text == "(":
        cur.pos += 1
        names = _option_names(cur)
        _need(names)
        assert names is not None
        restore, restore_note = _restore_options("TABLE", target, rel, names)
        return restore, restore_note, [_options_check(table)]
    raise _NotUnderstood


def _add(
    cur: Cursor, ctx: PlanContext, rel: Relation | None, table: tuple[str, ...], alter: sql.Composable
) -> _ActionPlan:
    if cur.accept("CONSTRAINT"):
        name = cur.name()
        _need(name)
        assert name is not None
        check = [_constraint_check(table, name[-1])]
        back: list[sql.Composable] = [alter + sql.SQL("DROP CONSTRAINT IF EXISTS {}").format(sql.Identifier(name[-1]))]
        primary = cur.word() == "PRIMARY"
        if cur.skip_to("USING", "INDEX"):
            index = cur.name()
            _need(index)
            assert index is not None
            ix = _index(ctx.snapshot, table[0] if len(table) == 2 else None, index[-1])
            if ix is None or not ix.definition:
                return back, f"index {index[-1]} is not in the snapshot: re-create it by hand", check
            # Promotion renamed the index to the constraint; dropping the constraint dropped it.
            back.append(sql.SQL(ix.definition))
            if primary and rel is not None:
                for attnum in ix.key_columns:
                    col = rel.column(attnum)
                    if col is not None and not col.not_null:
                        back.append(alter + sql.SQL("ALTER COLUMN {} DROP NOT NULL").format(sql.Identifier(col.name)))
        return back, None, check
    if cur.word() in ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE"):
        return [], "the server names this constraint itself: find it with the verification query and drop it", []
    cur.accept("COLUMN")
    exists_guard = cur.accept("IF", "NOT", "EXISTS")
    column = cur.name()
    _need(column)
    assert column is not None
    check = [_column_check(table, column[-1])]
    if exists_guard and rel is not None and rel.column_named(column[-1]) is not None:
        return [], None, check
    return [alter + sql.SQL("DROP COLUMN IF EXISTS {}").format(sql.Identifier(column[-1]))], None, check


def _alter_column(cur: Cursor, rel: Relation | None, table: tuple[str, ...], alter: sql.Composable) -> _ActionPlan:
    cur.accept("COLUMN")
    name = cur.name()
    _need(name)
    assert name is not None
    column = name[-1]
    check = [_column_check(table, column)]
    col = rel.column_named(column) if rel is not None else None
    if col is None:
        return [], f"column {column} is not in the snapshot: restore it by hand", check
    head = alter + sql.SQL("ALTER COLUMN {} ").format(sql.Identifier(column))
    if cur.accept("SET", "NOT", "NULL") or cur.accept("DROP", "NOT", "NULL"):
        return [head + sql.SQL("SET NOT NULL" if col.not_null else "DROP NOT NULL")], None, check
    if cur.accept("SET", "DATA", "TYPE") or cur.accept("TYPE"):
        back = head + sql.SQL("TYPE {} USING {}::{}").format(
            sql.SQL(col.type), sql.Identifier(column), sql.SQL(col.type)
        )
        return [back], None, check
    if cur.accept("SET", "DEFAULT") or cur.accept("DROP", "DEFAULT"):
        if col.default is None:
            return [head + sql.SQL("DROP DEFAULT")], None, check
        return [head + sql.SQL("SET DEFAULT {}").format(sql.SQL(col.default))], None, check
    raise _NotUnderstood


# --- views, policies ----------------------------------------------------------------------------------------------


def _alter_view(st: Statement, ctx: PlanContext) -> StatementPlan:
    cur = Cursor(st, 2)
    cur.accept("IF", "EXISTS")
    parts = cur.name()
    _need(parts)
    assert parts is not None
    rel = _relation(ctx.snapshot, parts)
    view = _rel_parts(rel, parts)
    if cur.word() not in ("SET", "RESET") or (t := cur.token(1)) is None or t.text != "(":
        raise _NotUnderstood
    cur.pos += 1
    names = _option_names(cur)
    _need(names)
    assert names is not None
    back, note = _restore_options("VIEW", _ident(view), rel, names)
    return StatementPlan(tuple(back), note, (_options_check(view),))


def _policy_statement(st: Statement, ctx: PlanContext, verb: str) -> StatementPlan:
    cur = Cursor(st, 2)
    if verb == "DROP":
        cur.accept("IF", "EXISTS")
    name = cur.name()
    _need(name and len(name) == 1 and cur.accept("ON"))
    assert name is not None
    parts = cur.name()
    _need(parts)
    assert parts is not None
    rel = _relation(ctx.snapshot, parts)
    table = _rel_parts(rel, parts)
    target = _ident(table)
    policy = name[0]
    check = (_policy_check(table, policy),)
    original = _policy(ctx.snapshot, rel, policy)
    if verb == "CREATE":
        drop = sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(sql.Identifier(policy), target)
        return StatementPlan((drop,), None, check)
    if original is None:
        return StatementPlan((), f"policy {policy} is not in the snapshot: restore it by hand", check)
    if verb == "DROP":
        return StatementPlan((_policy_create(original, target),), None, check)
    # ALTER POLICY: put back what the statement changed.
    if cur.accept("RENAME"):
        return StatementPlan((), "a renamed policy is not restored automatically: rename it back by hand", check)
    rest = [t.word for t in cur.tokens[cur.pos :]]
    touches_roles = cur.word() == "TO"
    touches_using = _has_clause(cur, "USING")
    touches_check = _has_clause(cur, "WITH", "CHECK")
    _need(touches_roles or touches_using or touches_check or not rest)
    if (touches_using and original.using is None) or (touches_check and original.with_check is None):
        # ALTER POLICY cannot remove a clause: re-create the original policy.
        drop = sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(sql.Identifier(policy), target)
        return StatementPlan((drop, _policy_create(original, target)), None, check)
    clauses: list[sql.Composable] = [sql.SQL("ALTER POLICY {} ON {}").format(sql.Identifier(policy), target)]
    if touches_roles:
        clauses.append(sql.SQL("TO {}").format(roles_list(list(original.roles) or ["PUBLIC"])))
    if touches_using and original.using is not None:
        clauses.append(sql.SQL("USING ({})").format(sql.SQL(original.using)))
    if touches_check and original.with_check is not None:
        clauses.append(sql.SQL("WITH CHECK ({})").format(sql.SQL(original.with_check)))
    if len(clauses) == 1:
        return StatementPlan((), None, check)
    return StatementPlan((sql.SQL(" ").join(clauses),), None, check)


def _has_clause(cur: Cursor, *words: str) -> bool:
    probe = Cursor(cur.statement, cur.pos)
    return probe.skip_to(*words)


# --- indexes ------------------------------------------------------------------------------------------------------


def _create_index(st: Statement, ctx: PlanContext) -> StatementPlan:
    cur = Cursor(st, 1)
    cur.accept("UNIQUE")
    _need(cur.accept("INDEX"))
    concurrently = cur.accept("CONCURRENTLY")
    guarded = cur.accept("IF", "NOT", "EXISTS")
    if cur.word() == "ON":
        return StatementPlan((), "the server names this index itself: find it and drop it by hand")
    name = cur.name()
    _need(name and len(name) == 1 and cur.accept("ON"))
    assert name is not None
    only = cur.accept("ONLY")
    table = cur.name()
    _need(table)
    assert table is not None
    rel = _relation(ctx.snapshot, table)
    schema = rel.schema if rel is not None else (table[0] if len(table) == 2 else None)
    _need(schema)
    assert schema is not None
    parts = (schema, name[0])
    check = (_index_check(parts),)
    if guarded and _index(ctx.snapshot, schema, name[0]) is not None:
        return StatementPlan((), None, check)
    if parts in ctx.attached:
        return StatementPlan((), None, check)  # dropped together with the partitioned index it is attached to
    keyword = "DROP INDEX CONCURRENTLY IF EXISTS {}" if concurrently and not only else "DROP INDEX IF EXISTS {}"
    return StatementPlan((sql.SQL(keyword).format(_ident(parts)),), None, check)


def _drop_index(st: Statement, ctx: PlanContext) -> StatementPlan:
    cur = Cursor(st, 2)
    concurrently = cur.accept("CONCURRENTLY")
    cur.accept("IF", "EXISTS")
    back: list[sql.Composable] = []
    notes: list[str] = []
    checks: list[sql.Composable] = []
    while True:
        parts = cur.name()
        _need(parts)
        assert parts is not None
        schema = parts[0] if len(parts) == 2 else None
        ix = _index(ctx.snapshot, schema, parts[-1])
        checks.append(_index_check(parts))
        if ix is None or not ix.definition:
            notes.append(f"index {parts[-1]} is not in the snapshot: re-create it by hand")
        elif not ix.is_valid:
            notes.append(f"index {ix.name} was invalid (a failed build): there is nothing to restore")
        elif ix.parent_oid is not None:
            notes.append(f"index {ix.name} was attached to a partitioned index: re-create and attach it by hand")
        else:
            back.append(sql.SQL(_restorable_index_definition(ctx.snapshot, ix, concurrently)))
        if not cur.punct(","):
            break
    return StatementPlan(tuple(back), "; ".join(notes) or None, tuple(checks))


def _restorable_index_definition(snapshot: Snapshot, ix: Index, concurrently: bool) -> str:
    """pg_get_indexdef() text, built CONCURRENTLY when the drop was, and recursing into partitions."""
    table = snapshot.relation(ix.table_oid)
    definition = ix.definition
    if table is not None and table.kind == "p":
        # A partitioned index prints as ON ONLY; without ONLY the server builds every partition's index too.
        return re.sub(r"^(CREATE (?:UNIQUE )?INDEX \S+ ON )ONLY ", r"\1", definition, count=1)
    if concurrently:
        return re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ", definition, count=1)
    return definition


def _alter_index(st: Statement) -> StatementPlan:
    cur = Cursor(st, 2)
    parts = cur.name()
    if parts is not None and cur.accept("ATTACH", "PARTITION"):
        child = cur.name()
        _need(child)
        assert child is not None
        # Undone by the DROP of the partitioned index, which drops the attached indexes with it.
        return StatementPlan((), None, (_index_check(parts),))
    raise _NotUnderstood


# --- GRANT / REVOKE -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Privilege:
    name: str  # upper-case, or "ALL"
    columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _GrantTarget:
    on: sql.Composable  # "TABLE x", "FUNCTION f(int)", "SCHEMA s", "SEQUENCE s"
    grants: tuple[Grant, ...]
    owner: str
    column_grants: tuple[tuple[str, tuple[Grant, ...]], ...]
    check: sql.Composable


def _grant(st: Statement, ctx: PlanContext, is_grant: bool) -> StatementPlan:
    cur = Cursor(st, 1)
    option_only = not is_grant and cur.accept("GRANT", "OPTION", "FOR")
    _need(cur.skip_to("ON"))
    on_index = cur.pos - 1
    privileges = _privileges(Cursor(st, 1 + (3 if option_only else 0)), on_index)
    targets = _grant_targets(cur, ctx)
    _need(cur.accept("TO" if is_grant else "FROM"))
    grantees = cur.role_list()
    _need(grantees)
    assert grantees is not None
    with_option = is_grant and cur.accept("WITH", "GRANT", "OPTION")
    back: list[sql.Composable] = []
    for target in targets:
        for grantee in grantees:
            if is_grant:
                back.extend(_undo_grant(target, grantee, privileges, with_option))
            else:
                back.extend(_undo_revoke(target, grantee, privileges, option_only))
    return StatementPlan(tuple(back), None, tuple(_unique(t.check for t in targets)))


def _privileges(cur: Cursor, end: int) -> list[_Privilege]:
    out: list[_Privilege] = []
    for a, b in cur.items(cur.pos, end):
        item = Cursor(cur.statement, a)
        word = item.word()
        _need(word in _PRIVILEGES or word == "ALL")
        item.pos += 1
        if word == "ALL":
            item.accept("PRIVILEGES")
        columns: tuple[str, ...] = ()
        if item.pos < b:
            group = item.group()
            _need(group)
            assert group is not None
            names = item.names_in(*group)
            _need(names)
            assert names is not None
            columns = tuple(names)
        _need(item.pos == b)
        out.append(_Privilege(word, columns))
    _need(out)
    return out


def _grant_targets(cur: Cursor, ctx: PlanContext) -> list[_GrantTarget]:
    kind = cur.word()
    if kind in ("TABLE", "SEQUENCE", "FUNCTION", "PROCEDURE", "ROUTINE", "SCHEMA"):
        cur.pos += 1
    else:
        _need(kind not in ("ALL", "DATABASE", "DOMAIN", "TYPE", "LANGUAGE", "TABLESPACE", "FOREIGN", "LARGE"))
        kind = "TABLE"
    out: list[_GrantTarget] = []
    while True:
        start = cur.pos
        parts = cur.name()
        _need(parts)
        assert parts is not None
        if kind in ("FUNCTION", "PROCEDURE", "ROUTINE"):
            group = cur.group()
            _need(group)
            out.append(_function_target(ctx, cur.text(start, cur.pos), parts))
        elif kind == "SCHEMA":
            schema = ctx.snapshot.schema(parts[-1])
            check = sql.SQL("SELECT n.nspacl FROM pg_catalog.pg_namespace n WHERE n.nspname = {}").format(
                sql.Literal(parts[-1])
            )
            on = sql.SQL("SCHEMA {}").format(sql.Identifier(parts[-1]))
            out.append(_GrantTarget(on, schema.grants if schema else (), schema.owner if schema else "", (), check))
        else:
            out.append(_relation_target(ctx, kind, parts))
        if not cur.punct(","):
            return out


def _relation_target(ctx: PlanContext, kind: str, parts: tuple[str, ...]) -> _GrantTarget:
    check: sql.Composable = sql.SQL(
        "SELECT c.relacl, ARRAY(SELECT a.attname || '=' || a.attacl::text FROM pg_catalog.pg_attribute a "
    )
    check += sql.SQL("WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL) AS column_acls ")
    check += sql.SQL("FROM pg_catalog.pg_class c WHERE c.oid = {}").format(_regclass(parts))
    if kind == "SEQUENCE" or (len(parts) == 2 and _relation(ctx.snapshot, parts) is None):
        seq = next((s for s in ctx.snapshot.sequences if len(parts) == 2 and (s.schema, s.name) == parts), None)
        if seq is not None:
            return _GrantTarget(sql.SQL("SEQUENCE {}").format(_ident(parts)), seq.grants, seq.owner, (), check)
    rel = _relation(ctx.snapshot, parts)
    if rel is None:
        return _GrantTarget(sql.SQL("TABLE {}").format(_ident(parts)), (), "", (), check)
    columns = tuple((c.name, c.grants) for c in rel.columns if c.grants)
    return _GrantTarget(sql.SQL("TABLE {}").format(rel_ident(rel)), rel.grants, rel.owner, columns, check)


def _function_target(ctx: PlanContext, text: str, parts: tuple[str, ...]) -> _GrantTarget:
    fn = _function(ctx.snapshot, text, parts)
    _need(fn)
    assert fn is not None
    check = sql.SQL("SELECT p.proacl FROM pg_catalog.pg_proc p WHERE p.oid = {}::pg_catalog.regprocedure").format(
        sql.Literal(function_ident(fn).as_string())
    )
    keyword = sql.SQL("PROCEDURE" if fn.kind == "p" else "FUNCTION")
    return _GrantTarget(sql.SQL("{} {}").format(keyword, function_ident(fn)), fn.grants, fn.owner, (), check)


def _function(snapshot: Snapshot, text: str, parts: tuple[str, ...]) -> Function | None:
    """The function a statement names: by its exact `"schema"."name"(args)` text, else by a unique name."""
    squeezed = re.sub(r"\s+", "", text)
    for fn in snapshot.functions:
        if re.sub(r"\s+", "", function_ident(fn).as_string()) == squeezed:
            return fn
    candidates = [
        fn for fn in snapshot.functions if fn.name == parts[-1] and (len(parts) == 1 or fn.schema == parts[0])
    ]
    return candidates[0] if len(candidates) == 1 else None


def _held(grants: Iterable[Grant], grantee: str, privilege: str) -> Grant | None:
    return next((g for g in grants if g.grantee == grantee and g.privilege == privilege), None)


def _grant_stmt(privileges: list[str], on: sql.Composable, grantee: str, columns: tuple[str, ...] = ()) -> sql.Composed:
    cols = sql.SQL(" ({})").format(sql.SQL(", ").join(map(sql.Identifier, columns))) if columns else sql.SQL("")
    return sql.SQL("GRANT {}{} ON {} TO {}").format(
        sql.SQL(", ").join(map(sql.SQL, privileges)), cols, on, role_ident(grantee)
    )


def _revoke_stmt(
    privileges: list[str], on: sql.Composable, grantee: str, columns: tuple[str, ...] = ()
) -> sql.Composed:
    cols = sql.SQL(" ({})").format(sql.SQL(", ").join(map(sql.Identifier, columns))) if columns else sql.SQL("")
    return sql.SQL("REVOKE {}{} ON {} FROM {}").format(
        sql.SQL(", ").join(map(sql.SQL, privileges)), cols, on, role_ident(grantee)
    )


def _expand(privileges: list[_Privilege], target: _GrantTarget, grantee: str) -> list[_Privilege]:
    """ALL becomes every privilege the grantee held, on the object or its columns (enough to restore them)."""
    out: list[_Privilege] = []
    for p in privileges:
        if p.name != "ALL":
            out.append(p)
            continue
        held = {g.privilege for g in target.grants if g.grantee == grantee}
        held |= {g.privilege for _, grants in target.column_grants for g in grants if g.grantee == grantee}
        out.extend(_Privilege(name, p.columns) for name in sorted(held & _PRIVILEGES))
    return out


def _column_grants_of(target: _GrantTarget, grantee: str, privilege: str) -> list[tuple[str, Grant]]:
    return [
        (column, g)
        for column, grants in target.column_grants
        for g in grants
        if g.grantee == grantee and g.privilege == privilege
    ]


def _undo_revoke(
    target: _GrantTarget, grantee: str, privileges: list[_Privilege], option_only: bool
) -> list[sql.Composable]:
    plain: list[str] = []
    grantable: list[str] = []
    columns: dict[tuple[str, bool], list[str]] = {}
    for p in _expand(privileges, target, grantee):
        if p.columns:
            for column, g in _column_grants_of(target, grantee, p.name):
                if column in p.columns and (g.grantable or not option_only):
                    columns.setdefault((p.name, g.grantable), []).append(column)
            continue
        held = _held(target.grants, grantee, p.name)
        if held is not None and (held.grantable or not option_only):
            (grantable if held.grantable else plain).append(p.name)
        # A table-level REVOKE also revokes the grantee's column-level grants of that privilege.
        for column, g in _column_grants_of(target, grantee, p.name):
            if g.grantable or not option_only:
                columns.setdefault((p.name, g.grantable), []).append(column)
    out: list[sql.Composable] = []
    if plain:
        out.append(_grant_stmt(plain, target.on, grantee))
    if grantable:
        out.append(_grant_stmt(grantable, target.on, grantee) + sql.SQL(" WITH GRANT OPTION"))
    for (privilege, with_option), cols in sorted(columns.items()):
        stmt = _grant_stmt([privilege], target.on, grantee, tuple(dict.fromkeys(cols)))
        out.append(stmt + sql.SQL(" WITH GRANT OPTION") if with_option else stmt)
    return out


def _undo_grant(
    target: _GrantTarget, grantee: str, privileges: list[_Privilege], with_option: bool
) -> list[sql.Composable]:
    out: list[sql.Composable] = []
    for p in privileges:
        if p.name == "ALL":
            return []  # GRANT ALL is never emitted by the checks; its exact undo needs the full ACL
        if p.columns:
            held = {c for c, _ in _column_grants_of(target, grantee, p.name)}
            new = tuple(c for c in p.columns if c not in held)
            if new:
                out.append(_revoke_stmt([p.name], target.on, grantee, new))
            continue
        held_grant = _held(target.grants, grantee, p.name)
        if held_grant is None:
            out.append(_revoke_stmt([p.name], target.on, grantee))
            # The table-level REVOKE also drops column grants the grantee held before: put them back.
            for column, g in _column_grants_of(target, grantee, p.name):
                stmt = _grant_stmt([p.name], target.on, grantee, (column,))
                out.append(stmt + sql.SQL(" WITH GRANT OPTION") if g.grantable else stmt)
        elif with_option and not held_grant.grantable:
            out.append(
                sql.SQL("REVOKE GRANT OPTION FOR {} ON {} FROM {}").format(
                    sql.SQL(p.name), target.on, role_ident(grantee)
                )
            )
    return out


# --- functions, extensions, schemas, sequences, tables --------------------------------------------------------------


def _alter_function(st: Statement, ctx: PlanContext) -> StatementPlan:
    cur = Cursor(st, 2)
    start = cur.pos
    parts = cur.name()
    _need(parts)
    assert parts is not None
    _need(cur.group())
    fn = _function(ctx.snapshot, cur.text(start, cur.pos), parts)
    if fn is None:
        return StatementPlan((), "the function is not in the snapshot: restore its settings by hand")
    params: list[str] = []
    security = False
    unknown = False
    words = [t.word for t in cur.tokens[cur.pos :]]
    for i, word in enumerate(words):
        if word in ("SET", "RESET") and i + 1 < len(words):
            token = cur.tokens[cur.pos + i + 1]
            if token.word == "ALL":
                unknown = True
            elif token.name is not None:
                params.append(token.name)
        elif word == "SECURITY":
            security = True
        elif i == 0 and word not in _FUNCTION_ACTIONS:
            unknown = True
    keyword = sql.SQL("PROCEDURE" if fn.kind == "p" else "FUNCTION")
    head = sql.SQL("ALTER {} {} ").format(keyword, function_ident(fn))
    back: list[sql.Composable] = []
    notes: list[str] = []
    if security:
        back.append(head + sql.SQL("SECURITY DEFINER" if fn.security_definer else "SECURITY INVOKER"))
    for param in dict.fromkeys(params):
        if not _OPTION_NAME.fullmatch(param):
            notes.append(f"setting {param} is not restored automatically")
            continue
        value = fn.setting(param)
        if value is None:
            back.append(head + sql.SQL("RESET {}").format(sql.SQL(param)))
        elif param == "search_path":
            restored = _search_path_value(value)
            if restored is None:
                notes.append("the original search_path could not be re-read: restore it by hand")
            else:
                back.append(head + sql.SQL("SET search_path = {}").format(restored))
        else:
            back.append(head + sql.SQL("SET {} = {}").format(sql.SQL(param), sql.Literal(value)))
    if unknown:
        notes.append("some changes of this statement are not restored automatically")
    check = sql.SQL(
        "SELECT p.prosecdef, p.proconfig FROM pg_catalog.pg_proc p WHERE p.oid = {}::pg_catalog.regprocedure"
    ).format(sql.Literal(function_ident(fn).as_string()))
    return StatementPlan(tuple(back), "; ".join(notes) or None, (check,))


def _search_path_value(value: str) -> sql.Composable | None:
    """proconfig's search_path (a list of names the server quoted itself) as SQL, or None if it is not one."""
    if value.strip() in ("", '""', "''"):
        return sql.SQL("''")
    for token in tokenize(value):
        if token.kind not in ("word", "ident", "string") and not (token.kind == "punct" and token.text == ","):
            return None
        if token.kind == "ident" and token.text == '""':
            return None
    return sql.SQL(value)


def _alter_extension(st: Statement, ctx: PlanContext) -> StatementPlan:
    cur = Cursor(st, 2)
    name = cur.name()
    _need(name and len(name) == 1)
    assert name is not None
    ext = ctx.snapshot.extension(name[0])
    check = sql.SQL(
        "SELECT e.extversion, e.extnamespace::pg_catalog.regnamespace AS schema FROM pg_catalog.pg_extension e "
        "WHERE e.extname = {}"
    ).format(sql.Literal(name[0]))
    if ext is None:
        return StatementPlan((), f"extension {name[0]} is not in the snapshot: restore it by hand", (check,))
    head = sql.SQL("ALTER EXTENSION {} ").format(sql.Identifier(ext.name))
    if cur.accept("UPDATE"):
        back = head + sql.SQL("UPDATE TO {}").format(sql.Literal(ext.installed_version))
        note = f"going back to version {ext.installed_version} works only if the extension ships a downgrade script"
        return StatementPlan((back,), note, (check,))
    if cur.accept("SET", "SCHEMA"):
        return StatementPlan((head + sql.SQL("SET SCHEMA {}").format(sql.Identifier(ext.schema)),), None, (check,))
    raise _NotUnderstood


def _create_schema(st: Statement, ctx: PlanContext) -> StatementPlan:
    cur = Cursor(st, 2)
    cur.accept("IF", "NOT", "EXISTS")
    name = cur.name()
    _need(name and len(name) == 1)
    assert name is not None
    check = sql.SQL("SELECT n.nspname, n.nspacl FROM pg_catalog.pg_namespace n WHERE n.nspname = {}").format(
        sql.Literal(name[0])
    )
    existed = ctx.snapshot.schema(name[0]) is not None or name[0] in ("public", "pg_catalog")
    if existed:
        return StatementPlan((), None, (check,))
    return StatementPlan((sql.SQL("DROP SCHEMA IF EXISTS {}").format(sql.Identifier(name[0])),), None, (check,))


def _alter_sequence(st: Statement, ctx: PlanContext) -> StatementPlan:
    cur = Cursor(st, 2)
    cur.accept("IF", "EXISTS")
    parts = cur.name()
    _need(parts and len(parts) == 2)
    assert parts is not None
    seq = next((s for s in ctx.snapshot.sequences if (s.schema, s.name) == parts), None)
    check = sql.SQL(
        "SELECT s.data_type, s.increment_by, s.min_value, s.max_value, s.cycle FROM pg_catalog.pg_sequences s "
        "WHERE s.schemaname = {} AND s.sequencename = {}"
    ).format(sql.Literal(parts[0]), sql.Literal(parts[1]))
    if seq is None or not _TYPE_NAME.fullmatch(seq.data_type):
        return StatementPlan((), "the sequence is not in the snapshot: restore its options by hand", (check,))
    back = sql.SQL("ALTER SEQUENCE {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} {}").format(
        _ident(parts),
        sql.SQL(seq.data_type),
        sql.Literal(seq.increment),
        sql.Literal(seq.min_value),
        sql.Literal(seq.max_value),
        sql.Literal(seq.start_value),
        sql.SQL("CYCLE" if seq.cycle else "NO CYCLE"),
    )
    return StatementPlan((back,), None, (check,))


def _create_table(st: Statement, ctx: PlanContext) -> StatementPlan:
    cur = Cursor(st, 1)
    _need(cur.skip_to("TABLE"))
    cur.accept("IF", "NOT", "EXISTS")
    parts = cur.name()
    _need(parts)
    assert parts is not None
    check = (_exists_check(parts),)
    if _relation(ctx.snapshot, parts) is not None:
        return StatementPlan((), None, check)
    note = None
    if "PARTITION" in st.words and "OF" in st.words:
        note = "dropping the new partition deletes the rows written to it since: check it is empty first"
    return StatementPlan((sql.SQL("DROP TABLE IF EXISTS {}").format(_ident(parts)),), note, check)


def _maintenance(st: Statement) -> StatementPlan:
    cur = Cursor(st, 1)
    cur.group()
    while cur.word() in ("VERBOSE", "ANALYZE", "ANALYSE", "FULL", "FREEZE"):
        cur.pos += 1
    parts = cur.name()
    if parts is None:
        return StatementPlan()
    check = sql.SQL(
        "SELECT s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze, s.n_dead_tup "
        "FROM pg_catalog.pg_stat_all_tables s WHERE s.relid = {}"
    ).format(_regclass(parts))
    return StatementPlan((), None, (check,))
