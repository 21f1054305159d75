"""Indexes and table health: unindexed foreign keys; duplicate, redundant, duplicate vector, invalid and unused
indexes; missing keys; dead tuples.

Conventions shared by the checks of this module:

* Partitions are judged through their parent: a foreign key cloned onto a partition (``conparentid``), an
  index attached to a partitioned index and a partition without its own primary key are never reported on
  their own; the parent's finding covers them.
* Remediation that must run outside a transaction block (``CREATE``/``DROP INDEX CONCURRENTLY``, ``VACUUM``)
  says so in a leading SQL comment and with ``remediation_transactional: false`` in the evidence. Comments
  never contain object names, so a hostile name cannot escape them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from psycopg import sql

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.exposure import is_user_object
from workbench.core.checks.objects import constraint_ref, index_ref, rel_ident, relation_ref, render
from workbench.core.checks.policy_expr import Node, NodeTreeError, parse_node_tree
from workbench.core.checks.registry import CheckSkipped, CheckSpec, check
from workbench.core.checks.statistics import require_stats_age, stats_evidence
from workbench.core.model import Category, Constraint, Finding, Index, Level, Relation, Sequence, Snapshot

NAMEDATALEN = 63
_NOT_TRANSACTIONAL = {"remediation_transactional": False}
_CONCURRENTLY_NOTE = (
    "-- CONCURRENTLY cannot run inside a transaction block: run each statement on its own (autocommit).\n"
)
_ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


# --------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------


def _user_relation(snapshot: Snapshot, oid: int, kinds: str = "rpm") -> Relation | None:
    """The relation when it is a user object of one of `kinds` (not a system schema, not an extension's)."""
    rel = snapshot.relation(oid)
    if rel is None or rel.kind not in kinds or not is_user_object(snapshot, rel.schema, rel.extension):
        return None
    return rel


def _names(rel: Relation, attnums: Iterable[int]) -> list[str]:
    return [(col.name if (col := rel.column(n)) else f"#{n}") for n in attnums]


def foreign_keys(snapshot: Snapshot, rel: Relation) -> tuple[Constraint, ...]:
    """The foreign keys declared on `rel` itself (clones on partitions and referenced partitions excluded)."""
    return tuple(c for c in snapshot.constraints_of(rel.oid) if c.type == "f" and c.parent_oid is None)


def not_null_predicate_columns(tree: str | None) -> frozenset[int] | None:
    """Attnums of `col IS NOT NULL` tests when the predicate is nothing but their conjunction, else None."""
    if not tree:
        return None
    try:
        parsed = parse_node_tree(tree)
    except NodeTreeError:
        return None
    found: set[int] = set()
    todo = [parsed]
    while todo:
        item = todo.pop()
        if isinstance(item, list):  # implicit-AND list form
            todo.extend(item)
            continue
        if not isinstance(item, Node):
            return None
        if item.type == "BOOLEXPR" and item.get("boolop") == "and":
            todo.extend(item.get("args") or [])
            continue
        arg = item.get("arg")
        if (
            item.type != "NULLTEST"
            or item.get_int("nulltesttype") != 1  # IS_NOT_NULL
            or item.get_bool("argisrow")
            or not isinstance(arg, Node)
            or arg.type != "VAR"
            or arg.get_int("varlevelsup", 0)
            or (attno := arg.get_int("varattno")) is None
            or attno <= 0
        ):
            return None
        found.add(attno)
    return frozenset(found) if found else None


def fk_cover_problem(ix: Index, columns: frozenset[int]) -> str | None:
    """Why `ix` cannot serve lookups on the foreign key `columns`, or None when it covers them."""
    n = len(columns)
    if set(ix.key_columns[:n]) != columns:
        return "the foreign key columns are not its leading key columns"
    if not ix.is_valid:
        return "the index is invalid"
    if ix.access_method == "brin":
        return "a BRIN index only narrows the search to block ranges"
    if ix.predicate is not None:
        tested = not_null_predicate_columns(ix.predicate_tree)
        if tested is None or not tested <= columns:
            return f"partial index whose predicate is not just the foreign key columns IS NOT NULL: {ix.predicate}"
    return None


def fk_covers(snapshot: Snapshot, fk: Constraint) -> list[Index]:
    """The indexes that serve lookups on the foreign key's columns."""
    columns = frozenset(fk.columns)
    return [ix for ix in snapshot.indexes_of(fk.table_oid) if fk_cover_problem(ix, columns) is None]


def _truncate(name: str, limit: int = NAMEDATALEN) -> str:
    raw = name.encode("utf-8")
    return name if len(raw) <= limit else raw[:limit].decode("utf-8", errors="ignore")


def _names_in_use(snapshot: Snapshot) -> dict[str, set[str]]:
    """Relation, index and sequence names per schema (they share one namespace)."""
    out: dict[str, set[str]] = {}
    objects: list[Relation | Index | Sequence] = [*snapshot.relations, *snapshot.indexes, *snapshot.sequences]
    for obj in objects:
        out.setdefault(obj.schema, set()).add(obj.name)
    return out


def _new_index_name(snapshot: Snapshot, rel: Relation, columns: list[str], taken: dict[str, set[str]]) -> str:
    """PostgreSQL's own naming scheme (`table_col_idx`, then `…_idx1`), avoiding every name in use.

    `taken` starts empty and remembers, per schema, the names in use plus those this audit proposed.
    """
    if not taken:
        taken.update(_names_in_use(snapshot))
    used = taken.setdefault(rel.schema, set())
    base = "_".join([rel.name, *columns])
    suffix, n = "_idx", 0
    while True:
        name = _truncate(base, NAMEDATALEN - len(suffix)) + suffix
        if name not in used:
            used.add(name)
            return name
        n += 1
        suffix = f"_idx{n}"


def _partitions(snapshot: Snapshot, rel: Relation) -> list[Relation]:
    return [p for p in snapshot.relations if p.parent_oid == rel.oid]


def _has_foreign_partition(snapshot: Snapshot, rel: Relation) -> bool:
    """Whether some partition below `rel` is a foreign table (it cannot carry an index)."""
    return any(p.kind == "f" or _has_foreign_partition(snapshot, p) for p in _partitions(snapshot, rel))


def _create_index(
    snapshot: Snapshot, rel: Relation, columns: list[str], taken: dict[str, set[str]]
) -> tuple[str, list[sql.Composable]]:
    """Statements that build a plain btree index on `columns` without blocking writes for long.

    A partitioned table cannot be indexed CONCURRENTLY: its index is created ON ONLY the parent (invalid
    until complete), built concurrently on each partition and attached. With a foreign-table partition
    somewhere below, the plain CREATE INDEX on the parent is the only way (it skips foreign partitions).
    """
    name = _new_index_name(snapshot, rel, columns, taken)
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    if rel.kind != "p":
        return name, [
            sql.SQL("CREATE INDEX CONCURRENTLY {} ON {} ({})").format(sql.Identifier(name), rel_ident(rel), cols)
        ]
    if _has_foreign_partition(snapshot, rel):
        return name, [sql.SQL("CREATE INDEX {} ON {} ({})").format(sql.Identifier(name), rel_ident(rel), cols)]
    parts = _partitions(snapshot, rel)
    statements: list[sql.Composable] = [
        sql.SQL("CREATE INDEX {} ON ONLY {} ({})").format(sql.Identifier(name), rel_ident(rel), cols)
    ]
    for part in parts:
        child, child_statements = _create_index(snapshot, part, columns, taken)
        statements.extend(child_statements)
        statements.append(
            sql.SQL("ALTER INDEX {} ATTACH PARTITION {}").format(
                sql.Identifier(rel.schema, name), sql.Identifier(part.schema, child)
            )
        )
    return name, statements


# --------------------------------------------------------------------------------------------------
# unindexed_foreign_keys
# --------------------------------------------------------------------------------------------------


@check(
    "unindexed_foreign_keys",
    "Unindexed foreign key",
    Level.INFO,
    Category.PERFORMANCE,
    description="A foreign key whose columns are not the leading columns of any valid index on its table.",
    rationale=(
        "Every DELETE or key UPDATE on the referenced table looks up the referencing rows by these columns; "
        "without an index each lookup scans the whole referencing table while holding locks, and joins "
        "along the key cannot use an index either. Cascading deletes turn into repeated full scans."
    ),
    remediation=(
        "Create an index whose leading columns are the foreign key columns, with CREATE INDEX CONCURRENTLY so "
        "writes are not blocked while it builds (it cannot run inside a transaction block). A partial index "
        "WHERE <column> IS NOT NULL is enough when most rows have no reference."
    ),
)
def unindexed_foreign_keys(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    taken: dict[str, set[str]] = {}
    for rel in snapshot.relations:
        if _user_relation(snapshot, rel.oid, "rp") is None:
            continue
        for fk in foreign_keys(snapshot, rel):
            columns = frozenset(fk.columns)
            indexes = snapshot.indexes_of(rel.oid)
            if any(fk_cover_problem(ix, columns) is None for ix in indexes):
                continue
            names = _names(rel, fk.columns)
            near = {
                ix.name: problem
                for ix in indexes
                if columns & set(ix.key_columns) and (problem := fk_cover_problem(ix, columns))
            }
            ref = snapshot.relation(fk.ref_table_oid) if fk.ref_table_oid else None
            _, statements = _create_index(snapshot, rel, names, taken)
            note = _CONCURRENTLY_NOTE
            if rel.kind == "p" and _has_foreign_partition(snapshot, rel):
                note = "-- A foreign-table partition forces a plain CREATE INDEX on the parent (blocks writes).\n"
            yield spec.finding(
                constraint_ref(rel, fk),
                f"Foreign key {fk.name} on {rel.qualified} ({', '.join(names)}) has no index leading with its columns.",
                evidence={
                    "columns": names,
                    "references": ref.qualified if ref else None,
                    "on_delete": _ON_DELETE.get(fk.on_delete, fk.on_delete),
                    "definition": fk.definition,
                    "table_rows_estimate": max(int(rel.reltuples), 0) if rel.reltuples >= 0 else None,
                    "indexes_not_counted": near,
                    **_NOT_TRANSACTIONAL,
                },
                sql=note + render(*statements),
            )


# --------------------------------------------------------------------------------------------------
# duplicate_index
# --------------------------------------------------------------------------------------------------


def _identity(ix: Index) -> tuple[object, ...]:
    """Everything that decides what an index can do; two indexes with the same identity are one too many."""
    return (
        ix.table_oid,
        ix.access_method,
        ix.key_columns,
        ix.key_options,
        ix.expressions,
        ix.opclasses,
        ix.collations,
        ix.predicate,
        tuple(sorted(ix.include_columns)),
    )


def _fk_users(snapshot: Snapshot) -> dict[int, list[Constraint]]:
    """Foreign keys by the OID of the (referenced side's) index they rely on."""
    out: dict[int, list[Constraint]] = {}
    for con in snapshot.constraints:
        if con.type == "f" and con.parent_oid is None and con.index_oid is not None:
            out.setdefault(con.index_oid, []).append(con)
    return out


def _constraint_key(snapshot: Snapshot, con: Constraint) -> str:
    rel = snapshot.relation(con.table_oid)
    return f"{rel.schema}.{rel.name}:{con.name}" if rel else f"{con.schema}.?:{con.name}"


def _keep_order(ix: Index, fk_users: dict[int, list[Constraint]]) -> tuple[bool, ...]:
    """Sort key: the index to keep sorts first (constraint-backing, undroppable, unique, then oldest)."""
    return (
        not ix.is_primary,
        ix.constraint is None,
        ix.parent_oid is None,
        ix.oid not in fk_users,
        not ix.is_replica_identity,
        not ix.is_unique,
        not ix.nulls_not_distinct,
    )


def _deferrable(snapshot: Snapshot, ix: Index) -> bool:
    return ix.constraint is not None and any(
        c.name == ix.constraint and c.deferrable for c in snapshot.constraints_of(ix.table_oid)
    )


def _loses_guarantee(snapshot: Snapshot, ix: Index, kept: Index) -> bool:
    """Whether dropping `ix` for `kept` would weaken a uniqueness guarantee (then they are not duplicates).

    An immediate unique index is also what ON CONFLICT and new foreign keys need: a deferrable unique
    constraint cannot stand in for it.
    """
    if not ix.is_unique:
        return False
    return (
        not (kept.is_unique or kept.is_exclusion)
        or (ix.nulls_not_distinct and not kept.nulls_not_distinct)
        or (_deferrable(snapshot, kept) and not _deferrable(snapshot, ix))
    )


def _why_kept(kept: Index, dropped: Index, fk_users: dict[int, list[Constraint]]) -> str:
    if kept.constraint is not None:
        return f"it backs constraint {kept.constraint}"
    if kept.parent_oid is not None:
        return "it is attached to an index of the partitioned parent"
    if kept.oid in fk_users:
        return "foreign keys rely on it"
    if kept.is_replica_identity:
        return "it is the replica identity"
    if kept.is_unique and not dropped.is_unique:
        return "it is unique"
    if kept.nulls_not_distinct and not dropped.nulls_not_distinct:
        return "it is UNIQUE NULLS NOT DISTINCT"
    return "it is the older index (lower OID)"


def _drop_duplicate(
    snapshot: Snapshot, rel: Relation, ix: Index, kept: Index, fk_users: dict[int, list[Constraint]]
) -> tuple[str, bool]:
    """The script that drops `ix` in favour of `kept`, and whether it may run inside a transaction."""
    before: list[sql.Composable] = []
    after: list[sql.Composable] = []
    notes: list[str] = []
    if ix.is_replica_identity:
        notes.append("-- The index is the replica identity: point the replica identity at the kept index first.")
        if kept.is_primary:
            before.append(sql.SQL("ALTER TABLE {} REPLICA IDENTITY DEFAULT").format(rel_ident(rel)))
        else:
            before.append(
                sql.SQL("ALTER TABLE {} REPLICA IDENTITY USING INDEX {}").format(
                    rel_ident(rel), sql.Identifier(kept.name)
                )
            )
    for fk in fk_users.get(ix.oid, []):
        child = snapshot.relation(fk.table_oid)
        if child is None:
            continue
        if not after:
            notes.append(
                "-- Foreign keys rely on this index: they are dropped and re-created so that they use the kept "
                "index.\n-- Re-created NOT VALID, their VALIDATE step may run later in its own transaction "
                "(it only takes a SHARE UPDATE EXCLUSIVE lock)."
            )
        before.append(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(rel_ident(child), sql.Identifier(fk.name)))
        # The definition is the server's own pg_get_constraintdef() output. Partitioned tables refuse
        # NOT VALID foreign keys (before PostgreSQL 18), so they are re-created validated at once.
        not_valid = child.kind != "p" and not fk.definition.endswith("NOT VALID")
        after.append(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                rel_ident(child), sql.Identifier(fk.name), sql.SQL(fk.definition + (" NOT VALID" if not_valid else ""))
            )
        )
        if not_valid and fk.validated:
            after.append(
                sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(rel_ident(child), sql.Identifier(fk.name))
            )
    if ix.constraint is not None:
        notes.append("-- The index backs a constraint: drop the constraint (the index goes with it), not the index.")
        drop: sql.Composable = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            rel_ident(rel), sql.Identifier(ix.constraint)
        )
        transactional = True
    elif rel.kind == "p":
        notes.append("-- A partitioned index cannot be dropped CONCURRENTLY; this locks the parent and partitions.")
        drop, transactional = sql.SQL("DROP INDEX {}").format(rel_ident(ix)), True
    elif before or after:
        drop, transactional = sql.SQL("DROP INDEX {}").format(rel_ident(ix)), True
    else:
        notes.append(_CONCURRENTLY_NOTE.rstrip("\n"))
        drop, transactional = sql.SQL("DROP INDEX CONCURRENTLY {}").format(rel_ident(ix)), False
    header = "".join(n + "\n" for n in notes)
    return header + render(*before, drop, *after), transactional


