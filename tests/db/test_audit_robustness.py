"""What a DBA notices when things go wrong: timeouts, dropped connections, hostile names, cancel."""

from __future__ import annotations

import dataclasses
import gc
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from workbench.core.checks import REGISTRY, AuditConfig, audit, check, run_checks
from workbench.core.connections import Cancelled, ConnectionFailed, SessionOptions, open_session
from workbench.core.embedded import load_sql
from workbench.core.model import Category, Level
from workbench.core.snapshot import collect_snapshot
from workbench.core.snapshot.document import dumps_sliced, snapshot_from_dict, snapshot_json, snapshot_to_dict
from workbench.core.snapshot.probes import PROBES, ProbeContext, probe


@pytest.fixture
def sleeping_probe() -> Iterator[None]:
    """A test-only probe that sleeps 3 s and a check that needs it."""

    @probe("test_sleep")
    def _sleep(ctx: ProbeContext) -> list[dict[str, Any]]:
        return ctx.rows("SELECT pg_catalog.pg_sleep(3) IS NULL AS slept")

    @check(
        "test_needs_sleep",
        "Needs the slow probe",
        Level.INFO,
        Category.MAINTENANCE,
        description="test only",
        rationale="test only",
        remediation="none",
        requires=("test_sleep",),
    )
    def _needs(spec: Any, snapshot: Any, config: Any) -> Iterator[Any]:
        return iter(())

    try:
        yield
    finally:
        PROBES.pop("test_sleep")
        REGISTRY.pop("test_needs_sleep")


LEAK = "create table public.t (id int primary key); grant select on public.t to public;"


def test_statement_timeout_skips_only_the_check_that_needed_the_slow_query(fresh_db: str, sleeping_probe: None) -> None:
    load_sql(fresh_db, LEAK)
    with open_session(fresh_db, SessionOptions(statement_timeout_ms=300)) as session:
        result = audit(session, AuditConfig())
    skipped = {s.check: s.reason for s in result.checks_skipped}
    assert skipped["test_needs_sleep"] == "timed out after 0.3 s (statement_timeout)"
    assert "rls_disabled_in_public" in result.checks_run
    assert any(f.key == "public.t" for f in result.findings)


def test_cancel_stops_a_running_query_promptly(fresh_db: str, sleeping_probe: None) -> None:
    session = open_session(fresh_db)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            audit(session)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.8)  # inside the 3 s probe by now
    started = time.perf_counter()
    session.cancel()
    worker.join(10)
    assert not worker.is_alive()
    assert time.perf_counter() - started < 2.0
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
    session.close()


