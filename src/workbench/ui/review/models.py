"""Item models of the review panel, and the status badges the findings tree shows."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from workbench.core.review import DecisionStatus, FindingStatus, ReviewState
from workbench.ui.models.findings_model import StatusBadge
from workbench.ui.theme import LEVEL_LABELS, dot_icon, level_icon

AnyIndex = QModelIndex | QPersistentModelIndex

FingerprintRole = Qt.ItemDataRole.UserRole + 1
FindingStatusRole = Qt.ItemDataRole.UserRole + 2
SortRole = Qt.ItemDataRole.UserRole + 3

STATUS_COLOURS = {
    DecisionStatus.OPEN: "#c62828",
    DecisionStatus.FIXED: "#2e7d32",
    DecisionStatus.ACCEPTED_RISK: "#3f6fd8",
    DecisionStatus.DEFERRED: "#ef8f00",
    DecisionStatus.FALSE_POSITIVE: "#8a93a3",
}


def rich(text: str) -> str:
    """Plain text for a rich-text label: escaped, and wrapped so that the label does not take it for plain text
    (which would show the entities)."""
    return f"<span>{html.escape(text)}</span>"


def short_status(fs: FindingStatus) -> str:
    """The status of a finding in a few words, for a table cell."""
    decision = fs.decision
    if fs.status is DecisionStatus.DEFERRED and decision is not None and decision.deferred_until is not None:
        return f"deferred until {decision.deferred_until.isoformat()}"
    if fs.status is DecisionStatus.FIXED:
        return "fixed (unverified)"
    if fs.status is DecisionStatus.OPEN:
        return "open (deferral expired)" if "expired" in fs.label else "open"
    return fs.status.label


def status_tooltip(fs: FindingStatus) -> str:
    decision = fs.decision
    if decision is None:
        return "Open: no decision yet"
    text = f"{fs.label} — decided by {decision.reviewer} on {decision.decided_at[:10]}"
    return text + (f"\n{decision.note}" if decision.note else "")


def badges(state: ReviewState) -> dict[str, StatusBadge]:
    """The findings tree's Status column: every finding of the latest run that carries a decision."""
    out: dict[str, StatusBadge] = {}
    for fs in state.findings:
        if fs.decision is None:
            continue
        # The tree's column is narrow: the status alone ("deferred"), its date and note in the tooltip.
        text = "fixed (unverified)" if fs.status is DecisionStatus.FIXED else short_status(fs).split(" until ")[0]
        out[fs.finding.fingerprint] = StatusBadge(text, STATUS_COLOURS[fs.status], status_tooltip(fs))
    return out


class DecisionColumn(IntEnum):
    LEVEL = 0
    OBJECT = 1
    STATUS = 2
    CHECK = 3
    NOTE = 4
    DECIDED_BY = 5


_HEADERS = {
    DecisionColumn.LEVEL: "Level",
    DecisionColumn.CHECK: "Check",
    DecisionColumn.OBJECT: "Object",
    DecisionColumn.STATUS: "Status",
    DecisionColumn.NOTE: "Note",
    DecisionColumn.DECIDED_BY: "Decided by",
}


