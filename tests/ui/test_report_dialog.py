"""File > Export report…: the dialog previews the PDF pages of the audit or of a stored review and saves any format."""

from __future__ import annotations

import json
from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.ui.memory_keyring import MemoryKeyring
from tests.ui.synthetic import many_findings
from workbench.core.checks import AuditResult
from workbench.core.connections.profiles import ProfileStore
from workbench.core.connections.secrets import KeyringSecretStore
from workbench.core.model import Snapshot
from workbench.core.report.verify import verify_report_bytes
from workbench.core.review import ReviewStore
from workbench.ui.main_window import MainWindow
from workbench.ui.report.dialog import ReportDialog


def result() -> AuditResult:
    snap = Snapshot("shop", "16.4", 160004, "postgres", "2026-11-22T10:00:00Z", None)
    return AuditResult(snap, many_findings(30), ("rls_disabled_in_public", "unindexed_foreign_keys"), ())


def test_export_action_opens_the_dialog_on_the_current_audit(qtbot: QtBot, memory_keyring: MemoryKeyring) -> None:
    window = MainWindow(ProfileStore(), KeyringSecretStore())
    qtbot.addWidget(window)
    window.result = result()
    assert window.report_action.text() == "Export report…"
    window.report_action.trigger()
    dialog = window.report_dialog
    assert dialog.isVisible() and dialog.model is not None and dialog.model.draft
    assert dialog.page_count >= 2 and dialog.page_label.text() == f"Page 1 of {dialog.page_count}"
    dialog.next_button.click()
    assert dialog.page_index == 1 and not dialog.page_view.pixmap().isNull()
    dialog.reject()


def test_preview_review_switch_page_size_and_save_every_format(qtbot: QtBot, data_dir: Path, tmp_path: Path) -> None:
    with ReviewStore() as store:
        store.ensure_review("shop-review", {"target": "app@db:5432/shop", "environment": "production"})
        store.record_run("shop-review", result())
        store.sign_off("shop-review", reviewer="Ann Lee", role="DBA", statement="Fine.")
    dialog = ReportDialog(None, result())
    qtbot.addWidget(dialog)
    assert dialog.source.count() == 2  # the current audit and the review
    assert dialog.select_review("shop-review")
    assert dialog.model is not None and not dialog.model.draft and dialog.model.title.environment == "production"
    a4_pages = dialog.page_count
    dialog.page_size.setCurrentIndex(1)  # Letter
    assert dialog.layout_ is not None and dialog.layout_.page_size == "letter" and dialog.page_count >= a4_pages - 2
    saved: list[str] = []
    dialog.sig_saved.connect(saved.append)
    for fmt in ("pdf", "md", "json", "sarif"):
        path = tmp_path / f"report.{fmt}"
        assert dialog.save_to(path, fmt)
        if fmt != "sarif":
            assert verify_report_bytes(path.read_bytes()).message().startswith("intact, signed by Ann Lee (DBA)")
    assert json.loads((tmp_path / "report.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert len(saved) == 4 and "report SHA-256" in dialog.status.text()
    assert not dialog.save_to(tmp_path / "missing" / "report.md", "md")
    assert "Could not write" in dialog.status.text()
