"""Replay a migrations folder on a throwaway PostgreSQL: apply, trace locks and rewrites, audit, attribute.

* **Apply.** A fresh database on an :class:`EmbeddedServer` (optionally after the Supabase-like scaffold); the
  files in version order, each in its own transaction (``BEGIN`` … ``COMMIT`` sent by the replay, the
  connection itself is in autocommit so that the replay decides where transactions start and end). Before each
  file the session is reset (``DISCARD ALL``), as if the runner opened a new connection. Statements run one by
  one inside the file's transaction. The few that cannot run in a transaction block (``CREATE INDEX
  CONCURRENTLY``, ``VACUUM``, …) commit the statements before them and run on their own, and the file gets a
  note. The file's own ``BEGIN``/``COMMIT`` statements are skipped (noted). The first statement that fails is
  reported with its file, line (from the server's error position, or the PL/pgSQL line of a ``DO`` block) and
  the server's message; that file is rolled back and the replay stops.
* **Trace.** Before a file, the replay records the tables and materialized views that exist (their OIDs,
  relfilenodes and whether they hold rows). After each statement it reads, in the same transaction, the locks
  this backend holds on those relations (``pg_locks``) and their relfilenodes. A lock mode that was not held
  before the statement was taken by it; a changed relfilenode means the statement rewrote the table. Locks are
  held until the file's transaction commits, so a lock taken early blocks for the whole file.
* **Audit.** The whole database audit (``collect_snapshot`` + ``run_checks``) on the resulting schema, without
  the checks that only make sense on a database with real traffic and statistics.
* **Attribute.** Every file runs in its own transaction(s), and a catalog row's ``xmin`` is the transaction
  that created or last updated it: the replay records the next transaction id before the scaffold and before
  every file, so the ``xmin`` of an object's catalog row (pg_class, pg_attribute, pg_proc, pg_policy,
  pg_constraint, pg_extension, pg_authid) names the file that last altered it (sub-transactions of ``DO``
  blocks and the statements run outside the file's transaction fall in the same range). The file that created
  it is the first one after which the object exists (the object keys are read after every file).
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from workbench.core.checks.runner import AuditResult, run_checks
from workbench.core.connections.session import Cancelled, CancelToken, open_session
from workbench.core.embedded import EmbeddedServer
from workbench.core.migrations.analysis import FileAnalysis, FolderAnalysis, excerpt
from workbench.core.migrations.forms import Operation, StatementInfo
from workbench.core.migrations.registry import MIGRATION_RULES, MigrationConfig, file_ref
from workbench.core.migrations.rules import REPLAY_FAILED
from workbench.core.model import Finding, Level
from workbench.core.scaffolds import SCAFFOLDS as SCAFFOLDS  # re-exported: replay.SCAFFOLDS keeps working
from workbench.core.scaffolds import scaffold_sql
from workbench.core.snapshot import collect_snapshot

__all__ = [
    "AppliedFile",
    "Attribution",
    "ReplayFailure",
    "ReplayResult",
    "replay_migrations",
]

Progress = Callable[[float, str], None]

SCAFFOLD_LABEL = "(scaffold)"

# Checks that judge traffic, statistics, sizes or the server itself: meaningless on a freshly replayed schema.
REPLAY_SKIPPED_CHECKS = (
    "unused_index",
    "table_bloat",
    "high_seq_scan_ratio",
    "stale_statistics",
    "slow_queries",
    "long_running_transaction",
    "idle_in_transaction",
    "connection_saturation",
    "xid_wraparound_risk",
    "inactive_replication_slot",
    "cron_job_failures",
    "cron_silent_http_failure",
    "numeric_precision_risk",
    "partition_default_rows",
    "unbounded_log_table",
    "extension_versions_outdated",
    "sequence_near_exhaustion",
)

_LOCK_ORDER = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
_LOCK_NAMES = {mode: re.sub(r"(?<!^)(?=[A-Z])", " ", mode.removesuffix("Lock")).upper() for mode in _LOCK_ORDER}
_REWRITE_KINDS = frozenset({"alter_column_type", "add_column_rewrite", "table_rewrite"})
_PLPGSQL_LINE = re.compile(r"inline_code_block line (\d+)")

_RELATIONS_SQL = """
SELECT c.oid::bigint, n.nspname || '.' || c.relname, c.relfilenode::bigint,
       pg_catalog.pg_relation_size(c.oid) > 0
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
"""

_PROBE_SQL = """
SELECT
  (SELECT coalesce(json_agg(json_build_array(l.relation::bigint, l.mode)), '[]'::json)
     FROM pg_catalog.pg_locks l
    WHERE l.locktype = 'relation' AND l.pid = pg_catalog.pg_backend_pid() AND l.granted
      AND l.relation = ANY(%(oids)s::oid[])),
  (SELECT coalesce(json_agg(json_build_array(c.oid::bigint, c.relfilenode::bigint)), '[]'::json)
     FROM pg_catalog.pg_class c WHERE c.oid = ANY(%(oids)s::oid[]))