@check(
    "duplicate_index",
    "Duplicate index",
    Level.WARN,
    Category.PERFORMANCE,
    description=(
        "Two or more valid indexes on the same table with the same access method, key columns, expressions, "
        "operator classes, collations, sort options, predicate and INCLUDE columns."
    ),
    rationale=(
        "Identical indexes answer exactly the same queries, yet every insert and update maintains all of them: "
        "the extra copies cost write time, WAL, vacuum work, cache and disk for nothing."
    ),
    remediation=(
        "Drop the extra copies, keeping the index that backs a constraint, is unique, or is the oldest. Use "
        "DROP INDEX CONCURRENTLY (outside a transaction block); an index that backs a constraint is removed by "
        "dropping the constraint."
    ),
)
def duplicate_index(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    groups: dict[tuple[object, ...], list[Index]] = {}
    for ix in snapshot.indexes:
        if ix.is_valid and ix.is_ready and _user_relation(snapshot, ix.table_oid) is not None:
            groups.setdefault(_identity(ix), []).append(ix)
    fk_users = _fk_users(snapshot)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda i: (*_keep_order(i, fk_users), i.oid))
        kept = members[0]
        rel = snapshot.relation(kept.table_oid)
        assert rel is not None
        for ix in members[1:]:
            if ix.parent_oid is not None:  # attached to a partitioned index: reported through the parent
                continue
            if _loses_guarantee(snapshot, ix, kept):
                continue
            script, transactional = _drop_duplicate(snapshot, rel, ix, kept, fk_users)
            what = f"backs constraint {ix.constraint} and " if ix.constraint else ""
            yield spec.finding(
                index_ref(snapshot, ix),
                f"Index {ix.qualified} {what}duplicates {kept.qualified}, which is kept because "
                f"{_why_kept(kept, ix, fk_users)}.",
                evidence={
                    "kept_index": kept.qualified,
                    "kept_definition": kept.definition,
                    "kept_constraint": kept.constraint,
                    "definition": ix.definition,
                    "constraint": ix.constraint,
                    "size_bytes": ix.size_bytes,
                    "idx_scan": ix.idx_scan,
                    "kept_idx_scan": kept.idx_scan,
                    "foreign_keys_using_it": [_constraint_key(snapshot, c) for c in fk_users.get(ix.oid, [])],
                    "remediation_transactional": transactional,
                },
                sql=script,
            )


