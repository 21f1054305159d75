"""The replay on a real server: measured locks and rewrites, failures with their line, attribution, scaffold."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.migrations.conftest import CLEAN, FolderFactory, of
from workbench.core.embedded import EmbeddedServer
from workbench.core.migrations import Attribution, MigrationConfig, MigrationReview, review_migrations
from workbench.core.migrations import replay as replay_module
from workbench.core.model import Finding, Level


def replayed(folder: Path, server: EmbeddedServer, **options: object) -> MigrationReview:
    return review_migrations(folder, MigrationConfig(**options), server=server)  # type: ignore[arg-type]


def unsafe_by_line(review: MigrationReview, file: str) -> dict[int, Finding]:
    return {int(f.evidence["line"]): f for f in of(review, "migration_unsafe_operation") if f.key == f"file:{file}"}


POPULATED = """
create table public.orders (id bigint primary key, customer_id bigint, amount int, note varchar(20), flag text);
insert into public.orders select g, g % 10, g, 'x', 'y' from generate_series(1, 500) g;
create table public.empty_one (id int primary key, n int);
"""


def test_statements_are_judged_by_what_the_server_did(make_folder: FolderFactory, pg_server: EmbeddedServer) -> None:
    folder = make_folder(
        {
            "001_init.sql": POPULATED,
            "002_changes.sql": """
alter table public.orders alter column amount type bigint;
alter table public.orders alter column note type varchar(40);
create index orders_customer_idx on public.orders (customer_id);
alter table public.orders add constraint orders_flag_nn check (flag is not null) not valid;
alter table public.orders validate constraint orders_flag_nn;
alter table public.orders alter column flag set not null;
alter table public.orders alter column note set not null;
create table public.fresh (id int, v text);
insert into public.fresh values (1, 'a');
create index on public.fresh (v);
alter table public.fresh alter column id type bigint;
alter table public.empty_one alter column n type bigint;
""",
        }
    )
    review = replayed(folder, pg_server)
    assert review.replay is not None and review.replay.failure is None
    found = unsafe_by_line(review, "002_changes.sql")
    # A rewrite of a populated table, measured: relfilenode changed under ACCESS EXCLUSIVE.
    rewrite = found[2]
    assert rewrite.level is Level.WARN and rewrite.evidence["measured"] is True
    assert rewrite.evidence["operations"] == [{"kind": "alter_column_type", "table": "public.orders"}]
    assert rewrite.evidence["relations"] == [
        {
            "table": "public.orders",
            "lock_taken": "ACCESS EXCLUSIVE",
            "lock_held": "ACCESS EXCLUSIVE",
            "rewritten": True,
            "had_rows": True,
        }
    ]
    # varchar(20) -> varchar(40) is binary compatible: no rewrite measured, no finding.
    assert 3 not in found
    # CREATE INDEX on an existing table: SHARE lock, with CONCURRENTLY as the alternative.
    assert found[4].evidence["operations"][0]["kind"] == "create_index"
    assert "CONCURRENTLY" not in found[4].evidence["statement"]
    assert "create index concurrently orders_customer_idx" in (found[4].remediation_sql or "")
    # SET NOT NULL proven by a validated CHECK needs no scan; without one it does.
    assert 7 not in found
    assert found[8].evidence["operations"][0]["kind"] == "set_not_null"
    # Tables created by the same file are invisible to everyone else until it commits: nothing to report.
    assert not set(found) & {9, 10, 11, 12}
    # A rewrite of an existing but empty table is still a rewrite (production has rows).
    assert found[13].evidence["relations"][0]["rewritten"] is True
    assert found[13].evidence["relations"][0]["had_rows"] is False
    assert [f.fingerprint for f in of(review, "migration_unsafe_operation")][:1] == [
        "migration_unsafe_operation:file:002_changes.sql:2"
    ]


def test_brief_access_exclusive_lock_on_a_table_with_rows_is_info(
    make_folder: FolderFactory, pg_server: EmbeddedServer
) -> None:
    folder = make_folder(
        {
            "001_init.sql": POPULATED,
            "002_rls.sql": "alter table public.orders enable row level security;\n"
            "alter table public.empty_one enable row level security;\n",
        }
    )
    found = unsafe_by_line(replayed(folder, pg_server), "002_rls.sql")
    assert list(found) == [1]
    assert found[1].level is Level.INFO
    assert found[1].evidence["operations"] == [{"kind": "access_exclusive_lock", "table": "public.orders"}]
    assert "lock_timeout" in (found[1].remediation_sql or "")


def test_a_syntax_error_stops_the_replay_with_file_line_and_message(
    make_folder: FolderFactory, pg_server: EmbeddedServer
) -> None:
    folder = make_folder(
        {
            "001_ok.sql": "create table public.first (id int primary key);\n",
            "002_broken.sql": "create table public.half_done (id int primary key);\n\n-- a typo follows\n"
            "create tabel public.bad (id int);\n",
            "003_never.sql": "create table public.never (id int primary key);\n",
        }
    )
    review = replayed(folder, pg_server)
    assert review.replay is not None
    failure = review.replay.failure
    assert failure is not None
    assert (failure.file, failure.line, failure.sqlstate) == ("002_broken.sql", 4, "42601")
    assert failure.message == 'syntax error at or near "tabel"'
    assert [(a.file, a.status) for a in review.replay.files] == [
        ("001_ok.sql", "applied"),
        ("002_broken.sql", "failed"),
        ("003_never.sql", "not reached"),
    ]
    [finding] = of(review, "migration_replay_failed")
    assert finding.level is Level.ERROR and finding.key == "file:002_broken.sql"
    assert finding.evidence["line"] == 4
    # The failing file was rolled back as a whole; the audit sees the schema as it was before it.
    assert review.audit is not None
    tables = {r.name for r in review.audit.snapshot.relations}
    assert "first" in tables and "half_done" not in tables and "never" not in tables


def test_error_inside_a_do_block_points_at_its_line(make_folder: FolderFactory, pg_server: EmbeddedServer) -> None:
    folder = make_folder(
        {
            "001_do.sql": "select 1;\ndo $$\nbegin\n  perform 1;\n  insert into public.missing values (1);\nend $$;\n",
        }
    )
    failure = replayed(folder, pg_server).replay.failure  # type: ignore[union-attr]
    assert failure is not None
    assert (failure.line, failure.sqlstate) == (5, "42P01")
    assert "inline_code_block" in (failure.context or "")


def test_statements_that_cannot_run_in_a_transaction(make_folder: FolderFactory, pg_server: EmbeddedServer) -> None:
    folder = make_folder(
        {
            "001_init.sql": "begin;\n" + POPULATED + "commit;\n",
            "002_concurrent.sql": "create index concurrently orders_customer_idx on public.orders (customer_id);\n"
            "alter table public.orders add column extra text;\n",
        }
    )
    review = replayed(folder, pg_server)
    assert review.replay is not None and review.replay.failure is None
    notes = {a.file: a.notes for a in review.replay.files}
    assert any("BEGIN skipped" in n for n in notes["001_init.sql"])
    assert any("COMMIT skipped" in n for n in notes["001_init.sql"])
    assert any("CREATE INDEX ran outside the file's transaction" in n for n in notes["002_concurrent.sql"])
    assert review.audit is not None
    assert "orders_customer_idx" in {ix.name for ix in review.audit.snapshot.indexes}
    assert "create_index" not in str(of(review, "migration_unsafe_operation"))


def test_audit_findings_name_the_migration_that_created_or_altered_the_object(
    make_folder: FolderFactory, pg_server: EmbeddedServer
) -> None:
    folder = make_folder(
        {
            "001_accounts.sql": "create table public.accounts (id int, name text);\n",
            "002_unrelated.sql": "create table public.things (id int primary key);\n",
            "003_touch_accounts.sql": "alter table public.accounts add column note text;\n",
            "004_parent.sql": "create table public.parent (id int primary key, tenant_id int);\n",
            "005_child.sql": "create table public.child (id int primary key, parent_id int references public.parent)",
        }
    )
    review = replayed(folder, pg_server)
    assert review.replay is not None and review.audit is not None
    no_pk = next(f for f in review.audit.findings if f.check == "no_primary_key" and f.key == "public.accounts")
    attribution = review.replay.attribution_of(no_pk)
    assert attribution is not None
    assert (attribution.created_in, attribution.last_altered_in) == ("001_accounts.sql", "003_touch_accounts.sql")
    assert review.file_of(no_pk) == "003_touch_accounts.sql"
    unindexed = next(f for f in review.audit.findings if f.check == "unindexed_foreign_keys")
    assert review.replay.attribution_of(unindexed).created_in == "005_child.sql"  # type: ignore[union-attr]
    assert no_pk in review.by_file()["003_touch_accounts.sql"]


def test_supabase_scaffold(make_folder: FolderFactory, pg_server: EmbeddedServer) -> None:
    folder = make_folder(
        {
            "20240101000000_profiles.sql": """
