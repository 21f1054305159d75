"""The connections panel: saved profiles (add, edit, duplicate, delete, test, import) and "Run audit"."""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.connections.profiles import (
    ConnectionProfile,
    Environment,
    PasswordMode,
    ProfileError,
    ProfileStore,
    profile_from_uri,
)
from workbench.core.connections.secrets import KeyringSecretStore, SecretStore, SecretStoreUnavailable
from workbench.ui.connections.dialogs import ImportUriDialog, PasswordDialog, ProfileDialog
from workbench.ui.models.profiles_model import ProfileRole, ProfilesModel, TargetRole, TransientRole
from workbench.ui.theme import ENVIRONMENT_COLOURS
from workbench.ui.workers import ConnectionTestJob, Worker

AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class ConnectionRequest:
    """What the window needs to connect: the libpq string and the password (never stored by the window)."""

    profile: ConnectionProfile
    dsn: str
    password: str | None
    transient: bool = False


class ProfileDelegate(QStyledItemDelegate):
    """Two lines per profile: the name (bold) and user@host:port/db, with the environment's colour bar and tag."""

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        height = option.fontMetrics.height()  # type: ignore[attr-defined]
        return QSize(200, height * 2 + 16)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        profile = index.data(ProfileRole)
        if not isinstance(profile, ConnectionProfile):
            return
        painter.save()
        rect: QRect = option.rect  # type: ignore[attr-defined]
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        state = option.state  # type: ignore[attr-defined]
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.AlternateBase))
        colour = QColor(ENVIRONMENT_COLOURS[profile.environment])
        painter.fillRect(QRect(rect.left() + 2, rect.top() + 5, 4, rect.height() - 10), colour)
        text_colour = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = QColor(text_colour)
        muted.setAlpha(150)
        font = QFont(option.font)  # type: ignore[attr-defined]
        metrics = option.fontMetrics  # type: ignore[attr-defined]
        line = metrics.height()
        left = rect.left() + 14
        tag = "CLI" if index.data(TransientRole) else profile.environment.value.upper()
        tag_font = QFont(font)
        tag_font.setPointSizeF(max(font.pointSizeF() * 0.78, 6.0))
        tag_font.setBold(True)
        painter.setFont(tag_font)
        tag_width = painter.fontMetrics().horizontalAdvance(tag) + 10
        tag_rect = QRect(rect.right() - tag_width - 6, rect.top() + 7, tag_width, line)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour if not index.data(TransientRole) else QColor("#607080"))
        painter.drawRoundedRect(tag_rect, 3, 3)
        painter.setPen(QColor("white"))
        painter.drawText(tag_rect, Qt.AlignmentFlag.AlignCenter, tag)
        width = tag_rect.left() - left - 6
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_colour)
        name = painter.fontMetrics().elidedText(profile.name, Qt.TextElideMode.ElideRight, width)
        painter.drawText(QRect(left, rect.top() + 6, width, line), Qt.AlignmentFlag.AlignVCenter, name)
        painter.setFont(font)
        painter.setPen(muted)
        target = str(index.data(TargetRole) or "")
        target = painter.fontMetrics().elidedText(target, Qt.TextElideMode.ElideMiddle, rect.width() - 20)
        painter.drawText(
            QRect(left, rect.top() + 8 + line, rect.width() - 20, line), Qt.AlignmentFlag.AlignVCenter, target
        )
        painter.restore()


