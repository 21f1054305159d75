"""The Compare tab against real embedded PostgreSQL: two databases (or a database and a saved snapshot) with
planted differences, identical objects that must not be listed, side-by-side definitions, the findings diff with
review decisions, the sync script (never applied), cancel, failures, and no worker left behind."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import conninfo
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QTextEdit
from pytestqt.qtbot import QtBot

from tests.ui.memory_keyring import MemoryKeyring
from workbench.core.checks import run_checks
from workbench.core.compare import describe
from workbench.core.connections import open_session
from workbench.core.connections.profiles import ConnectionProfile, Environment, ProfileStore
from workbench.core.connections.secrets import KeyringSecretStore
from workbench.core.embedded import EmbeddedServer
from workbench.core.review import ReviewStore
from workbench.core.snapshot import collect_snapshot, save_snapshot
from workbench.core.snapshot.probes import PROBES, ProbeContext, probe
from workbench.ui.compare.ddl import DdlIndex, align, natural_key
from workbench.ui.compare.jobs import DsnSource, SnapshotFileSource
from workbench.ui.compare.panel import ComparePanel
from workbench.ui.connections.panel import ConnectionsPanel

BASE = """
do $$ begin
  if not exists (select from pg_roles where rolname = 'cmp_reader') then create role cmp_reader nologin; end if;
end $$;
create schema app;
create table app.accounts (id bigint generated always as identity primary key, name text not null,
                           status text default 'new');
create table app.orders (id bigint primary key, account_id bigint references app.accounts (id),
                         total numeric(12, 2) check (total >= 0), note text);
create index orders_account_idx on app.orders (account_id);
create index orders_total_idx on app.orders (total);
alter table app.orders enable row level security;
create policy own_orders on app.orders for select to cmp_reader using (account_id > 0);
create policy staff_orders on app.orders for all to cmp_reader using (true) with check (total < 1000);
create view app.order_totals with (security_invoker = true) as
    select account_id, sum(total) as total, count(*) as orders
    from app.orders
    where note is distinct from 'test'
    group by account_id;
