"""Index and table-health checks: each with schemas that must trigger it and healthy ones that must not."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest

from tests.checks.conftest import AuditSql, keys
from workbench.core.checks import AuditConfig, AuditResult
from workbench.core.model import Finding

FRESH_STATS = AuditConfig(min_stats_age_days=0)


def only(result: AuditResult, check_id: str) -> list[Finding]:
    return [f for f in result.findings if f.check == check_id]


def execute_each(dsn: str, script: str | None) -> None:
    """Run a remediation script statement by statement in autocommit (CONCURRENTLY refuses a transaction)."""
    assert script
    body = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in body.split(";\n"):
            if statement.strip().rstrip(";"):
                conn.execute(statement.strip().rstrip(";").encode())


def wait_for(dsn: str, query: str, ready: Callable[[tuple[object, ...]], bool], timeout: float = 15.0) -> None:
    """Poll the cumulative statistics (flushed per backend, asynchronously) until `ready(row)` holds."""
    deadline = time.monotonic() + timeout
    row: tuple[object, ...] | None = None
    while time.monotonic() < deadline:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute(query.encode()).fetchone()
        if row is not None and ready(row):
            return
        time.sleep(0.2)
    raise AssertionError(f"statistics never caught up: {query} -> {row}")


def flush_stats(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    if conn.info.server_version >= 150000:
        conn.execute("select pg_stat_force_next_flush()")


# --------------------------------------------------------------------------------------------------
# unindexed_foreign_keys
# --------------------------------------------------------------------------------------------------

FK_SCHEMA = """
create table public.customers (id bigint primary key, code text unique, region int, branch int,
                               unique (region, branch));
create table public.orders (id bigint primary key, customer_id bigint references public.customers,
                            status text);
