"""Start the desktop app. The CLI calls `run_app`; nothing else here knows about the command line."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import psycopg
from psycopg import conninfo
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from workbench.core.checks import AuditConfig
from workbench.core.connections.profiles import ProfileError, ProfileStore
from workbench.core.connections.session import describe_target
from workbench.core.demo import DEMO_DATABASE, demo_config
from workbench.ui.icons import DESKTOP_FILE_NAME, app_icon
from workbench.ui.main_window import APP_TITLE, MainWindow, window_settings
from workbench.ui.theme import Theme, apply_theme

SCREENSHOT_SIZE = (1600, 960)
SCREENSHOT_TIMEOUT_MS = 300_000


def _application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_TITLE)
    app.setOrganizationName("pg-review-workbench")
    app.setApplicationDisplayName(APP_TITLE)
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    app.setWindowIcon(app_icon())
    return app


def run_app(
    dsn: str | None = None,
    *,
    screenshot: Path | None = None,
    autorun: bool = False,
    connection_name: str | None = None,
    config: AuditConfig | None = None,
) -> int:
    """Open the main window and run the event loop; returns the exit status.

    `dsn` adds an unsaved connection to the list and selects it; `autorun` starts its audit at once.
    `screenshot` saves a PNG of the window once the audit has finished (or at once without a dsn) and exits:
    0 when the audit finished, 1 when it failed or was cancelled. `config` defaults to the demo's
    configuration for the demo database, else to `AuditConfig()`.
    """
    app = _application()
    try:
        store = ProfileStore()
    except ProfileError as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return 2
    is_demo = bool(dsn) and _dbname(dsn or "") == DEMO_DATABASE
    if config is None and is_demo:
        config = demo_config()
    theme_name = str(window_settings().value("theme", Theme.SYSTEM.value))
    apply_theme(app, Theme(theme_name) if theme_name in {t.value for t in Theme} else Theme.SYSTEM)
    window = MainWindow(store, config=config)  # after the palette: widgets pick their colours from it
    window.persist_state = screenshot is None
    if screenshot is not None:
        window.resize(*SCREENSHOT_SIZE)
    if dsn:
        name = connection_name or ("Demo database" if is_demo else f"{describe_target(dsn)} (command line)")
        window.connections.set_transient(dsn, name=name)
    window.show()
    if dsn and (autorun or screenshot is not None):
        QTimer.singleShot(0, window.run_audit)

    if screenshot is not None:
        _arrange_screenshot(app, window, screenshot, with_audit=bool(dsn))
    else:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C in the terminal quits
    code = app.exec()
    window.close()  # saves the window state (not for screenshots) and waits for any worker
    window.deleteLater()
    return code


def _dbname(dsn: str) -> str:
    try:
        return str(conninfo.conninfo_to_dict(dsn).get("dbname") or "")
    except psycopg.ProgrammingError:
        return ""


def _arrange_screenshot(app: QApplication, window: MainWindow, path: Path, *, with_audit: bool) -> None:
    done = False

    def finish(code: int, message: str | None = None) -> None:
        nonlocal done
        if done:
            return
        done = True
        if message:
            print(f"workbench: {message}", file=sys.stderr)

        def shoot() -> None:
            try:
                window.save_screenshot(path)
            except OSError as exc:
                print(f"workbench: {exc}", file=sys.stderr)
                app.exit(1)
                return
            app.exit(code)

        QTimer.singleShot(400, shoot)  # let the tree, the details and the charts paint first

    window.sig_audit_finished.connect(lambda _result: finish(0))
    window.sig_audit_failed.connect(lambda message: finish(1, message))
    window.sig_audit_cancelled.connect(lambda: finish(1, "the audit was cancelled"))
    if not with_audit:
        QTimer.singleShot(0, lambda: finish(0))
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, lambda: finish(1, "the audit did not finish in time"))
