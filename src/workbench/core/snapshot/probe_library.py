"""The probes the checks use. Each returns plain rows (JSON-friendly values only)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from workbench.core.snapshot.probes import ProbeContext, ProbeSkipped, probe


@probe("storage_buckets")
def storage_buckets(ctx: ProbeContext) -> list[dict[str, Any]]:
    """Supabase storage buckets (id, name, public), read with row security off so none is hidden."""
    if not ctx.relation_exists("storage.buckets"):
        raise ProbeSkipped("there is no storage.buckets table")
    # With row_security off a query that RLS would filter fails (reported as "permission denied") instead of
    # silently returning fewer buckets. The previous value is restored: the transaction goes on.
    [previous] = ctx.rows("SELECT pg_catalog.current_setting('row_security') AS value")
    ctx.rows("SELECT pg_catalog.set_config('row_security', 'off', true)")
    rows = ctx.rows("SELECT b.id::text AS id, b.name::text AS name, b.public FROM storage.buckets b ORDER BY b.id")
    ctx.rows("SELECT pg_catalog.set_config('row_security', %(value)s, true)", {"value": previous["value"]})
    return rows


# --------------------------------------------------------------------------------------------------
# numeric_samples: the largest absolute value of each numeric(p,s) column, read within strict bounds
# --------------------------------------------------------------------------------------------------
NUMERIC_MAX_COLUMNS = 200  # columns probed per audit; the rest are listed with the reason
NUMERIC_FULL_SCAN_MAX_PAGES = 1280  # tables up to 10 MB (8 kB pages) are read whole
NUMERIC_SAMPLE_PAGES = 1280  # bigger ones through a TABLESAMPLE SYSTEM of about this many pages
NUMERIC_QUERY_TIMEOUT_MS = 2000  # statement_timeout of each table's query (never above the session's)
NUMERIC_BUDGET_S = 30.0  # wall-clock budget of the whole probe

_NUMERIC_COLUMNS = """
SELECT n.nspname AS schema, c.relname AS "table", a.attname AS "column",
       ((a.atttypmod - 4) >> 16) & 65535 AS precision,
       (((a.atttypmod - 4) & 2047) # 1024) - 1024 AS scale,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT COALESCE(sum(pg_catalog.pg_relation_size(t.relid)), 0)
                  FROM pg_catalog.pg_partition_tree(c.oid) t WHERE t.isleaf)
            ELSE pg_catalog.pg_relation_size(c.oid) END
         / pg_catalog.current_setting('block_size')::int8 AS table_pages
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.atttypid = 'pg_catalog.numeric'::pg_catalog.regtype AND a.atttypmod >= 4
  AND a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname <> ALL (%(system)s) AND n.nspname !~ '^pg_'
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                  WHERE d.deptype = 'e' AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND d.objid = c.oid)
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                  WHERE d.deptype = 'e' AND d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                    AND d.objid = n.oid)
ORDER BY n.nspname, c.relname, a.attnum
"""


@probe("numeric_samples")
def numeric_samples(ctx: ProbeContext) -> list[dict[str, Any]]:
    """max(abs(col)) of each numeric(p,s) column of the user tables, read within strict bounds.

    Bounds: at most NUMERIC_MAX_COLUMNS columns; one query per table, each under its own savepoint with a
    `statement_timeout` of NUMERIC_QUERY_TIMEOUT_MS (set locally, restored afterwards); tables over
    NUMERIC_FULL_SCAN_MAX_PAGES pages are read through `TABLESAMPLE SYSTEM` (about NUMERIC_SAMPLE_PAGES
    pages, REPEATABLE so reruns agree); the probe stops after NUMERIC_BUDGET_S seconds. Row security is
    off so a table RLS would filter fails (and is reported) instead of yielding a smaller maximum.

    Each row: schema, table, column, precision, scale, table_pages, max_abs (text, or None when the column
    holds no value or was not read), sampled (bool), method ("full scan", "sample" or None),
    sample_percent, and error (why the column was not read, else None).
    """
    from workbench.core.checks.config import SYSTEM_SCHEMAS

    started = time.monotonic()
    listed = ctx.rows(_NUMERIC_COLUMNS, {"system": sorted(SYSTEM_SCHEMAS)})
    tables: dict[tuple[str, str], list[dict[str, Any]]] = {}
    out: list[dict[str, Any]] = []
    for i, row in enumerate(listed):
        entry = {**row, "table_pages": int(row["table_pages"] or 0), "max_abs": None, "sampled": False}
        entry.update(method=None, sample_percent=None, error=None)
        out.append(entry)
        if i >= NUMERIC_MAX_COLUMNS:
            entry["error"] = f"not read: the probe reads at most {NUMERIC_MAX_COLUMNS} columns"
        else:
            tables.setdefault((row["schema"], row["table"]), []).append(entry)
    if not tables:
        return out

    [saved] = ctx.rows(
        "SELECT pg_catalog.current_setting('statement_timeout') AS timeout, "
        "pg_catalog.current_setting('row_security') AS row_security, "
        "(SELECT s.setting::int8 FROM pg_catalog.pg_settings s WHERE s.name = 'statement_timeout') AS ms"
    )
    timeout_ms = NUMERIC_QUERY_TIMEOUT_MS if not saved["ms"] else min(NUMERIC_QUERY_TIMEOUT_MS, int(saved["ms"]))
    ctx.rows(
        "SELECT pg_catalog.set_config('statement_timeout', %(ms)s, true), "
        "pg_catalog.set_config('row_security', 'off', true)",
        {"ms": str(timeout_ms)},
    )
    for (schema, table), entries in tables.items():
        if ctx.session.cancelled:
            break
        if time.monotonic() - started > NUMERIC_BUDGET_S:
            for entry in entries:
                entry["error"] = f"not read: the probe's {NUMERIC_BUDGET_S:g} s budget was spent"
            continue
        _numeric_maxima(ctx, schema, table, entries, timeout_ms)
    # SET LOCAL inside a released savepoint would outlive it: put the audit's own settings back.
    ctx.rows(
        "SELECT pg_catalog.set_config('statement_timeout', %(timeout)s, true), "
        "pg_catalog.set_config('row_security', %(row_security)s, true)",
        {"timeout": saved["timeout"], "row_security": saved["row_security"]},
    )
    return out


def _numeric_maxima(ctx: ProbeContext, schema: str, table: str, entries: list[dict[str, Any]], timeout_ms: int) -> None:
    """Fill max_abs of one table's columns with one bounded query under its own savepoint."""
    pages = entries[0]["table_pages"]
    sample: float | None = None
    source: sql.Composable = sql.Identifier(schema, table)
    if pages > NUMERIC_FULL_SCAN_MAX_PAGES:
        sample = round(min(100.0, 100.0 * NUMERIC_SAMPLE_PAGES / pages), 6)
        source = sql.SQL("{} TABLESAMPLE SYSTEM ({}) REPEATABLE (0)").format(source, sql.Literal(sample))
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(
            sql.SQL("pg_catalog.max(pg_catalog.abs({}))::text AS {}").format(
                sql.Identifier(e["column"]), sql.Identifier(f"m{i}")
            )
            for i, e in enumerate(entries)
        ),
        source,
    )
    error: str | None = None
    found: dict[str, Any] = {}
    try:
        with ctx.session.conn.transaction():
            [found] = ctx.rows(query)
    except psycopg.errors.QueryCanceled:
        if ctx.session.cancelled:
            raise
        error = f"not read: the query took longer than {timeout_ms} ms"
    except psycopg.errors.InsufficientPrivilege as exc:
        error = f"not read: {_first(exc)}"
    except psycopg.errors.LockNotAvailable:
        error = "not read: the table is locked"
    for i, entry in enumerate(entries):
        if error is not None:
            entry["error"] = error
            continue
        entry.update(
            max_abs=found[f"m{i}"],
            sampled=sample is not None,
            method="sample" if sample is not None else "full scan",
            sample_percent=sample,
        )


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --------------------------------------------------------------------------------------------------
# Operations: pg_cron history, pg_net responses, sessions, replication slots, XID age, connections,
# pg_stat_statements. Timestamps are ISO-8601 strings in UTC; text taken from the server is truncated.
# --------------------------------------------------------------------------------------------------
CRON_RUNS_PER_JOB = 20  # the most recent runs of each job
NET_RESPONSES = 1000  # the most recent pg_net responses
OPS_TEXT_CHARS = 200  # query text, commands and messages are cut to this length
_SECRETS = (
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1[redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[redacted]"),
    (re.compile(r"\bsb_(secret|publishable)_[A-Za-z0-9_-]+"), r"sb_\1_[redacted]"),
    (
        re.compile(
            r"""(?i)(["']?(?:apikey|api[_-]?key|x-api-key|authorization|password|secret)["']?\s*[:=]\s*)"""
            r"""(["'])[^"'\s]{8,}\2"""
        ),
        r"\1\2[redacted]\2",
    ),
)


def redact_secrets(text: str | None, limit: int | None = None) -> str | None:
    """Text with bearer tokens, JWTs, Supabase keys and `apikey: '…'` values replaced by `[redacted]`.

    Cron commands often embed the service key in an HTTP header; a snapshot and a report must not."""
    if text is None:
        return None
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text if limit is None or len(text) <= limit else text[:limit] + "…"


def _plain(value: Any) -> Any:
    """A JSON-friendly value: timestamps as ISO-8601 UTC strings, decimals as floats."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _plain_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def _setting(ctx: ProbeContext, name: str) -> str | None:
    [row] = ctx.rows("SELECT pg_catalog.current_setting(%(name)s, true) AS value", {"name": name})
    return row["value"]  # type: ignore[no-any-return]


def _rls_filters(ctx: ProbeContext, table: str) -> bool:
    [row] = ctx.rows("SELECT pg_catalog.row_security_active(%(t)s::regclass) AS active", {"t": table})
    return bool(row["active"])


@probe("cron_jobs")
def cron_jobs(ctx: ProbeContext) -> list[dict[str, Any]]:
    """pg_cron jobs with their most recent runs (newest first).

    Each row: jobid, jobname, schedule, command (secrets redacted), active, username, database, runs (list of
    runid, status, return_message, start_time, end_time; None when cron.job_run_details does not exist),
    log_run (the cron.log_run setting) and rls_filtered (True when row level security shows this role only
    its own jobs). Read with the pg_cron table's own column names, whatever its version.
    """
    if not ctx.relation_exists("cron.job"):
        home = _setting(ctx, "cron.database_name")
        [db] = ctx.rows("SELECT pg_catalog.current_database() AS name")
        if home and home != db["name"]:
            raise ProbeSkipped(f"pg_cron is not installed in this database (its jobs live in database {home})")
        raise ProbeSkipped("pg_cron is not installed")
    filtered = _rls_filters(ctx, "cron.job")
    jobs = ctx.rows("SELECT pg_catalog.to_jsonb(j) AS job FROM cron.job j ORDER BY j.jobid")
    if filtered and not jobs:
        [me] = ctx.rows("SELECT CURRENT_USER::text AS name")
        raise ProbeSkipped(
            f"row level security on cron.job shows role {me['name']} only its own jobs and it has none: "
            "audit as the jobs' owner or a role with BYPASSRLS"
        )
    runs: dict[int, list[dict[str, Any]]] | None = None
    if ctx.relation_exists("cron.job_run_details"):
        runs = {}
        # Newest first through the runid primary key: cheap even when the history was never cleaned.
        for r in ctx.rows(
            "SELECT j.jobid, r.runid, r.status, r.return_message, r.start_time, r.end_time "
            "FROM cron.job j CROSS JOIN LATERAL ("
            "  SELECT d.runid, d.status, d.return_message, d.start_time, d.end_time FROM cron.job_run_details d"
            "  WHERE d.jobid = j.jobid ORDER BY d.runid DESC LIMIT %(n)s) r "
            "ORDER BY j.jobid, r.runid DESC",
            {"n": CRON_RUNS_PER_JOB},
        ):
            run = _plain({k: v for k, v in r.items() if k != "jobid"})
            run["return_message"] = redact_secrets(run["return_message"], OPS_TEXT_CHARS)
            runs.setdefault(int(r["jobid"]), []).append(run)
    log_run = _setting(ctx, "cron.log_run")
    out = []
    for row in jobs:
        job = row["job"]
        jobid = int(job["jobid"])
        out.append(
            {
                "jobid": jobid,
                "jobname": job.get("jobname"),
                "schedule": job.get("schedule"),
                "command": redact_secrets(job.get("command")),
                "active": job.get("active", True),
                "username": job.get("username"),
                "database": job.get("database"),
                "runs": None if runs is None else runs.get(jobid, []),
                "log_run": log_run,
                "rls_filtered": filtered,
            }
        )
    return out


@probe("net_responses")
def net_responses(ctx: ProbeContext) -> list[dict[str, Any]]:
    """The most recent pg_net responses (newest first): id, status_code, timed_out, error_msg, created.

    pg_net deletes responses older than `pg_net.ttl` (6 hours by default); `ttl` is repeated on each row."""
    if not ctx.relation_exists("net._http_response"):
        raise ProbeSkipped("pg_net is not installed (there is no net._http_response table)")
    ttl = _setting(ctx, "pg_net.ttl")
    rows = ctx.rows(
        "SELECT r.id, r.status_code, r.timed_out, r.error_msg, r.created FROM net._http_response r "
        "ORDER BY r.created DESC LIMIT %(n)s",
        {"n": NET_RESPONSES},
    )
    out = _plain_rows(rows)
    for row in out:
        row["error_msg"] = redact_secrets(row["error_msg"], OPS_TEXT_CHARS)
        row["ttl"] = ttl
    return out


_ACTIVITY = """
SELECT a.pid, a.usename::text AS usename, a.application_name, a.client_addr::text AS client_addr,
       a.state, a.backend_start, a.xact_start, a.query_start, a.state_change,
       EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - a.xact_start)::float8 AS xact_age_s,
       EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - a.state_change)::float8 AS state_age_s,
       pg_catalog.age(a.backend_xid)::int8 AS backend_xid_age,
       pg_catalog.age(a.backend_xmin)::int8 AS backend_xmin_age,
       a.wait_event_type, a.wait_event, pg_catalog.left(a.query, %(chars)s) AS query,
       COALESCE(pg_catalog.pg_has_role(a.usesysid, 'USAGE'), false)
         OR pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE') AS details_visible
