"""An in-window message strip (info, success, warning, error) instead of modal boxes for audit outcomes."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from workbench.ui.theme import is_dark

_STYLES = {
    "info": ("#e8f0fe", "#1a3d7c", "#3f6fd8"),
    "success": ("#e7f5ea", "#1d4d27", "#2e7d32"),
    "warning": ("#fff4e0", "#5c3b00", "#ef8f00"),
    "error": ("#fdecec", "#6b1515", "#c62828"),
}
_DARK_STYLES = {
    "info": ("#1c2a45", "#d6e2fb", "#5b86e5"),
    "success": ("#1b3322", "#cfeed6", "#43a047"),
    "warning": ("#3a2c12", "#ffe3b0", "#ef8f00"),
    "error": ("#3d1a1a", "#ffd6d6", "#e53935"),
}
_ICONS = {"info": "ℹ", "success": "✓", "warning": "⚠", "error": "✗"}


class MessageBar(QFrame):
    """One message at a time, with an optional action button and a close button."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("message_bar")
        self.icon = QLabel()
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.hide()
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.kind = "info"
        self._action: Callable[[], None] | None = None
        self.action_button.clicked.connect(self._run_action)
        self.hide()

    def show_message(
        self, kind: str, text: str, *, action: str | None = None, on_action: Callable[[], None] | None = None
    ) -> None:
        styles = _DARK_STYLES if is_dark() else _STYLES
        background, foreground, accent = styles.get(kind, styles["info"])
        self.kind = kind
        self.setStyleSheet(
            f"QFrame#message_bar {{ background: {background}; border: 1px solid {accent}; border-radius: 4px; }}"
            f"QFrame#message_bar QLabel {{ color: {foreground}; background: transparent; }}"
            f"QFrame#message_bar QToolButton {{ color: {foreground}; }}"
        )
        self.icon.setText(f"<b style='color:{accent}'>{_ICONS.get(kind, '')}</b>")
        self.label.setText(text)
        self._action = on_action
        self.action_button.setText(action or "")
        self.action_button.setVisible(bool(action and on_action))
        self.show()

    def refresh(self) -> None:
        """Re-apply the colours (after a palette change)."""
        if not self.isHidden():
            self.show_message(
                self.kind, self.label.text(), action=self.action_button.text() or None, on_action=self._action
            )

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def _run_action(self) -> None:
        if self._action is not None:
            self._action()
