"""Remediation scripts on a real server: layout, locks, dry run, apply, the production guard, rollback, re-audit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import psycopg
import pytest

from workbench.core.checks import AuditConfig, AuditResult, audit
from workbench.core.compare import diff_snapshots
from workbench.core.connections import open_session
from workbench.core.connections.profiles import ConnectionProfile, Environment
from workbench.core.migrations.sqltext import split_statements
from workbench.core.model import Category, Finding, Level, ObjectRef, Snapshot
from workbench.core.remediation import (
    ApplyRefused,
    CancelToken,
    Confirmation,
    Status,
    apply,
    build_script,
    classify,
    dry_run,
    verify_fixes,
)
from workbench.core.review import ReviewStore
from workbench.core.snapshot import collect_snapshot

LoadSql = Callable[[str, str], None]
DEV = Confirmation(Environment.DEV)


def scaffold() -> str:
    return (resources.files("workbench") / "resources" / "scaffold" / "supabase.sql").read_text(encoding="utf-8")


def audit_of(dsn: str, config: AuditConfig | None = None) -> AuditResult:
    with open_session(dsn) as session:
        return audit(session, config or AuditConfig())


def snapshot_of(dsn: str) -> Snapshot:
    with open_session(dsn) as session:
        return collect_snapshot(session)


def scalar(dsn: str, query: str) -> object:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(query.encode()).fetchone()
        return row[0] if row else None


def assert_same(before: Snapshot, after: Snapshot) -> None:
    diff = diff_snapshots(before, after, "before", "after")
    problems = [*diff.only_in_a, *diff.only_in_b, *diff.different]
    assert not problems, "\n".join(map(repr, problems))


# --- statement classification (no server) -------------------------------------------------------------------------


def _effect(text: str, version: int = 160000) -> tuple[str, bool, bool]:
    (st,) = split_statements(text)
    e = classify(st, version)
    return e.lock, e.transactional, e.control


@pytest.mark.parametrize(
    ("statement", "lock", "transactional"),
    [
        ('ALTER TABLE "s"."t" ENABLE ROW LEVEL SECURITY', "ACCESS EXCLUSIVE", True),
        ('CREATE INDEX CONCURRENTLY "i" ON "s"."t" ("c")', "SHARE UPDATE EXCLUSIVE", False),
        ('CREATE UNIQUE INDEX CONCURRENTLY "i" ON "s"."t" ("c")', "SHARE UPDATE EXCLUSIVE", False),
        ('CREATE INDEX "i" ON "s"."t" ("c")', "SHARE", True),
        ('DROP INDEX CONCURRENTLY "s"."i"', "SHARE UPDATE EXCLUSIVE", False),
        ('DROP INDEX "s"."i"', "ACCESS EXCLUSIVE", True),
        ('ALTER POLICY "p" ON "s"."t" USING (true)', "ACCESS EXCLUSIVE", True),
        ('CREATE POLICY "p" ON "s"."t" USING (true)', "ACCESS EXCLUSIVE", True),
        ('REVOKE SELECT ON "s"."t" FROM "anon"', "none", True),
        ('GRANT SELECT ON "s"."t" TO "anon"', "none", True),
        ('ALTER TABLE "s"."t" VALIDATE CONSTRAINT "c"', "SHARE UPDATE EXCLUSIVE", True),
        ('ALTER TABLE "s"."t" ALTER COLUMN "c" SET NOT NULL', "ACCESS EXCLUSIVE", True),
        ('ALTER TABLE "s"."t" ADD CONSTRAINT "f" FOREIGN KEY ("a") REFERENCES "s"."u" ("id") NOT VALID',
         "SHARE ROW EXCLUSIVE", True),
        ('ALTER TABLE "s"."t" DROP CONSTRAINT "f", ADD CONSTRAINT "f" CHECK (a > 0) NOT VALID',
         "ACCESS EXCLUSIVE", True),
        ('VACUUM (ANALYZE) "s"."t"', "SHARE UPDATE EXCLUSIVE", False),
        ('ALTER FUNCTION "s"."f"() SET search_path = \'\'', "none", True),
        ("ALTER TYPE \"s\".\"e\" ADD VALUE 'x'", "ACCESS EXCLUSIVE", True),
    ],
)  # fmt: skip
def test_statements_are_classified_by_lock_and_transaction_needs(
    statement: str, lock: str, transactional: bool
) -> None:
    assert _effect(statement)[:2] == (lock, transactional)


def test_set_not_null_says_it_scans_and_add_value_needs_its_own_transaction_before_pg12() -> None:
    (st,) = split_statements('ALTER TABLE "s"."t" ALTER COLUMN "c" SET NOT NULL')
    assert "Scans every row" in classify(st).impact
    assert _effect("ALTER TYPE e ADD VALUE 'x'", 110000)[1] is False
    assert _effect("BEGIN")[2] and _effect("COMMIT")[2]
    # Names that look like keywords do not fool the classifier.
    assert _effect('ALTER TABLE "CONCURRENTLY" ENABLE ROW LEVEL SECURITY')[:2] == ("ACCESS EXCLUSIVE", True)


def test_verify_fixes_separates_fixed_new_open_and_not_rechecked() -> None:
    def finding(check: str, key: str) -> Finding:
        return Finding(check, check, Level.WARN, Category.SECURITY, ObjectRef("table", key), "d")

    gone, still, unchecked, fresh = (
        finding("a", "t1"),
        finding("a", "t2"),
        finding("b", "t3"),
        finding("a", "t4"),
    )
    snapshot = Snapshot("db", "16", 160000, "u", "2026-01-01", None)
    result = verify_fixes([gone, still, unchecked], AuditResult(snapshot, (still, fresh), ("a",), ()))
    assert result.fixed == (gone,)
    assert result.still_open == (still,)
    assert result.new == (fresh,)
    assert result.not_rechecked == (unchecked,)


# --- the script -----------------------------------------------------------------------------------------------------

BROAD = """
create table public.accounts (id bigint primary key, email text, password_hash text, note text);
revoke all on public.accounts from anon, authenticated;
grant select on public.accounts to anon, authenticated;
grant select (note) on public.accounts to service_role;
create table public.base (id bigint primary key, owner uuid);
alter table public.base enable row level security;
create policy base_owner on public.base for select to authenticated using (owner = auth.uid());
create view public.base_view as select id from public.base;
create table public.notes (id bigint primary key, body text);
alter table public.notes enable row level security;
create policy notes_a on public.notes for select to authenticated using (true);
create policy notes_b on public.notes for select to authenticated using (id > 0);
create function public.secret_count() returns bigint language sql security definer
    as $$ select count(*) from public.accounts $$;
