"""Answering the modal dialogs of GUI tests: their exec() runs a nested event loop, so a timer answers them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def on_next_dialog(handler: Callable[[Any], None]) -> list[str]:
    """Call `handler(dialog)` on the next modal dialog, from a timer while its exec() runs; returns a log."""
    log: list[str] = []

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, poll)
            return
        log.append(type(dialog).__name__)
        handler(dialog)

    QTimer.singleShot(0, poll)
    return log
