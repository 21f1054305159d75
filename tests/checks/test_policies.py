"""Policy checks: each with a schema that must trigger it and a healthy one that must not; fixes are executed."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg import sql

from tests.checks.conftest import AuditSql, keys, snapshot_of
from workbench.core.checks.policies import parsed_policy, wrap_calls
from workbench.core.embedded import load_sql
from workbench.core.model import Finding

U1 = "00000000-0000-0000-0000-000000000001"
U2 = "00000000-0000-0000-0000-000000000002"
U3 = "00000000-0000-0000-0000-000000000003"


def findings(result: Any, check_id: str) -> dict[str, Finding]:
    """Findings of one check by fingerprint."""
    return {f.fingerprint: f for f in result.findings if f.check == check_id}


def as_user(dsn: str, query: str, claims: dict[str, Any], role: str = "authenticated") -> list[Any] | str:
    """Run ``query`` as an API role with the given JWT claims (rolled back); rows, or the error message."""
    with psycopg.connect(dsn) as conn:
        try:
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
            cur = conn.execute(query)
            return cur.fetchall() if cur.description else [cur.rowcount]
        except psycopg.errors.InsufficientPrivilege as exc:
            return str(exc).splitlines()[0]
        finally:
            conn.rollback()


def create_login_role(name: str) -> str:
    """SQL creating a cluster-wide login role once (roles outlive the per-test databases)."""
    return f"""
    do $$ begin
        if not exists (select 1 from pg_catalog.pg_roles where rolname = '{name}') then
            create role {name} login;
        end if;
    end $$;
    """


# --- auth_rls_initplan ------------------------------------------------------------------------------------------

INITPLAN = f"""
create table public.members (user_id uuid primary key);
create table public.docs (id int primary key, owner uuid, tenant text);
alter table public.docs enable row level security;
insert into public.members values ('{U1}');
insert into public.docs values (1, '{U1}', 't1'), (2, '{U1}', 't2'), (3, '{U2}', 't1'), (4, '{U3}', 't3');

-- unwrapped: must be reported
create policy own_rows on public.docs for select to authenticated using (auth.uid() = owner);
create policy tenant_update on public.docs for update to authenticated
    using ((select auth.uid()) = owner)
    with check (current_setting('request.jwt.claims', true)::jsonb ->> 'tenant' = tenant);
create policy members_insert on public.docs for insert to authenticated
    with check (auth.uid() in (select user_id from public.members) and auth.role() = 'authenticated');
-- inside a sub-select that reads a table, the call runs for every row it reads (as splinter reports too)
create policy member_delete on public.docs for delete to authenticated
    using (owner in (select user_id from public.members m where m.user_id = auth.uid()));
-- correlated: the sub-select, and the call in it, run again for every row of docs
create policy member_read on public.docs for select to authenticated
    using (exists (select 1 from public.members m where m.user_id = docs.owner and m.user_id = auth.uid()));

-- wrapped in a scalar sub-select of its own, at any depth: must not be reported
create policy tenant_read on public.docs for select to authenticated
    using ((select auth.jwt() ->> 'tenant') = tenant);
create table public.notes (id int primary key, owner uuid);
alter table public.notes enable row level security;
create policy member_notes on public.notes for select to authenticated
    using (exists (select 1 from public.members m where m.user_id = notes.owner and m.user_id = (select auth.uid())));

