"""One read-only pass over the catalogs and statistics that builds a `Snapshot`."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from importlib import resources
from operator import itemgetter
from typing import Any

import psycopg
from psycopg.rows import dict_row

from workbench.core.connections.session import (
    AuditSession,
    Cancelled,
    ConnectionFailed,
    explain_connection_error,
)
from workbench.core.gcpause import gc_paused
from workbench.core.model import (
    Column,
    Constraint,
    Extension,
    Function,
    Grant,
    Index,
    Policy,
    Relation,
    Role,
    Schema,
    Sequence,
    Snapshot,
    TableStats,
    Trigger,
)
from workbench.core.snapshot.probes import run_probes

Progress = Callable[[float, str], None]
Row = dict[str, Any]


# Queries in collection order, with the label shown as progress.
QUERIES: tuple[tuple[str, str], ...] = (
    ("roles", "roles"),
    ("schemas", "schemas"),
    ("relations", "tables and views"),
    ("columns", "columns"),
    ("grants", "privileges"),
    ("table_stats", "table statistics"),
    ("view_dependencies", "view dependencies"),
    ("indexes", "indexes"),
    ("names", "operator classes and collations"),
    ("constraints", "constraints"),
    ("policies", "policies"),
    ("functions", "functions"),
    ("sequences", "sequences"),
    ("extensions", "extensions"),
    ("available_extensions", "available extensions"),
    ("triggers", "triggers"),
    ("settings", "settings"),
)
_FETCH_CHUNK = 500
# Without these the audit cannot say anything; any other query may fail and only its checks are skipped.
_ESSENTIAL = {"roles", "schemas", "relations", "columns", "grants"}


@cache
def _sql_files() -> dict[str, str]:
    folder = resources.files("workbench.core.snapshot") / "sql"
    return {f.name: f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".sql")}


def query_text(name: str, server_version_num: int) -> str:
    """The SQL for `name` on this server: `name.pgNN.sql` serves versions up to NN, `name.sql` the newest."""
    major = server_version_num // 10_000
    files = _sql_files()
    variants = sorted(int(m.group(1)) for f in files if (m := re.fullmatch(re.escape(name) + r"\.pg(\d+)\.sql", f)))
    for limit in variants:
        if major <= limit:
            return files[f"{name}.pg{limit}.sql"]
    return files[f"{name}.sql"]


class _Rows:
    """A query's rows as tuples (a dict per row costs a fifth of the collection) and its column positions."""

    def __init__(self, names: list[str], rows: list[tuple[Any, ...]]):
        self.position = {n: i for i, n in enumerate(names)}
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def values(self, *names: str) -> Iterator[tuple[Any, ...]]:
        """The named columns of every row, in that order (an empty result has no columns at all)."""
        if not self.rows:
            return iter(())
        pick = itemgetter(*(self.position[n] for n in names))
        return map(pick, self.rows) if len(names) > 1 else ((pick(r),) for r in self.rows)

    def column(self, name: str) -> list[Any]:
        return [v for (v,) in self.values(name)]

    def dicts(self) -> list[Row]:
        names = list(self.position)
        return [dict(zip(names, r, strict=True)) for r in self.rows]


