"""Dialogs of saved connections: edit a profile, import a URI, ask for a password."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QIntValidator, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from workbench.core.connections.profiles import (
    SSL_MODES,
    ConnectionProfile,
    Environment,
    ImportedProfile,
    PasswordMode,
    ProfileError,
    profile_from_uri,
)
from workbench.ui.connections.check import ProfileCheckJob
from workbench.ui.theme import ENVIRONMENT_COLOURS, dot_icon
from workbench.ui.workers import Worker

TEST_LABEL = "Test connection"
TESTING_LABEL = "Testing…"
_OK_COLOUR = "#2e7d32"
_FAILED_COLOUR = "#c62828"


def _warning_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("warning")
    label.setStyleSheet("color: #b26a00;")
    return label


def _error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setObjectName("error")
    label.setStyleSheet("color: #c62828;")
    label.hide()
    return label


class ProfileDialog(QDialog):
    """Add or edit a profile. The password field feeds the keyring; it is never written anywhere else.

    "Test connection" connects with what the form holds, on a pool thread: the password typed in the dialog,
    or (editing, field left empty) the saved one, read from the keyring by `saved_password` on that thread.
    """

    def __init__(
        self,
        profile: ConnectionProfile | None = None,
        *,
        keyring_problem: str | None = None,
        has_saved_password: bool = False,
        password: str | None = None,
        saved_password: Callable[[], str | None] | None = None,
        title: str | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle(title or ("Edit connection" if profile else "New connection"))
        self.setMinimumWidth(480)
        self._original = profile
        self._keyring_problem = keyring_problem
        self._has_saved_password = has_saved_password
        self._saved_password = saved_password
        self._test_worker: Worker | None = None
        base = profile or ConnectionProfile(name="", host="localhost", port=5432, user="postgres", database="postgres")

        self.name = QLineEdit(base.name)
        self.name.setPlaceholderText("e.g. Orders — staging")
        self.environment = QComboBox()
        for env in Environment:
            self.environment.addItem(dot_icon(ENVIRONMENT_COLOURS[env]), env.label, env)
        self.environment.setCurrentIndex(list(Environment).index(base.environment))
        self.service = QLineEdit(base.service)
        self.service.setPlaceholderText("optional: a service name from pg_service.conf")
        self.host = QLineEdit(base.host)
        self.host.setPlaceholderText("host name, IP address or socket directory")
        self.port = QLineEdit("" if base.port is None else str(base.port))
        self.port.setValidator(QIntValidator(1, 65535, self))
        self.port.setPlaceholderText("5432")
        self.database = QLineEdit(base.database)
        self.user = QLineEdit(base.user)
        self.sslmode = QComboBox()
        self.sslmode.addItems(list(SSL_MODES))
        self.sslmode.setCurrentText(base.sslmode)
        self.password_mode = QComboBox()
        for mode in PasswordMode:
            self.password_mode.addItem(mode.label, mode)
        mode = base.password_mode
        if keyring_problem:
            model = self.password_mode.model()
            assert isinstance(model, QStandardItemModel)
            item = model.item(list(PasswordMode).index(PasswordMode.KEYRING))
            item.setEnabled(False)
            item.setToolTip(keyring_problem)
            if mode is PasswordMode.KEYRING:
                mode = PasswordMode.ASK
        self.password_mode.setCurrentIndex(list(PasswordMode).index(mode))
        self.password_mode.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)  # as wide as below
        self.password = QLineEdit(password or "")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.keyring_note = _warning_label(
            f"⚠ {keyring_problem} Passwords are never written to a file." if keyring_problem else ""
        )
        self.keyring_note.setVisible(bool(keyring_problem))
        self.errors = _error_label()
        self.test_button = QPushButton(TEST_LABEL)
        self.test_button.setObjectName("test_connection")
        self.test_button.setToolTip("Connect with the details above and read the server version (nothing is saved)")
        self.test_button.setAutoDefault(False)
        self.test_button.setMinimumWidth(self.test_button.sizeHint().width())  # same width while "Testing…"
        self.test_button.clicked.connect(self.start_test)
        self.test_result = QLabel()
        self.test_result.setObjectName("test_result")
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)  # server text is shown as is, never as HTML
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_result.hide()

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("Name", self.name)
        form.addRow("Environment", self.environment)
        form.addRow("Host", self.host)
        form.addRow("Port", self.port)
        form.addRow("Database", self.database)
        form.addRow("User", self.user)
        form.addRow("SSL mode", self.sslmode)
        form.addRow("Service", self.service)
        form.addRow("Password", self.password_mode)
        form.addRow("", self.password)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.test_button)  # on the left, apart from Save/Cancel: it neither saves nor closes
        bottom.addWidget(buttons, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.keyring_note)
        layout.addWidget(self.errors)
        layout.addWidget(self.test_result)
        layout.addLayout(bottom)
        self.password_mode.currentIndexChanged.connect(self._mode_changed)
        self._mode_changed()
        for edit in (self.host, self.port, self.database, self.user, self.service, self.password):
            edit.textChanged.connect(self._form_changed)
        for combo in (self.sslmode, self.password_mode):
            combo.currentIndexChanged.connect(self._form_changed)

    def _mode_changed(self) -> None:
        mode = self.mode()
        self.password.setEnabled(mode is not PasswordMode.NONE)
        if mode is PasswordMode.KEYRING:
            placeholder = (
                "leave empty to keep the saved password" if self._has_saved_password else "stored in the system keyring"
            )
        elif mode is PasswordMode.ASK:
            placeholder = "not saved: used only by Test connection"
        else:
            placeholder = ""
        self.password.setPlaceholderText(placeholder)

    def mode(self) -> PasswordMode:
        # Combo data comes back as str: Qt stores the StrEnum as a string.
        return PasswordMode(self.password_mode.currentData())

    def profile(self) -> ConnectionProfile:
        """The profile as entered (the id of the edited profile is kept)."""
        port_text = self.port.text().strip()
        entered = ConnectionProfile(
            name=self.name.text().strip(),
            host=self.host.text().strip(),
            port=int(port_text) if port_text else None,
            database=self.database.text().strip(),
            user=self.user.text().strip(),
            sslmode=self.sslmode.currentText(),
            environment=Environment(self.environment.currentData()),
            service=self.service.text().strip(),
            password_mode=self.mode(),
        )
        if self._original is not None:
            return dataclasses.replace(entered, id=self._original.id)
        return entered

    def entered_password(self) -> str | None:
        """The password typed for the keyring, or None (empty field, or a mode that stores nothing)."""
        if self.mode() is not PasswordMode.KEYRING:
            return None
        return self.password.text() or None

    def accept(self) -> None:
        problems = self.profile().problems()
        if problems:
            self.errors.setText(" ".join(problems))
            self.errors.show()
            return
        super().accept()

    # -- "Test connection" -----------------------------------------------------------------------------------
    def test_password(self) -> tuple[str | None, Callable[[], str | None] | None]:
        """The password to test with: (typed, None), or (None, reader of the saved one), or (None, None)."""
        mode = self.mode()
        if mode is PasswordMode.NONE:
            return None, None
        typed = self.password.text()
        if typed:
            return typed, None
        if mode is PasswordMode.KEYRING and self._original is not None:
            return None, self._saved_password
        return None, None

    def is_testing(self) -> bool:
        return self._test_worker is not None

    def start_test(self) -> None:
        """Connect with what the form holds, on a pool thread; the result comes back to `test_result`."""
        if self._test_worker is not None:
            return
        entered = self.profile()
        problems = dataclasses.replace(entered, name=entered.name or "unnamed").problems()  # a name can wait
        if problems:
            self._show_result(False, " ".join(problems))
            return
        password, saved_password = self.test_password()
        job = ProfileCheckJob(entered.conninfo(), password=password, saved_password=saved_password)
        del password
        worker = Worker(job, cancel=job.cancel)
        worker.signals.sig_finished.connect(self._test_finished)
        worker.signals.sig_failed.connect(self._test_failed)
        worker.signals.sig_cancelled.connect(self._test_cancelled)
        self.test_button.setEnabled(False)
        self.test_button.setText(TESTING_LABEL)
        self.test_result.setStyleSheet("")
        self.test_result.setText(f"Testing the connection to {entered.target}…")
        self.test_result.show()
        self._fit_height()
        self._test_worker = worker.start()

    def _from_current_test(self) -> bool:
        worker = self._test_worker
        return worker is not None and self.sender() is worker.signals

    def _test_finished(self, text: object) -> None:
        if self._from_current_test():
            self._show_result(True, str(text))

    def _test_failed(self, text: str) -> None:
        if self._from_current_test():
            self._show_result(False, text)

    def _test_cancelled(self) -> None:
        if self._from_current_test():
            self._end_test()
            self.test_result.hide()

    def _end_test(self) -> None:
        self._test_worker = None
        self.test_button.setText(TEST_LABEL)
        self.test_button.setEnabled(True)

    def _show_result(self, ok: bool, text: str) -> None:
        self._end_test()
        self.test_result.setText(("✓ " if ok else "✗ ") + text)
        self.test_result.setStyleSheet(f"color: {_OK_COLOUR if ok else _FAILED_COLOUR};")
        self.test_result.show()
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow the dialog when a wrapped result needs more lines, rather than squeezing the form."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        width = self.width()
        needed = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else layout.totalSizeHint().height()
        if needed > self.height():
            self.resize(width, needed)

    def _form_changed(self) -> None:
        if self._test_worker is None:  # a shown result no longer describes what the form holds
            self.test_result.hide()

    def abandon_test(self) -> None:
        """Stop listening to a running test and ask it to stop; its thread ends once the connection attempt does."""
        worker, self._test_worker = self._test_worker, None
        if worker is None:
            return
        for signal in (worker.signals.sig_finished, worker.signals.sig_failed, worker.signals.sig_cancelled):
            signal.disconnect()
        worker.cancel()
        self._end_test()
        self.test_result.hide()

    def done(self, result: int) -> None:
        self.abandon_test()  # Save, Cancel, Escape or the close button: no result may land in a closed dialog
        super().done(result)


class ImportUriDialog(QDialog):
    """Paste a postgresql:// URI (or libpq keywords); the password found in it goes to the keyring, not the file."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Import a connection URI")
        self.setMinimumWidth(520)
        intro = QLabel(
            "Paste a connection URI such as <code>postgresql://user:password@host:5432/dbname?sslmode=require</code> "
            "or libpq keywords. A password in it is offered to the system keyring and never saved with the profile."
        )
        intro.setWordWrap(True)
        self.uri = QPlainTextEdit()
        self.uri.setPlaceholderText("postgresql://user@host:5432/dbname")
        self.uri.setFixedHeight(70)
        self.errors = _error_label()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Continue")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.uri)
        layout.addWidget(self.errors)
        layout.addWidget(buttons)
        self.imported: ImportedProfile | None = None

    def accept(self) -> None:
        try:
            self.imported = profile_from_uri(self.uri.toPlainText())
        except ProfileError as exc:
            self.errors.setText(str(exc))
            self.errors.show()
            return
        super().accept()


class PasswordDialog(QDialog):
    """Ask for the password of one connection; optionally remember it in the keyring."""

    def __init__(
        self,
        profile: ConnectionProfile,
        *,
        can_remember: bool,
        keyring_problem: str | None = None,
        reason: str = "",
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Password")
        self.setMinimumWidth(420)
        label = QLabel(f"Password for <b>{profile.target}</b><br><span>{profile.name}</span>")
        label.setTextFormat(Qt.TextFormat.RichText)
        self.reason = _warning_label(reason)
        self.reason.setVisible(bool(reason))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember in the system keyring")
        self.remember.setChecked(can_remember and profile.password_mode is PasswordMode.KEYRING)
        self.remember.setEnabled(can_remember)
        if not can_remember and keyring_problem:
            self.remember.setToolTip(keyring_problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        layout.addWidget(self.password)
        layout.addWidget(self.remember)
        layout.addWidget(buttons)
