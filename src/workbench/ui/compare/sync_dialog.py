"""The security sync script (B → A) for reading: highlighted, read-only, Copy and Save as .sql. Never run here."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.ui.sql_view import SqlView

LAST_FOLDER_KEY = "compare/script_folder"


class SyncScriptDialog(QDialog):
    def __init__(
        self,
        script: str,
        *,
        a_label: str,
        b_label: str,
        suggested_name: str = "sync.sql",
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("sync_script_dialog")
        self.setWindowTitle(f"Sync script — make {b_label} match {a_label}")
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.settings = settings
        self.suggested_name = suggested_name
        self.saved_to: Path | None = None
        heading = QLabel(
            f"Security settings of <b>B</b> ({html.escape(b_label)}) made to match <b>A</b> ({html.escape(a_label)})"
        )
        heading.setProperty("role", "heading")
        note = QLabel(
            "RLS flags, policies, view security options, function search_path and SECURITY DEFINER, and grants. "
            "Read it before using it: it is never run from here. The rollback section at the end restores B."
        )
        note.setWordWrap(True)
        note.setProperty("role", "muted")
        self.view = SqlView("Read-only; edit a saved copy if needed.")
        self.view.setObjectName("sync_script")
        self.view.set_sql(script)
        self.save_button = QPushButton("Save as .sql…")
        self.save_button.setObjectName("save_sync_script")
        self.save_button.clicked.connect(self.save_with_dialog)
        self.status = QLabel()
        self.status.setProperty("role", "muted")
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(note)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.resize(960, 720)

    def text(self) -> str:
        return self.view.sql()

    def save_with_dialog(self) -> None:
        folder = str(self.settings.value(LAST_FOLDER_KEY, "") if self.settings is not None else "") or str(Path.home())
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save the sync script", str(Path(folder) / self.suggested_name), "SQL (*.sql)"
        )
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> Path | None:
        """Write the script (a `.sql` suffix is added when missing); the path written, or None on failure."""
        if path.suffix.lower() != ".sql":
            path = path.with_name(path.name + ".sql")
        try:
            path.write_text(self.text(), encoding="utf-8")
        except OSError as exc:
            self.status.setText(f"Not saved: {exc.strerror or exc}")
            return None
        if self.settings is not None:
            self.settings.setValue(LAST_FOLDER_KEY, str(path.parent))
        self.saved_to = path
        self.status.setText(f"Saved to {path}")
        return path