create table public.parents (id bigint primary key);
create table public.children (id bigint primary key, parent_id bigint references public.parents(id), label text);
create index children_label_a on public.children (label);
create index children_label_b on public.children (label);
create table public.events (id bigint, parent_id bigint references public.parents(id), at date not null)
    partition by range (at);
create table public.events_2026 partition of public.events for values from ('2026-01-01') to ('2027-01-01');
create table public.tags (name text not null);
create unique index tags_name_key on public.tags (name);
create table public.jobs (id bigint primary key, status text);
create table public.vault (id bigint primary key);
alter table public.vault enable row level security;
"""


@pytest.fixture
def broad_db(fresh_db: str, load_sql: LoadSql) -> str:
    load_sql(fresh_db, scaffold())
    load_sql(fresh_db, BROAD)
    return fresh_db


def test_script_has_header_sections_locks_and_commented_rollback(broad_db: str) -> None:
    result = audit_of(broad_db)
    script = build_script(result.findings, result.snapshot)
    text = script.text
    snap = result.snapshot
    assert f"-- Database: {snap.database} (PostgreSQL {snap.server_version})" in text
    assert f"-- Snapshot taken: {snap.collected_at}" in text
    assert f"-- Findings covered: {len(script.findings)}" in text
    for f in result.findings:
        assert f.fingerprint in text
    # The registry's rationale explains each fix; the lock comes right before each statement.
    assert "-- Why: A view checks permissions and row level security as its owner" in text
    assert "-- Lock: ACCESS EXCLUSIVE lock. Brief, on the view only.\nALTER VIEW" in text
    # CONCURRENTLY statements come after the COMMIT, in the check's order (ON ONLY, build, attach).
    commit = text.index("COMMIT;")
    assert text.index("BEGIN;") < text.index('ALTER TABLE "public"."accounts" ENABLE ROW LEVEL SECURITY') < commit
    assert commit < text.index('CREATE INDEX CONCURRENTLY "children_parent_id_idx"')
    assert commit < text.index('ON ONLY "public"."events"') < text.index("ATTACH PARTITION")
    assert script.section("outside_transaction") is not None
    assert script.section("manual") is not None  # findings without SQL keep their remediation text
    # Rollback and verification are there, but not one live statement in either section.
    for kind in ("rollback", "verification"):
        section = script.section(kind)
        assert section is not None and section.text.strip()
        assert split_statements(section.text) == ()
    assert 'pg_catalog.pg_class c WHERE c.oid = \'"public"."accounts"\'::pg_catalog.regclass' in script.verification_sql
    # The runnable part is the whole script minus comments: the same statements.
    assert [s.text for s in split_statements(text)] == [s.text for s in split_statements(script.forward_sql)]


def test_dry_run_of_a_generated_script_succeeds_and_changes_nothing(broad_db: str) -> None:
    result = audit_of(broad_db)
    script = build_script(result.findings, result.snapshot)
    outcome = dry_run(broad_db, script.text)
    assert outcome.ok, outcome.errors
    assert outcome.not_dry_run
    assert {o.message for o in outcome.not_dry_run} == {"not dry-run: cannot run inside a transaction"}
    # Attaching the partition's index depends on its CONCURRENTLY build, which a dry run cannot try.
    assert [o.sql.split(" ATTACH ")[0] for o in outcome.unverified] == ['ALTER INDEX "public"."events_parent_id_idx"']
    assert_same(result.snapshot, snapshot_of(broad_db))


INTEGRITY = """
do $$ begin
  if exists (select 1 from pg_available_extensions where name = 'pg_trgm') then
    create extension pg_trgm schema public;
  end if;
