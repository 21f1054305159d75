"""Data-exposure checks: each with a schema that must trigger it and a healthy one that must not."""

from __future__ import annotations

import dataclasses
import json
import uuid

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.checks.conftest import AuditSql, keys, snapshot_of
from workbench.core.checks import REGISTRY, AuditConfig, AuditResult, run_checks
from workbench.core.checks.config import DEFAULT_SENSITIVE_COLUMNS
from workbench.core.checks.data_exposure import sensitive_pattern
from workbench.core.connections import open_session
from workbench.core.embedded import load_sql
from workbench.core.model import Extension, Finding, ProbeResult, Snapshot
from workbench.core.snapshot.probe_library import storage_buckets
from workbench.core.snapshot.probes import ProbeContext


def only(result: AuditResult, check_id: str) -> dict[str, Finding]:
    """The findings of one check by fingerprint, asserting one finding per fingerprint."""
    found = [f for f in result.findings if f.check == check_id]
    by_print = {f.fingerprint: f for f in found}
    assert len(by_print) == len(found), "one finding per object"
    json.dumps([f.as_json() for f in found])  # evidence must serialise
    return by_print


def fix(dsn: str, finding: Finding) -> None:
    """Run a finding's remediation script on the test database (proves the SQL is valid)."""
    assert finding.remediation_sql
    load_sql(dsn, finding.remediation_sql)


def run_on(snapshot: Snapshot, check_id: str) -> AuditResult:
    return run_checks(snapshot, AuditConfig(), checks=[REGISTRY[check_id]])


def as_role(dsn: str, role: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
        return conn.execute(query).fetchall()


# --- sensitive_columns_exposed ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("password", "password"),
        ("PASSWORD", "password"),
        ("api-key", "api_key"),
        ("user_password", "*_password"),
        ("Stripe-Secret", "*_secret"),
        ("github_access_token", "*_token"),
        ("token_count", None),
        ("password_updated_at", None),
        ("max_tokens", None),
        ("secretary", None),
        ("passwordless", None),
    ],
)
def test_sensitive_names_match_exactly_or_by_suffix(name: str, expected: str | None) -> None:
    assert sensitive_pattern(name, DEFAULT_SENSITIVE_COLUMNS) == expected


ACCOUNTS = """
create table public.accounts (
    id bigint primary key,
    email text,
    password text,
    "Stripe-Secret" text,
    token_count int,
    password_updated_at timestamptz,
    has_password boolean
);
insert into public.accounts values (1, 'a@example.com', 'hash', 'sk_live', 3, now(), true);
"""


