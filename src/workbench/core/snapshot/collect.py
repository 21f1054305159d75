"""One read-only pass over the catalogs and statistics that builds a `Snapshot`."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row

from workbench.core.connections.session import (
    AuditSession,
    Cancelled,
    ConnectionFailed,
    explain_connection_error,
)
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
    ) -> list[Row]:
        if self.session.cancelled:
            raise Cancelled
        sql = query_text(name, self.version_num)
        conn = self.session.conn
        try:
            with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                cur.execute(sql.encode(), params)  # type: ignore[arg-type]
                # In chunks: converting one huge result holds the GIL long enough to stall a GUI thread.
                rows: list[Row] = []
                while chunk := cur.fetchmany(_FETCH_CHUNK):
                    rows.extend(chunk)
                return rows
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
        return []


_LOCK_CHUNK = 500


def _sequence_values(reader: _Reader, oids: list[int]) -> dict[int, int | None]:
    """Last values of the sequences, each chunk in its own transaction so their locks never pile up."""
    out: dict[int, int | None] = {}
    for start in range(0, len(oids), _LOCK_CHUNK):
        chunk = oids[start : start + _LOCK_CHUNK]
        rows = reader.rows("sequence_values", {"oids": chunk}, optional=True)
        out.update((r["oid"], r["last_value"]) for r in rows)
    return out


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _grants(rows: Iterable[Row], names: dict[int, str]) -> dict[tuple[str, int, int], tuple[Grant, ...]]:
    out: dict[tuple[str, int, int], list[Grant]] = defaultdict(list)
    for r in rows:
        grantee = "PUBLIC" if r["grantee"] == 0 else names.get(r["grantee"], str(r["grantee"]))
        out[(r["kind"], r["oid"], r["attnum"])].append(Grant(grantee, r["privilege"], r["grantable"]))
    return {k: tuple(sorted(v, key=lambda g: (g.grantee, g.privilege))) for k, v in out.items()}


def _ids(trees: Iterable[str | None], field: str) -> list[int]:
    pattern = re.compile(rf":{field} (\d+)")
    return sorted({int(m) for t in trees if t for m in pattern.findall(t)})


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
    data: dict[str, list[Row]] = {}
    total = len(QUERIES) + 2
    for step, (name, label) in enumerate(QUERIES):
        report(step / total, f"Reading {label}")
        data[name] = reader.rows(name, optional=name not in _ESSENTIAL)
    trees = [t for p in data["policies"] for t in (p["using_tree"], p["with_check_tree"])]
    report((total - 2) / total, "Resolving policy expressions")
    funcs = reader.rows("referenced_functions", {"oids": _ids(trees, "funcid")}, optional=True)
    ops = reader.rows("referenced_operators", {"oids": _ids(trees, "opno")}, optional=True)

    report((total - 1) / total, "Running probes")
    probes = run_probes(session, meta["server_version_num"], {e["name"] for e in data["extensions"]})
    conn.rollback()  # end the read-only transaction; nothing was written
    # Sequence values are not transactional, so they need not come from the snapshot; reading one locks the
    # sequence until the end of the *top* transaction, so they are read in short transactions of their own.
    last_values = _sequence_values(reader, [s["oid"] for s in data["sequences"]])
    for seq in data["sequences"]:
        seq["last_value"] = last_values.get(seq["oid"])
    snapshot_parts = _build(data, _grants(data["grants"], {r["oid"]: r["name"] for r in data["roles"]}))
    report(1.0, "Catalog read")
    return Snapshot(
        database=meta["database"],
        server_version=meta["server_version"],
        server_version_num=meta["server_version_num"],
        current_user=meta["current_user"],
        collected_at=meta["collected_at"],
        stats_since=meta["stats_since"],
        referenced_functions=tuple((r["oid"], r["name"]) for r in funcs),
        referenced_operators=tuple((r["oid"], r["name"]) for r in ops),
        probes=probes,
        skipped_queries=tuple(reader.skipped),
        duration_s=round(time.perf_counter() - started, 4),
        **snapshot_parts,
    )


def _table_stats(row: Row) -> TableStats:
    counters = ("seq_scan", "seq_tup_read", "idx_scan", "n_live_tup", "n_dead_tup", "n_mod_since_analyze")
    values: dict[str, Any] = {k: int(row[k] or 0) for k in counters}
    values.update((k, row[k]) for k in ("last_vacuum", "last_autovacuum", "last_analyze", "last_autoanalyze"))
    values["has_column_stats"] = row.get("has_column_stats")
    return TableStats(**values)


def _build(data: dict[str, list[Row]], grants: dict[tuple[str, int, int], tuple[Grant, ...]]) -> dict[str, Any]:
    names = {(r["kind"], r["oid"]): r["name"] for r in data["names"]}
    columns: dict[int, list[Column]] = defaultdict(list)
    for c in data["columns"]:
        columns[c["relid"]].append(
            Column(
                attnum=c["attnum"],
                name=c["name"],
                type=c["type"],
                type_name=c["type_name"],
                not_null=c["not_null"],
                default=c["default"],
                identity=c["identity"] or "",
                generated=c["generated"] or "",
                collation=c["collation"],
                grants=grants.get(("column", c["relid"], c["attnum"]), ()),
            )
        )
    stats = {s["relid"]: _table_stats(s) for s in data["table_stats"]}
    depends: dict[int, list[int]] = defaultdict(list)
    for d in data["view_dependencies"]:
        depends[d["view_oid"]].append(d["relation_oid"])

    relations = tuple(
        Relation(
            oid=r["oid"],
            schema=r["schema"],
            name=r["name"],
            kind=r["kind"],
            owner=r["owner"],
            rls_enabled=r["rls_enabled"],
            rls_forced=r["rls_forced"],
            options=tuple(r["options"]),
            columns=tuple(columns.get(r["oid"], ())),
            grants=grants.get(("class", r["oid"], 0), ()),
            extension=r["extension"],
            parent_oid=r["parent_oid"],
            partition_bound=r["partition_bound"],
            partition_key=r["partition_key"],
            reltuples=float(r["reltuples"]),
            relpages=r["relpages"],
            size_bytes=int(r["size_bytes"] or 0),
            view_definition=r["view_definition"],
            depends_on=tuple(depends.get(r["oid"], ())),
            stats=stats.get(r["oid"]),
            comment=r["comment"],
        )
        for r in data["relations"]
    )
    schemas = tuple(
        Schema(
            oid=s["oid"],
            name=s["name"],
            owner=s["owner"],
            extension=s["extension"],
            grants=grants.get(("schema", s["oid"], 0), ()),
        )
        for s in data["schemas"]
    )
    indexes = tuple(
        Index(
            **{
                k: v
                for k, v in i.items()
                if k
                not in {"key_columns", "include_columns", "opclass_oids", "collation_oids", "size_bytes", "key_options"}
            },
            key_columns=tuple(i["key_columns"] or ()),
            key_options=tuple(i["key_options"] or ()),
            include_columns=tuple(i["include_columns"] or ()),
            opclasses=tuple(names.get(("opclass", o), str(o)) for o in i["opclass_oids"] or ()),
            collations=tuple(names.get(("collation", o), "") for o in i["collation_oids"] or ()),
            size_bytes=int(i["size_bytes"] or 0),
        )
        for i in data["indexes"]
    )
    constraints = tuple(
        Constraint(
            **{k: v for k, v in c.items() if k not in {"columns", "ref_columns", "on_delete", "on_update"}},
            columns=tuple(c["columns"]),
            ref_columns=tuple(c["ref_columns"]),
            on_delete=c["on_delete"] or "",
            on_update=c["on_update"] or "",
        )
        for c in data["constraints"]
    )
    policies = tuple(Policy(**{**p, "roles": tuple(p["roles"])}) for p in data["policies"])
    functions = tuple(
        Function(**{**f, "config": tuple(f["config"]), "grants": grants.get(("function", f["oid"], 0), ())})
        for f in data["functions"]
    )
    sequences = tuple(
        Sequence(
            **{**s, "default_of": tuple((int(t), int(a)) for t, a in s["default_of"] or ())},
            grants=grants.get(("class", s["oid"], 0), ()),
        )
        for s in data["sequences"]
    )
    return {
        "roles": tuple(
            Role(
                **{k: v for k, v in r.items() if k not in {"oid", "member_of"}},
                member_of=tuple(r["member_of"]),
            )
            for r in data["roles"]
        ),
        "schemas": schemas,
        "relations": relations,
        "indexes": indexes,
        "constraints": constraints,
        "policies": policies,
        "functions": functions,
        "sequences": sequences,
        "extensions": tuple(Extension(**e) for e in data["extensions"]),
        "available_extensions": tuple(a["name"] for a in data["available_extensions"]),
        "triggers": tuple(Trigger(**t) for t in data["triggers"]),
        "settings": tuple((s["name"], s["setting"]) for s in data["settings"]),
    }
