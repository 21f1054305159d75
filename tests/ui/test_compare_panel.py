"""The Compare tab against real embedded PostgreSQL: two databases (or a database and a saved snapshot) with
planted differences, identical objects that must not be listed, side-by-side definitions, the findings diff with
review decisions, the sync script in the remediation editor (dry run leaves B unchanged; apply only once confirmed;
nothing to run on when B is a saved snapshot), cancel, failures, and no worker left behind."""

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
from PySide6.QtWidgets import QApplication, QMessageBox, QTextEdit
from pytestqt.qtbot import QtBot

from tests.ui.dialogs import on_next_dialog
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
from workbench.ui.compare.jobs import DsnSource, SchemaComparison, SnapshotFileSource
from workbench.ui.compare.panel import ComparePanel
from workbench.ui.connections.panel import ConnectionsPanel
from workbench.ui.main_window import MainWindow
from workbench.ui.remediation.confirm import ApplyConfirmDialog
from workbench.ui.remediation.editor import ResultsColumn, ScriptEditor

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
    opened: list[tuple[str, SchemaComparison]] = []

    def opener(script: str, comparison: SchemaComparison) -> bool:
        opened.append((script, comparison))
        return True

    panel.script_opener = opener
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

    # "Sync script…" hands the script and the comparison to the window's opener; nothing was applied to B.
    assert panel.sync_button.isEnabled()
    qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    assert len(opened) == 1 and opened[0][1] is panel.schema
    script = opened[0][0]
    assert script == panel.schema.sync_script
    assert "ALTER VIEW" in script and "security_invoker" in script and "CREATE POLICY" in script
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
    assert not panel.sync_button.isEnabled() and not panel.open_sync_script()
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


# -- the sync script in the remediation editor ---------------------------------------------------------------------


@pytest.fixture
def window(qtbot: QtBot, memory_keyring: MemoryKeyring) -> MainWindow:
    win = MainWindow(ProfileStore(), KeyringSecretStore())
    qtbot.addWidget(win)
    win.persist_state = False
    win.resize(1500, 900)
    win.show()
    return win


def open_sync_editor(qtbot: QtBot, window: MainWindow) -> ScriptEditor:
    """Press "Sync script…" of the Compare tab: one script editor opens (nothing else happens)."""
    assert window.compare.sync_button.isEnabled()
    qtbot.mouseClick(window.compare.sync_button, Qt.MouseButton.LeftButton)
    editors = window.findChildren(ScriptEditor)
    assert len(editors) == 1
    qtbot.waitExposed(editors[0])
    return editors[0]


def statuses(editor: ScriptEditor) -> list[tuple[str, str]]:
    """(result, message) of each row of the editor's statement results."""
    table = editor.results
    return [
        (table.item(r, ResultsColumn.STATUS).text(), table.item(r, ResultsColumn.MESSAGE).text())  # type: ignore[union-attr]
        for r in range(table.rowCount())
    ]


