"""Integrity: missing and mistyped foreign keys, delete rules, NOT VALID constraints, NULL loopholes, numeric headroom.

Conventions shared by the checks of this module:

* Only user tables (kinds ``r`` and ``p``; not in a system schema, not an extension member) are judged.
  Partitions are judged through their parent: a constraint cloned onto a partition (``conparentid``), an
  index attached to a partitioned index and a partition's columns are never reported on their own.
* A column counts as NOT NULL when it is declared so or when a validated ``CHECK (col IS NOT NULL)`` exists
  (the state between the two steps of the lock-friendly SET NOT NULL recipe).
* Remediation that must run outside a transaction block, or in several transactions, says so in a leading SQL
  comment. Comments never contain object names, so a hostile name cannot escape them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext

from psycopg import sql

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.exposure import is_user_object, matches_any
from workbench.core.checks.indexes import not_null_predicate_columns
from workbench.core.checks.objects import column_ref, constraint_ref, index_ref, rel_ident, relation_ref, render
from workbench.core.checks.registry import CheckSpec, check
from workbench.core.model import Category, Column, Constraint, Finding, Index, Level, Relation, Snapshot

NAMEDATALEN = 63
_ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_RULE_SQL = {k: sql.SQL(v) for k, v in _ON_DELETE.items()}
_SEPARATE_TRANSACTION = (
    "-- Commit first: run in the same transaction, the next statement would scan while the lock taken above\n"
    "-- is still held.\n"
)


# --------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------


def _user_table(snapshot: Snapshot, oid: int | None) -> Relation | None:
    """The relation when it is a user table or partitioned table that is not itself a partition."""
    rel = snapshot.relation(oid) if oid is not None else None
    if rel is None or rel.kind not in "rp" or rel.parent_oid is not None:
        return None
    return rel if is_user_object(snapshot, rel.schema, rel.extension) else None


def _user_tables(snapshot: Snapshot) -> Iterator[Relation]:
    for rel in snapshot.relations:
        if _user_table(snapshot, rel.oid) is rel:
            yield rel


def _foreign_keys(snapshot: Snapshot) -> Iterator[tuple[Relation, Constraint]]:
    """Every foreign key declared on a user table (clones on partitions excluded)."""
    for rel in _user_tables(snapshot):
        for con in snapshot.constraints_of(rel.oid):
            if con.type == "f" and con.parent_oid is None and con.ref_table_oid is not None:
                yield rel, con


def _names(rel: Relation, attnums: Iterable[int]) -> list[str]:
    return [(col.name if (col := rel.column(n)) else f"#{n}") for n in attnums]


def _rows(rel: Relation, snapshot: Snapshot) -> int | None:
    """Estimated rows (pg_class.reltuples); a partitioned table sums its partitions. None when never counted."""
    if rel.kind != "p":
        return int(rel.reltuples) if rel.reltuples >= 0 else None
    parts = [p for p in snapshot.relations if p.parent_oid == rel.oid]
    counts = [_rows(p, snapshot) for p in parts]
    known = [c for c in counts if c is not None]
    return sum(known) if known else None


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _is_not_null_check(con: Constraint, column: str) -> bool:
    """Whether `con` is exactly `CHECK (column IS NOT NULL)`, in the server's own deparsed form."""
    forms = {f"CHECK (({name} IS NOT NULL))" for name in (column, _quote_ident(column))}
    return con.type == "c" and con.definition in forms


def _effectively_not_null(snapshot: Snapshot, rel: Relation, col: Column) -> bool:
    if col.not_null:
        return True
    return any(
        _is_not_null_check(con, col.name) and con.validated and con.columns == (col.attnum,)
        for con in snapshot.constraints_of(rel.oid)
    )


def _truncate(name: str, limit: int = NAMEDATALEN) -> str:
    raw = name.encode("utf-8")
    return name if len(raw) <= limit else raw[:limit].decode("utf-8", errors="ignore")


def _new_constraint_name(snapshot: Snapshot, rel: Relation, parts: list[str], suffix: str) -> str:
    """PostgreSQL's naming scheme (`table_col_fkey`, then `…_fkey1`), avoiding the table's constraint names."""
    used = {c.name for c in snapshot.constraints_of(rel.oid)}
    base, n, tail = "_".join([rel.name, *parts]), 0, "_" + suffix
    while True:
        name = _truncate(base, NAMEDATALEN - len(tail)) + tail
        if name not in used:
            return name
        n += 1
        tail = f"_{suffix}{n}"


def _new_index_name(snapshot: Snapshot, rel: Relation, parts: list[str], suffix: str) -> str:
    used = {r.name for r in snapshot.relations if r.schema == rel.schema}
    used |= {i.name for i in snapshot.indexes if i.schema == rel.schema}
    used |= {s.name for s in snapshot.sequences if s.schema == rel.schema}
    base, n, tail = "_".join([rel.name, *parts]), 0, "_" + suffix
    while True:
        name = _truncate(base, NAMEDATALEN - len(tail)) + tail
        if name not in used:
            return name
        n += 1
        tail = f"_{suffix}{n}"


