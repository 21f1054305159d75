"""The list of connection profiles shown on the left of the main window."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from workbench.core.connections.profiles import ConnectionProfile
from workbench.ui.theme import ENVIRONMENT_COLOURS, dot_icon

AnyIndex = QModelIndex | QPersistentModelIndex

ProfileRole = Qt.ItemDataRole.UserRole + 1  # the ConnectionProfile
TransientRole = Qt.ItemDataRole.UserRole + 2  # True for a connection given on the command line (not saved)
TargetRole = Qt.ItemDataRole.UserRole + 3  # "user@host:port/db"


class ProfilesModel(QAbstractListModel):
    """Saved profiles (sorted by name) followed by at most one transient command-line connection."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._saved: tuple[ConnectionProfile, ...] = ()
        self._transient: ConnectionProfile | None = None

    def set_profiles(self, profiles: tuple[ConnectionProfile, ...]) -> None:
        self.beginResetModel()
        self._saved = tuple(sorted(profiles, key=lambda p: p.name.lower()))
        self.endResetModel()

    def set_transient(self, profile: ConnectionProfile | None) -> None:
        self.beginResetModel()
        self._transient = profile
        self.endResetModel()

    def _rows(self) -> tuple[ConnectionProfile, ...]:
        return (*self._saved, self._transient) if self._transient else self._saved

    def profile_at(self, row: int) -> ConnectionProfile | None:
        rows = self._rows()
        return rows[row] if 0 <= row < len(rows) else None

    def row_of(self, profile_id: str) -> int:
        return next((i for i, p in enumerate(self._rows()) if p.id == profile_id), -1)

    def is_transient(self, profile_id: str) -> bool:
        return self._transient is not None and self._transient.id == profile_id

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows())

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows()):
            return None
        profile = self._rows()[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return profile.name
        if role == Qt.ItemDataRole.ToolTipRole:
            where = "given on the command line, not saved" if self.is_transient(profile.id) else "saved"
            return f"{profile.name}\n{profile.target}\n{profile.environment.label} · {where}"
        if role == Qt.ItemDataRole.DecorationRole:
            return dot_icon(ENVIRONMENT_COLOURS[profile.environment])
        if role == ProfileRole:
            return profile
        if role == TransientRole:
            return self.is_transient(profile.id)
        if role == TargetRole:
            return profile.target
        return None
