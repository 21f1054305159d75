"""Maintenance checks: scan patterns, statistics, sequences, partitions and log tables on real servers."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime, timedelta

import psycopg

from tests.checks.conftest import AuditSql, keys
from tests.checks.test_indexes import FRESH_STATS, execute_each, flush_stats, only, wait_for
from workbench.core.checks import AuditConfig

# --------------------------------------------------------------------------------------------------
# high_seq_scan_ratio
# --------------------------------------------------------------------------------------------------

SCAN_SCHEMA = """
create table public.events_big (id int primary key, kind text, n int);
insert into public.events_big select g, 'k', g % 500 from generate_series(1, 20000) g;
create table public.lookup_hot (id int primary key, v int);
insert into public.lookup_hot select g, g from generate_series(1, 20000) g;
create table public.small (id int);
insert into public.small select g from generate_series(1, 100) g;
create table public.limited (id int, v int);
insert into public.limited select g, g from generate_series(1, 20000) g;
create table public.readings (id int, at date not null, v int) partition by range (at);
create table public.readings_2025 partition of public.readings for values from ('2025-01-01') to ('2026-01-01');
create table public.readings_2026 partition of public.readings for values from ('2026-01-01') to ('2027-01-01');
insert into public.readings select g, date '2025-06-01' + (g % 2) * 365, g from generate_series(1, 12000) g;
analyze;
"""
SCANS = """
do $$ begin
  for i in 1..120 loop
    perform count(*) from public.events_big where n = i;
    perform count(*) from public.lookup_hot where v = i;
    perform count(*) from public.small;
    perform * from public.limited limit 1;
    perform count(*) from public.readings where v = i;
  end loop;
  for i in 1..200 loop
    perform v from public.lookup_hot where id = i;
  end loop;