def _idents(names: Iterable[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _orphans_query(rel: Relation, columns: list[str], parent: Relation, ref_columns: list[str]) -> sql.Composable:
    """Counts the rows whose (non-NULL) key has no parent row: what VALIDATE CONSTRAINT would reject."""
    not_null = sql.SQL(" AND ").join(sql.SQL("c.{} IS NOT NULL").format(sql.Identifier(c)) for c in columns)
    match = sql.SQL(" AND ").join(
        sql.SQL("p.{} = c.{}").format(sql.Identifier(r), sql.Identifier(c))
        for c, r in zip(columns, ref_columns, strict=True)
    )
    return sql.SQL(
        "SELECT count(*) AS orphan_rows FROM {} c WHERE {} AND NOT EXISTS (SELECT FROM {} p WHERE {})"
    ).format(rel_ident(rel), not_null, rel_ident(parent), match)


def _leading_index(snapshot: Snapshot, rel: Relation, attnum: int) -> str | None:
    for ix in snapshot.indexes_of(rel.oid):
        if ix.key_columns[:1] == (attnum,) and ix.is_valid and ix.predicate is None:
            return ix.name
    return None


# --------------------------------------------------------------------------------------------------
# missing_foreign_key
# --------------------------------------------------------------------------------------------------


def _parent_names(stem: str) -> list[str]:
    """The table names `<stem>_id` may point at: stem, stems, stemes, and y → ies."""
    names = [stem, stem + "s", stem + "es"]
    if stem.endswith("y") and len(stem) > 1:
        names.append(stem[:-1] + "ies")
    return names


def _single_pk(snapshot: Snapshot, rel: Relation) -> Column | None:
    for con in snapshot.constraints_of(rel.oid):
        if con.type == "p" and len(con.columns) == 1:
            return rel.column(con.columns[0])
    return None


@dataclass(frozen=True, slots=True)
class _Parent:
    table: Relation
    key: Column


def _tables_by_name(snapshot: Snapshot) -> dict[str, list[Relation]]:
    out: dict[str, list[Relation]] = {}
    for rel in _user_tables(snapshot):
        out.setdefault(rel.name, []).append(rel)
    return out


def _candidate_parent(
    snapshot: Snapshot, by_name: dict[str, list[Relation]], rel: Relation, col: Column, stem: str
) -> _Parent | None:
    """The one table `col` evidently references, or None when there is none or the choice is ambiguous.

    Tables of the column's own schema are searched first; only when none has a matching name are the other
    non-system schemas searched. The candidate needs a single-column primary key of the column's exact type.
    """
    named = [t for n in _parent_names(stem) for t in by_name.get(n, [])]
    same_schema = [t for t in named if t.schema == rel.schema]
    qualifying = []
    for table in same_schema or named:
        key = _single_pk(snapshot, table)
        if key is None or key.type != col.type or (table.oid == rel.oid and key.attnum == col.attnum):
            continue
        qualifying.append(_Parent(table, key))
    return qualifying[0] if len(qualifying) == 1 else None


@check(
    "missing_foreign_key",
    "Missing foreign key",
    Level.WARN,
    Category.INTEGRITY,
    description=(
        "A column named `<x>_id` has the type of the single-column primary key of a table named x (or xs, "
        "xes, x with y → ies) but no foreign key."
    ),
    rationale=(
        "Without the constraint nothing stops rows from pointing at parents that never existed or were "
        "deleted: orphans accumulate silently, joins drop rows, and the application has to clean up what "
        "the database would have refused. The planner also loses the join facts a foreign key gives it."
    ),
    remediation=(
        "Add the foreign key NOT VALID (a brief lock; new writes are checked from then on), clean up the "
        "orphans the count query finds, then VALIDATE CONSTRAINT in a separate transaction: it scans under "
        "SHARE UPDATE EXCLUSIVE, so reads and writes continue. Pick ON DELETE CASCADE or SET NULL if rows "
        "should follow their parent. Polymorphic columns (a sibling `<x>_type` column) are not flagged."
    ),
)
def missing_foreign_key(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    by_name = _tables_by_name(snapshot)
    for rel in _user_tables(snapshot):
        in_fk = {n for con in snapshot.constraints_of(rel.oid) if con.type == "f" for n in con.columns}
        names = {c.name for c in rel.columns}
        for col in rel.columns:
            if not col.name.endswith("_id") or col.attnum in in_fk:
                continue
            stem = col.name[: -len("_id")]
            if not stem or f"{stem}_type" in names:  # `<x>_type` + `<x>_id`: a polymorphic reference
                continue
            parent = _candidate_parent(snapshot, by_name, rel, col, stem)
            if parent is None:
                continue
            name = _new_constraint_name(snapshot, rel, [col.name], "fkey")
            add = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) NOT VALID").format(
                rel_ident(rel),
                sql.Identifier(name),
                sql.Identifier(col.name),
                rel_ident(parent.table),
                sql.Identifier(parent.key.name),
            )
            orphans = _orphans_query(rel, [col.name], parent.table, [parent.key.name])
            validate = sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(rel_ident(rel), sql.Identifier(name))
            yield spec.finding(
                column_ref(rel, col.name),
                f"{rel.qualified}.{col.name} ({col.type}) looks like a reference to "
                f"{parent.table.qualified}.{parent.key.name} but has no foreign key.",
                evidence={
                    "column_type": col.type,
                    "referenced_table": parent.table.qualified,
                    "referenced_column": parent.key.name,
                    "referenced_type": parent.key.type,
                    "referenced_key": "primary key",
                    "rows_estimate": _rows(rel, snapshot),
                    "referenced_rows_estimate": _rows(parent.table, snapshot),
                    "column_index": _leading_index(snapshot, rel, col.attnum),
                },
                sql=(
                    "-- Checks new writes only; ON DELETE is NO ACTION unless you choose CASCADE or SET NULL.\n"
                    + render(add)
                    + "\n-- Rows pointing at no parent (VALIDATE fails while any remain):\n"
                    + render(orphans)
                    + "\n"
                    + _SEPARATE_TRANSACTION
                    + "-- VALIDATE scans under SHARE UPDATE EXCLUSIVE: reads and writes go on meanwhile.\n"
                    + render(validate)
                ),
            )


# --------------------------------------------------------------------------------------------------
# fk_delete_rule_review
# --------------------------------------------------------------------------------------------------


def _fk_clause(snapshot: Snapshot, rel: Relation, fk: Constraint, parent: Relation, on_delete: str) -> sql.Composable:
    """The FOREIGN KEY clause of `fk` with another ON DELETE rule (ON UPDATE, MATCH, DEFERRABLE kept)."""
    parts: list[sql.Composable] = [
        sql.SQL("FOREIGN KEY ({}) REFERENCES {} ({})").format(
            _idents(_names(rel, fk.columns)), rel_ident(parent), _idents(_names(parent, fk.ref_columns))
        )
    ]
    if " MATCH FULL" in fk.definition:
        parts.append(sql.SQL("MATCH FULL"))
    if fk.on_update and fk.on_update != "a":
        parts.append(sql.SQL("ON UPDATE {}").format(_RULE_SQL[fk.on_update]))
    parts.append(sql.SQL("ON DELETE {}").format(_RULE_SQL[on_delete]))
    if fk.deferrable:
        parts.append(sql.SQL("DEFERRABLE"))
        if "INITIALLY DEFERRED" in fk.definition:
            parts.append(sql.SQL("INITIALLY DEFERRED"))
    return sql.SQL(" ").join(parts)


@check(
    "fk_delete_rule_review",
    "Delete rule differs from its siblings",
    Level.INFO,
    Category.INTEGRITY,
    description=(
        "A foreign key to a tenant or owner table is ON DELETE NO ACTION/RESTRICT while most foreign keys "
        "to the same table cascade."
    ),
    rationale=(
        "When the schema's convention is that a tenant's (or owner's) rows go with it, a single blocking "
        "foreign key makes deleting the tenant fail as soon as it has a row in that one table, usually "
        "discovered during an offboarding or GDPR erasure. It may be deliberate (data that must be kept); "
        "then it deserves a comment. A tenant or owner table is one referenced through a configured tenant "
        "column (tenant_columns), or one referenced by foreign keys from at least "
        "`fk_delete_rule_review.min_referencing_tables` (default 5) tables. The finding needs at least "
        "`fk_delete_rule_review.min_cascading_siblings` (default 2) cascading siblings, and more cascading "
        "than blocking foreign keys to that table."
    ),
    remediation=(
        "Decide what should happen to these rows when the parent goes: CASCADE (deleted with it), SET NULL "
        "(kept, detached) or keep NO ACTION and document why. Replacing the constraint NOT VALID and "
        "validating it afterwards avoids scanning the table under a strong lock."
    ),
)
def fk_delete_rule_review(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    min_tables = int(config.threshold("fk_delete_rule_review.min_referencing_tables", 5))
    min_cascading = int(config.threshold("fk_delete_rule_review.min_cascading_siblings", 2))
    tenant_columns = {c.lower() for c in config.tenant_columns}
    by_parent: dict[int, list[tuple[Relation, Constraint]]] = {}
    for rel, fk in _foreign_keys(snapshot):
        if fk.ref_table_oid != rel.oid:  # self-references (hierarchies) are another question
            by_parent.setdefault(fk.ref_table_oid or 0, []).append((rel, fk))
    for parent_oid, fks in by_parent.items():
        parent = snapshot.relation(parent_oid)
        if parent is None:
            continue
        via_tenant = sorted(
            {
                name
                for rel, fk in fks
                if len(fk.columns) == 1 and (name := _names(rel, fk.columns)[0]).lower() in tenant_columns
            }
        )
        referencing = {rel.oid for rel, _ in fks}
        if not via_tenant and len(referencing) < min_tables:
            continue
        cascading = [(r, f) for r, f in fks if f.on_delete == "c"]
        blocking = [(r, f) for r, f in fks if f.on_delete in ("a", "r")]
        if len(cascading) < min_cascading or len(cascading) <= len(blocking):
            continue
        role = (
            f"tenant table (referenced through {', '.join(via_tenant)})"
            if via_tenant
            else f"owner table (referenced by {len(referencing)} tables)"
        )
        for rel, fk in blocking:
            rule = _ON_DELETE[fk.on_delete]
            replace = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}, ADD CONSTRAINT {} {} NOT VALID").format(
                rel_ident(rel),
                sql.Identifier(fk.name),
                sql.Identifier(fk.name),
                _fk_clause(snapshot, rel, fk, parent, "c"),
            )
            validate = sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(rel_ident(rel), sql.Identifier(fk.name))
            yield spec.finding(
                constraint_ref(rel, fk),
                f"Foreign key {fk.name} on {rel.qualified} is ON DELETE {rule}, while {len(cascading)} of the "
                f"{len(fks)} foreign keys to {parent.qualified} cascade: deleting a row there fails while "
                f"{rel.qualified} references it.",
                evidence={
                    "on_delete": rule,
                    "references": parent.qualified,
                    "parent_role": role,
                    "definition": fk.definition,
                    "cascading_siblings": sorted(f"{r.qualified}:{f.name}" for r, f in cascading),
                    "blocking_siblings": sorted(f"{r.qualified}:{f.name}" for r, f in blocking if f is not fk),
                    "other_siblings": sorted(
                        f"{r.qualified}:{f.name} ({_ON_DELETE.get(f.on_delete, f.on_delete)})"
                        for r, f in fks
                        if f.on_delete not in ("a", "r", "c")
                    ),
                    "rows_estimate": _rows(rel, snapshot),
                },
                sql=(
                    "-- If these rows should go with their parent (the convention of the sibling keys). Use ON\n"
                    "-- DELETE SET NULL instead to keep them, or keep the rule and document why.\n"
                    + render(replace)
                    + "\n"
                    + _SEPARATE_TRANSACTION
                    + render(validate)
                ),
            )


