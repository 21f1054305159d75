"""The main window: the only place that wires the panels together."""

from __future__ import annotations

import html
import sys
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.checks import AuditConfig, AuditResult, all_checks
from workbench.core.connections.profiles import ConnectionProfile, Environment, ProfileStore, config_dir
from workbench.core.connections.secrets import SecretStore
from workbench.core.connections.session import describe_target
from workbench.core.model import Finding, Level
from workbench.ui.compare.jobs import SchemaComparison
from workbench.ui.compare.panel import ComparePanel
from workbench.ui.connections.panel import ConnectionsPanel
from workbench.ui.findings.details import DetailsPane
from workbench.ui.findings.panel import FindingsPanel
from workbench.ui.message_bar import MessageBar
from workbench.ui.migrations.panel import MigrationsPanel
from workbench.ui.models.findings_model import StatusBadge
from workbench.ui.overview.panel import OverviewPanel
from workbench.ui.remediation.editor import ScriptEditor, SyncScript
from workbench.ui.review.controller import review_name
from workbench.ui.review.panel import ReviewPanel
from workbench.ui.theme import ENVIRONMENT_COLOURS, LEVEL_LABELS, Theme, apply_theme, is_dark
from workbench.ui.workers import AuditJob, Worker

APP_TITLE = "PostgreSQL Review Workbench"
# Background threads (audits, the review store, comparisons) run Python too, and every call from Qt into our
# models has to take the GIL back from them: with the default 5 ms slices a paint of the findings tree (some
# 3,000 such calls) waited for seconds while an audit ran. While the window is open the GIL is handed over
# after 20 µs (measured on 2,000 tables: longest stall while the review store records the audit 62-65 ms at
# 0.1 ms, 41-43 ms at 20 µs, no gain below; audit and store times unchanged); an idle GUI thread asks for
# nothing, so the workers lose nothing then.
GUI_SWITCH_INTERVAL_S = 0.00002
REVIEW_SETTLE_MS = 300


