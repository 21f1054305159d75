"""`workbench review …` and `workbench audit --review`: the review workflow headless, on a real server and store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.core.checks import AuditResult
from workbench.core.model import Category, Finding, Level, ObjectRef, Snapshot
from workbench.core.review import ReviewStore

LoadSql = Callable[[str, str], None]
SCHEMA = """
create table public.customers (id bigint primary key, name text);
create table public.orders (id bigint primary key, customer_id bigint references public.customers(id));
create view public.customer_names as select id, name from public.customers;
"""


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def shop_db(fresh_db: str, load_sql: LoadSql) -> str:
    load_sql(fresh_db, (resources.files("workbench") / "resources" / "scaffold" / "supabase.sql").read_text())
    load_sql(fresh_db, SCHEMA)
    return fresh_db


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_audit_into_a_review_then_verify_the_fix(
    shop_db: str, load_sql: LoadSql, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "audit", "--dsn", shop_db, "--review", "shop")
    assert code == 1  # error-level findings, as without --review
    assert "Review shop: stored audit run #1 (new review)" in out
    assert "First run of this review" in out

    load_sql(shop_db, "alter table public.customers enable row level security;")
    code, out, _ = run(capsys, "audit", "--dsn", shop_db, "--review", "shop", "--format", "json")
    document = json.loads(out)
    review = document["review"]
    assert review["run"] == 2 and review["created"] is False
    assert "rls_disabled_in_public:public.customers" in review["fixed"]
    assert "rls_enabled_no_policy:public.customers" in review["new"]
    assert review["still_open"]

    code, out, _ = run(capsys, "review", "show", "shop")
    assert code == 0
    assert "Latest run: #2" in out
    assert "Since run #1: fixed " in out
    assert "fixed (verified " in out and "rls_disabled_in_public:public.customers" in out
    assert "Sign-off: not signed" in out

    code, out, _ = run(capsys, "review", "list", "--format", "json")
    (listed,) = json.loads(out)
    assert listed["name"] == "shop" and listed["runs"] == 2 and listed["signoff_status"] == "unsigned"
    assert "password" not in json.dumps(listed["profile"])


def test_decide_and_sign_off(shop_db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "audit", "--dsn", shop_db, "--review", "shop")
    fingerprint = "security_definer_view:public.customer_names"
    code, out, _ = run(
        capsys, "review", "decide", "shop", fingerprint, "--status", "deferred", "--until", "2030-01-31",
        "--note", "reporting view, fixed next release", "--reviewer", "ann",
    )  # fmt: skip
    assert code == 0 and out == f"{fingerprint}: deferred until 2030-01-31 (ann)\n"

    code, out, _ = run(
        capsys, "review", "signoff", "shop", "--reviewer", "Dana", "--role", "DBA", "--statement", "Ready for prod"
    )
    assert code == 0 and "signed off by Dana (DBA)" in out
    code, out, _ = run(capsys, "review", "list")
    assert "signed" in out.splitlines()[1]

    code, out, err = run(
        capsys, "review", "decide", "shop", fingerprint, "--status", "accepted_risk", "--reviewer", "bob"
    )
    assert code == 0 and "now superseded" in err
    code, out, _ = run(capsys, "review", "show", "shop", "--format", "json")
    state = json.loads(out)
    assert state["review"]["signoff_status"] == "superseded"
    assert [s["superseded"] for s in state["signoffs"]] == [True]
    decided = next(f for f in state["findings"] if f["fingerprint"] == fingerprint)
    assert decided["status"] == "accepted_risk" and decided["decision"]["reviewer"] == "bob"
    checklist = {c["key"]: c for c in state["checklist"]}
    assert checklist["no_security_definer_views"]["ticked"] is True  # the only such finding is an accepted risk
    report = tmp_path / "review.md"
    code, _, _ = run(capsys, "review", "show", "shop", "--format", "md", "-o", str(report))
    text = report.read_text()
    assert code == 0 and text.startswith("# Review shop") and "## Sign-off history" in text
    assert f"| accepted risk | {fingerprint} | bob |" in text


@pytest.fixture
def stored_review(data_dir: Path) -> str:
    """A review with one run holding one finding, recorded without a server."""
    finding = Finding(
        "security_definer_view", "Security definer view", Level.ERROR, Category.SECURITY,
        ObjectRef("view", "public.v", "public", None, "v"), "View public.v runs as its owner.",
    )  # fmt: skip
    snapshot = Snapshot("shop", "16.4", 160004, "postgres", "2026-03-01T10:00:00+00:00", None)
    with ReviewStore() as store:
        store.ensure_review("shop")
        store.record_run("shop", AuditResult(snapshot, (finding,), ("security_definer_view",), ()))
    return finding.fingerprint


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("review", "show", "nope"), "There is no review named 'nope'."),
        (("review", "decide", "shop", "no:such", "--status", "open", "--reviewer", "a"), "has no finding with"),
        (("review", "decide", "shop", "FP", "--status", "deferred", "--reviewer", "a"), "needs the date"),
        (("review", "decide", "shop", "FP", "--status", "open", "--until", "2030-01-01", "--reviewer", "a"),
         "Only a deferred finding takes a date"),
        (("review", "decide", "shop", "FP", "--status", "open", "--reviewer", " "), "Say who decides"),
        (("review", "signoff", "nope", "--reviewer", "a", "--role", "DBA", "--statement", "ok"), "no review named"),
    ],
)  # fmt: skip
def test_errors_are_one_line_with_exit_status_2(
    argv: tuple[str, ...], message: str, stored_review: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *(stored_review if a == "FP" else a for a in argv))
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: ") and message in lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ("review", "decide", "shop", "x", "--status", "open", "--until", "soon", "--reviewer", "a"),
        ("review", "decide", "shop", "x", "--status", "wontfix", "--reviewer", "a"),
        ("review", "signoff", "shop", "--reviewer", "a", "--role", "DBA"),
        ("review",),
    ],
)
def test_usage_errors_exit_2(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(list(argv))
    assert raised.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("workbench: ")


def test_a_corrupt_store_gives_one_line_and_the_cli_still_works(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    data_dir.mkdir(parents=True)
    store = data_dir / "reviews.sqlite3"
    store.write_bytes(b"garbage" * 1000)
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    code, out, err = run(capsys, "review", "list")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "is damaged" in err and "left untouched" in err
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before
    code, out, _ = run(capsys, "checks")
    assert code == 0 and "security_definer_view" in out


def test_audit_review_with_a_broken_store_fails_in_one_line(
    shop_db: str, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "reviews.sqlite3").write_bytes(b"garbage" * 1000)
    code, out, err = run(capsys, "audit", "--dsn", shop_db, "--review", "shop")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "is damaged" in err
