"""Reliability and operations checks, each with a database that must trigger it and a healthy one.

pg_cron and pg_net cannot be installed on the test servers (neither ships with PostgreSQL), so the cron tests
recreate the extensions' tables exactly as their install scripts define them (pg_cron 1.6: cron.job,
cron.job_run_details; pg_net: net._http_response and the net.http_post signature) and insert run history.
The probes and checks read only those tables, so they cannot tell the difference.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.checks.conftest import AuditSql, keys
from workbench.core.checks import AuditConfig, AuditResult
from workbench.core.checks.operations import xid_position
from workbench.core.embedded import EmbeddedServer, load_sql
from workbench.core.snapshot.probe_library import redact_secrets

# pg_cron 1.6 as its install and upgrade scripts leave it (pg_cron.sql + pg_cron--1.0--…--1.6.sql).
PG_CRON_TABLES = """
create schema cron;
create sequence cron.jobid_seq;
create table cron.job (
    jobid bigint primary key default pg_catalog.nextval('cron.jobid_seq'),
    schedule text not null,
    command text not null,
    nodename text not null default 'localhost',
    nodeport int not null default pg_catalog.inet_server_port(),
    database text not null default pg_catalog.current_database(),
    username text not null default current_user,
    active boolean not null default 'true',
    jobname text
);
create unique index jobname_username_idx on cron.job (jobname, username);
alter table cron.job add constraint jobname_username_uniq unique using index jobname_username_idx;
grant select on cron.job to public;
alter table cron.job enable row level security;
create policy cron_job_policy on cron.job using (username operator(pg_catalog.=) current_user);
create sequence cron.runid_seq;
create table cron.job_run_details (
    jobid bigint,
    runid bigint primary key default pg_catalog.nextval('cron.runid_seq'),
    job_pid integer,
    database text,
    username text,
    command text,
    status text,
    return_message text,
    start_time timestamptz,
    end_time timestamptz
);
grant select, delete on cron.job_run_details to public;
alter table cron.job_run_details enable row level security;
create policy cron_job_run_details_policy on cron.job_run_details
    using (username operator(pg_catalog.=) current_user);
"""

# pg_net's response table and request function, as sql/pg_net.sql defines them (the function only queues).
PG_NET_TABLES = """
create schema net;
create table net._http_response (
    id bigint,
    status_code integer,
    content_type text,
    headers jsonb,
    content text,
    timed_out bool,
    error_msg text,
    created timestamptz not null default now()
);
create index on net._http_response (created);
create function net.http_post(
    url text,
    body jsonb default '{}'::jsonb,
    params jsonb default '{}'::jsonb,
    headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
    timeout_milliseconds int default 5000
) returns bigint language sql as $$ select 1::bigint $$;
"""

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def _job(jobname: str | None, command: str, *, active: bool = True) -> str:
    return (
        "insert into cron.job (schedule, command, nodeport, active, jobname) values ('0 7 * * *', "
        f"$cmd${command}$cmd$, 5432, {str(active).lower()}, {'null' if jobname is None else repr(jobname)});\n"
    )


def _runs(jobname: str | None, statuses: str, message: str = "1 row", *, hours: int = 1, jobid: int = 0) -> str:
    """One run per letter of `statuses` (s succeeded, f failed), newest last, one day apart, ending `hours` ago.

    Runs take two seconds; `jobid` selects a job scheduled without a name."""
    job = f"(select jobid from cron.job where jobname = '{jobname}')" if jobname else str(jobid)
    values = []
    for i, letter in enumerate(statuses):
        status = "succeeded" if letter == "s" else "failed"
        text = message if letter == "f" else "1 row"
        start = f"now() - interval '{hours} hours' - interval '{len(statuses) - 1 - i} days'"
        values.append(f"({job}, 'postgres', '{status}', $m${text}$m$, {start}, {start} + interval '2 seconds', 4242)")
    return (
        "insert into cron.job_run_details (jobid, username, status, return_message, start_time, end_time, "
        "job_pid) values " + ", ".join(values) + ";\n"
    )


def _responses(jobname: str, status: int | None, error: str | None = None, *, last: int = 10) -> str:
    """A pg_net answer 3 s after each of the job's last `last` runs."""
    return (
        "insert into net._http_response (id, status_code, content, error_msg, created) "
        f"select r.runid, {'null' if status is None else status}, 'body', "
        f"{'null' if error is None else repr(error)}, r.start_time + interval '3 seconds' "
        f"from cron.job_run_details r join cron.job j using (jobid) where j.jobname = '{jobname}' "
        f"order by r.runid desc limit {last};\n"
    )


