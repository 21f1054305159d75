"""The remediation script editor against a real embedded PostgreSQL and a real review store in tmp_path.

Dry run (a failing statement is reported per statement and nothing changes), save as .sql, a confirmed apply on a
dev connection followed by the re-audit that marks the finding fixed in the review, and the production guard.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import conninfo
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.dialogs import on_next_dialog
from tests.ui.memory_keyring import MemoryKeyring
from workbench.core.connections.profiles import ConnectionProfile, Environment, ProfileStore
from workbench.core.connections.secrets import KeyringSecretStore
from workbench.core.embedded import EmbeddedServer
from workbench.core.remediation import Confirmation, FixVerification
from workbench.core.review import DecisionStatus, ReviewStore
from workbench.ui.main_window import MainWindow
from workbench.ui.models.findings_model import FindingRole
from workbench.ui.remediation.confirm import ApplyConfirmDialog
from workbench.ui.remediation.editor import ResultsColumn, ScriptEditor
from workbench.ui.theme import Theme, apply_theme

SCHEMA = """
CREATE TABLE public.customers (id int PRIMARY KEY, email text NOT NULL);
CREATE TABLE public.orders (id bigserial PRIMARY KEY, customer_id int REFERENCES public.customers (id), note text);
CREATE INDEX orders_customer_idx ON public.orders (customer_id);
GRANT SELECT ON public.orders, public.customers TO PUBLIC;
INSERT INTO public.customers SELECT g, 'user' || g || '@example.org' FROM generate_series(1, 50) g;
ANALYZE;
"""
TIMEOUT = 60_000


def dbname(dsn: str) -> str:
    return str(conninfo.conninfo_to_dict(dsn)["dbname"])


def rls_enabled(dsn: str, table: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT relrowsecurity FROM pg_class WHERE oid = %s::regclass", (table,)).fetchone()
    return bool(row and row[0])


@pytest.fixture
def shop_db(fresh_db: str, load_sql: Callable[[str, str], None]) -> str:
    load_sql(fresh_db, SCHEMA)
    return fresh_db


@pytest.fixture
def window(qtbot: QtBot, memory_keyring: MemoryKeyring) -> MainWindow:
    win = MainWindow(ProfileStore(), KeyringSecretStore())
    qtbot.addWidget(win)
    win.resize(1500, 900)
    win.show()
    return win


def add_profile(
    window: MainWindow, server: EmbeddedServer, dsn: str, environment: Environment = Environment.DEV
) -> ConnectionProfile:
    profile = ConnectionProfile(
        name=f"shop ({environment.value})",
        host="127.0.0.1",
        port=server.port,
        database=dbname(dsn),
        user="postgres",
        sslmode="disable",
        environment=environment,
    )
    return window.connections.create_profile(profile, server.superuser_password)


def audit(qtbot: QtBot, window: MainWindow) -> None:
    """Run the audit of the selected connection and wait until the review store recorded it."""
    with qtbot.waitSignal(window.review.sig_run_recorded, timeout=TIMEOUT):
        assert window.run_audit()


def leaf(window: MainWindow, check: str, key: str) -> QModelIndex:
    proxy = window.findings.proxy
    window.findings.tree.expandAll()
    for c in range(proxy.rowCount()):
        cat = proxy.index(c, 0)
        for k in range(proxy.rowCount(cat)):
            chk = proxy.index(k, 0, cat)
            for r in range(proxy.rowCount(chk)):
                index = proxy.index(r, 0, chk)
                finding = index.data(FindingRole)
                if finding.check == check and finding.key == key:
                    return index
    raise AssertionError(f"no row for {check} {key}")


def open_editor_from_menu(window: MainWindow, index: QModelIndex) -> ScriptEditor:
    window.findings.tree.setCurrentIndex(index)
    menu = window.findings.context_menu(index)
    action = next(a for a in menu.actions() if a.objectName() == "open_script")
    assert action.text() == "Remediation script for 1 finding…"
    action.trigger()
    editors = window.findChildren(ScriptEditor)
    assert len(editors) == 1
    return editors[0]


def watch_destroyed(widget: QWidget) -> list[bool]:
    """A list that gets an item when `widget` is destroyed (pytest-qt cannot wait on `destroyed` itself)."""
    gone: list[bool] = []
    widget.destroyed.connect(lambda: gone.append(True))
    return gone


def test_dry_run_reports_the_failing_statement_changes_nothing_and_the_script_saves(
    qtbot: QtBot,
    window: MainWindow,
    pg_server: EmbeddedServer,
    shop_db: str,
    tmp_path: Path,
    screenshot_dir: Path,
) -> None:
    add_profile(window, pg_server, shop_db)
    audit(qtbot, window)

    # Multi-select in the tree: two findings, then the toolbar action opens one script for both.
    tree = window.findings.tree
    first, second = (
        leaf(window, "rls_disabled_in_public", "public.orders"),
        leaf(window, "rls_disabled_in_public", "public.customers"),
    )
    tree.setCurrentIndex(first)
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    tree.selectionModel().select(second, flags)
    assert {f.key for f in window.findings.selected_findings()} == {"public.orders", "public.customers"}
    assert window.script_action.isEnabled()
    window.script_action.trigger()
    editor = window.findChildren(ScriptEditor)[0]
    qtbot.waitExposed(editor)
    text = editor.text()
    assert 'ALTER TABLE "public"."orders" ENABLE ROW LEVEL SECURITY;' in text
    assert 'ALTER TABLE "public"."customers" ENABLE ROW LEVEL SECURITY;' in text
    assert editor.heading.text() == "Remediation script for 2 findings"
    # Highlighted with the app's SQL highlighter: the SET keyword of the header is bold.
    block = editor.editor.document().findBlockByNumber(text.splitlines().index("SET lock_timeout = '5s';"))
    assert any(r.start == 0 and r.format.fontWeight() >= 600 for r in block.layout().formats())

    # An edit that cannot work: a statement on a table that does not exist, inside the transaction.
    broken = text.replace("COMMIT;", "ALTER TABLE public.no_such_table ENABLE ROW LEVEL SECURITY;\nCOMMIT;", 1)
    editor.editor.setPlainText(broken)
    bad_line = broken.splitlines().index("ALTER TABLE public.no_such_table ENABLE ROW LEVEL SECURITY;") + 1
    with qtbot.waitSignal(editor.sig_dry_run_finished, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(editor.dry_run_button, Qt.MouseButton.LeftButton)
        assert editor.busy and not editor.apply_button.isEnabled()
    result = blocker.args[0]
    rows = {
        editor.results.item(r, ResultsColumn.INDEX).text(): (
            editor.results.item(r, ResultsColumn.LINE).text(),
            editor.results.item(r, ResultsColumn.STATUS).text(),
            editor.results.item(r, ResultsColumn.MESSAGE).text(),
        )
        for r in range(editor.results.rowCount())
    }
    assert len(rows) == len(result.outcomes)
    failing = [(line, msg) for line, status, msg in rows.values() if status == "error"]
    assert failing == [(str(bad_line), failing[0][1])] and "no_such_table" in failing[0][1]
    assert [status for _l, status, _m in rows.values()].count("ok") >= 3  # SET and the two ALTER TABLEs
    assert "skipped" in [status for _l, status, _m in rows.values()]  # BEGIN / COMMIT: managed by the dry run
    assert "nothing was changed" in editor.results_summary.text()
    assert editor.message.kind == "error" and "no_such_table" in editor.message.text()
    # The failing statement is selected, its line marked, the cursor on it.
    assert editor.editor.marks == {bad_line: "#c62828"}
    assert editor.editor.current_line() == bad_line
    # Clicking another row moves the cursor to that statement's line.
    ok_row = next(r for r in range(editor.results.rowCount()) if editor.results.item(r, 2).text() == "ok")
    editor.results.setCurrentCell(ok_row, ResultsColumn.MESSAGE)
    assert editor.editor.current_line() == int(editor.results.item(ok_row, ResultsColumn.LINE).text())
    # Nothing changed on the server.
    assert not rls_enabled(shop_db, "public.orders") and not rls_enabled(shop_db, "public.customers")
    editor.results.setCurrentCell(
        next(r for r in range(editor.results.rowCount()) if editor.results.item(r, 2).text() == "error"), 0
    )
    apply_theme(QApplication.instance(), Theme.LIGHT)  # type: ignore[arg-type]
    editor.grab().save(str(screenshot_dir / "remediation_editor_dry_run.png"))

    # Save as .sql: the text as shown (edits included); the suffix is added.
    with qtbot.waitSignal(editor.sig_saved, timeout=10_000) as saved:
        editor.save_to(tmp_path / "fix-shop")
    assert saved.args == [str(tmp_path / "fix-shop.sql")]
    assert (tmp_path / "fix-shop.sql").read_text(encoding="utf-8") == broken
    assert editor.message.kind == "success"
    # Esc closes the window (and deletes it: editors do not pile up hidden).
    gone = watch_destroyed(editor)
    qtbot.keyClick(editor.results, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: bool(gone), timeout=5_000)
    assert not window.findChildren(ScriptEditor)


def test_apply_on_a_dev_connection_fixes_the_finding_and_the_reaudit_marks_it_fixed(
    qtbot: QtBot, window: MainWindow, pg_server: EmbeddedServer, shop_db: str, data_dir: Path, screenshot_dir: Path
) -> None:
    profile = add_profile(window, pg_server, shop_db)
    audit(qtbot, window)
    before = {f.fingerprint for f in window.findings.model.findings()}
    editor = open_editor_from_menu(window, leaf(window, "rls_disabled_in_public", "public.orders"))
    target = editor.script.findings[0]
    assert target.fingerprint == "rls_disabled_in_public:public.orders"

    # The confirmation dialog shows the target; on a dev connection no name needs typing.
    seen: dict[str, Any] = {}

    def confirm(dialog: QWidget) -> None:
        assert isinstance(dialog, ApplyConfirmDialog)
        seen["target"] = dialog.target.text()
        seen["tag"] = dialog.findChild(QWidget, "environment_tag").text()  # type: ignore[union-attr]
        seen["typed_visible"] = dialog.typed.isVisible()
        assert dialog.apply_button.isEnabled()
        dialog.apply_button.click()

    log = on_next_dialog(confirm)
    with (
        qtbot.waitSignal(editor.sig_apply_finished, timeout=TIMEOUT) as applied,
        qtbot.waitSignal(editor.sig_verified, timeout=TIMEOUT) as verified,
        qtbot.waitSignal(
            window.review.sig_run_recorded, timeout=TIMEOUT, check_params_cb=lambda _n, c: c.run.number == 2
        ) as recorded,
    ):
        qtbot.mouseClick(editor.apply_button, Qt.MouseButton.LeftButton)
    assert log == ["ApplyConfirmDialog"]
    assert seen == {"target": profile.target, "tag": "DEVELOPMENT", "typed_visible": False}
    assert applied.args[0].ok
    assert rls_enabled(shop_db, "public.orders")

    # The connection was audited again: the finding is gone, and shown as fixed.
    verification: FixVerification = verified.args[0]
    assert [f.fingerprint for f in verification.fixed] == [target.fingerprint]
    assert not [f for f in verification.still_open if f.fingerprint == target.fingerprint]
    # Enabling RLS without a policy is itself reported: the new finding shows as new.
    assert [f.fingerprint for f in verification.new] == ["rls_enabled_no_policy:public.orders"]
    after = {f.fingerprint for f in window.findings.model.findings()}
    assert after == before - {target.fingerprint} | {"rls_enabled_no_policy:public.orders"}
    summary = editor.verification_summary.text()
    assert summary.startswith("Fixed 1 of the 1 finding of this script; 1 new finding; 0 still open.")
    assert "marked fixed by run #2" in summary
    groups = [editor.verification_tree.topLevelItem(i).text(0) for i in range(3)]
    assert groups == ["Fixed (1)", "New (1)", "Still open (0)"]
    # The review store marked it fixed, verified by the second run.
    comparison = recorded.args[1]
    assert comparison.marked_fixed == (target.fingerprint,)
    with ReviewStore(data_dir / "reviews.sqlite3") as store:
        decision = store.decisions(profile.name)[target.fingerprint]
    assert decision.status is DecisionStatus.FIXED and decision.verified_run_id == comparison.run.id
    # …and the Review tab's run history says so.
    runs = window.review.runs
    assert [runs.item(0, c).text() for c in (0, 5, 6, 7)] == ["#2", "1", "1", str(len(before) - 1)]
    editor.grab().save(str(screenshot_dir / "remediation_editor_verified.png"))
    editor.close()


def test_production_guard_keeps_apply_disabled_until_the_typed_name_matches(
    qtbot: QtBot, window: MainWindow, pg_server: EmbeddedServer, shop_db: str, screenshot_dir: Path
) -> None:
    add_profile(window, pg_server, shop_db, Environment.PRODUCTION)
    audit(qtbot, window)
    editor = open_editor_from_menu(window, leaf(window, "rls_disabled_in_public", "public.orders"))
    name = dbname(shop_db)

    # The dialog itself: Apply is disabled until the exact name is typed (Enter does not bypass it).
    dialog = editor.confirmation_dialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.typed.isVisible() and "production" in dialog.guard.text()
    assert not dialog.apply_button.isEnabled()
    qtbot.keyClicks(dialog.typed, name[:-1])
    assert not dialog.apply_button.isEnabled()
    qtbot.keyClick(dialog.typed, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() == 0
    qtbot.keyClicks(dialog.typed, name[-1] + "x")
    assert not dialog.apply_button.isEnabled()
    qtbot.keyClick(dialog.typed, Qt.Key.Key_Backspace)
    assert dialog.apply_button.isEnabled()
    assert dialog.confirmation() == Confirmation(Environment.PRODUCTION, name, dialog.confirmed_by)
    dialog.grab().save(str(screenshot_dir / "remediation_confirm_production.png"))
    dialog.close()

    # Through the editor: a wrong name cannot be confirmed; cancelling applies nothing.
    def wrong_then_cancel(d: QWidget) -> None:
        assert isinstance(d, ApplyConfirmDialog)
        qtbot.keyClicks(d.typed, name.upper())
        assert not d.apply_button.isEnabled()
        d.cancel_button.click()

    on_next_dialog(wrong_then_cancel)
    assert not editor.start_apply()
    assert editor.message.text() == "<span>Nothing was applied.</span>"
    assert not rls_enabled(shop_db, "public.orders")

    # The core check still holds without the dialog: a confirmation with a wrong name is refused by apply().
    editor.ask_confirmation = lambda: Confirmation(Environment.PRODUCTION, "not-" + name)  # type: ignore[method-assign]
    with qtbot.waitSignal(editor.sig_apply_refused, timeout=TIMEOUT) as refused:
        assert editor.start_apply()
    assert "not the name of the database" in refused.args[0] and "nothing was run" in refused.args[0]
    assert not rls_enabled(shop_db, "public.orders")
    del editor.ask_confirmation

    # The exact name: applied, then verified by a new audit.
    def type_and_apply(d: QWidget) -> None:
        assert isinstance(d, ApplyConfirmDialog)
        qtbot.keyClicks(d.typed, name)
        assert d.apply_button.isEnabled()
        d.apply_button.click()

    on_next_dialog(type_and_apply)
    with qtbot.waitSignal(editor.sig_verified, timeout=TIMEOUT) as verified:
        assert editor.start_apply()
    assert [f.key for f in verified.args[0].fixed] == ["public.orders"]
    assert rls_enabled(shop_db, "public.orders")
    qtbot.waitUntil(lambda: not window.review.controller.busy, timeout=10_000)
    editor.close()


def test_closing_the_editor_during_a_dry_run_cancels_it(
    qtbot: QtBot, window: MainWindow, pg_server: EmbeddedServer, shop_db: str
) -> None:
    add_profile(window, pg_server, shop_db)
    audit(qtbot, window)
    editor = open_editor_from_menu(window, leaf(window, "rls_disabled_in_public", "public.orders"))
    editor.editor.setPlainText("SELECT pg_catalog.pg_sleep(30);\n")
    gone = watch_destroyed(editor)
    assert editor.start_dry_run()
    qtbot.waitUntil(lambda: "Statement 1" in editor.progress_label.text(), timeout=10_000)
    started = time.perf_counter()
    editor.close()
    assert editor.isHidden() and not gone  # hidden at once, deleted once the cancelled worker is done
    qtbot.waitUntil(lambda: bool(gone), timeout=10_000)
    assert time.perf_counter() - started < 5