end $$;
"""
SCANNED = (
    "select (select seq_scan from pg_stat_user_tables where relname = 'events_big'),"
    " (select idx_scan from pg_stat_user_tables where relname = 'lookup_hot'),"
    " (select seq_scan from pg_stat_user_tables where relname = 'readings_2026')"
)


def test_high_seq_scan_ratio_reports_large_tables_read_by_full_scans(fresh_db: str, audit_sql: AuditSql) -> None:
    audit_sql(fresh_db, SCAN_SCHEMA, "high_seq_scan_ratio", config=FRESH_STATS)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(SCANS)
        flush_stats(conn)
    wait_for(fresh_db, SCANNED, lambda row: all(isinstance(n, int) and n >= 120 for n in row))
    result = audit_sql(fresh_db, "", "high_seq_scan_ratio", config=FRESH_STATS)
    assert result.checks_skipped == ()
    found = {f.key: f for f in only(result, "high_seq_scan_ratio")}
    # lookup_hot: more index scans; small: 100 rows; limited: each scan stops after one row.
    assert set(found) == {"public.events_big", "public.readings"}
    finding = found["public.events_big"]
    assert finding.level == "info"
    ev = finding.evidence
    assert ev["seq_scan"] >= 120 and ev["idx_scan"] == 0 and ev["seq_scan_share"] == 1.0
    assert ev["rows_estimate"] == 20000 and 19000 <= ev["avg_rows_per_seq_scan"] <= 20000
    assert ev["indexes"] == ["events_big_pkey"]
    assert ev["stats_since"] and ev["stats_age_days"] is not None
    assert finding.remediation_sql is None
    assert f"{ev['seq_scan']} sequential scans against 0 index scans" in finding.detail
    readings = found["public.readings"].evidence
    assert readings["partitions_summed"] == 2 and readings["seq_scan"] >= 240 and readings["rows_estimate"] == 12000

    strict = AuditConfig(min_stats_age_days=0, thresholds={"high_seq_scan_ratio.min_seq_scans": 500})
    assert keys(audit_sql(fresh_db, "", "high_seq_scan_ratio", config=strict), "high_seq_scan_ratio") == set()


def test_high_seq_scan_ratio_is_skipped_while_statistics_are_young(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, SCAN_SCHEMA, "high_seq_scan_ratio")
    assert result.findings == ()
    [skipped] = result.checks_skipped
    assert skipped.check == "high_seq_scan_ratio"
    assert skipped.reason.startswith("statistics are only ") and "7 days" in skipped.reason


# --------------------------------------------------------------------------------------------------
# stale_statistics
# --------------------------------------------------------------------------------------------------

STATS_SCHEMA = """
create table public.never (id int, v text) with (autovacuum_enabled = false);
insert into public.never select g, 'x' from generate_series(1, 5000) g;
create table public.churned (id int primary key, v int) with (autovacuum_enabled = false);
insert into public.churned select g, g from generate_series(1, 10000) g;
create table public.calm_stats (id int, v int) with (autovacuum_enabled = false);
insert into public.calm_stats select g, g from generate_series(1, 10000) g;
create table public.tiny (id int) with (autovacuum_enabled = false);
insert into public.tiny select g from generate_series(1, 500) g;
create table public.reset_counters (id int) with (autovacuum_enabled = false);
insert into public.reset_counters select g from generate_series(1, 5000) g;
"""
LIVE = (
    "select (select sum(n_live_tup) from pg_stat_user_tables where relname in ('churned', 'calm_stats')),"
    " (select n_live_tup from pg_stat_user_tables where relname = 'reset_counters')"
)
# Each step in its own session, once the previous one's counters are flushed: an ANALYZE that ran before
# the inserts' counters arrived would count them as modifications made after it.
ANALYZE_SOME = "analyze public.churned; analyze public.calm_stats; analyze public.reset_counters;"
UPDATES = """
update public.churned set v = v + 1 where id <= 3000;
update public.calm_stats set v = v + 1 where id <= 1000;
-- A statistics reset forgets last_analyze, but pg_stats still shows the table was analyzed.
select pg_stat_reset_single_table_counters('public.reset_counters'::regclass);
"""
MODIFIED = (
    "select (select n_live_tup from pg_stat_user_tables where relname = 'never'),"
    " (select n_mod_since_analyze from pg_stat_user_tables where relname = 'churned'),"
    " (select n_mod_since_analyze from pg_stat_user_tables where relname = 'calm_stats')"
)


def test_stale_statistics_reports_never_analyzed_and_heavily_modified_tables(
    fresh_db: str, audit_sql: AuditSql, load_sql: Callable[[str, str], None]
) -> None:
    load_sql(fresh_db, STATS_SCHEMA)
    wait_for(fresh_db, LIVE, lambda row: row == (20000, 5000))
    load_sql(fresh_db, ANALYZE_SOME)
    load_sql(fresh_db, UPDATES)
    wait_for(fresh_db, MODIFIED, lambda row: row == (5000, 3000, 1000))
    result = audit_sql(fresh_db, "", "stale_statistics")
    assert result.checks_skipped == ()
    [reset] = [r for r in result.snapshot.relations if r.name == "reset_counters"]
    assert reset.stats is not None and reset.stats.last_analyze is None and reset.stats.has_column_stats
    found = {f.key: f for f in only(result, "stale_statistics")}
    assert set(found) == {"public.never", "public.churned"}
    never = found["public.never"]
    assert never.level == "warn"
    assert never.evidence["reason"] == "never analyzed"
    assert never.evidence["rows_estimate"] == 5000
    assert never.evidence["last_analyze"] is None and never.evidence["has_column_statistics"] is False
    assert never.evidence["autovacuum_enabled"] == "false"
    assert "has never been analyzed" in never.detail
    assert never.remediation_sql == 'ANALYZE "public"."never";'
    churned = found["public.churned"]
    assert churned.evidence["reason"] == "modified since analyze"
    assert churned.evidence["n_mod_since_analyze"] == 3000 and churned.evidence["modified_ratio"] == 0.3
    assert churned.evidence["last_analyze"] is not None
    assert "30% of its about 10,000 rows" in churned.detail

    for f in found.values():
        execute_each(fresh_db, f.remediation_sql)
    wait_for(fresh_db, MODIFIED, lambda row: row[1] == 0)
    assert keys(audit_sql(fresh_db, "", "stale_statistics"), "stale_statistics") == set()


# --------------------------------------------------------------------------------------------------
# sequence_near_exhaustion
# --------------------------------------------------------------------------------------------------

SEQUENCE_SCHEMA = """
create table public.orders (id serial primary key, note text);
select setval('public.orders_id_seq', 2000000000);
create table public.order_items (id bigint generated always as identity primary key,
                                 order_id int references public.orders);