CRON_HISTORY = (
    PG_CRON_TABLES
    + PG_NET_TABLES
    + f"""
create table public.events (id bigint primary key, at timestamptz);
-- Seed 000 §3: the job calls a function that queues the request through pg_net.
create function public.invoke_daily_digest() returns void language plpgsql as $$
begin
  -- net.http_get in a comment is not a call
  perform net.http_post(
    url := 'https://example.supabase.co/functions/v1/daily-digest',
    headers := jsonb_build_object('Authorization', 'Bearer {JWT}'));
end $$;
"""
    + _job("daily-digest", "select public.invoke_daily_digest()")
    + _job(
        "capture-snapshots",
        "select net.http_post(url := 'https://example.supabase.co/functions/v1/capture', "
        f"""headers := '{{"Authorization": "Bearer {JWT}"}}'::jsonb)""",
    )
    + _job("nightly-cleanup", "delete from public.events where at < now() - interval '30 days'")
    + _job("recovered", "select 1")
    + _job(None, "vacuum public.events")
    + _job("paused", "select 1", active=False)
    + _runs("daily-digest", "ssssssssss")
    + _runs("capture-snapshots", "ssssssssss", hours=3)
    + _runs("nightly-cleanup", "ssssf", "ERROR:  permission denied for table events", hours=5)
    + _runs("recovered", "sfsssss", "ERROR:  canceling statement due to lock timeout", hours=6)
    + _runs(None, "ffs", "ERROR:  VACUUM cannot run inside a transaction block", hours=7, jobid=5)
    + _runs("paused", "ffff", "ERROR:  relation does not exist", hours=8)
    + _responses("daily-digest", 401)
    + _responses("capture-snapshots", 200)
)


def _findings(result: AuditResult, check_id: str) -> dict[str, list[object]]:
    out: dict[str, list[object]] = {}
    for f in result.findings:
        if f.check == check_id:
            out.setdefault(f.key, []).append(f)
    return out


def _skipped(result: AuditResult) -> dict[str, str]:
    return {s.check: s.reason for s in result.checks_skipped}


# --------------------------------------------------------------------------------------------------
# pg_cron and pg_net
# --------------------------------------------------------------------------------------------------


def test_cron_job_failures_reports_failing_jobs_with_their_last_error(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, CRON_HISTORY, "cron_job_failures")
    found = {f.key: f for f in result.findings}
    # nightly-cleanup: its latest run failed; job 5 has no name and failed twice; "recovered" failed once and
    # then succeeded five times; "paused" is inactive; the HTTP jobs "succeed".
    assert set(found) == {"cron:nightly-cleanup", "cron:5"}
    cleanup = found["cron:nightly-cleanup"]
    assert cleanup.level == "warn"
    assert cleanup.object.kind == "cron_job"
    assert cleanup.evidence["latest_status"] == "failed"
    assert cleanup.evidence["failed_runs"] == 1 and cleanup.evidence["runs_checked"] == 5
    assert cleanup.evidence["recent_failures"][0]["return_message"] == "ERROR:  permission denied for table events"
    assert "permission denied for table events" in cleanup.detail
    unnamed = found["cron:5"]
    assert unnamed.evidence["jobname"] is None and unnamed.evidence["latest_status"] == "succeeded"
    assert unnamed.evidence["failed_runs"] == 2
    # The remediation is a query of the job's history: it runs.
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute(cleanup.remediation_sql.encode()).fetchall()  # type: ignore[union-attr]
    assert [r[1] for r in rows][:2] == ["failed", "succeeded"]


def test_cron_job_failures_healthy_history_and_missing_pg_cron(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, "", "cron_job_failures", "cron_silent_http_failure")
    assert result.findings == ()
    assert _skipped(result) == {
        "cron_job_failures": "pg_cron is not installed",
        "cron_silent_http_failure": "pg_cron is not installed",
    }
    healthy = PG_CRON_TABLES + _job("ok", "select 1") + _runs("ok", "sfsssssss")
    result = audit_sql(fresh_db, healthy, "cron_job_failures", "cron_silent_http_failure")
    assert result.findings == ()
    assert set(result.checks_run) == {"cron_job_failures", "cron_silent_http_failure"}


