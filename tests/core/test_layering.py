"""The architecture's rules: core imports no Qt and no cli; cli imports no Qt (the app is loaded lazily)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "workbench"


def imported_modules(folder: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        out[str(path.relative_to(SRC))] = names
    return out


def test_core_imports_neither_qt_nor_the_cli_nor_the_ui() -> None:
    offenders = {
        path: sorted(
            n
            for n in names
            if n.split(".")[0] in {"PySide6", "pyqtgraph"} or n.startswith(("workbench.cli", "workbench.ui"))
        )
        for path, names in imported_modules(SRC / "core").items()
    }
    assert {p: n for p, n in offenders.items() if n} == {}


def test_the_command_line_runs_without_loading_qt() -> None:
    code = (
        "import sys, importlib, pkgutil, workbench.core, workbench.cli.main\n"
        "for m in pkgutil.walk_packages(workbench.core.__path__, 'workbench.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "workbench.cli.main.main(['checks'])\n"
        "loaded = sorted(n for n in sys.modules if n.split('.')[0] in ('PySide6', 'pyqtgraph'))\n"
        "assert not loaded, loaded\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