create view app.active_accounts with (security_invoker = true) as select id, name from app.accounts;
create function app.touch(a int) returns int language sql security definer set search_path = '' as $$ select a $$;
grant usage on schema app to cmp_reader;
grant select on app.order_totals, app.active_accounts to cmp_reader;
"""

# B (production) drifted from A (staging): these, and nothing else, must be listed.
DRIFT = """
alter view app.order_totals reset (security_invoker);
drop policy own_orders on app.orders;
create policy own_orders on app.orders for select to cmp_reader using (account_id > 10);
drop index app.orders_account_idx;
"""
PLANTED = {
    ("view", "app.order_totals", "diff"),
    ("policy", "app.orders:own_orders", "diff"),
    ("index", "app.orders_account_idx", "a"),
}

SLOW_PROBE = "ui_compare_sleep"


def dbname(dsn: str) -> str:
    return str(conninfo.conninfo_to_dict(dsn)["dbname"])


@pytest.fixture
def two_dbs(pg_server: EmbeddedServer, load_sql: Callable[[str, str], None]) -> Iterator[tuple[str, str]]:
    suffix = uuid.uuid4().hex[:8]
    names = (f"cmp_staging_{suffix}", f"cmp_production_{suffix}")
    a, b = (pg_server.create_database(n) for n in names)
    load_sql(a, BASE)
    load_sql(b, BASE)
    load_sql(b, DRIFT)
    try:
        yield a, b
    finally:
        for name in names:
            pg_server.drop_database(name)


def profile(server: EmbeddedServer, dsn: str, name: str, env: Environment) -> ConnectionProfile:
    return ConnectionProfile(
        name=name,
        host="127.0.0.1",
        port=server.port,
        database=dbname(dsn),
        user="postgres",
        sslmode="disable",
        environment=env,
    )


@pytest.fixture
def connections(qtbot: QtBot, memory_keyring: MemoryKeyring) -> ConnectionsPanel:
    widget = ConnectionsPanel(ProfileStore(), KeyringSecretStore())
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def panel(qtbot: QtBot, connections: ConnectionsPanel, tmp_path: Path) -> Iterator[ComparePanel]:
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    widget = ComparePanel(connections, settings=settings)
    qtbot.addWidget(widget)
    widget.resize(1500, 900)
    widget.show()
    yield widget
    widget.shutdown()


@pytest.fixture
def saved_profiles(
    connections: ConnectionsPanel, pg_server: EmbeddedServer, two_dbs: tuple[str, str]
) -> tuple[ConnectionProfile, ConnectionProfile]:
    a, b = two_dbs
    password = pg_server.superuser_password
    pa = connections.create_profile(profile(pg_server, a, "staging", Environment.STAGING), password)
    pb = connections.create_profile(profile(pg_server, b, "production", Environment.PRODUCTION), password)
    return pa, pb


def run_compare(qtbot: QtBot, panel: ComparePanel, start: Callable[[], bool]) -> None:
    with qtbot.waitSignal(panel.sig_compare_finished, timeout=90_000):
        assert start()
        assert panel.is_running and not panel.compare_button.isEnabled() and panel.cancel_button.isEnabled()
    assert not panel.is_running and panel.compare_button.isEnabled() and not panel.cancel_button.isEnabled()


def snapshot_of(dsn: str) -> Any:
    with open_session(dsn) as session:
        return collect_snapshot(session)


def view_has_invoker(dsn: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("select reloptions from pg_class where oid = 'app.order_totals'::regclass").fetchone()
    return row is not None and "security_invoker=true" in (row[0] or [])


# -- two saved connections -----------------------------------------------------------------------------------------


def test_two_connections_show_the_planted_differences_and_nothing_else(
    qtbot: QtBot,
    panel: ComparePanel,
    saved_profiles: tuple[ConnectionProfile, ConnectionProfile],
    two_dbs: tuple[str, str],
    screenshot_dir: Path,
    tmp_path: Path,
) -> None:
    pa, pb = saved_profiles
    a_dsn, b_dsn = two_dbs
    # A decision on a finding B has and A has not, in B's review (named after its connection).
    b_findings = run_checks(snapshot_of(b_dsn)).findings
    a_prints = {f.fingerprint for f in run_checks(snapshot_of(a_dsn)).findings}
    only_b = sorted(f.fingerprint for f in b_findings if f.fingerprint not in a_prints)
    assert only_b, "the drift should give B findings A does not have"
    with ReviewStore() as store:
        store.ensure_review("production", pb)
        store.decide("production", only_b[0], "accepted_risk", reviewer="ann", note="reporting view, ok")

    assert panel.choose_profile("a", pa.id) and panel.choose_profile("b", pb.id)
    seen: list[str] = []
    panel.a_progress.bar.valueChanged.connect(lambda _v: seen.append(panel.a_progress.label.text()))
    with qtbot.waitSignal(panel.sig_schema_ready, timeout=90_000):
        qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
        assert panel.is_running and not panel.progress_row.isHidden()
    qtbot.waitUntil(lambda: not panel.is_running and panel.findings_result is not None, timeout=90_000)
    assert any("Reading" in text for text in seen), seen  # progress named the catalog steps
    assert panel.schema is not None and isinstance(panel.schema.b.source, DsnSource)
    assert panel.schema.b.source.password is None  # the keyring password went to the job only
    assert panel.progress_row.isHidden()

    # The tree lists exactly the planted differences; identical objects (tables, the other view and policy,
    # the index that exists on both sides, the function, grants) are not listed.
    assert set(panel.shown_entries()) == PLANTED
    assert panel.group_labels() == ["Views  (1)", "Indexes  (1)", "Policies  (1)"]
    assert panel.toggles["diff"].text() == "Different (2)" and panel.toggles["a"].text() == "Only in A (1)"
    summary = panel.summary.text()
    assert "<b>2</b> different" in summary and "<b>1</b> only in A" in summary and "<b>0</b> only in B" in summary
    assert panel.tabs.tabText(0) == "Objects (3)"

    # Filters: status toggles and text.
    panel.toggles["diff"].setChecked(False)
    assert set(panel.shown_entries()) == {("index", "app.orders_account_idx", "a")}
    panel.toggles["diff"].setChecked(True)
    panel.toggles["a"].setChecked(False)
    assert {e[2] for e in panel.shown_entries()} == {"diff"}
    panel.toggles["a"].setChecked(True)
    qtbot.keyClicks(panel.filter_edit, "own_ord")
    qtbot.waitUntil(lambda: panel.shown_entries() == [("policy", "app.orders:own_orders", "diff")], timeout=2_000)
    assert not panel.tree_hint.isHidden() and "1 of 3" in panel.tree_hint.text()
    panel.filter_edit.clear()
    qtbot.waitUntil(lambda: len(panel.shown_entries()) == 3, timeout=2_000)

    # The policy: same name, USING changed — one changed line, the others aligned and equal.
    assert panel.select_object("policy", "app.orders:own_orders")
    a_text, b_text = panel.ddl.text("a"), panel.ddl.text("b")
    assert "USING ((account_id > 0))" in a_text and "USING ((account_id > 10))" in b_text
    changed = [r for r in panel.ddl.rows if r.tag != "equal"]
    assert len(changed) == 1 and changed[0].tag == "changed" and changed[0].a_spans and changed[0].b_spans
    assert "CREATE POLICY own_orders" in panel.ddl.a_pane.toPlainText()
    assert [panel.attributes.topLevelItem(0).text(i) for i in range(3)] == [  # type: ignore[union-attr]
        "using",
        "(account_id > 0)",
        "(account_id > 10)",
    ]

    # The dropped index: A's definition, B says it has none.
    assert panel.select_object("index", "app.orders_account_idx")
    assert panel.ddl.a_pane.toPlainText().startswith("CREATE INDEX orders_account_idx ON app.orders")
    assert panel.ddl.b_pane.toPlainText() == "" and "Not in B (production)" in panel.ddl.b_pane.placeholderText()
    assert panel.attributes.isHidden()

    # The view that lost security_invoker: the WITH line differs, the query lines face each other unchanged.
    assert panel.select_object("view", "app.order_totals")
    assert "security_invoker=true" in panel.ddl.text("a") and "security_invoker" not in panel.ddl.text("b")
    tags = [r.tag for r in panel.ddl.rows]
    assert "equal" in tags and tags.count("equal") >= 4 and any(t != "equal" for t in tags)
    assert panel.ddl.a_pane.toPlainText().count("\n") == panel.ddl.b_pane.toPlainText().count("\n")  # aligned
    assert len(panel.ddl.a_pane.extraSelections()) >= 1 and len(panel.ddl.b_pane.extraSelections()) >= 1
    full_width = [s for s in panel.ddl.a_pane.extraSelections() if isinstance(s, QTextEdit.ExtraSelection)]
    assert full_width
    names = {panel.attributes.topLevelItem(i).text(0) for i in range(panel.attributes.topLevelItemCount())}  # type: ignore[union-attr]
    assert names == {"options", "security_invoker"}
    assert "PostgreSQL" in panel.ddl.a_title.text() and "staging" in panel.ddl.a_title.text()
    qtbot.wait(100)
    panel.grab().save(str(screenshot_dir / "compare_view.png"))

    # Findings: B-only findings, with the decision from B's review beside the one decided.
    shown = panel.findings_view.shown()
    assert ("b", only_b[0], "accepted risk") in shown
    assert {fp for group, fp, _ in shown if group == "b"} == set(only_b)
    assert panel.findings_view.review_b.currentData() == "production"
    assert panel.findings_view.review_a.currentData() is None  # there is no review named "staging"
    assert panel.tabs.tabText(1) == f"Findings ({len(shown)})"
    assert "accepted risk by ann — reporting view, ok" in panel.findings_view.details.toPlainText()
    panel.tabs.setCurrentIndex(1)
    panel.grab().save(str(screenshot_dir / "compare_findings.png"))
    # Another review (none) for B: the decision goes away.
    panel.choose_reviews(None, None)
    qtbot.waitUntil(lambda: ("b", only_b[0], "") in panel.findings_view.shown(), timeout=10_000)

    # The sync script opens read-only, saves as .sql, and was not applied to B.
    assert panel.sync_button.isEnabled()
    dialog = panel.open_sync_script()
    assert dialog is not None
    script = dialog.text()
    assert "ALTER VIEW" in script and "security_invoker" in script and "CREATE POLICY" in script
    assert dialog.view.editor.isReadOnly()
    saved = dialog.save_to(tmp_path / "sync")
    assert saved == tmp_path / "sync.sql" and saved.read_text() == script
    dialog.close()
    assert not view_has_invoker(b_dsn) and view_has_invoker(a_dsn)

    # The choices are remembered for the next time.
    settings = panel.settings
    assert settings is not None and settings.value("compare/a") == ["profile", pa.id]


def test_identical_databases_list_nothing(
    qtbot: QtBot, panel: ComparePanel, two_dbs: tuple[str, str], load_sql: Callable[[str, str], None]
) -> None:
    a, _b = two_dbs
    run_compare(qtbot, panel, lambda: panel.compare(DsnSource(a, "one"), DsnSource(a, "same")))
    assert panel.shown_entries() == []
    assert not panel.tree_hint.isHidden() and "identical on both sides" in panel.tree_hint.text()
    assert not panel.sync_button.isEnabled()
    assert "No difference in findings" in panel.findings_view.hint.text()


def test_a_saved_snapshot_compared_with_a_live_database(
    qtbot: QtBot,
    panel: ComparePanel,
    saved_profiles: tuple[ConnectionProfile, ConnectionProfile],
    two_dbs: tuple[str, str],
    tmp_path: Path,
) -> None:
    _pa, pb = saved_profiles
    path = tmp_path / "staging-snapshot.json"
    save_snapshot(snapshot_of(two_dbs[0]), path)
    panel.add_snapshot_file(path, "a")
    assert panel.a_picker.choice() == ("file", str(path.resolve()))
    assert panel.b_picker.combo.findData(f"file:{path.resolve()}") >= 0  # offered on both sides
    assert panel.choose_profile("b", pb.id)
    run_compare(qtbot, panel, panel.compare_selected)
    assert set(panel.shown_entries()) == PLANTED
    assert "snapshot file staging-snapshot.json" in panel.summary.text()
    assert panel.select_object("view", "app.order_totals")
    assert "security_invoker=true" in panel.ddl.text("a")
    # Swapped: the index is now only in B.
    panel.swap()
    assert panel.b_picker.choice() == ("file", str(path.resolve()))
    run_compare(qtbot, panel, panel.compare_selected)
    assert ("index", "app.orders_account_idx", "b") in panel.shown_entries()


def test_a_broken_snapshot_file_fails_clearly_and_stops_the_other_side(
    qtbot: QtBot, panel: ComparePanel, two_dbs: tuple[str, str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with qtbot.waitSignal(panel.sig_compare_failed, timeout=30_000) as blocker:
        panel.compare(SnapshotFileSource(broken, "broken"), DsnSource(two_dbs[1], "production"))
    assert "broken.json cannot be read" in blocker.args[0]
    qtbot.waitUntil(lambda: not panel.is_running, timeout=10_000)
    assert "did not finish" in panel.summary.text() and panel.compare_button.isEnabled()
    assert panel.shown_entries() == []


@pytest.fixture
def slow_probe() -> Iterator[None]:
    @probe(SLOW_PROBE)
    def sleep(ctx: ProbeContext) -> list[dict[str, Any]]:
        return ctx.rows("SELECT pg_catalog.pg_sleep(25) AS slept")

    try:
        yield
    finally:
        PROBES.pop(SLOW_PROBE, None)


def sleeping_backends(dsn: str) -> list[int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'workbench' AND query LIKE '%pg_sleep%'"
            " AND state = 'active'"
        ).fetchall()
    return [r[0] for r in rows]


def test_cancel_stops_both_collections_on_the_servers(
    qtbot: QtBot, panel: ComparePanel, two_dbs: tuple[str, str], slow_probe: None
) -> None:
    a, b = two_dbs
    panel.compare(DsnSource(a, "staging"), DsnSource(b, "production"))
    qtbot.waitUntil(lambda: len(sleeping_backends(a)) == 2, timeout=30_000)  # both sessions (same server)
    started = time.perf_counter()
    with qtbot.waitSignal(panel.sig_compare_cancelled, timeout=5_000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
        assert not panel.cancel_button.isEnabled()
    assert time.perf_counter() - started < 2.0
    qtbot.waitUntil(lambda: not panel.is_running, timeout=5_000)
    assert "cancelled" in panel.summary.text().lower()
    assert panel.compare_button.isEnabled() and panel.progress_row.isHidden() and panel.shown_entries() == []
    qtbot.waitUntil(lambda: not sleeping_backends(a), timeout=3_000)


# -- without Qt widgets: definitions and alignment ----------------------------------------------------------------


def test_every_compared_object_has_a_definition(two_dbs: tuple[str, str]) -> None:
    snap = snapshot_of(two_dbs[0])
    index = DdlIndex(snap)
    described = describe(snap)
    for kind, key in described:
        text = index.ddl(kind, key)
        assert text, (kind, key)
    assert "CREATE VIEW app.order_totals\nWITH (security_invoker=true)\nAS\n" in str(
        index.ddl("view", "app.order_totals")
    )
    column = str(index.ddl("column", "app.accounts.status"))
    assert column.splitlines()[1:] == ["    ADD COLUMN status text", "        DEFAULT 'new'::text", "        NULL;"]
    assert index.ddl("view", "app.nothing") is None


def test_align_pairs_changed_lines_and_pads_missing_ones() -> None:
    rows = align("a\nb\nc\nd", "a\nB\nc\nx\nd")
    assert [(r.a, r.b, r.tag) for r in rows] == [
        ("a", "a", "equal"),
        ("b", "B", "changed"),
        ("c", "c", "equal"),
        (None, "x", "added"),
        ("d", "d", "equal"),
    ]
    assert rows[1].a_spans == ((0, 1),) and rows[1].b_spans == ((0, 1),)
    # Whole tokens differ: `0` vs `10`, not one inserted digit.
    (row,) = align("USING (id > 0)", "USING (id > 10)")
    assert row.a_spans == ((12, 1),) and row.b_spans == ((12, 2),)
    assert sorted(["t10", "t2", "t1"], key=natural_key) == ["t1", "t2", "t10"]


# -- in the main window --------------------------------------------------------------------------------------------


def test_the_main_window_has_a_compare_tab(
    qtbot: QtBot,
    memory_keyring: MemoryKeyring,
    two_dbs: tuple[str, str],
    tmp_path: Path,
    screenshot_dir: Path,
) -> None:
    from PySide6.QtWidgets import QApplication

    from workbench.ui.main_window import MainWindow
    from workbench.ui.theme import Theme, apply_theme

    apply_theme(QApplication.instance(), Theme.LIGHT)  # type: ignore[arg-type]
    window = MainWindow(ProfileStore(), KeyringSecretStore())
    qtbot.addWidget(window)
    window.persist_state = False
    window.resize(1600, 960)
    window.show()
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())][-1] == "Compare"
    window.tabs.setCurrentWidget(window.compare)
    a_file, b_file = tmp_path / "staging.json", tmp_path / "production.json"
    save_snapshot(snapshot_of(two_dbs[0]), a_file)
    save_snapshot(snapshot_of(two_dbs[1]), b_file)
    compare = window.compare
    compare.add_snapshot_file(b_file, "b")
    compare.add_snapshot_file(a_file, "a")
    run_compare(qtbot, compare, compare.compare_selected)
    assert set(compare.shown_entries()) == PLANTED
    assert compare.select_object("view", "app.order_totals")
    qtbot.wait(100)  # let the layout settle (the progress row was just hidden)
    window.grab().save(str(screenshot_dir / "compare_window.png"))
    assert window.width() == 1600  # long names and labels do not widen the window
    window.close()  # shutdown() cancels and waits: nothing is left running


def test_a_connection_without_a_saved_password_asks_for_it(
    qtbot: QtBot,
    panel: ComparePanel,
    connections: ConnectionsPanel,
    pg_server: EmbeddedServer,
    two_dbs: tuple[str, str],
) -> None:
    prod = connections.create_profile(profile(pg_server, two_dbs[1], "production", Environment.PRODUCTION))
    assert panel.choose_profile("a", prod.id) and panel.choose_profile("b", prod.id)
    asked: list[str] = []

    def refuse(p: ConnectionProfile, **_kw: Any) -> tuple[str, bool] | None:
        asked.append(p.name)
        return None

    connections.prompt_password = refuse  # type: ignore[method-assign]
    assert not panel.compare_selected()
    assert asked == ["production"] and "no password was given for side A" in panel.summary.text()

    def give(p: ConnectionProfile, **_kw: Any) -> tuple[str, bool] | None:
        asked.append(p.name)
        return pg_server.superuser_password, False

    connections.prompt_password = give  # type: ignore[method-assign]
    run_compare(qtbot, panel, panel.compare_selected)
    assert len(asked) == 3 and panel.shown_entries() == []
