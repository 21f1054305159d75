"""Security checks beyond RLS: each with a schema that must trigger it and a healthy one that must not."""

from __future__ import annotations

import dataclasses

import psycopg
import pytest

from tests.checks.conftest import AuditSql, keys, snapshot_of
from workbench.core.checks import REGISTRY, AuditConfig, AuditResult, run_checks
from workbench.core.checks.exposure import SUPABASE_API_ROLES
from workbench.core.embedded import load_sql
from workbench.core.model import Extension, Finding, Level, Snapshot


def only(result: AuditResult, check_id: str) -> dict[str, Finding]:
    """The findings of one check, by object key (one finding per object)."""
    found = [f for f in result.findings if f.check == check_id]
    by_key = {f.key: f for f in found}
    assert len(by_key) == len(found), "one finding per object"
    return by_key


def scalar(dsn: str, query: str) -> object:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    return row[0] if row else None


def fix(dsn: str, finding: Finding) -> None:
    """Run a finding's remediation script on the test database (proves the SQL is valid)."""
    assert finding.remediation_sql
    load_sql(dsn, finding.remediation_sql)


def run_on(snapshot: Snapshot, check_id: str, config: AuditConfig | None = None) -> AuditResult:
    return run_checks(snapshot, config or AuditConfig(), checks=[REGISTRY[check_id]])


def plain_audit(dsn: str, script: str, check_id: str, config: AuditConfig | None = None) -> AuditResult:
    """Audit as a plain (non-Supabase) database: roles are cluster-wide, so a Supabase-scaffolded database
    elsewhere on the test server may have created anon/authenticated; hide them from this snapshot."""
    if script:
        load_sql(dsn, script)
    snapshot = snapshot_of(dsn)
    plain = dataclasses.replace(snapshot, roles=tuple(r for r in snapshot.roles if r.name not in SUPABASE_API_ROLES))
    return run_on(plain, check_id, config)


# --- security_definer_view --------------------------------------------------------------------------------------

VIEWS = """
create table public.docs (id int primary key, owner uuid, body text);
alter table public.docs enable row level security;
create policy own on public.docs for select to authenticated using ((select auth.uid()) = owner);
create view public.all_docs as select id, body from public.docs;

create table public.tags (id int primary key, name text);
create view public.tag_names as select name from public.tags;
"""