"""

_NOT_NULL_CHECK_SQL = """
SELECT EXISTS (
  SELECT 1 FROM pg_catalog.pg_constraint
  WHERE conrelid = %(oid)s AND contype = 'c' AND convalidated
    AND pg_catalog.pg_get_constraintdef(oid) = pg_catalog.format('CHECK ((%%I IS NOT NULL))', %(column)s::text))
"""

_NEXT_XID_SQL = "SELECT pg_catalog.txid_snapshot_xmax(pg_catalog.txid_current_snapshot()) % 4294967296"

_SCHEMA_FILTER = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'"
_OBJECTS_SQL = f"""
SELECT 'relation', n.nspname || '.' || c.relname, c.xmin::text::bigint
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'i', 'I', 'S') AND {_SCHEMA_FILTER}
UNION ALL
SELECT 'column', n.nspname || '.' || c.relname || '.' || a.attname, a.xmin::text::bigint
  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_SCHEMA_FILTER}
UNION ALL
SELECT 'function', n.nspname || '.' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
       p.xmin::text::bigint
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE {_SCHEMA_FILTER}
UNION ALL
SELECT 'policy', n.nspname || '.' || c.relname || ':' || pol.polname, pol.xmin::text::bigint
  FROM pg_catalog.pg_policy pol JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
UNION ALL
SELECT 'constraint', n.nspname || '.' || c.relname || ':' || con.conname, con.xmin::text::bigint
  FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE {_SCHEMA_FILTER}
