"""RLS checks: each with a schema that must trigger it and a healthy one that must not."""

from __future__ import annotations

from tests.checks.conftest import AuditSql, keys

OPEN_TABLE = """
create table public.invoices (id bigint primary key, total numeric);
revoke all on public.invoices from anon, authenticated;
grant select, insert on public.invoices to anon, authenticated;
"""


def test_rls_disabled_in_public_flags_an_open_table_and_gives_the_fix(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, OPEN_TABLE, "rls_disabled_in_public")
    [finding] = [f for f in result.findings if f.check == "rls_disabled_in_public"]
    assert finding.key == "public.invoices"
    assert finding.level == "error"
    assert finding.evidence["privileges"]["anon"] == ["SELECT", "INSERT"]
    assert finding.remediation_sql == 'ALTER TABLE "public"."invoices" ENABLE ROW LEVEL SECURITY;'


def test_rls_disabled_in_public_ignores_protected_private_and_ungranted_tables(
    supabase_db: str, audit_sql: AuditSql
) -> None:
    script = """
    create table public.protected (id int primary key);
    alter table public.protected enable row level security;
    create schema private;
    create table private.jobs (id int primary key);
    grant select on private.jobs to anon;
    create table public.backend_only (id int primary key);
    revoke all on public.backend_only from anon, authenticated;
    create table public.events (id int, at date) partition by range (at);
    alter table public.events enable row level security;
    create table public.events_2026 partition of public.events for values from ('2026-01-01') to ('2027-01-01');
    """
    assert keys(audit_sql(supabase_db, script, "rls_disabled_in_public"), "rls_disabled_in_public") == set()


def test_rls_disabled_in_public_without_supabase_roles_uses_public(fresh_db: str, audit_sql: AuditSql) -> None:
    script = "create table public.t (id int); grant select on public.t to public; create table public.u (id int);"
    assert keys(audit_sql(fresh_db, script, "rls_disabled_in_public"), "rls_disabled_in_public") == {"public.t"}


def test_policy_exists_rls_disabled(supabase_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.notes (id int primary key, owner uuid);
    create policy own on public.notes using ((select auth.uid()) = owner);
    create table public.ok (id int primary key, owner uuid);
    alter table public.ok enable row level security;
    create policy own on public.ok using ((select auth.uid()) = owner);
    """
    result = audit_sql(supabase_db, script, "policy_exists_rls_disabled")
    assert keys(result, "policy_exists_rls_disabled") == {"public.notes"}
    assert result.findings[0].evidence["policies"] == ["own"]


def test_rls_enabled_no_policy(supabase_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.locked (id int primary key);
    alter table public.locked enable row level security;
    create table public.ok (id int primary key);
    alter table public.ok enable row level security;
    create policy read_all on public.ok for select using (true);
    """
    result = audit_sql(supabase_db, script, "rls_enabled_no_policy")
    assert keys(result, "rls_enabled_no_policy") == {"public.locked"}


def test_hostile_names_stay_quoted_in_remediation(supabase_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public."Robert'); DROP TABLE ""students"";--" (id int);
    create table public."ünï cødé; x" (id int);
    grant select on all tables in schema public to anon;
    """
    result = audit_sql(supabase_db, script, "rls_disabled_in_public")
    sqls = {f.key: f.remediation_sql for f in result.findings}
    assert sqls['public.Robert\'); DROP TABLE "students";--'] == (
        'ALTER TABLE "public"."Robert\'); DROP TABLE ""students"";--" ENABLE ROW LEVEL SECURITY;'
    )
    assert sqls["public.ünï cødé; x"] == 'ALTER TABLE "public"."ünï cødé; x" ENABLE ROW LEVEL SECURITY;'