# --------------------------------------------------------------------------------------------------
# cascade_delete_fanout
# --------------------------------------------------------------------------------------------------


def _reachable(edges: dict[int, list[int]], root: int) -> set[int]:
    seen: set[int] = set()
    todo = [root]
    while todo:
        for child in edges.get(todo.pop(), []):
            if child not in seen and child != root:
                seen.add(child)
                todo.append(child)
    return seen


def _longest(edges: dict[int, list[int]], root: int) -> int:
    """Edges on the longest cascade path from `root` (an edge back into the current path is not followed)."""
    memo: dict[int, int] = {}
    on_path: set[int] = set()

    def depth(node: int) -> int:
        if node in memo:
            return memo[node]
        on_path.add(node)
        best = max((1 + depth(c) for c in edges.get(node, []) if c not in on_path), default=0)
        on_path.discard(node)
        memo[node] = best
        return best

    return depth(root)


def _long_paths(
    edges: dict[int, list[int]], root: int, min_depth: int, budget: int = 20_000
) -> tuple[list[list[int]], bool]:
    """Maximal cascade paths from `root` with at least `min_depth` edges, and whether the walk was cut short."""
    found: list[list[int]] = []
    stack: list[list[int]] = [[root]]
    steps = 0
    while stack:
        steps += 1
        if steps > budget:
            return found, True
        path = stack.pop()
        children = sorted({c for c in edges.get(path[-1], []) if c not in path}, reverse=True)
        if not children:
            if len(path) - 1 >= min_depth:
                found.append(path)
            continue
        stack.extend([*path, c] for c in children)
    return found, False


