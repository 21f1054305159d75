"""The Review tab: decisions per finding, the checklist, sign-off and the run history of a connection's review.

The panel shows the review named after the selected connection (see `review_name`). Everything it reads or writes
goes through `ReviewController`, off the GUI thread; the panel replaces what it shows with each `ReviewView` it
receives. The reviewer's name is a setting (`review/reviewer`), asked once at the top of the tab.
"""

from __future__ import annotations

import getpass
import html
from datetime import date, timedelta

from PySide6.QtCore import (
    QDate,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSettings,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.checks.runner import AuditResult
from workbench.core.connections.profiles import ConnectionProfile
from workbench.core.model import Finding
from workbench.core.review import ChecklistState, DecisionStatus, FindingStatus, ReviewState, SignOff
from workbench.ui.message_bar import MessageBar
from workbench.ui.review.controller import ReviewController, ReviewView, RunRow, review_name
from workbench.ui.review.models import (
    STATUS_COLOURS,
    DecisionColumn,
    DecisionsModel,
    DecisionsProxy,
    FindingStatusRole,
    badges,
    fingerprints_of,
    rich,
    status_counts,
)
from workbench.ui.theme import dot_icon, is_dark

REVIEWER_KEY = "review/reviewer"
ROLE_KEY = "review/role"
DEFAULT_STATEMENT = (
    "I reviewed the findings of the latest audit run, the decisions recorded on them and the checklist, "
    "and I approve this database for release with the accepted risks and deferrals listed."
)
ChecklistKeyRole = Qt.ItemDataRole.UserRole + 1
AnyIndex = QModelIndex | QPersistentModelIndex
_GREEN, _ORANGE, _GREY = "#2e7d32", "#ef8f00", "#5f6b7a"
RUN_DETAIL_ROWS = 300  # findings listed per group of a run's details


def _when(iso: str | None) -> str:
    """`2026-03-01 14:05` from an ISO timestamp (UTC)."""
    return (iso or "")[:16].replace("T", " ")


def signoff_text(state: ReviewState) -> tuple[str, str]:
    """(text, colour) of the sign-off banner."""
    if not state.signoffs:
        return "Not signed off yet.", _GREY
    last = state.signoffs[-1]
    who = f"{last.reviewer} ({last.role}) on {_when(last.signed_at)} UTC"
    if last.superseded:
        return f"Changed since sign-off — sign again. Last signed by {who}.", _ORANGE
    return f"Signed by {who}.", _GREEN


class WrappingDelegate(QStyledItemDelegate):
    """Rows tall enough for the wrapped text of their column (QTreeView sizes rows for one line otherwise)."""

    def __init__(self, view: QTreeWidget):
        super().__init__(view)
        self.view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        hint = super().sizeHint(option, index)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        # The text's width: the column less the indentation, the check box and the margins.
        depth = 1 if index.parent().isValid() else 0
        width = (
            self.view.columnWidth(index.column())
            - depth * self.view.indentation()
            - (28 if index.column() == 0 else 10)
        )
        if width <= 20 or not text:
            return hint
        metrics = QFontMetrics(self.view.font())
        flags = int(Qt.TextFlag.TextWordWrap)
        rect = metrics.boundingRect(QRect(0, 0, width, 10_000), flags, text)
        return QSize(hint.width(), max(hint.height(), rect.height() + 8))


class ReviewPanel(QWidget):
    """Decisions, checklist, sign-off and run history of the current connection's review."""

    sig_statuses = Signal(str, dict)  # review name, {fingerprint: StatusBadge} for the findings tree
    sig_view_shown = Signal(object)  # the ReviewView just shown (tests and the main window wait on it)
    sig_run_recorded = Signal(str, object)  # review name, RunComparison
    sig_message = Signal(str, str)  # kind, text (plain): for the window's message bar

    def __init__(self, settings: QSettings, controller: ReviewController | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.controller = controller or ReviewController(parent=self)
        self.profile: ConnectionProfile | None = None
        self.view: ReviewView | None = None
        self.history: tuple[RunRow, ...] = ()
        self._populating = False

        # Header: review name and facts, the reviewer's name, the sign-off banner, messages.
        self.title = QLabel("Review")
        self.title.setProperty("role", "heading")
        self.facts = QLabel()
        self.facts.setProperty("role", "muted")
        self.facts.setWordWrap(True)
        self.facts.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.reviewer_edit = QLineEdit(str(settings.value(REVIEWER_KEY, "") or "") or _login_name())
        self.reviewer_edit.setObjectName("reviewer")
        self.reviewer_edit.setPlaceholderText("Your name")
        self.reviewer_edit.setToolTip("Recorded with every decision, tick and sign-off (kept in the settings)")
        self.reviewer_edit.setMinimumWidth(170)
        self.reviewer_edit.setMaximumWidth(240)
        self.reviewer_edit.textChanged.connect(self._reviewer_changed)
        head = QHBoxLayout()
        head.setSpacing(8)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.facts)
        head.addLayout(titles, 1)
        self.reviewer_label = QLabel("Reviewer:")
        head.addWidget(self.reviewer_label)
        head.addWidget(self.reviewer_edit)
        self.banner = QLabel()
        self.banner.setObjectName("signoff_banner")
        self.banner.setWordWrap(True)
        self.message = MessageBar(self)

        self.placeholder = QLabel()
        self.placeholder.setObjectName("review_placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setProperty("role", "muted")
        self.placeholder.setMargin(40)

        self.sections = QTabWidget()
        self.sections.setObjectName("review_sections")
        self.sections.tabBar().setUsesScrollButtons(False)
        self.sections.tabBar().setElideMode(Qt.TextElideMode.ElideNone)
        self.sections.addTab(self._build_decisions(), "Findings")
        self.sections.addTab(self._build_checklist(), "Checklist")
        self.sections.addTab(self._build_signoff(), "Sign-off")
        self.sections.addTab(self._build_history(), "Runs")

        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.sections)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addWidget(self.banner)
        layout.addWidget(self.message)
        layout.addWidget(self.stack, 1)

        c = self.controller
        c.sig_available.connect(lambda _path: self._show_placeholder_or_review())
        c.sig_unavailable.connect(self._unavailable)
        c.sig_view.connect(self._show_view)
        c.sig_failed.connect(self._operation_failed)
        c.sig_recorded.connect(self.sig_run_recorded)
        self._show_placeholder("Opening the review store…")
        self._update_buttons()
        if c.store is None and c.unavailable is None:
            c.open()

    # -- construction ------------------------------------------------------------------------------------------
    def _build_decisions(self) -> QWidget:
        self.decisions = DecisionsModel(self)
        self.decisions_proxy = DecisionsProxy(self)
        self.decisions_proxy.setSourceModel(self.decisions)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by check, object, status or note")
        self.filter_edit.setClearButtonEnabled(True)
        self.show_combo = QComboBox()
        for label, mode in (
            ("All findings", DecisionsProxy.ALL),
            ("To deal with", DecisionsProxy.TO_DEAL_WITH),
            ("Decided", DecisionsProxy.DECIDED),
        ):
            self.show_combo.addItem(label, mode)
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.show_combo.currentIndexChanged.connect(self._filter_changed)
        self.counts = QLabel()
        self.counts.setProperty("role", "muted")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.show_combo)

        self.table = QTableView()
        self.table.setObjectName("decisions_table")
        self.table.setModel(self.decisions_proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(DecisionColumn.LEVEL, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        for column, width in (
            (DecisionColumn.LEVEL, 84),
            (DecisionColumn.OBJECT, 180),
            (DecisionColumn.STATUS, 200),
            (DecisionColumn.CHECK, 190),
            (DecisionColumn.NOTE, 170),
        ):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._decision_selection_changed())

        # The decision form.
        self.selection_label = QLabel()
        self.selection_label.setTextFormat(Qt.TextFormat.RichText)
        self.current_decision = QLabel()
        self.current_decision.setTextFormat(Qt.TextFormat.RichText)
        self.current_decision.setProperty("role", "muted")
        self.status_combo = QComboBox()
        self.status_combo.setObjectName("decision_status")
        for status in DecisionStatus:
            self.status_combo.addItem(dot_icon(STATUS_COLOURS[status], 8), status.label, status.value)
        self.status_combo.currentIndexChanged.connect(lambda _i: self._update_buttons())
        self.until_edit = QDateEdit()
        self.until_edit.setObjectName("deferred_until")
        self.until_edit.setCalendarPopup(True)
        self.until_edit.setDisplayFormat("yyyy-MM-dd")
        self.until_edit.setMinimumDate(QDate.currentDate())
        self.until_edit.setDate(_qdate(date.today() + timedelta(days=30)))
        self.note_edit = QPlainTextEdit()
        self.note_edit.setObjectName("decision_note")
        self.note_edit.setPlaceholderText("Why: the risk accepted, the ticket, the plan…")
        self.note_edit.setFixedHeight(self.note_edit.fontMetrics().lineSpacing() * 3 + 14)
        self.decide_button = QPushButton("Record decision")
        self.decide_button.setObjectName("record_decision")
        self.decide_button.setProperty("role", "primary")
        self.decide_button.clicked.connect(self.record_decision)
        self.decide_hint = QLabel()
        self.decide_hint.setProperty("role", "muted")
        self.decide_hint.setWordWrap(True)
        # Below the table: what is selected and its decision, then status, date, note and the button.
        box = QGroupBox("Decision")
        grid = QGridLayout(box)
        grid.setHorizontalSpacing(8)
        grid.addWidget(self.selection_label, 0, 0, 1, 6)
        grid.addWidget(self.current_decision, 1, 0, 1, 6)
        grid.addWidget(QLabel("Status"), 2, 0)
        grid.addWidget(self.status_combo, 2, 1)
        grid.addWidget(QLabel("Deferred until"), 2, 2)
        grid.addWidget(self.until_edit, 2, 3)
        grid.addWidget(self.decide_button, 2, 5)
        grid.addWidget(QLabel("Note"), 3, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.note_edit, 3, 1, 1, 5)
        grid.addWidget(self.decide_hint, 4, 1, 1, 5)
        grid.setColumnStretch(4, 1)
        self.status_combo.setMinimumWidth(150)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(4)
        top_layout.addLayout(bar)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.counts)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(top, 1)
        layout.addWidget(box)
        return page

    def _build_checklist(self) -> QWidget:
        self.checklist = QTreeWidget()
        self.checklist.setObjectName("checklist")
        self.checklist.setColumnCount(4)
        self.checklist.setHeaderLabels(["Item", "Ticked by", "When", "Note"])
        self.checklist.setRootIsDecorated(False)
        self.checklist.setAlternatingRowColors(True)
        self.checklist.setWordWrap(True)
        self.checklist.setItemDelegateForColumn(0, WrappingDelegate(self.checklist))
        self.checklist.setItemDelegateForColumn(3, WrappingDelegate(self.checklist))
        header = self.checklist.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.sectionResized.connect(lambda *_: self.checklist.scheduleDelayedItemsLayout())
        self.checklist.setColumnWidth(0, 320)
        self.checklist.setColumnWidth(1, 145)
        self.checklist.setColumnWidth(2, 125)
        self.checklist.itemChanged.connect(self._checklist_item_changed)
        legend = QLabel(
            "Tick an item once you have verified it; your name and the time are recorded. Items marked "
            "<i>automatic</i> (in grey) are evaluated from the findings of the latest audit run and cannot be "
            "ticked by hand."
        )
        legend.setWordWrap(True)
        legend.setProperty("role", "muted")
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(legend)
        layout.addWidget(self.checklist, 1)
        return page

    def _build_signoff(self) -> QWidget:
        self.signing_as = QLabel()
        self.role_edit = QLineEdit(str(self.settings.value(ROLE_KEY, "") or ""))
        self.role_edit.setObjectName("signoff_role")
        self.role_edit.setPlaceholderText("e.g. Lead DBA")
        self.role_edit.textChanged.connect(self._role_changed)
        self.statement_edit = QPlainTextEdit(DEFAULT_STATEMENT)
        self.statement_edit.setObjectName("signoff_statement")
        self.statement_edit.setMaximumHeight(90)
        self.statement_edit.textChanged.connect(self._update_buttons)
        self.sign_button = QPushButton("Sign off")
        self.sign_button.setObjectName("sign_off")
        self.sign_button.setProperty("role", "primary")
        self.sign_button.clicked.connect(self.sign)
        self.sign_hint = QLabel()
        self.sign_hint.setWordWrap(True)
        self.sign_hint.setProperty("role", "muted")
        form = QFormLayout()
        form.addRow("Reviewer", self.signing_as)
        form.addRow("Role", self.role_edit)
        form.addRow("Statement", self.statement_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.sign_button)
        buttons.addWidget(self.sign_hint, 1)
        box = QGroupBox("Sign the review as it is now")
        box_layout = QVBoxLayout(box)
        box_layout.addLayout(form)
        box_layout.addLayout(buttons)

        self.signoffs = QTableWidget(0, 5)
        self.signoffs.setObjectName("signoff_history")
        self.signoffs.setHorizontalHeaderLabels(["Signed (UTC)", "Reviewer", "Role", "Statement", "Status"])
        self.signoffs.verticalHeader().hide()
        self.signoffs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.signoffs.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.signoffs.horizontalHeader().setStretchLastSection(False)
        self.signoffs.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 130), (1, 140), (2, 120), (4, 150)):
            self.signoffs.setColumnWidth(column, width)
        history = QLabel("Sign-off history")
        history.setProperty("role", "section")
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(box)
        layout.addWidget(history)
        layout.addWidget(self.signoffs, 1)
        return page

    def _build_history(self) -> QWidget:
        self.runs = QTableWidget(0, 8)
        self.runs.setObjectName("run_history")
        self.runs.setHorizontalHeaderLabels(
            ["Run", "Started (UTC)", "Database", "PostgreSQL", "Findings", "Fixed", "New", "Still open"]
        )
        self.runs.verticalHeader().hide()
        self.runs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runs.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.runs.horizontalHeader().setStretchLastSection(True)
        for column, width in ((0, 50), (1, 140), (2, 140), (3, 90), (4, 70), (5, 60), (6, 60)):
            self.runs.setColumnWidth(column, width)
        self.runs.itemSelectionChanged.connect(self._run_selected)
        self.run_details = QTreeWidget()
        self.run_details.setObjectName("run_details")
        self.run_details.setHeaderLabels(["Against the previous run", "Check", "Level"])
        self.run_details.setColumnWidth(0, 420)
        self.run_details.setColumnWidth(1, 220)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.runs)
        splitter.addWidget(self.run_details)
        splitter.setSizes([200, 300])
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)
        return page

    # -- the connection --------------------------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        return review_name(self.profile) if self.profile is not None else None

    @property
    def state(self) -> ReviewState | None:
        return self.view.state if self.view is not None else None

    def set_profile(self, profile: ConnectionProfile | None) -> None:
        """Show the review of `profile` (read in the background)."""
        if profile is not None and self.profile is not None and review_name(profile) == self.name:
            self.profile = profile
            return
        self.profile = profile
        self.view = None
        self.history = ()
        self.controller.show(self.name)
        self._show_placeholder_or_review()

    def record_audit(self, profile: ConnectionProfile | None, result: AuditResult) -> None:
        """Store a finished audit in the profile's review; the fixes it verifies are marked."""
        if profile is not None:
            self.controller.record(profile, result)

    def close_store(self) -> None:
        self.controller.close()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        state = self.state
        if event.type() == QEvent.Type.PaletteChange and state is not None:  # light/dark switch: muted colours
            self._show_checklist(state.checklist, state.latest_run.number if state.latest_run else None)

    # -- showing ---------------------------------------------------------------------------------------------
    def _show_placeholder(self, text: str, *, warning: bool = False) -> None:
        self.placeholder.setText(text)
        self.placeholder.setStyleSheet(f"color: {_ORANGE}; font-weight: 600;" if warning else "")
        self.stack.setCurrentWidget(self.placeholder)
        self.banner.hide()

    def _show_placeholder_or_review(self) -> None:
        c = self.controller
        if c.unavailable is not None:
            self._show_placeholder(
                f"The review feature is off: {c.unavailable}\n\nAudits still run; decisions, the checklist and "
                "sign-off need a working review store.",
                warning=True,
            )
            self.title.setText("Review")
            self.facts.setText("")
        elif c.store is None:
            self._show_placeholder("Opening the review store…")
        elif self.profile is None:
            self.title.setText("Review")
            self.facts.setText("")
            self._show_placeholder("Select a connection to see its review.")
        elif self.view is None:
            self.title.setText(f"Review “{self.name}”")
            self._show_placeholder("Reading the review…")
        elif self.view.state is None:
            self.title.setText(f"Review “{self.name}”")
            self.facts.setText("")
            self._show_placeholder(
                f"No review for “{self.name}” yet.\n\nRun an audit of this connection: each run is recorded in its "
                "review, where you decide on each finding, tick the checklist and sign off."
            )
        self._update_buttons()

    def _unavailable(self, message: str) -> None:
        self._show_placeholder_or_review()
        self.reviewer_edit.setEnabled(False)
        self.reviewer_edit.hide()
        self.reviewer_label.hide()
        self.sig_message.emit("warning", f"The review feature is off. {message}")

    def _operation_failed(self, message: str) -> None:
        self.message.show_message("error", rich(message))
        if not self.isVisible():  # e.g. storing an audit run while another tab is shown
            self.sig_message.emit("error", message)
        self.controller.refresh()  # undo what the panel showed ahead of the store (a tick, say)

    def _show_view(self, view: ReviewView) -> None:
        if view.name != self.name:
            return
        self.view = view
        if view.history is not None:
            self.history = view.history
        state = view.state
        if state is None:
            self._show_placeholder_or_review()
            self.sig_statuses.emit(view.name, {})
            self.sig_view_shown.emit(view)
            return
        self.message.hide()
        self._show_header(state)
        self._show_decisions(state)
        self._show_checklist(state.checklist, state.latest_run.number if state.latest_run else None)
        self._show_signoffs(state.signoffs)
        if view.history is not None:
            self._show_history()
        self.stack.setCurrentWidget(self.sections)
        self._update_buttons()
        self.sig_statuses.emit(view.name, badges(state))
        self.sig_view_shown.emit(view)

    def _show_header(self, state: ReviewState) -> None:
        info = state.review
        self.title.setText(f"Review “{info.name}”")
        run = state.latest_run
        parts = []
        if run is not None:
            parts.append(f"database {run.database} (PostgreSQL {run.server_version})")
            parts.append(f"{info.runs} run{'s' if info.runs != 1 else ''}, latest {_when(run.started_at)} UTC")
        else:
            parts.append("no audit run yet")
        parts.append(f"created {info.created_at[:10]}")
        self.facts.setText(" · ".join(parts))
        text, colour = signoff_text(state)
        self.banner.setText(text)
        self.banner.setStyleSheet(
            f"background:{colour}; color:white; font-weight:600; padding:5px 10px; border-radius:4px;"
        )
        self.banner.show()

    def _show_decisions(self, state: ReviewState) -> None:
        selected = set(fingerprints_of(self.table.selectionModel().selectedRows()))
        current = self.table.currentIndex()
        current_fp = str(current.data(FindingStatusRole).finding.fingerprint) if current.isValid() else None
        self.decisions.set_rows(state.findings)
        self._reselect(selected, current_fp)
        counts = status_counts(state)
        blocking = sum(1 for fs in state.findings if fs.blocking)
        shown = ", ".join(f"{n} {s.label}" for s, n in counts.items() if n)
        self.counts.setText(f"{len(state.findings)} findings in the latest run ({shown}); {blocking} to deal with.")
        self._decision_selection_changed()

    def _reselect(self, fingerprints: set[str], current: str | None) -> None:
        if not fingerprints and current is None:
            return
        proxy = self.decisions_proxy
        selection = self.table.selectionModel()
        for row in range(proxy.rowCount()):
            index = proxy.index(row, 0)
            fs: FindingStatus = index.data(FindingStatusRole)
            fp = fs.finding.fingerprint
            if fp == current:
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
            if fp in fingerprints:
                selection.select(
                    index, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
                )

    def _show_checklist(self, items: tuple[ChecklistState, ...], run: int | None) -> None:
        self._populating = True
        try:
            self.checklist.clear()
            sections: dict[str, QTreeWidgetItem] = {}
            bold = QFont()
            bold.setBold(True)
            for entry in items:
                spec = entry.item
                section = sections.get(spec.section)
                if section is None:
                    section = QTreeWidgetItem([spec.section or "Checklist"])
                    section.setFont(0, bold)
                    section.setFlags(Qt.ItemFlag.ItemIsEnabled)
                    section.setFirstColumnSpanned(False)
                    self.checklist.addTopLevelItem(section)
                    sections[spec.section] = section
                item = QTreeWidgetItem(section)
                item.setData(0, ChecklistKeyRole, spec.key)
                item.setText(0, spec.text)
                item.setCheckState(0, Qt.CheckState.Checked if entry.ticked else Qt.CheckState.Unchecked)
                item.setText(
                    1, (f"automatic (run #{run})" if run else "automatic") if spec.automatic else entry.who or ""
                )
                item.setText(2, _when(entry.at))
                item.setText(3, entry.note)
                item.setToolTip(3, entry.note)
                if spec.automatic:
                    # Shown, not editable: its state comes from the findings of the latest run.
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                    item.setToolTip(
                        0, f"{spec.text}\n\nAutomatic: evaluated from the findings of {', '.join(spec.auto_checks)}"
                    )
                    muted = QBrush(QColor("#9aa3b0" if is_dark() else _GREY))
                    for column in range(4):
                        item.setForeground(column, muted)
                    italic = item.font(0)
                    italic.setItalic(True)
                    item.setFont(0, italic)
                else:
                    item.setFlags(
                        Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable
                    )
                    item.setToolTip(0, f"{spec.text}\n\nTick once verified; your name and the time are recorded.")
            self.checklist.expandAll()
        finally:
            self._populating = False

    def _show_signoffs(self, signoffs: tuple[SignOff, ...]) -> None:
        table = self.signoffs
        table.setRowCount(len(signoffs))
        for row, s in enumerate(reversed(signoffs)):
            status = "superseded: changed since" if s.superseded else "current"
            values = (_when(s.signed_at), s.reviewer, s.role, " ".join(s.statement.split()), status)
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(s.statement if column == 3 else f"content hash {s.content_hash[:16]}…")
                if column == 4:
                    item.setForeground(QBrush(QColor(_ORANGE if s.superseded else _GREEN)))
                table.setItem(row, column, item)

    def _show_history(self) -> None:
        table = self.runs
        table.blockSignals(True)
        rows = list(reversed(self.history))
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            run, v = row.run, row.verification
            values = [
                f"#{run.number}",
                _when(run.started_at),
                run.database,
                run.server_version,
                str(len(run.findings)),
                str(len(v.fixed)) if v else "—",
                str(len(v.new)) if v else "—",
                str(len(v.still_open)) if v else "—",
            ]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column >= 4:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 5 and v and v.fixed:
                    item.setForeground(QBrush(QColor(_GREEN)))
                if column == 6 and v and v.new:
                    item.setForeground(QBrush(QColor("#c62828")))
                table.setItem(r, column, item)
        table.blockSignals(False)
        if rows:
            table.selectRow(0)
        self._run_selected()

    def _run_selected(self) -> None:
        self.run_details.clear()
        rows = list(reversed(self.history))
        selected = self.runs.selectionModel().selectedRows()
        if not selected or not rows:
            return
        row = rows[selected[0].row()]
        v = row.verification
        if v is None:
            top = QTreeWidgetItem([f"Run #{row.run.number} is the first run: {len(row.run.findings)} findings"])
            self.run_details.addTopLevelItem(top)
            return
        bold = QFont()
        bold.setBold(True)
        for label, findings, colour in (
            ("Fixed", v.fixed, _GREEN),
            ("New", v.new, "#c62828"),
            ("Still open", v.still_open, _GREY),
            ("Not re-checked", v.not_rechecked, _GREY),
        ):
            if label == "Not re-checked" and not findings:
                continue
            top = QTreeWidgetItem([f"{label} ({len(findings)})"])
            top.setFont(0, bold)
            top.setIcon(0, dot_icon(colour, 8))
            self.run_details.addTopLevelItem(top)
            # A few hundred per group: thousands of rows here would freeze the window while they are built,
            # and the decisions table lists (and filters) every finding.
            for f in findings[:RUN_DETAIL_ROWS]:
                QTreeWidgetItem(top, [_finding_label(f), f.check, f.level.value])
            if len(findings) > RUN_DETAIL_ROWS:
                more = QTreeWidgetItem(top, [f"… and {len(findings) - RUN_DETAIL_ROWS} more (see the decisions table)"])
                more.setForeground(0, QBrush(QColor(_GREY)))
            top.setExpanded(label != "Still open" or len(findings) <= 20)

    # -- decisions -------------------------------------------------------------------------------------------
    def _filter_changed(self) -> None:
        self.decisions_proxy.set_filter(self.filter_edit.text(), str(self.show_combo.currentData()))

    def selected_statuses(self) -> tuple[FindingStatus, ...]:
        rows = sorted(self.table.selectionModel().selectedRows(), key=lambda ix: ix.row())
        return tuple(ix.data(FindingStatusRole) for ix in rows)

    def select_fingerprints(self, fingerprints: set[str]) -> int:
        """Select the rows of these findings (the filter is cleared first); how many were found."""
        self.filter_edit.clear()
        self.show_combo.setCurrentIndex(0)
        self.table.clearSelection()
        self._reselect(fingerprints, next(iter(fingerprints), None))
        return len(self.table.selectionModel().selectedRows())

    def show_findings(self, findings: tuple[Finding, ...]) -> None:
        """Select these findings on the Findings page, ready for a decision (from the findings tree)."""
        self.sections.setCurrentIndex(0)
        if self.state is None:
            return
        found = self.select_fingerprints({f.fingerprint for f in findings})
        if found < len(findings):
            missing = len(findings) - found
            self.message.show_message(
                "warning",
                rich(
                    f"{missing} of the {len(findings)} findings are not in the latest run stored in this review "
                    "(is another connection selected?)."
                ),
            )
        if found:
            self.status_combo.setFocus()

    def _decision_selection_changed(self) -> None:
        chosen = self.selected_statuses()
        if not chosen:
            self.selection_label.setText("Select one or more findings to record a decision.")
            self.current_decision.setText("")
        else:
            first = chosen[0]
            if len(chosen) == 1:
                self.selection_label.setText(
                    f"<b>{html.escape(first.finding.title)}</b><br>{html.escape(_finding_label(first.finding))}"
                )
            else:
                self.selection_label.setText(f"<b>{len(chosen)} findings selected</b>: the decision applies to all.")
            d = first.decision
            if d is None:
                self.current_decision.setText("No decision yet: open.")
            else:
                note = f" — “{html.escape(d.note)}”" if d.note else ""
                self.current_decision.setText(
                    f"Now {html.escape(first.label)}, by {html.escape(d.reviewer)} on {_when(d.decided_at)}{note}"
                )
            status = d.status if d is not None else DecisionStatus.OPEN
            self.status_combo.setCurrentIndex(self.status_combo.findData(status.value))
            if d is not None and d.deferred_until is not None and d.deferred_until >= date.today():
                self.until_edit.setDate(_qdate(d.deferred_until))
            self.note_edit.setPlainText(d.note if d is not None and len(chosen) == 1 else "")
        self._update_buttons()

    def chosen_status(self) -> DecisionStatus:
        return DecisionStatus(str(self.status_combo.currentData()))

    def record_decision(self) -> None:
        name, chosen = self.name, self.selected_statuses()
        reviewer = self.reviewer()
        if name is None or not chosen or not reviewer:
            return
        status = self.chosen_status()
        until = _pydate(self.until_edit.date()) if status is DecisionStatus.DEFERRED else None
        self.controller.decide(
            name,
            (fs.finding.fingerprint for fs in chosen),
            status,
            reviewer=reviewer,
            note=self.note_edit.toPlainText().strip(),
            until=until,
        )

    # -- checklist -------------------------------------------------------------------------------------------
    def checklist_item(self, key: str) -> QTreeWidgetItem | None:
        for i in range(self.checklist.topLevelItemCount()):
            section = self.checklist.topLevelItem(i)
            for j in range(section.childCount() if section is not None else 0):
                child = section.child(j) if section is not None else None
                if child is not None and child.data(0, ChecklistKeyRole) == key:
                    return child
        return None

    def _checklist_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._populating or column != 0 or self.name is None:
            return
        key = item.data(0, ChecklistKeyRole)
        if not key:
            return
        reviewer = self.reviewer()
        if not reviewer:
            self.message.show_message("warning", "Enter your name as reviewer (top right) before ticking items.")
            self.controller.refresh()
            return
        ticked = item.checkState(0) == Qt.CheckState.Checked
        self.controller.tick(self.name, str(key), who=reviewer, ticked=ticked)

    # -- sign-off --------------------------------------------------------------------------------------------
    def sign(self) -> None:
        name, reviewer = self.name, self.reviewer()
        role, statement = self.role_edit.text().strip(), self.statement_edit.toPlainText().strip()
        if name is None or not (reviewer and role and statement):
            return
        self.controller.sign_off(name, reviewer=reviewer, role=role, statement=statement)

    # -- settings and buttons --------------------------------------------------------------------------------
    def reviewer(self) -> str:
        return self.reviewer_edit.text().strip()

    def _reviewer_changed(self, text: str) -> None:
        self.settings.setValue(REVIEWER_KEY, text.strip())
        self._update_buttons()

    def _role_changed(self, text: str) -> None:
        self.settings.setValue(ROLE_KEY, text.strip())
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self.controller.available and self.state is not None
        reviewer = self.reviewer()
        chosen = bool(self.table.selectionModel().selectedRows())
        self.until_edit.setEnabled(self.chosen_status() is DecisionStatus.DEFERRED)
        self.decide_button.setEnabled(ready and chosen and bool(reviewer))
        self.decide_hint.setText("" if reviewer else "Enter your name as reviewer (top right) to record decisions.")
        self.decide_hint.setVisible(not reviewer)
        self.signing_as.setText(html.escape(reviewer) if reviewer else "<i>enter your name at the top right</i>")
        has_run = self.state is not None and self.state.latest_run is not None
        complete = bool(reviewer and self.role_edit.text().strip() and self.statement_edit.toPlainText().strip())
        self.sign_button.setEnabled(ready and has_run and complete)
        if not has_run:
            self.sign_hint.setText("The review has no audit run to sign yet.")
        elif not complete:
            self.sign_hint.setText("A sign-off needs your name, your role and a statement.")
        else:
            self.sign_hint.setText("Any later decision, tick or audit run will need a new sign-off.")


def _finding_label(f: Finding) -> str:
    return f"{f.key}  [{f.discriminator}]" if f.discriminator else f.key


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())
