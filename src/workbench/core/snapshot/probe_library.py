"""The probes the checks use. Each returns plain rows (JSON-friendly values only)."""

from __future__ import annotations

from typing import Any

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