UNION ALL
SELECT 'extension', 'extension:' || e.extname, e.xmin::text::bigint FROM pg_catalog.pg_extension e
UNION ALL
SELECT 'role', 'role:' || r.rolname, r.xmin::text::bigint FROM pg_catalog.pg_authid r WHERE r.rolname !~ '^pg_'
"""

_FAMILY = {
    "table": "relation",
    "view": "relation",
    "materialized_view": "relation",
    "foreign_table": "relation",
    "index": "relation",
    "sequence": "relation",
    "column": "column",
    "function": "function",
    "policy": "policy",
    "constraint": "constraint",
    "extension": "extension",
    "role": "role",
}


@dataclass(frozen=True, slots=True)
class ReplayFailure:
    """The statement that stopped the replay."""

    file: str
    line: int
    message: str
    sqlstate: str | None
    statement: str
    detail: str | None = None
    hint: str | None = None
    context: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "sqlstate": self.sqlstate,
            "statement": self.statement,
            "detail": self.detail,
            "hint": self.hint,
            "context": self.context,
        }


@dataclass(frozen=True, slots=True)
class AppliedFile:
    """What happened to one file during the replay."""

    file: str
    status: str  # "applied", "failed", "not reached"
    statements: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "statements": self.statements,
            "seconds": round(self.seconds, 4),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Attribution:
    """Which migration created, and which last altered, the object of an audit finding."""

    created_in: str | None
    last_altered_in: str | None

    def as_json(self) -> dict[str, str | None]:
        return {"created_in": self.created_in, "last_altered_in": self.last_altered_in}


@dataclass(frozen=True, slots=True)
class ReplayResult:
    server_version: str
    scaffold: str | None
    files: tuple[AppliedFile, ...]
    failure: ReplayFailure | None
    findings: tuple[Finding, ...]  # measured migration_unsafe_operation and migration_replay_failed
    audit: AuditResult | None
    attribution: tuple[tuple[str, Attribution], ...] = ()  # audit finding fingerprint -> attribution
    apply_s: float = 0.0
    duration_s: float = 0.0

    def attribution_of(self, finding: Finding) -> Attribution | None:
        return dict(self.attribution).get(finding.fingerprint)

    @property
    def replayed_files(self) -> frozenset[str]:
        return frozenset(f.file for f in self.files if f.status != "not reached")


# -- tracing --------------------------------------------------------------------------------------------------


@dataclass
class _Relations:
    """The tables and materialized views that existed before a file."""

    names: dict[int, str] = field(default_factory=dict)
    populated: dict[int, bool] = field(default_factory=dict)
    locks: dict[int, set[str]] = field(default_factory=dict)
    nodes: dict[int, int] = field(default_factory=dict)

    @property
    def oids(self) -> list[int]:
        return list(self.names)


def _strongest(modes: Iterable[str]) -> str | None:
    ranked = [m for m in _LOCK_ORDER if m in set(modes)]
    return ranked[-1] if ranked else None


class _Tracer:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.rel = _Relations()

    def start_file(self) -> None:
        rows = self.conn.execute(_RELATIONS_SQL).fetchall()
        self.rel = _Relations(
            names={int(r[0]): str(r[1]) for r in rows},
            populated={int(r[0]): bool(r[3]) for r in rows},
            locks={int(r[0]): set() for r in rows},
            nodes={int(r[0]): int(r[2]) for r in rows},
        )

    def probe(self) -> tuple[dict[int, set[str]], dict[int, int]]:
        row = self.conn.execute(_PROBE_SQL, {"oids": self.rel.oids}).fetchone()
        assert row is not None
        locks: dict[int, set[str]] = {oid: set() for oid in self.rel.names}
        for oid, mode in row[0]:
            locks.setdefault(int(oid), set()).add(str(mode))
        nodes = {int(oid): int(node) for oid, node in row[1]}
        return locks, nodes

    def resolve(self, table_text: str) -> int | None:
        row = self.conn.execute("SELECT pg_catalog.to_regclass(%s)::oid::bigint", (table_text,)).fetchone()
        return int(row[0]) if row and row[0] is not None else None


@dataclass(frozen=True, slots=True)
class _Measured:
    oid: int
    table: str
    new_lock: str | None  # strongest lock mode this statement took (None: none new)
    held: str | None  # strongest lock mode held after it
    rewritten: bool
    populated: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "lock_taken": _LOCK_NAMES.get(self.new_lock or ""),
            "lock_held": _LOCK_NAMES.get(self.held or ""),
            "rewritten": self.rewritten,
            "had_rows": self.populated,
        }


# -- applying files -------------------------------------------------------------------------------------------


class _FileFailed(Exception):
    def __init__(self, failure: ReplayFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def _failure(fa: FileAnalysis, info: StatementInfo, exc: psycopg.Error) -> ReplayFailure:
    diag = exc.diag
    statement = info.statement
    line = statement.line
    position = diag.statement_position
    if position and position.isdigit():
        line = statement.line_at(int(position))
    else:
        match = _PLPGSQL_LINE.search(diag.context or "")
        body = next((t for t in statement.tokens if t.kind == "dollar"), None)
        if match and body is not None:
            line = statement.line_at(body.start - statement.offset + 1) + int(match.group(1)) - 1
    message = diag.message_primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ReplayFailure(
        file=fa.relative,
        line=line,
        message=message,
        sqlstate=diag.sqlstate,
        statement=excerpt(statement.text),
        detail=diag.message_detail,
        hint=diag.message_hint,
        context=diag.context,
    )


def _evaluate(
    fa: FileAnalysis,
    info: StatementInfo,
    ops: list[tuple[Operation, int]],
    measured: dict[int, _Measured],
) -> Finding | None:
    """The measured finding of one statement, or None when it is harmless for existing tables."""
    spec = MIGRATION_RULES["migration_unsafe_operation"].spec
    kept: list[tuple[str, str, str, str]] = []  # (kind, table, summary, safer sql)
    covered: set[int] = set()
    for op, oid in ops:
        m = measured.get(oid)
        if m is None:
            continue
        if op.kind in _REWRITE_KINDS and not m.rewritten:
            continue  # measured: no rewrite (e.g. a binary-compatible type change)
        kept.append((op.kind, m.table, op.summary, op.safer_sql))
        covered.add(oid)
    for oid, m in measured.items():
        if oid in covered:
            continue
        if m.rewritten and info.command != "TRUNCATE":
            kept.append(
                (
                    "table_rewrite",
                    m.table,
                    f"{info.command} rewrote {m.table} (its relfilenode changed) under an ACCESS EXCLUSIVE lock",
                    "-- The statement rewrites the whole table while holding ACCESS EXCLUSIVE. Find the form that\n"
                    "-- avoids the rewrite (e.g. add the column without a volatile default, then backfill), or copy\n"
                    "-- the data online (pg_repack) instead.",
                )
            )
            covered.add(oid)
    serious = bool(kept)
    for oid, m in measured.items():
        if oid in covered or m.new_lock != "AccessExclusiveLock" or not m.populated:
            continue
        kept.append(
            (
                "access_exclusive_lock",
                m.table,
                f"{info.command} takes an ACCESS EXCLUSIVE lock on {m.table}, which has rows, until the file commits",
                "-- Brief when nothing else runs, but the lock request waits behind every running query on the\n"
                "-- table and blocks every query that arrives after it. Bound the wait and retry:\n"
                "SET lock_timeout = '2s';",
            )
        )
        covered.add(oid)
    if not kept:
        return None
    first = kept[0]
    more = f" (and {len(kept) - 1} more)" if len(kept) > 1 else ""
    involved = [measured[oid].as_json() for oid in sorted(covered)]
    return spec.finding(
        file_ref(fa.relative),
        f"Line {info.line}: {first[2]}{more}; measured during the replay.",
        evidence={
            "line": info.line,
            "statement": excerpt(info.statement.text),
            "operations": [{"kind": k, "table": t} for k, t, _s, _q in kept],
            "relations": involved,
            "measured": True,
        },
        sql="\n\n".join(dict.fromkeys(q for _k, _t, _s, q in kept)),
        level=None if serious else Level.INFO,
    )


class _Replayer:
    def __init__(self, conn: psycopg.Connection[Any], config: MigrationConfig, cancel: CancelToken) -> None:
        self.conn = conn
        self.config = config
        self.cancel = cancel
        self.tracer = _Tracer(conn)
        self.in_transaction = False

    def reset_session(self) -> None:
        self.conn.execute("DISCARD ALL")
        timeout_ms = int(self.config.statement_timeout_s * 1000)
        self.conn.execute(f"SET statement_timeout = {timeout_ms}")
        self.conn.execute("SET lock_timeout = 10000")
        self.conn.execute("SET client_min_messages = warning")

    def _begin(self) -> None:
        if not self.in_transaction:
            self.conn.execute("BEGIN")
            self.in_transaction = True

    def _commit(self) -> None:
        if self.in_transaction:
            self.conn.execute("COMMIT")
            self.in_transaction = False
            self.tracer.rel.locks = {oid: set() for oid in self.tracer.rel.names}  # released by the commit

    def _rollback(self) -> None:
        if self.in_transaction:
            self.in_transaction = False
            if not self.conn.broken:
                self.conn.execute("ROLLBACK")

    def apply(self, fa: FileAnalysis) -> tuple[AppliedFile, list[Finding], ReplayFailure | None]:
        started = time.perf_counter()
        notes: list[str] = []
        findings: list[Finding] = []
        count = 0
        self.reset_session()
        self.tracer.start_file()
        try:
            for info in fa.statements:
                self.cancel.check()
                if info.transaction_control:
                    notes.append(
                        f"line {info.line}: {info.command} skipped: the replay runs each file in its own transaction"
                    )
                    continue
                count += 1
                if info.outside_transaction:
                    self._commit()
                    notes.append(
                        f"line {info.line}: {info.command} ran outside the file's transaction (it cannot run inside "
                        "a transaction block); a runner that wraps each file in a transaction rejects this file"
                    )
                    finding = self._run_traced(fa, info, traced_locks=False)
                else:
                    self._begin()
                    finding = self._run_traced(fa, info, traced_locks=True)
                if finding is not None:
                    findings.append(finding)
            self._commit()
        except _FileFailed as failed:
            self._rollback()
            return (
                AppliedFile(fa.relative, "failed", count, time.perf_counter() - started, tuple(notes)),
                findings,
                (failed.failure),
            )
        except BaseException:
            self._rollback()
            raise
        return AppliedFile(fa.relative, "applied", count, time.perf_counter() - started, tuple(notes)), findings, None

    def _run_traced(self, fa: FileAnalysis, info: StatementInfo, *, traced_locks: bool) -> Finding | None:
        tracer = self.tracer
        ops: list[tuple[Operation, int]] = []
        try:
            for op in info.operations:
                oid = tracer.resolve(op.table_text)
                if oid is None or oid not in tracer.rel.names:
                    continue  # a table created by this file: nobody else can see it yet
                if op.kind == "set_not_null" and op.column is not None:
                    proven = self.conn.execute(_NOT_NULL_CHECK_SQL, {"oid": oid, "column": op.column}).fetchone()
                    if proven and proven[0]:
                        continue  # a validated CHECK (col IS NOT NULL) lets the server skip the scan
                ops.append((op, oid))
            before_locks = {oid: set(modes) for oid, modes in tracer.rel.locks.items()}
            before_nodes = dict(tracer.rel.nodes)
            self.conn.execute(info.statement.text.encode("utf-8"))
            if traced_locks:
                locks, nodes = tracer.probe()
            else:
                _unused, nodes = tracer.probe()
                locks = before_locks
        except psycopg.Error as exc:
            if self.cancel.cancelled:
                raise Cancelled from None
            if self.conn.broken:
                raise
            raise _FileFailed(_failure(fa, info, exc)) from None
        measured: dict[int, _Measured] = {}
        for oid, name in tracer.rel.names.items():
            new = locks.get(oid, set()) - before_locks.get(oid, set())
            node_after = nodes.get(oid)
            rewritten = node_after is not None and node_after != 0 and node_after != before_nodes.get(oid)
            if new or rewritten or any(o == oid for _op, o in ops):
                measured[oid] = _Measured(
                    oid, name, _strongest(new), _strongest(locks.get(oid, set())), rewritten, tracer.rel.populated[oid]
                )
        tracer.rel.locks = {oid: set(locks.get(oid, set())) for oid in tracer.rel.names}
        tracer.rel.nodes.update(nodes)
        return _evaluate(fa, info, ops, measured)


# -- attribution ----------------------------------------------------------------------------------------------


class _History:
    """Transaction id ranges per file, and the file after which each object first existed."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.starts: list[int] = []
        self.labels: list[str] = []
        self.created: dict[tuple[str, str], str] = {}
        self.last_rows: list[tuple[str, str, int]] = []

    def begin(self, label: str) -> None:
        row = self.conn.execute(_NEXT_XID_SQL).fetchone()
        assert row is not None
        self.starts.append(int(row[0]))
        self.labels.append(label)

    def after(self, label: str) -> None:
        self.last_rows = [(str(r[0]), str(r[1]), int(r[2])) for r in self.conn.execute(_OBJECTS_SQL).fetchall()]
        for family, key, _xmin in self.last_rows:
            self.created.setdefault((family, key), label)

    def label_of(self, xid: int) -> str | None:
        i = bisect.bisect_right(self.starts, xid) - 1
        return self.labels[i] if i >= 0 else None

    def attribute(self, findings: Iterable[Finding]) -> tuple[tuple[str, Attribution], ...]:
        altered = {(family, key): self.label_of(xmin) for family, key, xmin in self.last_rows}
        out: list[tuple[str, Attribution]] = []
        for f in findings:
            family = _FAMILY.get(f.object.kind)
            candidates: list[tuple[str, str]] = []
            if family is not None:
                candidates.append((family, f.key))
            if f.object.schema and f.object.table:
                candidates.append(("relation", f"{f.object.schema}.{f.object.table}"))
            for candidate in candidates:
                if candidate in altered or candidate in self.created:
                    attribution = Attribution(self.created.get(candidate), altered.get(candidate))
                    if attribution.created_in or attribution.last_altered_in:
                        out.append((f.fingerprint, attribution))
                    break
        return tuple(out)


