"""The explicit confirmation before a script changes a database.

Shows where the script goes (connection, server, database, environment tag) and what it does (statements, the
part outside a transaction, the last dry run). For a connection tagged production the Apply button stays disabled
until the database name is typed exactly; `apply` checks the typed name against the server again.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.connections.profiles import ConnectionProfile, Environment
from workbench.core.remediation import Confirmation
from workbench.ui.theme import ENVIRONMENT_COLOURS


class ApplyConfirmDialog(QDialog):
    def __init__(
        self,
        profile: ConnectionProfile,
        *,
        server: str,
        database: str,
        statements: int,
        outside_transaction: int,
        dry_run_note: str,
        confirmed_by: str = "",
        title: str = "Apply the remediation script",
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("apply_confirmation")
        self.setWindowTitle(title)
        self.profile = profile
        self.database = database
        self.confirmed_by = confirmed_by
        env = profile.environment
        colour = ENVIRONMENT_COLOURS[env]

        heading = QLabel(f"Apply the script to <b>{html.escape(database)}</b>?")
        heading.setProperty("role", "heading")
        chip = QLabel(env.label.upper())
        chip.setObjectName("environment_tag")
        chip.setStyleSheet(f"background:{colour}; color:white; font-weight:600; border-radius:3px; padding:2px 8px;")
        chip_row = QHBoxLayout()
        chip_row.setContentsMargins(0, 0, 0, 0)
        chip_row.addWidget(chip)
        chip_row.addStretch(1)
        self.target = _wrapped(server)
        self.target.setObjectName("target")
        facts = QFormLayout()
        facts.addRow("Connection", _wrapped(profile.name))
        facts.addRow("Server", self.target)
        facts.addRow("Database", QLabel(f"<b>{html.escape(database)}</b>"))
        facts.addRow("Environment", chip_row)
        what = f"{statements} statement{'s' if statements != 1 else ''}"
        if outside_transaction:
            what += (
                f"; {outside_transaction} run one by one after the transaction commits (they cannot be undone by it)"
            )
        else:
            what += ", in one transaction"
        facts.addRow("Runs", _wrapped(what))
        facts.addRow("Dry run", _wrapped(dry_run_note))

        warning = _wrapped(
            "The script changes the database. The transaction is rolled back if a statement fails; statements "
            "outside it are not. The rollback section at the end of the script restores the snapshot's state."
        )
        warning.setProperty("role", "muted")

        self.typed = QLineEdit()
        self.typed.setObjectName("typed_database")
        self.typed.setPlaceholderText(database)
        self.typed.textChanged.connect(self._update)
        self.guard = QLabel(
            f"This connection is tagged <b style='color:{colour}'>production</b>. Type the database name "
            f"<b>{html.escape(database)}</b> to confirm:"
        )
        self.guard.setWordWrap(True)

        self.buttons = QDialogButtonBox()
        self.apply_button: QPushButton = self.buttons.addButton(
            f"Apply to {database}", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.apply_button.setObjectName("confirm_apply")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        if self.production:
            self.apply_button.setStyleSheet(
                f"QPushButton {{ background:{colour}; color:white; font-weight:600; padding:6px 14px; "
                "border-radius:4px; } QPushButton:disabled { background:#d5d9e0; color:#5f6b7a; }"
            )

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addLayout(facts)
        layout.addWidget(warning)
        if self.production:
            layout.addWidget(self.guard)
            layout.addWidget(self.typed)
        else:
            self.guard.hide()
            self.typed.hide()
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        # Enter applies only once the guard is satisfied (production), else it cancels (any other environment).
        self.apply_button.setAutoDefault(False)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.setDefault(not self.production)
        self._update()

    @property
    def production(self) -> bool:
        return self.profile.environment is Environment.PRODUCTION

    def _update(self) -> None:
        self.apply_button.setEnabled(not self.production or self.typed.text() == self.database)
        if self.production:
            self.apply_button.setDefault(self.apply_button.isEnabled())

    def accept(self) -> None:
        if self.apply_button.isEnabled():  # Enter in the name field must not bypass the guard
            super().accept()

    def confirmation(self) -> Confirmation:
        typed = self.typed.text() if self.production else None
        return Confirmation.for_profile(self.profile, typed_database=typed, confirmed_by=self.confirmed_by)


def _wrapped(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label
