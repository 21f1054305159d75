"""The Review tab against a real embedded PostgreSQL and a real SQLite review store in tmp_path.

Decisions show in the findings tree, the checklist is ticked (automatic items are not), sign-off and the
"changed since sign-off" state, the run history against the previous run, and a damaged or newer store that
turns the review feature off while the app keeps working.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.memory_keyring import MemoryKeyring
from workbench.core.connections.profiles import ConnectionProfile, ProfileStore
from workbench.core.connections.secrets import KeyringSecretStore
from workbench.core.embedded import EmbeddedServer
from workbench.core.review import DecisionStatus, ReviewStore
from workbench.ui.main_window import MainWindow
from workbench.ui.models.findings_model import Column, FindingRole, StatusRole
from workbench.ui.review.controller import ReviewView
from workbench.ui.review.models import DecisionColumn
from workbench.ui.review.panel import REVIEWER_KEY, ReviewPanel
from workbench.ui.theme import Theme, apply_theme

SCHEMA = """
CREATE TABLE public.customers (id int PRIMARY KEY, email text NOT NULL);
CREATE TABLE public.orders (id bigserial PRIMARY KEY, customer_id int REFERENCES public.customers (id), note text);
CREATE INDEX orders_customer_idx ON public.orders (customer_id);
GRANT SELECT ON public.orders, public.customers TO PUBLIC;
CREATE VIEW public.order_notes WITH (security_invoker = false) AS SELECT id, note FROM public.orders;
GRANT SELECT ON public.order_notes TO PUBLIC;
ANALYZE;
"""
TIMEOUT = 60_000
CUSTOMERS = "rls_disabled_in_public:public.customers"
ORDERS = "rls_disabled_in_public:public.orders"


@pytest.fixture
def shop_db(fresh_db: str, load_sql: Callable[[str, str], None]) -> str:
    load_sql(fresh_db, SCHEMA)
    return fresh_db


def make_window(qtbot: QtBot) -> MainWindow:
    win = MainWindow(ProfileStore(), KeyringSecretStore())
    qtbot.addWidget(win)
    win.resize(1500, 900)
    win.show()
    return win


@pytest.fixture
def window(qtbot: QtBot, memory_keyring: MemoryKeyring) -> MainWindow:
    win = make_window(qtbot)
    win.review.reviewer_edit.setText("Alice Martin")
    return win


def add_profile(window: MainWindow, server: EmbeddedServer, dsn: str) -> ConnectionProfile:
    profile = ConnectionProfile(
        name="shop",
        host="127.0.0.1",
        port=server.port,
        database=str(conninfo.conninfo_to_dict(dsn)["dbname"]),
        user="postgres",
        sslmode="disable",
    )
    return window.connections.create_profile(profile, server.superuser_password)


def audit(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.review.sig_run_recorded, timeout=TIMEOUT):
        assert window.run_audit()


def next_view(qtbot: QtBot, panel: ReviewPanel, action: Callable[[], object]) -> ReviewView:
    with qtbot.waitSignal(panel.sig_view_shown, timeout=10_000) as blocker:
        action()
    view: ReviewView = blocker.args[0]
    return view


def tree_status(window: MainWindow, fingerprint: str) -> tuple[str, str]:
    """(StatusRole, the Status column's text) of a finding's row in the findings tree."""
    model = window.findings.model
    index = model.index_of_fingerprint(fingerprint)
    assert index.isValid() and index.data(FindingRole).fingerprint == fingerprint
    return index.data(StatusRole), index.siblingAtColumn(Column.STATUS).data()


def test_deciding_a_finding_shows_in_the_tree(
    qtbot: QtBot, window: MainWindow, pg_server: EmbeddedServer, shop_db: str, screenshot_dir: Path
) -> None:
    panel = window.review
    add_profile(window, pg_server, shop_db)
    audit(qtbot, window)
    state = panel.state
    assert state is not None and state.review.name == "shop" and state.latest_run is not None
    assert panel.title.text() == "Review “shop”"
    assert {CUSTOMERS, ORDERS} <= {fs.finding.fingerprint for fs in state.findings}
    assert panel.decisions_proxy.rowCount() == len(state.findings)
    assert tree_status(window, ORDERS) == ("", "")
    assert window.findings.model.headerData(Column.STATUS, Qt.Orientation.Horizontal) == "Status"

    # Accept the risk on one finding, with a note: from the findings tree's context menu to the Review tab.
    row = window.findings.proxy.mapFromSource(window.findings.model.index_of_fingerprint(ORDERS))
    menu = window.findings.context_menu(row)
    next(a for a in menu.actions() if a.objectName() == "open_review").trigger()
    assert window.tabs.currentWidget() is panel and panel.sections.currentIndex() == 0
    assert [fs.finding.fingerprint for fs in panel.selected_statuses()] == [ORDERS]
    assert "public.orders" in panel.selection_label.text() and panel.current_decision.text() == "No decision yet: open."
    panel.status_combo.setCurrentIndex(panel.status_combo.findData(DecisionStatus.ACCEPTED_RISK.value))
    assert not panel.until_edit.isEnabled()
    panel.note_edit.setPlainText("Read-only reporting table; reviewed with the app team.")
    view = next_view(qtbot, panel, lambda: qtbot.mouseClick(panel.decide_button, Qt.MouseButton.LeftButton))
    assert view.state is not None
    decided = next(fs for fs in view.state.findings if fs.finding.fingerprint == ORDERS)
    assert decided.status is DecisionStatus.ACCEPTED_RISK and decided.decision is not None
    assert decided.decision.reviewer == "Alice Martin"
    assert tree_status(window, ORDERS) == ("accepted risk", "accepted risk")
    tooltip = (
        window.findings.model.index_of_fingerprint(ORDERS)
        .siblingAtColumn(Column.STATUS)
        .data(Qt.ItemDataRole.ToolTipRole)
    )
    assert "Alice Martin" in tooltip and "Read-only reporting table" in tooltip
    # The selection survives the refresh and shows the decision.
    assert [fs.finding.fingerprint for fs in panel.selected_statuses()] == [ORDERS]
    assert "accepted risk, by Alice Martin" in panel.current_decision.text()

    # Defer two findings at once until a date.
    until = date.today() + timedelta(days=45)
    assert panel.select_fingerprints({CUSTOMERS, "security_definer_view:public.order_notes"}) == 2
    assert "2 findings selected" in panel.selection_label.text()
    panel.status_combo.setCurrentIndex(panel.status_combo.findData(DecisionStatus.DEFERRED.value))
    assert panel.until_edit.isEnabled()
    panel.until_edit.setDate(panel.until_edit.date().addDays(15))
    next_view(qtbot, panel, panel.record_decision)
    expected = f"deferred until {until.isoformat()}"
    assert tree_status(window, CUSTOMERS) == ("deferred", "deferred")  # the date is in the tooltip
    assert tree_status(window, "security_definer_view:public.order_notes")[0] == "deferred"
    cell = window.findings.model.index_of_fingerprint(CUSTOMERS).siblingAtColumn(Column.STATUS)
    assert cell.data(Qt.ItemDataRole.ToolTipRole).startswith(expected + " — decided by Alice Martin")
    # The decisions table shows them and filters on them.
    panel.show_combo.setCurrentIndex(panel.show_combo.findData("decided"))
    proxy = panel.decisions_proxy
    shown = {proxy.index(r, DecisionColumn.STATUS).data() for r in range(proxy.rowCount())}
    assert shown == {"accepted risk", expected}
    panel.show_combo.setCurrentIndex(0)

    window.tabs.setCurrentWidget(window.findings)
    window.findings.tree.expandAll()
    apply_theme(QApplication.instance(), Theme.LIGHT)  # type: ignore[arg-type]
    window.grab().save(str(screenshot_dir / "findings_with_review_status.png"))
    window.tabs.setCurrentWidget(panel)
    panel.select_fingerprints({ORDERS})
    window.grab().save(str(screenshot_dir / "review_tab_findings.png"))


def test_checklist_signoff_and_run_history(
    qtbot: QtBot, window: MainWindow, pg_server: EmbeddedServer, shop_db: str, data_dir: Path, screenshot_dir: Path
) -> None:
    panel = window.review
    profile = add_profile(window, pg_server, shop_db)
    audit(qtbot, window)
    window.tabs.setCurrentWidget(panel)
    assert panel.banner.text() == "Not signed off yet."
    assert not panel.sign_button.isEnabled()  # no role yet

    # Automatic items: shown with their state, not user-checkable.
    auto = panel.checklist_item("no_security_definer_views")
    assert auto is not None and auto.text(0) == "No security-definer views exposed"
    assert not auto.flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert auto.checkState(0) == Qt.CheckState.Unchecked and "open finding" in auto.text(3)
    assert auto.text(1) == "automatic (run #1)"
    # A manual item: ticked with who and when.
    assert panel.state is not None
    key = next(s.item.key for s in panel.state.checklist if not s.item.automatic)
    manual = panel.checklist_item(key)
    assert manual is not None and manual.flags() & Qt.ItemFlag.ItemIsUserCheckable
    view = next_view(qtbot, panel, lambda: manual.setCheckState(0, Qt.CheckState.Checked))
    assert view.state is not None
    ticked = next(c for c in view.state.checklist if c.item.key == key)
    assert ticked.ticked and ticked.who == "Alice Martin" and ticked.at
    item = panel.checklist_item(key)
    assert item is not None and item.checkState(0) == Qt.CheckState.Checked and item.text(1) == "Alice Martin"
    assert item.text(2).startswith(str(date.today().year))

    # Sign-off: reviewer from the setting, role and statement.
    panel.sections.setCurrentIndex(2)
    panel.role_edit.setText("Lead DBA")
    assert panel.sign_button.isEnabled() and panel.signing_as.text() == "Alice Martin"
    view = next_view(qtbot, panel, lambda: qtbot.mouseClick(panel.sign_button, Qt.MouseButton.LeftButton))
    assert view.state is not None and view.state.current_signoff is not None
    assert panel.banner.text().startswith("Signed by Alice Martin (Lead DBA) on ")
    assert panel.signoffs.rowCount() == 1 and panel.signoffs.item(0, 4).text() == "current"
    assert window.settings.value(REVIEWER_KEY) == "Alice Martin"
    apply_theme(QApplication.instance(), Theme.LIGHT)  # type: ignore[arg-type]
    window.grab().save(str(screenshot_dir / "review_tab_signed.png"))

    # Any change afterwards supersedes the sign-off: here a decision.
    panel.select_fingerprints({ORDERS})
    panel.status_combo.setCurrentIndex(panel.status_combo.findData(DecisionStatus.FALSE_POSITIVE.value))
    next_view(qtbot, panel, panel.record_decision)
    assert panel.banner.text().startswith("Changed since sign-off — sign again. Last signed by Alice Martin")
    assert panel.signoffs.item(0, 4).text() == "superseded: changed since"

    # Fix one finding on the server and audit again: the run history compares with the previous run.
    with psycopg.connect(shop_db, autocommit=True) as conn:
        conn.execute("ALTER TABLE public.customers ENABLE ROW LEVEL SECURITY")
        conn.execute("CREATE POLICY own ON public.customers USING (true)")
    audit(qtbot, window)
    runs = panel.runs
    assert runs.rowCount() == 2
    latest = [runs.item(0, c).text() for c in range(8)]
    assert latest[0] == "#2" and latest[5] == "1"  # fixed: customers' RLS
    assert runs.item(1, 0).text() == "#1" and runs.item(1, 5).text() == "—"
    details = panel.run_details
    groups = {}
    for i in range(details.topLevelItemCount()):
        top = details.topLevelItem(i)
        assert top is not None
        groups[top.text(0).split(" (")[0]] = top
    fixed = groups["Fixed"].child(0)
    assert fixed is not None and (fixed.text(0), fixed.text(1)) == ("public.customers", "rls_disabled_in_public")
    assert "New" in groups and "Still open" in groups
    with ReviewStore(data_dir / "reviews.sqlite3") as store:
        assert store.decisions(profile.name)[CUSTOMERS].status is DecisionStatus.FIXED
    panel.sections.setCurrentIndex(3)
    window.grab().save(str(screenshot_dir / "review_tab_runs.png"))
    panel.sections.setCurrentIndex(1)
    window.grab().save(str(screenshot_dir / "review_tab_checklist.png"))


@pytest.mark.parametrize("damage", ["corrupt", "newer"])
def test_a_damaged_or_newer_store_turns_the_review_feature_off_and_the_app_keeps_working(
    qtbot: QtBot,
    memory_keyring: MemoryKeyring,
    pg_server: EmbeddedServer,
    shop_db: str,
    data_dir: Path,
    damage: str,
    screenshot_dir: Path,
) -> None:
    path = data_dir / "reviews.sqlite3"
    data_dir.mkdir(parents=True)
    if damage == "corrupt":
        path.write_bytes(b"this is not an SQLite database\x00" * 200)
    else:
        ReviewStore(path).close()
        with sqlite3.connect(path) as con:
            con.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, '2030-01-01')")
        con.close()
    before = path.read_bytes()

    window = make_window(qtbot)
    panel = window.review
    qtbot.waitUntil(lambda: panel.controller.unavailable is not None, timeout=10_000)
    expected = "damaged" if damage == "corrupt" else "written by a newer release"
    assert expected in panel.controller.unavailable  # type: ignore[operator]
    assert panel.placeholder.text().startswith("The review feature is off: ")
    assert expected in panel.placeholder.text() and "left untouched" in panel.placeholder.text()
    assert window.message_bar.kind == "warning" and expected in window.message_bar.text()
    assert not panel.reviewer_edit.isEnabled() and panel.reviewer_edit.isHidden()

    # The rest of the app works: an audit runs and shows its findings; the store is left as it was.
    add_profile(window, pg_server, shop_db)
    with qtbot.waitSignal(window.sig_audit_finished, timeout=TIMEOUT):
        assert window.run_audit()
    assert window.findings.model.finding_count > 0
    assert tree_status(window, ORDERS) == ("", "")
    assert panel.stack.currentWidget() is panel.placeholder
    assert path.read_bytes() == before
    if damage == "corrupt":
        window.tabs.setCurrentWidget(panel)
        window.grab().save(str(screenshot_dir / "review_tab_store_damaged.png"))