def window_settings() -> QSettings:
    """Window state lives next to the profiles (so WORKBENCH_CONFIG_DIR isolates tests too)."""
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    sig_audit_started = Signal()
    sig_audit_progress = Signal(float, str)
    sig_audit_finished = Signal(object)  # AuditResult
    sig_audit_failed = Signal(str)
    sig_audit_cancelled = Signal()

    def __init__(
        self,
        store: ProfileStore | None = None,
        secrets: SecretStore | None = None,
        *,
        settings: QSettings | None = None,
        config: AuditConfig | None = None,
    ):
        super().__init__()
        self.setWindowTitle(APP_TITLE)
        self.settings = settings or window_settings()
        self.config = config or AuditConfig()
        self.result: AuditResult | None = None
        self._job: AuditJob | None = None
        self._worker: Worker | None = None
        self._running_profile: ConnectionProfile | None = None
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, GUI_SWITCH_INTERVAL_S))
        self.persist_state = True  # False for screenshot runs: they must not change the user's window layout

        specs = {c.spec.id: c.spec for c in all_checks()}
        self.connections = ConnectionsPanel(store or ProfileStore(), secrets, self)
        self.findings = FindingsPanel(specs, self)
        self.details = DetailsPane(self)
        self.overview = OverviewPanel(self)
        self.message_bar = MessageBar(self)

        # Progress strip, shown while an audit runs.
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.progress_label = QLabel()
        self.progress_label.setObjectName("progress_label")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_audit")
        self.cancel_button.setToolTip("Stop the audit; the running query is cancelled on the server (Esc)")
        self.cancel_button.clicked.connect(self.cancel_audit)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        column = QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(self.progress_label)
        column.addWidget(self.progress)
        row.addLayout(column, 1)
        row.addWidget(self.cancel_button)
        self.progress_row.hide()

        self.env_banner = QLabel()
        self.env_banner.setObjectName("environment_banner")
        self.env_banner.hide()

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.findings, "Findings")
        self.tabs.addTab(self.overview, "Overview")
        self.migrations = MigrationsPanel(self, settings=self.settings)
        self.tabs.addTab(self.migrations, "Migrations")
        self.review = ReviewPanel(self.settings, parent=self)
        self.tabs.addTab(self.review, "Review")
        self.compare = ComparePanel(self.connections, config=self.config, settings=self.settings, parent=self)
        self.tabs.addTab(self.compare, "Compare")

        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(6, 4, 6, 4)
        centre_layout.setSpacing(6)
        centre_layout.addWidget(self.env_banner)
        centre_layout.addWidget(self.message_bar)
        centre_layout.addWidget(self.progress_row)
        centre_layout.addWidget(self.tabs, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("main_splitter")
        self.splitter.addWidget(self.connections)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([250, 950, 400])
        self.setCentralWidget(self.splitter)

        self._build_actions()
        self._build_status_bar()
        self._wire()
        self.restore_state()
        self._profile_selected(self.connections.current_profile())
        if self.connections.store.recovered_from is not None:
            self.message_bar.show_message(
                "warning",
                f"The saved connections could not be read; the file was kept as "
                f"{html.escape(str(self.connections.store.recovered_from))}.",
            )

    # -- construction ----------------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.run_action = QAction("Run audit", self)
        self.run_action.setShortcuts([QKeySequence("Ctrl+R"), QKeySequence("F5")])
        self.run_action.setToolTip("Audit the selected connection (Ctrl+R, F5)")
        self.run_action.triggered.connect(lambda: self.run_audit())
        self.cancel_action = QAction("Cancel audit", self)
        self.cancel_action.setShortcuts([QKeySequence("Esc"), QKeySequence("Ctrl+.")])
        self.cancel_action.setToolTip("Stop the running audit (Esc)")
        self.cancel_action.setEnabled(False)
        self.cancel_action.triggered.connect(self.cancel_audit)
        self.filter_action = QAction("Filter findings", self)
        self.filter_action.setShortcut(QKeySequence("Ctrl+F"))
        self.filter_action.triggered.connect(self._focus_filter)
        self.new_action = QAction("New connection…", self)
        self.new_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_action.triggered.connect(self.connections.add_with_dialog)
        self.import_action = QAction("Import connection URI…", self)
        self.import_action.triggered.connect(self.connections.import_with_dialog)
        self.report_action = QAction("Export report…", self)
        self.report_action.setShortcut(QKeySequence("Ctrl+P"))
        self.report_action.setToolTip("Preview the report of the audit or of a stored review; save PDF, Markdown…")
        self.report_action.triggered.connect(self.export_report)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.close)
        self.expand_action = QAction("Expand all", self)
        self.expand_action.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.expand_action.triggered.connect(self.findings.tree.expandAll)
        self.collapse_action = QAction("Collapse all", self)
        self.collapse_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.collapse_action.triggered.connect(self.findings.tree.collapseAll)
        self.findings_tab_action = QAction("Findings", self)
        self.findings_tab_action.setShortcut(QKeySequence("Ctrl+1"))
        self.findings_tab_action.triggered.connect(lambda: self.tabs.setCurrentWidget(self.findings))
        self.overview_tab_action = QAction("Overview", self)
        self.overview_tab_action.setShortcut(QKeySequence("Ctrl+2"))
        self.overview_tab_action.triggered.connect(lambda: self.tabs.setCurrentWidget(self.overview))
        self.script_action = QAction("Remediation script…", self)
        self.script_action.setShortcut(QKeySequence("Ctrl+E"))
        self.script_action.setToolTip("Build, dry-run and apply a script for the selected findings (Ctrl+E)")
        self.script_action.setEnabled(False)
        self.script_action.triggered.connect(lambda: self.open_script_editor())

        self.theme_actions: dict[Theme, QAction] = {}
        group = QActionGroup(self)
        for theme, label in ((Theme.SYSTEM, "System"), (Theme.LIGHT, "Light"), (Theme.DARK, "Dark")):
            action = QAction(label, self, checkable=True)
            action.triggered.connect(lambda _checked=False, t=theme: self.set_theme(t))
            group.addAction(action)
            self.theme_actions[theme] = action

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addActions([self.new_action, self.import_action])
        file_menu.addSeparator()
        file_menu.addAction(self.report_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        audit_menu = menu.addMenu("&Audit")
        audit_menu.addActions([self.run_action, self.cancel_action])
        audit_menu.addSeparator()
        audit_menu.addAction(self.script_action)
        view_menu = menu.addMenu("&View")
        view_menu.addActions([self.filter_action, self.expand_action, self.collapse_action])
        view_menu.addSeparator()
        view_menu.addActions([self.findings_tab_action, self.overview_tab_action])
        view_menu.addSeparator()
        theme_menu = view_menu.addMenu("Theme")
        theme_menu.addActions(list(self.theme_actions.values()))
        help_menu = menu.addMenu("&Help")
        help_menu.addAction("Keyboard shortcuts", self._show_shortcuts)

        style = self.style()
        self.run_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.cancel_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserStop))
        toolbar = self.addToolBar("Audit")
        toolbar.setObjectName("audit_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addAction(self.run_action)
        toolbar.addAction(self.cancel_action)
        toolbar.addSeparator()
        toolbar.addAction(self.expand_action)
        toolbar.addAction(self.collapse_action)
        toolbar.addSeparator()
        toolbar.addAction(self.script_action)
        for action in (self.filter_action, self.findings_tab_action, self.overview_tab_action):
            self.addAction(action)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_environment = QLabel()
        self.status_server = QLabel("Not connected")
        self.status_version = QLabel()
        self.status_role = QLabel()
        self.status_snapshot = QLabel()
        for label in (
            self.status_environment,
            self.status_server,
            self.status_version,
            self.status_role,
            self.status_snapshot,
        ):
            bar.addPermanentWidget(label)
        self.status_environment.hide()

    def _wire(self) -> None:
        c, f, d = self.connections, self.findings, self.details
        c.sig_run_requested.connect(self.run_audit)
        c.sig_selection_changed.connect(self._profile_selected)
        c.sig_message.connect(lambda kind, text: self.message_bar.show_message(kind, html.escape(text)))
        f.sig_finding_selected.connect(d.show_finding)
        f.sig_check_selected.connect(d.show_check)
        f.sig_category_selected.connect(d.show_category)
        f.sig_nothing_selected.connect(d.show_nothing)
        f.sig_open_remediation.connect(self._open_remediation)
        f.sig_open_script.connect(self.open_script_editor)
        f.sig_review_requested.connect(self._review_findings)
        r = self.review
        c.sig_selection_changed.connect(r.set_profile)
        r.sig_statuses.connect(self._review_statuses)
        r.sig_message.connect(
            lambda kind, text: self.message_bar.show_message(kind, f"<span>{html.escape(text)}</span>")
        )
        self.sig_audit_started.connect(lambda: self.script_action.setEnabled(False))
        self.sig_audit_finished.connect(lambda result: self.script_action.setEnabled(True))
        # The review store waits while an audit runs, and until the window has shown its results: its Python
        # thread competing for the GIL made the first paint after an audit take a third of a second.
        self.sig_audit_started.connect(lambda: r.controller.hold(True))
        for ended in (self.sig_audit_finished, self.sig_audit_failed, self.sig_audit_cancelled):
            ended.connect(lambda *_: QTimer.singleShot(REVIEW_SETTLE_MS, lambda: r.controller.hold(False)))
        self.sig_audit_finished.connect(lambda result: r.record_audit(self._running_profile, result))
        r.set_profile(c.current_profile())
        self.compare.script_opener = self.open_sync_editor

    # -- audit -----------------------------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._worker is not None

    def run_audit(self, profile: ConnectionProfile | None = None) -> bool:
        """Start auditing `profile` (default: the selected one). False when nothing was started."""
        if self.is_running:
            return False
        request = self.connections.connection_request(profile)
        if request is None:
            return False
        self._running_profile = request.profile
        self.result = None
        self.findings.clear()
        self.details.set_snapshot(None)
        self.details.show_nothing("The audit is running; findings appear here as each check finishes.")
        self.overview.clear()
        self.message_bar.hide()
        self._set_status_target(request.profile, request.dsn)
        self.progress.setValue(0)
        self.progress_label.setText(f"Connecting to {html.escape(describe_target(request.dsn))}…")
        self.progress_row.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self._set_running(True)
        job = AuditJob(request.dsn, password=request.password, config=self.config)
        worker = Worker(job, cancel=job.cancel)
        worker.signals.sig_progress.connect(self._on_progress)
        worker.signals.sig_findings.connect(self._on_findings)
        worker.signals.sig_finished.connect(self._on_finished)
        worker.signals.sig_failed.connect(self._on_failed)
        worker.signals.sig_cancelled.connect(self._on_cancelled)
        self._job = job
        self._worker = worker.start()
        self.statusBar().showMessage("Audit running…")
        self.sig_audit_started.emit()
        return True

    def cancel_audit(self) -> None:
        """Stop the running audit: the query in flight is cancelled server-side (from this, the GUI thread)."""
        if self._worker is None or self._job is None:
            return
        self.progress_label.setText("Cancelling…")
        self.cancel_button.setEnabled(False)
        self.cancel_action.setEnabled(False)
        self._job.cancel()

    def _set_running(self, running: bool) -> None:
        self.run_action.setEnabled(not running)
        self.connections.run_button.setEnabled(not running and self.connections.current_profile() is not None)
        self.cancel_action.setEnabled(running)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self.progress_label.setText(f"{html.escape(message)}…  ({fraction:.0%})")
        self.sig_audit_progress.emit(fraction, message)

    def _on_findings(self, batch: tuple[Finding, ...]) -> None:
        self.findings.add_findings(batch)

    def _finish(self) -> None:
        self._worker = None
        self._job = None
        self.progress_row.hide()
        self._set_running(False)

    def _on_finished(self, result: AuditResult) -> None:
        self._finish()
        self.result = result
        if self.findings.model.finding_count != len(result.findings):
            self.findings.set_findings(result.findings)
        self.details.set_snapshot(result.snapshot)
        self.overview.set_result(result)
        snap = result.snapshot
        self.status_version.setText(f"PostgreSQL {snap.server_version}")
        self.status_role.setText(f"role {snap.current_user}")
        self.status_snapshot.setText(f"snapshot {snap.collected_at[:19].replace('T', ' ')} UTC")
        counts = Counter(f.level for f in result.findings)
        summary = ", ".join(f"{counts.get(level, 0)} {LEVEL_LABELS[level].lower()}" for level in Level)
        skipped = f", {len(result.checks_skipped)} skipped" if result.checks_skipped else ""
        self.message_bar.show_message(
            "success",
            f"Audit of <b>{html.escape(snap.database)}</b> finished in {result.duration_s:.1f} s: "
            f"{len(result.findings)} findings ({summary}); {len(result.checks_run)} checks run{skipped}.",
        )
        self.statusBar().showMessage("Audit finished", 5000)
        self.findings.expand_default()
        if self.findings.select_first_finding():
            self.findings.tree.setFocus()
        self.sig_audit_finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self._finish()
        kept = self.findings.model.finding_count
        extra = f" The {kept} findings received before the failure are shown." if kept else ""
        self.message_bar.show_message(
            "error",
            f"The audit did not finish. {html.escape(message)}{extra}",
            action="Retry",
            on_action=self._retry,
        )
        self.statusBar().showMessage("Audit failed", 5000)
        self.sig_audit_failed.emit(message)

    def _retry(self) -> None:
        self.run_audit(self._running_profile)

    def _on_cancelled(self) -> None:
        self._finish()
        kept = self.findings.model.finding_count
        extra = f" The {kept} findings received before cancelling are shown." if kept else ""
        self.message_bar.show_message(
            "warning", f"Audit cancelled; the running query was stopped on the server.{extra}"
        )
        self.statusBar().showMessage("Audit cancelled", 5000)
        self.sig_audit_cancelled.emit()

    def export_report(self) -> None:
        """File > Export report…: the report dialog with its preview (built lazily: it loads the PDF renderer)."""
        from workbench.ui.report.dialog import ReportDialog

        self.report_dialog = ReportDialog(self, self.result)
        self.report_dialog.open()

    def _open_remediation(self, finding: Finding) -> None:
        self.details.show_finding(finding, self.findings.model.spec(finding.check))
        self.details.show_remediation()

    def open_script_editor(self, findings: tuple[Finding, ...] | None = None) -> ScriptEditor | None:
        """The remediation script editor for `findings` (default: the selected ones) of the audit shown."""
        chosen = findings if findings is not None else self.findings.selected_findings()
        profile = self._running_profile
        if self.result is None or profile is None or not chosen:
            self.message_bar.show_message("info", "Select findings of a finished audit to build a remediation script.")
            return None
        editor = ScriptEditor(
            chosen,
            self.result,
            profile,
            connect=self.connections.connection_request,
            reaudit=self.run_audit,
            settings=self.settings,
            parent=self,
        )
        self.sig_audit_finished.connect(editor.on_audit_finished)
        self.sig_audit_failed.connect(editor.on_audit_stopped)
        self.sig_audit_cancelled.connect(editor.on_audit_stopped)
        self.review.sig_run_recorded.connect(editor.on_run_recorded)
        editor.show()
        return editor

    def open_sync_editor(self, script: str, comparison: SchemaComparison) -> bool:
        """The Compare tab's sync script in the script editor, for B's connection (none when B is a snapshot file):
        to review, edit, save and dry-run; it is applied only on an explicit, confirmed Apply."""
        editor = ScriptEditor.for_sync_script(
            SyncScript.from_comparison(script, comparison),
            self.compare.profile_of(comparison.b),
            connect=self.connections.connection_request,
            settings=self.settings,
            parent=self,
        )
        editor.show()
        return True

    def _review_findings(self, findings: tuple[Finding, ...]) -> None:
        self.tabs.setCurrentWidget(self.review)
        self.review.show_findings(findings)

    def _review_statuses(self, name: str, statuses: dict[str, StatusBadge]) -> None:
        """A review's decisions show in the findings tree when the tree shows that connection's audit."""
        profile = self._running_profile
        if self.result is not None and profile is not None and review_name(profile) == name:
            self.findings.model.set_statuses(statuses)

    # -- status ----------------------------------------------------------------------------------------------
    def _set_status_target(self, profile: ConnectionProfile, dsn: str) -> None:
        self.status_server.setText(describe_target(dsn))
        self.status_version.setText("")
        self.status_role.setText("")
        self.status_snapshot.setText("")
        self._show_environment(profile)

    def _profile_selected(self, profile: ConnectionProfile | None) -> None:
        title = APP_TITLE if profile is None else f"{profile.name} — {APP_TITLE}"
        self.setWindowTitle(title)
        if not self.is_running:
            self._show_environment(profile)

    def _show_environment(self, profile: ConnectionProfile | None) -> None:
        if profile is None:
            self.env_banner.hide()
            self.status_environment.hide()
            return
        env = profile.environment
        colour = ENVIRONMENT_COLOURS[env]
        chip = f"background:{colour}; color:white; font-weight:600; border-radius:3px; padding:1px 6px;"
        self.status_environment.setText(env.value.upper())
        self.status_environment.setStyleSheet(chip)
        self.status_environment.show()
        if env is Environment.DEV:
            self.env_banner.hide()
            return
        self.env_banner.setText(
            f"{env.label.upper()} — {html.escape(profile.name)} ({html.escape(profile.target)}). "
            "The audit only reads; it never writes to this database."
        )
        self.env_banner.setStyleSheet(
            f"background:{colour}; color:white; font-weight:600; padding:4px 8px; border-radius:4px;"
        )
        self.env_banner.show()

    # -- view ------------------------------------------------------------------------------------------------
    def _focus_filter(self) -> None:
        self.tabs.setCurrentWidget(self.findings)
        self.findings.focus_filter()

    def set_theme(self, theme: Theme) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.theme_actions[theme].setChecked(True)
        self.settings.setValue("theme", theme.value)
        dark = is_dark()
        for view in (self.details.remediation, self.details.definition):
            view.highlighter.set_dark(dark)
        self.overview.apply_palette()
        self.overview.redraw()
        self.details.refresh()
        self.message_bar.refresh()

    def _show_shortcuts(self) -> None:
        rows = [
            ("Ctrl+R, F5", "Run the audit of the selected connection"),
            ("Esc, Ctrl+.", "Cancel the running audit"),
            ("Ctrl+F", "Filter the findings"),
            ("Ctrl+N", "New connection"),
            ("Ctrl+1 / Ctrl+2", "Findings / Overview tab"),
            ("Ctrl+Shift+E / C", "Expand / collapse the tree"),
            ("Ctrl+E", "Remediation script for the selected findings"),
        ]
        text = "<table>" + "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in rows)
        self.message_bar.show_message("info", text + "</table>")

    # -- state -----------------------------------------------------------------------------------------------
    def restore_state(self) -> None:
        s = self.settings
        geometry = s.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1500, 900)
        for key, target in (("splitter", self.splitter), ("details_splitter", self.details.splitter)):
            value = s.value(key)
            if isinstance(value, QByteArray):
                target.restoreState(value)
        header = s.value("findings_header")
        if isinstance(header, QByteArray):
            self.findings.tree.header().restoreState(header)
        theme_name = str(s.value("theme", Theme.SYSTEM.value))
        theme = Theme(theme_name) if theme_name in {t.value for t in Theme} else Theme.SYSTEM
        self.theme_actions[theme].setChecked(True)
        last = s.value("last_profile")
        if isinstance(last, str) and last:
            self.connections.select(last)

    def save_state(self) -> None:
        s = self.settings
        s.setValue("geometry", self.saveGeometry())
        s.setValue("splitter", self.splitter.saveState())
        s.setValue("details_splitter", self.details.splitter.saveState())
        s.setValue("findings_header", self.findings.tree.header().saveState())
        profile = self.connections.current_profile()
        if profile is not None and not self.connections.model.is_transient(profile.id):
            s.setValue("last_profile", profile.id)
        s.sync()

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Cancel a running audit and wait for the pool so no worker outlives the window."""
        if self._job is not None:
            self._job.cancel()
        self.migrations.cancel()
        self.compare.shutdown()
        for editor in self.findChildren(ScriptEditor):
            editor.cancel()
        QThreadPool.globalInstance().waitForDone(timeout_ms)
        self.review.close_store()
        sys.setswitchinterval(self._switch_interval)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.persist_state:
            self.save_state()
        self.shutdown()
        super().closeEvent(event)

    def save_screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.grab().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        return path
