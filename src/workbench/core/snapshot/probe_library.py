"""The probes the checks use. Each returns plain rows (JSON-friendly values only)."""

from __future__ import annotations

from typing import Any

from workbench.core.snapshot.probes import ProbeContext, probe


@probe("database_age")
def database_age(ctx: ProbeContext) -> list[dict[str, Any]]:
    """Transaction-ID age of the current database, for wraparound risk."""
    return ctx.rows(
        "SELECT d.datname AS database, pg_catalog.age(d.datfrozenxid)::int8 AS xid_age "
        "FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()"
    )
