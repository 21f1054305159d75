"""The demo database: every planted defect is found, nothing healthy is flagged, the CLI prints the review."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from workbench.core.checks import AuditConfig, all_checks, run_checks
from workbench.core.checks.runner import AuditResult
from workbench.core.connections import open_session
from workbench.core.demo import demo_config, load_demo, resource_text
from workbench.core.embedded import EmbeddedServer
from workbench.core.snapshot import collect_snapshot

# Checks that need live server state or software a plain PostgreSQL cannot have; DEFECTS.md says why.
NOT_PLANTABLE = {
    "pg_graphql_anon_table_exposed",
    "pg_graphql_authenticated_table_exposed",
    "duplicate_vector_index",
    "unbounded_log_table",
    "cron_job_failures",
    "cron_silent_http_failure",
    "long_running_transaction",
    "idle_in_transaction",
    "inactive_replication_slot",
    "xid_wraparound_risk",
    "connection_saturation",
    "slow_queries",
}


def expected_findings(has_contrib: bool) -> set[tuple[str, str]]:
    """(check, key) pairs of DEFECTS.md's table that apply to this server."""
    rows = re.findall(r"^\| (\w+) \| `([^`]+)` \| ([\w-]+) \|", resource_text("demo", "DEFECTS.md"), re.MULTILINE)
    wanted = {"always", "activity", "stats-age", "contrib" if has_contrib else "pgserver"}
    return {(check, key) for check, key, when in rows if when in wanted}


@pytest.fixture(scope="module")
def demo_audit(pg_server: EmbeddedServer) -> tuple[AuditResult, bool]:
    dsn = pg_server.create_database("demo_under_test")
    try:
        load_demo(dsn)
        with open_session(dsn) as session:
            snapshot = collect_snapshot(session)
    finally:
        pg_server.drop_database("demo_under_test")
    return run_checks(snapshot, demo_config()), "pg_trgm" in snapshot.available_extensions


def test_every_planted_defect_is_found_and_nothing_else(demo_audit: tuple[AuditResult, bool]) -> None:
    result, has_contrib = demo_audit
    registered = {c.spec.id for c in all_checks()}
    expected = {(c, k) for c, k in expected_findings(has_contrib) if c in registered}
    found = {(f.check, f.key) for f in result.findings}
    assert sorted(expected - found) == [], "planted defects not found"
    assert sorted(found - expected) == [], "findings on objects DEFECTS.md calls healthy"


def test_every_check_fires_on_the_demo_or_says_why_it_cannot(demo_audit: tuple[AuditResult, bool]) -> None:
    result, _ = demo_audit
    fired = {f.check for f in result.findings}
    silent = {c.spec.id for c in all_checks()} - fired - NOT_PLANTABLE
    # extension_versions_outdated needs a contrib extension with several versions (not in the pgserver wheel).
    silent.discard("extension_versions_outdated")
    assert sorted(silent) == []


def test_demo_statistics_are_too_young_for_the_default_config(demo_audit: tuple[AuditResult, bool]) -> None:
    result, _ = demo_audit
    default = run_checks(result.snapshot, AuditConfig())
    skipped = {s.check: s.reason for s in default.checks_skipped}
    assert "unused_index" in skipped and "statistics are only" in skipped["unused_index"]


@pytest.mark.slow
def test_workbench_demo_headless_prints_the_review() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "demo", "--headless", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["database"]["name"] == "workbench_demo"
    assert len(doc["findings"]) >= 30
    assert "Demo database ready" in proc.stderr
