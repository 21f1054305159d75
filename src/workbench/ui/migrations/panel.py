"""The Migrations panel: choose a folder, review it in the background, see the results by file.

A thin layer over :func:`workbench.core.migrations.review_migrations`: the review runs in a :class:`Worker`
(the replay starts its own throwaway PostgreSQL and always stops it), and the finished
:class:`MigrationReview` is shown as a tree of files with their findings (the migration rules' findings and the
database audit's findings attributed to the file that created or last altered their object).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.checks.registry import REGISTRY, CheckSpec
from workbench.core.migrations import (
    UNATTRIBUTED,
    CancelToken,
    MigrationConfig,
    MigrationReview,
    migration_specs,
    review_migrations,
)
from workbench.core.model import Finding
from workbench.ui.workers import Worker, WorkerContext

FindingRole = Qt.ItemDataRole.UserRole + 1


class MigrationsJob:
    """One review of one folder; ``cancel()`` is safe from the GUI thread at any time."""

    def __init__(self, path: Path, config: MigrationConfig) -> None:
        self.path = path
        self.config = config
        self.canceller = CancelToken()

    def cancel(self) -> None:
        self.canceller.cancel()

    def __call__(self, context: WorkerContext) -> MigrationReview:
        return review_migrations(self.path, self.config, context.progress, self.canceller)


class MigrationsPanel(QWidget):
    sig_review_finished = Signal(object)  # MigrationReview
    sig_review_failed = Signal(str)
    sig_review_cancelled = Signal()

    def __init__(self, parent: QWidget | None = None, *, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.review: MigrationReview | None = None
        self._job: MigrationsJob | None = None
        self._worker: Worker | None = None
        self._specs: dict[str, CheckSpec] = {s.id: s for s in migration_specs()}

        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("Folder of .sql migrations")
        self.path_edit.setObjectName("migrations_path")
        if settings is not None:
            self.path_edit.setText(str(settings.value("migrations_folder", "")))
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.clicked.connect(self.choose_folder)
        self.scaffold_box = QCheckBox("Supabase scaffold")
        self.scaffold_box.setToolTip("Create Supabase's roles, auth schema and auth.uid()/auth.jwt() before the files")
        self.replay_box = QCheckBox("Replay on a throwaway PostgreSQL")
        self.replay_box.setChecked(True)
        self.run_button = QPushButton("Review")
        self.run_button.setObjectName("run_migrations")
        self.run_button.clicked.connect(lambda: self.run_review())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.status = QLabel("Choose a folder of migrations and press Review.")
        self.status.setWordWrap(True)

        self.tree = QTreeWidget()
        self.tree.setObjectName("migrations_tree")
        self.tree.setHeaderLabels(["File / finding", "Level", "Check", "Where"])
        self.tree.setColumnWidth(0, 420)
        self.tree.currentItemChanged.connect(self._show_item)
        self.details = QTextBrowser()
        self.details.setOpenExternalLinks(False)

        top = QHBoxLayout()
        top.addWidget(self.path_edit, 1)
        top.addWidget(self.choose_button)
        top.addWidget(self.scaffold_box)
        top.addWidget(self.replay_box)
        top.addWidget(self.run_button)
        top.addWidget(self.cancel_button)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)

    # -- running ---------------------------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._worker is not None

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Migrations folder", self.path_edit.text() or str(Path.home()))
        if folder:
            self.path_edit.setText(folder)

    def run_review(self, path: Path | None = None) -> bool:
        """Start reviewing ``path`` (default: the folder in the field). False when nothing was started."""
        if self.is_running:
            return False
        folder = path or Path(self.path_edit.text().strip()).expanduser()
        if not str(folder).strip() or not folder.exists():
            self.status.setText("Choose an existing folder of .sql migrations first.")
            return False
        self.path_edit.setText(str(folder))
        if self.settings is not None:
            self.settings.setValue("migrations_folder", str(folder))
        config = MigrationConfig(
            scaffold="supabase" if self.scaffold_box.isChecked() else None,
            replay=self.replay_box.isChecked(),
        )
        job = MigrationsJob(folder, config)
        worker = Worker(job, cancel=job.cancel)
        worker.signals.sig_progress.connect(self._on_progress)
        worker.signals.sig_finished.connect(self._on_finished)
        worker.signals.sig_failed.connect(self._on_failed)
        worker.signals.sig_cancelled.connect(self._on_cancelled)
        self._job = job
        self._set_running(True)
        self.status.setText(f"Reviewing {html.escape(str(folder))}…")
        self._worker = worker.start()
        return True

    def cancel(self) -> None:
        """Stop the running review; the statement in flight is cancelled on the throwaway server."""
        if self._job is not None:
            self.status.setText("Cancelling…")
            self.cancel_button.setEnabled(False)
            self._job.cancel()

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.choose_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.progress.setValue(0)

    def _done(self) -> None:
        self._worker = None
        self._job = None
        self._set_running(False)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self.status.setText(f"{message}…")

    def _on_finished(self, review: MigrationReview) -> None:
        self._done()
        self.progress.setValue(1000)
        self.set_review(review)
        self.sig_review_finished.emit(review)

    def _on_failed(self, message: str) -> None:
        self._done()
        self.status.setText(f"The review did not finish: {message}")
        self.sig_review_failed.emit(message)

    def _on_cancelled(self) -> None:
        self._done()
        self.status.setText("Review cancelled; the throwaway server was stopped.")
        self.sig_review_cancelled.emit()

    # -- showing ---------------------------------------------------------------------------------------------
    def set_review(self, review: MigrationReview) -> None:
        """Show a finished review: one top-level item per file, its findings below."""
        self.review = review
        self.tree.clear()
        statuses = {a.file: a.status for a in review.replay.files} if review.replay is not None else {}
        groups = review.by_file()
        for f in review.files:
            items = groups.get(f.relative, [])
            status = statuses.get(f.relative, "not replayed" if review.replay is None else "not applied")
            self._add_group(f"{f.relative}  ({status})", items)
        if UNATTRIBUTED in groups:
            self._add_group("Not attributable to a file", groups[UNATTRIBUTED])
        self.tree.expandAll()
        replay = review.replay
        if replay is not None and replay.failure is not None:
            failure = replay.failure
            summary = f"Replay stopped at {failure.file}, line {failure.line}: {failure.message}."
        elif replay is not None:
            summary = f"Replayed {len(review.files)} files on PostgreSQL {replay.server_version}."
        else:
            summary = f"Checked {len(review.files)} files (not replayed)."
        audit = len(review.audit.findings) if review.audit is not None else 0
        self.status.setText(
            f"{html.escape(summary)} {len(review.findings)} migration findings, {audit} database audit findings, "
            f"{review.duration_s:.1f} s."
        )
        self.details.clear()

    def _add_group(self, title: str, findings: list[Finding]) -> None:
        group = QTreeWidgetItem([title, "", "", str(len(findings)) if findings else ""])
        self.tree.addTopLevelItem(group)
        for finding in sorted(findings, key=lambda f: (-f.level.rank, f.check, f.fingerprint)):
            line = finding.evidence.get("line") if finding.object.kind == "file" else None
            where = f"line {line}" if line is not None else finding.key
            child = QTreeWidgetItem([finding.detail, finding.level.value, finding.check, where])
            child.setData(0, FindingRole, finding)
            child.setToolTip(0, finding.detail)
            group.addChild(child)

    def _show_item(self, item: QTreeWidgetItem | None) -> None:
        finding = item.data(0, FindingRole) if item is not None else None
        if not isinstance(finding, Finding):
            self.details.clear()
            return
        spec = self._specs.get(finding.check) or (REGISTRY[finding.check].spec if finding.check in REGISTRY else None)
        parts = [
            f"<h3>{html.escape(spec.title if spec else finding.check)}</h3>",
            f"<p><b>{finding.level.value.upper()}</b> · <code>{html.escape(finding.fingerprint)}</code></p>",
            f"<p>{html.escape(finding.detail)}</p>",
        ]
        if self.review is not None and self.review.replay is not None and finding.object.kind != "file":
            attribution = self.review.replay.attribution_of(finding)
            if attribution is not None:
                parts.append(
                    f"<p>Created in <code>{html.escape(str(attribution.created_in))}</code>, last altered in "
                    f"<code>{html.escape(str(attribution.last_altered_in))}</code>.</p>"
                )
        if finding.evidence:
            evidence = json.dumps(finding.evidence, indent=2, ensure_ascii=False, default=str)
            parts.append(f"<pre>{html.escape(evidence)}</pre>")
        if spec is not None:
            parts.append(f"<p>{html.escape(spec.rationale)}</p>")
            parts.append(f"<p><b>How to fix:</b> {html.escape(spec.remediation)}</p>")
        if finding.remediation_sql:
            parts.append(f"<pre>{html.escape(finding.remediation_sql)}</pre>")
        self.details.setHtml("".join(parts))