-- A bigint sequence feeding an integer column: the column's maximum is the real limit.
create sequence public.ticket_seq as bigint;
create table public.tickets (id int primary key default nextval('public.ticket_seq'));
select setval('public.ticket_seq', 1700000000);
-- An explicit MAXVALUE binds a bigint sequence.
create sequence public.capped maxvalue 1000;
select setval('public.capped', 900);
-- Healthy: a bigint identity far from its end, a CYCLE sequence, a never-used one, a young serial.
create table public.big (id bigint generated by default as identity primary key);
select setval(pg_get_serial_sequence('public.big', 'id'), 3000000000);
create sequence public.wrapping as smallint cycle;
select setval('public.wrapping', 32000);
create sequence public.fresh;
create table public.young (id serial primary key);
select setval('public.young_id_seq', 1000);
"""


def test_sequence_near_exhaustion_measures_against_the_column_type(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, SEQUENCE_SCHEMA, "sequence_near_exhaustion")
    assert result.checks_skipped == ()
    found = {f.key: f for f in only(result, "sequence_near_exhaustion")}
    assert set(found) == {"public.orders_id_seq", "public.ticket_seq", "public.capped"}
    orders = found["public.orders_id_seq"]
    assert orders.level == "warn" and orders.object.kind == "sequence"
    ev = orders.evidence
    assert ev["last_value"] == 2_000_000_000 and ev["limit"] == 2_147_483_647
    assert ev["limited_by"] == "column public.orders.id (integer)"
    assert ev["used_ratio"] == 0.9313 and ev["remaining_values"] == 147_483_647
    assert ev["referencing_columns"] == ["public.order_items.order_id (integer)"]
    assert (orders.remediation_sql or "").endswith(
        'ALTER TABLE "public"."orders" ALTER COLUMN "id" TYPE bigint;\n'
        'ALTER TABLE "public"."order_items" ALTER COLUMN "order_id" TYPE bigint;\n'
        'ALTER SEQUENCE "public"."orders_id_seq" AS bigint;'
    )
    tickets = found["public.ticket_seq"].evidence
    assert tickets["data_type"] == "bigint" and tickets["sequence_limit"] == 9223372036854775807
    assert tickets["limited_by"] == "column public.tickets.id (integer)" and tickets["used_ratio"] == 0.7916
    assert tickets["columns"] == ["public.tickets.id (integer)"]
    capped = found["public.capped"]
    assert capped.evidence["limited_by"] == "the sequence's own maximum"
    assert capped.remediation_sql == 'ALTER SEQUENCE "public"."capped" NO MAXVALUE;'

    for f in found.values():
        execute_each(fresh_db, f.remediation_sql)
    after = audit_sql(fresh_db, "", "sequence_near_exhaustion")
    assert keys(after, "sequence_near_exhaustion") == set()
    [order_id] = [c for r in after.snapshot.relations if r.name == "order_items" for c in r.columns if c.attnum == 2]
    assert order_id.type == "bigint"


# --------------------------------------------------------------------------------------------------
# partition_default_rows
# --------------------------------------------------------------------------------------------------

DEFAULT_SCHEMA = """
create table public.sessions (id bigint, created_month date not null) partition by range (created_month);
create table public.sessions_2026_01 partition of public.sessions for values from ('2026-01-01') to ('2026-02-01');
create table public.sessions_default partition of public.sessions default;
insert into public.sessions values (1, '2026-01-05'), (2, '2027-03-01'), (3, '2027-04-01');
create table public.regions (code text, v int) partition by list (code);
create table public.regions_eu partition of public.regions for values in ('eu');
create table public.regions_other partition of public.regions default;
insert into public.regions select 'us', g from generate_series(1, 10050) g;
-- Healthy: an empty DEFAULT partition, and a partitioned table without one.
create table public.events (id bigint, at date not null) partition by range (at);
create table public.events_2026 partition of public.events for values from ('2026-01-01') to ('2027-01-01');
create table public.events_default partition of public.events default;
insert into public.events values (1, '2026-05-01');
"""


def test_partition_default_rows_counts_rows_within_a_bound(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, DEFAULT_SCHEMA, "partition_default_rows")
    assert result.checks_skipped == ()
    found = {f.key: f for f in only(result, "partition_default_rows")}
    assert set(found) == {"public.sessions_default", "public.regions_other"}
    sessions = found["public.sessions_default"]
    assert sessions.level == "warn" and sessions.object.kind == "table"
    assert sessions.evidence["parent"] == "public.sessions"
    assert sessions.evidence["partition_key"] == "RANGE (created_month)"
    assert sessions.evidence["rows_counted"] == 2 and sessions.evidence["more_than_counted"] is False
    assert sessions.detail == "DEFAULT partition public.sessions_default of public.sessions holds 2 rows."
    assert (sessions.remediation_sql or "").endswith(
        'SELECT pg_catalog.min("created_month"), pg_catalog.max("created_month"), pg_catalog.count(*) '
        'FROM "public"."sessions_default";'
    )
    regions = found["public.regions_other"]
    assert regions.evidence["rows_counted"] == 10000 and regions.evidence["more_than_counted"] is True
    assert "holds more than 10,000 rows" in regions.detail
    assert "GROUP BY 1" in (regions.remediation_sql or "")
    for f in found.values():
        execute_each(fresh_db, f.remediation_sql)  # the diagnostic queries run


def test_partition_default_rows_is_skipped_without_its_probe(fresh_db: str, audit_sql: AuditSql) -> None:
    import dataclasses

    from tests.checks.conftest import snapshot_of
    from workbench.core.checks import REGISTRY, run_checks
    from workbench.core.model import ProbeResult

    audit_sql(fresh_db, DEFAULT_SCHEMA, "partition_default_rows")
    snapshot = snapshot_of(fresh_db)
    probes = tuple(p for p in snapshot.probes if p.name != "default_partition_rows")
    missing = ProbeResult("default_partition_rows", skipped="permission denied: for table sessions_default")
    result = run_checks(
        dataclasses.replace(snapshot, probes=(*probes, missing)),
        AuditConfig(),
        checks=[REGISTRY["partition_default_rows"]],
    )
    assert result.findings == ()
    [skipped] = result.checks_skipped
    assert "permission denied" in skipped.reason


# --------------------------------------------------------------------------------------------------
# missing_future_partition
# --------------------------------------------------------------------------------------------------


def _months(day: date, n: int) -> date:
    month = day.month - 1 + n
    return date(day.year + month // 12, month % 12 + 1, 1)


def _server_today(dsn: str) -> date:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select (now() at time zone 'UTC')::date").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def test_missing_future_partition_infers_the_period_and_creates_the_next(fresh_db: str, audit_sql: AuditSql) -> None:
    today = _server_today(fresh_db)
    month = today.replace(day=1)
    monday = today - timedelta(days=today.weekday())

    def part(table: str, name: str, lo: object, hi: object) -> str:
        return f"create table public.{name} partition of public.{table} for values from ('{lo}') to ('{hi}');\n"

    script = (
        # monthly by date: last and current month only -> the next month is missing
        "create table public.measurements (id int, day date not null) partition by range (day);\n"
        + part("measurements", "measurements_prev", _months(month, -1), month)
        + part("measurements", "measurements_cur", month, _months(month, 1))
        # weekly by timestamptz: current week only
        + "create table public.clicks (id int, at timestamptz not null) partition by range (at);\n"
        + part("clicks", "clicks_cur", f"{monday} 00:00+00", f"{monday + timedelta(days=7)} 00:00+00")
        # yearly by timestamp, months behind: last year ended before now -> current and next year
        + "create table public.archive (id int, at timestamp not null) partition by range (at);\n"
        + part("archive", "archive_old", date(today.year - 2, 1, 1), date(today.year - 1, 1, 1))
        # healthy: monthly with the next month present; daily with tomorrow present; open-ended; not time
        + "create table public.ok_monthly (id int, day date not null) partition by range (day);\n"
        + part("ok_monthly", "ok_monthly_cur", month, _months(month, 1))
        + part("ok_monthly", "ok_monthly_next", _months(month, 1), _months(month, 2))
        + "create table public.ok_daily (id int, at timestamptz not null) partition by range (at);\n"
        + part("ok_daily", "ok_daily_today", f"{today} 00:00+00", f"{today + timedelta(days=1)} 00:00+00")
        + part(
            "ok_daily",
            "ok_daily_next",
            f"{today + timedelta(days=1)} 00:00+00",
            f"{today + timedelta(days=2)} 00:00+00",
        )
        + "create table public.ok_open (id int, day date not null) partition by range (day);\n"
        + part("ok_open", "ok_open_cur", month, _months(month, 1))
        + "create table public.ok_open_rest partition of public.ok_open for values from "
        + f"('{_months(month, 1)}') to (maxvalue);\n"
        + "create table public.ok_ids (id int not null) partition by range (id);\n"
        + part("ok_ids", "ok_ids_1", 0, 1000)
        + "create table public.ok_expr (at timestamp not null) partition by range ((at::date));\n"
        + part("ok_expr", "ok_expr_cur", month, _months(month, 1))
    )
    result = audit_sql(fresh_db, script, "missing_future_partition")
    assert result.checks_skipped == ()
    found = {f.key: f for f in only(result, "missing_future_partition")}
    assert set(found) == {"public.measurements", "public.clicks", "public.archive"}

    monthly = found["public.measurements"]
    assert monthly.level == "warn"
    nxt = _months(month, 1)
    name = f"measurements_{nxt:%Y_%m}"
    assert monthly.evidence["period"] == "monthly"
    assert monthly.evidence["latest_partition"] == "public.measurements_cur"
    assert monthly.evidence["latest_bound"] == nxt.isoformat()
    assert monthly.evidence["current_period_covered"] is True
    assert monthly.evidence["proposed_partitions"] == [name]
    assert f"no partition follows the current one, which ends at {nxt}" in monthly.detail
    assert monthly.remediation_sql == (
        f'CREATE TABLE "public"."{name}" PARTITION OF "public"."measurements" '
        f"FOR VALUES FROM ('{nxt}') TO ('{_months(month, 2)}');"
    )

    weekly = found["public.clicks"]
    assert weekly.evidence["period"] == "weekly"
    following = monday + timedelta(days=7)
    assert (weekly.remediation_sql or "").endswith(
        f"FOR VALUES FROM ('{following} 00:00:00+00:00') TO ('{following + timedelta(days=7)} 00:00:00+00:00');"
    )

    archive = found["public.archive"]
    assert archive.evidence["period"] == "yearly"
    assert archive.evidence["current_period_covered"] is False
    assert archive.evidence["proposed_partitions"] == [f"archive_{today.year}", f"archive_{today.year + 1}"]
    assert "no partition covers the current period" in archive.detail
    assert (archive.remediation_sql or "").startswith("-- Periods between the last partition and now")

    for f in found.values():
        execute_each(fresh_db, f.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "missing_future_partition"), "missing_future_partition") == set()


def test_missing_future_partition_month_arithmetic_does_not_drift() -> None:
    from workbench.core.checks.maintenance import _Step, _step

    # Month-end bounds: the grid stays on the last day of each month instead of drifting to the 28th.
    month_end = _step(datetime(2026, 1, 31), datetime(2026, 2, 28))
    assert month_end == _Step(months=1)
    assert [month_end.at(datetime(2026, 1, 31), k).day for k in range(4)] == [31, 28, 31, 30]
    assert month_end.index_after(datetime(2026, 1, 31), datetime(2026, 3, 5)) == 2
    monthly = _step(datetime(2026, 1, 1), datetime(2026, 2, 1))
    assert monthly == _Step(months=1) and monthly.label == "monthly"
    assert [monthly.at(datetime(2026, 1, 1), k).month for k in range(-1, 13)] == [12, *range(1, 13), 1]
    assert monthly.index_after(datetime(2026, 1, 1), datetime(2025, 6, 1)) == -6
    assert _step(datetime(2026, 1, 1), datetime(2027, 1, 1)) == _Step(months=12)
    assert calendar.isleap(2028) and _Step(months=12).at(datetime(2028, 2, 29), 1) == datetime(2029, 2, 28)
    daily = _step(datetime(2026, 1, 1), datetime(2026, 1, 2))
    assert daily is not None and daily.label == "daily" and daily.name_format == "%Y_%m_%d"
    assert daily.index_after(datetime(2026, 1, 1), datetime(2026, 1, 10, 12)) == 10
    assert _step(datetime(2026, 1, 1, 6), datetime(2026, 1, 1, 12)) == _Step(delta=timedelta(hours=6))


# --------------------------------------------------------------------------------------------------
# unbounded_log_table
# --------------------------------------------------------------------------------------------------

LOG_SCHEMA = """
create table public.system_logs (id bigint generated always as identity primary key,
                                 created_at timestamptz not null default now(), message text);
