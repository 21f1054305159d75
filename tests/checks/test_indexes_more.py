"""redundant_index, duplicate_vector_index and invalid_index: schemas that must trigger them and healthy ones."""

from __future__ import annotations

import dataclasses
import threading
import time

import psycopg
import pytest

from tests.checks.conftest import AuditSql, keys, snapshot_of
from tests.checks.test_indexes import execute_each, only
from workbench.core.checks import REGISTRY, AuditConfig, run_checks
from workbench.core.model import ProbeResult

# --------------------------------------------------------------------------------------------------
# redundant_index
# --------------------------------------------------------------------------------------------------

REDUNDANT_SCHEMA = """
create table public.customer_configs (id int primary key, domain text, active bool, region int, at date,
                                      label text);
-- seed 002 §2.2.2: the single-column index is a prefix of the composite one.
create index idx_customer_configs_domain on public.customer_configs (domain);
create index idx_customer_configs_domain_active on public.customer_configs (domain, active);
-- A chain: both narrower indexes are reported against the widest one.
create index cc_region on public.customer_configs (region);
create index cc_region_at on public.customer_configs (region, at);
create index cc_region_at_id on public.customer_configs (region, at, id);
-- A btree scans backwards: (at DESC) is served by (at, label) read in reverse.
create index cc_at_desc on public.customer_configs (at desc);
create index cc_at_label on public.customer_configs (at, label);
-- INCLUDE columns present among the cover's keys; same expression prefix; same predicate.
create index cc_label_incl on public.customer_configs (label) include (active);
create index cc_label_active on public.customer_configs (label, active);
create index cc_lower on public.customer_configs (lower(label));
create index cc_lower_id on public.customer_configs (lower(label), id);
create index cc_active_partial on public.customer_configs (id) where active;
create index cc_active_partial_wide on public.customer_configs (id, region) where active;
"""


def test_redundant_index_reports_prefixes_and_drops_them(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, REDUNDANT_SCHEMA, "redundant_index")
    assert result.checks_skipped == ()
    found = {f.key: f for f in only(result, "redundant_index")}
    assert {k: f.evidence["covering_index"] for k, f in found.items()} == {
        "public.idx_customer_configs_domain": "public.idx_customer_configs_domain_active",
        "public.cc_region": "public.cc_region_at_id",
        "public.cc_region_at": "public.cc_region_at_id",
        "public.cc_at_desc": "public.cc_at_label",
        "public.cc_label_incl": "public.cc_label_active",
        "public.cc_lower": "public.cc_lower_id",
        "public.cc_active_partial": "public.cc_active_partial_wide",
    }
    finding = found["public.idx_customer_configs_domain"]
    assert finding.level == "info"
    assert finding.object.kind == "index" and finding.object.table == "customer_configs"
    assert finding.fingerprint == "redundant_index:public.idx_customer_configs_domain"
    assert finding.evidence["covering_definition"] == (
        "CREATE INDEX idx_customer_configs_domain_active ON public.customer_configs USING btree (domain, active)"
    )
    assert finding.evidence["definition"].endswith("USING btree (domain)")
    assert finding.evidence["remediation_transactional"] is False
    assert "(domain) is a leading prefix of public.idx_customer_configs_domain_active" in finding.detail
    assert (finding.remediation_sql or "").endswith('DROP INDEX CONCURRENTLY "public"."idx_customer_configs_domain";')
    assert "lower(label)" in found["public.cc_lower"].detail
    for f in found.values():
        execute_each(fresh_db, f.remediation_sql)
    after = audit_sql(fresh_db, "", "redundant_index")
    assert keys(after, "redundant_index") == set()
    # Every cover survived the drops.
    assert {"cc_region_at_id", "cc_at_label", "cc_lower_id"} <= {ix.name for ix in after.snapshot.indexes}


