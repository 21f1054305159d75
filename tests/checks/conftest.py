"""Fixtures for check tests: load a schema into a fresh database, audit it, return the findings."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

import pytest

from workbench.core.checks import REGISTRY, AuditConfig, AuditResult, run_checks
from workbench.core.connections import open_session
from workbench.core.embedded import load_sql
from workbench.core.model import Snapshot
from workbench.core.snapshot import collect_snapshot

AuditSql = Callable[..., AuditResult]


def supabase_scaffold() -> str:
    return (resources.files("workbench") / "resources" / "scaffold" / "supabase.sql").read_text(encoding="utf-8")


def snapshot_of(dsn: str) -> Snapshot:
    with open_session(dsn) as session:
        return collect_snapshot(session)


@pytest.fixture
def supabase_db(fresh_db: str) -> str:
    """A fresh database with the Supabase-like scaffold (roles anon/authenticated, schema auth, storage)."""
    load_sql(fresh_db, supabase_scaffold())
    return fresh_db


@pytest.fixture
def audit_sql() -> AuditSql:
    """``audit_sql(dsn, script, *check_ids, config=None)`` loads the script, then runs only those checks."""

    def run(dsn: str, script: str, *check_ids: str, config: AuditConfig | None = None) -> AuditResult:
        if script:
            load_sql(dsn, script)
        snapshot = snapshot_of(dsn)
        checks = [REGISTRY[c] for c in check_ids] if check_ids else None
        return run_checks(snapshot, config or AuditConfig(), checks=checks)

    from workbench.core.checks import all_checks

    all_checks()  # make sure every check module is registered
    return run


def keys(result: AuditResult, check_id: str) -> set[str]:
    """The object keys a check reported."""
    return {f.key for f in result.findings if f.check == check_id}