def test_sensitive_columns_exposed_lists_the_columns_and_the_fix_hides_only_them(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    result = audit_sql(supabase_db, ACCOUNTS, "sensitive_columns_exposed")
    [finding] = only(result, "sensitive_columns_exposed").values()
    assert finding.key == "public.accounts"
    assert finding.level == "error"
    assert finding.evidence["rls_enabled"] is False
    # token_count, password_updated_at and the boolean has_password are not secrets.
    assert finding.evidence["columns"] == {
        "password": {"type": "text", "matches": "password", "readable_by": ["anon", "authenticated"]},
        "Stripe-Secret": {"type": "text", "matches": "*_secret", "readable_by": ["anon", "authenticated"]},
    }
    assert finding.remediation_sql is not None
    assert 'REVOKE SELECT ON "public"."accounts" FROM "anon", "authenticated";' in finding.remediation_sql

    fix(supabase_db, finding)
    assert as_role(supabase_db, "anon", "select id, email, token_count from public.accounts") == [
        (1, "a@example.com", 3)
    ]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_role(supabase_db, "anon", "select password from public.accounts")
    assert keys(audit_sql(supabase_db, "", "sensitive_columns_exposed"), "sensitive_columns_exposed") == set()


def test_sensitive_columns_exposed_ignores_protected_hidden_and_private_columns(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    create table public.with_rls (id int primary key, password text);
    alter table public.with_rls enable row level security;

    -- Column privileges keep the secret away from the API roles although RLS is off.
    create table public.column_grants (id int primary key, name text, api_key text);
    revoke all on public.column_grants from anon, authenticated;
    grant select (id, name) on public.column_grants to anon, authenticated;

    create schema private;
    create table private.credentials (id int primary key, secret text);
    grant select on private.credentials to anon;

    create table public.counters (id int primary key, token_count int, password_updated_at timestamptz);

    create table public.logins (id int, at date, password text) partition by range (at);
    alter table public.logins enable row level security;
    create table public.logins_2026 partition of public.logins for values from ('2026-01-01') to ('2027-01-01');
    """
    result = audit_sql(supabase_db, script, "sensitive_columns_exposed")
    assert keys(result, "sensitive_columns_exposed") == set()


def test_sensitive_columns_exposed_through_a_column_grant_revokes_that_grant(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    create table public.integrations (id int primary key, name text, api_key text);
    revoke all on public.integrations from anon, authenticated;
    grant select (id, api_key) on public.integrations to anon;
    """
    [finding] = only(audit_sql(supabase_db, script, "sensitive_columns_exposed"), "sensitive_columns_exposed").values()
    assert finding.evidence["columns"]["api_key"]["readable_by"] == ["anon"]
    assert "anon" not in finding.evidence["select_granted_to"]  # a column grant, not a table grant
    assert finding.remediation_sql is not None
    assert finding.remediation_sql.endswith('REVOKE SELECT ("api_key") ON "public"."integrations" FROM "anon";')
    fix(supabase_db, finding)
    assert as_role(supabase_db, "anon", "select id from public.integrations") == []
    assert keys(audit_sql(supabase_db, "", "sensitive_columns_exposed"), "sensitive_columns_exposed") == set()


def test_sensitive_columns_granted_to_public_are_revoked_from_public(fresh_db: str, audit_sql: AuditSql) -> None:
    # Without Supabase roles the API role is PUBLIC; with them (roles are cluster-wide) anon reads via PUBLIC.
    script = "create table public.users (id int, hashed_password text); grant select on public.users to public;"
    [finding] = only(audit_sql(fresh_db, script, "sensitive_columns_exposed"), "sensitive_columns_exposed").values()
    assert finding.evidence["columns"]["hashed_password"]["readable_by"]
    assert finding.remediation_sql is not None
    assert 'REVOKE SELECT ON "public"."users" FROM PUBLIC;' in finding.remediation_sql
    assert 'GRANT SELECT ("id") ON "public"."users" TO PUBLIC;' in finding.remediation_sql
    fix(fresh_db, finding)
    assert keys(audit_sql(fresh_db, "", "sensitive_columns_exposed"), "sensitive_columns_exposed") == set()


def test_sensitive_column_names_are_configurable(supabase_db: str, audit_sql: AuditSql) -> None:
    script = "create table public.patients (id int primary key, diagnosis text, password text);"
    config = AuditConfig(sensitive_columns=("diag*",))
    [finding] = only(
        audit_sql(supabase_db, script, "sensitive_columns_exposed", config=config), "sensitive_columns_exposed"
    ).values()
    assert list(finding.evidence["columns"]) == ["diagnosis"]


# --- fkey_to_auth_unique ----------------------------------------------------------------------------------------


def test_fkey_to_auth_unique_flags_the_phone_key_once_and_the_fix_drops_it(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    create table public.profiles (
        id uuid primary key references auth.users (id),
        phone text constraint profiles_phone_fkey references auth.users (phone)
    );
    create table public.calls (id int, at date, phone text references auth.users (phone)) partition by range (at);
    create table public.calls_2026 partition of public.calls for values from ('2026-01-01') to ('2027-01-01');
    """
    result = audit_sql(supabase_db, script, "fkey_to_auth_unique")
    found = {f.key: f for f in only(result, "fkey_to_auth_unique").values()}
    # The primary-key reference (profiles.id) is fine; the partition's copy of the FK is not reported again.
    assert set(found) == {"public.profiles:profiles_phone_fkey", "public.calls:calls_phone_fkey"}
    finding = found["public.profiles:profiles_phone_fkey"]
    assert finding.level == "error"
    assert finding.object.kind == "constraint"
    assert finding.evidence["referenced_table"] == "auth.users"
    assert finding.evidence["referenced_columns"] == ["phone"]
    assert finding.evidence["referenced_key"] == "users_phone_key"
    assert finding.evidence["primary_key_columns"] == ["id"]
    fix(supabase_db, finding)
    assert keys(audit_sql(supabase_db, "", "fkey_to_auth_unique"), "fkey_to_auth_unique") == {
        "public.calls:calls_phone_fkey"
    }


def test_fkey_to_auth_unique_ignores_primary_keys_and_unique_keys_outside_auth(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    create table public.members (id uuid primary key, handle text unique);
    create table public.posts (
        id int primary key,
        author uuid references auth.users (id),
        handle text references public.members (handle)
    );
    """
    assert keys(audit_sql(supabase_db, script, "fkey_to_auth_unique"), "fkey_to_auth_unique") == set()


# --- unsupported_reg_types --------------------------------------------------------------------------------------


def test_unsupported_reg_types_flags_stored_columns_and_the_fix_converts_them(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    create table public.hooks (
        id int primary key,
        handler regproc,
        fallbacks regprocedure[],
        target regclass,
        kind regtype,
        run_as regrole
    );
    insert into public.hooks values (1, 'now', array['upper(text)']::regprocedure[], 'pg_class', 'int4', 'postgres');
    create materialized view public.hook_handlers as select handler from public.hooks;
    create view public.hook_view as select handler from public.hooks;
    """
    result = audit_sql(supabase_db, script, "unsupported_reg_types")
    found = {f.key: f for f in only(result, "unsupported_reg_types").values()}
    assert set(found) == {"public.hooks.handler", "public.hooks.fallbacks", "public.hook_handlers.handler"}
    assert found["public.hooks.fallbacks"].evidence == {
        "type": "regprocedure[]",
        "reg_type": "regprocedure",
        "relation_kind": "table",
    }
    assert found["public.hooks.handler"].object.kind == "column"
    assert found["public.hooks.handler"].level == "warn"
    assert found["public.hook_handlers.handler"].remediation_sql is None  # a matview is recreated, not altered

    load_sql(supabase_db, "drop view public.hook_view; drop materialized view public.hook_handlers;")
    fix(supabase_db, found["public.hooks.handler"])
    fix(supabase_db, found["public.hooks.fallbacks"])
    with psycopg.connect(supabase_db) as conn:
        row = conn.execute("select handler, fallbacks from public.hooks").fetchone()
    assert row == ("now", ["upper(text)"])
    assert keys(audit_sql(supabase_db, "", "unsupported_reg_types"), "unsupported_reg_types") == set()


# --- insecure_queue_exposed_in_api ------------------------------------------------------------------------------

PGMQ = """
create schema pgmq;
grant usage on schema pgmq to anon, authenticated;
create table pgmq.q_emails (msg_id bigint primary key, read_ct int, message jsonb);
create table pgmq.a_emails (msg_id bigint primary key, message jsonb);
create table pgmq.q_audited (msg_id bigint primary key, message jsonb);
alter table pgmq.q_audited enable row level security;
create table pgmq.q_internal (msg_id bigint primary key, message jsonb);
grant select, insert, delete on pgmq.q_emails, pgmq.a_emails, pgmq.q_audited to anon, authenticated;
create table pgmq.meta (queue_name text);
grant select on pgmq.meta to anon;
"""


def test_insecure_queue_exposed_in_api_flags_open_queue_tables(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, PGMQ, "insecure_queue_exposed_in_api")
    [finding] = only(result, "insecure_queue_exposed_in_api").values()
    assert finding.key == "pgmq.q_emails"
    assert finding.level == "error"
    assert finding.evidence["queue"] == "emails"
    assert finding.evidence["privileges"]["anon"] == ["SELECT", "INSERT", "DELETE"]
    assert finding.remediation_sql == 'ALTER TABLE "pgmq"."q_emails" ENABLE ROW LEVEL SECURITY;'
    fix(supabase_db, finding)
    assert keys(audit_sql(supabase_db, "", "insecure_queue_exposed_in_api"), "insecure_queue_exposed_in_api") == set()


def test_insecure_queue_exposed_in_api_needs_schema_usage_and_is_not_skipped_without_pgmq(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    result = audit_sql(supabase_db, "", "insecure_queue_exposed_in_api")
    assert result.checks_run == ("insecure_queue_exposed_in_api",) and not result.findings

    no_usage = PGMQ + "revoke usage on schema pgmq from anon, authenticated;"
    result = audit_sql(supabase_db, no_usage, "insecure_queue_exposed_in_api")
    assert keys(result, "insecure_queue_exposed_in_api") == set()


# --- public_bucket_allows_listing -------------------------------------------------------------------------------

BUCKETS = """
insert into storage.buckets (id, name, public) values
    ('avatars', 'avatars', true), ('photos', 'photos', true), ('docs', 'docs', true),
    ('invoices', 'invoices', false), ('logos', 'logos', null);
create policy "Avatars are listable" on storage.objects for select to anon using (bucket_id = 'avatars');
create policy "Photos and more" on storage.objects for all to public using (bucket_id in ('photos', 'misc'));
create policy "Own docs" on storage.objects for select to authenticated
    using (bucket_id = 'docs' and owner = (select auth.uid()));
create policy "Docs folder" on storage.objects for select to anon
    using (bucket_id = 'docs' and (storage.foldername(name))[1] = 'public');
create policy "No rows" on storage.objects for select to anon;
create policy "Docs upload" on storage.objects for insert to authenticated with check (bucket_id = 'docs');
create policy "Invoices" on storage.objects for select to anon using (bucket_id = 'invoices');
create policy "Logos" on storage.objects for select to anon using (bucket_id = 'logos');
create policy "Service" on storage.objects for select to service_role using (bucket_id = 'docs');
"""


def test_public_bucket_allows_listing_flags_bucket_wide_select_policies(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, BUCKETS, "public_bucket_allows_listing")
    found = only(result, "public_bucket_allows_listing")
    assert set(found) == {
        "public_bucket_allows_listing:bucket:avatars",
        "public_bucket_allows_listing:bucket:photos",
    }
    avatars = found["public_bucket_allows_listing:bucket:avatars"]
    assert avatars.key == "bucket:avatars" and avatars.object.kind == "bucket"
    assert avatars.level == "warn"
    assert avatars.evidence["bucket"] == {"id": "avatars", "name": "avatars", "public": True}
    assert avatars.evidence["listable_by"] == ["anon"]
    [policy] = avatars.evidence["policies"]
    assert policy["policy"] == "Avatars are listable"
    assert policy["opens"] == ["avatars"]
    photos = found["public_bucket_allows_listing:bucket:photos"]
    assert photos.evidence["listable_by"] == ["anon", "authenticated"]
    assert photos.evidence["policies"][0]["opens"] == ["misc", "photos"]

    for finding in found.values():
        fix(supabase_db, finding)  # drops the listing policies; making the bucket private stays a comment
    assert keys(audit_sql(supabase_db, "", "public_bucket_allows_listing"), "public_bucket_allows_listing") == set()
    with psycopg.connect(supabase_db) as conn:
        assert conn.execute("select count(*) from storage.buckets where public").fetchone() == (3,)


def test_public_bucket_allows_listing_respects_restrictive_policies(supabase_db: str, audit_sql: AuditSql) -> None:
    script = """
    insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true), ('photos', 'photos', true);
    create policy "List all" on storage.objects for select to anon, authenticated using (true);
    -- anon may only ever see its own folder: the permissive policy no longer lists whole buckets for anon.
    create policy "Own folder" on storage.objects as restrictive for select to anon
        using ((storage.foldername(name))[1] = 'anon');
    -- authenticated users are restricted to avatars: photos cannot be listed by them.
    create policy "Avatars only" on storage.objects as restrictive for all to authenticated
        using (bucket_id = 'avatars');
    """
    result = audit_sql(supabase_db, script, "public_bucket_allows_listing")
    [finding] = only(result, "public_bucket_allows_listing").values()
    assert finding.fingerprint == "public_bucket_allows_listing:bucket:avatars"
    assert finding.evidence["listable_by"] == ["authenticated"]
    assert [p["policy"] for p in finding.evidence["policies"]] == ["List all"]


def test_public_bucket_allows_listing_with_an_always_true_policy_or_rls_off(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true), ('safe', 'safe', false);
    create policy "Read all" on storage.objects for select using (1 = 1 or owner = (select auth.uid()));
    """
    result = audit_sql(supabase_db, script, "public_bucket_allows_listing")
    [finding] = only(result, "public_bucket_allows_listing").values()
    assert finding.evidence["policies"][0]["opens"] == "every bucket"
    assert finding.evidence["listable_by"] == ["anon", "authenticated"]

    script = 'drop policy "Read all" on storage.objects; alter table storage.objects disable row level security;'
    [finding] = only(
        audit_sql(supabase_db, script, "public_bucket_allows_listing"), "public_bucket_allows_listing"
    ).values()
    assert finding.evidence["storage_objects_rls_enabled"] is False
    assert finding.evidence["policies"] == []
    fix(supabase_db, finding)
    assert keys(audit_sql(supabase_db, "", "public_bucket_allows_listing"), "public_bucket_allows_listing") == set()


def test_public_bucket_allows_listing_runs_without_storage(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, "", "public_bucket_allows_listing")
    assert result.checks_run == ("public_bucket_allows_listing",) and not result.checks_skipped


def test_storage_buckets_probe_refuses_to_read_buckets_hidden_by_rls(supabase_db: str, audit_sql: AuditSql) -> None:
    auditor = f"wb_auditor_{uuid.uuid4().hex[:8]}"
    load_sql(
        supabase_db,
        f"""
        insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true);
        create policy "Avatars" on storage.objects for select to anon using (bucket_id = 'avatars');
        create role {auditor} login;
        grant usage on schema storage to {auditor};
        grant select on storage.buckets to {auditor};
        """,
    )
    try:
        as_auditor = make_conninfo(supabase_db, user=auditor)
        assert conninfo_to_dict(as_auditor)["user"] == auditor
        result = run_on(snapshot_of(as_auditor), "public_bucket_allows_listing")
        [skipped] = result.checks_skipped
        assert skipped.check == "public_bucket_allows_listing"
        assert "row-level security" in skipped.reason
        # The superuser reads every bucket.
        assert keys(run_on(snapshot_of(supabase_db), "public_bucket_allows_listing"), "public_bucket_allows_listing")
    finally:
        load_sql(supabase_db, f"drop owned by {auditor}; drop role {auditor};")


def test_hostile_bucket_and_policy_names_cannot_escape_the_remediation_comments(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    insert into storage.buckets (id, name, public) values (E'x\nDROP TABLE auth.users; --', 'x', true);
    create policy "list
    DROP TABLE auth.users; --" on storage.objects for select to anon
        using (bucket_id = E'x\nDROP TABLE auth.users; --');
    """
    [finding] = only(
        audit_sql(supabase_db, script, "public_bucket_allows_listing"), "public_bucket_allows_listing"
    ).values()
    fix(supabase_db, finding)
    with psycopg.connect(supabase_db) as conn:
        assert conn.execute("select to_regclass('auth.users') is not null").fetchone() == (True,)
        assert conn.execute("select count(*) from pg_policy").fetchone() == (0,)


def test_storage_buckets_probe_restores_row_security(supabase_db: str) -> None:
    load_sql(supabase_db, "insert into storage.buckets (id, name, public) values ('a', 'a', true), ('b', 'b', false);")
    with open_session(supabase_db) as session:
        ctx = ProbeContext(session, 0, frozenset())
        assert storage_buckets(ctx) == [
            {"id": "a", "name": "a", "public": True},
            {"id": "b", "name": "b", "public": False},
        ]
        setting = session.conn.execute("select current_setting('row_security')").fetchone()
    assert setting == ("on",)


# --- pg_graphql_anon_table_exposed / pg_graphql_authenticated_table_exposed -------------------------------------

GRAPHQL = """
create table public.items (id int primary key, name text);
create view public.item_names as select name from public.items;
create table public.hidden (id int primary key);
revoke all on public.hidden from anon, authenticated;
create table public.partial (id int primary key, secret_note text);
revoke all on public.partial from anon;
grant select (id) on public.partial to anon;
alter table public.partial enable row level security;
create schema private;
create table private.jobs (id int primary key);
grant select on private.jobs to anon, authenticated;
create table public.events (id int, at date) partition by range (at);
create table public.events_2026 partition of public.events for values from ('2026-01-01') to ('2027-01-01');
"""


def with_pg_graphql(snapshot: Snapshot) -> Snapshot:
    """pg_graphql is not available on the test servers: add its catalog entry to a real snapshot."""
    graphql = Extension("pg_graphql", "graphql", "1.5.11", "1.5.11")
    return dataclasses.replace(snapshot, extensions=(*snapshot.extensions, graphql))


def test_pg_graphql_checks_list_what_each_role_can_introspect(supabase_db: str) -> None:
    load_sql(supabase_db, GRAPHQL)
    snapshot = snapshot_of(supabase_db)
    for check_id in ("pg_graphql_anon_table_exposed", "pg_graphql_authenticated_table_exposed"):
        result = run_on(snapshot, check_id)  # without pg_graphql: ran, nothing to report
        assert result.checks_run == (check_id,) and not result.findings

    snapshot = with_pg_graphql(snapshot)
    anon = {
        f.key: f
        for f in only(run_on(snapshot, "pg_graphql_anon_table_exposed"), "pg_graphql_anon_table_exposed").values()
    }
    authenticated = only(
        run_on(snapshot, "pg_graphql_authenticated_table_exposed"), "pg_graphql_authenticated_table_exposed"
    )
    # private.jobs: no USAGE on the schema; public.hidden: no grant; the partition: through its parent.
    assert set(anon) == {"public.items", "public.item_names", "public.partial", "public.events"}
    assert {f.key for f in authenticated.values()} == set(anon)
    assert anon["public.items"].level == "warn"
    assert anon["public.items"].evidence["select"] == "table"
    assert anon["public.items"].evidence["granted_to"] == ["anon"]
    assert anon["public.item_names"].object.kind == "view"
    partial = anon["public.partial"]
    assert partial.evidence["select"] == ["id"]
    assert partial.evidence["rls_enabled"] is True  # RLS hides rows, not the table's shape

    for finding in anon.values():
        fix(supabase_db, finding)
    after = with_pg_graphql(snapshot_of(supabase_db))
    assert keys(run_on(after, "pg_graphql_anon_table_exposed"), "pg_graphql_anon_table_exposed") == set()
    assert keys(
        run_on(after, "pg_graphql_authenticated_table_exposed"), "pg_graphql_authenticated_table_exposed"
    ) == set(anon)


def test_pg_graphql_grant_through_public_is_revoked_from_public(supabase_db: str) -> None:
    load_sql(
        supabase_db,
        "create table public.catalog (id int); revoke all on public.catalog from anon, authenticated;"
        "grant select on public.catalog to public;",
    )
    snapshot = with_pg_graphql(snapshot_of(supabase_db))
    [finding] = only(run_on(snapshot, "pg_graphql_anon_table_exposed"), "pg_graphql_anon_table_exposed").values()
    assert finding.evidence["granted_to"] == ["PUBLIC"]
    assert finding.remediation_sql == 'REVOKE SELECT ON "public"."catalog" FROM PUBLIC;'


def test_probe_result_of_a_snapshot_without_the_probe_skips_the_bucket_check(supabase_db: str) -> None:
    snapshot = snapshot_of(supabase_db)
    probes = tuple(p for p in snapshot.probes if p.name != "storage_buckets")
    result = run_on(dataclasses.replace(snapshot, probes=probes), "public_bucket_allows_listing")
    assert [s.reason for s in result.checks_skipped] == ["the storage_buckets probe did not run"]
    skipped = (*probes, ProbeResult("storage_buckets", skipped="permission denied: for table buckets"))
    result = run_on(dataclasses.replace(snapshot, probes=skipped), "public_bucket_allows_listing")
    assert [s.reason for s in result.checks_skipped] == [
        "storage.buckets could not be read: permission denied: for table buckets"
    ]