class _Reader:
    """Runs named queries inside the audit transaction, each under a savepoint so one failure is local."""

    def __init__(self, session: AuditSession, version_num: int):
        self.session = session
        self.version_num = version_num
        self.skipped: list[tuple[str, str]] = []

    def rows(
        self,
        name: str,
        params: dict[str, Any] | None = None,
        *,
        optional: bool = False,
    ) -> _Rows:
        if self.session.cancelled:
            raise Cancelled
        sql = query_text(name, self.version_num)
        conn = self.session.conn
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(sql.encode(), params)  # type: ignore[arg-type]
                # In chunks: converting one huge result holds the GIL long enough to stall a GUI thread.
                rows: list[tuple[Any, ...]] = []
                while chunk := cur.fetchmany(_FETCH_CHUNK):
                    rows.extend(chunk)
                return _Rows([c.name for c in cur.description or ()], rows)
        except psycopg.errors.QueryCanceled as exc:
            if self.session.cancelled:
                raise Cancelled from None
            reason = f"timed out after {self.session.options.statement_timeout_ms / 1000:g} s ({_first(exc)})"
        except psycopg.errors.InsufficientPrivilege as exc:
            reason = f"permission denied: {_first(exc)}"
        except psycopg.errors.LockNotAvailable as exc:
            reason = f"a lock could not be taken in time: {_first(exc)}"
        except psycopg.OperationalError as exc:
            if not (exc.sqlstate or "").startswith("53") or conn.closed:
                raise ConnectionFailed(
                    "The connection was lost while reading the catalogs: "
                    + explain_connection_error(exc, self.session.dsn)
                ) from None
            reason = f"the server ran short of resources ({_first(exc)}; e.g. raise max_locks_per_transaction)"
        if not optional:
            raise ConnectionFailed(f"Could not read the {name.replace('_', ' ')} of the database: {reason}")
        self.skipped.append((name, reason))
        return _Rows([], [])


_LOCK_CHUNK = 500


def _sequence_values(reader: _Reader, oids: list[int]) -> dict[int, int | None]:
    """Last values of the sequences, each chunk in its own transaction so their locks never pile up."""
    out: dict[int, int | None] = {}
    for start in range(0, len(oids), _LOCK_CHUNK):
        chunk = oids[start : start + _LOCK_CHUNK]
        out.update(reader.rows("sequence_values", {"oids": chunk}, optional=True).values("oid", "last_value"))
    return out


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _grants(rows: _Rows, names: dict[int, str]) -> dict[tuple[str, int, int], tuple[Grant, ...]]:
    out: dict[tuple[str, int, int], list[Grant]] = defaultdict(list)
    made: dict[tuple[int, str, bool], Grant] = {}
    for kind, oid, attnum, grantee_oid, privilege, grantable in rows.values(
        "kind", "oid", "attnum", "grantee", "privilege", "grantable"
    ):
        grant = made.get(key := (grantee_oid, privilege, grantable))
        if grant is None:
            grantee = "PUBLIC" if grantee_oid == 0 else names.get(grantee_oid, str(grantee_oid))
            grant = made[key] = Grant(grantee, privilege, grantable)
        out[(kind, oid, attnum)].append(grant)
    # Equal grant lists share one tuple: most objects carry the same few, and checks cache by tuple identity.
    interned: dict[tuple[Grant, ...], tuple[Grant, ...]] = {}
    return {
        k: interned.setdefault(held := tuple(sorted(v, key=lambda g: (g.grantee, g.privilege))), held)
        for k, v in out.items()
    }


def _ids(trees: Iterable[str | None], field: str) -> list[int]:
    pattern = re.compile(rf":{field} (\d+)")
    return sorted({int(m) for t in trees if t for m in pattern.findall(t)})