def test_cron_silent_http_failure_finds_the_seed_pattern(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, CRON_HISTORY, "cron_silent_http_failure")
    [finding] = result.findings
    assert finding.key == "cron:daily-digest"
    assert finding.level == "error"
    assert finding.evidence["http_call_path"] == ["public.invoke_daily_digest()", "net.http_post"]
    assert finding.evidence["succeeded_runs_with_failed_answers"] == 10
    assert finding.evidence["attributed_only_to_this_job"] == 10
    answer = finding.evidence["failed_answers"][0]
    assert answer["status_code"] == 401 and answer["run"]["status"] == "succeeded"
    assert answer["run"]["return_message"] == "1 row"
    assert "401" in finding.detail and "succeeded" in finding.detail
    with psycopg.connect(fresh_db) as conn:
        conn.execute(finding.remediation_sql.encode())  # type: ignore[union-attr]


def test_cron_probe_redacts_secrets_in_commands(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, CRON_HISTORY, "cron_silent_http_failure")
    probe = result.snapshot.probe("cron_jobs")
    assert probe is not None and probe.skipped is None
    text = json.dumps(probe.rows)
    assert JWT not in text and "Bearer [redacted]" in text
    assert redact_secrets("""jsonb_build_object('apikey', 'x') || '{"apikey": "sb_secret_abcdefgh12"}'""") == (
        """jsonb_build_object('apikey', 'x') || '{"apikey": "[redacted]"}'"""
    )


def test_cron_silent_http_failure_is_a_warning_when_another_http_job_ran_at_the_same_time(
    fresh_db: str, audit_sql: AuditSql
) -> None:
    script = (
        PG_CRON_TABLES
        + PG_NET_TABLES
        + _job("ping-a", "select net.http_post('https://a.example')")
        + _job("ping-b", "select net.http_post('https://b.example')")
        + _runs("ping-a", "sss")
        + _runs("ping-b", "sss")
        + _responses("ping-a", 200)
        + _responses("ping-b", None, "Timeout was reached")
    )
    result = audit_sql(fresh_db, script, "cron_silent_http_failure")
    found = {f.key: f for f in result.findings}
    assert set(found) == {"cron:ping-a", "cron:ping-b"}
    assert {f.level for f in found.values()} == {"warn"}
    assert found["cron:ping-a"].evidence["failed_answers"][0]["also_in_runs_of"] == ["ping-b"]
    assert "Timeout was reached" in found["cron:ping-a"].detail


def test_cron_silent_http_failure_healthy_and_without_pg_net(fresh_db: str, audit_sql: AuditSql) -> None:
    # Every answer 2xx (and a failed answer long after any run) is healthy.
    healthy = (
        PG_CRON_TABLES
        + PG_NET_TABLES
        + _job("capture", "select net.http_post('https://a.example')")
        + _runs("capture", "sss", hours=10)
        + _responses("capture", 204)
        + "insert into net._http_response (id, status_code, created) values (99, 500, now());\n"
    )
    assert audit_sql(fresh_db, healthy, "cron_silent_http_failure").findings == ()
    # Without pg_net the HTTP job cannot be judged: skipped, saying why.
    load_sql(fresh_db, "drop schema net cascade;")
    result = audit_sql(fresh_db, "", "cron_silent_http_failure")
    assert result.findings == ()
    reason = _skipped(result)["cron_silent_http_failure"]
    assert "capture" in reason and "pg_net is not installed" in reason


def test_cron_checks_say_when_row_level_security_hides_other_roles_jobs(fresh_db: str, audit_sql: AuditSql) -> None:
    """pg_cron's policies show a role without BYPASSRLS only its own jobs: the review must say so."""
    role = f"cron_user_{uuid.uuid4().hex[:8]}"
    script = CRON_HISTORY + f"create role {role} login; grant usage on schema cron, net to {role};"
    load_sql(fresh_db, script)
    try:
        dsn = make_conninfo(fresh_db, user=role)
        result = audit_sql(dsn, "", "cron_job_failures", "cron_silent_http_failure")
        assert result.findings == ()
        reason = _skipped(result)["cron_job_failures"]
        assert f"shows role {role} only its own jobs and it has none" in reason
        # With one job of its own that fails, the finding carries the limitation.
        load_sql(
            fresh_db,
            f"insert into cron.job (schedule, command, nodeport, username, jobname) "
            f"values ('* * * * *', 'select 1/0', 5432, '{role}', 'mine');"
            + _runs("mine", "ff", "ERROR:  division by zero").replace("'postgres'", f"'{role}'"),
        )
        result = audit_sql(dsn, "", "cron_job_failures", "cron_silent_http_failure")
        [finding] = result.findings
        assert finding.key == "cron:mine"
        assert "the jobs of other roles were not checked" in finding.evidence["limitation"]
        assert "the jobs of other roles were not checked" in _skipped(result)["cron_silent_http_failure"]
    finally:
        load_sql(fresh_db, f"drop owned by {role}; drop role if exists {role}")