def test_dropped_connection_mid_audit_is_one_clear_sentence(fresh_db: str, sleeping_probe: None) -> None:
    session = open_session(fresh_db)
    pid = session.conn.info.backend_pid
    errors: list[BaseException] = []

    def run() -> None:
        try:
            audit(session)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.8)
    with psycopg.connect(fresh_db, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    worker.join(10)
    assert len(errors) == 1 and isinstance(errors[0], ConnectionFailed)
    assert str(errors[0]).startswith("The connection was lost while running the test_sleep probe")
    session.close()


HOSTILE = r'''
create schema "we'ird; ""schema""";
create table "we'ird; ""schema"""."tåble; DROP TABLE x; --" ("cölumn ""q""" int, "id;" int primary key);
create index "idx'; --" on "we'ird; ""schema"""."tåble; DROP TABLE x; --" ("cölumn ""q""");
create view "we'ird; ""schema"""."vïew $$" as select * from "we'ird; ""schema"""."tåble; DROP TABLE x; --";
create table public."Ünïcødé ☃" (id int);
grant usage on schema "we'ird; ""schema""" to public;
grant select on all tables in schema public to public;
'''


def test_hostile_names_survive_collection_json_and_remediation(fresh_db: str) -> None:
    load_sql(fresh_db, HOSTILE)
    config = AuditConfig(exposed_schemas=("public", 'we\'ird; "schema"'))
    with open_session(fresh_db) as session:
        result = audit(session, config)
    snap = result.snapshot
    assert snapshot_from_dict(snapshot_to_dict(snap)) == snap
    names = {r.qualified for r in snap.relations}
    assert {'we\'ird; "schema".tåble; DROP TABLE x; --', "public.Ünïcødé ☃"} <= names
    fixes = [f for f in result.findings if f.check == "rls_disabled_in_public"]
    assert {f.key for f in fixes} == {"public.Ünïcødé ☃"}
    # The remediation runs as written and fixes exactly that table.
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(fixes[0].remediation_sql or "")
        enabled = conn.execute("select relrowsecurity from pg_class where relname = 'Ünïcødé ☃'").fetchone()
    assert enabled == (True,)


def test_snapshot_json_round_trip_is_lossless(fresh_db: str) -> None:
    load_sql(
        fresh_db,
        HOSTILE
        + r"""
    create role wb_reader nologin;
    create table public.orders (id bigint generated always as identity primary key,
        customer int not null, total numeric(12,2) default 0, note text collate "C",
        check (total >= 0));
    create table public.lines (order_id bigint references public.orders on delete cascade, qty int);
    create materialized view public.mv as select count(*) from public.orders;
    create function public.f(a int, b text default 'x') returns int language sql security definer
        set search_path = '' as $$ select a $$;
    alter table public.orders enable row level security;
    create policy p on public.orders for select to wb_reader using (customer > 0);
    create table public.events (at date not null) partition by range (at);
    create table public.events_2026 partition of public.events for values from ('2026-01-01') to ('2027-01-01');
    create sequence public.s as smallint;
    create trigger trg before insert on public.lines for each row execute function suppress_redundant_updates_trigger();
    grant select (id) on public.orders to wb_reader;
    """,
    )
    with open_session(fresh_db) as session:
        snap = collect_snapshot(session)
    assert snapshot_from_dict(snapshot_to_dict(snap)) == snap
    # Saved files hold the same text as one json.dumps call (encoded in slices so a GUI thread is not frozen).
    document = snapshot_to_dict(snap)
    assert dumps_sliced(document, slice_size=2) == json.dumps(document, ensure_ascii=False, default=str)
    assert snapshot_from_dict(json.loads(snapshot_json(snap))) == snap
    assert {p.name for p in snap.policies} == {"p"}
    orders = snap.relation_named("public", "orders")
    assert orders is not None and orders.column_named("id") is not None
    assert [g.grantee for g in orders.column_named("id").grants] == ["wb_reader"]  # type: ignore[union-attr]


def test_wrong_password_and_missing_database_are_clear(pg_server: Any) -> None:
    with pytest.raises(
        ConnectionFailed, match=r"^Wrong user name or password for postgres@127\.0\.0\.1:\d+/postgres\.$"
    ):
        open_session(pg_server.host_dsn("postgres", password="nope"))
    with pytest.raises(ConnectionFailed, match="does not exist"):
        open_session(pg_server.dsn("missing_db"))


def test_the_audit_session_cannot_write(fresh_db: str) -> None:
    with open_session(fresh_db) as session, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        session.conn.execute("create table public.nope (id int)")


def test_a_failed_catalog_query_skips_exactly_the_checks_that_read_its_data(fresh_db: str) -> None:
    load_sql(fresh_db, LEAK + "create table public.r (id int); alter table public.r enable row level security;")
    with open_session(fresh_db) as session:
        snap = collect_snapshot(session)
    broken = dataclasses.replace(snap, skipped_queries=(("policies", "timed out after 30 s"),))
    result = run_checks(broken)
    skipped = {s.check: s.reason for s in result.checks_skipped}
    assert skipped["multiple_permissive_policies"] == "could not read the policies: timed out after 30 s"
    assert skipped["policy_exists_rls_disabled"] == "could not read the policies: timed out after 30 s"
    assert "rls_disabled_in_public" in result.checks_run
    assert "duplicate_index" in result.checks_run
    assert any(f.key == "public.t" for f in result.findings)


def test_a_check_that_crashes_is_reported_skipped_and_the_others_run(fresh_db: str) -> None:
    @check(
        "test_crashes",
        "Crashes",
        Level.INFO,
        Category.MAINTENANCE,
        description="test only",
        rationale="test only",
        remediation="none",
    )
    def _crash(spec: Any, snapshot: Any, config: Any) -> Iterator[Any]:
        raise ZeroDivisionError("boom")

    try:
        load_sql(fresh_db, LEAK)
        with open_session(fresh_db) as session:
            result = audit(session)
    finally:
        REGISTRY.pop("test_crashes")
    skipped = {s.check: s.reason for s in result.checks_skipped}
    assert skipped["test_crashes"] == "the check failed (ZeroDivisionError: boom)"
    assert "rls_disabled_in_public" in result.checks_run


def test_more_sequences_than_the_lock_table_holds_are_read(fresh_db: str) -> None:
    # 50 connections x 64 locks = 3,200 lock slots; reading each last value locks its sequence.
    load_sql(
        fresh_db,
        "do $$ begin for i in 1..4000 loop execute format('create sequence public.s%s', i); "
        "end loop; end $$; select nextval('public.s7');",
    )
    with open_session(fresh_db) as session:
        snap = collect_snapshot(session)
    assert snap.skipped_queries == ()
    values = {s.name: s.last_value for s in snap.sequences}
    assert len(values) == 4000 and values["s7"] == 1 and values["s8"] is None


def test_an_audit_leaves_no_reference_cycles_so_its_memory_returns(fresh_db: str) -> None:
    """The app freezes what an audit built out of the cyclic collector's reach (its passes froze the window):
    that is only safe while a result holds no cycles, so dropping it frees it at once."""
    load_sql(fresh_db, DEMO_LIKE_POLICIES)
    with open_session(fresh_db) as session:
        result = audit(session)
    assert any(f.check == "auth_rls_initplan" for f in result.findings)  # the policy analyses ran and are cached
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        del result
        assert gc.collect() == 0
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


DEMO_LIKE_POLICIES = """
create schema auth;
create function auth.uid() returns uuid language sql stable as $$ select null::uuid $$;
create table public.notes (id int primary key, owner uuid, body text);
alter table public.notes enable row level security;
create policy own on public.notes for select using (owner = auth.uid());
create policy team on public.notes for update using (exists (select 1 from public.notes n where n.owner = owner));
"""