def test_redundant_index_ignores_indexes_that_serve_other_scans(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.h (id int primary key, a text, b int, c int, flag bool,
                           exclude using btree (c with =));
    create unique index h_a_ux on public.h (a);                -- unique: enforces something
    create index h_a_b on public.h (a, b);
    create index h_id_a on public.h (id, a);                    -- the PK is a prefix, but it is unique
    create index h_b_flag on public.h (b) where flag;           -- another predicate than (b, c)
    create index h_b_c on public.h (b, c);
    create index h_a_pattern on public.h (a text_pattern_ops);  -- another operator class
    create index h_a_c_collate on public.h (a collate "C");     -- another collation
    create index h_b_hash on public.h using hash (b);           -- not a btree
    create index h_c_incl on public.h (c) include (a);          -- INCLUDE column the cover lacks
    create index h_c_b on public.h (c, b);
    create index h_b_desc_c on public.h (b desc, c);            -- mixed order: not a reversed (b, c)
    create index h_upper on public.h (upper(a));                -- another expression
    create index h_lower_b on public.h (lower(a), b);
    create index h_c_b_dup on public.h (c, b);                  -- an exact duplicate: duplicate_index's
    -- the FK's only cover would be kept anyway: (x) is covered only by a partial index with another predicate
    create table public.child (id int primary key, h_id int references public.h (id), flag bool);
    create index child_h on public.child (h_id);
    create index child_h_flag on public.child (h_id, id) where flag;
    """
    result = audit_sql(fresh_db, script, "redundant_index", "duplicate_index")
    assert keys(result, "redundant_index") == set()
    assert keys(result, "duplicate_index") == {"public.h_c_b_dup"}


def test_redundant_index_between_opposite_orders_reports_one(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.t (a int, b int);
    create index t_a_asc on public.t (a);
    create index t_a_desc on public.t (a desc);
    create table public.u (a int, b int);
    create index u_a_desc on public.u (a desc nulls last);       -- reversed: ASC NULLS FIRST, not (a)
    create index u_a on public.u (a);
    """
    [finding] = only(audit_sql(fresh_db, script, "redundant_index"), "redundant_index")
    assert finding.key == "public.t_a_desc"
    assert finding.evidence["covering_index"] == "public.t_a_asc"


def test_redundant_index_on_partitioned_table_is_reported_on_the_parent(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.logs (id int, at date, level text) partition by range (at);
    create table public.logs_2026 partition of public.logs for values from ('2026-01-01') to ('2027-01-01');
    create index logs_at on public.logs (at);
    create index logs_at_level on public.logs (at, level);
    """
    [finding] = only(audit_sql(fresh_db, script, "redundant_index"), "redundant_index")
    assert finding.key == "public.logs_at"
    assert finding.evidence["remediation_transactional"] is True
    assert (finding.remediation_sql or "").endswith('DROP INDEX "public"."logs_at";')
    execute_each(fresh_db, finding.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "redundant_index"), "redundant_index") == set()


# --------------------------------------------------------------------------------------------------
# duplicate_vector_index
# --------------------------------------------------------------------------------------------------


def _require_pgvector(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select 1 from pg_available_extensions where name = 'vector'").fetchone()
        version = conn.info.server_version // 10000
    if row is None:
        pytest.skip(f"the pgvector extension is not installed on this PostgreSQL {version} server")


VECTOR_SCHEMA = """
create extension vector;
create table public.page_embeddings (id bigint primary key, embedding vector(3), category text,
                                     title_embedding vector(3));
-- seed 002 §2.2.1: an IVFFlat and an HNSW index on the same column with the same operator class.
create index idx_page_embeddings_vector_ivfflat on public.page_embeddings
    using ivfflat (embedding vector_cosine_ops) with (lists = 1);
create index page_embeddings_embedding_hnsw_idx on public.page_embeddings using hnsw (embedding vector_cosine_ops);
-- Another operator class serves another distance operator: reported at level info.
create index page_embeddings_embedding_l2 on public.page_embeddings using hnsw (embedding vector_l2_ops);
-- Healthy: per-category partial indexes, and one index on another column.
create index page_embeddings_cat_a on public.page_embeddings using hnsw (embedding vector_cosine_ops)
    where category = 'a';
create index page_embeddings_cat_b on public.page_embeddings using hnsw (embedding vector_cosine_ops)
    where category = 'b';
create index page_embeddings_title on public.page_embeddings using hnsw (title_embedding vector_cosine_ops);
"""


def test_duplicate_vector_index_keeps_hnsw_and_flags_other_operators_as_info(
    fresh_db: str, audit_sql: AuditSql
) -> None:
    _require_pgvector(fresh_db)
    result = audit_sql(fresh_db, VECTOR_SCHEMA, "duplicate_vector_index", "duplicate_index")
    assert result.checks_skipped == ()
    found = {f.key: f for f in only(result, "duplicate_vector_index")}
    assert set(found) == {"public.idx_page_embeddings_vector_ivfflat", "public.page_embeddings_embedding_l2"}
    ivf = found["public.idx_page_embeddings_vector_ivfflat"]
    assert ivf.level == "warn"
    assert ivf.evidence["kept_index"] == "public.page_embeddings_embedding_hnsw_idx"
    assert ivf.evidence["kept_access_method"] == "hnsw" and ivf.evidence["access_method"] == "ivfflat"
    assert ivf.evidence["same_distance_operator"] is True
    assert ivf.evidence["column"] == "embedding"
    assert (ivf.remediation_sql or "").endswith(
        'DROP INDEX CONCURRENTLY "public"."idx_page_embeddings_vector_ivfflat";'
    )
    l2 = found["public.page_embeddings_embedding_l2"]
    assert l2.level == "info"
    assert l2.evidence["same_distance_operator"] is False
    assert l2.evidence["opclass"] == "vector_l2_ops" and l2.evidence["kept_opclass"] == "vector_cosine_ops"
    assert "different distance operator (<-> (L2 distance))" in l2.detail
    assert "<=> (cosine distance)" in l2.detail
    assert keys(result, "duplicate_index") == set()
    execute_each(fresh_db, ivf.remediation_sql)
    after = audit_sql(fresh_db, "", "duplicate_vector_index")
    assert keys(after, "duplicate_vector_index") == {"public.page_embeddings_embedding_l2"}


def test_duplicate_vector_index_leaves_exact_copies_to_duplicate_index(fresh_db: str, audit_sql: AuditSql) -> None:
    _require_pgvector(fresh_db)
    script = """
    create extension vector;
    create table public.docs (id int primary key, v vector(3));
    create index docs_v_a on public.docs using hnsw (v vector_l2_ops);
    create index docs_v_b on public.docs using hnsw (v vector_l2_ops);
    create table public.single (id int primary key, v vector(3));
    create index single_v on public.single using hnsw (v vector_l2_ops);
    """
    result = audit_sql(fresh_db, script, "duplicate_vector_index", "duplicate_index")
    assert keys(result, "duplicate_vector_index") == set()
    assert keys(result, "duplicate_index") == {"public.docs_v_b"}


# --------------------------------------------------------------------------------------------------
# invalid_index
# --------------------------------------------------------------------------------------------------

DUPLICATES = """
create table public.accounts (id int primary key, email text);
insert into public.accounts values (1, 'a@example.com'), (2, 'a@example.com'), (3, 'b@example.com');
"""


def _failed_unique_build(dsn: str) -> None:
    """A unique index built CONCURRENTLY on duplicate data fails and stays behind, INVALID."""
    with psycopg.connect(dsn, autocommit=True) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("create unique index concurrently accounts_email_ux on public.accounts (email)")


def test_invalid_index_left_by_a_failed_concurrent_build(fresh_db: str, audit_sql: AuditSql) -> None:
    audit_sql(fresh_db, DUPLICATES + "create index accounts_email_ok on public.accounts (email);", "invalid_index")
    _failed_unique_build(fresh_db)
    result = audit_sql(fresh_db, "", "invalid_index")
    assert result.checks_skipped == ()
    [finding] = only(result, "invalid_index")
    assert finding.key == "public.accounts_email_ux"
    assert finding.level == "warn"
    assert finding.object.kind == "index"
    ev = finding.evidence
    assert ev["is_unique"] is True and ev["is_ready"] is False
    assert ev["running_builds_checked"] is True
    assert ev["definition"] == "CREATE UNIQUE INDEX accounts_email_ux ON public.accounts USING btree (email)"
    assert ev["remediation_transactional"] is False
    assert "duplicate keys" in finding.detail
    assert (finding.remediation_sql or "").endswith('DROP INDEX CONCURRENTLY "public"."accounts_email_ux";')
    execute_each(fresh_db, finding.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "invalid_index"), "invalid_index") == set()


def test_invalid_index_is_not_reported_while_a_build_may_be_running(fresh_db: str, audit_sql: AuditSql) -> None:
    """A hidden build (another role's, without pg_read_all_stats) might be building any invalid index."""
    audit_sql(fresh_db, DUPLICATES, "invalid_index")
    _failed_unique_build(fresh_db)
    snapshot = snapshot_of(fresh_db)
    hidden = ProbeResult("index_builds", ({"pid": 1, "relid": None, "index_relid": None},))
    other = tuple(p for p in snapshot.probes if p.name != "index_builds")
    check = [REGISTRY["invalid_index"]]
    masked = run_checks(dataclasses.replace(snapshot, probes=(*other, hidden)), AuditConfig(), checks=check)
    assert masked.findings == ()
    unknown = ProbeResult("index_builds", skipped="permission denied")
    result = run_checks(dataclasses.replace(snapshot, probes=(*other, unknown)), AuditConfig(), checks=check)
    [finding] = result.findings
    assert finding.evidence["running_builds_checked"] is False


def test_invalid_index_ignores_a_concurrent_build_in_progress(fresh_db: str, audit_sql: AuditSql) -> None:
    audit_sql(fresh_db, "create table public.jobs (id int primary key, state text);", "invalid_index")
    writer = psycopg.connect(fresh_db)
    errors: list[BaseException] = []
    try:
        # An open transaction that wrote to the table makes CREATE INDEX CONCURRENTLY wait after it has
        # created its (still invalid) index.
        writer.execute("insert into public.jobs values (1, 'new')")

        def build() -> None:
            try:
                with psycopg.connect(fresh_db, autocommit=True) as conn:
                    conn.execute("create index concurrently jobs_state on public.jobs (state)")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        builder = threading.Thread(target=build)
        builder.start()
        deadline = time.monotonic() + 15
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            while not conn.execute("select 1 from pg_class where relname = 'jobs_state'").fetchone():
                assert time.monotonic() < deadline, "the concurrent build never started"
                time.sleep(0.05)
        result = audit_sql(fresh_db, "", "invalid_index")
        assert [ix.is_valid for ix in result.snapshot.indexes if ix.name == "jobs_state"] == [False]
        [builds] = [p for p in result.snapshot.probes if p.name == "index_builds"]
        assert [r["command"] for r in builds.rows] == ["CREATE INDEX CONCURRENTLY"]
        assert keys(result, "invalid_index") == set()
    finally:
        writer.commit()
        writer.close()
    builder.join(timeout=30)
    assert not builder.is_alive() and errors == []
    assert keys(audit_sql(fresh_db, "", "invalid_index"), "invalid_index") == set()


def test_invalid_partitioned_index_lists_the_partitions_it_waits_for(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.metrics (id int, at date) partition by range (at);
    create table public.metrics_2025 partition of public.metrics for values from ('2025-01-01') to ('2026-01-01');
    create table public.metrics_2026 partition of public.metrics for values from ('2026-01-01') to ('2027-01-01');
    create index metrics_at on only public.metrics (at);
    create index metrics_2025_at on public.metrics_2025 (at);
    alter index public.metrics_at attach partition public.metrics_2025_at;
    """
    [finding] = only(audit_sql(fresh_db, script, "invalid_index"), "invalid_index")
    assert finding.key == "public.metrics_at"
    assert finding.level == "info"
    assert finding.evidence["partitions_without_index"] == ["public.metrics_2026"]
    assert finding.remediation_sql is None
    fix = """
    create index metrics_2026_at on public.metrics_2026 (at);
    alter index public.metrics_at attach partition public.metrics_2026_at;
    """
    assert keys(audit_sql(fresh_db, fix, "invalid_index"), "invalid_index") == set()
