"""The Findings tab of Compare: findings only in A, only in B, or with another level, and the review decisions.

Decisions come from the review store by fingerprint: side A's from A's review, side B's from B's (by default the
reviews named after the two connections; either can be switched to another review or to none).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.model import Finding
from workbench.core.review import Decision, DecisionStatus
from workbench.ui.compare.ddl import natural_key
from workbench.ui.compare.jobs import Decisions, FindingsComparison
from workbench.ui.theme import level_icon

FindingRowRole = Qt.ItemDataRole.UserRole + 2
GROUP_TITLES = {"a": "Only in A", "b": "Only in B", "level": "Level changed"}
GROUP_TIPS = {
    "a": "Reported on A only: fixed on B, or its object is not in B",
    "b": "Reported on B only: new on B, or its object is not in A",
    "level": "Reported on both sides, with another level",
}


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One row of the findings diff: its group and the finding as reported on each side."""

    group: str  # "a", "b", "level"
    a: Finding | None
    b: Finding | None

    @property
    def finding(self) -> Finding:
        found = self.b or self.a
        assert found is not None
        return found


def decision_label(decision: Decision | None) -> str:
    if decision is None:
        return ""
    if decision.status is DecisionStatus.DEFERRED and decision.deferred_until:
        return f"deferred until {decision.deferred_until.isoformat()}"
    if decision.status is DecisionStatus.FIXED and decision.verified_at:
        return f"fixed (verified {decision.verified_at[:10]})"
    return decision.status.label