FROM pg_catalog.pg_stat_activity a
WHERE a.pid <> pg_catalog.pg_backend_pid() AND a.datname = pg_catalog.current_database()
  AND (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL))
ORDER BY a.xact_start NULLS LAST, a.pid
LIMIT 1000
"""


@probe("activity")
def activity(ctx: ProbeContext) -> list[dict[str, Any]]:
    """Client sessions of this database other than the audit's own, oldest transaction first.

    Each row: pid, usename, application_name, client_addr, state, backend_start, xact_start, query_start,
    state_change, xact_age_s, state_age_s (seconds, server clock), backend_xid_age, backend_xmin_age,
    wait_event_type, wait_event, query (truncated) and details_visible. Without pg_read_all_stats the
    server hides the state, times and query of other roles' sessions: those rows have details_visible
    False and NULLs (even their backend_type: such rows are kept when they belong to a role), and a check
    must say it could not inspect them.
    """
    return _plain_rows(ctx.rows(_ACTIVITY, {"chars": OPS_TEXT_CHARS}))


@probe("connections")
def connections(ctx: ProbeContext) -> list[dict[str, Any]]:
    """One row: client backends of the whole server against max_connections and the reserved slots.

    Fields: client_backends, max_connections, superuser_reserved_connections, reserved_connections
    (PostgreSQL 16+, else 0), by_state, by_database, by_role, by_application ({name: count}; the state is
    "unknown" for sessions whose details this role may not see, which count as client backends)."""
    groups = ctx.rows(
        "SELECT a.state, a.datname::text AS database, a.usename::text AS role, a.application_name, "
        "pg_catalog.count(*)::int AS n FROM pg_catalog.pg_stat_activity a "
        "WHERE a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL) "
        "GROUP BY 1, 2, 3, 4"
    )
    [limits] = ctx.rows(
        "SELECT pg_catalog.current_setting('max_connections')::int AS max_connections, "
        "pg_catalog.current_setting('superuser_reserved_connections')::int AS superuser_reserved_connections, "
        "COALESCE(pg_catalog.current_setting('reserved_connections', true)::int, 0) AS reserved_connections"
    )

    def tally(field: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for g in groups:
            key = str(g[field]) if g[field] is not None else "unknown"
            out[key] = out.get(key, 0) + int(g["n"])
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    return [
        {
            "client_backends": sum(int(g["n"]) for g in groups),
            **limits,
            "by_state": tally("state"),
            "by_database": tally("database"),
            "by_role": tally("role"),
            "by_application": tally("application_name"),
        }
    ]


_SLOTS = """
SELECT s.slot_name::text AS slot_name, s.plugin::text AS plugin, s.slot_type, s.database::text AS database,
       s.temporary, s.active, s.active_pid, s.restart_lsn::text AS restart_lsn,
       s.confirmed_flush_lsn::text AS confirmed_flush_lsn,
       pg_catalog.pg_wal_lsn_diff({current}, s.restart_lsn)::int8 AS retained_bytes,
       pg_catalog.age(s.xmin)::int8 AS xmin_age, pg_catalog.age(s.catalog_xmin)::int8 AS catalog_xmin_age,
       pg_catalog.to_jsonb(s) ->> 'wal_status' AS wal_status,
       (pg_catalog.to_jsonb(s) ->> 'safe_wal_size')::int8 AS safe_wal_size,
       pg_catalog.to_jsonb(s) ->> 'invalidation_reason' AS invalidation_reason,
       pg_catalog.to_jsonb(s) ->> 'inactive_since' AS inactive_since,
       pg_catalog.current_setting('max_slot_wal_keep_size') AS max_slot_wal_keep_size