class DecisionsModel(QAbstractTableModel):
    """The findings of the review's latest run with the decision in force on each."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._rows: tuple[FindingStatus, ...] = ()
        self._sort: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)

    def set_rows(self, rows: Iterable[FindingStatus]) -> None:
        self.beginResetModel()
        self._rows = self._sorted(tuple(rows))
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorted here with one key per row: a proxy's sort would call `data()` for every comparison (seconds
        for the thousands of findings of a large audit, on the GUI thread)."""
        if (column, order) == self._sort:
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        moved = [self._rows[ix.row()] for ix in before]
        self._rows = self._sorted(self._rows)
        where = {id(fs): row for row, fs in enumerate(self._rows)}
        self.changePersistentIndexList(
            before, [self.index(where[id(fs)], ix.column()) for fs, ix in zip(moved, before, strict=True)]
        )
        self.layoutChanged.emit()

    def _sorted(self, rows: tuple[FindingStatus, ...]) -> tuple[FindingStatus, ...]:
        column, order = self._sort
        if column < 0:
            return rows
        key = self._sort_key(DecisionColumn(column))
        return tuple(sorted(rows, key=key, reverse=order == Qt.SortOrder.DescendingOrder))

    @staticmethod
    def _sort_key(column: DecisionColumn) -> Callable[[FindingStatus], Any]:
        if column is DecisionColumn.LEVEL:
            return lambda fs: -fs.finding.level.rank
        return lambda fs: str(DecisionsModel._display(fs, column)).lower()

    def rows(self) -> tuple[FindingStatus, ...]:
        return self._rows

    @staticmethod
    def _display(fs: FindingStatus, column: DecisionColumn) -> str:
        f, d = fs.finding, fs.decision
        if column is DecisionColumn.LEVEL:
            return LEVEL_LABELS[f.level]
        if column is DecisionColumn.CHECK:
            return f.title
        if column is DecisionColumn.OBJECT:
            return f"{f.key}  [{f.discriminator}]" if f.discriminator else f.key
        if column is DecisionColumn.STATUS:
            return short_status(fs)
        if column is DecisionColumn.NOTE:
            return " ".join(d.note.split()) if d else ""
        return f"{d.reviewer}, {d.decided_at[:10]}" if d else ""

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(DecisionColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS.get(DecisionColumn(section)) if 0 <= section < len(DecisionColumn) else None
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        fs = self._rows[index.row()]
        column = DecisionColumn(index.column())
        f, d = fs.finding, fs.decision
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(fs, column)
        if role == SortRole:
            return self._sort_key(column)(fs)
        if role == Qt.ItemDataRole.DecorationRole:
            if column is DecisionColumn.LEVEL:
                return level_icon(f.level)
            if column is DecisionColumn.STATUS:
                return dot_icon(STATUS_COLOURS[fs.status], 8)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column is DecisionColumn.STATUS:
                return status_tooltip(fs)
            if column is DecisionColumn.CHECK:
                return f"{f.check}: {f.detail}"
            if column is DecisionColumn.NOTE and d is not None:
                return d.note or None
            return f.fingerprint
        if role == FingerprintRole:
            return f.fingerprint
        if role == FindingStatusRole:
            return fs
        return None


class DecisionsProxy(QSortFilterProxyModel):
    """Text filter (every word in check, object, status or note) and a "show" mode."""

    ALL = "all"
    TO_DEAL_WITH = "open"
    DECIDED = "decided"

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.setSortRole(SortRole)
        self._words: tuple[str, ...] = ()
        self._mode = self.ALL

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # The source sorts with one key per row; the proxy keeps the source order (its own sort column stays -1).
        model = self.sourceModel()
        assert isinstance(model, DecisionsModel)
        model.sort(column, order)

    def set_filter(self, text: str, mode: str) -> None:
        self.beginFilterChange()
        self._words = tuple(text.lower().split())
        self._mode = mode
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, DecisionsModel)
        fs = model.rows()[source_row]
        if self._mode == self.TO_DEAL_WITH and not fs.blocking:
            return False
        if self._mode == self.DECIDED and fs.decision is None:
            return False
        if not self._words:
            return True
        f = fs.finding
        hay = " ".join((f.key, f.check, f.title, f.detail, short_status(fs), fs.decision.note if fs.decision else ""))
        hay = hay.lower()
        return all(w in hay for w in self._words)


def fingerprints_of(indexes: Iterable[QModelIndex]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(ix.data(FingerprintRole)) for ix in indexes if ix.isValid()))


def status_counts(state: ReviewState) -> Mapping[DecisionStatus, int]:
    counts = dict.fromkeys(DecisionStatus, 0)
    for fs in state.findings:
        counts[fs.status] += 1
    return counts