-- realtime is in scope (as in splinter); storage and tables without RLS are not
create schema realtime;
create table realtime.messages (id bigint primary key, topic text);
alter table realtime.messages enable row level security;
create policy topic_owner on realtime.messages for select to authenticated using (topic = auth.uid()::text);
create policy own_objects on storage.objects for select to authenticated using (owner = auth.uid());
create table public.no_rls (id int, owner uuid);
create policy own on public.no_rls using (owner = auth.uid());
"""


def test_auth_rls_initplan_reports_unwrapped_calls_per_policy(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, INITPLAN, "auth_rls_initplan")
    found = findings(result, "auth_rls_initplan")
    assert set(found) == {
        "auth_rls_initplan:public.docs:own_rows",
        "auth_rls_initplan:public.docs:tenant_update",
        "auth_rls_initplan:public.docs:members_insert",
        "auth_rls_initplan:public.docs:member_delete",
        "auth_rls_initplan:public.docs:member_read",
        "auth_rls_initplan:realtime.messages:topic_owner",
    }
    own = found["auth_rls_initplan:public.docs:own_rows"]
    assert own.level == "warn" and own.category == "performance"
    assert own.object.kind == "policy" and own.object.table == "docs"
    assert own.evidence["unwrapped_calls"] == {"USING": ["auth.uid()"]}
    assert own.remediation_sql == ('ALTER POLICY "own_rows" ON "public"."docs" USING (((select auth.uid()) = owner));')
    # only WITH CHECK is unwrapped: USING is left alone
    update = found["auth_rls_initplan:public.docs:tenant_update"]
    assert update.evidence["unwrapped_calls"] == {"WITH CHECK": ["current_setting()"]}
    assert update.remediation_sql is not None
    assert " USING " not in update.remediation_sql
    assert "(select current_setting('request.jwt.claims'::text, true))" in update.remediation_sql
    # the test expression of `x IN (select ...)` runs per row: reported, the sub-select itself is kept
    insert = found["auth_rls_initplan:public.docs:members_insert"]
    assert insert.evidence["unwrapped_calls"] == {"WITH CHECK": ["auth.uid()", "auth.role()"]}
    # in a sub-select: the call is wrapped where it stands, the sub-select is kept
    read = found["auth_rls_initplan:public.docs:member_read"]
    assert read.evidence["unwrapped_calls"] == {"USING": ["auth.uid()"]}
    assert read.remediation_sql is not None and "(m.user_id = (select auth.uid()))" in read.remediation_sql
    assert "EXISTS ( SELECT 1" in read.remediation_sql


def test_auth_rls_initplan_fix_removes_the_finding_and_keeps_the_rows(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, INITPLAN, "auth_rls_initplan")
    statements = [f.remediation_sql for f in result.findings if f.check == "auth_rls_initplan"]
    assert len(statements) == 6 and all(statements)

    probes = [
        ("SELECT id FROM public.docs ORDER BY id", {"sub": U1, "tenant": "t3"}),
        ("SELECT id FROM public.docs ORDER BY id", {"sub": U2, "tenant": "t2"}),
        ("SELECT id FROM public.docs ORDER BY id", {}),
        ("UPDATE public.docs SET tenant = 't9' WHERE id = 1", {"sub": U1, "tenant": "t9"}),
        ("UPDATE public.docs SET tenant = 't9' WHERE id = 1", {"sub": U1, "tenant": "t1"}),
        (f"INSERT INTO public.docs VALUES (10, '{U1}', 't1')", {"sub": U1, "role": "authenticated"}),
        (f"INSERT INTO public.docs VALUES (11, '{U2}', 't1')", {"sub": U2, "role": "authenticated"}),
    ]
    before = [as_user(supabase_db, q, claims) for q, claims in probes]
    assert before[0] == [(1,), (2,), (4,)] and before[3] == [1]
    assert isinstance(before[4], str) and "row-level security" in before[4]  # WITH CHECK rejects t1
    assert before[5] == [1] and isinstance(before[6], str)

    load_sql(supabase_db, "\n".join(s for s in statements if s))
    after = audit_sql(supabase_db, "", "auth_rls_initplan")
    assert keys(after, "auth_rls_initplan") == set()
    assert [as_user(supabase_db, q, claims) for q, claims in probes] == before
    own = next(p for p in after.snapshot.policies if p.name == "own_rows")
    assert own.using is not None and "SELECT auth.uid()" in own.using


def test_wrap_calls_changes_only_the_calls_the_tree_reported() -> None:
    text = "((auth.uid() = owner) AND (note <> 'auth.uid()'::text) AND (x IN ( SELECT auth.uid() AS uid)))"
    assert wrap_calls(text, ["auth.uid"]) == (
        "(((select auth.uid()) = owner) AND (note <> 'auth.uid()'::text) AND (x IN ( SELECT auth.uid() AS uid)))"
    )
    quoted = """("Auth".uid() = current_setting('a''b'::text))"""
    assert wrap_calls(quoted, ["Auth.uid", "pg_catalog.current_setting"]) == (
        """((select "Auth".uid()) = (select current_setting('a''b'::text)))"""
    )
    # text and tree disagree (two calls reported, one printed): no rewrite is offered
    assert wrap_calls("(auth.uid() = owner)", ["auth.uid", "auth.uid"]) is None
    # a call in a sub-select that has a FROM is wrapped in place; FROM inside a function call does not count
    nested = (
        "(EXISTS ( SELECT 1 FROM members m WHERE ((m.user_id = auth.uid()) AND (m.since < ( SELECT "
        "EXTRACT(epoch FROM now()) AS x)))))"
    )
    assert wrap_calls(nested, ["auth.uid"]) == nested.replace("= auth.uid())", "= (select auth.uid()))")
    assert wrap_calls("( SELECT (EXTRACT(epoch FROM auth.uid_time()) > 0) AS ok)", ["auth.uid_time"]) is None


def test_parsed_policy_is_cached_per_snapshot(supabase_db: str, load_sql: Any) -> None:
    load_sql(supabase_db, INITPLAN)
    snapshot = snapshot_of(supabase_db)
    pol = next(p for p in snapshot.policies if p.name == "own_rows")
    assert parsed_policy(snapshot, pol) is parsed_policy(snapshot, pol)


# --- rls_policy_always_true -------------------------------------------------------------------------------------

ALWAYS_TRUE = """
create table public.posts (id int primary key, author uuid, published boolean);
alter table public.posts enable row level security;
create policy anyone_inserts on public.posts for insert to anon, authenticated with check (true);
create policy anyone_updates on public.posts for update using (1 = 1);
create policy or_true on public.posts for all to authenticated using (author = (select auth.uid()) or true);
create policy check_true on public.posts for update to authenticated
    using ((select auth.uid()) = author) with check (true);