insert into public.system_logs (message) select repeat('x', 200) from generate_series(1, 3000);
create index on public.system_logs (created_at);
-- Healthy: a catalog is not a log; no timestamp; partitioned; small.
create table public.product_catalog (id int primary key, created_at timestamptz default now(), body text);
insert into public.product_catalog select g, now(), repeat('x', 200) from generate_series(1, 3000) g;
create table public.audit_trail (id int, body text);
insert into public.audit_trail select g, repeat('x', 200) from generate_series(1, 3000) g;
create table public.api_logs (created_at timestamptz not null, body text) partition by range (created_at);
create table public.api_logs_all partition of public.api_logs default;
insert into public.api_logs select now(), repeat('x', 200) from generate_series(1, 3000);
create table public.small_logs (created_at timestamptz, body text);
analyze;
"""
LOW = AuditConfig(thresholds={"unbounded_log_table.min_bytes": 256 * 1024})


def test_unbounded_log_table_reports_large_unpartitioned_log_tables(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, LOG_SCHEMA, "unbounded_log_table", config=LOW)
    assert result.checks_skipped == ()
    [finding] = only(result, "unbounded_log_table")
    assert finding.key == "public.system_logs"
    assert finding.level == "info"
    ev = finding.evidence
    assert ev["size_bytes"] >= 256 * 1024 and ev["rows_estimate"] == 3000
    assert ev["timestamp_columns"] == ["created_at"]
    assert ev["timestamp_columns_leading_an_index"] == ["created_at"]
    assert ev["patterns"] == ["*_logs"] and ev["min_bytes"] == 256 * 1024
    assert "not partitioned" in finding.detail and "created_at" in finding.detail
    # The default threshold (32 MB) is far above these tables.
    assert keys(audit_sql(fresh_db, "", "unbounded_log_table"), "unbounded_log_table") == set()


def test_partition_key_column_reads_only_single_plain_columns() -> None:
    from workbench.core.checks.maintenance import partition_key_column
    from workbench.core.model import Column, Relation

    columns = (Column(1, "at", "date", "date", True), Column(2, 'We "ird', "date", "date", True))

    def key(text: str) -> tuple[str, str] | None:
        found = partition_key_column(Relation(1, "public", "t", "p", "me", columns=columns, partition_key=text))
        return (found[0], found[1].name) if found else None

    assert key("RANGE (at)") == ("RANGE", "at")
    assert key('LIST ("We ""ird")') == ("LIST", 'We "ird')
    assert key('RANGE (at, "We ""ird")') is None
    assert key("RANGE (date_trunc('day'::text, at))") is None
    assert key('RANGE (at COLLATE "C")') is None
    assert key("RANGE (missing)") is None


# --------------------------------------------------------------------------------------------------
# autovacuum_disabled
# --------------------------------------------------------------------------------------------------

AUTOVACUUM_SCHEMA = '''
create table public.job_queue (id int primary key, payload text) with (autovacuum_enabled = false);
create table public."staging; ""load""" (id int) with (autovacuum_enabled = off, fillfactor = 70);
create materialized view public.daily_totals with (autovacuum_enabled = 0) as select 1 as n;
create table public.tuned (id int) with (autovacuum_enabled = true, autovacuum_vacuum_scale_factor = 0.01);
create table public.plain (id int);
'''


def test_autovacuum_disabled_reports_tables_and_matviews_with_it_off(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, AUTOVACUUM_SCHEMA, "autovacuum_disabled")
    found = {f.key: f for f in only(result, "autovacuum_disabled")}
    # autovacuum_enabled = true, other storage parameters and no parameters at all are healthy.
    assert set(found) == {"public.job_queue", 'public.staging; "load"', "public.daily_totals"}
    queue = found["public.job_queue"]
    assert queue.level == "info"
    assert queue.evidence["options"] == ["autovacuum_enabled=false"]
    assert "autovacuum_enabled=false" in queue.detail
    assert found["public.daily_totals"].remediation_sql == (
        'ALTER MATERIALIZED VIEW "public"."daily_totals" RESET (autovacuum_enabled);'
    )
    assert found['public.staging; "load"'].remediation_sql == (
        'ALTER TABLE "public"."staging; ""load""" RESET (autovacuum_enabled);'
    )
    for finding in found.values():
        execute_each(fresh_db, finding.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "autovacuum_disabled"), "autovacuum_disabled") == set()
    with psycopg.connect(fresh_db) as conn:
        (options,) = conn.execute("select reloptions from pg_class where relname = 'staging; \"load\"'").fetchone()
    assert options == ["fillfactor=70"]  # only autovacuum_enabled was reset


def test_autovacuum_disabled_warns_when_the_server_runs_no_autovacuum(fresh_db: str, audit_sql: AuditSql) -> None:
    assert keys(audit_sql(fresh_db, "", "autovacuum_disabled"), "autovacuum_disabled") == set()
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("alter system set autovacuum = off")
        conn.execute("select pg_reload_conf()")
        try:
            wait_for(fresh_db, "select current_setting('autovacuum')", lambda row: row == ("off",))
            [finding] = only(audit_sql(fresh_db, "", "autovacuum_disabled"), "autovacuum_disabled")
            assert (finding.key, finding.level) == ("setting:autovacuum", "warn")
            assert finding.evidence["remediation_transactional"] is False
            execute_each(fresh_db, finding.remediation_sql)
            wait_for(fresh_db, "select current_setting('autovacuum')", lambda row: row == ("on",))
        finally:
            conn.execute("alter system reset autovacuum")
            conn.execute("select pg_reload_conf()")
    assert keys(audit_sql(fresh_db, "", "autovacuum_disabled"), "autovacuum_disabled") == set()