# -- the replay -----------------------------------------------------------------------------------------------


def replay_migrations(
    analysis: FolderAnalysis,
    config: MigrationConfig | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    server: EmbeddedServer | None = None,
) -> ReplayResult:
    """Apply the folder's files to a throwaway database, trace them, audit the result (see the module doc).

    With ``server`` the replay uses a new database on that running server and drops it afterwards; without,
    it starts its own server and always stops it. Raises EmbeddedServerError when no server can start, and
    Cancelled after ``cancel.cancel()``.
    """
    config = config or MigrationConfig()
    report = progress or (lambda fraction, message: None)
    cancel = cancel or CancelToken()
    began = time.perf_counter()
    own = server is None
    srv = server if server is not None else EmbeddedServer()
    try:
        if own:
            report(0.0, f"Starting PostgreSQL {srv.bindir.major}")
            srv.start()
        cancel.check()
        dbname = "workbench_migrations" if own else f"wb_migrations_{uuid.uuid4().hex[:12]}"
        dsn = srv.create_database(dbname)
        try:
            return _replay_into(dsn, analysis, config, report, cancel, began)
        finally:
            if not own:
                srv.drop_database(dbname)
    finally:
        if own:
            srv.stop()


def _replay_into(
    dsn: str,
    analysis: FolderAnalysis,
    config: MigrationConfig,
    report: Progress,
    cancel: CancelToken,
    began: float,
) -> ReplayResult:
    applied_names = {f.relative for f in analysis.folder.applied}
    files = [fa for fa in analysis.files if fa.relative in applied_names]
    applied: list[AppliedFile] = []
    findings: list[Finding] = []
    failure: ReplayFailure | None = None
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        cancel.attach(conn)
        try:
            row = conn.execute("SELECT pg_catalog.current_setting('server_version')").fetchone()
            server_version = str(row[0]).split()[0] if row else "?"
            history = _History(conn)
            replayer = _Replayer(conn, config, cancel)
            if config.scaffold:
                report(0.02, f"Applying the {config.scaffold} scaffold")
                history.begin(SCAFFOLD_LABEL)
                conn.execute(scaffold_sql(config.scaffold).encode("utf-8"))
                history.after(SCAFFOLD_LABEL)
            apply_began = time.perf_counter()
            for i, fa in enumerate(files):
                cancel.check()
                report(0.05 + 0.75 * i / max(len(files), 1), f"Applying {fa.relative}")
                history.begin(fa.relative)
                outcome, measured, failure = replayer.apply(fa)
                applied.append(outcome)
                findings.extend(measured)
                if failure is not None:
                    findings.append(_failure_finding(failure))
                    applied.extend(AppliedFile(later.relative, "not reached") for later in files[i + 1 :])
                    break
                history.after(fa.relative)
            apply_s = time.perf_counter() - apply_began
        finally:
            cancel.attach(None)
    cancel.check()
    report(0.8, "Auditing the replayed schema")
    audit_config = config.audit
    skipped = tuple(dict.fromkeys(audit_config.disabled_checks + REPLAY_SKIPPED_CHECKS))
    audit_config = dataclasses.replace(audit_config, disabled_checks=skipped)
    with open_session(dsn) as session:
        snapshot = collect_snapshot(session, lambda f, m: report(0.8 + 0.1 * f, m))
    audit = run_checks(snapshot, audit_config, lambda f, m: report(0.9 + 0.1 * f, m), lambda: cancel.cancelled)
    report(1.0, "Replay finished")
    return ReplayResult(
        server_version=server_version,
        scaffold=config.scaffold,
        files=tuple(applied),
        failure=failure,
        findings=tuple(findings),
        audit=audit,
        attribution=history.attribute(audit.findings),
        apply_s=round(apply_s, 4),
        duration_s=round(time.perf_counter() - began, 4),
    )


def _failure_finding(failure: ReplayFailure) -> Finding:
    where = f"{failure.file}, line {failure.line}"
    return REPLAY_FAILED.finding(
        file_ref(failure.file),
        f"{where}: {failure.message}"
        + (f" (SQLSTATE {failure.sqlstate})" if failure.sqlstate else "")
        + "; the replay stopped here.",
        evidence={k: v for k, v in failure.as_json().items() if v is not None},
    )