FROM pg_catalog.pg_replication_slots s
ORDER BY s.slot_name
"""


@probe("replication_slots")
def replication_slots(ctx: ProbeContext) -> list[dict[str, Any]]:
    """Replication slots with the WAL each one retains (bytes from its restart_lsn to the current LSN).

    On a standby pg_current_wal_lsn() fails, so the last replayed LSN is used there (on_standby True).
    Version-dependent columns (wal_status, safe_wal_size, invalidation_reason, inactive_since) are None
    where the server does not have them."""
    [state] = ctx.rows("SELECT pg_catalog.pg_is_in_recovery() AS standby")
    standby = bool(state["standby"])
    current = sql.SQL("pg_catalog.pg_last_wal_replay_lsn()" if standby else "pg_catalog.pg_current_wal_lsn()")
    rows = _plain_rows(ctx.rows(sql.SQL(_SLOTS).format(current=current)))
    for row in rows:
        row["on_standby"] = standby
    return rows


_XID_DATABASES = """
SELECT 'database' AS object, d.datname::text AS database, NULL::text AS schema, NULL::text AS name,
       pg_catalog.age(d.datfrozenxid)::int8 AS xid_age, pg_catalog.mxid_age(d.datminmxid)::int8 AS mxid_age,
       NULL::int8 AS table_freeze_max_age, false AS vacuum_running,
       d.datname = pg_catalog.current_database() AS current_database, d.datallowconn AS allows_connections,
       pg_catalog.current_setting('autovacuum_freeze_max_age')::int8 AS freeze_max_age
