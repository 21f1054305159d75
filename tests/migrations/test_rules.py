"""The file rules over folders built in tmp_path (no server)."""

from __future__ import annotations

import pytest

from tests.migrations.conftest import CLEAN, FolderFactory, of, static_review
from workbench.core.checks import all_checks
from workbench.core.checks.registry import REGISTRY
from workbench.core.migrations import MIGRATION_RULES, MigrationsError, discover_migrations, migration_specs
from workbench.core.model import Category


def test_clean_folder_triggers_no_rule(make_folder: FolderFactory) -> None:
    review = static_review(make_folder(CLEAN))
    assert review.findings == ()
    assert set(review.rules_run) == set(MIGRATION_RULES) - {"migration_replay_failed"}  # nothing replayed


def test_migration_rules_are_not_database_checks() -> None:
    ids = {s.id for s in migration_specs()}
    assert ids == {
        "migration_duplicate_version",
        "migration_conflicting_schema_files",
        "migration_missing_rollback",
        "migration_non_idempotent",
        "migration_unsafe_operation",
        "migration_replay_failed",
    }
    assert all(s.category is Category.MIGRATIONS for s in migration_specs())
    assert not ids & set(REGISTRY)
    assert not ids & {c.spec.id for c in all_checks()}


def test_versions_order_counters_dates_and_timestamps(make_folder: FolderFactory) -> None:
    folder = discover_migrations(
        make_folder(
            {
                "10_ten.sql": "select 1;",
                "2_two.sql": "select 1;",
                "20250909_cleanup.sql": "select 1;",
                "20240101120000_early.sql": "select 1;",
                "20250909205408_search.sql": "select 1;",
                "V1.1__flyway.sql": "select 1;",
                "R__views.sql": "select 1;",
                "notes.sql": "select 1;",
                "20250910a_a.sql": "select 1;",
            }
        )
    )
    assert [f.relative for f in folder.files] == [
        "V1.1__flyway.sql",
        "2_two.sql",
        "10_ten.sql",
        "20240101120000_early.sql",
        "20250909_cleanup.sql",
        "20250909205408_search.sql",
        "20250910a_a.sql",
        "R__views.sql",
        "notes.sql",
    ]
    assert "notes.sql" not in {f.relative for f in folder.applied}  # no version: not applied, like Supabase's CLI


def test_duplicate_version(make_folder: FolderFactory) -> None:
    review = static_review(
        make_folder(
            {
                "001_init.sql": "create table if not exists a (id int primary key);",
                "1_other.sql": "create table if not exists b (id int primary key);",
                "20250909205408_enhanced_metadata_search.sql": "select 1;",
                "20250909_database_cleanup.sql": "select 1;",
            }
        )
    )
    found = of(review, "migration_duplicate_version")
    same = [f for f in found if f.evidence["conflict"] == "same version"]
    prefix = [f for f in found if f.evidence["conflict"] == "shared prefix"]
    assert [f.key for f in same] == ["file:1_other.sql"]
    assert same[0].evidence["files"] == ["001_init.sql", "1_other.sql"]
    assert [f.key for f in prefix] == ["file:20250909_database_cleanup.sql"]  # seed 002 §4.3.1
    assert prefix[0].evidence["prefix"] == "20250909"


def test_conflicting_schema_files(make_folder: FolderFactory) -> None:
    review = static_review(
        make_folder(
            {
                "000_complete_schema.sql": "create table if not exists a (id int primary key);",
                "000_complete_schema_fixed.sql": "create table if not exists a (id int primary key);",
                "001_add_schema_for_billing.sql": "create schema if not exists billing;",
            }
        )
    )
    found = of(review, "migration_conflicting_schema_files")
    assert [f.key for f in found] == ["file:000_complete_schema_fixed.sql"]  # seed 002 §4.3.2
    assert found[0].evidence["files"] == ["000_complete_schema.sql", "000_complete_schema_fixed.sql"]
    # Same version too: both are "000".
    assert [f.key for f in of(review, "migration_duplicate_version")] == ["file:000_complete_schema_fixed.sql"]


REPLACE_F = "create or replace function public.f() returns int language sql as 'select 2'"


def test_missing_rollback(make_folder: FolderFactory) -> None:
    review = static_review(
        make_folder(
            {
                "001_init.sql": """
create table public.a (id int primary key, legacy text);
create function public.f() returns int language sql as $$ select 1 $$;
create policy p on public.a using (true);
""",
                "002_drop_legacy.sql": "\n\nalter table public.a drop column legacy;\n",
                "003_with_section.sql": "drop table public.gone;\n-- ROLLBACK SECTION\n-- create table public.gone();",
                "004_with_down_file.sql": "delete from public.a where id < 0;\n",
                "004_with_down_file.down.sql": "select 1;\n",
                "005_replace_policy.sql": """
drop policy if exists p on public.a;
create policy p on public.a using (id > 0);
""",
                "006_replace_function.sql": REPLACE_F,
                "007_new_things_only.sql": "create table public.b (id int primary key);\ncreate index on public.b (id)",
                "down/008_multi_step.sql": "select 1;",
                "008_multi_step.sql": "alter table public.a add column x int;\nalter table public.a add column y int;",
                "009_multi_step.sql": "alter table public.a add column z int, add column w int;",
            }
        )
    )
    found = {f.key: f for f in of(review, "migration_missing_rollback")}
    assert set(found) == {
        "file:002_drop_legacy.sql",
        "file:005_replace_policy.sql",
        "file:006_replace_function.sql",
        "file:009_multi_step.sql",
    }
    assert found["file:002_drop_legacy.sql"].evidence["line"] == 3
    assert "DROP COLUMN legacy" in found["file:002_drop_legacy.sql"].detail
    assert "replaces policy public.a:p" in found["file:005_replace_policy.sql"].detail
    assert "replaces function public.f" in found["file:006_replace_function.sql"].detail
    assert "2 changes to existing tables" in found["file:009_multi_step.sql"].detail


