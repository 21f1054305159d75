"""`workbench migrations`: output formats and the audit's exit codes."""

from __future__ import annotations

import json

import pytest

from tests.migrations.conftest import CLEAN, FolderFactory
from workbench.cli.main import main

AUDIT_KEYS = {"tool", "database", "started_at", "duration_s", "checks_run", "checks_skipped", "findings"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_keeps_the_audit_contract_and_adds_the_migrations(
    make_folder: FolderFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(
        {
            "001_init.sql": "create table public.accounts (id int, name text);\n"
            "insert into public.accounts values (1, 'a');\n",
            "002_index.sql": "create index accounts_name_idx on public.accounts (name);\n",
            "003_broken.sql": "select 1;\nselect * from public.nope;\n",
            "004_never.sql": "select 1;\n",
        }
    )
    code, out, err = run(capsys, "migrations", str(folder), "--format", "json")
    assert code == 1, err  # the replay failure is an error
    doc = json.loads(out)
    assert set(doc) == AUDIT_KEYS | {"migrations"}
    assert doc["database"]["name"] == "workbench_migrations"
    assert "migration_duplicate_version" in doc["checks_run"] and "no_primary_key" in doc["checks_run"]
    checks = {f["check"]: f for f in doc["findings"]}
    failed = checks["migration_replay_failed"]
    assert failed["key"] == "file:003_broken.sql" and failed["evidence"]["line"] == 2
    assert failed["evidence"]["message"] == 'relation "public.nope" does not exist'
    assert checks["migration_unsafe_operation"]["evidence"]["relations"][0]["lock_taken"] == "SHARE"
    # CREATE INDEX updates the table's pg_class row in place (xmin kept): the index is an object of its own.
    expected = {"created_in": "001_init.sql", "last_altered_in": "001_init.sql"}
    assert checks["no_primary_key"]["attributed_to"] == expected
    replay = doc["migrations"]["replay"]
    assert replay["failure"]["file"] == "003_broken.sql" and replay["failure"]["line"] == 2
    statuses = [(f["file"], f["status"]) for f in doc["migrations"]["files"]]
    assert statuses == [
        ("001_init.sql", "applied"),
        ("002_index.sql", "applied"),
        ("003_broken.sql", "failed"),
        ("004_never.sql", "not reached"),
    ]
    skipped = {s["check"] for s in doc["checks_skipped"]}
    assert "unused_index" in skipped


def test_clean_folder_exits_0_and_renders_markdown(
    make_folder: FolderFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "migrations", str(make_folder(CLEAN)), "--format", "md")
    assert code == 0, err
    assert out.startswith("# Migrations review: ")
    assert "| 1 | `001_customers.sql` | 001 | none | applied" in out
    assert "## Database audit of the replayed schema" in out
    assert "Migration findings by file" not in out


def test_file_rules_only_and_fail_on(make_folder: FolderFactory, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_folder(
        {
            "001_a.sql": "create table public.a (id int primary key);\n",
            "1_b.sql": "alter table public.a drop column id;\n",
        }
    )
    code, out, _ = run(capsys, "migrations", str(folder), "--no-replay")
    assert code == 0  # warn and info only; --fail-on defaults to error
    assert "1_b.sql" in out and "migration_duplicate_version" in out and "not replayed" in out
    code, _, _ = run(capsys, "migrations", str(folder), "--no-replay", "--fail-on", "warn")
    assert code == 1


def test_usage_errors_are_one_line(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "migrations", "/nonexistent/migrations")
    assert code == 2 and out == ""
    assert err.strip() == "workbench: /nonexistent/migrations does not exist."
    with pytest.raises(SystemExit) as exc:
        main(["migrations", "x", "--scaffold", "firebase"])
    assert exc.value.code == 2