FROM pg_catalog.pg_database d
ORDER BY xid_age DESC
"""

_XID_TABLES = """
SELECT 'table' AS object, pg_catalog.current_database()::text AS database, n.nspname::text AS schema,
       c.relname::text AS name,
       GREATEST(pg_catalog.age(c.relfrozenxid), COALESCE(pg_catalog.age(t.relfrozenxid), 0))::int8 AS xid_age,
       pg_catalog.mxid_age(c.relminmxid)::int8 AS mxid_age,
       (SELECT o.option_value FROM pg_catalog.pg_options_to_table(c.reloptions) o
        WHERE o.option_name = 'autovacuum_freeze_max_age')::int8 AS table_freeze_max_age,
       EXISTS (SELECT FROM pg_catalog.pg_stat_progress_vacuum p WHERE p.relid = c.oid) AS vacuum_running,
       true AS current_database, true AS allows_connections,
       pg_catalog.current_setting('autovacuum_freeze_max_age')::int8 AS freeze_max_age
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid
WHERE c.relkind IN ('r', 'm')
ORDER BY xid_age DESC, n.nspname, c.relname
LIMIT 20
"""


@probe("xid_age")
def xid_age(ctx: ProbeContext) -> list[dict[str, Any]]:
    """Transaction-ID age of every database of the server and of the 20 oldest tables of this one.

    Each row: object ("database" or "table"), database, schema, name, xid_age (a table's includes its
    TOAST table), mxid_age, table_freeze_max_age (the table's own autovacuum_freeze_max_age, if set),
    vacuum_running, current_database, allows_connections and freeze_max_age (the server setting)."""
    return ctx.rows(_XID_DATABASES) + ctx.rows(_XID_TABLES)


_STATEMENTS = """
SELECT s.queryid, s.calls, s.mean_exec_time::float8 AS mean_exec_time,
       s.total_exec_time::float8 AS total_exec_time, s.rows, s.userid::regrole::text AS role,
       pg_catalog.left(s.query, %(chars)s) AS query,
       COALESCE(pg_catalog.pg_has_role(s.userid, 'USAGE'), false)
         OR pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE') AS text_visible
FROM {view} s
WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
  AND s.calls >= 2
ORDER BY s.mean_exec_time DESC
LIMIT 100
"""


@probe("pg_stat_statements")
def pg_stat_statements(ctx: ProbeContext) -> list[dict[str, Any]]:
    """The 100 statements of this database with the highest mean execution time (called at least twice).

    Each row: queryid, calls, mean_exec_time and total_exec_time (ms), rows, role, query (truncated) and
    text_visible (False when the text is hidden from this role: it needs pg_read_all_stats)."""
    if ctx.server_version_num < 130000:
        raise ProbeSkipped("pg_stat_statements is read on PostgreSQL 13 and later only")
    found = ctx.rows(
        "SELECT n.nspname::text AS schema FROM pg_catalog.pg_extension e "
        "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'"
    )
    if not found:
        available = ctx.rows("SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'pg_stat_statements'")
        raise ProbeSkipped(
            "the pg_stat_statements extension is not installed in this database (CREATE EXTENSION "
            "pg_stat_statements; the library must also be in shared_preload_libraries)"
            if available
            else "pg_stat_statements is not available on this server (the extension is not installed)"
        )
    query = sql.SQL(_STATEMENTS).format(view=sql.Identifier(found[0]["schema"], "pg_stat_statements"))
    try:
        with ctx.session.conn.transaction():
            rows = ctx.rows(query, {"chars": OPS_TEXT_CHARS})
    except psycopg.errors.ObjectNotInPrerequisiteState:
        raise ProbeSkipped(
            "pg_stat_statements is installed but its library is not loaded (add it to shared_preload_libraries "
            "and restart the server)"
        ) from None
    return _plain_rows(rows)


# --------------------------------------------------------------------------------------------------
# Partitions and index builds (used by the maintenance and index checks)
# --------------------------------------------------------------------------------------------------
DEFAULT_PARTITION_ROW_CAP = 10_000  # rows counted per DEFAULT partition; the count stops at CAP + 1
DEFAULT_PARTITION_MAX = 200  # DEFAULT partitions counted per audit

_DEFAULT_PARTITIONS = """
SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relispartition AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
ORDER BY n.nspname, c.relname
"""


@probe("default_partition_rows")
def default_partition_rows(ctx: ProbeContext) -> list[dict[str, Any]]:
    """How many rows each DEFAULT partition holds, counted up to DEFAULT_PARTITION_ROW_CAP + 1.

    Each count reads at most CAP + 1 rows (`SELECT count(*) FROM (SELECT 1 FROM p LIMIT CAP + 1)`) under its
    own savepoint, with row security off so a filtered count fails instead of coming out low. Foreign-table
    partitions are not read (it would query the remote server). Each row: oid, schema, name, rows (None when
    not read), capped (True when the partition holds more than CAP rows) and error (why it was not read).
    """
    listed = ctx.rows(_DEFAULT_PARTITIONS)
    if not listed:
        return []
    [saved] = ctx.rows("SELECT pg_catalog.current_setting('row_security') AS value")
    ctx.rows("SELECT pg_catalog.set_config('row_security', 'off', true)")
    out: list[dict[str, Any]] = []
    for i, part in enumerate(listed):
        entry: dict[str, Any] = {k: part[k] for k in ("oid", "schema", "name")}
        entry.update(rows=None, capped=False, error=None)
        out.append(entry)
        if ctx.session.cancelled:
            break
        if i >= DEFAULT_PARTITION_MAX:
            entry["error"] = f"not read: the probe counts at most {DEFAULT_PARTITION_MAX} DEFAULT partitions"
            continue
        if part["kind"] == "f":
            entry["error"] = "not read: a foreign-table partition (counting would query the remote server)"
            continue
        query = sql.SQL("SELECT pg_catalog.count(*) AS n FROM (SELECT 1 FROM {} LIMIT {}) s").format(
            sql.Identifier(part["schema"], part["name"]), sql.Literal(DEFAULT_PARTITION_ROW_CAP + 1)
        )
        try:
            with ctx.session.conn.transaction():
                [found] = ctx.rows(query)
        except psycopg.errors.QueryCanceled:
            if ctx.session.cancelled:
                raise
            entry["error"] = "not read: the count timed out (statement_timeout)"
            continue
        except psycopg.errors.InsufficientPrivilege as exc:
            entry["error"] = f"not read: {_first(exc)}"
            continue
        except psycopg.errors.LockNotAvailable:
            entry["error"] = "not read: the partition is locked"
            continue
        entry["rows"] = min(int(found["n"]), DEFAULT_PARTITION_ROW_CAP)
        entry["capped"] = int(found["n"]) > DEFAULT_PARTITION_ROW_CAP
    ctx.rows("SELECT pg_catalog.set_config('row_security', %(value)s, true)", {"value": saved["value"]})
    return out


@probe("index_builds")
def index_builds(ctx: ProbeContext) -> list[dict[str, Any]]:
    """CREATE INDEX / REINDEX commands running in this database (pg_stat_progress_create_index).

    Each row: pid, relid (table OID), index_relid (index OID, 0 before the build created it), command and
    phase. Without pg_read_all_stats the server hides other roles' builds: relid, index_relid, command and
    phase are then NULL, and a check must assume such a build may concern any table.
    """
    return ctx.rows(
        "SELECT p.pid, p.relid::int8 AS relid, p.index_relid::int8 AS index_relid, p.command, p.phase "
        "FROM pg_catalog.pg_stat_progress_create_index p "
        "WHERE p.datname = pg_catalog.current_database() AND p.pid <> pg_catalog.pg_backend_pid() "
        "ORDER BY p.pid"
    )
