"""`workbench doctor`: what the workbench found on this machine, each item OK or a problem with its fix."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.core.environment import DoctorReport

EXIT_OK, EXIT_PROBLEMS = 0, 1
WIDTH = 100


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "doctor",
        help="check this machine: Qt platform plugin, keyring, PostgreSQL binaries, where files live",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--qt-probe", action="store_true", help=argparse.SUPPRESS)  # the child process of the Qt check


def qt_probe_command() -> list[str]:
    """How to start this program again for the Qt probe (the frozen app is its own interpreter)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "doctor", "--qt-probe"]
    return [sys.executable, "-m", "workbench", "doctor", "--qt-probe"]


def render_text(report: DoctorReport) -> str:
    f = report.facts
    head = (
        f"workbench {f['workbench']}{' (app bundle)' if f['frozen'] else ''} on {f['platform']} {f['machine']}, "
        f"Python {f['python']}, PySide6 {f['pyside6'] or '?'}, psycopg {f['psycopg']} ({f['psycopg_impl']}, "
        f"libpq {f['libpq']})"
    )
    lines = [_wrap(head, ""), ""]
    indent = " " * 10
    for d in report.diagnoses:
        status = "OK" if d.ok else "PROBLEM"
        lines.append(_wrap(f"{status:<9} {d.title}: {d.summary}", indent))
        if d.problem:
            lines.append(_wrap(f"{indent}Problem: {d.problem}", indent))
        if d.fix:
            lines.append(_wrap(f"{indent}Fix: {d.fix}", indent))
    problems = len(report.problems)
    lines += ["", "No problem found." if not problems else f"{problems} problem{'s' if problems > 1 else ''} found."]
    return "\n".join(lines) + "\n"


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, width=WIDTH, subsequent_indent=indent, break_on_hyphens=False, break_long_words=False)


def cmd_doctor(args: argparse.Namespace) -> int:
    if args.qt_probe:  # the child process: the only place the command line loads Qt (lazily, like the app)
        from workbench.ui.qt_probe import run_qt_probe

        return run_qt_probe()
    from workbench.core.environment import diagnose  # heavy (the review store, SQLAlchemy): only for doctor

    report = diagnose(qt_probe_command())
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(report))
    return EXIT_OK if report.ok else EXIT_PROBLEMS