# --------------------------------------------------------------------------------------------------
# unused_index
# --------------------------------------------------------------------------------------------------


def _scans_with_partitions(snapshot: Snapshot, ix: Index) -> int:
    """idx_scan of an index plus, for a partitioned index, of every partition index attached below it."""
    children: dict[int, list[Index]] = snapshot._lookup("idx_children", lambda: _children(snapshot))
    total, todo = 0, [ix]
    while todo:
        current = todo.pop()
        total += current.idx_scan
        todo.extend(children.get(current.oid, []))
    return total


def _children(snapshot: Snapshot) -> dict[int, list[Index]]:
    out: dict[int, list[Index]] = {}
    for ix in snapshot.indexes:
        if ix.parent_oid is not None:
            out.setdefault(ix.parent_oid, []).append(ix)
    return out


def _protected_fk_covers(snapshot: Snapshot, rel: Relation, candidates: set[int]) -> dict[int, list[str]]:
    """Candidate indexes that must stay because they are the last cover of a foreign key -> those keys."""
    out: dict[int, list[str]] = {}
    for fk in foreign_keys(snapshot, rel):
        covers = fk_covers(snapshot, fk)
        if not covers or any(c.oid not in candidates for c in covers):
            continue
        keep = min(covers, key=lambda c: (len(c.key_columns) + len(c.include_columns), c.oid))
        out.setdefault(keep.oid, []).append(fk.name)
    return out


