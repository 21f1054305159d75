"""The Compare tab: staging vs production, side by side.

Choose side A and side B — each a saved connection or a saved snapshot file — and press Compare. Both sides are
collected at once on pool threads (each described for the diff as soon as it is read), then diffed; the tree of
differences appears first, grouped by kind, and the findings of both sides follow once the checks have run.
Selecting an object shows its two definitions side by side with the changed lines highlighted. "Sync script…"
hands the script that makes B's security settings match A's to `script_opener` (the window opens it in the
remediation editor, for review): nothing here writes to a database.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QTabWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.checks import AuditConfig
from workbench.core.compare import AttributeDiff
from workbench.core.connections.profiles import ConnectionProfile
from workbench.core.model import Finding
from workbench.ui.compare.ddl import attributes_text, display_value, natural_key
from workbench.ui.compare.ddl_view import SideBySideDiff
from workbench.ui.compare.findings_view import FindingsDiffView
from workbench.ui.compare.jobs import (
    ChecksJob,
    CollectSideJob,
    DecisionsJob,
    DiffJob,
    DsnSource,
    FindingsComparison,
    FindingsDiffJob,
    SchemaComparison,
    Side,
    SnapshotFileSource,
    Source,
    without_password,
)
from workbench.ui.connections.panel import ConnectionsPanel
from workbench.ui.theme import ENVIRONMENT_COLOURS, dot_icon, is_dark
from workbench.ui.workers import Worker

KIND_LABELS = {
    "schema": "Schemas",
    "table": "Tables",
    "view": "Views",
    "materialized_view": "Materialized views",
    "foreign_table": "Foreign tables",
    "column": "Columns",
    "constraint": "Constraints",
    "index": "Indexes",
    "policy": "Policies",
    "function": "Functions",
    "trigger": "Triggers",
    "sequence": "Sequences",
    "extension": "Extensions",
    "grant": "Grants",
    "setting": "Server settings",
}
STATUS_LABELS = {"a": "only in A", "b": "only in B", "diff": "different"}
STATUS_COLOURS = {"a": "#c62828", "b": "#2e7d32", "diff": "#d08400"}
DARK_STATUS_COLOURS = {"a": "#ef6b6b", "b": "#5cc56b", "diff": "#f0ad3c"}
EntryRole = Qt.ItemDataRole.UserRole + 1
FILTER_DELAY_MS = 150
WIDE_LAYOUT_PX = 1250  # narrower: the differences tree goes above the two definitions
RECENT_SNAPSHOTS = 8


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the differences tree."""

    kind: str
    key: str
    status: str  # "a", "b", "diff"
    attributes: tuple[AttributeDiff, ...] = ()  # for "diff"
    values: dict[str, Any] | None = None  # for "a"/"b": the object's attributes

    @property
    def changed(self) -> str:
        return ", ".join(a.name for a in self.attributes)

    def matches(self, needle: str) -> bool:
        if not needle:
            return True
        hay = f"{self.key} {self.kind} {KIND_LABELS.get(self.kind, '')} {self.changed} {STATUS_LABELS[self.status]}"
        return needle in hay.lower()


def review_name(profile: ConnectionProfile) -> str:
    """The review that records a connection's audits (the rule of `workbench.ui.review.controller`)."""
    return profile.name.strip() or profile.target


# -- side pickers -------------------------------------------------------------------------------------------------


