"""Audits through the GUI against a real embedded PostgreSQL: progress, results, details, charts, cancel, errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import conninfo
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from tests.ui.memory_keyring import MemoryKeyring
from workbench.core.connections.profiles import ConnectionProfile, PasswordMode, ProfileStore
from workbench.core.connections.secrets import KeyringSecretStore
from workbench.core.embedded import EmbeddedServer
from workbench.core.snapshot.probes import PROBES, ProbeContext, probe
from workbench.ui.main_window import MainWindow
from workbench.ui.models.findings_model import Column, FindingRole

SCHEMA = """
CREATE TABLE public.customers (id int PRIMARY KEY, email text NOT NULL, password_hash text);
CREATE TABLE public.orders (
    id bigserial PRIMARY KEY,
    customer_id int REFERENCES public.customers (id),
    note text
);
CREATE INDEX orders_customer_idx ON public.orders (customer_id);
GRANT SELECT, INSERT ON public.orders TO PUBLIC;
GRANT SELECT ON public.customers TO PUBLIC;
CREATE POLICY orders_read ON public.orders FOR SELECT USING (true);
INSERT INTO public.customers SELECT g, 'user' || g || '@example.org', 'x' FROM generate_series(1, 200) g;
INSERT INTO public.orders (customer_id, note) SELECT 1 + g % 200, 'note' FROM generate_series(1, 2000) g;
DELETE FROM public.orders WHERE id % 4 = 0;
ANALYZE;
"""

SLOW_PROBE = "ui_test_sleep"


def dbname(dsn: str) -> str:
    return str(conninfo.conninfo_to_dict(dsn)["dbname"])


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


def tcp_profile(server: EmbeddedServer, dsn: str, **changes: Any) -> ConnectionProfile:
    fields: dict[str, Any] = {
        "name": "shop (test)",
        "host": "127.0.0.1",
        "port": server.port,
        "database": dbname(dsn),
        "user": "postgres",
        "sslmode": "disable",
    }
    fields.update(changes)
    return ConnectionProfile(**fields)


@pytest.fixture
def slow_probe() -> Iterator[None]:
    """A test-only probe that sleeps on the server, so an audit can be cancelled or cut mid-query."""

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


def wait_for_sleep(qtbot: QtBot, dsn: str) -> list[int]:
    found: list[int] = []

    def check() -> None:
        found[:] = sleeping_backends(dsn)
        assert found

    qtbot.waitUntil(check, timeout=30_000)
    return found


def leaves(window: MainWindow, check_id: str) -> list[str]:
    model = window.findings.model
    return sorted(f.key for f in model.findings() if f.check == check_id)


def proxy_index_of(window: MainWindow, check_id: str, key: str) -> QModelIndex:
    proxy = window.findings.proxy
    for c in range(proxy.rowCount()):
        cat = proxy.index(c, 0)
        for k in range(proxy.rowCount(cat)):
            chk = proxy.index(k, 0, cat)
            for r in range(proxy.rowCount(chk)):
                leaf = proxy.index(r, 0, chk)
                finding = leaf.data(FindingRole)
                if finding.check == check_id and finding.key == key:
                    return leaf
    raise AssertionError(f"no row for {check_id} {key}")


def test_audit_through_the_gui(
    qtbot: QtBot,
    window: MainWindow,
    pg_server: EmbeddedServer,
    shop_db: str,
    memory_keyring: MemoryKeyring,
    screenshot_dir: Path,
    tmp_path: Path,
) -> None:
    panel = window.connections
    profile = panel.create_profile(tcp_profile(pg_server, shop_db), pg_server.superuser_password)
    assert panel.current_profile() == profile
    progress: list[tuple[float, str]] = []
    window.sig_audit_progress.connect(lambda f, m: progress.append((f, m)))
    batches: list[int] = []
    window.sig_audit_started.connect(
        lambda: window._worker.signals.sig_findings.connect(lambda b: batches.append(len(b)))  # type: ignore[union-attr]
    )

    with qtbot.waitSignal(window.sig_audit_finished, timeout=60_000) as blocker:
        window.run_action.trigger()
        assert window.is_running and not window.progress_row.isHidden()
        assert window.cancel_action.isEnabled() and not window.run_action.isEnabled()
    result = blocker.args[0]

    # Progress named each catalog query and each check, and went forward to the end.
    messages = [m for _, m in progress]
    assert any(m.startswith("Connecting to postgres@127.0.0.1") for m in messages)
    assert "Reading tables and views" in messages and "Checking rls_disabled_in_public" in messages
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert window.progress_row.isHidden() and window.run_action.isEnabled() and not window.cancel_action.isEnabled()
    # Findings arrived in batches, and the tree holds exactly the result.
    assert len(batches) >= 2 and sum(batches) == len(result.findings)
    assert window.findings.model.finding_count == len(result.findings)
    assert leaves(window, "rls_disabled_in_public") == ["public.customers", "public.orders"]
    assert leaves(window, "policy_exists_rls_disabled") == ["public.orders"]
    top = [window.findings.proxy.index(r, 0).data() for r in range(window.findings.proxy.rowCount())]
    assert top[0].startswith("Security  (")
    assert "finished" in window.message_bar.text()
    # Status bar: server, version, role, snapshot time.
    assert window.status_server.text() == f"postgres@127.0.0.1:{pg_server.port}/{dbname(shop_db)}"
    assert window.status_version.text().startswith(f"PostgreSQL {pg_server.major}")
    assert window.status_role.text() == "role postgres"
    assert window.status_snapshot.text().startswith("snapshot 20")

    # Details: rationale, evidence table, remediation SQL, the object's current definition.
    leaf = proxy_index_of(window, "policy_exists_rls_disabled", "public.orders")
    window.findings.tree.setCurrentIndex(leaf)
    details = window.details
    spec = window.findings.model.spec("policy_exists_rls_disabled")
    assert spec is not None
    body = details.body.toPlainText()
    assert "Why it matters" in body and spec.rationale[:40] in body
    assert "Evidence" in body and "orders_read" in body and "RLS enabled" in body
    assert "ENABLE ROW LEVEL SECURITY" in details.remediation.sql()
    definition = details.definition.sql()
    assert definition.startswith("CREATE TABLE public.orders (")
    assert "CREATE POLICY orders_read ON public.orders" in definition and "orders_customer_idx" in definition
    # The SQL is highlighted: the first keyword of the remediation carries a bold format.
    formats = details.remediation.editor.document().firstBlock().layout().formats()
    assert any(r.start == 0 and r.format.fontWeight() >= 600 for r in formats)
    details.remediation.copy()
    from PySide6.QtGui import QGuiApplication

    assert "ENABLE ROW LEVEL SECURITY" in QGuiApplication.clipboard().text()
    window.grab().save(str(screenshot_dir / "audit_finished.png"))

    # Overview charts are drawn and export to PNG.
    window.tabs.setCurrentWidget(window.overview)
    qtbot.waitUntil(lambda: window.overview.is_drawn)  # drawn chart by chart once the tab shows
    for key in ("levels", "categories", "tables", "indexes", "index_usage", "dead_tuples"):
        card = window.overview.cards[key]
        assert card.message is None, f"{key}: {card.message}"
        assert card.plot.getPlotItem().listDataItems() or card.plot.getPlotItem().items
    exported = window.overview.cards["tables"].export_png(tmp_path / "tables.png")
    assert exported.stat().st_size > 1000
    window.grab().save(str(screenshot_dir / "overview.png"))


def test_sorting_and_filtering_in_the_window(qtbot: QtBot, window: MainWindow, shop_db: str) -> None:
    window.connections.set_transient(shop_db, name="shop")
    with qtbot.waitSignal(window.sig_audit_finished, timeout=60_000):
        window.run_audit()
    findings = window.findings
    total = findings.model.finding_count
    qtbot.keyClicks(findings.filter_edit, "customers")
    assert 0 < findings.model.visible_count < total
    assert all("customers" in f.key or "customers" in f.detail for f in findings.model.visible_findings())
    assert "match the filter" in findings.summary.text()
    findings.filter_edit.clear()
    findings.level_buttons[next(iter(findings.level_buttons))].setChecked(False)  # hide errors
    assert all(f.level.value != "error" for f in findings.model.visible_findings())
    findings.level_buttons[next(iter(findings.level_buttons))].setChecked(True)
    # Sorting from the header, on every column.
    header = findings.tree.header()
    for column in Column:
        findings.tree.sortByColumn(column, Qt.SortOrder.AscendingOrder)
        assert findings.model.sort_state == (column, Qt.SortOrder.AscendingOrder)
        assert header.sortIndicatorSection() == column
    findings.tree.sortByColumn(Column.OBJECT, Qt.SortOrder.DescendingOrder)
    security = findings.proxy.index(
        next(r for r in range(findings.proxy.rowCount()) if findings.proxy.index(r, 0).data().startswith("Security")),
        0,
    )
    rls = next(
        findings.proxy.index(r, 0, security)
        for r in range(findings.proxy.rowCount(security))
        if findings.proxy.index(r, 0, security).data().startswith("RLS disabled in public")
    )
    keys = [findings.proxy.index(r, 0, rls).data() for r in range(findings.proxy.rowCount(rls))]
    assert keys == ["public.orders", "public.customers"]


def test_wrong_password_shows_a_clear_message(
    qtbot: QtBot, window: MainWindow, pg_server: EmbeddedServer, shop_db: str
) -> None:
    window.connections.create_profile(tcp_profile(pg_server, shop_db), "not-the-password")
    with qtbot.waitSignal(window.sig_audit_failed, timeout=30_000) as blocker:
        window.run_audit()
    expected = f"Wrong user name or password for postgres@127.0.0.1:{pg_server.port}/{dbname(shop_db)}."
    assert blocker.args == [expected]
    assert expected in window.message_bar.text() and window.message_bar.kind == "error"
    assert "not-the-password" not in window.message_bar.text()
    assert window.progress_row.isHidden() and window.run_action.isEnabled()


def test_ask_each_time_prompts_and_stores_nothing(
    qtbot: QtBot,
    window: MainWindow,
    pg_server: EmbeddedServer,
    shop_db: str,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = window.connections
    panel.create_profile(tcp_profile(pg_server, shop_db, password_mode=PasswordMode.ASK))
    asked: list[str] = []

    def prompt(profile: ConnectionProfile, *, can_remember: bool, reason: str = "") -> tuple[str, bool]:
        asked.append(profile.name)
        return pg_server.superuser_password, False

    monkeypatch.setattr(panel, "prompt_password", prompt)
    with qtbot.waitSignal(window.sig_audit_finished, timeout=60_000):
        window.run_audit()
    assert asked == ["shop (test)"]
    assert memory_keyring.entries == {}


def test_cancel_stops_the_running_query_quickly(
    qtbot: QtBot, window: MainWindow, shop_db: str, slow_probe: None, screenshot_dir: Path
) -> None:
    window.connections.set_transient(shop_db, name="shop")
    with qtbot.waitSignal(window.sig_audit_started):
        window.run_audit()
    wait_for_sleep(qtbot, shop_db)
    qtbot.waitUntil(lambda: "Running probes" in window.progress_label.text(), timeout=3_000)
    window.grab().save(str(screenshot_dir / "audit_running.png"))
    started = time.perf_counter()
    with qtbot.waitSignal(window.sig_audit_cancelled, timeout=5_000):
        qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"cancel took {elapsed:.2f} s"
    assert "cancelled" in window.message_bar.text().lower()
    assert window.progress_row.isHidden() and window.run_action.isEnabled()
    qtbot.waitUntil(lambda: not sleeping_backends(shop_db), timeout=3_000)
    window.grab().save(str(screenshot_dir / "audit_cancelled.png"))


def test_cancel_with_the_escape_shortcut(qtbot: QtBot, window: MainWindow, shop_db: str, slow_probe: None) -> None:
    window.connections.set_transient(shop_db, name="shop")
    window.run_audit()
    wait_for_sleep(qtbot, shop_db)
    with qtbot.waitSignal(window.sig_audit_cancelled, timeout=5_000):
        window.cancel_action.trigger()


def test_lost_connection_mid_audit_is_explained(
    qtbot: QtBot, window: MainWindow, shop_db: str, slow_probe: None
) -> None:
    window.connections.set_transient(shop_db, name="shop")
    window.run_audit()
    pids = wait_for_sleep(qtbot, shop_db)
    with (
        qtbot.waitSignal(window.sig_audit_failed, timeout=10_000) as blocker,
        psycopg.connect(shop_db, autocommit=True) as conn,
    ):
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    message = blocker.args[0]
    assert "connection was lost" in message.lower(), message
    assert "The audit did not finish" in window.message_bar.text()
    assert window.run_action.isEnabled() and window.progress_row.isHidden()


def test_connection_test_button(qtbot: QtBot, window: MainWindow, pg_server: EmbeddedServer, shop_db: str) -> None:
    panel = window.connections
    panel.create_profile(tcp_profile(pg_server, shop_db), pg_server.superuser_password)
    with qtbot.waitSignal(panel.sig_test_finished, timeout=30_000) as blocker:
        qtbot.mouseClick(panel.test_button, Qt.MouseButton.LeftButton)
    ok, text = blocker.args
    assert ok and text.startswith(f"Connected to PostgreSQL {pg_server.major}") and text.endswith("as postgres.")
    assert "✓" in panel.test_result.text()


def test_context_menu_copies_and_opens_the_remediation(qtbot: QtBot, window: MainWindow, shop_db: str) -> None:
    from PySide6.QtGui import QGuiApplication

    window.connections.set_transient(shop_db, name="shop")
    with qtbot.waitSignal(window.sig_audit_finished, timeout=60_000):
        window.run_audit()
    leaf = proxy_index_of(window, "rls_disabled_in_public", "public.orders")
    menu = window.findings.context_menu(leaf)
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert {"Copy key", "Copy SQL", "Open remediation", "Copy evidence (JSON)"} <= set(actions)
    actions["Copy key"].trigger()
    assert QGuiApplication.clipboard().text() == "public.orders"
    actions["Copy SQL"].trigger()
    assert "ENABLE ROW LEVEL SECURITY" in QGuiApplication.clipboard().text()
    window.details.sql_tabs.setCurrentWidget(window.details.definition)
    actions["Open remediation"].trigger()
    assert window.details.sql_tabs.currentWidget() is window.details.remediation
    group = leaf.parent()
    group_actions = [a.text() for a in window.findings.context_menu(group).actions()]
    assert "Copy SQL of 2 findings" in group_actions


def test_window_state_is_remembered(qtbot: QtBot, memory_keyring: MemoryKeyring) -> None:
    from workbench.ui.theme import Theme

    first = MainWindow(ProfileStore(), KeyringSecretStore())
    qtbot.addWidget(first)
    first.show()
    first.resize(first.width(), 540)  # (restoreGeometry keeps a window on the 800 × 800 offscreen screen)
    first.splitter.setSizes([200, 300, 200])
    first.theme_actions[Theme.DARK].trigger()
    first.close()
    second = MainWindow(ProfileStore(), KeyringSecretStore())
    qtbot.addWidget(second)
    second.show()
    assert second.height() == 540
    assert abs(second.splitter.sizes()[0] - 200) <= 20  # restored, then fitted to the window
    assert second.theme_actions[Theme.DARK].isChecked()
    second.set_theme(Theme.LIGHT)