end $$;
create table public.customers (id bigint primary key);
create table public.orders (id bigint primary key, customer_id bigint, amount int);
create table public.lines (id bigint primary key, order_id int references public.orders(id));
create table public.shipments (id bigint primary key, order_id bigint);
alter table public.shipments add constraint shipments_order_fk foreign key (order_id)
    references public.orders(id) not valid;
alter table public.shipments add constraint shipments_id_positive check (id > 0) not valid;
create table public.procs (id bigint primary key, handler regproc);
create table public.profiles (id bigint primary key, phone text references auth.users(phone));
"""
BROAD_KINDS = (
    "ENABLE ROW LEVEL SECURITY",
    "ALTER VIEW",
    "ALTER POLICY",
    "DROP POLICY",
    "CREATE POLICY",
    "REVOKE EXECUTE",
    "GRANT SELECT (",
    "ALTER FUNCTION",
    "DROP INDEX CONCURRENTLY",
    "CREATE INDEX CONCURRENTLY",
    "ATTACH PARTITION",
    "PRIMARY KEY USING INDEX",
    "SET NOT NULL",
    "PARTITION OF",
)
INTEGRITY_KINDS = ("DROP CONSTRAINT", "NOT VALID", "VALIDATE CONSTRAINT", "TYPE bigint", "TYPE text USING")


@pytest.mark.parametrize(
    ("schema", "kinds"), [(BROAD, BROAD_KINDS), (INTEGRITY, INTEGRITY_KINDS)], ids=["security", "integrity"]
)
def test_rollback_restores_the_snapshot_after_apply(
    fresh_db: str, load_sql: LoadSql, schema: str, kinds: tuple[str, ...]
) -> None:
    load_sql(fresh_db, scaffold())
    load_sql(fresh_db, schema)
    before = audit_of(fresh_db)
    script = build_script(before.findings, before.snapshot)
    for kind in kinds:
        assert kind in script.forward_sql, kind

    applied = apply(fresh_db, script.text, confirm=DEV)
    assert applied.ok, applied.errors
    changed = snapshot_of(fresh_db)
    assert diff_snapshots(before.snapshot, changed).has_differences

    undone = apply(fresh_db, script.rollback_sql, confirm=DEV)
    assert undone.ok, undone.errors
    assert_same(before.snapshot, snapshot_of(fresh_db))


def test_apply_then_reaudit_marks_the_finding_fixed(
    fresh_db: str, load_sql: LoadSql, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path))
    load_sql(fresh_db, scaffold())
    load_sql(fresh_db, "create table public.customers (id bigint primary key, name text);")
    first = audit_of(fresh_db)
    target = next(f for f in first.findings if f.check == "rls_disabled_in_public")
    with ReviewStore() as store:
        store.ensure_review("shop")
        store.record_run("shop", first)
        script = build_script([target], first.snapshot)
        assert apply(fresh_db, script.text, confirm=DEV).ok
        second = audit_of(fresh_db)
        verification = verify_fixes([target], second)
        assert verification.fixed == (target,)
        comparison = store.record_run("shop", second)
        assert target.fingerprint in comparison.marked_fixed
        state = store.state("shop")
    resolved = {d.fingerprint: d for d in state.resolved}
    decision = resolved[target.fingerprint]
    assert decision.verified_run_id == comparison.run.id
    assert decision.verified_at == second.started_at
    assert scalar(fresh_db, "select relrowsecurity from pg_class where oid = 'public.customers'::regclass") is True


# --- dry run and apply semantics --------------------------------------------------------------------------------------

FAILING = """-- a script with a failing statement in the middle
ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.missing
    ENABLE ROW LEVEL SECURITY;