# --------------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------------


@contextmanager
def idle_transaction(dsn: str, application: str = "stuck-worker") -> Iterator[psycopg.Connection[object]]:
    """A second session that opened a transaction, ran a statement and now idles inside it."""
    conn: psycopg.Connection[object] = psycopg.connect(dsn, application_name=application)  # type: ignore[assignment]
    try:
        conn.execute("select count(*) from pg_catalog.pg_class")
        yield conn
    finally:
        with suppress(psycopg.Error):
            conn.close()


def _config(**thresholds: float) -> AuditConfig:
    return AuditConfig(thresholds={k.replace("__", "."): v for k, v in thresholds.items()})


def test_idle_in_transaction_flags_the_session_and_terminates_it(fresh_db: str, audit_sql: AuditSql) -> None:
    config = _config(idle_in_transaction__minutes=0.0)
    with idle_transaction(fresh_db) as conn:
        pid = conn.info.backend_pid
        result = audit_sql(fresh_db, "", "idle_in_transaction", "long_running_transaction", config=config)
        [finding] = result.findings  # long_running_transaction leaves the idle session to this check
        assert finding.check == "idle_in_transaction"
        assert finding.key == f"database:{result.snapshot.database}"
        assert finding.fingerprint == f"idle_in_transaction:database:{result.snapshot.database}:postgres/stuck-worker"
        assert finding.level == "warn"
        [session] = finding.evidence["sessions"]
        assert session["pid"] == pid and session["state"] == "idle in transaction"
        assert "pg_class" in session["query"]
        assert finding.evidence["sessions_not_inspected"] == 0
        # The audit's own session is never reported.
        probe = result.snapshot.probe("activity")
        assert probe is not None and [r["pid"] for r in probe.rows] == [pid]
        load_sql(fresh_db, finding.remediation_sql or "")
        assert audit_sql(fresh_db, "", "idle_in_transaction", config=config).findings == ()


def test_long_running_transaction(fresh_db: str, audit_sql: AuditSql) -> None:
    with idle_transaction(fresh_db, "etl") as conn:
        pid = conn.info.backend_pid
        # Healthy with the default thresholds (5 minutes).
        result = audit_sql(fresh_db, "", "long_running_transaction", "idle_in_transaction")
        assert result.findings == () and len(result.checks_run) == 2
        config = _config(long_running_transaction__minutes=0.0, idle_in_transaction__minutes=60.0)
        result = audit_sql(fresh_db, "", "long_running_transaction", "idle_in_transaction", config=config)
        [finding] = result.findings
        assert finding.check == "long_running_transaction" and finding.level == "warn"
        assert finding.fingerprint.endswith(":postgres/etl")
        assert finding.evidence["sessions"][0]["pid"] == pid
        assert finding.evidence["sessions"][0]["xact_age_s"] >= 0
        assert finding.evidence["threshold_minutes"] == 0.0
        load_sql(fresh_db, finding.remediation_sql or "")
        assert audit_sql(fresh_db, "", "long_running_transaction", config=config).findings == ()


def test_session_checks_say_what_they_could_not_see(
    pg_server: EmbeddedServer, fresh_db: str, audit_sql: AuditSql
) -> None:
    role = f"auditor_{uuid.uuid4().hex[:8]}"
    load_sql(fresh_db, f"create role {role} login")
    try:
        with idle_transaction(fresh_db):
            dsn = make_conninfo(fresh_db, user=role)
            config = _config(idle_in_transaction__minutes=0.0, long_running_transaction__minutes=0.0)
            result = audit_sql(dsn, "", "idle_in_transaction", "long_running_transaction", config=config)
        assert result.findings == ()
        for check_id in ("idle_in_transaction", "long_running_transaction"):
            reason = _skipped(result)[check_id]
            assert "1 session of other roles could not be inspected" in reason
            assert "pg_read_all_stats" in reason
    finally:
        load_sql(fresh_db, f"drop role if exists {role}")