@gc_paused()
def collect_snapshot(session: AuditSession, progress: Progress | None = None) -> Snapshot:
    """Read everything the checks need in one REPEATABLE READ, read-only transaction.

    Raises ConnectionFailed when the connection is lost or a required catalog cannot be read, and
    Cancelled when `session.cancel()` was called. Optional steps that fail are listed in
    `Snapshot.skipped_queries` instead.
    """
    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    conn = session.conn
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query_text("meta", 0).encode())
            meta = cur.fetchone()
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(explain_connection_error(exc, session.dsn)) from None
    assert meta is not None
    reader = _Reader(session, meta["server_version_num"])
    data: dict[str, _Rows] = {}
    total = len(QUERIES) + 2
    for step, (name, label) in enumerate(QUERIES):
        report(step / total, f"Reading {label}")
        data[name] = reader.rows(name, optional=name not in _ESSENTIAL)
    trees = [t for pair in data["policies"].values("using_tree", "with_check_tree") for t in pair]
    report((total - 2) / total, "Resolving policy expressions")
    funcs = reader.rows("referenced_functions", {"oids": _ids(trees, "funcid")}, optional=True)
    ops = reader.rows("referenced_operators", {"oids": _ids(trees, "opno")}, optional=True)

    report((total - 1) / total, "Running probes")
    probes = run_probes(session, meta["server_version_num"], set(data["extensions"].column("name")))
    conn.rollback()  # end the read-only transaction; nothing was written
    # Sequence values are not transactional, so they need not come from the snapshot; reading one locks the
    # sequence until the end of the *top* transaction, so they are read in short transactions of their own.
    last_values = _sequence_values(reader, data["sequences"].column("oid"))
    grants = _grants(data["grants"], dict(data["roles"].values("oid", "name")))
    snapshot_parts = _build(data, grants, last_values)
    report(1.0, "Catalog read")
    return Snapshot(
        database=meta["database"],
        server_version=meta["server_version"],
        server_version_num=meta["server_version_num"],
        current_user=meta["current_user"],
        collected_at=meta["collected_at"],
        stats_since=meta["stats_since"],
        referenced_functions=tuple(funcs.values("oid", "name")),
        referenced_operators=tuple(ops.values("oid", "name")),
        probes=probes,
        skipped_queries=tuple(reader.skipped),
        duration_s=round(time.perf_counter() - started, 4),
        **snapshot_parts,
    )


# Result columns in the order of the model's fields, for the large results built positionally.
_COLUMN_FIELDS = (
    "relid", "attnum", "name", "type", "type_name", "not_null", "default", "identity", "generated", "collation",
)  # fmt: skip
_STATS_FIELDS = (
    "relid", "seq_scan", "seq_tup_read", "idx_scan", "n_live_tup", "n_dead_tup", "n_mod_since_analyze",
    "last_vacuum", "last_autovacuum", "last_analyze", "last_autoanalyze", "has_column_stats",
)  # fmt: skip
_RELATION_FIELDS = (
    "oid", "schema", "name", "kind", "owner", "rls_enabled", "rls_forced", "options", "extension", "parent_oid",
    "partition_bound", "partition_key", "reltuples", "relpages", "size_bytes", "view_definition", "comment",
)  # fmt: skip
_INDEX_FIELDS = (
    "oid", "schema", "name", "table_oid", "access_method", "is_unique", "is_primary", "is_exclusion", "is_valid",
    "is_ready", "is_replica_identity", "key_columns", "include_columns", "expressions", "predicate",
    "opclass_oids", "collation_oids", "definition", "constraint", "size_bytes", "idx_scan", "key_options",
    "nulls_not_distinct", "predicate_tree", "parent_oid",
)  # fmt: skip
_CONSTRAINT_FIELDS = (
    "oid", "schema", "table_oid", "name", "type", "columns", "ref_table_oid", "ref_columns", "on_delete",
    "on_update", "validated", "deferrable", "nulls_not_distinct", "index_oid", "definition", "parent_oid",
)  # fmt: skip
_POLICY_FIELDS = (
    "oid", "schema", "table_oid", "table", "name", "permissive", "command", "roles", "using", "with_check",
    "using_tree", "with_check_tree",
)  # fmt: skip


def _table_stats(r: tuple[Any, ...]) -> TableStats:
    seq_scan, seq_tup_read, idx_scan, live, dead, modified = (int(v or 0) for v in r[1:7])
    return TableStats(seq_scan, seq_tup_read, idx_scan, live, dead, modified, r[7], r[8], r[9], r[10], r[11])