CREATE INDEX CONCURRENTLY t_c_idx ON public.t (c);
"""


def test_dry_run_reports_the_failing_statement_and_changes_nothing(fresh_db: str, load_sql: LoadSql) -> None:
    load_sql(fresh_db, "create table public.t (id int primary key, c int);")
    before = snapshot_of(fresh_db)
    result = dry_run(fresh_db, FAILING)
    assert [o.status for o in result.outcomes] == [Status.OK, Status.ERROR, Status.NOT_DRY_RUN]
    error = result.errors[0]
    assert (error.index, error.line) == (2, 4)
    assert "public.missing" in error.message and error.sqlstate == "42P01"
    assert result.outcomes[2].message == "not dry-run: cannot run inside a transaction"
    assert not result.ok
    assert_same(before, snapshot_of(fresh_db))
    assert scalar(fresh_db, "select relrowsecurity from pg_class where oid = 'public.t'::regclass") is False


def test_apply_rolls_back_on_failure_and_never_runs_the_non_transactional_part(
    fresh_db: str, load_sql: LoadSql
) -> None:
    load_sql(fresh_db, "create table public.t (id int primary key, c int);")
    result = apply(fresh_db, FAILING, confirm=DEV)
    assert not result.committed and not result.ok
    assert [o.status for o in result.outcomes] == [Status.ROLLED_BACK, Status.ERROR, Status.NOT_RUN]
    assert scalar(fresh_db, "select relrowsecurity from pg_class where oid = 'public.t'::regclass") is False
    assert scalar(fresh_db, "select to_regclass('public.t_c_idx')") is None


def test_apply_runs_the_non_transactional_part_after_the_commit(fresh_db: str, load_sql: LoadSql) -> None:
    load_sql(fresh_db, "create table public.t (id int primary key, c int);")
    script = (
        "BEGIN;\nALTER TABLE public.t ENABLE ROW LEVEL SECURITY;\nCOMMIT;\n"
        "CREATE INDEX CONCURRENTLY t_c_idx ON public.t (c);\n"
    )
    result = apply(fresh_db, script, confirm=DEV)
    assert result.ok and result.committed
    assert [o.status for o in result.outcomes] == [Status.SKIPPED, Status.OK, Status.SKIPPED, Status.OK]
    assert scalar(fresh_db, "select indisvalid from pg_index where indexrelid = 'public.t_c_idx'::regclass") is True


def test_production_guard_refuses_without_or_with_a_wrong_typed_name(fresh_db: str, load_sql: LoadSql) -> None:
    load_sql(fresh_db, "create table public.t (id int primary key);")
    script = "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;"
    database = str(scalar(fresh_db, "select current_database()"))
    profile = ConnectionProfile(name="prod", host="localhost", environment=Environment.PRODUCTION)
    with pytest.raises(ApplyRefused, match="tagged production: type the database name"):
        apply(fresh_db, script, confirm=Confirmation.for_profile(profile))
    with pytest.raises(ApplyRefused, match="tagged production"):
        apply(fresh_db, script, confirm=Confirmation.for_profile(profile, typed_database="  "))
    with pytest.raises(ApplyRefused, match="is not the name of the database"):
        apply(fresh_db, script, confirm=Confirmation.for_profile(profile, typed_database=database.upper()))
    with pytest.raises(ApplyRefused, match="explicit confirmation"):
        apply(fresh_db, script, confirm=object())  # type: ignore[arg-type]
    assert scalar(fresh_db, "select relrowsecurity from pg_class where oid = 'public.t'::regclass") is False
    result = apply(fresh_db, script, confirm=Confirmation.for_profile(profile, typed_database=database))
    assert result.ok and result.database == database
    assert scalar(fresh_db, "select relrowsecurity from pg_class where oid = 'public.t'::regclass") is True


# --- hostile identifiers -------------------------------------------------------------------------------------------

SCHEMA = 'sch""ema; drop table public.canary; --\nx'
TABLE = "tab'le; drop table public.canary; --\né ü 表\r"
HOSTILE = f"""
create table public.canary (id int);
create schema "{SCHEMA}";
grant usage on schema "{SCHEMA}" to anon, authenticated;
create table "{SCHEMA}"."{TABLE}" (id int primary key, "sta""tus" text, "ref id" int, secret_token text);
grant select, insert on "{SCHEMA}"."{TABLE}" to anon, authenticated;
create table public."p""arent */ x" (id int primary key);
alter table "{SCHEMA}"."{TABLE}" add constraint "fk; drop
table public.canary" foreign key ("ref id") references public."p""arent */ x"(id);
create view "{SCHEMA}"."v*/iew" as select id from "{SCHEMA}"."{TABLE}";
grant select on "{SCHEMA}"."v*/iew" to anon;
create function "{SCHEMA}"."f'n" (a int) returns int language sql security definer as $$ select 1 $$;
create policy "pol"";
drop table public.canary; --" on public."p""arent */ x" for select to authenticated using (true);
create policy "pol2" on public."p""arent */ x" for select to authenticated using (id > 0);
"""


def test_hostile_identifiers_stay_inside_quotes_comments_and_rollback(fresh_db: str, load_sql: LoadSql) -> None:
    load_sql(fresh_db, scaffold())
    load_sql(fresh_db, HOSTILE)
    schema = SCHEMA.replace('""', '"')
    config = AuditConfig(exposed_schemas=("public", schema))
    before = audit_of(fresh_db, config)
    assert any(f.object.schema == schema for f in before.findings)
    script = build_script(before.findings, before.snapshot)
    # The script runs exactly the checks' statements: no name turned a comment or a literal into SQL.
    expected = {s.text for f in before.findings for s in split_statements(f.remediation_sql or "")}
    live = {s.text for s in split_statements(script.text)} - {"SET lock_timeout = '5s'", "BEGIN", "COMMIT"}
    assert live == expected
    for kind in ("header", "rollback", "verification", "manual"):
        section = script.section(kind)
        if section is not None:
            statements = [s.text for s in split_statements(section.text)]
            assert statements in ([], ["SET lock_timeout = '5s'"]), statements
    # Every line of a commented section starts a comment, even where a name held a line break.
    for kind in ("rollback", "verification"):
        section = script.section(kind)
        assert section is not None
        assert all(line.startswith("--") for line in section.text.splitlines() if line)
    assert dry_run(fresh_db, script.text).ok
    assert apply(fresh_db, script.text, confirm=DEV).ok
    assert apply(fresh_db, script.rollback_sql, confirm=DEV).ok
    assert scalar(fresh_db, "select to_regclass('public.canary') is not null") is True
    assert_same(before.snapshot, snapshot_of(fresh_db))


def test_apply_can_be_cancelled_from_another_thread(fresh_db: str, load_sql: LoadSql) -> None:
    load_sql(fresh_db, "create table public.t (id int primary key);")
    token = CancelToken()
    script = "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;\nSELECT pg_sleep(30);\n"
    timer = threading.Timer(0.5, token.cancel)
    timer.start()
    try:
        result = apply(fresh_db, script, confirm=DEV, cancel=token)
    finally:
        timer.cancel()
    assert result.cancelled and not result.committed
    assert [o.status for o in result.outcomes] == [Status.ROLLED_BACK, Status.NOT_RUN]
    assert scalar(fresh_db, "select relrowsecurity from pg_class where oid = 'public.t'::regclass") is False