# --------------------------------------------------------------------------------------------------
# Replication slots, XID age, connections
# --------------------------------------------------------------------------------------------------


def test_inactive_replication_slot(fresh_db: str, audit_sql: AuditSql) -> None:
    assert audit_sql(fresh_db, "", "inactive_replication_slot").findings == ()
    slot = f"wb_{uuid.uuid4().hex[:10]}"
    load_sql(fresh_db, f"select pg_catalog.pg_create_physical_replication_slot('{slot}', true)")
    try:
        load_sql(fresh_db, "create table public.wal_maker as select g from generate_series(1, 5000) g")
        result = audit_sql(fresh_db, "", "inactive_replication_slot")
        [finding] = [f for f in result.findings if f.key == f"replication_slot:{slot}"]
        assert finding.level == "warn" and finding.object.kind == "replication_slot"
        assert finding.evidence["slot_type"] == "physical"
        assert finding.evidence["retained_bytes"] > 0
        assert finding.evidence["on_standby"] is False
        # A high enough threshold leaves it alone.
        high = _config(inactive_replication_slot__min_retained_mb=1024.0)
        assert (
            keys(audit_sql(fresh_db, "", "inactive_replication_slot", config=high), "inactive_replication_slot")
            == set()
        )
        load_sql(fresh_db, finding.remediation_sql or "")
        assert f"replication_slot:{slot}" not in keys(
            audit_sql(fresh_db, "", "inactive_replication_slot"), "inactive_replication_slot"
        )
    finally:
        load_sql(
            fresh_db,
            f"select pg_catalog.pg_drop_replication_slot(slot_name) from pg_catalog.pg_replication_slots "
            f"where slot_name = '{slot}'",
        )


def test_xid_wraparound_risk_healthy_then_forced_by_thresholds(fresh_db: str, audit_sql: AuditSql) -> None:
    script = "create table public.orders (id bigint primary key);"
    result = audit_sql(fresh_db, script, "xid_wraparound_risk")
    assert result.findings == () and result.checks_run == ("xid_wraparound_risk",)
    database = result.snapshot.database
    # A fresh database sits far below autovacuum_freeze_max_age: a negative position on the span.
    probe = result.snapshot.probe("xid_age")
    assert probe is not None
    [row] = [r for r in probe.rows if r["object"] == "database" and r["database"] == database]
    assert xid_position(row["xid_age"], row["freeze_max_age"]) < 0

    warn = _config(xid_wraparound_risk__warn_percent=-100.0)
    result = audit_sql(fresh_db, "", "xid_wraparound_risk", config=warn)
    found = {f.key: f for f in result.findings}
    db = found[f"database:{database}"]
    assert db.level == "warn"
    assert db.evidence["xid_age"] == row["xid_age"] and db.evidence["autovacuum_freeze_max_age"] == 200_000_000
    assert db.evidence["position_percent"] < 0 and db.evidence["remediation_transactional"] is False
    assert len(db.evidence["oldest_tables"]) == 5
    tables = [f for f in result.findings if f.object.kind == "table"]
    assert len(tables) == 20
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for statement in (tables[0].remediation_sql or "").splitlines():
            if statement and not statement.startswith("--"):
                conn.execute(statement.encode())

    error = _config(xid_wraparound_risk__warn_percent=-100.0, xid_wraparound_risk__error_percent=-50.0)
    result = audit_sql(fresh_db, "", "xid_wraparound_risk", config=error)
    assert {f.level for f in result.findings} == {"error"}