class SourcePicker(QWidget):
    """A saved connection or a snapshot file for one side."""

    def __init__(self, side: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.side = side
        self.badge = QLabel(side.upper())
        self.badge.setObjectName(f"side_badge_{side}")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.setFixedWidth(22)
        self.badge.setStyleSheet(
            f"background:{STATUS_COLOURS[side]}; color:white; font-weight:700; border-radius:3px; padding:2px;"
        )
        self._file_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon)
        self.combo = QComboBox()
        self.combo.setObjectName(f"source_{side}")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(10)
        self.combo.setToolTip(f"Side {side.upper()}: a saved connection, or a snapshot saved with `workbench snapshot`")
        self.open_button = QToolButton()
        self.open_button.setText("Snapshot…")
        self.open_button.setToolTip("Compare a snapshot file (JSON saved with `workbench snapshot`) on this side")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.badge)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.open_button)

    def set_choices(
        self, profiles: list[ConnectionProfile], files: list[Path], keep: tuple[str, str] | None = None
    ) -> None:
        current = keep or self.choice()
        self.combo.blockSignals(True)
        self.combo.clear()
        for profile in profiles:
            self.combo.addItem(
                dot_icon(ENVIRONMENT_COLOURS[profile.environment]),
                f"{profile.name}  —  {profile.target}",
                _encode(("profile", profile.id)),
            )
        if profiles and files:
            self.combo.insertSeparator(self.combo.count())
        for path in files:
            self.combo.addItem(self._file_icon, path.name, _encode(("file", str(path))))
            self.combo.setItemData(self.combo.count() - 1, str(path), Qt.ItemDataRole.ToolTipRole)
        if not profiles and not files:
            self.combo.addItem("No saved connection: add one, or open a snapshot", None)
        index = self.combo.findData(_encode(current)) if current is not None else -1
        self.combo.setCurrentIndex(index if index >= 0 else 0)
        self.combo.blockSignals(False)

    def choice(self) -> tuple[str, str] | None:
        """("profile", id) or ("file", path), or None when nothing can be chosen."""
        data = self.combo.currentData()
        if not isinstance(data, str) or ":" not in data:
            return None
        kind, _, value = data.partition(":")
        return kind, value

    def choose(self, choice: tuple[str, str]) -> bool:
        index = self.combo.findData(_encode(choice))
        if index >= 0:
            self.combo.setCurrentIndex(index)
        return index >= 0


def _encode(choice: tuple[str, str]) -> str:
    """Item data as a plain string (a Python tuple does not survive QVariant comparison in findData)."""
    return f"{choice[0]}:{choice[1]}"