"""


def test_unindexed_foreign_key_is_reported_and_the_concurrent_index_fixes_it(
    fresh_db: str, audit_sql: AuditSql
) -> None:
    result = audit_sql(fresh_db, FK_SCHEMA, "unindexed_foreign_keys")
    [finding] = only(result, "unindexed_foreign_keys")
    assert finding.key == "public.orders:orders_customer_id_fkey"
    assert finding.fingerprint == "unindexed_foreign_keys:public.orders:orders_customer_id_fkey"
    assert finding.level == "info"
    assert finding.object.kind == "constraint"
    assert finding.evidence["columns"] == ["customer_id"]
    assert finding.evidence["references"] == "public.customers"
    assert finding.evidence["on_delete"] == "NO ACTION"
    assert finding.evidence["remediation_transactional"] is False
    assert finding.remediation_sql is not None
    assert "cannot run inside a transaction block" in finding.remediation_sql
    assert finding.remediation_sql.endswith(
        'CREATE INDEX CONCURRENTLY "orders_customer_id_idx" ON "public"."orders" ("customer_id");'
    )
    execute_each(fresh_db, finding.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "unindexed_foreign_keys"), "unindexed_foreign_keys") == set()


def test_unindexed_foreign_key_coverage_rules(fresh_db: str, audit_sql: AuditSql) -> None:
    script = (
        FK_SCHEMA
        + """
    -- Composite FK covered by an index leading with its columns in another order (splinter#90/#87).
    create table public.visits (id int primary key, region int, branch int, at date,
                                constraint visits_branch_fk foreign key (region, branch)
                                    references public.customers (region, branch));
    create index on public.visits (branch, region, at);
    -- Junction table: the PK covers the first FK only.
    create table public.tags (id int primary key);
    create table public.customer_tags (customer_id bigint references public.customers,
                                       tag_id int references public.tags,
                                       primary key (customer_id, tag_id));
    -- Partial index WHERE fk IS NOT NULL counts; any other predicate does not.
    create table public.invoices (id int primary key, customer_id bigint references public.customers,
                                  paid_by bigint references public.customers);
    create index on public.invoices (customer_id) where customer_id is not null;
    create index on public.invoices (paid_by) where paid_by > 0;
    -- Composite FK with only one of its columns indexed.
    create table public.shipments (id int primary key, region int, branch int,
                                   constraint shipments_branch_fk foreign key (region, branch)
                                       references public.customers (region, branch));
    create index on public.shipments (region);
    -- An expression index does not cover the plain column.
    create table public.notes (id int primary key, code text references public.customers (code));
    create index on public.notes (lower(code));
    -- System schemas are not the application's to change.
    create schema auth;
    create table auth.sessions (id int primary key, customer_id bigint references public.customers);
    """
    )
    result = audit_sql(fresh_db, script, "unindexed_foreign_keys")
    found = {f.key: f for f in only(result, "unindexed_foreign_keys")}
    assert set(found) == {
        "public.orders:orders_customer_id_fkey",
        "public.customer_tags:customer_tags_tag_id_fkey",
        "public.invoices:invoices_paid_by_fkey",
        "public.shipments:shipments_branch_fk",
        "public.notes:notes_code_fkey",
    }
    assert found["public.invoices:invoices_paid_by_fkey"].evidence["indexes_not_counted"] == {
        "invoices_paid_by_idx": "partial index whose predicate is not just the foreign key columns IS NOT NULL: "
        "(paid_by > 0)"
    }
    assert found["public.shipments:shipments_branch_fk"].evidence["indexes_not_counted"] == {
        "shipments_region_idx": "the foreign key columns are not its leading key columns"
    }
    assert found["public.shipments:shipments_branch_fk"].remediation_sql.endswith(  # type: ignore[union-attr]
        'CREATE INDEX CONCURRENTLY "shipments_region_branch_idx" ON "public"."shipments" ("region", "branch");'
    )


def test_unindexed_foreign_key_ignores_an_invalid_index(fresh_db: str, audit_sql: AuditSql) -> None:
    audit_sql(
        fresh_db,
        FK_SCHEMA + "insert into public.customers (id) values (1);insert into public.orders values (1, 1), (2, 1);",
        "unindexed_foreign_keys",
    )
    with psycopg.connect(fresh_db, autocommit=True) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("create unique index concurrently orders_customer_ux on public.orders (customer_id)")
    [finding] = only(audit_sql(fresh_db, "", "unindexed_foreign_keys"), "unindexed_foreign_keys")
    assert finding.evidence["indexes_not_counted"] == {"orders_customer_ux": "the index is invalid"}


def test_unindexed_foreign_key_on_partitioned_table_is_reported_once(fresh_db: str, audit_sql: AuditSql) -> None:
    script = (
        FK_SCHEMA
        + """
    create table public.events (id bigint, customer_id bigint references public.customers, at date not null,
                                primary key (id, at)) partition by range (at);
    create table public.events_2025 partition of public.events for values from ('2025-01-01') to ('2026-01-01');
    create table public.events_2026 partition of public.events for values from ('2026-01-01') to ('2027-01-01')
        partition by hash (id);
    create table public.events_2026_0 partition of public.events_2026 for values with (modulus 2, remainder 0);
    create table public.events_2026_1 partition of public.events_2026 for values with (modulus 2, remainder 1);
    -- A foreign key *to* a partitioned table gets hidden clone constraints: they are not findings.
    create table public.event_links (event_id bigint, event_at date,
                                     foreign key (event_id, event_at) references public.events (id, at));
    create index on public.event_links (event_id, event_at);
    create index on public.orders (customer_id);
    """
    )
    result = audit_sql(fresh_db, script, "unindexed_foreign_keys")
    [finding] = only(result, "unindexed_foreign_keys")
    assert finding.key == "public.events:events_customer_id_fkey"
    assert "ON ONLY" in (finding.remediation_sql or "")
    execute_each(fresh_db, finding.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "unindexed_foreign_keys"), "unindexed_foreign_keys") == set()


def test_hostile_names_stay_quoted_in_index_remediation(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public."Robert'); DROP TABLE ""students"";--" (id int primary key);
    create table public."ünï cødé; x" ("we""ird col" int references public."Robert'); DROP TABLE ""students"";--",
                                       other int);
    create index "dup; a" on public."ünï cødé; x" (other);
    create index "dup; b" on public."ünï cødé; x" (other);
    """
    checks = ("unindexed_foreign_keys", "duplicate_index", "no_primary_key")
    result = audit_sql(fresh_db, script, *checks)
    assert {f.key for f in result.findings} == {
        'public.ünï cødé; x:ünï cødé; x_we"ird col_fkey',
        "public.dup; b",
        "public.ünï cødé; x",
    }
    fk = only(result, "unindexed_foreign_keys")[0]
    assert (fk.remediation_sql or "").endswith(
        'CREATE INDEX CONCURRENTLY "ünï cødé; x_we""ird col_idx" ON "public"."ünï cødé; x" ("we""ird col");'
    )
    for finding in result.findings:
        execute_each(fresh_db, finding.remediation_sql)
    assert audit_sql(fresh_db, "", *checks).findings == ()


# --------------------------------------------------------------------------------------------------
# duplicate_index
# --------------------------------------------------------------------------------------------------


def test_duplicate_index_drops_the_newer_copy_concurrently(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.items (id int primary key, sku text, price int);
    create index items_sku_a on public.items (sku);
    create index items_sku_b on public.items (sku);
    create index items_sku_c on public.items (sku);
    """
    result = audit_sql(fresh_db, script, "duplicate_index")
    found = {f.key: f for f in only(result, "duplicate_index")}
    assert set(found) == {"public.items_sku_b", "public.items_sku_c"}
    finding = found["public.items_sku_b"]
    assert finding.level == "warn"
    assert finding.object.kind == "index"
    assert finding.evidence["kept_index"] == "public.items_sku_a"
    assert finding.evidence["remediation_transactional"] is False
    assert "older index" in finding.detail
    assert finding.remediation_sql is not None
    assert finding.remediation_sql.endswith('DROP INDEX CONCURRENTLY "public"."items_sku_b";')
    for f in found.values():
        execute_each(fresh_db, f.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "duplicate_index"), "duplicate_index") == set()


def test_duplicate_index_keeps_the_constraint_or_unique_index(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.accounts (id int, email text not null);
    create index accounts_email_plain on public.accounts (email);
    alter table public.accounts add constraint accounts_email_key unique (email);
    create unique index accounts_id_ux on public.accounts (id);
    create index accounts_id_plain on public.accounts (id);
    alter table public.accounts add constraint accounts_pkey primary key (id);
    """
    result = audit_sql(fresh_db, script, "duplicate_index")
    found = {f.key: f for f in only(result, "duplicate_index")}
    # The older plain index goes, the unique constraint stays; the PK outranks the older unique index.
    assert set(found) == {"public.accounts_email_plain", "public.accounts_id_ux", "public.accounts_id_plain"}
    assert found["public.accounts_email_plain"].evidence["kept_index"] == "public.accounts_email_key"
    assert "constraint accounts_email_key" in found["public.accounts_email_plain"].detail
    assert found["public.accounts_id_plain"].evidence["kept_index"] == "public.accounts_pkey"
    assert found["public.accounts_id_ux"].evidence["kept_constraint"] == "accounts_pkey"


def test_duplicate_index_never_weakens_a_uniqueness_guarantee(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.codes (a int, b int);
    -- ON CONFLICT and new foreign keys need the immediate unique index, not the deferrable constraint.
    create unique index codes_a_ux on public.codes (a);
    alter table public.codes add constraint codes_a_key unique (a) deferrable;
    create index codes_a_plain on public.codes (a);
    -- NULLS NOT DISTINCT is the stricter index: it is kept even though it is newer.
    create unique index codes_b_ux on public.codes (b);
    create unique index codes_b_nnd on public.codes (b) nulls not distinct;
    """
    result = audit_sql(fresh_db, script, "duplicate_index")
    found = {f.key: f for f in only(result, "duplicate_index")}
    assert set(found) == {"public.codes_a_plain", "public.codes_b_ux"}
    assert found["public.codes_b_ux"].evidence["kept_index"] == "public.codes_b_nnd"
    assert "NULLS NOT DISTINCT" in found["public.codes_b_ux"].detail


def test_duplicate_constraint_index_is_dropped_through_its_constraint(fresh_db: str, audit_sql: AuditSql) -> None:
    # CREATE TABLE silently merges a UNIQUE that repeats the primary key; ALTER TABLE does not.
    script = "create table public.users (id int primary key); alter table public.users add unique (id);"
    [finding] = only(audit_sql(fresh_db, script, "duplicate_index"), "duplicate_index")
    assert finding.key == "public.users_id_key"
    assert finding.evidence["constraint"] == "users_id_key"
    assert finding.evidence["kept_index"] == "public.users_pkey"
    assert finding.evidence["remediation_transactional"] is True
    assert "backs a constraint" in (finding.remediation_sql or "")
    assert (finding.remediation_sql or "").endswith('ALTER TABLE "public"."users" DROP CONSTRAINT "users_id_key";')
    execute_each(fresh_db, finding.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "duplicate_index"), "duplicate_index") == set()


def test_duplicate_index_used_by_a_foreign_key_is_swapped_safely(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.parents (id int not null);
    create unique index parents_id_ux on public.parents (id);
    create table public.children (parent_id int references public.parents (id));
    alter table public.parents add primary key (id);
    insert into public.parents values (1); insert into public.children values (1);
    """
    [finding] = only(audit_sql(fresh_db, script, "duplicate_index"), "duplicate_index")
    assert finding.key == "public.parents_id_ux"
    assert finding.evidence["kept_index"] == "public.parents_pkey"
    assert finding.evidence["foreign_keys_using_it"] == ["public.children:children_parent_id_fkey"]
    load_script = finding.remediation_sql or ""
    assert 'DROP INDEX "public"."parents_id_ux"' in load_script
    assert "NOT VALID" in load_script and "VALIDATE CONSTRAINT" in load_script
    result = audit_sql(fresh_db, load_script, "duplicate_index")
    assert keys(result, "duplicate_index") == set()
    [fk] = [c for c in result.snapshot.constraints if c.type == "f"]
    assert fk.name == "children_parent_id_fkey" and fk.validated


def test_duplicate_index_ignores_indexes_that_differ(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.docs (id int primary key, title text, body text, n int, flag bool);
    create index on public.docs (title);
    create index on public.docs (title desc);
    create index on public.docs (title) include (n);
    create index on public.docs (title) where flag;
    create index on public.docs (title text_pattern_ops);
    create index on public.docs (title collate "C");
    create index on public.docs (lower(title));
    create index on public.docs using hash (title);
    create index on public.docs (title, n);
    create index on public.docs (n, title);
    """
    assert keys(audit_sql(fresh_db, script, "duplicate_index"), "duplicate_index") == set()


def test_duplicate_index_on_partitioned_table_is_reported_on_the_parent(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.logs (id int, at date) partition by range (at);
    create table public.logs_2026 partition of public.logs for values from ('2026-01-01') to ('2027-01-01');
    create index logs_at_a on public.logs (at);
    create index logs_at_b on public.logs (at);
    """
    [finding] = only(audit_sql(fresh_db, script, "duplicate_index"), "duplicate_index")
    assert finding.key == "public.logs_at_b"
    assert (finding.remediation_sql or "").endswith('DROP INDEX "public"."logs_at_b";')
    execute_each(fresh_db, finding.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "duplicate_index"), "duplicate_index") == set()


# --------------------------------------------------------------------------------------------------
# unused_index
# --------------------------------------------------------------------------------------------------

USAGE_SCHEMA = """
create table public.owners (id int primary key);
insert into public.owners select g from generate_series(1, 10) g;
create table public.things (id int primary key, a int, b int, c int, owner_id int references public.owners,
                            kind text);
insert into public.things select g, g, g, g, 1 + g % 10, 'x' from generate_series(1, 200) g;
create index things_a_used on public.things (a);
create index things_b_unused on public.things (b);
create unique index things_c_unique on public.things (c);
create index things_owner_only_cover on public.things (owner_id);
create table public.pets (id int primary key, owner_id int references public.owners);
create index pets_owner_a on public.pets (owner_id);
create index pets_owner_b on public.pets (owner_id, id);
create table public.readings (id int, at date not null, v int) partition by range (at);
create table public.readings_2026 partition of public.readings for values from ('2026-01-01') to ('2027-01-01');
create index readings_v on public.readings (v);
create index readings_at on public.readings (at);
insert into public.readings values (1, '2026-02-01', 1);
"""


def _use_indexes(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("set enable_seqscan = off")
        conn.execute("set enable_bitmapscan = off")
        conn.execute("select * from public.things where a = 5").fetchall()
        conn.execute("select * from public.readings where at = '2026-02-01'").fetchall()
        flush_stats(conn)
    wait_for(
        dsn,
        "select (select idx_scan from pg_stat_user_indexes where indexrelname = 'things_a_used'),"
        " (select sum(idx_scan) from pg_stat_user_indexes where relname = 'readings_2026'"
        "  and indexrelname like '%at%')",
        lambda row: bool(row[0]) and bool(row[1]),
    )


def test_unused_index_reports_only_droppable_indexes(fresh_db: str, audit_sql: AuditSql) -> None:
    audit_sql(fresh_db, USAGE_SCHEMA, "unused_index", config=FRESH_STATS)
    _use_indexes(fresh_db)
    result = audit_sql(fresh_db, "", "unused_index", config=FRESH_STATS)
    found = {f.key: f for f in only(result, "unused_index")}
    # Used, unique, PK and the only cover of a foreign key stay; of two unused covers of one FK, one stays.
    # The partitioned index is judged once, over its partitions' scans.
    assert set(found) == {"public.things_b_unused", "public.pets_owner_b", "public.readings_v"}
    finding = found["public.things_b_unused"]
    assert finding.level == "info"
    assert finding.evidence["idx_scan"] == 0
    assert finding.evidence["stats_age_days"] is not None and finding.evidence["stats_since"]
    assert finding.evidence["definition"] == "CREATE INDEX things_b_unused ON public.things USING btree (b)"
    assert finding.evidence["remediation_transactional"] is False
    assert (finding.remediation_sql or "").endswith('DROP INDEX CONCURRENTLY "public"."things_b_unused";')
    assert found["public.pets_owner_b"].evidence["also_covers_foreign_keys"] == ["pets_owner_id_fkey"]
    assert (found["public.readings_v"].remediation_sql or "").endswith('DROP INDEX "public"."readings_v";')
    for f in found.values():
        execute_each(fresh_db, f.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "unused_index", config=FRESH_STATS), "unused_index") == set()


def test_unused_index_is_skipped_while_statistics_are_young(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, USAGE_SCHEMA, "unused_index", "table_bloat")
    assert result.findings == ()
    reasons = {s.check: s.reason for s in result.checks_skipped}
    assert set(reasons) == {"unused_index", "table_bloat"}
    assert reasons["unused_index"].startswith("statistics are only ")
    assert "hours old" in reasons["unused_index"] and "7 days" in reasons["unused_index"]


def test_unused_index_is_skipped_without_track_counts(fresh_db: str, audit_sql: AuditSql) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    script = USAGE_SCHEMA + f'alter database "{dbname}" set track_counts = off;'
    result = audit_sql(fresh_db, script, "unused_index", config=FRESH_STATS)
    [skipped] = result.checks_skipped
    assert skipped.check == "unused_index" and "track_counts is off" in skipped.reason


# --------------------------------------------------------------------------------------------------
# no_primary_key
# --------------------------------------------------------------------------------------------------


def test_no_primary_key_reports_tables_and_partitioned_parents_once(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.audit_rows (id int, payload text);
    create table public.accounts (email text not null, name text);
    create unique index accounts_email_ux on public.accounts (email);
    create table public.measurements (sensor int, at date) partition by range (at);
    create table public.measurements_2025 partition of public.measurements
        for values from ('2025-01-01') to ('2026-01-01');
    create table public.measurements_2026 partition of public.measurements
        for values from ('2026-01-01') to ('2027-01-01');
    -- healthy
    create table public.ok (id int primary key);
    create table public.parts (id int, at date, primary key (id, at)) partition by range (at);
    create table public.parts_2026 partition of public.parts for values from ('2026-01-01') to ('2027-01-01');
    create view public.v as select 1 as x;
    create schema auth;
    create table auth.flow_state (x int);
    """
    result = audit_sql(fresh_db, script, "no_primary_key")
    found = {f.key: f for f in only(result, "no_primary_key")}
    assert set(found) == {"public.audit_rows", "public.accounts", "public.measurements"}
    assert found["public.measurements"].evidence["kind"] == "partitioned table"
    assert found["public.measurements"].evidence["partitions"] == 2
    assert found["public.accounts"].evidence["unique_not_null_indexes"] == ["accounts_email_ux"]
    assert found["public.accounts"].level == "info"
    assert (found["public.accounts"].remediation_sql or "").endswith(
        'ALTER TABLE "public"."accounts" ADD CONSTRAINT "accounts_pkey" PRIMARY KEY USING INDEX "accounts_email_ux";'
    )
    assert (found["public.audit_rows"].remediation_sql or "").endswith(
        'ALTER TABLE "public"."audit_rows" ADD COLUMN "id1" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;'
    )
    for key in ("public.accounts", "public.audit_rows"):
        execute_each(fresh_db, found[key].remediation_sql)
    assert keys(audit_sql(fresh_db, "", "no_primary_key"), "no_primary_key") == {"public.measurements"}


# --------------------------------------------------------------------------------------------------
# table_bloat
# --------------------------------------------------------------------------------------------------

BLOAT_SCHEMA = """
create table public.queue (id int primary key, payload text) with (autovacuum_enabled = false);
insert into public.queue select g, 'x' from generate_series(1, 5000) g;
delete from public.queue where id <= 3000;
create table public.churn (id int primary key) with (autovacuum_enabled = false);
insert into public.churn select g from generate_series(1, 20000) g;
delete from public.churn where id <= 1500;
create table public.calm (id int primary key) with (autovacuum_enabled = false);
insert into public.calm select g from generate_series(1, 1000) g;
delete from public.calm where id <= 900;
"""
DEAD = (
    "select (select n_dead_tup from pg_stat_user_tables where relname = 'queue'),"
    " (select n_dead_tup from pg_stat_user_tables where relname = 'churn'),"
    " (select n_dead_tup from pg_stat_user_tables where relname = 'calm')"
)


def test_table_bloat_reports_dead_tuples_past_both_thresholds(fresh_db: str, audit_sql: AuditSql) -> None:
    audit_sql(fresh_db, BLOAT_SCHEMA, "table_bloat", config=FRESH_STATS)
    wait_for(fresh_db, DEAD, lambda row: row == (3000, 1500, 900))
    result = audit_sql(fresh_db, "", "table_bloat", config=FRESH_STATS)
    # churn: 1,500 dead is under 10 % of 18,500 live; calm: 900 dead is under 1,000.
    [finding] = only(result, "table_bloat")
    assert finding.key == "public.queue"
    assert finding.level == "info"
    ev = finding.evidence
    assert (ev["n_dead_tup"], ev["n_live_tup"], ev["dead_ratio"]) == (3000, 2000, 1.5)
    assert ev["last_vacuum"] is None and ev["last_autovacuum"] is None
    assert ev["autovacuum_enabled"] == "false"
    assert ev["stats_age_days"] is not None and ev["remediation_transactional"] is False
    assert (finding.remediation_sql or "").endswith('VACUUM (ANALYZE) "public"."queue";')

    strict = AuditConfig(min_stats_age_days=0, thresholds={"table_bloat.dead_ratio": 0.05})
    assert keys(audit_sql(fresh_db, "", "table_bloat", config=strict), "table_bloat") == {
        "public.queue",
        "public.churn",
    }

    execute_each(fresh_db, finding.remediation_sql)
    wait_for(fresh_db, DEAD, lambda row: row[0] == 0)
    assert keys(audit_sql(fresh_db, "", "table_bloat", config=FRESH_STATS), "table_bloat") == set()
