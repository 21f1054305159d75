"""The review store on real SQLite files: decisions, runs and verification, checklist, sign-off, robustness."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from workbench.core.checks import AuditResult, SkippedCheck, all_checks
from workbench.core.connections.profiles import ConnectionProfile, Environment
from workbench.core.model import Category, Finding, Level, ObjectRef, Snapshot
from workbench.core.review import (
    DEFAULT_ITEMS,
    ChecklistItemSpec,
    DecisionStatus,
    ReviewNotFound,
    ReviewStore,
    ReviewStoreError,
    default_store_path,
    fixed_label,
)
from workbench.core.review import store as store_module

SNAPSHOT = Snapshot("shop", "16.4", 160004, "postgres", "2026-03-01T10:00:00+00:00", None)
VIEW = Finding(
    "security_definer_view", "Security definer view", Level.ERROR, Category.SECURITY,
    ObjectRef("view", "public.v", "public", None, "v"), "View public.v runs as its owner.",
)  # fmt: skip
TABLE = Finding(
    "rls_disabled_in_public", "RLS disabled in public", Level.ERROR, Category.SECURITY,
    ObjectRef("table", "public.t", "public", None, "t"), "Table public.t has RLS disabled.",
    remediation_sql='ALTER TABLE "public"."t" ENABLE ROW LEVEL SECURITY;',
)  # fmt: skip
INDEX = Finding(
    "duplicate_index", "Duplicate index", Level.WARN, Category.PERFORMANCE,
    ObjectRef("index", "public.i2", "public", "t", "i2"), "Duplicate.", discriminator="x",
)  # fmt: skip
CHECKS = ("security_definer_view", "auth_users_exposed", "rls_disabled_in_public", "duplicate_index")


def run(
    *findings: Finding, checks: tuple[str, ...] = CHECKS, started: str = "2026-03-01T10:00:00+00:00"
) -> AuditResult:
    return AuditResult(SNAPSHOT, findings, checks, (), started_at=started)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReviewStore]:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path))
    with ReviewStore() as opened:
        opened.ensure_review("shop")
        yield opened


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- basics -------------------------------------------------------------------------------------------------------


def test_store_lives_in_the_data_dir_in_wal_mode_with_foreign_keys(store: ReviewStore, tmp_path: Path) -> None:
    assert store.path == default_store_path() == tmp_path / "reviews.sqlite3"
    assert store.schema_version() == 1
    con = sqlite3.connect(store.path)
    try:
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert con.execute("select max(version) from schema_version").fetchone()[0] == 1
    finally:
        con.close()
    with store._engine.connect() as conn:
        assert conn.exec_driver_sql("pragma foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("pragma busy_timeout").scalar() == store_module.BUSY_TIMEOUT_MS


def test_review_profile_never_keeps_a_secret(store: ReviewStore) -> None:
    profile = ConnectionProfile(name="prod", host="db", database="shop", environment=Environment.PRODUCTION)
    assert store.create_review("prod review", profile).profile["environment"] == "production"
    info = store.create_review("other", {"target": "u@db/shop", "password": "hunter2", "dsn": "postgres://u:p@db"})
    assert info.profile == {"target": "u@db/shop"}
    assert b"hunter2" not in store.path.read_bytes()
    with pytest.raises(ReviewStoreError, match="already exists"):
        store.create_review("other")
    with pytest.raises(ReviewNotFound):
        store.review("missing")
    assert [r.name for r in store.reviews()] == ["other", "prod review", "shop"]


def test_runs_keep_their_snapshot_and_findings(store: ReviewStore) -> None:
    first = store.record_run("shop", run(VIEW, TABLE, INDEX))
    assert first.previous_run_id is None and first.run.number == 1
    (stored,) = store.runs("shop")
    assert stored.findings == (VIEW, TABLE, INDEX)
    assert INDEX.fingerprint == "duplicate_index:public.i2:x" and stored.findings[2].fingerprint == INDEX.fingerprint
    assert store.run_snapshot(stored.id) == SNAPSHOT
    con = sqlite3.connect(store.path)
    try:
        blob = con.execute("select snapshot_zlib from audit_runs").fetchone()[0]
    finally:
        con.close()
    assert zlib.decompress(blob).startswith(b'{"format": "workbench-snapshot"')


# --- decisions ------------------------------------------------------------------------------------------------------


def test_decisions_keep_history_and_the_latest_wins(store: ReviewStore) -> None:
    store.record_run("shop", run(VIEW, TABLE))
    store.decide("shop", VIEW.fingerprint, "deferred", reviewer="ann", note="next sprint", until=date(2026, 4, 1))
    store.decide("shop", VIEW.fingerprint, DecisionStatus.ACCEPTED_RISK, reviewer="bob", note="internal only")
    history = store.decision_history("shop", VIEW.fingerprint)
    assert [(d.status, d.reviewer) for d in history] == [
        (DecisionStatus.DEFERRED, "ann"),
        (DecisionStatus.ACCEPTED_RISK, "bob"),
    ]
    assert store.decisions("shop")[VIEW.fingerprint].note == "internal only"
    with pytest.raises(ReviewStoreError, match="needs the date"):
        store.decide("shop", VIEW.fingerprint, "deferred", reviewer="ann")
    with pytest.raises(ReviewStoreError, match="Only a deferred"):
        store.decide("shop", VIEW.fingerprint, "open", reviewer="ann", until=date(2026, 1, 1))
    with pytest.raises(ReviewStoreError, match="Unknown status"):
        store.decide("shop", VIEW.fingerprint, "wontfix", reviewer="ann")


def test_an_expired_deferral_is_open_again(store: ReviewStore) -> None:
    store.record_run("shop", run(VIEW))
    store.decide("shop", VIEW.fingerprint, "deferred", reviewer="ann", until=date(2026, 4, 1))
    (during,) = store.state("shop", today=date(2026, 3, 31)).findings
    assert (during.status, during.label) == (DecisionStatus.DEFERRED, "deferred until 2026-04-01")
    (after,) = store.state("shop", today=date(2026, 4, 2)).findings
    assert (after.status, after.label) == (DecisionStatus.OPEN, "open (deferral expired 2026-04-01)")


def test_rerun_marks_disappeared_findings_fixed_verified_and_reopens_regressions(store: ReviewStore) -> None:
    store.record_run("shop", run(VIEW, TABLE, INDEX))
    store.decide("shop", INDEX.fingerprint, "false_positive", reviewer="ann")
    second = store.record_run("shop", run(TABLE, started="2026-03-02T09:00:00+00:00"))
    v = second.verification
    assert (v.fixed, v.new, v.still_open) == ((INDEX, VIEW), (), (TABLE,))
    assert second.marked_fixed == (VIEW.fingerprint,)  # a false positive is not "fixed"
    state = store.state("shop")
    (resolved,) = state.resolved
    assert fixed_label(resolved) == "fixed (verified 2026-03-02)"
    assert resolved.reviewer == "workbench" and resolved.verified_run_id == second.run.id
    assert state.comparison is not None and state.comparison.fixed == (INDEX, VIEW)
    # The view comes back: the fix did not hold.
    third = store.record_run("shop", run(VIEW, TABLE, started="2026-03-03T09:00:00+00:00"))
    assert third.verification.new == (VIEW,) and third.reopened == (VIEW.fingerprint,)
    assert store.decisions("shop")[VIEW.fingerprint].status is DecisionStatus.OPEN


def test_a_finding_whose_check_did_not_run_is_not_marked_fixed(store: ReviewStore) -> None:
    store.record_run("shop", run(VIEW, TABLE))
    second = store.record_run("shop", run(TABLE, checks=("rls_disabled_in_public",)))
    assert second.verification.not_rechecked == (VIEW,) and second.marked_fixed == ()


def test_decisions_carry_over_to_another_review_by_fingerprint(store: ReviewStore) -> None:
    store.record_run("shop", run(VIEW, TABLE, INDEX))
    store.decide("shop", VIEW.fingerprint, "accepted_risk", reviewer="ann", note="reporting view")
    store.decide("shop", INDEX.fingerprint, "deferred", reviewer="ann", until=date(2026, 5, 1))
    store.decide("shop", TABLE.fingerprint, "open", reviewer="ann")
    store.create_review("shop production")
    assert store.import_decisions("shop", "shop production", reviewer="bob") == 2
    assert store.import_decisions("shop", "shop production", reviewer="bob") == 0  # nothing new
    imported = store.decisions("shop production")
    assert set(imported) == {VIEW.fingerprint, INDEX.fingerprint}
    assert imported[VIEW.fingerprint].source_review == "shop"
    assert "imported from review shop" in imported[VIEW.fingerprint].note
    store.record_run("shop production", run(VIEW, TABLE))
    labels = {fs.finding.fingerprint: fs.label for fs in store.state("shop production").findings}
    assert labels == {VIEW.fingerprint: "accepted risk", TABLE.fingerprint: "open"}


# --- checklist and sign-off -------------------------------------------------------------------------------------------


def test_default_template_names_only_registered_checks() -> None:
    known = {c.spec.id for c in all_checks()}
    assert all(set(item.auto_checks) <= known for item in DEFAULT_ITEMS)
    assert any(item.key == "no_security_definer_views" for item in DEFAULT_ITEMS)


def test_automatic_items_follow_the_findings_and_their_decisions(store: ReviewStore) -> None:
    def item(key: str) -> tuple[bool, str]:
        found = next(c for c in store.state("shop").checklist if c.item.key == key)
        return found.ticked, found.note

    assert item("no_security_definer_views") == (False, "no audit run yet")
    store.record_run("shop", run(VIEW))
    assert item("no_security_definer_views") == (False, f"1 open finding(s): {VIEW.fingerprint}")
    store.decide("shop", VIEW.fingerprint, "accepted_risk", reviewer="ann")
    assert item("no_security_definer_views") == (True, "no open finding")
    # A skipped check (not applicable here) does not block; one that did not run at all leaves it unevaluated.
    skipped = AuditResult(SNAPSHOT, (), ("security_definer_view",), (SkippedCheck("auth_users_exposed", "no auth"),))
    store.record_run("shop", skipped)
    assert item("no_security_definer_views") == (True, "no open finding; skipped: auth_users_exposed (no auth)")
    store.record_run("shop", run(checks=("security_definer_view",)))
    ticked, note = item("no_security_definer_views")
    assert not ticked and note == "not evaluated: not run by the latest audit: auth_users_exposed"


def test_manual_items_are_ticked_by_people_and_automatic_ones_are_not(store: ReviewStore) -> None:
    store.tick("shop", "no_data_loss", who="ann", note="row counts match")
    state = next(c for c in store.state("shop").checklist if c.item.key == "no_data_loss")
    assert (state.ticked, state.who, state.note) == (True, "ann", "row counts match")
    store.tick("shop", "no_data_loss", who="bob", ticked=False)
    state = next(c for c in store.state("shop").checklist if c.item.key == "no_data_loss")
    assert (state.ticked, state.who) == (False, "bob")
    with pytest.raises(ReviewStoreError, match="evaluated from the findings"):
        store.tick("shop", "no_security_definer_views", who="ann")
    with pytest.raises(ReviewStoreError, match="has no item"):
        store.tick("shop", "nope", who="ann")


def test_templates_are_editable_and_validated(store: ReviewStore) -> None:
    items = (
        ChecklistItemSpec("backups", "Backups restore", "Ops"),
        ChecklistItemSpec("rls", "RLS", "", ("rls_disabled_in_public",)),
    )
    store.save_template("lean", items)
    assert store.template("lean") == items
    review = store.create_review("lean review", template="lean")
    assert review.checklist_template == "lean"
    assert [c.item.key for c in store.state("lean review").checklist] == ["backups", "rls"]
    with pytest.raises(ReviewStoreError, match="unknown checks: no_such_check"):
        store.save_template("bad", [ChecklistItemSpec("x", "X", "", ("no_such_check",))])
    assert set(store.templates()) == {"default", "lean"}


def test_sign_off_freezes_the_review_and_any_change_supersedes_it(store: ReviewStore) -> None:
    with pytest.raises(ReviewStoreError, match="no audit run yet"):
        store.sign_off("shop", reviewer="dana", role="DBA", statement="ok")
    store.record_run("shop", run(VIEW))
    first = store.sign_off("shop", reviewer="dana", role="DBA", statement="Approved for production")
    state = store.state("shop")
    assert state.review.signoff_status == "signed" and state.current_signoff == first
    assert state.content_hash == first.content_hash
    store.decide("shop", VIEW.fingerprint, "accepted_risk", reviewer="ann")
    state = store.state("shop")
    assert state.review.signoff_status == "superseded" and state.current_signoff is None
    assert state.content_hash != first.content_hash
    second = store.sign_off("shop", reviewer="dana", role="DBA", statement="Approved again")
    history = store.state("shop").signoffs
    assert [s.superseded for s in history] == [True, False] and history[-1] == second
    store.tick("shop", "no_data_loss", who="ann")
    assert store.review("shop").signoff_status == "superseded"


# --- robustness -----------------------------------------------------------------------------------------------------


def test_a_corrupt_store_is_reported_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "reviews.sqlite3"
    path.write_bytes(b"this is not a database\n" * 500)
    before = digest(path)
    with pytest.raises(ReviewStoreError, match=r"is damaged \(file is not a database\); it was left untouched"):
        ReviewStore(path)
    assert digest(path) == before


def test_a_sqlite_file_that_is_not_a_review_store_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    con = sqlite3.connect(path)
    con.execute("create table notes (x text)")
    con.commit()
    con.close()
    before = digest(path)
    with pytest.raises(ReviewStoreError, match="is not a workbench review store"):
        ReviewStore(path)
    assert digest(path) == before


def test_a_store_from_a_newer_release_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "reviews.sqlite3"
    ReviewStore(path).close()
    con = sqlite3.connect(path)
    con.execute("insert into schema_version (version, applied_at) values (7, 'later')")
    con.commit()
    con.close()
    before = digest(path)
    with pytest.raises(ReviewStoreError, match=r"newer release of the workbench \(store version 7"):
        ReviewStore(path)
    assert digest(path) == before


def test_an_older_store_is_migrated_through_the_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "reviews.sqlite3"
    with ReviewStore(path) as old:
        old.ensure_review("kept")

    def to_v2(conn: Connection) -> None:
        conn.execute(text("alter table reviews add column label text"))

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(store_module.MIGRATIONS, 1, to_v2)
    with ReviewStore(path) as upgraded:
        assert upgraded.schema_version() == 2
        assert [r.name for r in upgraded.reviews()] == ["kept"]
    con = sqlite3.connect(path)
    try:
        assert "label" in [row[1] for row in con.execute("pragma table_info(reviews)")]
    finally:
        con.close()


def test_two_stores_writing_at_once_keep_every_decision(tmp_path: Path) -> None:
    path = tmp_path / "reviews.sqlite3"
    with ReviewStore(path) as setup:
        setup.ensure_review("shop")
        setup.record_run("shop", run(VIEW, TABLE))
    a, b = ReviewStore(path), ReviewStore(path)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def write(store: ReviewStore, who: str) -> None:
        try:
            barrier.wait()
            for i in range(40):
                store.decide("shop", f"{who}:{i}", "accepted_risk", reviewer=who)
                store.decide("shop", VIEW.fingerprint, "deferred", reviewer=who, until=date(2026, 5, i % 28 + 1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, w)) for s, w in ((a, "ann"), (b, "bob"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a.close()
    b.close()
    assert not errors
    with ReviewStore(path) as check:
        history = check.decision_history("shop")
        assert len(history) == 160
        latest = check.decisions("shop")
        assert {f"{w}:{i}" for w in ("ann", "bob") for i in range(40)} <= set(latest)
        assert check.review("shop").revision == 1 + 160


WRITER = """
import sys
from pathlib import Path
from workbench.core.review import ReviewStore
with ReviewStore(Path(sys.argv[1])) as store:
    for i in range(25):
        store.decide("shop", f"{sys.argv[2]}:{i}", "false_positive", reviewer=sys.argv[2])