class FindingsDiffView(QWidget):
    sig_reviews_chosen = Signal(object, object)  # review name for A, for B (None: no review)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result: FindingsComparison | None = None
        self.decisions = Decisions()
        self.rows: list[FindingRow] = []

        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("findings_diff_filter")
        self.filter_edit.setPlaceholderText("Filter by check, object, text or decision…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(lambda _text: self.rebuild())
        self.review_a, self.review_b = QComboBox(), QComboBox()
        for side, combo in (("a", self.review_a), ("b", self.review_b)):
            combo.setObjectName(f"review_{side}")
            combo.setToolTip(f"The review whose decisions are shown for side {side.upper()}")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
            combo.addItem("(no review)", None)
            combo.setEnabled(False)
            combo.activated.connect(lambda _index: self._chosen())
        head = QHBoxLayout()
        head.setSpacing(6)
        head.addWidget(self.filter_edit, 1)
        head.addSpacing(12)
        label = QLabel("Decisions from review:")
        label.setProperty("role", "muted")
        head.addWidget(label)
        head.addWidget(QLabel("<b>A</b>"))
        head.addWidget(self.review_a)
        head.addWidget(QLabel("<b>B</b>"))
        head.addWidget(self.review_b)

        self.hint = QLabel()
        self.hint.setObjectName("findings_hint")
        self.hint.setProperty("role", "muted")
        self.hint.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("findings_diff")
        self.tree.setHeaderLabels(["Finding", "Level", "Check", "Object", "Decision"])
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        for column, width in ((0, 440), (1, 100), (2, 200), (3, 220)):
            self.tree.setColumnWidth(column, width)
        self.tree.currentItemChanged.connect(lambda current, _previous: self._show(current))
        self.details = QTextBrowser()
        self.details.setObjectName("finding_diff_details")
        self.details.setPlaceholderText("Select a finding to see it on each side, with the review decisions.")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([500, 120])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.hint)
        layout.addWidget(splitter, 1)
        self.clear("Compare two sides: their findings are compared once both have been checked.")

    # -- content -----------------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.rows)

    def clear(self, hint: str) -> None:
        self.result = None
        self.rows = []
        self.tree.clear()
        self.details.clear()
        self.show_hint(hint)

    def show_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def set_result(self, result: FindingsComparison) -> None:
        self.result = result
        f = result.findings
        rows = [FindingRow("a", x, None) for x in f.only_in_a]
        rows += [FindingRow("b", None, x) for x in f.only_in_b]
        rows += [FindingRow("level", x, y) for x, y in f.level_changes]
        self.rows = rows
        self.set_decisions(result.decisions)

    def set_decisions(self, decisions: Decisions) -> None:
        self.decisions = decisions
        self._fill_combos()
        self.show_hint(self._hint_text())
        self.rebuild()

    def _hint_text(self) -> str:
        result = self.result
        if result is None:
            return self.hint.text()
        if self.decisions.problem:
            return f"Review decisions are not shown: {self.decisions.problem}"
        if not self.rows:
            same = len(result.findings.in_both)
            return (
                f"No difference in findings: the {same} findings of A and B are the same "
                f"({result.a_findings} in A, {result.b_findings} in B)."
            )
        return ""

    def _fill_combos(self) -> None:
        d = self.decisions
        for combo, chosen in ((self.review_a, d.a_review), (self.review_b, d.b_review)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("(no review)", None)
            for name in d.reviews:
                combo.addItem(name, name)
            index = combo.findData(chosen) if chosen else 0
            combo.setCurrentIndex(max(index, 0))
            combo.setEnabled(bool(d.reviews))
            combo.blockSignals(False)

    def choose_reviews(self, a: str | None, b: str | None) -> None:
        for combo, name in ((self.review_a, a), (self.review_b, b)):
            index = combo.findData(name) if name else 0
            combo.setCurrentIndex(max(index, 0))
        self._chosen()

    def _chosen(self) -> None:
        self.sig_reviews_chosen.emit(self.review_a.currentData(), self.review_b.currentData())

    def decision_text(self, row: FindingRow) -> str:
        d = self.decisions
        a = decision_label(d.for_side("a", row.a.fingerprint)) if row.a is not None else ""
        b = decision_label(d.for_side("b", row.b.fingerprint)) if row.b is not None else ""
        if row.group == "level":
            return " · ".join(part for part in (f"A: {a}" if a else "", f"B: {b}" if b else "") if part)
        return a or b

    def _matches(self, row: FindingRow, needle: str) -> bool:
        if not needle:
            return True
        f = row.finding
        return needle in f"{f.check} {f.key} {f.detail} {self.decision_text(row)}".lower()

    def rebuild(self) -> None:
        needle = self.filter_edit.text().strip().lower()
        self.tree.clear()
        for group in ("a", "b", "level"):
            members = [r for r in self.rows if r.group == group and self._matches(r, needle)]
            if not members:
                continue
            top = QTreeWidgetItem([f"{GROUP_TITLES[group]}  ({len(members)})"])
            top.setToolTip(0, GROUP_TIPS[group])
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            children = []
            order = sorted(members, key=lambda r: (-r.finding.level.rank, r.finding.check, natural_key(r.finding.key)))
            for row in order:
                f = row.finding
                level = f.level.value
                if row.a is not None and row.b is not None:
                    level = f"{row.a.level.value} → {row.b.level.value}"
                child = QTreeWidgetItem([f.detail, level, f.check, f.key, self.decision_text(row)])
                child.setIcon(0, level_icon(f.level))
                child.setData(0, FindingRowRole, row)
                child.setToolTip(0, f.detail)
                children.append(child)
            top.addChildren(children)
            self.tree.addTopLevelItem(top)
            top.setExpanded(True)
        first_group = self.tree.topLevelItem(0)
        first_row = first_group.child(0) if first_group is not None else None
        if first_row is not None:
            self.tree.setCurrentItem(first_row)
        else:
            self.details.clear()

    def shown(self) -> list[tuple[str, str, str]]:
        """(group, fingerprint, decision text) of every finding row shown."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            assert top is not None
            for j in range(top.childCount()):
                child = top.child(j)
                assert child is not None
                row = child.data(0, FindingRowRole)
                out.append((row.group, row.finding.fingerprint, child.text(4)))
        return out

    def _show(self, item: QTreeWidgetItem | None) -> None:
        row = item.data(0, FindingRowRole) if item is not None else None
        if not isinstance(row, FindingRow):
            self.details.clear()
            return
        f = row.finding
        parts = [f"<p><b>{html.escape(f.detail)}</b></p>", f"<p><code>{html.escape(f.fingerprint)}</code></p>"]
        for side, finding in (("a", row.a), ("b", row.b)):
            if finding is None:
                continue
            decision = self.decisions.for_side(side, finding.fingerprint)
            text = f"<b>{side.upper()}</b>: {finding.level.value}"
            if decision is not None:
                note = f" — {html.escape(decision.note)}" if decision.note else ""
                text += f"; {html.escape(decision_label(decision))} by {html.escape(decision.reviewer)}{note}"
            parts.append(f"<p>{text}</p>")
        self.details.setHtml("".join(parts))