def test_xid_position_is_measured_from_autovacuum_freeze_max_age_to_wraparound() -> None:
    assert xid_position(200_000_000, 200_000_000) == 0
    assert round(xid_position(200_000_000 + (2**31 - 200_000_000) // 2, 200_000_000)) == 50
    assert xid_position(2**31, 200_000_000) == 100


def test_connection_saturation(fresh_db: str, audit_sql: AuditSql) -> None:
    assert audit_sql(fresh_db, "", "connection_saturation").findings == ()
    with idle_transaction(fresh_db):
        result = audit_sql(fresh_db, "", "connection_saturation", config=_config(connection_saturation__percent=1.0))
    [finding] = result.findings
    assert finding.key == "setting:max_connections" and finding.level == "warn"
    evidence = finding.evidence
    assert evidence["max_connections"] == 50  # the test server's setting
    assert evidence["available"] == 50 - evidence["superuser_reserved_connections"] - evidence["reserved_connections"]
    assert evidence["client_backends"] >= 2  # the audit and the idle session
    assert evidence["by_application"].get("stuck-worker") == 1
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute((finding.remediation_sql or "").encode()).fetchall()


# --------------------------------------------------------------------------------------------------
# pg_stat_statements
# --------------------------------------------------------------------------------------------------


def test_slow_queries(pg_server: EmbeddedServer, fresh_db: str, audit_sql: AuditSql) -> None:
    if not pg_server.has_pg_stat_statements:
        # pgserver's PostgreSQL ships without the library: the check says so instead of passing silently.
        result = audit_sql(fresh_db, "", "slow_queries")
        assert result.findings == () and result.checks_run == ()
        assert "pg_stat_statements is not available on this server" in _skipped(result)["slow_queries"]
        return
    result = audit_sql(fresh_db, "", "slow_queries")
    assert "CREATE EXTENSION pg_stat_statements" in _skipped(result)["slow_queries"]
    load_sql(fresh_db, "create extension pg_stat_statements")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for _ in range(3):
            conn.execute("select pg_catalog.pg_sleep(0.06)")
    # Healthy with the defaults: 60 ms is not slow, and three calls are too few.
    result = audit_sql(fresh_db, "", "slow_queries")
    assert result.findings == () and result.checks_run == ("slow_queries",)
    config = _config(slow_queries__mean_ms=40.0, slow_queries__min_calls=3)
    result = audit_sql(fresh_db, "", "slow_queries", config=config)
    [finding] = result.findings
    assert finding.level == "info" and finding.key == f"database:{result.snapshot.database}"
    assert finding.evidence["calls"] == 3 and finding.evidence["mean_exec_time_ms"] >= 40
    assert "pg_sleep" in finding.evidence["query"]
    assert finding.fingerprint == f"slow_queries:database:{result.snapshot.database}:{finding.evidence['queryid']}"
    with psycopg.connect(fresh_db) as conn:
        [row] = conn.execute((finding.remediation_sql or "").encode()).fetchall()
    assert row[0] == finding.evidence["queryid"]


def test_every_operations_check_is_registered() -> None:
    from workbench.core.checks import REGISTRY, all_checks

    all_checks()
    expected = {
        "cron_job_failures": ("warn", ("cron_jobs",)),
        "cron_silent_http_failure": ("error", ("cron_jobs",)),
        "long_running_transaction": ("warn", ("activity",)),
        "idle_in_transaction": ("warn", ("activity",)),
        "inactive_replication_slot": ("warn", ("replication_slots",)),
        "xid_wraparound_risk": ("warn", ("xid_age",)),
        "connection_saturation": ("warn", ("connections",)),
        "slow_queries": ("info", ("pg_stat_statements",)),
    }
    for check_id, (level, requires) in expected.items():
        spec = REGISTRY[check_id].spec
        assert (spec.level.value, spec.requires) == (level, requires), check_id


@pytest.mark.parametrize(
    ("text", "calls"),
    [
        ("select net.http_post('x')", [("net", "http_post")]),
        ('select "net"."http_get"(url := $$a$$)', [("net", "http_get")]),
        ("select 'net.http_post(' , f() -- net.http_get(\n", [(None, "f")]),
        ("/* net.http_post() */ SELECT Public.Invoke ()", [("public", "invoke")]),
    ],
)
def test_called_names_skip_comments_and_strings(text: str, calls: list[tuple[str | None, str]]) -> None:
    from workbench.core.checks.operations import _called_names

    assert [c for c in _called_names(text) if c[1] != "select"] == calls


def test_sql_remediation_quotes_hostile_slot_names() -> None:
    # Literal quoting through psycopg.sql: a quote in a name cannot end the string.
    rendered = sql.SQL("SELECT pg_catalog.pg_drop_replication_slot({})").format(sql.Literal("a'b")).as_string()
    assert rendered.endswith("('a''b')")