@check(
    "cascade_delete_fanout",
    "Deep ON DELETE CASCADE chain",
    Level.WARN,
    Category.INTEGRITY,
    description=(
        "Deleting a row of this table cascades through three or more levels of ON DELETE CASCADE foreign keys."
    ),
    rationale=(
        "One DELETE on the root silently deletes rows in every table along the chains, in a single "
        "transaction that locks them all, fires their triggers and writes WAL for each row. A mistaken "
        "delete (or an offboarding) wipes far more than it seems to, and a large one can run for minutes "
        "while blocking other writers. The depth threshold is `cascade_delete_fanout.min_depth` (default 3)."
    ),
    remediation=(
        "Make deletion of the root an explicit, reviewable operation: soft-delete it (a deleted_at column "
        "hidden by RLS or views) and purge in batches from the leaves up, or turn the deepest links into "
        "RESTRICT so that a delete has to be done level by level on purpose. Index every cascading foreign "
        "key, or each level is a sequential scan."
    ),
)
def cascade_delete_fanout(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    min_depth = int(config.threshold("cascade_delete_fanout.min_depth", 3))
    limit = int(config.threshold("cascade_delete_fanout.max_chains", 20))
    edges: dict[int, list[int]] = {}
    children: set[int] = set()
    for rel, fk in _foreign_keys(snapshot):
        if fk.on_delete == "c" and fk.ref_table_oid is not None and fk.ref_table_oid != rel.oid:
            edges.setdefault(fk.ref_table_oid, []).append(rel.oid)
            children.add(rel.oid)

    def name(oid: int) -> str:
        rel = snapshot.relation(oid)
        return rel.qualified if rel else str(oid)

    for root_oid in sorted(edges, key=name):
        root = snapshot.relation(root_oid)
        if root is None or root_oid in children:  # reached from a higher root: reported there
            continue
        depth = _longest(edges, root_oid)
        if depth < min_depth:
            continue
        paths, cut = _long_paths(edges, root_oid, min_depth)
        paths.sort(key=lambda p: (-len(p), [name(o) for o in p]))
        reached = _reachable(edges, root_oid)
        rows = [_rows(r, snapshot) for o in reached if (r := snapshot.relation(o)) is not None]
        yield spec.finding(
            relation_ref(root),
            f"Deleting a row of {root.qualified} cascades {depth} levels deep, into {len(reached)} tables.",
            evidence={
                "depth": depth,
                "chains": [[name(o) for o in p] for p in paths[:limit]],
                "chains_total": None if cut else len(paths),
                "tables_reached": sorted(name(o) for o in reached),
                "rows_in_reached_tables_estimate": sum(r for r in rows if r is not None),
            },
        )


# --------------------------------------------------------------------------------------------------
# nullable_status_column
# --------------------------------------------------------------------------------------------------

DEFAULT_STATUS_PATTERNS = ("status", "*_status", "state", "type", "*_type", "kind")
_NOT_DISCRIMINATORS = frozenset({"json", "jsonb", "bytea", "xml", "tsvector"})
BIG_TABLE_ROWS = 1_000_000


@check(
    "nullable_status_column",
    "Nullable status column",
    Level.WARN,
    Category.INTEGRITY,
    description="A status/state/type-like column, or a tenant column, accepts NULL.",
    rationale=(
        "Code branches on these columns: a NULL status is neither 'pending' nor anything else, so queues "
        "skip the row, `status <> 'done'` filters drop it, and a CHECK (status IN (...)) lets NULL through. "
        "A NULL tenant column makes a row belong to nobody, which RLS policies and billing then miss. Name "
        "patterns are `nullable_status_column.patterns` (default status, *_status, state, type, *_type, "
        "kind; `*_state` is left out because it mostly names address fields); json, bytea and array columns "
        "are not discriminators and are skipped."
    ),
    remediation=(
        "Backfill the NULLs, then SET NOT NULL. SET NOT NULL takes an ACCESS EXCLUSIVE lock and scans the "
        "whole table while holding it; on a big table add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it "
        "(SHARE UPDATE EXCLUSIVE: reads and writes continue), then SET NOT NULL skips the scan (PostgreSQL "
        "12+) and the CHECK can be dropped."
    ),
)
def nullable_status_column(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    patterns = tuple(config.threshold("nullable_status_column.patterns", DEFAULT_STATUS_PATTERNS))
    big_rows = int(config.threshold("nullable_status_column.big_table_rows", BIG_TABLE_ROWS))
    tenant_columns = {c.lower() for c in config.tenant_columns}
    for rel in _user_tables(snapshot):
        for col in rel.columns:
            tenant = col.name.lower() in tenant_columns
            status = not tenant and matches_any(col.name, patterns)
            if not (tenant or status) or col.generated or _effectively_not_null(snapshot, rel, col):
                continue
            if status and (col.type_name in _NOT_DISCRIMINATORS or col.type.endswith("[]")):
                continue
            checks = [
                c.name
                for c in snapshot.constraints_of(rel.oid)
                if c.type == "c" and c.parent_oid is None and col.attnum in c.columns
            ]
            rows = _rows(rel, snapshot)
            yield spec.finding(
                column_ref(rel, col.name),
                f"{'Tenant' if tenant else 'Status-like'} column {rel.qualified}.{col.name} ({col.type}) is nullable.",
                evidence={
                    "column_type": col.type,
                    "not_null": False,
                    "default": col.default,
                    "matched": "tenant column" if tenant else "status/state/type name pattern",
                    "check_constraints_on_column": checks,  # a CHECK passes when its expression is NULL
                    "rows_estimate": rows,
                },
                sql=_set_not_null(snapshot, rel, col, big=rows is not None and rows >= big_rows),
            )


def _set_not_null(snapshot: Snapshot, rel: Relation, col: Column, *, big: bool) -> str:
    column = sql.Identifier(col.name)
    count = sql.SQL("SELECT count(*) AS null_rows FROM {} WHERE {} IS NULL").format(rel_ident(rel), column)
    set_not_null = sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL").format(rel_ident(rel), column)
    backfill = (
        "-- Rows to backfill first (SET NOT NULL fails while any remain)"
        + (", e.g. UPDATE ... SET <column> = DEFAULT WHERE <column> IS NULL" if col.default else "")
        + ":\n"
        + render(count)
        + "\n"
    )
    if not big:
        return (
            backfill
            + "-- SET NOT NULL holds an ACCESS EXCLUSIVE lock while it scans the table. On a big table, first add\n"
            "-- CHECK (<column> IS NOT NULL) NOT VALID, VALIDATE it in its own transaction (reads and writes\n"
            "-- continue), then SET NOT NULL uses it instead of scanning (PostgreSQL 12+); drop the CHECK after.\n"
            + render(set_not_null)
        )
    name = sql.Identifier(_new_constraint_name(snapshot, rel, [col.name], "not_null"))
    add = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID").format(
        rel_ident(rel), name, column
    )
    validate = sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(rel_ident(rel), name)
    drop = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(rel_ident(rel), name)
    return (
        backfill
        + "-- A big table: SET NOT NULL alone would scan it under an ACCESS EXCLUSIVE lock. The NOT VALID CHECK\n"
        "-- is added instantly, VALIDATE scans under SHARE UPDATE EXCLUSIVE (reads and writes continue), and\n"
        "-- SET NOT NULL then relies on the validated CHECK instead of scanning (PostgreSQL 12+).\n"
        + render(add)
        + "\n"
        + _SEPARATE_TRANSACTION
        + render(validate, set_not_null, drop)
    )


# --------------------------------------------------------------------------------------------------
# not_valid_constraint
# --------------------------------------------------------------------------------------------------

_CHECK_NOT_VALID = re.compile(r"CHECK (\(.*\)) NOT VALID", re.DOTALL)


@check(
    "not_valid_constraint",
    "Constraint left NOT VALID",
    Level.WARN,
    Category.INTEGRITY,
    description="A CHECK or foreign key constraint was added NOT VALID and never validated.",
    rationale=(
        "NOT VALID constraints are checked for new and updated rows only: existing rows may violate them, "
        "so queries (and people) cannot rely on the rule, and the planner cannot use a CHECK to skip "
        "partitions or prove conditions. It is the right first step of a lock-friendly migration, but the "
        "second step (VALIDATE CONSTRAINT) is often forgotten."
    ),
    remediation=(
        "Find and fix the violating rows, then run ALTER TABLE ... VALIDATE CONSTRAINT. It scans the table "
        "under SHARE UPDATE EXCLUSIVE (a foreign key also takes ROW SHARE on the referenced table), so "
        "normal reads and writes continue."
    ),
)
def not_valid_constraint(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel in _user_tables(snapshot):
        for con in snapshot.constraints_of(rel.oid):
            if con.validated or con.type not in ("c", "f") or con.parent_oid is not None:
                continue
            validate = sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(rel_ident(rel), sql.Identifier(con.name))
            parent = snapshot.relation(con.ref_table_oid) if con.ref_table_oid is not None else None
            if con.type == "f" and parent is not None:
                cols, refs = _names(rel, con.columns), _names(parent, con.ref_columns)
                violations: sql.Composable | None = _orphans_query(rel, cols, parent, refs)
            elif (m := _CHECK_NOT_VALID.fullmatch(con.definition)) is not None:
                # The expression as the server deparsed it (identifiers already quoted by the server).
                violations = sql.SQL("SELECT count(*) AS violating_rows FROM {} WHERE NOT {}").format(
                    rel_ident(rel), sql.SQL(m.group(1))
                )
            else:
                violations = None
            prefix = ""
            if violations is not None:
                prefix = "-- Rows that violate it (VALIDATE fails while any remain):\n" + render(violations) + "\n"
            yield spec.finding(
                constraint_ref(rel, con),
                f"{'Foreign key' if con.type == 'f' else 'CHECK constraint'} {con.name} on {rel.qualified} "
                "is NOT VALID: existing rows were never checked.",
                evidence={
                    "constraint_type": "FOREIGN KEY" if con.type == "f" else "CHECK",
                    "validated": False,
                    "definition": con.definition,
                    "references": parent.qualified if parent else None,
                    "rows_estimate": _rows(rel, snapshot),
                },
                sql=prefix + "-- Scans under SHARE UPDATE EXCLUSIVE: reads and writes continue.\n" + render(validate),
            )


# --------------------------------------------------------------------------------------------------
# fk_type_mismatch
# --------------------------------------------------------------------------------------------------

_INT_RANK = {"int2": 1, "int4": 2, "int8": 3}


@check(
    "fk_type_mismatch",
    "Foreign key type mismatch",
    Level.WARN,
    Category.INTEGRITY,
    description="A foreign key column's type differs from the type of the column it references.",
    rationale=(
        "An integer column referencing a bigint key starts failing inserts once the parent's ids pass 2^31; "
        "other mismatches force casts on every join and foreign key check, and can keep the planner from "
        "using the referenced index. Differences in the type modifier only (varchar(50) against varchar(100)) "
        "are reported at info level: usually benign, but values may not fit."
    ),
    remediation=(
        "Change the referencing column to the referenced column's type. ALTER COLUMN ... TYPE rewrites the "
        "table and its indexes under an ACCESS EXCLUSIVE lock (except binary-compatible changes such as a "
        "longer varchar); views using the column must be dropped and re-created around it."
    ),
)
def fk_type_mismatch(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel, fk in _foreign_keys(snapshot):
        parent = snapshot.relation(fk.ref_table_oid) if fk.ref_table_oid is not None else None
        if parent is None:
            continue
        pairs = [
            (col, ref)
            for a, b in zip(fk.columns, fk.ref_columns, strict=True)
            if (col := rel.column(a)) is not None and (ref := parent.column(b)) is not None
        ]
        differing = [(c, r) for c, r in pairs if c.type != r.type]
        if not differing:
            continue
        typmod_only = all(c.type_name == r.type_name for c, r in differing)
        narrowing = [c.name for c, r in differing if _INT_RANK.get(c.type_name, 0) > _INT_RANK.get(r.type_name, 0) > 0]
        alter = sql.SQL("ALTER TABLE {} {}").format(
            rel_ident(rel),
            sql.SQL(", ").join(
                sql.SQL("ALTER COLUMN {} TYPE {}").format(sql.Identifier(c.name), sql.SQL(r.type)) for c, r in differing
            ),
        )
        note = "-- Rewrites the table and its indexes under an ACCESS EXCLUSIVE lock (unless binary-compatible).\n"
        if narrowing:
            note += (
                "-- This narrows the column: it fails if a value does not fit; widening the parent is the other way.\n"
            )
        yield spec.finding(
            constraint_ref(rel, fk),
            f"Foreign key {fk.name} on {rel.qualified}: "
            + ", ".join(f"{c.name} is {c.type} but {parent.qualified}.{r.name} is {r.type}" for c, r in differing)
            + ".",
            level=Level.INFO if typmod_only else None,
            evidence={
                "references": parent.qualified,
                "columns": [
                    {"column": c.name, "type": c.type, "referenced_column": r.name, "referenced_type": r.type}
                    for c, r in differing
                ],
                "type_modifier_only": typmod_only,
                "rows_estimate": _rows(rel, snapshot),
            },
            sql=note + render(alter),
        )


# --------------------------------------------------------------------------------------------------
# nullable_unique
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _UniqueKey:
    """A UNIQUE constraint (with its index) or a unique index that backs no constraint."""

    rel: Relation
    index: Index | None
    constraint: Constraint | None
    columns: tuple[int, ...]  # 0 marks an expression


def _unique_keys(snapshot: Snapshot, rel: Relation) -> Iterator[_UniqueKey]:
    for con in snapshot.constraints_of(rel.oid):
        if con.type == "u" and con.parent_oid is None:
            ix = snapshot.index(con.index_oid) if con.index_oid is not None else None
            yield _UniqueKey(rel, ix, con, con.columns)
    for ix in snapshot.indexes_of(rel.oid):
        if ix.is_unique and not ix.is_primary and ix.constraint is None and ix.parent_oid is None and ix.is_valid:
            yield _UniqueKey(rel, ix, None, ix.key_columns)


@check(
    "nullable_unique",
    "UNIQUE over nullable columns",
    Level.INFO,
    Category.INTEGRITY,
    description=(
        "A multi-column UNIQUE constraint or unique index includes a nullable column and does not say "
        "NULLS NOT DISTINCT."
    ),
    rationale=(
        "NULLs are distinct from each other, so UNIQUE (organization_id, email) lets any number of rows with "
        "the same organization and a NULL email through: exactly the duplicates the key was meant to stop. "
        "Single-column unique keys on an optional column (an external id that is set later) usually want "
        "that behaviour and are not reported unless `nullable_unique.single_column` is true. Columns that "
        "the index predicate restricts to IS NOT NULL do not count."
    ),
    remediation=(
        "If the column is required, make it NOT NULL. If at most one row per combination may lack it, use "
        "UNIQUE NULLS NOT DISTINCT (PostgreSQL 15+). Before 15, add a partial unique index over the other "
        "columns WHERE the nullable column IS NULL. Either way, look for existing duplicates first."
    ),
)
def nullable_unique(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    single = bool(config.threshold("nullable_unique.single_column", False))
    pg15 = snapshot.server_version_num >= 150000
    for rel in _user_tables(snapshot):
        for key in _unique_keys(snapshot, rel):
            ix, con = key.index, key.constraint
            if (con is not None and con.nulls_not_distinct) or (ix is not None and ix.nulls_not_distinct):
                continue
            if len(key.columns) < 2 and not single:
                continue
            excluded = not_null_predicate_columns(ix.predicate_tree) if ix is not None else None
            nullable = [
                col
                for n in key.columns
                if n != 0
                and n not in (excluded or ())
                and (col := rel.column(n)) is not None
                and not _effectively_not_null(snapshot, rel, col)
            ]
            if not nullable:
                continue
            names = [n if n != "#0" else "(expression)" for n in _names(rel, key.columns)]
            if con is not None:
                obj, what = constraint_ref(rel, con), f"UNIQUE constraint {con.name}"
            else:
                assert ix is not None
                obj, what = index_ref(snapshot, ix), f"Unique index {ix.name}"
            fix = _unique_fix(snapshot, key, nullable, pg15)
            yield spec.finding(
                obj,
                f"{what} on {rel.qualified} ({', '.join(names)}) allows duplicates through NULLs in "
                f"{', '.join(c.name for c in nullable)}.",
                evidence={
                    "columns": names,
                    "nullable_columns": [c.name for c in nullable],
                    "definition": con.definition if con is not None else (ix.definition if ix else ""),
                    "predicate": ix.predicate if ix is not None else None,
                    "nulls_not_distinct_available": pg15,
                    "server_version_num": snapshot.server_version_num,
                    **({"remediation_transactional": False} if fix and "CONCURRENTLY" in fix else {}),
                },
                sql=fix,
            )


def _duplicates_query(key: _UniqueKey) -> sql.Composable | None:
    if 0 in key.columns:
        return None
    cols = _idents(_names(key.rel, key.columns))
    where: sql.Composable = sql.SQL("")
    if key.index is not None and key.index.predicate:
        where = sql.SQL(" WHERE {}").format(sql.SQL(key.index.predicate))  # the server's deparsed predicate
    return sql.SQL("SELECT {}, count(*) AS duplicate_rows FROM {}{} GROUP BY {} HAVING count(*) > 1").format(
        cols, rel_ident(key.rel), where, cols
    )


def _unique_fix(snapshot: Snapshot, key: _UniqueKey, nullable: list[Column], pg15: bool) -> str | None:
    rel, ix, con = key.rel, key.index, key.constraint
    dupes = _duplicates_query(key)
    head = ""
    if dupes is not None:
        head = (
            "-- Make the column NOT NULL instead if it is required. Rows that already collide (with NULLs\n"
            "-- compared equal), to resolve first:\n" + render(dupes) + "\n"
        )
    plain = 0 not in key.columns and (ix is None or not ix.include_columns)
    if pg15 and con is not None and plain:
        replace = sql.SQL(
            "ALTER TABLE {} DROP CONSTRAINT {}, ADD CONSTRAINT {} UNIQUE NULLS NOT DISTINCT ({}){}"
        ).format(
            rel_ident(rel),
            sql.Identifier(con.name),
            sql.Identifier(con.name),
            _idents(_names(rel, key.columns)),
            sql.SQL(" DEFERRABLE") if con.deferrable else sql.SQL(""),
        )
        return head + "-- Rebuilds the index under an ACCESS EXCLUSIVE lock.\n" + render(replace)
    # A partitioned table cannot be indexed CONCURRENTLY: those keep the textual advice below.
    concurrent_ok = rel.kind != "p"
    if pg15 and ix is not None and plain and concurrent_ok and ix.access_method == "btree" and not any(ix.key_options):
        name = _new_index_name(snapshot, rel, _names(rel, key.columns), "key")
        where = sql.SQL(" WHERE {}").format(sql.SQL(ix.predicate)) if ix.predicate else sql.SQL("")
        create = sql.SQL("CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({}) NULLS NOT DISTINCT{}").format(
            sql.Identifier(name), rel_ident(rel), _idents(_names(rel, key.columns)), where
        )
        drop = sql.SQL("DROP INDEX CONCURRENTLY {}").format(rel_ident(ix))
        rename = sql.SQL("ALTER INDEX {} RENAME TO {}").format(
            sql.Identifier(rel.schema, name), sql.Identifier(ix.name)
        )
        return (
            head
            + "-- CONCURRENTLY cannot run inside a transaction block: run each statement on its own (autocommit).\n"
            + render(create, drop, rename)
        )
    if pg15:
        return head + "-- Re-create the key with NULLS NOT DISTINCT (its definition is in the evidence).\n"
    # Before PostgreSQL 15: one partial unique index per nullable column makes NULL count as a value there.
    if len(nullable) != 1 or 0 in key.columns or (ix is not None and ix.predicate) or not concurrent_ok:
        return head + (
            "-- NULLS NOT DISTINCT needs PostgreSQL 15. Before that: make the columns NOT NULL, or add partial\n"
            "-- unique indexes over the other columns WHERE a nullable column IS NULL.\n"
        )
    [col] = nullable
    others = [n for n in _names(rel, key.columns) if n != col.name]
    name = _new_index_name(snapshot, rel, [*others, col.name, "null"], "key")
    target = _idents(others) if others else sql.SQL("({} IS NULL)").format(sql.Identifier(col.name))
    create = sql.SQL("CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({}) WHERE {} IS NULL").format(
        sql.Identifier(name), rel_ident(rel), target, sql.Identifier(col.name)
    )
    return (
        head + "-- NULLS NOT DISTINCT needs PostgreSQL 15. Before that, this partial unique index allows one row per\n"
        "-- combination with a NULL there (CONCURRENTLY: run it on its own, outside a transaction block).\n"
        + render(create)
    )


# --------------------------------------------------------------------------------------------------
# numeric_precision_risk
# --------------------------------------------------------------------------------------------------


def _integer_digits(value: Decimal) -> int:
    whole = int(abs(value))
    return 0 if whole == 0 else len(str(whole))


def _largest(precision: int, scale: int) -> str:
    """The largest value numeric(precision, scale) accepts, e.g. 99999.99 for numeric(7,2)."""
    with localcontext() as ctx:
        ctx.prec = precision + abs(scale) + 2
        return str(Decimal(10) ** (precision - scale) - Decimal(10) ** -scale)


@check(
    "numeric_precision_risk",
    "numeric column near its precision",
    Level.INFO,
    Category.INTEGRITY,
    description=(
        "The largest value of a numeric(p,s) column already uses more than 80 % of the integer digits its "
        "precision allows (p - s)."
    ),
    rationale=(
        "A value one order of magnitude larger is rejected with 'numeric field overflow': typically a price, "
        "amount or counter that grew with the business (a large customer, a currency with small units). The "
        "maximum comes from the numeric_samples probe: a full scan of tables up to 10 MB, a block sample of "
        "bigger ones (then the true maximum may be larger; the evidence says which). The threshold is "
        "`numeric_precision_risk.ratio` (default 0.8)."
    ),
    remediation=(
        "Increase the precision and keep the scale: since PostgreSQL 9.2 that is a catalog-only change (no "
        "table rewrite, indexes kept), though it briefly takes an ACCESS EXCLUSIVE lock; views using the "
        "column must be dropped and re-created around it. Plain `numeric` (no limit) is the other option."
    ),
    requires=("numeric_samples",),
)
def numeric_precision_risk(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    ratio_limit = float(config.threshold("numeric_precision_risk.ratio", 0.8))
    probe = snapshot.probe("numeric_samples")
    for row in probe.rows if probe is not None else ():
        rel = snapshot.relation_named(row["schema"], row["table"])
        if rel is None or row.get("error") or row.get("max_abs") is None:
            continue
        col = rel.column_named(row["column"])
        if _user_table(snapshot, rel.oid) is None or col is None or col.type_name != "numeric":
            continue
        precision, scale = int(row["precision"]), int(row["scale"])
        allowed = precision - scale
        try:
            value = Decimal(row["max_abs"])
        except InvalidOperation:
            continue
        if allowed <= 0 or not value.is_finite():
            continue
        used = _integer_digits(value)
        if used / allowed <= ratio_limit:
            continue
        sampled = bool(row.get("sampled"))
        widened = f"numeric({min(precision + 3, 1000)},{scale})"
        alter = sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {}").format(
            rel_ident(rel), sql.Identifier(col.name), sql.SQL(widened)
        )
        yield spec.finding(
            column_ref(rel, col.name),
            f"{rel.qualified}.{col.name} is {col.type} and its largest value ({value}) uses {used} of its "
            f"{allowed} integer digits" + (" (from a sample)." if sampled else "."),
            evidence={
                "column_type": col.type,
                "precision": precision,
                "scale": scale,
                "max_abs": row["max_abs"],
                "integer_digits_used": used,
                "integer_digits_allowed": allowed,
                "largest_allowed": _largest(precision, scale),
                "method": row.get("method"),
                "sample_percent": row.get("sample_percent"),
                "table_pages": row.get("table_pages"),
                "note": (
                    f"maximum of a TABLESAMPLE SYSTEM block sample of about {row.get('sample_percent')} % of the "
                    "table: the true maximum may be larger"
                    if sampled
                    else "maximum of a full scan"
                ),
            },
            sql=(
                "-- Same scale, more precision: no table rewrite, a brief ACCESS EXCLUSIVE lock. Views using the\n"
                "-- column block ALTER TYPE and must be dropped and re-created around it.\n" + render(alter)
            ),
        )