def test_security_definer_view_bypassing_rls_is_an_error_and_the_fix_works(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    result = audit_sql(supabase_db, VIEWS, "security_definer_view")
    found = only(result, "security_definer_view")
    assert set(found) == {"public.all_docs", "public.tag_names"}

    bypass = found["public.all_docs"]
    assert bypass.level == Level.ERROR
    assert bypass.object.kind == "view"
    assert bypass.evidence["reloptions"] == []
    assert bypass.evidence["security_invoker_supported"] is True
    assert bypass.evidence["readable_by"] == ["anon", "authenticated"]
    assert {"anon", "authenticated"} <= set(bypass.evidence["select_grantees"]["table"])
    [base] = bypass.evidence["base_tables"]
    assert base == {
        "table": "public.docs",
        "kind": "table",
        "rls_enabled": True,
        "rls_forced": False,
        "read_as": "postgres",
        "read_as_bypasses_rls": True,
    }
    assert "bypasses row level security on public.docs" in bypass.detail
    assert bypass.remediation_sql == 'ALTER VIEW "public"."all_docs" SET (security_invoker = true);'

    # No base table has RLS: the view only lends its owner's grants, a warning.
    lend = found["public.tag_names"]
    assert lend.level == Level.WARN
    assert lend.evidence["base_tables"] == [
        {"table": "public.tags", "kind": "table", "rls_enabled": False, "rls_forced": False, "read_as": "postgres"}
    ]

    fix(supabase_db, bypass)
    fix(supabase_db, lend)
    assert keys(audit_sql(supabase_db, "", "security_definer_view"), "security_definer_view") == set()


def test_security_definer_view_ignores_invoker_private_and_unreadable_views(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    create table public.docs (id int primary key, owner uuid);
    alter table public.docs enable row level security;
    create view public.v_on with (security_invoker = on) as select id from public.docs;
    create view public.v_yes with (security_invoker = yes) as select id from public.docs;
    create view public.v_one as select id from public.docs;
    alter view public.v_one set (security_invoker = 1);
    create schema private;
    create view private.report as select id from public.docs;
    grant usage on schema private to anon;
    grant select on private.report to anon;
    create view public.backend_only as select id from public.docs;
    revoke all on public.backend_only from anon, authenticated;
    """
    assert keys(audit_sql(supabase_db, script, "security_definer_view"), "security_definer_view") == set()


def test_security_definer_view_follows_nested_views_and_column_grants(supabase_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.secrets (id int primary key, value text);
    alter table public.secrets enable row level security;
    create schema private;
    create view private.inner_v as select id, value from public.secrets;
    create view public.outer_v as select id, value from private.inner_v;
    revoke all on public.outer_v from anon, authenticated;
    grant select (id) on public.outer_v to anon;
    do $$ begin
        if not exists (select 1 from pg_roles where rolname = 'wb_reporter') then create role wb_reporter; end if;
    end $$;
    alter view private.inner_v owner to wb_reporter;
    """
    found = only(audit_sql(supabase_db, script, "security_definer_view"), "security_definer_view")
    outer = found["public.outer_v"]
    assert outer.level == Level.ERROR
    assert outer.evidence["readable_by"] == ["anon"]
    assert outer.evidence["select_grantees"]["columns"] == {"id": ["anon"]}
    # The table is read by the inner view's owner, which is subject to the table's policies.
    [base] = outer.evidence["base_tables"]
    assert (base["table"], base["read_as"], base["read_as_bypasses_rls"]) == ("public.secrets", "wb_reporter", False)
    assert "After this the API roles need their own SELECT on: private.inner_v." in (outer.remediation_sql or "")


def test_security_definer_view_without_supabase_roles_uses_public(fresh_db: str) -> None:
    script = """
    create table public.t (id int);
    create view public.open_v as select id from public.t;
    grant select on public.open_v to public;
    create view public.closed_v as select id from public.t;
    """
    found = only(plain_audit(fresh_db, script, "security_definer_view"), "security_definer_view")
    assert set(found) == {"public.open_v"}
    assert found["public.open_v"].evidence["readable_by"] == ["PUBLIC"]
    assert found["public.open_v"].level == Level.WARN


def test_security_definer_view_before_pg15_is_reported_with_a_workaround(supabase_db: str) -> None:
    load_sql(supabase_db, VIEWS + "alter view public.tag_names set (security_invoker = true);")
    # PostgreSQL 14 has no security_invoker: the same catalog read as a PG 14 snapshot must report both views.
    as_pg14 = dataclasses.replace(snapshot_of(supabase_db), server_version_num=140011, server_version="14.11")
    found = only(run_on(as_pg14, "security_definer_view"), "security_definer_view")
    assert set(found) == {"public.all_docs", "public.tag_names"}
    finding = found["public.all_docs"]
    assert finding.level == Level.ERROR
    assert finding.evidence["security_invoker_supported"] is False
    script = finding.remediation_sql or ""
    assert "PostgreSQL 14 has no security_invoker" in script
    assert "security_barrier" in script and "schema the API does not expose" in script
    assert "ALTER VIEW" not in script
    assert script.endswith('REVOKE SELECT ON "public"."all_docs" FROM "anon", "authenticated";')

    fix(supabase_db, finding)
    as_pg14 = dataclasses.replace(snapshot_of(supabase_db), server_version_num=140011)
    assert "public.all_docs" not in only(run_on(as_pg14, "security_definer_view"), "security_definer_view")


# --- auth_users_exposed -----------------------------------------------------------------------------------------

AUTH_VIEWS = """
create view public.user_emails as select id, email from auth.users;
create materialized view public.user_directory as select id, email from auth.users;
create schema private;
create view private.users_definer as select id, email from auth.users;
grant usage on schema private to anon;
grant select on private.users_definer to anon;
create view public.users_nested with (security_invoker = true) as select id, email from private.users_definer;
create materialized view private.users_copy as select id, email from auth.users;
grant select on private.users_copy to authenticated;
create view public.from_copy with (security_invoker = true) as select id from private.users_copy;
"""


def test_auth_users_exposed_through_views_and_matviews(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, AUTH_VIEWS, "auth_users_exposed")
    found = only(result, "auth_users_exposed")
    assert set(found) == {"public.user_emails", "public.user_directory", "public.users_nested", "public.from_copy"}

    view = found["public.user_emails"]
    assert view.level == Level.ERROR
    assert view.evidence["dependency_path"] == ["public.user_emails", "auth.users"]
    assert view.evidence["security_invoker"] is False
    assert view.evidence["auth_users_rls_enabled"] is False
    assert view.evidence["readable_by"] == ["anon", "authenticated"]
    assert view.evidence["columns"] == ["id", "email"]
    assert "with its owner's privileges" in view.detail

    assert found["public.user_directory"].object.kind == "materialized_view"
    assert "copy" in found["public.user_directory"].detail

    # An invoker view over a definer view: only anon can read the inner view, so only anon gets the rows.
    nested = found["public.users_nested"]
    assert nested.evidence["dependency_path"] == ["public.users_nested", "private.users_definer", "auth.users"]
    assert nested.evidence["readable_by"] == ["anon"]
    assert "private.users_definer, which runs as its owner" in nested.detail

    # An invoker view over a materialized copy of auth.users, readable by authenticated only.
    copy = found["public.from_copy"]
    assert copy.evidence["dependency_path"] == ["public.from_copy", "private.users_copy", "auth.users"]
    assert copy.evidence["readable_by"] == ["authenticated"]
    assert "copied into materialized view private.users_copy" in copy.detail

    for finding in found.values():
        fix(supabase_db, finding)
    assert keys(audit_sql(supabase_db, "", "auth_users_exposed"), "auth_users_exposed") == set()


def test_auth_users_exposed_ignores_invoker_views_under_rls_and_private_views(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    alter table auth.users enable row level security;
    create policy self on auth.users for select to authenticated using (id = (select auth.uid()));
    grant select on auth.users to authenticated;
    create view public.me with (security_invoker = true) as select id, email from auth.users;
    create schema private;
    create view private.all_users as select id, email from auth.users;
    create view public.not_users as select 1 as one;
    -- An invoker view over a definer view the API roles cannot read fails for them: nothing leaks.
    create view public.broken with (security_invoker = true) as select id from private.all_users;
    """
    assert keys(audit_sql(supabase_db, script, "auth_users_exposed"), "auth_users_exposed") == set()


def test_auth_users_exposed_flags_an_invoker_view_while_auth_users_has_no_rls(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    grant select on auth.users to authenticated;
    create view public.me with (security_invoker = true) as select id, email from auth.users;
    """
    found = only(audit_sql(supabase_db, script, "auth_users_exposed"), "auth_users_exposed")
    assert found["public.me"].evidence["readable_by"] == ["authenticated"]  # anon cannot read auth.users
    assert "while auth.users has RLS disabled" in found["public.me"].detail


def test_auth_users_exposed_is_skipped_without_auth_users(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, "", "auth_users_exposed")
    assert [(s.check, s.reason) for s in result.checks_skipped] == [
        ("auth_users_exposed", "there is no auth.users table in this database")
    ]


# --- function_search_path_mutable -------------------------------------------------------------------------------


def test_function_search_path_mutable_flags_unpinned_functions_and_the_fix_works(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    create function public.total(o int) returns numeric language plpgsql
        as $$ begin return (select sum(amount) from orders where id = o); end $$;
    create function public.elevate() returns void language sql security definer as $$ select 1 $$;
    create procedure public.purge(days int) language plpgsql as $$ begin perform days; end $$;
    """
    result = audit_sql(supabase_db, script, "function_search_path_mutable")
    found = only(result, "function_search_path_mutable")
    # Procedures' identity arguments carry the mode since PostgreSQL 14: the key is what the server deparses.
    assert set(found) == {"public.total(o integer)", "public.elevate()", "public.purge(IN days integer)"}
    total = found["public.total(o integer)"]
    assert total.level == Level.WARN
    assert total.object.kind == "function"
    assert total.evidence == {"proconfig": [], "language": "plpgsql", "security_definer": False, "owner": "postgres"}
    assert total.remediation_sql is not None
    assert total.remediation_sql.endswith(
        'ALTER FUNCTION "public"."total"(o integer) SET search_path = "pg_catalog", "public", "extensions", "pg_temp";'
    )
    assert found["public.elevate()"].evidence["security_definer"] is True
    assert (found["public.purge(IN days integer)"].remediation_sql or "").endswith(
        'ALTER PROCEDURE "public"."purge"(IN days integer) SET search_path = "pg_catalog", "public", "extensions", '
        '"pg_temp";'
    )

    for finding in found.values():
        fix(supabase_db, finding)
    assert keys(audit_sql(supabase_db, "", "function_search_path_mutable"), "function_search_path_mutable") == set()


def test_function_search_path_mutable_skips_pinned_aggregates_standard_bodies_and_system(
    fresh_db: str, audit_sql: AuditSql
) -> None:
    ext = next(
        e
        for e in ("citext", "vector", "hstore")
        if scalar(fresh_db, f"select 1 from pg_available_extensions where name = '{e}'")
    )
    script = f"""
    create extension {ext};  -- extension members in public are not the developers' to fix
    create function public.pinned_empty() returns int language sql set search_path = '' as $$ select 1 $$;
    create function public.pinned_public() returns int language sql set search_path = public as $$ select 1 $$;
    create function public.atomic_body(a int) returns int language sql begin atomic select a + 1; end;
    create function public.return_body(a int) returns int language sql return a + 1;
    create aggregate public.my_sum(int) (sfunc = int4pl, stype = int);
    create schema storage;
    create function storage.platform() returns int language sql as $$ select 1 $$;
    """
    assert keys(audit_sql(fresh_db, script, "function_search_path_mutable"), "function_search_path_mutable") == set()


# --- security_definer_function_executable -----------------------------------------------------------------------

SECDEF = """
create function public.grant_admin(uid uuid) returns void language sql security definer set search_path = ''
    as $$ select null $$;
create function public.members_only() returns int language sql security definer set search_path = ''
    as $$ select 1 $$;
revoke execute on function public.members_only() from public, anon;
"""


def test_security_definer_function_executable_levels_evidence_and_fix(supabase_db: str, audit_sql: AuditSql) -> None:
    check_id = "security_definer_function_executable"
    found = only(audit_sql(supabase_db, SECDEF, check_id), check_id)
    assert set(found) == {"public.grant_admin(uid uuid)", "public.members_only()"}

    anon = found["public.grant_admin(uid uuid)"]
    assert anon.level == Level.ERROR
    assert anon.evidence["executable_by"] == ["anon", "authenticated", "PUBLIC"]
    assert {"PUBLIC", "anon", "authenticated", "service_role"} <= set(anon.evidence["execute_grantees"])
    assert anon.evidence["owner"] == "postgres" and anon.evidence["owner_superuser"] is True
    assert anon.evidence["proconfig"] == ['search_path=""']
    assert anon.remediation_sql == (
        '-- If signed-in users must keep calling it: GRANT EXECUTE ON FUNCTION "public"."grant_admin"(uid uuid) '
        'TO "authenticated";\n'
        'REVOKE EXECUTE ON FUNCTION "public"."grant_admin"(uid uuid) FROM PUBLIC, "anon";'
    )

    signed_in = found["public.members_only()"]
    assert signed_in.level == Level.WARN
    assert signed_in.evidence["executable_by"] == ["authenticated"]
    assert (signed_in.remediation_sql or "").endswith(
        'REVOKE EXECUTE ON FUNCTION "public"."members_only"() FROM "authenticated";'
    )

    fix(supabase_db, anon)
    after = only(audit_sql(supabase_db, "", check_id), check_id)
    assert after["public.grant_admin(uid uuid)"].level == Level.WARN  # authenticated keeps its explicit grant
    assert after["public.grant_admin(uid uuid)"].evidence["executable_by"] == ["authenticated"]
    fix(supabase_db, after["public.grant_admin(uid uuid)"])
    fix(supabase_db, signed_in)
    assert keys(audit_sql(supabase_db, "", check_id), check_id) == set()


def test_security_definer_function_executable_ignores_safe_functions(supabase_db: str, audit_sql: AuditSql) -> None:
    script = """
    create function public.invoker() returns int language sql as $$ select 1 $$;
    create function public.on_insert() returns trigger language plpgsql security definer set search_path = ''
        as $$ begin return new; end $$;
    create function public.locked() returns int language sql security definer as $$ select 1 $$;
    revoke execute on function public.locked() from public, anon, authenticated;
    create schema private;
    create function private.helper() returns int language sql security definer as $$ select 1 $$;
    grant usage on schema private to anon;
    """
    check_id = "security_definer_function_executable"
    assert keys(audit_sql(supabase_db, script, check_id), check_id) == set()


def test_security_definer_function_executable_needs_schema_usage(fresh_db: str) -> None:
    check_id = "security_definer_function_executable"
    config = AuditConfig(exposed_schemas=("api",))
    script = """
    create schema api;
    create function api."weird""; name"(a int) returns int language sql security definer as $$ select a $$;
    """
    # EXECUTE is granted to PUBLIC by default, but PUBLIC cannot reach schema api yet.
    assert keys(plain_audit(fresh_db, script, check_id, config), check_id) == set()
    found = only(plain_audit(fresh_db, "grant usage on schema api to public;", check_id, config), check_id)
    finding = found['api.weird"; name(a integer)']
    assert finding.level == Level.ERROR
    assert finding.evidence["executable_by"] == ["PUBLIC"]
    assert finding.remediation_sql == 'REVOKE EXECUTE ON FUNCTION "api"."weird""; name"(a integer) FROM PUBLIC;'
    fix(fresh_db, finding)
    assert keys(plain_audit(fresh_db, "", check_id, config), check_id) == set()


# --- extension_in_public ----------------------------------------------------------------------------------------


def _available(dsn: str, *names: str) -> str | None:
    for name in names:
        if scalar(dsn, f"select 1 from pg_available_extensions where name = '{name}'"):
            return name
    return None


def test_extension_in_public_and_the_fix(fresh_db: str) -> None:
    ext = _available(fresh_db, "citext", "vector", "hstore")
    if ext is None:
        pytest.skip("none of citext, vector, hstore is available on this server")
    found = only(plain_audit(fresh_db, f"create extension {ext};", "extension_in_public"), "extension_in_public")
    assert set(found) == {f"extension:{ext}"}  # plpgsql (also in pg_catalog) is never reported
    finding = found[f"extension:{ext}"]
    assert finding.level == Level.WARN
    assert finding.object.kind == "extension"
    assert finding.evidence["schema"] == "public" and finding.evidence["relocatable"] is True
    assert (finding.remediation_sql or "").endswith(
        'CREATE SCHEMA IF NOT EXISTS "extensions";\n'
        'GRANT USAGE ON SCHEMA "extensions" TO PUBLIC;\n'
        f'ALTER EXTENSION "{ext}" SET SCHEMA "extensions";'
    )
    fix(fresh_db, finding)
    assert keys(plain_audit(fresh_db, "", "extension_in_public"), "extension_in_public") == set()


def test_extension_in_public_non_relocatable_gets_a_plan_not_a_failing_statement() -> None:
    snapshot = Snapshot(
        database="x",
        server_version="16.2",
        server_version_num=160002,
        current_user="postgres",
        collected_at="2026-01-01T00:00:00Z",
        stats_since=None,
        extensions=(
            Extension("plpgsql", "public", "1.0", "1.0"),
            Extension("pg_net", "public", "0.10.0", "0.10.0", relocatable=False),
        ),
    )
    found = only(run_on(snapshot, "extension_in_public"), "extension_in_public")
    assert set(found) == {"extension:pg_net"}
    script = found["extension:pg_net"].remediation_sql or ""
    assert all(line.startswith("--") for line in script.splitlines())
    assert "not relocatable" in script


# --- extension_versions_outdated --------------------------------------------------------------------------------


def test_extension_versions_outdated_and_the_fix(fresh_db: str, audit_sql: AuditSql) -> None:
    # An older version that has its own install script, so CREATE EXTENSION ... VERSION works.
    candidates = {"hstore": "1.4", "citext": "1.4", "cube": "1.2", "pg_trgm": "1.3"}
    chosen = next(
        (
            (name, version)
            for name, version in candidates.items()
            if scalar(
                fresh_db,
                f"select 1 from pg_available_extension_versions where name = '{name}' and version = '{version}'",
            )
        ),
        None,
    )
    if chosen is None:
        server = scalar(fresh_db, "show server_version")
        pytest.skip(
            f"PostgreSQL {server} offers no extension with an older installable version (hstore 1.4, citext 1.4, "
            "cube 1.2 or pg_trgm 1.3); the logic is covered by test_extension_versions_outdated_needs_a_known_default"
        )
    name, version = chosen
    check_id = "extension_versions_outdated"
    found = only(audit_sql(fresh_db, f"create extension {name} version '{version}';", check_id), check_id)
    assert set(found) == {f"extension:{name}"}  # plpgsql is at its default version
    finding = found[f"extension:{name}"]
    default = scalar(fresh_db, f"select default_version from pg_available_extensions where name = '{name}'")
    assert finding.evidence == {"installed_version": version, "default_version": default, "schema": "public"}
    assert finding.remediation_sql == f'ALTER EXTENSION "{name}" UPDATE;'
    fix(fresh_db, finding)
    assert keys(audit_sql(fresh_db, "", check_id), check_id) == set()


def test_extension_versions_outdated_needs_a_known_default() -> None:
    snapshot = Snapshot(
        database="x",
        server_version="16.2",
        server_version_num=160002,
        current_user="postgres",
        collected_at="2026-01-01T00:00:00Z",
        stats_since=None,
        extensions=(
            Extension("vector", "extensions", "0.5.1", "0.6.2"),
            Extension("gone", "public", "1.0", None),  # control file removed: nothing to update to
            Extension("plpgsql", "pg_catalog", "1.0", "1.0"),
        ),
    )
    found = only(run_on(snapshot, "extension_versions_outdated"), "extension_versions_outdated")
    assert set(found) == {"extension:vector"}
    assert found["extension:vector"].detail == "Extension vector is at version 0.5.1; the server provides 0.6.2."


# --- materialized_view_in_api -----------------------------------------------------------------------------------


def test_materialized_view_in_api_and_the_fix(supabase_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.orders (id int primary key, total numeric);
    alter table public.orders enable row level security;
    create materialized view public.order_totals as select sum(total) as total from public.orders;
    create materialized view public.columns_only as select id from public.orders;
    revoke all on public.columns_only from anon, authenticated;
    grant select (id) on public.columns_only to anon;
    create schema private;
    create materialized view private.report as select id from public.orders;
    create materialized view public.backend as select id from public.orders;
    revoke all on public.backend from anon, authenticated;
    """
    check_id = "materialized_view_in_api"
    found = only(audit_sql(supabase_db, script, check_id), check_id)
    assert set(found) == {"public.order_totals", "public.columns_only"}
    totals = found["public.order_totals"]
    assert totals.level == Level.WARN
    assert totals.object.kind == "materialized_view"
    assert totals.evidence["readable_by"] == ["anon", "authenticated"]
    assert totals.evidence["base_tables"] == [{"table": "public.orders", "rls_enabled": True}]
    assert totals.remediation_sql == 'REVOKE SELECT ON "public"."order_totals" FROM "anon", "authenticated";'
    columns = found["public.columns_only"]
    assert columns.evidence["select_grantees"]["columns"] == {"id": ["anon"]}
    assert columns.remediation_sql == 'REVOKE SELECT ON "public"."columns_only" FROM "anon";'
    for finding in found.values():
        fix(supabase_db, finding)
    assert keys(audit_sql(supabase_db, "", check_id), check_id) == set()


# --- foreign_table_in_api ---------------------------------------------------------------------------------------


def test_foreign_table_in_api_with_file_fdw_or_postgres_fdw(supabase_db: str, audit_sql: AuditSql) -> None:
    fdw = _available(supabase_db, "file_fdw", "postgres_fdw")
    if fdw is None:
        version = scalar(supabase_db, "show server_version")
        pytest.skip(f"neither file_fdw nor postgres_fdw is available on PostgreSQL {version}")
    options = "options (filename '/dev/null')" if fdw == "file_fdw" else "options (table_name 'x')"
    script = f"""
    create extension {fdw};
    create server remote foreign data wrapper {fdw};
    create foreign table public.remote_orders (id int) server remote {options};
    create schema private;
    create foreign table private.remote_users (id int) server remote {options};
    grant usage on schema private to anon;
    grant select on private.remote_users to anon;
    """
    found = only(audit_sql(supabase_db, script, "foreign_table_in_api"), "foreign_table_in_api")
    assert set(found) == {"public.remote_orders"}
    finding = found["public.remote_orders"]
    assert finding.level == Level.WARN
    assert finding.object.kind == "foreign_table"
    assert finding.evidence["readable_by"] == ["anon", "authenticated"]
    fix(supabase_db, finding)
    assert keys(audit_sql(supabase_db, "", "foreign_table_in_api"), "foreign_table_in_api") == set()


def test_foreign_table_in_api_without_any_fdw_extension(fresh_db: str) -> None:
    # A wrapper without handler is enough to create (not to query) a foreign table: runs on every server.
    script = """
    create foreign data wrapper wb_nohandler;
    create server nowhere foreign data wrapper wb_nohandler;
    create foreign table public.remote (id int) server nowhere;
    grant select on public.remote to public;
    create foreign table public.unshared (id int) server nowhere;
    """
    found = only(plain_audit(fresh_db, script, "foreign_table_in_api"), "foreign_table_in_api")
    assert set(found) == {"public.remote"}
    assert found["public.remote"].evidence["readable_by"] == ["PUBLIC"]
    assert found["public.remote"].remediation_sql == 'REVOKE SELECT ON "public"."remote" FROM PUBLIC;'
    fix(fresh_db, found["public.remote"])
    assert keys(plain_audit(fresh_db, "", "foreign_table_in_api"), "foreign_table_in_api") == set()