def test_the_sync_script_opens_in_the_editor_for_b_dry_runs_there_and_applies_only_once_confirmed(
    qtbot: QtBot, window: MainWindow, pg_server: EmbeddedServer, two_dbs: tuple[str, str], tmp_path: Path
) -> None:
    a_dsn, b_dsn = two_dbs
    password = pg_server.superuser_password
    pa = window.connections.create_profile(profile(pg_server, a_dsn, "staging", Environment.STAGING), password)
    pb = window.connections.create_profile(profile(pg_server, b_dsn, "production", Environment.PRODUCTION), password)
    compare = window.compare
    window.tabs.setCurrentWidget(compare)
    assert compare.choose_profile("a", pa.id) and compare.choose_profile("b", pb.id)
    run_compare(qtbot, compare, compare.compare_selected)
    assert compare.schema is not None and compare.schema.sync_script is not None
    script = compare.schema.sync_script

    # The editor shows the sync script, rollback section included, for B's connection; nothing ran.
    editor = open_sync_editor(qtbot, window)
    assert editor.windowTitle() == "Sync script — make B (production) match A (staging)"
    assert editor.heading.text() == "Sync script: make B (production) match A (staging)"
    assert editor.text() == script
    assert "ALTER VIEW" in script and "CREATE POLICY" in script
    assert "-- Rollback: restores production as it was in its snapshot" in script
    assert editor.profile == pb and "production" in editor.target_label.text()
    assert editor.env_chip.text() == "PRODUCTION" and editor.blocked_label.isHidden()
    assert editor.dry_run_button.isEnabled() and editor.apply_button.isEnabled()
    # Not built from findings: no Regenerate, no Verification tab (an apply is checked by comparing again).
    assert editor.regenerate_button.isHidden() and not editor.regenerate_button.isEnabled()
    assert not editor.bottom.isTabVisible(1)
    assert not view_has_invoker(b_dsn)

    # Editable, and saved as shown under the suggested name sync-<B's database>-<date>.sql.
    collected = compare.schema.b.snapshot.collected_at[:10]
    assert editor.suggested_file_name() == f"sync-{dbname(b_dsn)}-{collected}.sql"
    assert not editor.editor.isReadOnly()
    edited = script.replace("COMMIT;\n", "-- reviewed\nCOMMIT;\n", 1)
    editor.editor.setPlainText(edited)
    with qtbot.waitSignal(editor.sig_saved, timeout=10_000) as saved:
        editor.save_to(tmp_path / editor.suggested_file_name())
    assert Path(saved.args[0]).read_text(encoding="utf-8") == edited

    # Dry run on B (production: asked first): each statement reported, everything rolled back.
    asked = on_next_dialog(lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    with qtbot.waitSignal(editor.sig_dry_run_finished, timeout=60_000) as dry:
        qtbot.mouseClick(editor.dry_run_button, Qt.MouseButton.LeftButton)
    assert asked == ["QMessageBox"]
    result = dry.args[0]
    assert result.database == dbname(b_dsn) and result.ok
    rows = statuses(editor)
    assert len(rows) == len(result.outcomes) and {status for status, _m in rows} == {"ok", "skipped"}
    ran = [message for status, message in rows if status == "ok"]
    assert any(m.startswith('ALTER VIEW "app"."order_totals" SET') for m in ran)
    assert any(m.startswith('CREATE POLICY "own_orders"') for m in ran)
    assert "nothing was changed" in editor.results_summary.text() and editor.message.kind == "success"
    # B is unchanged: compared again, the same differences are there.
    assert not view_has_invoker(b_dsn)
    run_compare(qtbot, compare, compare.compare_selected)
    assert set(compare.shown_entries()) == PLANTED
    again = compare.schema.sync_script or ""
    assert again[again.index("\nBEGIN;") :] == script[script.index("\nBEGIN;") :]  # the header has the times

    # Apply asks for an explicit confirmation naming B; production wants the database name typed. Cancel: nothing.
    seen: dict[str, Any] = {}

    def cancel(dialog: ApplyConfirmDialog) -> None:
        assert isinstance(dialog, ApplyConfirmDialog)
        seen.update(
            title=dialog.windowTitle(),
            database=dialog.database,
            typed=dialog.typed.isVisible(),
            enabled=dialog.apply_button.isEnabled(),
        )
        dialog.cancel_button.click()

    log = on_next_dialog(cancel)
    qtbot.mouseClick(editor.apply_button, Qt.MouseButton.LeftButton)
    assert log == ["ApplyConfirmDialog"]
    assert seen == {"title": "Apply the sync script", "database": dbname(b_dsn), "typed": True, "enabled": False}
    assert editor.message.text() == "<span>Nothing was applied.</span>" and editor.apply_result is None
    assert not view_has_invoker(b_dsn)

    # Confirmed with the typed name: applied to B, which now matches A's security settings.
    def confirm(dialog: ApplyConfirmDialog) -> None:
        qtbot.keyClicks(dialog.typed, dbname(b_dsn))
        dialog.apply_button.click()

    on_next_dialog(confirm)
    with qtbot.waitSignal(editor.sig_apply_finished, timeout=60_000) as applied:
        assert editor.start_apply()
    assert applied.args[0].ok and applied.args[0].database == dbname(b_dsn)
    assert "Compare A and B again" in editor.message.text()
    assert view_has_invoker(b_dsn)
    run_compare(qtbot, compare, compare.compare_selected)
    assert compare.shown_entries() == [("index", "app.orders_account_idx", "a")]  # not a security setting
    assert compare.schema.sync_script is None and not compare.sync_button.isEnabled()
    editor.close()


def test_with_b_a_saved_snapshot_the_sync_script_can_be_saved_but_not_run(
    qtbot: QtBot, window: MainWindow, pg_server: EmbeddedServer, two_dbs: tuple[str, str], tmp_path: Path
) -> None:
    a_dsn, b_dsn = two_dbs
    pa = window.connections.create_profile(
        profile(pg_server, a_dsn, "staging", Environment.STAGING), pg_server.superuser_password
    )
    b_file = tmp_path / "production.json"
    save_snapshot(snapshot_of(b_dsn), b_file)
    compare = window.compare
    compare.add_snapshot_file(b_file, "b")
    assert compare.choose_profile("a", pa.id)
    run_compare(qtbot, compare, compare.compare_selected)

    editor = open_sync_editor(qtbot, window)
    assert editor.windowTitle() == "Sync script — make B (production.json) match A (staging)"
    assert editor.text() == compare.schema.sync_script and "-- Rollback:" in editor.text()  # type: ignore[union-attr]
    assert editor.profile is None
    # Dry run and Apply are disabled, and the window says why (the buttons' tooltips too).
    assert not editor.dry_run_button.isEnabled() and not editor.apply_button.isEnabled()
    reason = editor.blocked_label.text()
    assert editor.blocked_label.isVisible()
    assert reason.startswith("Dry run and Apply are not available: B (production.json) is a saved snapshot")
    assert editor.dry_run_button.toolTip() == reason and editor.apply_button.toolTip() == reason
    assert editor.target_label.text() == "No connection to run it on" and editor.env_chip.isHidden()
    assert editor.regenerate_button.isHidden()
    # Edits do not enable them; the shortcut path refuses too, saying why, without asking anything.
    editor.editor.insertPlainText("-- reviewed\n")
    assert not editor.dry_run_button.isEnabled() and not editor.apply_button.isEnabled()
    assert not editor.start_dry_run() and "saved snapshot" in editor.message.text()
    assert not editor.start_apply() and QApplication.activeModalWidget() is None
    assert editor.dry_run_result is None and editor.apply_result is None
    # Saving works: the name comes from B's database.
    assert editor.suggested_file_name().startswith(f"sync-{dbname(b_dsn)}-")
    with qtbot.waitSignal(editor.sig_saved, timeout=10_000) as saved:
        editor.save_to(tmp_path / "sync")
    assert saved.args == [str(tmp_path / "sync.sql")]
    assert (tmp_path / "sync.sql").read_text(encoding="utf-8") == editor.text()
    assert not view_has_invoker(b_dsn)

    # A live B that is not a saved connection (no profile to connect with): not runnable either.
    window.compare.compare(DsnSource(a_dsn, "staging"), DsnSource(b_dsn, "ad hoc"))
    qtbot.waitUntil(lambda: not compare.is_running and compare.findings_result is not None, timeout=90_000)
    editor.close()  # closed editors are deleted: they do not pile up hidden
    qtbot.waitUntil(lambda: not window.findChildren(ScriptEditor), timeout=5_000)
    other = open_sync_editor(qtbot, window)
    assert other.profile is None and not other.dry_run_button.isEnabled()
    assert other.blocked_label.text().startswith("Dry run and Apply are not available: B (ad hoc) is not a saved")
    other.close()