def _build(
    data: dict[str, _Rows],
    grants: dict[tuple[str, int, int], tuple[Grant, ...]],
    last_values: dict[int, int | None],
) -> dict[str, Any]:
    """The snapshot's objects; the large results are built positionally (per-row dicts cost a fifth of it)."""
    names = {(kind, oid): name for kind, oid, name in data["names"].values("kind", "oid", "name")}
    columns: dict[int, list[Column]] = defaultdict(list)
    for c in data["columns"].values(*_COLUMN_FIELDS):
        relid, attnum = c[0], c[1]
        column_grants = grants.get(("column", relid, attnum), ())
        columns[relid].append(Column(attnum, c[2], c[3], c[4], c[5], c[6], c[7] or "", c[8] or "", c[9], column_grants))
    stats = {r[0]: _table_stats(r) for r in data["table_stats"].values(*_STATS_FIELDS)}
    depends: dict[int, list[int]] = defaultdict(list)
    for view, relation in data["view_dependencies"].values("view_oid", "relation_oid"):
        depends[view].append(relation)

    relations = tuple(
        Relation(
            oid := r[0], r[1], r[2], r[3], r[4], r[5], r[6],
            options=tuple(r[7]),
            columns=tuple(columns.get(oid, ())),
            grants=grants.get(("class", oid, 0), ()),
            extension=r[8],
            parent_oid=r[9],
            partition_bound=r[10],
            partition_key=r[11],
            reltuples=float(r[12]),
            relpages=r[13],
            size_bytes=int(r[14] or 0),
            view_definition=r[15],
            depends_on=tuple(depends.get(oid, ())),
            stats=stats.get(oid),
            comment=r[16],
        )
        for r in data["relations"].values(*_RELATION_FIELDS)
    )  # fmt: skip
    schemas = tuple(
        Schema(oid, name, owner, grants.get(("schema", oid, 0), ()), extension)
        for oid, name, owner, extension in data["schemas"].values("oid", "name", "owner", "extension")
    )
    indexes = tuple(
        Index(
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
            key_columns=tuple(r[11] or ()),
            include_columns=tuple(r[12] or ()),
            expressions=r[13],
            predicate=r[14],
            opclasses=tuple(names.get(("opclass", o), str(o)) for o in r[15] or ()),
            collations=tuple(names.get(("collation", o), "") for o in r[16] or ()),
            definition=r[17],
            constraint=r[18],
            size_bytes=int(r[19] or 0),
            idx_scan=r[20],
            key_options=tuple(r[21] or ()),
            nulls_not_distinct=r[22],
            predicate_tree=r[23],
            parent_oid=r[24],
        )
        for r in data["indexes"].values(*_INDEX_FIELDS)
    )  # fmt: skip
    constraints = tuple(
        Constraint(
            r[0], r[1], r[2], r[3], r[4], tuple(r[5]), r[6], tuple(r[7]), r[8] or "", r[9] or "",
            r[10], r[11], r[12], r[13], r[14], r[15],
        )
        for r in data["constraints"].values(*_CONSTRAINT_FIELDS)
    )  # fmt: skip
    policies = tuple(
        Policy(r[0], r[1], r[2], r[3], r[4], r[5], r[6], tuple(r[7]), r[8], r[9], r[10], r[11])
        for r in data["policies"].values(*_POLICY_FIELDS)
    )
    functions = tuple(
        Function(**{**f, "config": tuple(f["config"]), "grants": grants.get(("function", f["oid"], 0), ())})
        for f in data["functions"].dicts()
    )
    sequences = tuple(
        Sequence(
            **{**s, "default_of": tuple((int(t), int(a)) for t, a in s["default_of"] or ())},
            last_value=last_values.get(s["oid"]),
            grants=grants.get(("class", s["oid"], 0), ()),
        )
        for s in data["sequences"].dicts()
    )
    return {
        "roles": tuple(
            Role(
                **{k: v for k, v in r.items() if k not in {"oid", "member_of"}},
                member_of=tuple(r["member_of"]),
            )
            for r in data["roles"].dicts()
        ),
        "schemas": schemas,
        "relations": relations,
        "indexes": indexes,
        "constraints": constraints,
        "policies": policies,
        "functions": functions,
        "sequences": sequences,
        "extensions": tuple(Extension(**e) for e in data["extensions"].dicts()),
        "available_extensions": tuple(data["available_extensions"].column("name")),
        "triggers": tuple(Trigger(**t) for t in data["triggers"].dicts()),
        "settings": tuple(data["settings"].values("name", "setting")),
    }
