"""The findings panel: filter bar (text, level toggles, categories), the tree, and its context menu."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.checks.registry import CheckSpec
from workbench.core.model import Category, Finding, Level
from workbench.ui.findings.details import combined_sql, evidence_json
from workbench.ui.models.findings_model import (
    CategoryRole,
    Column,
    FindingFilter,
    FindingRole,
    FindingsModel,
    FindingsProxyModel,
    NodeKind,
    NodeKindRole,
    SpecRole,
)
from workbench.ui.theme import CATEGORY_LABELS, LEVEL_LABELS, level_icon

EXPAND_ALL_LIMIT = 400  # expand every group after an audit up to this many findings, else categories only


class FindingsPanel(QWidget):
    """Findings tree with its filter bar. Emits what the user selected; knows nothing of the details pane."""

    sig_finding_selected = Signal(object, object)  # Finding, CheckSpec | None
    sig_check_selected = Signal(object, tuple)  # CheckSpec | None, findings
    sig_category_selected = Signal(object, tuple)  # Category, findings
    sig_nothing_selected = Signal()
    sig_open_remediation = Signal(object)  # Finding
    sig_open_script = Signal(tuple)  # findings: open the remediation script editor for them
    sig_review_requested = Signal(tuple)  # findings: record a review decision on them
    sig_selection_changed = Signal()  # the set of selected rows changed (see selected_findings)
    sig_filter_changed = Signal()

    def __init__(self, specs: dict[str, CheckSpec], parent: QWidget | None = None):
        super().__init__(parent)
        self.model = FindingsModel(specs, self)
        self.proxy = FindingsProxyModel(self)
        self.proxy.setSourceModel(self.model)

        # Filter bar
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("filter")
        self.filter_edit.setPlaceholderText("Filter by object, check or text  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.level_buttons: dict[Level, QToolButton] = {}
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(6)
        bar.addWidget(self.filter_edit, 1)
        for level in Level:
            button = QToolButton()
            button.setCheckable(True)
            button.setChecked(True)
            button.setIcon(level_icon(level))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setToolTip(f"Show or hide {LEVEL_LABELS[level].lower()} findings")
            button.toggled.connect(self._filter_changed)
            self.level_buttons[level] = button
            bar.addWidget(button)
        self.category_button = QToolButton()
        self.category_button.setText("All categories")
        self.category_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.category_menu = QMenu(self.category_button)
        self.category_actions: dict[Category, QAction] = {}
        for category in Category:
            action = self.category_menu.addAction(CATEGORY_LABELS.get(category.value, category.value))
            action.setCheckable(True)
            action.setChecked(True)
            action.toggled.connect(self._filter_changed)
            self.category_actions[category] = action
        self.category_menu.addSeparator()
        self.category_menu.addAction("Show all categories", self._all_categories)
        self.category_button.setMenu(self.category_menu)
        bar.addWidget(self.category_button)

        self.tree = QTreeView()
        self.tree.setObjectName("findings_tree")
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSortingEnabled(True)
        self.tree.header().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.selectionModel().currentRowChanged.connect(self._current_changed)
        self.tree.selectionModel().selectionChanged.connect(lambda *_: self.sig_selection_changed.emit())
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        widths = {Column.OBJECT: 300, Column.LEVEL: 84, Column.CHECK: 150, Column.WHERE: 120, Column.STATUS: 130}
        for column, width in widths.items():
            self.tree.setColumnWidth(column, width)

        self.summary = QLabel("No audit yet.")
        self.summary.setProperty("role", "muted")
        self.empty_hint = QLabel()
        self.empty_hint.setProperty("role", "muted")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.summary)

        for signal in (self.model.rowsInserted, self.model.modelReset, self.model.layoutChanged):
            signal.connect(self._update_counts)
        self._update_counts()

    # -- data ------------------------------------------------------------------------------------------------
    def clear(self) -> None:
        self.model.clear()
        self.sig_nothing_selected.emit()

    def add_findings(self, batch: tuple[Finding, ...]) -> None:
        self.model.add_findings(batch)
        self._update_counts()  # rowsInserted fires before the groups' counts are brought up to date

    def set_findings(self, findings: tuple[Finding, ...]) -> None:
        self.model.set_findings(findings)

    def expand_default(self) -> None:
        """Categories open; checks open too when not too many findings are shown."""
        if self.model.visible_count <= EXPAND_ALL_LIMIT:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(0)

    def select_first_finding(self) -> bool:
        """Select the first object row (the most severe one in the default order); False when there is none.

        When that check reported more than EXPAND_ALL_LIMIT objects its row is selected instead, closed:
        opening it lays out every one of its rows (a second of frozen window for 2,000 of them)."""
        proxy = self.proxy
        for cat_row in range(proxy.rowCount()):
            cat = proxy.index(cat_row, 0)
            for chk_row in range(proxy.rowCount(cat)):
                chk = proxy.index(chk_row, 0, cat)
                if count := proxy.rowCount(chk):
                    self.tree.expand(cat)
                    target = chk
                    if count <= EXPAND_ALL_LIMIT:
                        self.tree.expand(chk)
                        target = proxy.index(0, 0, chk)
                    self.tree.setCurrentIndex(target)
                    self.tree.scrollTo(target)
                    return True
        return False

    # -- filter ----------------------------------------------------------------------------------------------
    def current_filter(self) -> FindingFilter:
        return FindingFilter(
            text=self.filter_edit.text(),
            levels=frozenset(level for level, b in self.level_buttons.items() if b.isChecked()),
            categories=frozenset(c for c, a in self.category_actions.items() if a.isChecked()),
        )

    def _filter_changed(self) -> None:
        f = self.current_filter()
        self.proxy.set_filter(f)
        shown = len(f.categories)
        self.category_button.setText(
            "All categories" if shown == len(Category) else f"{shown} of {len(Category)} categories"
        )
        self.expand_default()  # rows the filter hid come back collapsed
        self._update_counts()
        self.sig_filter_changed.emit()

    def _all_categories(self) -> None:
        for action in self.category_actions.values():
            action.blockSignals(True)
            action.setChecked(True)
            action.blockSignals(False)
        self._filter_changed()

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def _update_counts(self) -> None:
        by_level = self.model.level_counts()
        for level, button in self.level_buttons.items():
            button.setText(f"{LEVEL_LABELS[level]}  {by_level.get(level, 0):,}")
        total = self.model.finding_count
        visible = self.model.visible_count
        if total == 0:
            self.summary.setText("No findings.")
        elif visible == total:
            self.summary.setText(f"{total:,} finding{'s' if total != 1 else ''}.")
        else:
            self.summary.setText(f"{visible:,} of {total:,} findings match the filter.")
        self.empty_hint.setVisible(total > 0 and visible == 0)
        if total > 0 and visible == 0:
            self.empty_hint.setText("No finding matches the filter.")

    # -- selection -------------------------------------------------------------------------------------------
    def current_source_index(self) -> QModelIndex:
        current = self.tree.currentIndex()
        return self.proxy.mapToSource(current) if current.isValid() else QModelIndex()

    def current_finding(self) -> Finding | None:
        index = self.current_source_index()
        value = index.data(FindingRole) if index.isValid() else None
        return value if isinstance(value, Finding) else None

    def selected_findings(self) -> tuple[Finding, ...]:
        """The findings of every selected row (a group row counts for its visible findings), each once, in tree
        order; the current row's when nothing is selected."""
        rows = self.tree.selectionModel().selectedRows(0)
        if not rows and self.tree.currentIndex().isValid():
            rows = [self.tree.currentIndex()]
        rows.sort(key=_tree_order)
        unique: dict[str, Finding] = {}
        for index in rows:
            for finding in self.model.findings_under(self.proxy.mapToSource(index)):
                unique.setdefault(finding.fingerprint, finding)
        return tuple(unique.values())

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.sig_nothing_selected.emit()
            return
        source = self.proxy.mapToSource(current)
        kind = NodeKind(source.data(NodeKindRole))
        if kind is NodeKind.FINDING:
            self.sig_finding_selected.emit(source.data(FindingRole), source.data(SpecRole))
        elif kind is NodeKind.CHECK:
            self.sig_check_selected.emit(source.data(SpecRole), self.model.findings_under(source))
        else:
            self.sig_category_selected.emit(Category(source.data(CategoryRole)), self.model.findings_under(source))

    # -- context menu ----------------------------------------------------------------------------------------
    def _context_menu(self, pos: QPoint) -> None:
        index = self.tree.indexAt(pos)
        if index.isValid():
            self.context_menu(index).popup(self.tree.viewport().mapToGlobal(pos))

    def context_menu(self, index: QModelIndex) -> QMenu:
        """The actions for a row of the tree (a proxy index): copy key/SQL/detail/evidence, open remediation."""
        source = self.proxy.mapToSource(index)
        findings = self.model.findings_under(source)
        finding = source.data(FindingRole)
        selection = self.tree.selectionModel()
        # Right-clicking inside a multi-row selection acts on the selection; elsewhere on the row clicked.
        targets = self.selected_findings() if selection.isRowSelected(index.row(), index.parent()) else findings
        menu = QMenu(self)
        if isinstance(finding, Finding):
            menu.addAction("Copy key", lambda: _copy(finding.key))
            menu.addAction("Copy fingerprint", lambda: _copy(finding.fingerprint))
            sql = menu.addAction("Copy SQL", lambda: _copy(finding.remediation_sql or ""))
            sql.setEnabled(bool(finding.remediation_sql))
            menu.addAction("Copy detail", lambda: _copy(finding.detail))
            menu.addAction("Copy evidence (JSON)", lambda: _copy(evidence_json(finding)))
            menu.addSeparator()
            menu.addAction("Open remediation", lambda: self.sig_open_remediation.emit(finding))
            self._add_script_action(menu, targets)
        else:
            script = combined_sql(findings)
            plural = "s" if len(findings) != 1 else ""
            action = menu.addAction(f"Copy SQL of {len(findings)} finding{plural}", lambda: _copy(script or ""))
            action.setEnabled(bool(script))
            menu.addAction("Copy keys", lambda: _copy("\n".join(f.key for f in findings)))
            menu.addSeparator()
            self._add_script_action(menu, targets)
            menu.addAction("Expand", lambda: self.tree.expandRecursively(index))
        menu.addAction("Collapse all", self.tree.collapseAll)
        return menu

    def _add_script_action(self, menu: QMenu, findings: tuple[Finding, ...]) -> None:
        plural = "s" if len(findings) != 1 else ""
        action = menu.addAction(
            f"Remediation script for {len(findings)} finding{plural}…", lambda: self.sig_open_script.emit(findings)
        )
        action.setObjectName("open_script")
        action.setEnabled(bool(findings))
        decide = menu.addAction("Decide in the Review tab…", lambda: self.sig_review_requested.emit(findings))
        decide.setObjectName("open_review")
        decide.setEnabled(bool(findings))


def _tree_order(index: QModelIndex) -> list[int]:
    """Sort key putting proxy indexes in the order the tree shows them."""
    path: list[int] = []
    while index.isValid():
        path.append(index.row())
        index = index.parent()
    return path[::-1]


def _copy(text: str) -> None:
    QGuiApplication.clipboard().setText(text)