@check(
    "unused_index",
    "Unused index",
    Level.INFO,
    Category.PERFORMANCE,
    description=(
        "An index that has not been scanned once since the statistics began, and that enforces nothing (not "
        "unique, primary key, exclusion or replica identity) and is not the only index serving a foreign key."
    ),
    rationale=(
        "Every write maintains every index. An index no query uses costs write throughput, WAL, vacuum time, "
        "cache and disk. The counters only cover this server since the last statistics reset: an index used "
        "only on a replica, or by a monthly job, also shows zero here."
    ),
    remediation=(
        "Confirm the index is not needed (replicas, periodic jobs, recent deployments), then drop it with DROP "
        "INDEX CONCURRENTLY outside a transaction block. Keep its definition (in the evidence) to re-create it."
    ),
)
def unused_index(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    age = require_stats_age(snapshot, config)
    candidates: dict[int, tuple[Index, Relation]] = {}
    for ix in snapshot.indexes:
        rel = _user_relation(snapshot, ix.table_oid)
        if rel is None or ix.parent_oid is not None or not ix.is_valid:
            continue
        if ix.is_unique or ix.is_primary or ix.is_exclusion or ix.is_replica_identity or ix.constraint:
            continue
        if _scans_with_partitions(snapshot, ix) == 0:
            candidates[ix.oid] = (ix, rel)
    protected: dict[int, list[str]] = {}
    for rel_oid in {rel.oid for _, rel in candidates.values()}:
        rel = snapshot.relation(rel_oid)
        assert rel is not None
        protected.update(_protected_fk_covers(snapshot, rel, set(candidates)))
    for ix, rel in candidates.values():
        if ix.oid in protected:
            continue
        fks = [fk.name for fk in foreign_keys(snapshot, rel) if ix in fk_covers(snapshot, fk)]
        if rel.kind == "p":
            note = "-- A partitioned index cannot be dropped CONCURRENTLY; this locks the parent and partitions.\n"
            drop = sql.SQL("DROP INDEX {}").format(rel_ident(ix))
        else:
            note, drop = _CONCURRENTLY_NOTE, sql.SQL("DROP INDEX CONCURRENTLY {}").format(rel_ident(ix))
        stats = rel.stats
        yield spec.finding(
            index_ref(snapshot, ix),
            f"Index {ix.qualified} on {rel.qualified} has not been scanned since {snapshot.stats_since}.",
            evidence={
                "idx_scan": 0,
                **stats_evidence(snapshot, age),
                "size_bytes": ix.size_bytes,
                "definition": ix.definition,
                "table_seq_scan": stats.seq_scan if stats else None,
                "table_idx_scan": stats.idx_scan if stats else None,
                "also_covers_foreign_keys": fks,
                "remediation_transactional": rel.kind == "p",
            },
            sql=note + render(drop),
        )


# --------------------------------------------------------------------------------------------------
# no_primary_key
# --------------------------------------------------------------------------------------------------


def _key_candidates(snapshot: Snapshot, rel: Relation) -> list[Index]:
    """Unique, valid, non-partial indexes on NOT NULL plain columns: keys in all but name."""
    out = []
    for ix in snapshot.indexes_of(rel.oid):
        if not ix.is_unique or not ix.is_valid or ix.predicate is not None or 0 in ix.key_columns:
            continue
        cols = [rel.column(n) for n in ix.key_columns]
        if all(c is not None and c.not_null for c in cols):
            out.append(ix)
    return sorted(out, key=lambda i: (i.constraint is not None, len(i.key_columns), i.oid))


@check(
    "no_primary_key",
    "No primary key",
    Level.INFO,
    Category.PERFORMANCE,
    description="A table (or partitioned parent) without a primary key.",
    rationale=(
        "Without a primary key nothing identifies a row: duplicates creep in, logical replication cannot "
        "replicate UPDATE and DELETE (with the default replica identity), and tools and ORMs that edit rows "
        "by key cannot work on the table."
    ),
    remediation=(
        "Add a primary key. When a unique index over NOT NULL columns already exists, promote it with ADD "
        "PRIMARY KEY USING INDEX (instant); otherwise add an identity column as key, which rewrites the table."
    ),
)
def no_primary_key(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel in snapshot.relations:
        if rel.parent_oid is not None or _user_relation(snapshot, rel.oid, "rp") is None:
            continue  # partitions follow their parent: a parent with a key gives every partition one
        if any(c.type == "p" for c in snapshot.constraints_of(rel.oid)):
            continue
        candidates = _key_candidates(snapshot, rel)
        usable = [
            ix for ix in candidates if ix.constraint is None and not any(ix.key_options) and not ix.include_columns
        ]
        if rel.kind == "p":
            script = (
                "-- The primary key of a partitioned table must include the partition key columns; "
                "choose the key, then:\n-- ALTER TABLE ... ADD PRIMARY KEY (..., partition key columns);"
            )
        elif usable:
            script = "-- Promotes the existing unique index (brief ACCESS EXCLUSIVE lock, no rebuild):\n" + render(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(
                    rel_ident(rel),
                    sql.Identifier(_truncate(rel.name, NAMEDATALEN - 5) + "_pkey"),
                    sql.Identifier(usable[0].name),
                )
            )
        else:
            column, n = "id", 0
            while rel.column_named(column) is not None:
                n += 1
                column = f"id{n}"
            script = (
                "-- No unique key exists: add a synthetic one. This rewrites the table under an ACCESS "
                "EXCLUSIVE lock.\n"
                + render(
                    sql.SQL("ALTER TABLE {} ADD COLUMN {} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY").format(
                        rel_ident(rel), sql.Identifier(column)
                    )
                )
            )
        partitions = sum(1 for r in snapshot.relations if r.parent_oid == rel.oid)
        yield spec.finding(
            relation_ref(rel),
            f"{'Partitioned table' if rel.kind == 'p' else 'Table'} {rel.qualified} has no primary key"
            + (f"; unique index {candidates[0].name} could become one." if candidates else "."),
            evidence={
                "kind": "partitioned table" if rel.kind == "p" else "table",
                "partitions": partitions if rel.kind == "p" else None,
                "rows_estimate": max(int(rel.reltuples), 0) if rel.reltuples >= 0 else None,
                "unique_not_null_indexes": [ix.name for ix in candidates],
            },
            sql=script,
        )


# --------------------------------------------------------------------------------------------------
# table_bloat
# --------------------------------------------------------------------------------------------------


@check(
    "table_bloat",
    "Table bloat",
    Level.INFO,
    Category.PERFORMANCE,
    description="A table whose dead tuples exceed 10 % of its live tuples and 1,000 rows (thresholds configurable).",
    rationale=(
        "Dead tuples are row versions left by UPDATE and DELETE that vacuum has not reclaimed yet. They make "
        "scans read pages full of garbage, bloat indexes, and signal that autovacuum is disabled, throttled "
        "or blocked (long transactions, abandoned replication slots)."
    ),
    remediation=(
        "Run VACUUM (outside a transaction block) and find out why autovacuum did not: disabled per table, "
        "thresholds too high for a large table, or an old snapshot holding the xmin horizon. Reclaiming disk "
        "space from a heavily bloated table needs pg_repack rather than VACUUM FULL (which locks the table)."
    ),
)
def table_bloat(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    failed = dict(snapshot.skipped_queries).get("table_stats")
    if failed:
        raise CheckSkipped(f"table statistics could not be read: {failed}")
    age = require_stats_age(snapshot, config)
    ratio = float(config.threshold("table_bloat.dead_ratio", 0.1))
    min_dead = int(config.threshold("table_bloat.min_dead_tuples", 1000))
    for rel in snapshot.relations:
        stats = rel.stats
        if stats is None or _user_relation(snapshot, rel.oid, "rm") is None:
            continue
        dead, live = stats.n_dead_tup, stats.n_live_tup
        if dead <= min_dead or dead <= ratio * live:
            continue
        share = f"{dead / live:.0%} of its {live:,} live tuples" if live else "and no live tuples"
        autovacuum = rel.option("autovacuum_enabled")
        yield spec.finding(
            relation_ref(rel),
            f"Table {rel.qualified} has {dead:,} dead tuples, {share}.",
            evidence={
                "n_dead_tup": dead,
                "n_live_tup": live,
                "dead_ratio": round(dead / live, 4) if live else None,
                "last_vacuum": stats.last_vacuum,
                "last_autovacuum": stats.last_autovacuum,
                "autovacuum_enabled": autovacuum if autovacuum is not None else snapshot.setting("autovacuum"),
                "size_bytes": rel.size_bytes,
                **stats_evidence(snapshot, age),
                "thresholds": {"dead_ratio": ratio, "min_dead_tuples": min_dead},
                **_NOT_TRANSACTIONAL,
            },
            sql="-- VACUUM cannot run inside a transaction block: run it on its own (autocommit).\n"
            + render(sql.SQL("VACUUM (ANALYZE) {}").format(rel_ident(rel))),
        )


# --------------------------------------------------------------------------------------------------
# Shared by redundant_index, duplicate_vector_index and invalid_index
# --------------------------------------------------------------------------------------------------


def _drop_index(rel: Relation, ix: Index, *notes: str) -> tuple[str, bool]:
    """A DROP INDEX script (CONCURRENTLY unless the table is partitioned) and whether it is transactional."""
    if rel.kind == "p":
        header = "-- A partitioned index cannot be dropped CONCURRENTLY; this locks the parent and partitions.\n"
        drop, transactional = sql.SQL("DROP INDEX {}").format(rel_ident(ix)), True
    else:
        header, drop, transactional = (
            _CONCURRENTLY_NOTE,
            sql.SQL("DROP INDEX CONCURRENTLY {}").format(rel_ident(ix)),
            False,
        )
    return "".join(f"-- {n}\n" for n in notes) + header + render(drop), transactional


# --------------------------------------------------------------------------------------------------
# redundant_index
# --------------------------------------------------------------------------------------------------

_REVERSED = 3  # indoption bits DESC (1) and NULLS FIRST (2): a backward scan flips both


def _btree_candidate(snapshot: Snapshot, ix: Index) -> bool:
    return (
        ix.access_method == "btree"
        and ix.is_valid
        and ix.is_ready
        and _user_relation(snapshot, ix.table_oid) is not None
    )


def _prefix_of(ix: Index, cover: Index) -> bool:
    """Whether every scan `ix` serves, `cover` serves too: same leading keys (columns or expressions), operator
    classes and collations, sort options equal or all reversed (a btree scans backwards), same predicate,
    and `ix`'s INCLUDE columns present in `cover`."""
    k = len(ix.key_columns)
    if k == 0 or k > len(cover.key_columns) or cover.key_columns[:k] != ix.key_columns:
        return False
    if ix.predicate != cover.predicate:
        return False
    if ix.opclasses != cover.opclasses[:k] or ix.collations != cover.collations[:k]:
        return False
    options, cover_options = ix.key_options[:k], cover.key_options[:k]
    if options != cover_options and options != tuple(o ^ _REVERSED for o in cover_options):
        return False
    if 0 in ix.key_columns and (0 in cover.key_columns[k:] or ix.expressions != cover.expressions):
        # Expressions are compared as one deparsed list: only when the cover has none beyond the prefix.
        return False
    return set(ix.include_columns) <= set(cover.key_columns) | set(cover.include_columns)


def _redundancy_covers(snapshot: Snapshot) -> dict[int, list[Index]]:
    """Non-unique btree index OID -> the other valid btree indexes that serve every scan it serves."""
    fk_users = _fk_users(snapshot)
    out: dict[int, list[Index]] = {}
    for rel in snapshot.relations:
        btrees = [ix for ix in snapshot.indexes_of(rel.oid) if _btree_candidate(snapshot, ix)]
        for ix in btrees:
            if ix.is_unique or ix.is_primary or ix.is_exclusion or ix.constraint or ix.parent_oid is not None:
                continue
            for cover in btrees:
                if cover.oid == ix.oid or not _prefix_of(ix, cover) or _identity(cover) == _identity(ix):
                    continue
                mutual = len(cover.key_columns) == len(ix.key_columns) and _prefix_of(cover, ix)
                if mutual and (*_keep_order(cover, fk_users), cover.oid) > (*_keep_order(ix, fk_users), ix.oid):
                    continue  # (a) and (a DESC): report only the one that is not kept
                out.setdefault(ix.oid, []).append(cover)
    return out


@check(
    "redundant_index",
    "Redundant index",
    Level.INFO,
    Category.PERFORMANCE,
    description=(
        "A non-unique btree index whose key columns are the leading columns of another valid btree index on "
        "the same table, with the same operator classes, collations, sort order and predicate."
    ),
    rationale=(
        "A btree index on (a, b) also serves every lookup and sort on (a) alone, so the narrower index costs "
        "writes, WAL, vacuum work and cache for little. It is not always useless: being smaller, it can be "
        "faster for very hot lookups on (a) — check its scan count against the covering index's first."
    ),
    remediation=(
        "Drop the redundant index with DROP INDEX CONCURRENTLY (outside a transaction block) once you have "
        "confirmed the covering index serves its queries; the definition in the evidence re-creates it."
    ),
)
def redundant_index(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    covers = _redundancy_covers(snapshot)
    for oid, candidates in covers.items():
        ix = snapshot.index(oid)
        rel = snapshot.relation(ix.table_oid) if ix else None
        assert ix is not None and rel is not None
        # The cover kept is one that is not itself redundant (so dropping every finding stays safe), then
        # the narrowest, then a constraint-backing one, then the oldest.
        cover = min(
            candidates,
            key=lambda c: (c.oid in covers, len(c.key_columns), c.constraint is None, c.oid),
        )
        fks = [fk for fk in foreign_keys(snapshot, rel) if ix in fk_covers(snapshot, fk)]
        if any(not [c for c in fk_covers(snapshot, fk) if c.oid != ix.oid] for fk in fks):
            continue  # the only index serving a foreign key (cannot happen with a valid cover, kept as a guard)
        script, transactional = _drop_index(rel, ix)
        if all(k == 0 for k in ix.key_columns):
            names = ix.expressions or "expression"
        else:
            names = ", ".join(n if n != "#0" else "expression" for n in _names(rel, ix.key_columns))
        yield spec.finding(
            index_ref(snapshot, ix),
            f"Index {ix.qualified} ({names}) is a leading prefix of {cover.qualified}, which serves the same lookups.",
            evidence={
                "covering_index": cover.qualified,
                "covering_definition": cover.definition,
                "covering_constraint": cover.constraint,
                "definition": ix.definition,
                "size_bytes": ix.size_bytes,
                "idx_scan": ix.idx_scan,
                "covering_idx_scan": cover.idx_scan,
                "foreign_keys_also_covered": [fk.name for fk in fks],
                "remediation_transactional": transactional,
            },
            sql=script,
        )


# --------------------------------------------------------------------------------------------------
# duplicate_vector_index
# --------------------------------------------------------------------------------------------------

ANN_METHODS = ("hnsw", "ivfflat")
# pgvector operator class suffix -> the distance operator it serves.
_DISTANCE_OPERATORS = {
    "l2_ops": "<-> (L2 distance)",
    "ip_ops": "<#> (negative inner product)",
    "cosine_ops": "<=> (cosine distance)",
    "l1_ops": "<+> (L1 distance)",
    "hamming_ops": "<~> (Hamming distance)",
    "jaccard_ops": "<%> (Jaccard distance)",
}


def _distance_operator(opclass: str) -> str:
    for suffix, operator in _DISTANCE_OPERATORS.items():
        if opclass.endswith(suffix):
            return operator
    return f"the operators of {opclass}"


def _ann_keep_order(ix: Index) -> tuple[object, ...]:
    """HNSW before IVFFlat (better recall for the same speed, no training on existing data), then oldest."""
    return (ix.access_method != "hnsw", ix.oid)


@check(
    "duplicate_vector_index",
    "Duplicate vector index",
    Level.WARN,
    Category.PERFORMANCE,
    description=(
        "More than one approximate-nearest-neighbour index (pgvector HNSW or IVFFlat) on the same vector column "
        "(or expression) with the same predicate. When the indexes use different operator classes they serve "
        "different distance operators: that case is reported at level info."
    ),
    rationale=(
        "Vector indexes are the largest and slowest indexes to maintain: every insert walks an HNSW graph or "
        "assigns an IVFFlat list, and both must stay in memory to be fast. A query ordered by one distance "
        "operator uses at most one of them, so a second index with the same operator class only costs writes, "
        "memory and build time. An index with another operator class (say cosine next to L2) is used only by "
        "queries ordering by that other operator; it is redundant only if no query does."
    ),
    remediation=(
        "Check with EXPLAIN which index your similarity queries use, then drop the other with DROP INDEX "
        "CONCURRENTLY (outside a transaction block). HNSW is kept by default over IVFFlat. For indexes with "
        "different operator classes, drop one only after confirming no query orders by its distance operator."
    ),
)
def duplicate_vector_index(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    groups: dict[tuple[object, ...], list[Index]] = {}
    for ix in snapshot.indexes:
        if ix.access_method not in ANN_METHODS or not ix.is_valid or ix.parent_oid is not None:
            continue
        if _user_relation(snapshot, ix.table_oid) is None or not ix.key_columns:
            continue
        target = ix.expressions if ix.key_columns[0] == 0 else ix.key_columns[0]
        groups.setdefault((ix.table_oid, target, ix.predicate), []).append(ix)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=_ann_keep_order)
        kept = members[0]
        rel = snapshot.relation(kept.table_oid)
        assert rel is not None
        column = _names(rel, kept.key_columns[:1])[0] if kept.key_columns[0] else kept.expressions or "expression"
        for n, ix in enumerate(members[1:], start=1):
            if any(_identity(ix) == _identity(other) for other in members[:n]):
                continue  # an exact copy: duplicate_index reports it
            same = [other for other in members[:n] if other.opclasses[:1] == ix.opclasses[:1]]
            opclass = ix.opclasses[0] if ix.opclasses else ""
            if same:
                twin, level = same[0], Level.WARN
                detail = (
                    f"{ix.access_method.upper()} index {ix.qualified} on {rel.qualified} ({column}) serves the same "
                    f"distance operator as {twin.access_method.upper()} index {twin.qualified}; one is enough."
                )
                note: tuple[str, ...] = ()
            else:
                twin, level = kept, Level.INFO
                detail = (
                    f"{ix.access_method.upper()} index {ix.qualified} on {rel.qualified} ({column}) is a second "
                    f"vector index on the column, but it serves a different distance operator "
                    f"({_distance_operator(opclass)}) than {twin.qualified} "
                    f"({_distance_operator(twin.opclasses[0] if twin.opclasses else '')}): drop it only if no "
                    "query orders by that operator."
                )
                note = ("Drop only after confirming that no query orders by this index's distance operator.",)
            script, transactional = _drop_index(rel, ix, *note)
            yield spec.finding(
                index_ref(snapshot, ix),
                detail,
                evidence={
                    "column": column,
                    "kept_index": twin.qualified,
                    "kept_definition": twin.definition,
                    "kept_access_method": twin.access_method,
                    "kept_opclass": twin.opclasses[0] if twin.opclasses else None,
                    "definition": ix.definition,
                    "access_method": ix.access_method,
                    "opclass": opclass or None,
                    "same_distance_operator": bool(same),
                    "size_bytes": ix.size_bytes,
                    "idx_scan": ix.idx_scan,
                    "kept_idx_scan": twin.idx_scan,
                    "remediation_transactional": transactional,
                },
                sql=script,
                level=level,
            )


# --------------------------------------------------------------------------------------------------
# invalid_index
# --------------------------------------------------------------------------------------------------


def _builds(snapshot: Snapshot) -> tuple[set[int], bool] | None:
    """Tables with a CREATE INDEX / REINDEX running now, and whether some running build is hidden from us
    (another role's, without pg_read_all_stats: it could be building any index, so none is reported);
    None when the index_builds probe could not run (then indisready = false is no proof either way)."""
    found = snapshot.probe("index_builds")
    if found is None or found.skipped is not None:
        return None
    tables = {int(r["relid"]) for r in found.rows if r.get("relid")}
    return tables, any(not r.get("relid") for r in found.rows)


@check(
    "invalid_index",
    "Invalid index",
    Level.WARN,
    Category.PERFORMANCE,
    description=(
        "An index marked invalid (pg_index.indisvalid = false) that no CREATE INDEX or REINDEX is building "
        "right now: the leftover of a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY."
    ),
    rationale=(
        "The planner never uses an invalid index, yet writes may still maintain it: it costs write time and "
        "disk and enforces nothing (an invalid unique index does not guarantee uniqueness). It usually means "
        "a migration failed half-way, for instance a unique index built on data that has duplicates, and "
        "whatever the index was for is not in place."
    ),
    remediation=(
        "Find out why the build failed (duplicate rows for a unique index, a deadlock, a cancelled "
        "statement), drop the invalid index with DROP INDEX CONCURRENTLY and build it again with CREATE INDEX "
        "CONCURRENTLY from the definition in the evidence. A partitioned index stays invalid until every "
        "partition has an index attached to it: create and ATTACH the missing ones."
    ),
)
def invalid_index(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    builds = _builds(snapshot)
    children = _children(snapshot)
    for ix in snapshot.indexes:
        rel = _user_relation(snapshot, ix.table_oid)
        if ix.is_valid or rel is None:
            continue
        if builds is not None:
            tables, hidden = builds
            if ix.table_oid in tables or hidden:
                continue  # a build is running on this table (or, unseen, might be): not a leftover yet
        evidence: dict[str, object] = {
            "definition": ix.definition,
            "is_ready": ix.is_ready,
            "is_unique": ix.is_unique,
            "size_bytes": ix.size_bytes,
            "running_builds_checked": builds is not None,
        }
        if rel.kind == "p":
            attached = {c.table_oid for c in children.get(ix.oid, [])}
            missing = [p.qualified for p in _partitions(snapshot, rel) if p.oid not in attached and p.kind != "f"]
            yield spec.finding(
                index_ref(snapshot, ix),
                f"Partitioned index {ix.qualified} on {rel.qualified} is invalid: "
                + (
                    f"{len(missing)} partition(s) have no index attached to it ({', '.join(missing)})."
                    if missing
                    else "an attached partition index is itself invalid."
                ),
                evidence={**evidence, "partitions_without_index": missing},
                sql=None,
                level=Level.INFO,
            )
            continue
        why = (
            "a unique index whose build failed, often because the table holds duplicate keys"
            if ix.is_unique
            else "an index whose build failed or was cancelled"
        )
        script, transactional = _drop_index(
            rel, ix, "Re-create it afterwards (CREATE INDEX CONCURRENTLY, definition in the evidence)."
        )
        yield spec.finding(
            index_ref(snapshot, ix),
            f"Index {ix.qualified} on {rel.qualified} is invalid ({why}); the planner never uses it.",
            evidence={**evidence, "remediation_transactional": transactional},
            sql=script,
        )
