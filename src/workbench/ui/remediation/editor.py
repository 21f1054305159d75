"""The remediation script editor: review and edit the script, save it, dry-run it, apply it, verify the fixes.

Opened for findings of the audit the window shows, with the snapshot they came from and the connection that was
audited. Dry run and apply go through `Worker`s; apply needs an explicit `ApplyConfirmDialog` (for production,
the typed database name). After an apply that changed something the editor asks the window to audit the same
connection again (which also records the run in its review, marking the findings that disappeared as fixed) and
shows fixed / new / still open against the audit the script was built from.

`ScriptEditor.for_sync_script` opens a ready-made script instead: the Compare tab's sync script that makes B's
security settings match A's. It targets B's connection (dry run and apply as above, with the same confirmation);
when B is a saved snapshot there is nothing to run it on, so only reading, editing and saving remain. It cannot be
regenerated from findings, and an apply is checked by comparing again rather than by a re-audit.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.checks.runner import AuditResult
from workbench.core.connections.profiles import ConnectionProfile, Environment
from workbench.core.connections.session import describe_target
from workbench.core.migrations.sqltext import split_statements
from workbench.core.model import Finding, Snapshot
from workbench.core.remediation import (
    ApplyResult,
    Confirmation,
    DryRunResult,
    FixVerification,
    RemediationScript,
    StatementOutcome,
    Status,
    affected_checks,
    build_script,
    classify,
    verify_fixes,
)
from workbench.core.review import RunComparison
from workbench.ui.compare.jobs import SchemaComparison, SnapshotFileSource
from workbench.ui.connections.panel import ConnectionRequest
from workbench.ui.message_bar import MessageBar
from workbench.ui.remediation.code_editor import CodeEditor
from workbench.ui.remediation.confirm import ApplyConfirmDialog
from workbench.ui.remediation.jobs import ApplyJob, DryRunJob, Refused, Saved, SaveJob
from workbench.ui.review.controller import review_name
from workbench.ui.review.models import rich
from workbench.ui.theme import ENVIRONMENT_COLOURS, dot_icon
from workbench.ui.workers import Worker

LAST_FOLDER_KEY = "remediation/last_folder"
STATUS_TEXT = {
    Status.OK: "ok",
    Status.ERROR: "error",
    Status.ROLLED_BACK: "rolled back",
    Status.NOT_RUN: "not run",
    Status.SKIPPED: "skipped",
    Status.NOT_DRY_RUN: "not dry-run",
    Status.UNVERIFIED: "unverified",
}
STATUS_COLOURS = {
    Status.OK: "#2e7d32",
    Status.ERROR: "#c62828",
    Status.ROLLED_BACK: "#ef8f00",
    Status.NOT_RUN: "#8a93a3",
    Status.SKIPPED: "#8a93a3",
    Status.NOT_DRY_RUN: "#ef8f00",
    Status.UNVERIFIED: "#ef8f00",
}
_RED, _GREEN, _GREY = "#c62828", "#2e7d32", "#5f6b7a"

Connect = Callable[[ConnectionProfile], ConnectionRequest | None]
Reaudit = Callable[[ConnectionProfile], bool]


@dataclass(frozen=True, slots=True)
class SyncScript:
    """A ready-made script from the Compare tab that makes B's security settings match A's; it is for B only."""

    text: str
    a_label: str
    b_label: str
    snapshot: Snapshot  # B's snapshot, the state the script (and its rollback section) was built against
    b_is_file: bool  # B is a saved snapshot: there is no connection to run the script on

    @classmethod
    def from_comparison(cls, text: str, comparison: SchemaComparison) -> SyncScript:
        b = comparison.b
        return cls(text, comparison.a.label, b.label, b.snapshot, isinstance(b.source, SnapshotFileSource))

    @property
    def title(self) -> str:
        return f"make B ({self.b_label}) match A ({self.a_label})"


class ResultsColumn:
    INDEX, LINE, STATUS, MESSAGE = range(4)


class ScriptEditor(QDialog):
    """A non-modal window with one script for `findings` of the audit of `profile` (or a ready-made `sync` script
    for the connection `profile`, None when there is none to run it on: see `for_sync_script`)."""

    sig_dry_run_finished = Signal(object)  # DryRunResult
    sig_apply_finished = Signal(object)  # ApplyResult
    sig_apply_refused = Signal(str)
    sig_verified = Signal(object)  # FixVerification against the audit the script was built from
    sig_saved = Signal(str)  # path
    sig_failed = Signal(str)  # a dry run or apply could not run (connection, …)

    def __init__(
        self,
        findings: tuple[Finding, ...],
        audit: AuditResult | None,
        profile: ConnectionProfile | None,
        *,
        connect: Connect,
        reaudit: Reaudit | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
        sync: SyncScript | None = None,
    ):
        if (audit is None) == (sync is None):
            raise ValueError("A script editor is for findings of an audit or for a sync script, not both.")
        super().__init__(parent)
        self.setObjectName("script_editor")
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.profile = profile
        self.audit = audit
        self.sync = sync
        self.findings = findings
        self.settings = settings
        self._connect = connect
        self._reaudit = reaudit
        # None for a sync script: it is not built from findings, so it cannot be regenerated.
        self.script: RemediationScript | None = build_script(findings, audit.snapshot) if audit is not None else None
        self.dry_run_result: DryRunResult | None = None
        self.apply_result: ApplyResult | None = None
        self.verification: FixVerification | None = None
        self._dry_run_text: str | None = None
        self._worker: Worker | None = None
        self._job: DryRunJob | ApplyJob | None = None
        self._awaiting_audit = False
        self._closing = False
        snap = self.snapshot
        taken = (
            f"<b>{html.escape(snap.database)}</b> (PostgreSQL {html.escape(snap.server_version)}) "
            f"taken {html.escape(snap.collected_at[:19].replace('T', ' '))} UTC"
        )

        # Header: what the script covers and where it would run.
        if self.script is not None:
            self.setWindowTitle(f"Remediation script — {snap.database}")
            self.heading = QLabel(
                f"Remediation script for {len(self.script.findings)} finding{_s(self.script.findings)}"
            )
            self.subtitle = QLabel(f"Built from the snapshot of {taken}")
            text = self.script.text
        else:
            assert sync is not None
            text = sync.text
            self.setWindowTitle(f"Sync script — {sync.title}")
            self.heading = QLabel(f"Sync script: {sync.title}")
            self.subtitle = QLabel(
                "Security settings only: RLS flags, policies, view options, function search_path and "
                f"SECURITY DEFINER, grants.<br>Built against B's snapshot of {taken}. "
                "Nothing runs until you dry-run or apply it."
            )
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setProperty("role", "heading")
        self.subtitle.setProperty("role", "muted")
        self.env_chip = QLabel()
        self.env_chip.setObjectName("environment_chip")
        self.target_label = QLabel()
        self.target_label.setObjectName("target")
        # Why the script cannot run here (None: it can): shown under the buttons and on the disabled ones.
        self.run_blocked: str | None = None
        env = profile.environment if profile is not None else None
        if profile is not None:
            colour = ENVIRONMENT_COLOURS[profile.environment]
            self.env_chip.setText(profile.environment.value.upper())
            self.env_chip.setStyleSheet(
                f"background:{colour}; color:white; font-weight:600; border-radius:3px; padding:1px 6px;"
            )
            self.target_label.setText(f"Runs on <b>{html.escape(profile.name)}</b> — {html.escape(profile.target)}")
        else:
            self.env_chip.hide()
            if sync is not None and sync.b_is_file:
                why = f"B ({sync.b_label}) is a saved snapshot, not a connection"
            elif sync is not None:
                why = f"B ({sync.b_label}) is not a saved connection"
            else:
                why = "there is no connection to run the script on"
            self.run_blocked = f"Dry run and Apply are not available: {why}."
            if sync is not None:
                self.run_blocked += " Save the script to run it elsewhere, or compare with B's saved connection."
            self.target_label.setText("No connection to run it on")
            self.target_label.setToolTip(self.run_blocked)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(self.heading)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        target = QHBoxLayout()
        target.setSpacing(6)
        target.addWidget(self.target_label)
        target.addWidget(self.env_chip, 0, Qt.AlignmentFlag.AlignVCenter)
        head.addLayout(target)

        # Buttons.
        self.save_button = QPushButton("Save as .sql…")
        self.save_button.setObjectName("save_script")
        self.save_button.setToolTip("Save the script as shown, edits included (Ctrl+S)")
        self.save_button.clicked.connect(self.save_with_dialog)
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setObjectName("regenerate")
        self.regenerate_button.setToolTip("Build the script again from the findings, discarding edits")
        self.regenerate_button.clicked.connect(self.regenerate)
        self.regenerate_button.setVisible(self.script is not None)  # a sync script is not built from findings
        self.dry_run_button = QPushButton("Dry run")
        self.dry_run_button.setObjectName("dry_run")
        self.dry_run_button.setToolTip(
            "Run every statement in a transaction that is rolled back, and report each one (Ctrl+D)"
        )
        self.dry_run_button.clicked.connect(self.start_dry_run)
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setObjectName("apply")
        self.apply_button.setToolTip("Run the script for real, after a confirmation")
        self.apply_button.setProperty("role", "primary")
        if self.run_blocked is not None:
            for button in (self.dry_run_button, self.apply_button):
                button.setToolTip(self.run_blocked)
        if env is Environment.PRODUCTION:
            self.apply_button.setStyleSheet(
                f"QPushButton {{ background:{ENVIRONMENT_COLOURS[env]}; color:white; font-weight:600; "
                "border:none; border-radius:4px; padding:6px 14px; }"
            )
        self.apply_button.clicked.connect(self.start_apply)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_run")
        self.cancel_button.setToolTip("Stop the dry run or apply; the running statement is cancelled on the server")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        for button in (
            self.save_button,
            self.regenerate_button,
            self.dry_run_button,
            self.apply_button,
            self.cancel_button,
        ):
            button.setAutoDefault(False)  # Enter in the results must not press a button
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.regenerate_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.dry_run_button)
        buttons.addWidget(self.apply_button)
        self.blocked_label = QLabel(self.run_blocked or "")
        self.blocked_label.setTextFormat(Qt.TextFormat.PlainText)
        self.blocked_label.setObjectName("run_blocked")
        self.blocked_label.setProperty("role", "muted")
        self.blocked_label.setWordWrap(True)
        self.blocked_label.setVisible(self.run_blocked is not None)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(6)
        self.progress_label = QLabel()
        self.progress_label.setProperty("role", "muted")
        self.progress_row = QWidget()
        row = QVBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.progress_label)
        row.addWidget(self.progress)
        self.progress_row.hide()
        self.message = MessageBar(self)

        # Editor and results.
        self.editor = CodeEditor()
        self.editor.setObjectName("script_text")
        self.editor.setPlainText(text)
        self.editor.textChanged.connect(self._update_buttons)

        self.results = QTableWidget(0, 4)
        self.results.setObjectName("statement_results")
        self.results.setHorizontalHeaderLabels(["#", "Line", "Result", "Message"])
        self.results.verticalHeader().hide()
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setWordWrap(False)
        self.results.verticalHeader().setDefaultSectionSize(self.results.fontMetrics().height() + 8)
        self.results.horizontalHeader().setStretchLastSection(True)
        self.results.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in ((0, 44), (1, 56), (2, 110)):
            self.results.setColumnWidth(column, width)
        self.results.currentCellChanged.connect(lambda row, _c, _pr, _pc: self._result_row_chosen(row))
        self.results.cellClicked.connect(lambda row, _c: self._result_row_chosen(row))
        self.results_summary = QLabel("Dry run the script to see how each statement fares; nothing is kept.")
        self.results_summary.setObjectName("results_summary")
        self.results_summary.setWordWrap(True)
        if self.run_blocked is not None:
            self.results_summary.setText("There is no connection to dry-run the script on; the script can be saved.")
        results_page = QWidget()
        results_layout = QVBoxLayout(results_page)
        results_layout.setContentsMargins(4, 4, 4, 4)
        results_layout.addWidget(self.results_summary)
        results_layout.addWidget(self.results, 1)

        self.verification_tree = QTreeWidget()
        self.verification_tree.setObjectName("verification")
        self.verification_tree.setHeaderLabels(["Finding", "Check", "Level"])
        self.verification_tree.setColumnWidth(0, 380)
        self.verification_tree.setColumnWidth(1, 220)
        self.verification_summary = QLabel(
            "After an apply the connection is audited again; the findings fixed, new and still open show here."
        )
        self.verification_summary.setObjectName("verification_summary")
        self.verification_summary.setWordWrap(True)
        verification_page = QWidget()
        verification_layout = QVBoxLayout(verification_page)
        verification_layout.setContentsMargins(4, 4, 4, 4)
        verification_layout.addWidget(self.verification_summary)
        verification_layout.addWidget(self.verification_tree, 1)

        self.bottom = QTabWidget()
        self.bottom.setDocumentMode(True)
        self.bottom.addTab(results_page, "Statements")
        self.bottom.addTab(verification_page, "Verification")
        self.bottom.setTabVisible(1, self.audit is not None)  # a sync script is checked by comparing again
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.editor)
        splitter.addWidget(self.bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([520, 260])
        splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addLayout(buttons)
        layout.addWidget(self.blocked_label)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)

        QShortcut(QKeySequence.StandardKey.Save, self, self.save_with_dialog)
        QShortcut(QKeySequence("Ctrl+D"), self, self.start_dry_run)
        self.resize(1100, 860)
        self._update_buttons()

    @classmethod
    def for_sync_script(
        cls,
        sync: SyncScript,
        profile: ConnectionProfile | None,
        *,
        connect: Connect,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> ScriptEditor:
        """The Compare tab's sync script for B, to review, edit, save, dry-run and (confirmed) apply on `profile`,
        B's connection; None when B is a saved snapshot (or not a saved connection): then it can only be saved."""
        return cls((), None, profile, connect=connect, settings=settings, parent=parent, sync=sync)

    # -- state -------------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._worker is not None

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot of the database the script is for (the audit's, or B's for a sync script)."""
        if self.audit is not None:
            return self.audit.snapshot
        assert self.sync is not None
        return self.sync.snapshot

    def text(self) -> str:
        return self.editor.toPlainText()

    def _update_buttons(self) -> None:
        has_text = bool(self.text().strip())
        idle = not self.busy
        runnable = self.run_blocked is None
        self.dry_run_button.setEnabled(idle and has_text and runnable)
        self.apply_button.setEnabled(idle and has_text and runnable and not self._awaiting_audit)
        self.regenerate_button.setEnabled(idle and self.script is not None)
        self.save_button.setEnabled(has_text)
        self.cancel_button.setVisible(not idle and self._job is not None)

    def regenerate(self) -> None:
        if self.script is None or self.audit is None:
            return
        if self.text() != self.script.text:
            answer = QMessageBox.question(
                self, "Regenerate the script", "Discard your edits and build the script again from the findings?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.script = build_script(self.findings, self.audit.snapshot)
        self.editor.setPlainText(self.script.text)
        self.editor.mark_lines({})

    # -- save --------------------------------------------------------------------------------------------------
    def suggested_file_name(self) -> str:
        stamp = self.snapshot.collected_at[:10]
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.snapshot.database)
        return f"{'remediation' if self.sync is None else 'sync'}-{safe}-{stamp}.sql"

    def save_with_dialog(self) -> None:
        folder = str(self.settings.value(LAST_FOLDER_KEY, "") if self.settings is not None else "") or str(Path.home())
        caption = "Save the remediation script" if self.sync is None else "Save the sync script"
        path, _filter = QFileDialog.getSaveFileName(
            self, caption, str(Path(folder) / self.suggested_file_name()), "SQL (*.sql)"
        )
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        """Write the text as shown to `path` (a `.sql` suffix is added when missing), in the background."""
        if path.suffix.lower() != ".sql":
            path = path.with_name(path.name + ".sql")
        if self.settings is not None:
            self.settings.setValue(LAST_FOLDER_KEY, str(path.parent))
        worker = Worker(SaveJob(path, self.text()))
        worker.signals.sig_finished.connect(self._saved)
        worker.signals.sig_failed.connect(lambda message: self._show("error", message))
        worker.start()

    def _saved(self, saved: Saved) -> None:
        if saved.error:
            self._show("error", f"The script was not saved to {saved.path}: {saved.error}.")
            return
        self._show("success", f"Saved to {saved.path}.")
        self.sig_saved.emit(str(saved.path))

    # -- dry run -----------------------------------------------------------------------------------------------
    def ask_dry_run_ok(self) -> bool:
        """A production database is changed (then rolled back) by a dry run, with its locks: ask first."""
        if self.profile is None or self.profile.environment is not Environment.PRODUCTION:
            return True
        answer = QMessageBox.question(
            self,
            "Dry run on production",
            f"The dry run executes every statement on {self.profile.name} inside a transaction and then rolls it "
            "back. The statements take their locks while they run, so tables may be blocked for a moment. "
            "Run it now?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def start_dry_run(self) -> bool:
        """Dry-run the text as shown; False when it did not start."""
        if self.profile is None:
            return self._no_connection()
        if self.busy or not self.text().strip() or not self.ask_dry_run_ok():
            return False
        request = self._connect(self.profile)
        if request is None:
            return False
        text = self.text()
        job = DryRunJob(request.dsn, text, password=request.password)
        self._start(job, f"Dry run on {describe_target(request.dsn)}", lambda result: self._dry_run_done(result, text))
        return True

    def _dry_run_done(self, result: DryRunResult, text: str) -> None:
        self.dry_run_result = result
        self._dry_run_text = text
        self._show_outcomes(result.outcomes)
        counts = _counts(result.outcomes)
        summary = f"Dry run on {result.database}: {counts}. Everything was rolled back; nothing was changed."
        self.results_summary.setText(summary)
        if result.errors:
            first = result.errors[0]
            self._show(
                "error",
                f"Statement {first.index} (line {first.error_line or first.line}) failed: {first.message}. "
                "Nothing was changed.",
            )
            self._select_outcome(first)
        elif result.not_dry_run or result.unverified:
            self._show(
                "warning",
                "The dry run found no error, but some statements could not be tried inside a transaction "
                f"({counts}). Nothing was changed.",
            )
        else:
            self._show("success", "Every statement ran; everything was rolled back, nothing was changed.")
        if result.database != self.snapshot.database:
            self._show(
                "warning",
                f"The dry run reached database {result.database}, but the script was built from a snapshot of "
                f"{self.snapshot.database}.",
            )
        self.sig_dry_run_finished.emit(result)

    # -- apply -------------------------------------------------------------------------------------------------
    def dry_run_note(self) -> str:
        result = self.dry_run_result
        if result is None or self._dry_run_text != self.text():
            return "No dry run of this text yet. A dry run first is recommended."
        if result.errors:
            return f"The last dry run of this text had {len(result.errors)} failing statement(s)."
        return f"The last dry run of this text succeeded ({_counts(result.outcomes)})."

    def confirmation_dialog(self) -> ApplyConfirmDialog:
        if self.profile is None:
            raise RuntimeError(self.run_blocked)
        statements = [st for st in split_statements(self.text()) if not classify(st).control]
        outside = sum(1 for st in statements if not classify(st).transactional)
        reviewer = str(self.settings.value("review/reviewer", "") or "") if self.settings is not None else ""
        return ApplyConfirmDialog(
            self.profile,
            server=self.profile.target,
            database=self.snapshot.database,
            statements=len(statements),
            outside_transaction=outside,
            dry_run_note=self.dry_run_note(),
            confirmed_by=reviewer,
            title="Apply the remediation script" if self.sync is None else "Apply the sync script",
            parent=self,
        )

    def ask_confirmation(self) -> Confirmation | None:
        """The explicit go-ahead (modal); None when the user cancels."""
        dialog = self.confirmation_dialog()
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.confirmation()
        finally:
            dialog.deleteLater()

    def start_apply(self) -> bool:
        """Confirm, then apply the text as shown; False when it did not start."""
        if self.profile is None:
            return self._no_connection()
        if self.busy or not self.text().strip() or self._awaiting_audit:
            return False
        confirmation = self.ask_confirmation()
        if confirmation is None:
            self._show("info", "Nothing was applied.")
            return False
        request = self._connect(self.profile)
        if request is None:
            return False
        job = ApplyJob(request.dsn, self.text(), confirmation, password=request.password)
        self._start(job, f"Applying on {describe_target(request.dsn)}", self._apply_done)
        return True

    def _apply_done(self, result: ApplyResult | Refused) -> None:
        if isinstance(result, Refused):
            self._show("error", result.message)
            self.results_summary.setText(result.message)
            self.sig_apply_refused.emit(result.message)
            return
        self.apply_result = result
        self._show_outcomes(result.outcomes)
        counts = _counts(result.outcomes)
        changed = result.committed and any(o.status is Status.OK for o in result.outcomes)
        if result.ok:
            self.results_summary.setText(f"Applied to {result.database}: {counts}.")
            if self.audit is not None:
                self._show(
                    "success", f"Applied to {result.database}. Auditing the connection again to verify the fixes…"
                )
            else:
                self._show("success", f"Applied to {result.database}. Compare A and B again to check that they match.")
        elif result.cancelled:
            self.results_summary.setText(f"Stopped on request: {counts}.")
            self._show("warning", "The apply was cancelled. " + _what_changed(result))
        else:
            first = result.errors[0] if result.errors else None
            failed = f"Statement {first.index} (line {first.line}) failed: {first.message}. " if first else ""
            self.results_summary.setText(f"Apply failed: {counts}.")
            self._show("error", failed + _what_changed(result))
            if first is not None:
                self._select_outcome(first)
        self.sig_apply_finished.emit(result)
        if changed and self.audit is not None:
            self.verify()

    def verify(self) -> bool:
        """Audit the connection again (through the window); the result comes back to `on_audit_finished`."""
        if self.script is None or self.profile is None or self._reaudit is None:
            return False  # a sync script is checked by comparing again
        self._awaiting_audit = self._reaudit(self.profile)
        if self._awaiting_audit:
            checks = ", ".join(c.spec.id for c in affected_checks(self.script.findings))
            self.verification_summary.setText(f"Auditing again (the checks of this script: {checks or 'none'})…")
        else:
            self._show("warning", "The audit could not start again (one is running?). Run it to verify the fixes.")
        self._update_buttons()
        return self._awaiting_audit

    def on_audit_finished(self, result: AuditResult) -> None:
        if not self._awaiting_audit or self.audit is None:
            return
        self._awaiting_audit = False
        self._update_buttons()
        verification = verify_fixes(self.audit.findings, result)
        self.verification = verification
        self._show_verification(verification)
        self.audit = result  # the baseline of a next apply or regenerate
        self.sig_verified.emit(verification)

    def on_audit_stopped(self, message: str = "") -> None:
        if not self._awaiting_audit:
            return
        self._awaiting_audit = False
        self._update_buttons()
        self.verification_summary.setText("The audit after the apply did not finish; run it again to verify.")
        self._show("warning", "The audit after the apply did not finish" + (f": {message}" if message else "."))

    def on_run_recorded(self, name: str, comparison: RunComparison) -> None:
        """The window stored the verifying audit in the connection's review."""
        if self.verification is None or self.profile is None or name != review_name(self.profile):
            return
        marked, run = len(comparison.marked_fixed), comparison.run.number
        note = f" Review “{name}”: {marked} finding{'s' if marked != 1 else ''} marked fixed by run #{run}."
        self.verification_summary.setText(self.verification_summary.text() + note)

    def _show_verification(self, v: FixVerification) -> None:
        mine = {f.fingerprint for f in (self.script.findings if self.script is not None else ())}
        fixed_mine = [f for f in v.fixed if f.fingerprint in mine]
        still = [f for f in v.still_open if f.fingerprint in mine]
        others = [f for f in v.fixed if f.fingerprint not in mine]
        unchecked = [f for f in v.not_rechecked if f.fingerprint in mine]
        total = len(mine)
        self.verification_summary.setText(
            f"Fixed {len(fixed_mine)} of the {total} finding{'s' if total != 1 else ''} of this script; "
            f"{len(v.new)} new finding{_s(v.new)}; {len(still)} still open."
            + (f" {len(others)} other finding{_s(others)} disappeared too." if others else "")
        )
        tree = self.verification_tree
        tree.clear()
        bold = QFont()
        bold.setBold(True)
        groups = [
            ("Fixed", fixed_mine + others, _GREEN),
            ("New", list(v.new), _RED),
            ("Still open", still, "#ef8f00"),
        ]
        if unchecked:
            groups.append(("Not re-checked", unchecked, _GREY))
        for label, findings, colour in groups:
            top = QTreeWidgetItem([f"{label} ({len(findings)})"])
            top.setFont(0, bold)
            top.setIcon(0, dot_icon(colour, 8))
            tree.addTopLevelItem(top)
            for f in findings:
                child = QTreeWidgetItem(top, [f.key, f.check, f.level.value])
                child.setToolTip(0, f.detail)
            top.setExpanded(True)
        self.bottom.setCurrentIndex(1)
        if still or v.new:
            self._show("warning", self.verification_summary.text())
        else:
            self._show("success", self.verification_summary.text())

    # -- running -----------------------------------------------------------------------------------------------
    def _start(self, job: DryRunJob | ApplyJob, label: str, on_finished: Callable[[Any], None]) -> None:
        worker = Worker(job, cancel=job.cancel)
        # Connected before the worker starts: a queued signal only reaches the slots connected when it is emitted.
        worker.signals.sig_progress.connect(self._progress)
        worker.signals.sig_finished.connect(lambda value: self._finish(on_finished, value))
        worker.signals.sig_failed.connect(lambda message: self._finish(self._failed, message))
        worker.signals.sig_cancelled.connect(lambda: self._finish(self._cancelled, None))
        self._job = job
        self._worker = worker.start()
        self.message.hide()
        self.progress.setValue(0)
        self.progress_label.setText(html.escape(label) + "…")
        self.progress_row.show()
        self.editor.setReadOnly(True)
        self._update_buttons()

    def _finish(self, handler: Callable[[Any], None], value: Any) -> None:
        self._worker = None
        self._job = None
        self.progress_row.hide()
        self.editor.setReadOnly(False)
        self._update_buttons()
        if self._closing:
            self.deleteLater()
            return
        handler(value)

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self.progress_label.setText(html.escape(message))

    def _failed(self, message: str) -> None:
        self._show("error", message)
        self.sig_failed.emit(message)

    def _cancelled(self, _value: object) -> None:
        self._show("warning", "Cancelled; nothing was changed.")

    def cancel(self) -> None:
        if self._job is not None:
            self.progress_label.setText("Cancelling…")
            self._job.cancel()

    def closeEvent(self, event: QCloseEvent) -> None:
        if isinstance(self._job, ApplyJob):
            self._show("warning", "The script is being applied; wait for it to finish (or cancel it) before closing.")
            event.ignore()
            return
        super().closeEvent(event)  # QDialog: reject()

    def reject(self) -> None:
        """Esc or the close button: a running dry run is cancelled; the window goes once its worker is done."""
        if isinstance(self._job, ApplyJob):
            self._show("warning", "The script is being applied; wait for it to finish (or cancel it) before closing.")
            return
        self._closing = True
        self._awaiting_audit = False
        if self._job is not None:
            self._job.cancel()
        else:
            self.deleteLater()
        super().reject()

    # -- results -----------------------------------------------------------------------------------------------
    def _show_outcomes(self, outcomes: tuple[StatementOutcome, ...]) -> None:
        self.bottom.setCurrentIndex(0)
        table = self.results
        table.blockSignals(True)
        table.setRowCount(len(outcomes))
        marks: dict[int, str] = {}
        for row, o in enumerate(outcomes):
            colour = STATUS_COLOURS[o.status]
            line = o.error_line or o.line
            values = (str(o.index), str(line), STATUS_TEXT[o.status], o.message or _first_line(o.sql))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, line)
                if column in (ResultsColumn.INDEX, ResultsColumn.LINE):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == ResultsColumn.STATUS:
                    item.setIcon(dot_icon(colour, 8))
                    item.setForeground(QBrush(QColor(colour)))
                if column == ResultsColumn.MESSAGE:
                    item.setToolTip(f"{o.message}\n\n{o.sql}" if o.message else o.sql)
                table.setItem(row, column, item)
            if o.status in (Status.ERROR, Status.UNVERIFIED, Status.NOT_DRY_RUN):
                marks[line] = colour
        table.blockSignals(False)
        self.editor.mark_lines(marks)

    def _select_outcome(self, outcome: StatementOutcome) -> None:
        for row in range(self.results.rowCount()):
            item = self.results.item(row, ResultsColumn.INDEX)
            if item is not None and item.text() == str(outcome.index):
                self.results.selectRow(row)
                self._result_row_chosen(row)
                return

    def _result_row_chosen(self, row: int) -> None:
        item = self.results.item(row, ResultsColumn.LINE) if row >= 0 else None
        if item is not None:
            self.editor.goto_line(int(item.data(Qt.ItemDataRole.UserRole)))

    def _show(self, kind: str, text: str) -> None:
        self.message.show_message(kind, rich(text))

    def _no_connection(self) -> bool:
        """Dry run or apply asked for (Ctrl+D) where there is no connection: say why; False."""
        self._show("info", self.run_blocked or "")
        return False


def _s(items: Sized) -> str:
    return "" if len(items) == 1 else "s"


def _counts(outcomes: tuple[StatementOutcome, ...]) -> str:
    tally: dict[Status, int] = {}
    for o in outcomes:
        tally[o.status] = tally.get(o.status, 0) + 1
    return ", ".join(f"{n} {STATUS_TEXT[s]}" for s, n in tally.items()) or "no statement"


def _what_changed(result: ApplyResult) -> str:
    if not result.committed:
        return "The transaction was rolled back: nothing was changed."
    done = sum(1 for o in result.outcomes if o.status is Status.OK)
    return f"The transaction committed; {done} statement(s) ran and stay applied. Check the rollback section."


def _first_line(sql: str) -> str:
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            return stripped
    return sql.strip()