"""

ALWAYS_TRUE_HEALTHY = """
create table public.posts (id int primary key, author uuid, published boolean);
alter table public.posts enable row level security;
create policy public_read on public.posts for select using (true);
create policy own_insert on public.posts for insert to authenticated with check ((select auth.uid()) = author);
create policy own_update on public.posts for update to authenticated using ((select auth.uid()) = author);
create policy backend on public.posts for all to service_role using (true) with check (true);
create policy floor on public.posts as restrictive for delete using (true);
create policy no_check on public.posts for insert to anon;
create policy no_using on public.posts for update to anon with check (true);
"""


def test_rls_policy_always_true_flags_open_writes(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, ALWAYS_TRUE, "rls_policy_always_true")
    found = {f.key: f for f in result.findings}
    assert set(found) == {
        "public.posts:anyone_inserts",
        "public.posts:anyone_updates",
        "public.posts:or_true",
        "public.posts:check_true",
    }
    assert all(f.level == "warn" and f.category == "security" for f in found.values())
    assert found["public.posts:anyone_inserts"].evidence["always_true"] == ["WITH CHECK"]
    assert found["public.posts:anyone_inserts"].evidence["applies_to"] == ["anon", "authenticated"]
    assert found["public.posts:anyone_updates"].evidence["always_true"] == ["USING", "WITH CHECK"]
    assert found["public.posts:anyone_updates"].evidence["roles"] == ["PUBLIC"]
    assert found["public.posts:or_true"].evidence["always_true"] == ["USING", "WITH CHECK"]
    assert found["public.posts:check_true"].evidence["always_true"] == ["WITH CHECK"]

    load_sql(supabase_db, "\n".join(f.remediation_sql or "" for f in found.values()))
    assert keys(audit_sql(supabase_db, "", "rls_policy_always_true"), "rls_policy_always_true") == set()


def test_rls_policy_always_true_allows_public_read_and_scoped_writes(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, ALWAYS_TRUE_HEALTHY, "rls_policy_always_true")
    assert keys(result, "rls_policy_always_true") == set()


def test_rls_policy_always_true_without_supabase_roles_uses_public(fresh_db: str, audit_sql: AuditSql) -> None:
    script = (
        create_login_role("wb_policy_app_reader")
        + """
    create table public.t (id int);
    alter table public.t enable row level security;
    create policy open_delete on public.t for delete using (true);
    create policy reader_delete on public.t for delete to wb_policy_app_reader using (true);
    """
    )
    try:
        result = audit_sql(fresh_db, script, "rls_policy_always_true")
        assert keys(result, "rls_policy_always_true") == {"public.t:open_delete"}
    finally:
        load_sql(fresh_db, "drop policy if exists reader_delete on public.t; drop role if exists wb_policy_app_reader;")


# --- rls_references_user_metadata -------------------------------------------------------------------------------

USER_METADATA = """
create table public.reports (id int primary key, org text, owner uuid);
alter table public.reports enable row level security;
create policy jwt_admin on public.reports using ((select auth.jwt() -> 'user_metadata' ->> 'role') = 'admin');
create policy claims_org on public.reports for select
    using (org = current_setting('request.jwt.claims', true)::jsonb #>> '{user_metadata,org}');
create policy users_table on public.reports for update using (
    exists (select 1 from auth.users u
            where u.id = (select auth.uid()) and u.raw_user_meta_data ->> 'org' = reports.org));

-- healthy: app_metadata, a constant that merely spells user_metadata, the owner check
create policy app_meta on public.reports for select using ((select auth.jwt() -> 'app_metadata' ->> 'org') = org);
create policy literal on public.reports for select using (org <> 'user_metadata');
create policy own on public.reports for delete using (owner = (select auth.uid()));
"""


def test_rls_references_user_metadata(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, USER_METADATA, "rls_references_user_metadata")
    found = {f.key: f for f in result.findings}
    assert set(found) == {"public.reports:jwt_admin", "public.reports:claims_org", "public.reports:users_table"}
    assert all(f.level == "error" for f in found.values())
    assert found["public.reports:jwt_admin"].evidence["reads"] == {"USING": ["auth.jwt() -> 'user_metadata'"]}
    assert found["public.reports:claims_org"].evidence["reads"] == {
        "USING": ["current_setting('request.jwt.claims') -> 'user_metadata'"]
    }
    assert found["public.reports:users_table"].evidence["reads"] == {"USING": ["auth.users.raw_user_meta_data"]}


# --- multiple_permissive_policies -------------------------------------------------------------------------------

MULTIPLE = f"""
create table public.projects (id int primary key, owner uuid, public boolean);
alter table public.projects enable row level security;
insert into public.projects values (1, '{U1}', false), (2, '{U2}', true), (3, '{U2}', false);
create policy own_select on public.projects for select to authenticated using ((select auth.uid()) = owner);
create policy public_select on public.projects for select to authenticated using (public);
create policy everyone_modify on public.projects for all using ((select auth.uid()) = owner);
create policy everyone_delete on public.projects for delete using (false);
create policy floor on public.projects as restrictive for select to authenticated using (id > 0);
create policy admin_1 on public.projects for update to service_role using (true);
create policy admin_2 on public.projects for update to service_role using (true);
"""


def test_multiple_permissive_policies_one_finding_per_table_and_command(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, MULTIPLE, "multiple_permissive_policies")
    found = findings(result, "multiple_permissive_policies")
    assert set(found) == {
        "multiple_permissive_policies:public.projects:SELECT",
        "multiple_permissive_policies:public.projects:DELETE",
    }
    select = found["multiple_permissive_policies:public.projects:SELECT"]
    assert select.key == "public.projects" and select.level == "warn" and select.category == "performance"
    # ALL expands to SELECT; the restrictive floor is not counted; PUBLIC is not expanded per role
    assert select.evidence["roles"] == {"authenticated": ["everyone_modify", "own_select", "public_select"]}
    assert select.remediation_sql is None  # commands differ: merging is a design decision
    delete = found["multiple_permissive_policies:public.projects:DELETE"]
    assert delete.evidence["roles"] == {"PUBLIC": ["everyone_delete", "everyone_modify"]}


def test_multiple_permissive_policies_merge_keeps_the_rows(supabase_db: str, audit_sql: AuditSql) -> None:
    script = f"""
    create table public.projects (id int primary key, owner uuid, public boolean);
    alter table public.projects enable row level security;
    insert into public.projects values (1, '{U1}', false), (2, '{U2}', true), (3, '{U2}', false);
    create policy own_select on public.projects for select to authenticated using ((select auth.uid()) = owner);
    create policy public_select on public.projects for select to authenticated using (public);
    """
    result = audit_sql(supabase_db, script, "multiple_permissive_policies")
    [finding] = result.findings
    assert finding.fingerprint == "multiple_permissive_policies:public.projects:SELECT"
    assert finding.remediation_sql is not None
    query = "SELECT id FROM public.projects ORDER BY id"
    before = [as_user(supabase_db, query, {"sub": u}) for u in (U1, U2, U3)]
    assert before == [[(1,), (2,)], [(2,), (3,)], [(2,)]]

    load_sql(supabase_db, finding.remediation_sql)
    after = audit_sql(supabase_db, "", "multiple_permissive_policies")
    assert keys(after, "multiple_permissive_policies") == set()
    assert [p.name for p in after.snapshot.policies] == ["own_select"]
    assert [as_user(supabase_db, query, {"sub": u}) for u in (U1, U2, U3)] == before


def test_multiple_permissive_policies_healthy(supabase_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.projects (id int primary key, owner uuid);
    alter table public.projects enable row level security;
    create policy own_select on public.projects for select to authenticated using ((select auth.uid()) = owner);
    create policy anon_select on public.projects for select to anon using (false);
    create policy own_write on public.projects for insert to authenticated with check ((select auth.uid()) = owner);
    create policy floor on public.projects as restrictive for all to authenticated using (owner is not null);
    create policy no_check on public.projects for insert to authenticated;
    """
    assert keys(audit_sql(supabase_db, script, "multiple_permissive_policies"), "multiple_permissive_policies") == set()


# --- rls_command_gap --------------------------------------------------------------------------------------------

COMMAND_GAP = """
create table public.sessions (id int primary key, site_id int);
alter table public.sessions enable row level security;
create policy sessions_select_accessible on public.sessions for select to authenticated using (site_id > 0);

-- healthy: every granted command has a policy; writes revoked; no policy at all (another check)
create table public.sites (id int primary key, owner uuid);
alter table public.sites enable row level security;
create policy sites_select on public.sites for select to authenticated using ((select auth.uid()) = owner);
create policy sites_modify on public.sites for all to authenticated using ((select auth.uid()) = owner);
create table public.calls (id int primary key);
alter table public.calls enable row level security;
create policy calls_select on public.calls for select to authenticated using (true);
revoke insert, update, delete on public.calls from anon, authenticated;
create table public.locked (id int primary key);
alter table public.locked enable row level security;
"""


def test_rls_command_gap_lists_uncovered_commands_and_revoke_closes_it(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, COMMAND_GAP, "rls_command_gap")
    [finding] = [f for f in result.findings if f.check == "rls_command_gap"]
    assert finding.key == "public.sessions" and finding.level == "info"
    assert finding.evidence["uncovered_commands"] == ["INSERT", "UPDATE", "DELETE"]
    assert finding.evidence["privilege_holders"]["INSERT"] == ["anon", "authenticated"]
    assert finding.remediation_sql is not None
    assert finding.remediation_sql.endswith(
        'REVOKE INSERT, UPDATE, DELETE ON "public"."sessions" FROM "anon", "authenticated";'
    )

    load_sql(supabase_db, finding.remediation_sql)
    assert keys(audit_sql(supabase_db, "", "rls_command_gap"), "rls_command_gap") == set()


# --- rls_not_forced ---------------------------------------------------------------------------------------------

NOT_FORCED = (
    create_login_role("wb_policy_app_owner")
    + """
create table public.ledger (id int primary key);
alter table public.ledger enable row level security;
alter table public.ledger owner to wb_policy_app_owner;

-- healthy: forced; owned by a superuser; owned by a role that cannot log in; RLS off (another check)
create table public.forced (id int primary key);
alter table public.forced enable row level security, force row level security;
alter table public.forced owner to wb_policy_app_owner;
create table public.admin_owned (id int primary key);
alter table public.admin_owned enable row level security;
create table public.nologin_owned (id int primary key);
alter table public.nologin_owned enable row level security;
alter table public.nologin_owned owner to anon;
"""
)


def test_rls_not_forced_flags_login_owner_and_force_fixes_it(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, NOT_FORCED, "rls_not_forced")
    [finding] = [f for f in result.findings if f.check == "rls_not_forced"]
    assert finding.key == "public.ledger" and finding.level == "info"
    assert finding.evidence["owner"] == "wb_policy_app_owner"
    assert finding.evidence["rls_forced"] is False
    assert finding.remediation_sql == 'ALTER TABLE "public"."ledger" FORCE ROW LEVEL SECURITY;'

    load_sql(supabase_db, finding.remediation_sql)
    after = audit_sql(supabase_db, "", "rls_not_forced")
    assert keys(after, "rls_not_forced") == set()
    ledger = after.snapshot.relation_named("public", "ledger")
    assert ledger is not None and ledger.rls_forced


# --- rls_policy_not_user_scoped ---------------------------------------------------------------------------------

NOT_USER_SCOPED = """
create schema private;
create function private.is_member(org int) returns boolean language sql stable security definer
    set search_path = '' as $$ select org = 1 $$;
create function public.double(x int) returns int language sql immutable as $$ select x * 2 $$;
create table public.synonyms (id int primary key, org int, is_safe_for_all boolean, owner uuid);
alter table public.synonyms enable row level security;

-- not scoped: reported (info)
create policy "Anyone can read safe global synonyms" on public.synonyms for select using (is_safe_for_all = true);
create policy read_all on public.synonyms for select to anon using (true);
create policy even_orgs on public.synonyms for update to authenticated using (public.double(org) = 4);

-- scoped, or not for an API role, or granting nothing: not reported
create policy own on public.synonyms for select to authenticated using (owner = (select auth.uid()));
create policy by_role on public.synonyms for select using (current_user = 'reporting');
create policy by_setting on public.synonyms for select using (org = current_setting('app.org')::int);
create policy by_membership on public.synonyms for select using (org in (select 1));
create policy by_helper on public.synonyms for update using (private.is_member(org));
create policy backend on public.synonyms for all to service_role using (true);
create policy floor on public.synonyms as restrictive for select using (org is not null);
create policy never on public.synonyms for delete using (false);
create policy open_delete on public.synonyms for delete using (true);
"""


def test_rls_policy_not_user_scoped(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, NOT_USER_SCOPED, "rls_policy_not_user_scoped")
    found = {f.key: f for f in result.findings}
    assert set(found) == {
        "public.synonyms:Anyone can read safe global synonyms",
        "public.synonyms:read_all",
        "public.synonyms:even_orgs",
    }
    assert all(f.level == "info" for f in found.values())
    assert found["public.synonyms:read_all"].evidence["applies_to"] == ["anon"]
    assert found["public.synonyms:Anyone can read safe global synonyms"].evidence["applies_to"] == [
        "anon",
        "authenticated",
    ]


# --- rls_policy_nested_subquery ---------------------------------------------------------------------------------

NESTED = """
create table public.organization_members (organization_id int, user_id uuid);
create table public.domains (id int primary key, organization_id int);
create table public.scraped_pages (id int primary key, domain_id int);
alter table public.scraped_pages enable row level security;
create policy "Domain isolation" on public.scraped_pages for select using (
    domain_id in (
        select d.id from public.domains d
        where d.organization_id in (
            select organization_id from public.organization_members where user_id = (select auth.uid()))));
create policy one_level on public.scraped_pages for update using (
    domain_id in (select id from public.domains where organization_id = 1))
    with check (domain_id in (select id from public.domains where organization_id = 1));
"""


def test_rls_policy_nested_subquery(supabase_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(supabase_db, NESTED, "rls_policy_nested_subquery")
    [finding] = [f for f in result.findings if f.check == "rls_policy_nested_subquery"]
    assert finding.key == "public.scraped_pages:Domain isolation"
    assert finding.level == "info" and finding.category == "performance"
    assert finding.evidence["subselect_depth"] == {"USING": 3}
