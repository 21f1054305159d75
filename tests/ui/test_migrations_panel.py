"""The Migrations panel: a folder reviewed in the background, results by file, cancel."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QTreeWidgetItem
from pytestqt.qtbot import QtBot

from tests.ui.memory_keyring import MemoryKeyring
from workbench.core.connections.profiles import ProfileStore
from workbench.core.connections.secrets import KeyringSecretStore
from workbench.core.migrations import MigrationReview
from workbench.ui.main_window import MainWindow
from workbench.ui.migrations.panel import FindingRole, MigrationsPanel


def top(panel: MigrationsPanel, row: int) -> QTreeWidgetItem:
    item = panel.tree.topLevelItem(row)
    assert item is not None
    return item


def child(item: QTreeWidgetItem, row: int) -> QTreeWidgetItem:
    found = item.child(row)
    assert found is not None
    return found


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_review_without_replay_lists_files_and_their_findings(qtbot: QtBot, tmp_path: Path) -> None:
    folder = write(
        tmp_path / "m",
        {
            "001_init.sql": "create table public.a (id int primary key);\n",
            "1_again.sql": "alter table public.a drop column id;\n",
        },
    )
    panel = MigrationsPanel()
    qtbot.addWidget(panel)
    panel.replay_box.setChecked(False)
    with qtbot.waitSignal(panel.sig_review_finished, timeout=20_000) as blocker:
        assert panel.run_review(folder)
    review = blocker.args[0]
    assert isinstance(review, MigrationReview) and review.replay is None
    assert [top(panel, i).text(0) for i in range(panel.tree.topLevelItemCount())] == [
        "001_init.sql  (not replayed)",
        "1_again.sql  (not replayed)",
    ]
    second = top(panel, 1)
    checks = {child(second, i).text(2) for i in range(second.childCount())}
    assert checks == {"migration_duplicate_version", "migration_missing_rollback"}
    panel.tree.setCurrentItem(child(second, 0))
    finding = child(second, 0).data(0, FindingRole)
    assert finding.fingerprint in panel.details.toPlainText()
    assert not panel.is_running and panel.run_button.isEnabled()


def test_replay_in_the_background_reports_where_it_stopped(qtbot: QtBot, tmp_path: Path) -> None:
    folder = write(
        tmp_path / "m",
        {
            "001_init.sql": "create table public.a (id int);\n",
            "002_broken.sql": "select 1;\n\nselect * from public.nope;\n",
        },
    )
    panel = MigrationsPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sig_review_finished, timeout=120_000):
        assert panel.run_review(folder)
    assert "Replay stopped at 002_broken.sql, line 3" in panel.status.text()
    first, second = top(panel, 0), top(panel, 1)
    assert first.text(0) == "001_init.sql  (applied)" and second.text(0) == "002_broken.sql  (failed)"
    # The audit's finding on public.a is listed under the file that created the table.
    assert "no_primary_key" in {child(first, i).text(2) for i in range(first.childCount())}


def test_cancel_stops_the_review(qtbot: QtBot, tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {"001_init.sql": "select pg_sleep(30);\n"})
    panel = MigrationsPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sig_review_cancelled, timeout=120_000):
        assert panel.run_review(folder)
        qtbot.waitUntil(lambda: "Applying" in panel.status.text(), timeout=60_000)
        panel.cancel()
    assert "cancelled" in panel.status.text()
    assert not panel.is_running


def test_the_main_window_has_a_migrations_tab(qtbot: QtBot, memory_keyring: MemoryKeyring) -> None:
    window = MainWindow(ProfileStore(), KeyringSecretStore())
    qtbot.addWidget(window)
    labels = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert "Migrations" in labels
    assert window.tabs.widget(labels.index("Migrations")) is window.migrations