class SideProgress(QWidget):
    """`A · Reading columns…` and a thin bar."""

    def __init__(self, side: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setObjectName(f"progress_label_{side}")
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.bar = QProgressBar()
        self.bar.setObjectName(f"progress_{side}")
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self.side = side

    def set(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self.label.setText(f"<b>{self.side.upper()}</b> · {html.escape(message)}")


# -- the panel ----------------------------------------------------------------------------------------------------


class ComparePanel(QWidget):
    sig_schema_ready = Signal(object)  # SchemaComparison: the differences tree is shown
    sig_compare_finished = Signal(object)  # SchemaComparison, once the findings diff is shown too
    sig_compare_failed = Signal(str)
    sig_compare_cancelled = Signal()

    def __init__(
        self,
        connections: ConnectionsPanel | None = None,
        *,
        config: AuditConfig | None = None,
        settings: QSettings | None = None,
        store_path: Path | None = None,
        read_reviews: bool = True,
        parent: QWidget | None = None,
    ):
        """`connections` is the window's ConnectionsPanel (its profiles, and `connection_request` for the
        keyring password or a prompt); without it only snapshot files can be compared."""
        super().__init__(parent)
        self.connections = connections
        self.config = config or AuditConfig()
        self.settings = settings
        self.store_path = store_path
        self.read_reviews = read_reviews
        # Opens the sync script for review (the window: in the remediation editor); True when it did. Without
        # one, "Sync script…" stays disabled.
        self.script_opener: Callable[[str, SchemaComparison], bool] | None = None
        self.schema: SchemaComparison | None = None
        self.findings_result: FindingsComparison | None = None
        self._sources: dict[str, Source] = {}
        self._sides: dict[str, Side] = {}
        self._side_findings: dict[str, tuple[Finding, ...]] = {}
        self._running: dict[str, Worker] = {}
        self._failures: list[str] = []
        self._cancelled = False
        self._entries: list[Entry] = []
        self._files: list[Path] = self._recent_files()

        # Sources and actions.
        self.a_picker, self.b_picker = SourcePicker("a"), SourcePicker("b")
        self.a_picker.open_button.clicked.connect(lambda: self.open_snapshot_with_dialog("a"))
        self.b_picker.open_button.clicked.connect(lambda: self.open_snapshot_with_dialog("b"))
        self.swap_button = QToolButton()
        self.swap_button.setText("⇄")
        self.swap_button.setToolTip("Swap A and B")
        self.swap_button.clicked.connect(self.swap)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("run_compare")
        self.compare_button.setProperty("role", "primary")
        self.compare_button.setToolTip("Collect both sides (read-only, at the same time) and compare them")
        self.compare_button.clicked.connect(lambda: self.compare_selected())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_compare")
        self.cancel_button.setToolTip("Stop collecting; the running queries are cancelled on the servers")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.sync_button = QPushButton("Sync script…")
        self.sync_button.setObjectName("sync_script")
        self.sync_button.setEnabled(False)
        self.sync_button.setToolTip("Compare two sides first")
        self.sync_button.clicked.connect(self.open_sync_script)
        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.a_picker, 1)
        top.addWidget(self.swap_button)
        top.addWidget(self.b_picker, 1)
        top.addSpacing(8)
        top.addWidget(self.compare_button)
        top.addWidget(self.cancel_button)
        top.addSpacing(8)
        top.addWidget(self.sync_button)

        self.a_progress, self.b_progress = SideProgress("a"), SideProgress("b")
        self.progress_row = QWidget()
        progress = QHBoxLayout(self.progress_row)
        progress.setContentsMargins(0, 0, 0, 0)
        progress.setSpacing(16)
        progress.addWidget(self.a_progress, 1)
        progress.addWidget(self.b_progress, 1)
        self.progress_row.hide()
        self.summary = QLabel("Choose two sides — saved connections or snapshot files — and press Compare.")
        self.summary.setObjectName("compare_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        # Objects tab.
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("compare_filter")
        self.filter_edit.setPlaceholderText("Filter by name, kind or attribute…")
        self.filter_edit.setClearButtonEnabled(True)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.rebuild_tree)
        self.filter_edit.textChanged.connect(lambda _text: self._filter_timer.start())
        self.toggles: dict[str, QToolButton] = {}
        filters = QHBoxLayout()
        filters.setSpacing(4)
        filters.addWidget(self.filter_edit, 1)
        for status in ("a", "b", "diff"):
            button = QToolButton()
            button.setObjectName(f"toggle_{status}")
            button.setCheckable(True)
            button.setChecked(True)
            button.setIcon(dot_icon(STATUS_COLOURS[status]))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.toggled.connect(lambda _on: self.rebuild_tree())
            self.toggles[status] = button
            filters.addWidget(button)
        self._update_toggle_labels(Counter())

        self.tree = QTreeWidget()
        self.tree.setObjectName("differences")
        self.tree.setHeaderLabels(["Object", "Status", "Changed"])
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setStretchLastSection(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(0, 300)
        self.tree.setColumnWidth(1, 90)
        self.tree.currentItemChanged.connect(lambda current, _previous: self._show_entry(current))
        self.tree_hint = QLabel()
        self.tree_hint.setProperty("role", "muted")
        self.tree_hint.setWordWrap(True)
        self.tree_hint.hide()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(4)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.tree, 1)
        left_layout.addWidget(self.tree_hint)

        self.object_title = QLabel()
        self.object_title.setObjectName("object_title")
        self.object_title.setTextFormat(Qt.TextFormat.RichText)
        self.object_title.setWordWrap(True)
        self.attributes = QTreeWidget()
        self.attributes.setObjectName("changed_attributes")
        self.attributes.setHeaderLabels(["Attribute", "A", "B"])
        self.attributes.setRootIsDecorated(False)
        self.attributes.setUniformRowHeights(True)
        self.attributes.setColumnWidth(0, 150)
        self.attributes.setColumnWidth(1, 230)
        self.attributes.setMaximumHeight(130)
        self.attributes.hide()
        self.ddl = SideBySideDiff()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(6)
        right_layout.addWidget(self.object_title)
        right_layout.addWidget(self.attributes)
        right_layout.addWidget(self.ddl, 1)
        self.objects_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.objects_splitter.addWidget(left)
        self.objects_splitter.addWidget(right)
        self.objects_splitter.setStretchFactor(0, 2)
        self.objects_splitter.setStretchFactor(1, 3)
        self.objects_splitter.setSizes([480, 720])
        self.objects_splitter.setChildrenCollapsible(False)

        # Findings tab.
        self.findings_view = FindingsDiffView()
        self.findings_view.sig_reviews_chosen.connect(self._reviews_chosen)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("compare_tabs")
        self.tabs.setDocumentMode(True)
        objects_page = QWidget()
        objects_layout = QVBoxLayout(objects_page)
        objects_layout.setContentsMargins(0, 4, 0, 0)
        objects_layout.addWidget(self.objects_splitter)
        self.tabs.addTab(objects_page, "Objects")
        self.tabs.addTab(self.findings_view, "Findings")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)

        if connections is not None:
            model = connections.model
            for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.dataChanged):
                signal.connect(lambda *_args: self.refresh_sources())
        self.refresh_sources()
        self._restore_choices()
        self._show_schema_placeholder()

    # -- sources -----------------------------------------------------------------------------------------------
    def profiles(self) -> list[ConnectionProfile]:
        if self.connections is None:
            return []
        model = self.connections.model
        return [p for row in range(model.rowCount()) if (p := model.profile_at(row)) is not None]

    def refresh_sources(self) -> None:
        profiles = self.profiles()
        for picker in (self.a_picker, self.b_picker):
            picker.set_choices(profiles, self._files)

    def _recent_files(self) -> list[Path]:
        if self.settings is None:
            return []
        value = self.settings.value("compare/recent_snapshots", [])
        names = [value] if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []
        return [Path(n) for n in names if n][:RECENT_SNAPSHOTS]

    def add_snapshot_file(self, path: Path, side: str | None = None) -> None:
        """Offer `path` on both sides (most recent first) and choose it for `side`."""
        path = path.expanduser().resolve()
        self._files = [path, *[p for p in self._files if p != path]][:RECENT_SNAPSHOTS]
        if self.settings is not None:
            self.settings.setValue("compare/recent_snapshots", [str(p) for p in self._files])
            self.settings.setValue("compare/snapshot_folder", str(path.parent))
        choices = {s: p.choice() for s, p in (("a", self.a_picker), ("b", self.b_picker))}
        for s, picker in (("a", self.a_picker), ("b", self.b_picker)):
            picker.set_choices(self.profiles(), self._files, keep=choices[s])
        if side is not None:
            self.picker(side).choose(("file", str(path)))

    def open_snapshot_with_dialog(self, side: str) -> None:
        folder = str(self.settings.value("compare/snapshot_folder", "") if self.settings is not None else "")
        path, _filter = QFileDialog.getOpenFileName(
            self, f"Snapshot for side {side.upper()}", folder or str(Path.home()), "Snapshot (*.json);;All files (*)"
        )
        if path:
            self.add_snapshot_file(Path(path), side)

    def picker(self, side: str) -> SourcePicker:
        return self.a_picker if side == "a" else self.b_picker

    def choose_profile(self, side: str, profile_id: str) -> bool:
        return self.picker(side).choose(("profile", profile_id))

    def swap(self) -> None:
        a, b = self.a_picker.choice(), self.b_picker.choice()
        if b is not None:
            self.a_picker.choose(b)
        if a is not None:
            self.b_picker.choose(a)

    def _restore_choices(self) -> None:
        if self.settings is None:
            return
        for side in ("a", "b"):
            value = self.settings.value(f"compare/{side}")
            if isinstance(value, list | tuple) and len(value) == 2:
                self.picker(side).choose((str(value[0]), str(value[1])))

    def resolve(self, side: str) -> Source | None:
        """The chosen source of `side`, asking for a password when the keyring has none; None when cancelled."""
        choice = self.picker(side).choice()
        if choice is None:
            return None
        kind, value = choice
        if kind == "file":
            return SnapshotFileSource(Path(value), Path(value).name)
        profile = next((p for p in self.profiles() if p.id == value), None)
        if profile is None or self.connections is None:
            return None
        request = self.connections.connection_request(profile)
        if request is None:
            return None
        return DsnSource(request.dsn, profile.name, request.password, profile.id, review_name(request.profile))

    # -- running -----------------------------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return bool(self._running)

    def compare_selected(self) -> bool:
        """Compare the two chosen sides; False when nothing was started."""
        if self.is_running:
            return False
        sources = {}
        for side in ("a", "b"):
            source = self.resolve(side)
            if source is None:
                chosen = self.picker(side).choice() is not None
                self._say(
                    f"Not started: no password was given for side {side.upper()}."
                    if chosen
                    else f"Choose side {side.upper()}: a saved connection or a snapshot file."
                )
                return False
            sources[side] = source
        a, b = sources["a"], sources["b"]
        if self.settings is not None:
            for side in ("a", "b"):
                choice = self.picker(side).choice()
                if choice is not None:
                    self.settings.setValue(f"compare/{side}", list(choice))
        return self.compare(a, b)

    def compare(self, a: Source, b: Source) -> bool:
        """Collect `a` and `b` at once on pool threads, then diff them. False when a comparison is running."""
        if self.is_running:
            return False
        self._sources = {"a": without_password(a), "b": without_password(b)}  # the jobs get the passwords
        self._sides, self._side_findings, self._failures = {}, {}, []
        self._cancelled = False
        self.schema = None
        self.findings_result = None
        self._entries = []
        self.rebuild_tree()
        self.findings_view.clear("The findings of both sides are compared once both have been checked.")
        self.ddl.clear()
        self.object_title.clear()
        self.attributes.hide()
        self.sync_button.setEnabled(False)
        self.tabs.setTabText(0, "Objects")
        self.tabs.setTabText(1, "Findings")
        self.summary.setText(
            f"Collecting <b>A</b> {html.escape(a.label)} and <b>B</b> {html.escape(b.label)} at the same time…"
        )
        for side, source in (("a", a), ("b", b)):
            self.progress(side).set(0.0, f"{source.label}: starting")
            job = CollectSideJob(source)
            self._start(
                f"collect_{side}",
                job,
                job.cancel,
                partial(self._side_collected, side),
                progress=partial(self._side_progress, side, 0.0, 0.6),
            )
        self.progress_row.show()
        self._set_running()
        return True

    def progress(self, side: str) -> SideProgress:
        return self.a_progress if side == "a" else self.b_progress

    def _side_progress(self, side: str, start: float, span: float, fraction: float, message: str) -> None:
        self.progress(side).set(start + span * fraction, f"{self._sources[side].label}: {message}")

    def _start(
        self,
        name: str,
        job: Callable[..., Any],
        cancel: Callable[[], None] | None,
        on_finished: Callable[[Any], None],
        *,
        progress: Callable[[float, str], None] | None = None,
    ) -> None:
        worker = Worker(job, cancel=cancel)
        if progress is not None:
            worker.signals.sig_progress.connect(progress)
        worker.signals.sig_finished.connect(lambda value: self._ended(name, on_finished, value))
        worker.signals.sig_failed.connect(lambda message: self._ended(name, self._failed, f"{name}:{message}"))
        worker.signals.sig_cancelled.connect(lambda: self._ended(name, self._was_cancelled, name))
        self._running[name] = worker
        worker.start()

    def _ended(self, name: str, handler: Callable[[Any], None], value: Any) -> None:
        self._running.pop(name, None)
        handler(value)
        self._set_running()

    def _set_running(self) -> None:
        running = self.is_running
        self.compare_button.setEnabled(not running)
        self.cancel_button.setEnabled(running and not self._cancelled)
        for widget in (self.a_picker, self.b_picker, self.swap_button):
            widget.setEnabled(not running)
        if not running:
            self.progress_row.hide()

    def cancel(self) -> None:
        """Stop everything running: queries in flight are cancelled on the servers, the checks stop."""
        if not self._running:
            return
        self._cancelled = True
        self.cancel_button.setEnabled(False)
        for worker in list(self._running.values()):
            worker.cancel()

    def shutdown(self) -> None:
        """Cancel what runs (the window then waits for the pool)."""
        self.cancel()

    def _failed(self, tagged: str) -> None:
        name, _, message = tagged.partition(":")
        side = name.rsplit("_", 1)[-1]
        label = self._sources[side].label if side in self._sources else ""
        prefix = f"{side.upper()} ({label}): " if name.startswith(("collect_", "checks_")) else ""
        self._failures.append(prefix + message)
        if name.startswith("collect_"):
            # Without one side there is nothing to compare: stop the other one.
            for other in list(self._running.values()):
                other.cancel()
        self._maybe_stopped()

    def _was_cancelled(self, _name: str) -> None:
        self._maybe_stopped()

    def _maybe_stopped(self) -> None:
        """Once every side job has ended after a failure or a cancel: say so (once)."""
        if any(n in self._running for n in ("collect_a", "collect_b", "diff", "checks_a", "checks_b")):
            return
        if self._failures:
            message = " ".join(self._failures)
            if self.schema is None:
                self.summary.setText(
                    f"<span style='color:#c62828'>✗ The comparison did not finish.</span> {html.escape(message)}"
                )
            else:
                self.findings_view.show_hint(f"The findings could not be compared. {message}")
            self.sig_compare_failed.emit(message)
        elif self._cancelled:
            if self.schema is None:
                self.summary.setText("Comparison cancelled; the running queries were stopped on the servers.")
            else:
                self.findings_view.show_hint("The checks were cancelled: the findings of A and B are not compared.")
            self.sig_compare_cancelled.emit()
        self._failures = []
        self._cancelled = False

    def _side_collected(self, side: str, value: Side) -> None:
        self._sides[side] = value
        self.progress(side).set(0.6, f"{value.label}: collected in {value.seconds:.1f} s")
        if self._cancelled or self._failures:
            self._maybe_stopped()
        elif len(self._sides) == 2:
            job = DiffJob(self._sides["a"], self._sides["b"])
            self._start("diff", job, None, self._schema_ready)

    def _schema_ready(self, comparison: SchemaComparison) -> None:
        self.set_schema(comparison)
        self.sig_schema_ready.emit(comparison)
        if self._cancelled:
            self._maybe_stopped()
            return
        for side in ("a", "b"):
            job = ChecksJob(self._sides[side].snapshot, self.config)
            self._start(
                f"checks_{side}",
                job,
                job.cancel,
                partial(self._side_checked, side),
                progress=partial(self._side_progress, side, 0.6, 0.4),
            )

    def _side_checked(self, side: str, findings: tuple[Finding, ...]) -> None:
        self._side_findings[side] = findings
        self.progress(side).set(1.0, f"{self._sources[side].label}: {len(findings)} findings")
        if len(self._side_findings) == 2 and not self._cancelled and not self._failures:
            job = FindingsDiffJob(
                self._side_findings["a"],
                self._side_findings["b"],
                a_review=self._sources["a"].review,
                b_review=self._sources["b"].review,
                store_path=self.store_path,
                read_reviews=self.read_reviews,
            )
            self._start("findings", job, None, self._findings_ready)
        elif self._cancelled or self._failures:
            self._maybe_stopped()

    def _findings_ready(self, result: FindingsComparison) -> None:
        self.set_findings(result)
        if self.schema is not None:
            self.sig_compare_finished.emit(self.schema)

    # -- the differences tree ----------------------------------------------------------------------------------
    def set_schema(self, comparison: SchemaComparison) -> None:
        """Show a finished schema comparison (replaces what is shown)."""
        self.schema = comparison
        diff = comparison.schema
        entries = [Entry(o.kind, o.key, "a", values=o.attributes) for o in diff.only_in_a]
        entries += [Entry(o.kind, o.key, "b", values=o.attributes) for o in diff.only_in_b]
        entries += [Entry(d.kind, d.key, "diff", d.attributes) for d in diff.different]
        order = {k: i for i, k in enumerate(KIND_LABELS)}
        status_order = {"diff": 0, "a": 1, "b": 2}
        entries.sort(key=lambda e: (order.get(e.kind, len(order)), natural_key(e.key), status_order[e.status]))
        self._entries = entries
        counts = Counter(e.status for e in entries)
        self._update_toggle_labels(counts)
        a, b = comparison.a, comparison.b
        self.ddl.set_titles(self._side_title("a", a), self._side_title("b", b))
        self.rebuild_tree()
        self.tabs.setTabText(0, f"Objects ({len(entries)})")
        self.summary.setText(self._summary_text())
        script = comparison.sync_script
        self.sync_button.setEnabled(script is not None and self.script_opener is not None)
        self.sync_button.setToolTip(
            "No security-relevant difference (RLS, policies, view options, function security, grants)"
            if script is None
            else "Open the script that makes B's security settings match A's in the script editor: review, edit, "
            "save, dry-run; nothing is applied without your confirmation"
        )
        if not entries:
            self.ddl.clear("The two sides have the same objects with the same attributes.")
        else:
            self.select_first()

    def _side_title(self, side: str, value: Side) -> str:
        snap = value.snapshot
        colour = (DARK_STATUS_COLOURS if is_dark() else STATUS_COLOURS)[side]
        return (
            f"<b style='color:{colour}'>{side.upper()}</b> · {html.escape(value.label)} "
            f"<span style='color:#8a93a3'>({html.escape(snap.database)}, PostgreSQL "
            f"{html.escape(snap.server_version)})</span>"
        )

    def _summary_text(self) -> str:
        if self.schema is None:
            return ""
        c = self.schema
        d = c.schema
        parts = [
            f"<b>{len(d.different)}</b> different",
            f"<b>{len(d.only_in_a)}</b> only in A",
            f"<b>{len(d.only_in_b)}</b> only in B",
            f"{d.identical:,} identical",
        ]
        where = (
            f"<b>A</b> {html.escape(c.a.label)} ({html.escape(c.a.source.description)}) · "
            f"<b>B</b> {html.escape(c.b.label)} ({html.escape(c.b.source.description)})"
        )
        verbs = ["read" if isinstance(side.source, SnapshotFileSource) else "collected" for side in (c.a, c.b)]
        timing = (
            f"A {verbs[0]} in {c.a.seconds:.1f} s, B {verbs[1]} in {c.b.seconds:.1f} s, compared in {c.seconds:.2f} s"
        )
        text = f"{where}: {', '.join(parts)} objects — <span style='color:#8a93a3'>{timing}</span>"
        if self.findings_result is not None:
            f = self.findings_result.findings
            text += (
                f"<br>Findings: <b>{len(f.only_in_a)}</b> only in A, <b>{len(f.only_in_b)}</b> only in B, "
                f"<b>{len(f.level_changes)}</b> with another level, {len(f.in_both) - len(f.level_changes)} the same"
            )
        return text

    def _update_toggle_labels(self, counts: Counter[str]) -> None:
        for status, button in self.toggles.items():
            label = STATUS_LABELS[status]
            button.setText(f"{label[0].upper()}{label[1:]} ({counts.get(status, 0)})")
            button.setToolTip(f"Show the objects {STATUS_LABELS[status]}")

    def visible_entries(self) -> list[Entry]:
        needle = self.filter_edit.text().strip().lower()
        shown = {s for s, b in self.toggles.items() if b.isChecked()}
        return [e for e in self._entries if e.status in shown and e.matches(needle)]

    def rebuild_tree(self) -> None:
        """Rebuild the tree from the comparison with the filters applied; the selection is kept when still shown."""
        current = self.current_entry()
        entries = self.visible_entries()
        groups: dict[str, list[Entry]] = {}
        for entry in entries:
            groups.setdefault(entry.kind, []).append(entry)
        dark = is_dark()
        colours = DARK_STATUS_COLOURS if dark else STATUS_COLOURS
        self.tree.setUpdatesEnabled(False)
        try:
            self.tree.clear()
            keep: QTreeWidgetItem | None = None
            tops = []
            for kind, members in groups.items():
                statuses = Counter(e.status for e in members)
                summary = " · ".join(f"{statuses[s]} {STATUS_LABELS[s]}" for s in ("diff", "a", "b") if statuses[s])
                top = QTreeWidgetItem([f"{KIND_LABELS.get(kind, kind)}  ({len(members)})", summary, ""])
                font = top.font(0)
                font.setBold(True)
                top.setFont(0, font)
                top.setFirstColumnSpanned(False)
                children = []
                for entry in members:
                    child = QTreeWidgetItem([entry.key, STATUS_LABELS[entry.status], entry.changed])
                    child.setData(0, EntryRole, entry)
                    child.setIcon(1, dot_icon(STATUS_COLOURS[entry.status]))
                    child.setForeground(1, QBrush(QColor(colours[entry.status])))
                    child.setToolTip(0, entry.key)
                    if entry.changed:
                        child.setToolTip(2, entry.changed)
                    children.append(child)
                    if current is not None and (entry.kind, entry.key, entry.status) == (
                        current.kind,
                        current.key,
                        current.status,
                    ):
                        keep = child
                top.addChildren(children)
                tops.append(top)
            self.tree.addTopLevelItems(tops)
            for top in tops:
                top.setExpanded(top.childCount() <= 200 or len(tops) == 1)
        finally:
            self.tree.setUpdatesEnabled(True)
        if keep is not None:
            self.tree.setCurrentItem(keep)
        self._tree_hint(len(entries))

    def _tree_hint(self, shown: int) -> None:
        if self.schema is None:
            self.tree_hint.hide()
            return
        total = len(self._entries)
        if total == 0:
            self.tree_hint.setText(
                f"No difference: the {self.schema.schema.identical:,} objects compared are identical on both sides."
            )
        elif shown < total:
            self.tree_hint.setText(f"{shown} of {total} differences shown; the filters hide the others.")
        else:
            self.tree_hint.hide()
            return
        self.tree_hint.show()

    def _show_schema_placeholder(self) -> None:
        self.ddl.set_titles("<b>A</b>", "<b>B</b>")
        self.ddl.clear("Compare two sides to see their differences here.")

    def current_entry(self) -> Entry | None:
        item = self.tree.currentItem()
        value = item.data(0, EntryRole) if item is not None else None
        return value if isinstance(value, Entry) else None

    def _object_items(self) -> Iterator[tuple[QTreeWidgetItem, QTreeWidgetItem, Entry]]:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            assert top is not None
            for j in range(top.childCount()):
                child = top.child(j)
                assert child is not None
                yield top, child, child.data(0, EntryRole)

    def shown_entries(self) -> list[tuple[str, str, str]]:
        """(kind, key, status) of every object row in the tree, in order (for tests and the screenshot)."""
        return [(e.kind, e.key, e.status) for _top, _child, e in self._object_items()]

    def group_labels(self) -> list[str]:
        return [item.text(0) for i in range(self.tree.topLevelItemCount()) if (item := self.tree.topLevelItem(i))]

    def select_first(self) -> None:
        for _top, child, _entry in self._object_items():
            self.tree.setCurrentItem(child)
            return

    def select_object(self, kind: str, key: str) -> bool:
        for top, child, entry in self._object_items():
            if entry.kind == kind and entry.key == key:
                top.setExpanded(True)
                self.tree.setCurrentItem(child)
                self.tree.scrollToItem(child)
                return True
        return False

    def _show_entry(self, item: QTreeWidgetItem | None) -> None:
        entry = item.data(0, EntryRole) if item is not None else None
        if not isinstance(entry, Entry) or self.schema is None:
            self.attributes.hide()
            if item is not None and self.schema is not None:
                self.object_title.setText(f"<b>{html.escape(item.text(0))}</b> — {html.escape(item.text(1))}")
                self.ddl.clear("Select an object of the group to compare its definitions.")
            return
        c = self.schema
        colour = (DARK_STATUS_COLOURS if is_dark() else STATUS_COLOURS)[entry.status]
        kind = entry.kind.replace("_", " ")
        self.object_title.setText(
            f"<span style='color:#8a93a3'>{html.escape(kind)}</span> <b>{html.escape(entry.key)}</b> "
            f"&nbsp;<span style='color:{colour}; font-weight:600'>{STATUS_LABELS[entry.status]}</span>"
        )
        self.attributes.clear()
        if entry.status == "diff":
            for attr in entry.attributes:
                row = QTreeWidgetItem([attr.name, _short(attr.a), _short(attr.b)])
                row.setToolTip(1, _full(attr.a))
                row.setToolTip(2, _full(attr.b))
                self.attributes.addTopLevelItem(row)
            self.attributes.setMaximumHeight(min(130, 28 + 22 * len(entry.attributes)))
            self.attributes.show()
        else:
            self.attributes.hide()
        a_text = c.ddl_a.ddl(entry.kind, entry.key) if entry.status in ("a", "diff") else None
        b_text = c.ddl_b.ddl(entry.kind, entry.key) if entry.status in ("b", "diff") else None
        if entry.status in ("a", "diff") and a_text is None:
            a_text = attributes_text(entry.values or {a.name: a.a for a in entry.attributes})
        if entry.status in ("b", "diff") and b_text is None:
            b_text = attributes_text(entry.values or {a.name: a.b for a in entry.attributes})
        self.ddl.show_definitions(
            a_text,
            b_text,
            a_missing=f"Not in A ({c.a.label}).",
            b_missing=f"Not in B ({c.b.label}).",
        )

    # -- the findings diff -------------------------------------------------------------------------------------
    def set_findings(self, result: FindingsComparison) -> None:
        self.findings_result = result
        self.findings_view.set_result(result)
        self.tabs.setTabText(1, f"Findings ({self.findings_view.row_count})")
        self.summary.setText(self._summary_text())

    def choose_reviews(self, a: str | None, b: str | None) -> None:
        """Show the decisions of other reviews (read in the background)."""
        self.findings_view.choose_reviews(a, b)

    def _reviews_chosen(self, a: str | None, b: str | None) -> None:
        if "decisions" in self._running:
            return
        self._start("decisions", DecisionsJob(self.store_path, a, b), None, self.findings_view.set_decisions)

    # -- sync script -------------------------------------------------------------------------------------------
    def open_sync_script(self) -> bool:
        """Hand the security sync script (B → A) to `script_opener` for review; True when it was opened."""
        c = self.schema
        if c is None or c.sync_script is None or self.script_opener is None:
            return False
        return self.script_opener(c.sync_script, c)

    def profile_of(self, side: Side) -> ConnectionProfile | None:
        """The saved connection a compared side was collected from; None for a snapshot file (or a connection
        that is no longer saved)."""
        source = side.source
        if not isinstance(source, DsnSource) or source.profile_id is None:
            return None
        return next((p for p in self.profiles() if p.id == source.profile_id), None)

    # -- misc --------------------------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.summary.setText(html.escape(text))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_layout()

    def _fit_layout(self) -> None:
        """Tree beside the definitions when there is room for three columns of text, else above them."""
        wide = self.width() >= WIDE_LAYOUT_PX
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        splitter = self.objects_splitter
        if splitter.orientation() == orientation:
            return
        splitter.setOrientation(orientation)
        total = splitter.width() if wide else splitter.height()
        first = int(total * (0.38 if wide else 0.36))
        splitter.setSizes([first, max(total - first, 1)])

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.ddl.refresh_theme()
            if self.schema is not None:
                self.ddl.set_titles(self._side_title("a", self.schema.a), self._side_title("b", self.schema.b))
                self.rebuild_tree()


def _full(value: Any) -> str:
    return display_value(value)


def _short(value: Any) -> str:
    text = " ".join(_full(value).split())
    return text if len(text) <= 80 else text[:77] + "…"