create table public.profiles (id uuid primary key references auth.users (id), name text);
alter table public.profiles enable row level security;
create policy "own profile" on public.profiles for select to authenticated using ((select auth.uid()) = id);
create table public.notes (id int primary key, body text);
""",
        }
    )
    without = replayed(folder, pg_server)
    assert without.replay is not None and without.replay.failure is not None
    assert without.replay.failure.message == 'schema "auth" does not exist'
    review = replayed(folder, pg_server, scaffold="supabase")
    assert review.replay is not None and review.replay.failure is None and review.audit is not None
    by_check = {f.check: f for f in review.audit.findings}
    # The scaffold's default privileges expose a table created without RLS to anon, as on Supabase.
    leak = by_check["rls_disabled_in_public"]
    assert leak.key == "public.notes"
    assert review.replay.attribution_of(leak) == Attribution(
        "20240101000000_profiles.sql", "20240101000000_profiles.sql"
    )
    assert {f.key for f in review.audit.findings} <= {"public.notes", "public.profiles"}


def test_clean_folder_replays_without_migration_findings(make_folder: FolderFactory, pg_server: EmbeddedServer) -> None:
    review = replayed(make_folder(CLEAN), pg_server)
    assert review.replay is not None and review.replay.failure is None
    assert review.findings == ()
    assert [a.status for a in review.replay.files] == ["applied"] * 4


def test_the_replay_server_is_always_stopped(make_folder: FolderFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    stopped: list[EmbeddedServer] = []
    original_stop = EmbeddedServer.stop

    def tracking_stop(self: EmbeddedServer) -> None:
        stopped.append(self)
        original_stop(self)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("replay exploded")

    monkeypatch.setattr(EmbeddedServer, "stop", tracking_stop)
    monkeypatch.setattr(replay_module, "_replay_into", boom)
    with pytest.raises(RuntimeError, match="replay exploded"):
        review_migrations(make_folder({"001_a.sql": "select 1;"}))
    assert len(stopped) == 1
    assert not stopped[0].is_running and stopped[0].base_dir is None
