"""Staging vs production: planted differences of every kind are found, identical objects are not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.core.compare import diff_snapshots, security_sync_script
from workbench.core.connections import open_session
from workbench.core.embedded import EmbeddedServer, find_bindirs, load_sql
from workbench.core.snapshot import collect_snapshot

BASE = """
do $$ begin
  if not exists (select from pg_roles where rolname = 'cmp_reader') then create role cmp_reader nologin; end if;
  if not exists (select from pg_roles where rolname = 'cmp_writer') then create role cmp_writer nologin; end if;
end $$;
create schema app;
create table app.accounts (id bigint generated always as identity primary key, name text not null,
                           status text default 'new', created_at timestamptz not null default now());
create table app.orders (id bigint primary key, account_id bigint references app.accounts (id),
                         total numeric(12, 2) check (total >= 0), note text);
create index orders_account_idx on app.orders (account_id);
create index on app.orders (total);
alter table app.orders enable row level security;
create policy own_orders on app.orders for select to cmp_reader using (account_id > 0);
create view app.order_totals with (security_invoker = true) as select account_id, sum(total) from app.orders group by 1;
create function app.touch(a int) returns int language sql security definer set search_path = '' as $$ select a $$;
create sequence app.ticket_seq;
create trigger orders_noop before update on app.orders for each row
    execute function suppress_redundant_updates_trigger();
grant select, insert on app.orders to cmp_writer;
grant select on app.order_totals to cmp_reader;
grant usage on schema app to cmp_reader, cmp_writer;
"""

DRIFT = """
alter view app.order_totals reset (security_invoker);                       -- view loses security_invoker
drop policy own_orders on app.orders;
create policy own_orders on app.orders for select to cmp_reader using (account_id > 10);  -- same name, new USING
alter table app.accounts alter column status set not null;                  -- column nullability
alter table app.accounts add column extra int;                             -- only in B
drop index app.orders_account_idx;                                         -- only in A
alter function app.touch(int) security invoker reset search_path;          -- function security
revoke insert on app.orders from cmp_writer;                               -- grant
grant delete on app.orders to cmp_reader;
alter table app.orders disable row level security;                         -- RLS flag
alter sequence app.ticket_seq increment by 5;                              -- sequence
alter table app.orders disable trigger orders_noop;                        -- trigger
"""


@pytest.fixture
def two_dbs(pg_server: EmbeddedServer) -> tuple[str, str]:
    a = pg_server.create_database("cmp_staging")
    b = pg_server.create_database("cmp_production")
    load_sql(a, BASE)
    load_sql(b, BASE)
    yield a, b
    pg_server.drop_database("cmp_staging")
    pg_server.drop_database("cmp_production")


def snap(dsn: str):  # type: ignore[no-untyped-def]
    with open_session(dsn) as session:
        return collect_snapshot(session)


def test_identical_databases_have_no_differences(two_dbs: tuple[str, str]) -> None:
    a, b = two_dbs
    diff = diff_snapshots(snap(a), snap(b))
    assert not diff.has_differences, (diff.only_in_a, diff.only_in_b, diff.different)
    assert diff.identical > 20
    assert security_sync_script(snap(a), snap(b)) is None


def test_planted_differences_are_each_reported(two_dbs: tuple[str, str]) -> None:
    a, b = two_dbs
    load_sql(b, DRIFT)
    diff = diff_snapshots(snap(a), snap(b))
    changed = {(d.kind, d.key): {x.name: (x.a, x.b) for x in d.attributes} for d in diff.different}
    assert changed[("view", "app.order_totals")] == {
        "options": (["security_invoker=true"], []),
        "security_invoker": (True, False),
    }
    assert set(changed[("policy", "app.orders:own_orders")]) == {"using"}
    assert changed[("column", "app.accounts.status")] == {"not_null": (False, True)}
    assert changed[("function", "app.touch(a integer)")] == {
        "security_definer": (True, False),
        "search_path": ('""', None),
    }
    assert changed[("grant", "table app.orders")]["grants"][0] == ["cmp_writer:INSERT", "cmp_writer:SELECT"]
    assert changed[("table", "app.orders")] == {"rls_enabled": (True, False)}
    assert changed[("sequence", "app.ticket_seq")] == {"increment": (1, 5)}
    assert changed[("trigger", "app.orders:orders_noop")] == {"enabled": ("O", "D")}
    assert {(o.kind, o.key) for o in diff.only_in_a} == {("index", "app.orders_account_idx")}
    assert {(o.kind, o.key) for o in diff.only_in_b} == {("column", "app.accounts.extra")}
    # Nothing else is reported: the auto-named index and the untouched objects are identical.
    assert set(changed) == {
        ("view", "app.order_totals"),
        ("policy", "app.orders:own_orders"),
        ("column", "app.accounts.status"),
        ("function", "app.touch(a integer)"),
        ("grant", "table app.orders"),
        ("table", "app.orders"),
        ("sequence", "app.ticket_seq"),
        ("trigger", "app.orders:orders_noop"),
    }


def test_sync_script_makes_b_match_a_and_its_rollback_restores_b(two_dbs: tuple[str, str]) -> None:
    a, b = two_dbs
    load_sql(b, DRIFT)
    before_b = snap(b)
    script = security_sync_script(snap(a), before_b)
    assert script is not None and "BEGIN;" in script and "-- Rollback" in script
    load_sql(b, script)
    remaining = {(d.kind, d.key) for d in diff_snapshots(snap(a), snap(b)).different}
    # Security-relevant differences are gone; the others are for a human to decide.
    assert remaining == {
        ("column", "app.accounts.status"),
        ("sequence", "app.ticket_seq"),
        ("trigger", "app.orders:orders_noop"),
    }
    rollback = "\n".join(line[3:] for line in script.split("-- Rollback", 1)[1].splitlines()[1:])
    load_sql(b, rollback)
    assert not diff_snapshots(before_b, snap(b)).has_differences


def test_compare_command_reports_and_exits_1(
    two_dbs: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = two_dbs
    assert main(["compare", "--a", a, "--b", b]) == 0
    capsys.readouterr()
    load_sql(b, DRIFT)
    saved = tmp_path / "staging.json"
    assert main(["snapshot", "--dsn", a, "-o", str(saved)]) == 0
    sync = tmp_path / "sync.sql"
    code = main(["compare", "--a", str(saved), "--b", b, "--format", "json", "--sync-script", str(sync)])
    doc = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert code == 1
    assert {"kind": "index", "key": "app.orders_account_idx"} in doc["schema"]["only_in_a"]
    assert "ALTER VIEW" in sync.read_text()
    # The findings diff: production lost RLS on a table a role can write to.
    assert main(["compare", "--a", a, "--b", b, "--format", "md"]) == 1
    md = capsys.readouterr().out
    assert "## Different objects" in md and "security_invoker" in md


@pytest.mark.skipif(len({b.major for b in find_bindirs()}) < 2, reason="needs two PostgreSQL versions")
def test_same_schema_on_two_server_versions_shows_no_object_differences() -> None:
    majors = {}
    for bindir in find_bindirs():
        majors.setdefault(bindir.major, bindir)
    first, second = sorted(majors)[:2]
    with EmbeddedServer(majors[first]) as s1, EmbeddedServer(majors[second]) as s2:
        a, b = s1.create_database("x"), s2.create_database("x")
        load_sql(a, BASE)
        load_sql(b, BASE)
        diff = diff_snapshots(snap(a), snap(b))
    assert not diff.only_in_a and not diff.only_in_b
    assert [d for d in diff.different if d.kind != "setting"] == []
