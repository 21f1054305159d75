"""The probes the checks use. Each returns plain rows (JSON-friendly values only)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import sql

from workbench.core.snapshot.probes import ProbeContext, ProbeSkipped, probe


@probe("database_age")
def database_age(ctx: ProbeContext) -> list[dict[str, Any]]:
    """Transaction-ID age of the current database, for wraparound risk."""
    return ctx.rows(
        "SELECT d.datname AS database, pg_catalog.age(d.datfrozenxid)::int8 AS xid_age "
        "FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()"
    )


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
