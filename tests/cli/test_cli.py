"""The command-line contract: JSON shape, exit codes, and one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.core.embedded import EmbeddedServer, load_sql

LEAKY = """
create table public.customers (id int primary key, email text);
grant select on public.customers to public;
create table public.locked (id int primary key);
alter table public.locked enable row level security;
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_audit_json_follows_the_output_contract(fresh_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(fresh_db, LEAKY)
    code, out, _ = run(capsys, "audit", "--dsn", fresh_db, "--format", "json")
    doc = json.loads(out)
    assert code == 1  # an error-level finding exists and --fail-on defaults to error
    assert set(doc) == {
        "tool",
        "database",
        "started_at",
        "duration_s",
        "checks_run",
        "checks_skipped",
        "findings",
    }
    assert doc["tool"]["name"] == "workbench"
    assert doc["database"]["server_version_num"] >= 130000
    assert "." in doc["database"]["server_version"] and " " not in doc["database"]["server_version"]
    assert "rls_disabled_in_public" in doc["checks_run"]
    finding = next(f for f in doc["findings"] if f["check"] == "rls_disabled_in_public")
    assert set(finding) == {
        "check",
        "title",
        "level",
        "category",
        "key",
        "fingerprint",
        "object",
        "detail",
        "evidence",
        "remediation_sql",
    }
    assert finding["key"] == "public.customers"
    assert finding["fingerprint"] == "rls_disabled_in_public:public.customers"
    assert finding["object"] == {"kind": "table", "schema": "public", "name": "customers"}
    assert finding["level"] == "error" and finding["category"] == "security"


def test_fail_on_sets_the_exit_status(fresh_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(
        fresh_db,
        "create table public.locked (id int primary key); alter table public.locked enable row level security;",
    )
    assert run(capsys, "audit", "--dsn", fresh_db, "--format", "json")[0] == 0  # only info findings
    assert run(capsys, "audit", "--dsn", fresh_db, "--format", "json", "--fail-on", "info")[0] == 1


def test_markdown_and_text_reviews_name_the_problem_and_the_fix(
    fresh_db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    load_sql(fresh_db, LEAKY)
    target = tmp_path / "review.md"
    run(capsys, "audit", "--dsn", fresh_db, "--format", "md", "--output", str(target))
    review = target.read_text(encoding="utf-8")
    assert review.startswith("# Database review: ")
    assert "| Security |" in review
    assert 'ALTER TABLE "public"."customers" ENABLE ROW LEVEL SECURITY;' in review
    _, out, _ = run(capsys, "audit", "--dsn", fresh_db)
    assert "ERROR  rls_disabled_in_public" in out and "public.customers" in out


def test_snapshot_saved_then_audited_offline_gives_the_same_findings(
    fresh_db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    load_sql(fresh_db, LEAKY)
    snap = tmp_path / "snap.json"
    assert run(capsys, "snapshot", "--dsn", fresh_db, "-o", str(snap))[0] == 0
    _, live, _ = run(capsys, "audit", "--dsn", fresh_db, "--format", "json")
    _, offline, _ = run(capsys, "audit", "--snapshot", str(snap), "--format", "json")
    assert json.loads(live)["findings"] == json.loads(offline)["findings"]


def test_wrong_password_is_one_clear_line(pg_server: EmbeddedServer, capsys: pytest.CaptureFixture[str]) -> None:
    dsn = pg_server.host_dsn("postgres", password="not-the-password")
    code, out, err = run(capsys, "audit", "--dsn", dsn)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"workbench: Wrong user name or password for postgres@127.0.0.1:{pg_server.port}/postgres."
    ]
    assert "not-the-password" not in err


def test_unreachable_host_and_missing_database(pg_server: EmbeddedServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "audit", "--dsn", "postgresql://u@127.0.0.1:9/db?connect_timeout=2")
    assert code == 2 and "Nothing accepts connections at u@127.0.0.1:9/db" in err
    code, _, err = run(capsys, "audit", "--dsn", pg_server.dsn("no_such_database"))
    assert code == 2 and "does not exist" in err


def test_bad_config_is_reported_with_the_key(fresh_db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "workbench.toml"
    config.write_text('exposed_schemas = ["public"]\nexposed_schema = ["api"]\n', encoding="utf-8")
    code, _, err = run(capsys, "audit", "--dsn", fresh_db, "--config", str(config))
    assert code == 2 and "unknown key 'exposed_schema'" in err
    config.write_text('disabled_checks = ["no_such_check"]\n', encoding="utf-8")
    code, _, err = run(capsys, "audit", "--dsn", fresh_db, "--config", str(config))
    assert code == 2 and "'no_such_check', which is not a check id" in err


def test_config_ignores_a_finding_by_fingerprint(
    fresh_db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    load_sql(fresh_db, LEAKY)
    config = tmp_path / "workbench.toml"
    config.write_text(
        '[ignore]\n"rls_disabled_in_public:public.customers" = "read-only reference data"\n', encoding="utf-8"
    )
    code, out, _ = run(capsys, "audit", "--dsn", fresh_db, "--config", str(config), "--format", "md")
    assert code == 0
    assert "read-only reference data" in out


def test_usage_errors_exit_2_and_the_console_script_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "workbench", "audit"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "checks", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    ids = {c["id"] for c in json.loads(proc.stdout)}
    assert {"rls_disabled_in_public", "rls_enabled_no_policy"} <= ids
