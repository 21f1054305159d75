"""The child process of `workbench doctor`'s Qt check: start a QGuiApplication on the current platform plugin
(QT_QPA_PLATFORM) and print what it got. A plugin that cannot load aborts this process, which the doctor reports."""

from __future__ import annotations

import json
import sys

import PySide6
from PySide6.QtCore import QLibraryInfo, qVersion
from PySide6.QtGui import QGuiApplication

from workbench.core.environment import QT_PROBE_MARKER


def run_qt_probe() -> int:
    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0] if sys.argv else "workbench"])
    screen = QGuiApplication.primaryScreen()
    size = screen.size() if screen is not None else None
    info = {
        "platform": QGuiApplication.platformName(),
        "qt": qVersion(),
        "pyside6": PySide6.__version__,
        "plugins_dir": QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath),
        "screens": len(QGuiApplication.screens()),
        "primary_screen": f"{size.width()}x{size.height()}" if size is not None else None,
    }
    print(QT_PROBE_MARKER + json.dumps(info), flush=True)
    del app
    return 0