class ConnectionsPanel(QWidget):
    """Saved profiles on disk (no secrets) and their passwords in the SecretStore."""

    sig_run_requested = Signal(object)  # ConnectionProfile
    sig_selection_changed = Signal(object)  # ConnectionProfile | None
    sig_message = Signal(str, str)  # kind ("info", "warning", "error"), text
    sig_test_finished = Signal(bool, str)  # ok, message

    def __init__(self, store: ProfileStore, secrets: SecretStore | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.secrets: SecretStore = secrets or KeyringSecretStore()
        self.model = ProfilesModel(self)
        self.model.set_profiles(store.all())
        self._transient_dsn: str | None = None
        self._test_worker: Worker | None = None

        title = QLabel("Connections")
        title.setProperty("role", "heading")
        self.list = QListView()
        self.list.setObjectName("connections")
        self.list.setModel(self.model)
        self.list.setItemDelegate(ProfileDelegate(self.list))
        self.list.setMouseTracking(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.doubleClicked.connect(lambda _index: self.request_run())
        self.list.selectionModel().currentChanged.connect(lambda *_: self._selection_changed())
        self.empty_hint = QLabel("No saved connections yet.\nAdd one, or import a connection URI.")
        self.empty_hint.setProperty("role", "muted")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)

        self.add_button = QPushButton("New…")
        self.add_button.setToolTip("Add a connection (Ctrl+N)")
        self.import_button = QPushButton("Import URI…")
        self.edit_button = QPushButton("Edit…")
        self.duplicate_button = QPushButton("Duplicate")
        self.delete_button = QPushButton("Delete")
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip("Connect and read the server version")
        self.add_button.clicked.connect(self.add_with_dialog)
        self.import_button.clicked.connect(self.import_with_dialog)
        self.edit_button.clicked.connect(self.edit_with_dialog)
        self.duplicate_button.clicked.connect(self._duplicate_current)
        self.delete_button.clicked.connect(self.delete_with_confirmation)
        self.test_button.clicked.connect(self.test_current)
        buttons = QGridLayout()
        buttons.setSpacing(4)
        buttons.addWidget(self.add_button, 0, 0)
        buttons.addWidget(self.import_button, 0, 1)
        buttons.addWidget(self.edit_button, 1, 0)
        buttons.addWidget(self.duplicate_button, 1, 1)
        buttons.addWidget(self.test_button, 2, 0)
        buttons.addWidget(self.delete_button, 2, 1)
        self.test_result = QLabel()
        self.test_result.setObjectName("test_result")
        self.test_result.setWordWrap(True)
        self.test_result.hide()
        self.run_button = QPushButton("Run audit")
        self.run_button.setObjectName("run_audit")
        self.run_button.setProperty("role", "primary")
        self.run_button.setToolTip("Audit the selected database (Ctrl+R)")
        self.run_button.clicked.connect(self.request_run)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 8, 4)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty_hint)
        layout.addLayout(buttons)
        layout.addWidget(self.test_result)
        layout.addWidget(self.run_button)
        self._selection_changed()

    # -- selection -------------------------------------------------------------------------------------------
    def current_profile(self) -> ConnectionProfile | None:
        index = self.list.currentIndex()
        value = index.data(ProfileRole) if index.isValid() else None
        return value if isinstance(value, ConnectionProfile) else None

    def select(self, profile_id: str) -> None:
        row = self.model.row_of(profile_id)
        if row >= 0:
            self.list.setCurrentIndex(self.model.index(row, 0))

    def _selection_changed(self) -> None:
        profile = self.current_profile()
        saved = profile is not None and not self.model.is_transient(profile.id)
        for button in (self.edit_button, self.duplicate_button, self.delete_button):
            button.setEnabled(saved)
        self.test_button.setEnabled(profile is not None)
        self.run_button.setEnabled(profile is not None)
        self.empty_hint.setVisible(self.model.rowCount() == 0)
        self.test_result.hide()
        self.sig_selection_changed.emit(profile)

    def _reload(self, select: str | None = None) -> None:
        current = select or (p.id if (p := self.current_profile()) else None)
        self.model.set_profiles(self.store.all())
        if current:
            self.select(current)
        self._selection_changed()

    # -- a connection given on the command line --------------------------------------------------------------
    def set_transient(self, dsn: str, name: str = "Command-line connection") -> ConnectionProfile:
        """Show a connection that is not saved (e.g. `workbench demo`); its dsn is used as given."""
        imported = profile_from_uri(dsn, name=name)
        profile = dataclasses.replace(imported.profile, password_mode=PasswordMode.NONE)
        self._transient_dsn = dsn
        self.model.set_transient(profile)
        self.select(profile.id)
        self._selection_changed()
        return profile

    # -- CRUD without dialogs (the dialogs call these) -------------------------------------------------------
    def keyring_problem(self) -> str | None:
        return self.secrets.check()

    def create_profile(self, profile: ConnectionProfile, password: str | None = None) -> ConnectionProfile:
        """Save a new profile; a password goes to the SecretStore (a keyring failure is reported, not fatal)."""
        saved = self.store.add(profile)
        self._store_password(saved, password)
        self._reload(select=saved.id)
        return saved

    def update_profile(self, profile: ConnectionProfile, password: str | None = None) -> ConnectionProfile:
        saved = self.store.update(profile)
        if saved.password_mode is not PasswordMode.KEYRING:
            self._forget_password(saved.id)
        self._store_password(saved, password)
        self._reload(select=saved.id)
        return saved

    def duplicate_profile(self, profile_id: str) -> ConnectionProfile:
        copy = self.store.duplicate(profile_id)
        self._reload(select=copy.id)
        return copy

    def delete_profile(self, profile_id: str) -> None:
        self.store.delete(profile_id)
        self._forget_password(profile_id)
        self._reload()

    def _store_password(self, profile: ConnectionProfile, password: str | None) -> None:
        if not password or profile.password_mode is not PasswordMode.KEYRING:
            return
        try:
            self.secrets.set_password(profile.id, password)
        except SecretStoreUnavailable as exc:
            self.sig_message.emit("warning", f"The password was not saved. {exc}")

    def _forget_password(self, profile_id: str) -> None:
        with contextlib.suppress(SecretStoreUnavailable):  # then nothing could have been stored there either
            self.secrets.delete_password(profile_id)

    def has_saved_password(self, profile: ConnectionProfile) -> bool:
        if profile.password_mode is not PasswordMode.KEYRING:
            return False
        try:
            return self.secrets.get_password(profile.id) is not None
        except SecretStoreUnavailable:
            return False

    # -- dialogs ---------------------------------------------------------------------------------------------
    def add_with_dialog(self) -> None:
        dialog = ProfileDialog(keyring_problem=self.keyring_problem(), parent=self)
        self._run_profile_dialog(dialog, new=True)

    def import_with_dialog(self) -> None:
        importer = ImportUriDialog(self)
        if importer.exec() != QDialog.DialogCode.Accepted or importer.imported is None:
            return
        imported = importer.imported
        profile = dataclasses.replace(imported.profile, name=self.store.free_name(imported.profile.name))
        if imported.ignored:
            self.sig_message.emit(
                "info", f"These URI parameters are not kept in a profile: {', '.join(imported.ignored)}."
            )
        dialog = ProfileDialog(
            profile,
            keyring_problem=self.keyring_problem(),
            password=imported.password,
            title="Import connection",
            parent=self,
        )
        self._run_profile_dialog(dialog, new=True)

    def edit_with_dialog(self) -> None:
        profile = self.current_profile()
        if profile is None:
            return
        if self.model.is_transient(profile.id):
            self.save_transient_with_dialog()
            return
        secrets = self.secrets
        dialog = ProfileDialog(
            profile,
            keyring_problem=self.keyring_problem(),
            has_saved_password=self.has_saved_password(profile),
            saved_password=lambda: secrets.get_password(profile.id),  # read on the test's pool thread
            parent=self,
        )
        self._run_profile_dialog(dialog, new=False)

    def save_transient_with_dialog(self) -> None:
        profile = self.current_profile()
        if profile is None or self._transient_dsn is None:
            return
        imported = profile_from_uri(self._transient_dsn)
        draft = dataclasses.replace(imported.profile, name=self.store.free_name(profile.name))
        dialog = ProfileDialog(
            draft,
            keyring_problem=self.keyring_problem(),
            password=imported.password,
            title="Save connection",
            parent=self,
        )
        self._run_profile_dialog(dialog, new=True)

    def _run_profile_dialog(self, dialog: ProfileDialog, *, new: bool) -> None:
        while dialog.exec() == QDialog.DialogCode.Accepted:
            try:
                if new:
                    self.create_profile(dialog.profile(), dialog.entered_password())
                else:
                    self.update_profile(dialog.profile(), dialog.entered_password())
                return
            except ProfileError as exc:
                dialog.errors.setText(str(exc))
                dialog.errors.show()

    def _duplicate_current(self) -> None:
        profile = self.current_profile()
        if profile is not None:
            try:
                self.duplicate_profile(profile.id)
            except ProfileError as exc:
                self.sig_message.emit("error", str(exc))

    def delete_with_confirmation(self) -> None:
        profile = self.current_profile()
        if profile is None or self.model.is_transient(profile.id):
            return
        answer = QMessageBox.question(
            self,
            "Delete connection",
            f"Delete the connection “{profile.name}” ({profile.target})? Its saved password is removed from the "
            "keyring too.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            try:
                self.delete_profile(profile.id)
            except ProfileError as exc:
                self.sig_message.emit("error", str(exc))

    def _context_menu(self, pos: QPoint) -> None:
        index = self.list.indexAt(pos)
        menu = QMenu(self)
        if index.isValid():
            self.list.setCurrentIndex(index)
            menu.addAction("Run audit", self.request_run)
            menu.addAction("Test connection", self.test_current)
            menu.addSeparator()
            if index.data(TransientRole):
                menu.addAction("Save as connection…", self.save_transient_with_dialog)
            else:
                menu.addAction("Edit…", self.edit_with_dialog)
                menu.addAction("Duplicate", self._duplicate_current)
                menu.addAction("Delete…", self.delete_with_confirmation)
            menu.addSeparator()
        menu.addAction("New connection…", self.add_with_dialog)
        menu.addAction("Import URI…", self.import_with_dialog)
        menu.popup(self.list.viewport().mapToGlobal(pos))

    # -- connecting ------------------------------------------------------------------------------------------
    def prompt_password(
        self, profile: ConnectionProfile, *, can_remember: bool, reason: str = ""
    ) -> tuple[str, bool] | None:
        """Ask the user (modal); (password, remember) or None when cancelled. Tests replace this method."""
        dialog = PasswordDialog(
            profile, can_remember=can_remember, keyring_problem=self.keyring_problem(), reason=reason, parent=self
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.password.text(), dialog.remember.isChecked()

    def connection_request(self, profile: ConnectionProfile | None = None) -> ConnectionRequest | None:
        """The dsn and password for `profile` (default: the selected one), asking when needed; None if cancelled."""
        profile = profile or self.current_profile()
        if profile is None:
            return None
        if self.model.is_transient(profile.id) and self._transient_dsn is not None:
            return ConnectionRequest(profile, self._transient_dsn, None, transient=True)
        dsn = profile.conninfo()
        if profile.password_mode is PasswordMode.NONE:
            return ConnectionRequest(profile, dsn, None)
        problem = self.keyring_problem()
        if profile.password_mode is PasswordMode.KEYRING and problem is None:
            try:
                stored = self.secrets.get_password(profile.id)
            except SecretStoreUnavailable as exc:
                problem, stored = str(exc), None
            if stored is not None:
                return ConnectionRequest(profile, dsn, stored)
        reason = ""
        if profile.password_mode is PasswordMode.KEYRING and problem:
            reason = f"The saved password cannot be read: {problem}"
        answer = self.prompt_password(profile, can_remember=problem is None, reason=reason)
        if answer is None:
            return None
        password, remember = answer
        if remember and problem is None:
            if profile.password_mode is not PasswordMode.KEYRING:
                profile = self.update_profile(dataclasses.replace(profile, password_mode=PasswordMode.KEYRING))
            self._store_password(profile, password)
        return ConnectionRequest(profile, dsn, password or None)

    def request_run(self) -> None:
        profile = self.current_profile()
        if profile is not None:
            self.sig_run_requested.emit(profile)

    def test_current(self) -> None:
        if self._test_worker is not None:
            return
        request = self.connection_request()
        if request is None:
            return
        self.test_result.setText(f"Connecting to {request.profile.target}…")
        self.test_result.setStyleSheet("")
        self.test_result.show()
        self.test_button.setEnabled(False)
        worker = Worker(ConnectionTestJob(request.dsn, password=request.password))
        worker.signals.sig_finished.connect(lambda text: self._test_done(True, str(text)))
        worker.signals.sig_failed.connect(lambda text: self._test_done(False, text))
        self._test_worker = worker.start()

    def _test_done(self, ok: bool, text: str) -> None:
        self._test_worker = None
        self.test_button.setEnabled(self.current_profile() is not None)
        self.test_result.setText(("✓ " if ok else "✗ ") + text)
        self.test_result.setStyleSheet(f"color: {'#2e7d32' if ok else '#c62828'};")
        self.test_result.show()
        self.sig_test_finished.emit(ok, text)

    def environment_of_current(self) -> Environment | None:
        profile = self.current_profile()
        return profile.environment if profile else None