"""


def test_two_processes_writing_at_once_keep_every_decision(tmp_path: Path) -> None:
    path = tmp_path / "reviews.sqlite3"
    with ReviewStore(path) as setup:
        setup.ensure_review("shop")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), who]) for who in ("p1", "p2")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with ReviewStore(path) as check:
        assert len(check.decision_history("shop")) == 50


CRASHER = """
import os, sys
from pathlib import Path
from workbench.core.review import ReviewStore
from workbench.core.review.models import DecisionRow
store = ReviewStore(Path(sys.argv[1]))
with store._write() as session:
    session.add(DecisionRow(review_id=1, fingerprint="lost", status="open", note="", reviewer="x",
                            decided_at="now", revision=0))
    session.flush()
    os._exit(3)  # the process dies inside the write transaction
"""


def test_a_crash_mid_write_loses_only_the_unfinished_transaction(tmp_path: Path) -> None:
    path = tmp_path / "reviews.sqlite3"
    with ReviewStore(path) as setup:
        setup.ensure_review("shop")
        setup.decide("shop", "kept", "accepted_risk", reviewer="ann")
    crashed = subprocess.run([sys.executable, "-c", CRASHER, str(path)], check=False)
    assert crashed.returncode == 3
    with ReviewStore(path) as reopened:
        assert set(reopened.decisions("shop")) == {"kept"}
        reopened.decide("shop", "after", "open", reviewer="ann")  # and it is writable again
        assert set(reopened.decisions("shop")) == {"kept", "after"}