IDEMPOTENT = {
    "001_init.sql": """
create schema if not exists app;
create table if not exists app.a (id int primary key);
create table if not exists app.b (id int primary key);
create index if not exists b_id_idx on app.b (id);
drop policy if exists p on app.a;
create policy p on app.a using (true);
""",
    "002_more.sql": """
create table app.c (id int primary key);
alter table app.a add column if not exists note text;
alter table app.a add column other text, add column if not exists third text;
create policy q on app.a using (true);
create or replace view app.v as select 1 as one;
""",
}


def test_non_idempotent_where_the_convention_is_idempotent(make_folder: FolderFactory) -> None:
    review = static_review(make_folder(IDEMPOTENT))
    found = of(review, "migration_non_idempotent")
    assert [(f.key, f.evidence["line"]) for f in found] == [
        ("file:002_more.sql", 2),
        ("file:002_more.sql", 4),
        ("file:002_more.sql", 5),
    ]
    # Several findings of one rule in one file: the line tells them apart.
    assert [f.fingerprint for f in found] == [
        "migration_non_idempotent:file:002_more.sql:2",
        "migration_non_idempotent:file:002_more.sql:4",
        "migration_non_idempotent:file:002_more.sql:5",
    ]
    assert found[0].evidence["convention"] == {"guarded": 8, "guardable": 11, "configured": False}


def test_non_idempotent_is_silent_without_that_convention(make_folder: FolderFactory) -> None:
    plain = {"001_init.sql": "create table a (id int primary key);\ncreate table b (id int primary key);"}
    assert of(static_review(make_folder(plain)), "migration_non_idempotent") == []
    forced = static_review(make_folder(plain), idempotent=True)
    assert len(of(forced, "migration_non_idempotent")) == 2
    assert of(static_review(make_folder(IDEMPOTENT), idempotent=False), "migration_non_idempotent") == []


def test_unsafe_operation_patterns_without_replay(make_folder: FolderFactory) -> None:
    review = static_review(
        make_folder(
            {
                "001_init.sql": "create table public.t (id int primary key, v text, n int);",
                "002_changes.sql": """
create index t_v_idx on public.t (v);
alter table public.t add column must text not null;
alter table public.t alter column v set not null;
alter table public.t alter column n type bigint;
alter table public.t add constraint t_n_fk foreign key (n) references public.t (id);
alter table public.t add constraint t_n_check check (n > 0);
alter table public.t add constraint t_v_key unique (v);
alter table public.t add column created timestamptz default clock_timestamp();
create index concurrently t_n_idx on public.t (n);
alter table public.t add constraint t_ok check (n > 0) not valid;
create table public.fresh (id int);
create index on public.fresh (id);
""",
            }
        )
    )
    found = of(review, "migration_unsafe_operation")
    kinds = [(f.evidence["line"], f.evidence["operations"][0]["kind"]) for f in found]
    assert kinds == [
        (2, "create_index"),
        (3, "add_column_not_null"),
        (4, "set_not_null"),
        (5, "alter_column_type"),
        (6, "add_foreign_key"),
        (7, "add_check"),
        (8, "add_unique_constraint"),
        (9, "add_column_rewrite"),
    ]
    assert all(f.evidence["measured"] is False for f in found)
    create_index = found[0].remediation_sql or ""
    assert "create index concurrently t_v_idx on public.t (v);" in create_index
    fk = found[4].remediation_sql or ""
    assert "NOT VALID;" in fk and 'VALIDATE CONSTRAINT "t_n_fk";' in fk


def test_rollback_sections_and_down_files_are_recognised(make_folder: FolderFactory) -> None:
    folder = discover_migrations(
        make_folder(
            {
                "1_a.up.sql": "select 1;",
                "1_a.down.sql": "select 1;",
                "2_b.sql": "select 1;\n-- migrate:down\ndrop table x;\n",
                "V3__c.sql": "select 1;",
                "U3__c.sql": "select 1;",
                "4_d.sql": "select 1;",
            }
        )
    )
    by_name = {f.relative: f for f in folder.files}
    assert set(by_name) == {"1_a.up.sql", "2_b.sql", "V3__c.sql", "4_d.sql"}
    assert by_name["1_a.up.sql"].down_file == "1_a.down.sql"
    assert by_name["2_b.sql"].rollback == "section"
    assert "drop table" not in by_name["2_b.sql"].up_text  # the down section is not applied
    assert by_name["V3__c.sql"].down_file == "U3__c.sql"
    assert by_name["4_d.sql"].rollback is None


def test_nothing_to_review(make_folder: FolderFactory) -> None:
    with pytest.raises(MigrationsError, match=r"no \.sql"):
        static_review(make_folder({"README.md": "hello"}))
