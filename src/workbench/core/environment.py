"""What the workbench finds on this machine, for `workbench doctor`: the Qt platform plugin, the keyring backend,
PostgreSQL binaries for the embedded server, and where profiles, reviews and logs live.

Each finding is a `Diagnosis`: what was found, and when something is wrong, the problem and how to fix it.
Nothing here imports Qt (core never does): the Qt probe is `workbench.ui.qt_probe.run_qt_probe`, run in a child
process started by `probe_qt`, because a platform plugin that cannot load aborts the whole process.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.core.connections.profiles import CONFIG_DIR_ENV, PROFILES_FILE, config_dir
from workbench.core.connections.secrets import KeyringSecretStore, SecretStore
from workbench.core.embedded import SERVICE_USER, BinDir, find_bindirs
from workbench.core.logs import LOG_DIR_ENV, LOG_FILE_NAME, log_dir
from workbench.core.review.store import DATA_DIR_ENV, STORE_FILE, data_dir

QT_PROBE_TIMEOUT_S = 60.0
QT_PROBE_MARKER = "WORKBENCH-QT-PROBE "  # the probe's one line of JSON on stdout starts with this
_QT_X11_LIBS = (
    "libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0 "
    "libxcb-render-util0 libxcb-image0 libegl1 libgl1 libfontconfig1 libdbus-1-3"
)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One thing the doctor looked at."""

    topic: str  # qt, keyring, postgresql, profiles, reviews, logs
    title: str
    ok: bool
    summary: str  # what was found
    problem: str | None = None  # what is wrong (None when ok)
    fix: str | None = None  # how to fix it
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = "ok" if self.ok else "problem"
        return out


@dataclass(frozen=True, slots=True)
class DoctorReport:
    facts: dict[str, Any]
    diagnoses: tuple[Diagnosis, ...]

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.diagnoses)

    @property
    def problems(self) -> tuple[Diagnosis, ...]:
        return tuple(d for d in self.diagnoses if not d.ok)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": {"name": "workbench", "version": __version__},
            "ok": self.ok,
            "environment": self.facts,
            "checks": [d.to_dict() for d in self.diagnoses],
        }


# --- facts ----------------------------------------------------------------------------------------------------


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def facts() -> dict[str, Any]:
    """Versions and platform, for the report's header (no Qt import)."""
    import psycopg

    libpq = psycopg.pq.version()
    return {
        "workbench": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "executable": sys.executable,
        "pyside6": _dist_version("PySide6-Essentials") or _dist_version("PySide6"),
        "psycopg": psycopg.__version__,
        "psycopg_impl": psycopg.pq.__impl__,
        "libpq": f"{libpq // 10000}.{libpq % 10000}",
        "running_as_root": _is_root(),
    }


# --- Qt -------------------------------------------------------------------------------------------------------


def _qt_fix(stderr: str, requested: str) -> str:
    text = stderr.lower()
    no_display = not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
    if sys.platform.startswith("linux") and no_display and requested in ("", "xcb", "wayland"):
        return (
            "There is no display (neither DISPLAY nor WAYLAND_DISPLAY is set): start the app inside a desktop "
            "session. Without a display, use the command line (audit, demo --headless), or "
            "QT_QPA_PLATFORM=offscreen for --screenshot."
        )
    if "xcb-cursor" in text:
        return (
            "Install the X11 cursor library the Qt xcb plugin needs: libxcb-cursor0 (Debian/Ubuntu), "
            "xcb-util-cursor (Fedora), or run on Wayland (QT_QPA_PLATFORM=wayland)."
        )
    if "cannot open shared object file" in text or "importerror" in text:
        return (
            "A system library Qt needs is missing (the message above names it). On Debian/Ubuntu: "
            f"apt install {_QT_X11_LIBS}."
        )
    return (
        "Run `QT_DEBUG_PLUGINS=1 workbench doctor` to see why the plugin does not load; on Debian/Ubuntu the xcb "
        f"plugin needs {_QT_X11_LIBS}. QT_QPA_PLATFORM=offscreen works without a display."
    )


def probe_qt(command: Sequence[str], timeout: float = QT_PROBE_TIMEOUT_S) -> Diagnosis:
    """Run `command` (a fresh process calling `workbench.ui.qt_probe.run_qt_probe`) and explain the outcome."""
    requested = os.environ.get("QT_QPA_PLATFORM", "")
    details: dict[str, Any] = {
        "QT_QPA_PLATFORM": requested or None,
        "DISPLAY": os.environ.get("DISPLAY") or None,
        "WAYLAND_DISPLAY": os.environ.get("WAYLAND_DISPLAY") or None,
    }
    title = "Qt platform plugin"
    try:
        proc = subprocess.run(
            list(command), capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return Diagnosis(
            "qt",
            title,
            False,
            f"starting Qt did not finish within {timeout:.0f} s",
            problem="The Qt platform plugin hangs while starting (a display server that does not answer?).",
            fix="Check DISPLAY / WAYLAND_DISPLAY, or set QT_QPA_PLATFORM=offscreen for screenshots.",
            details=details,
        )
    except OSError as exc:
        return Diagnosis(
            "qt", title, False, "the probe could not start", problem=str(exc), fix="Reinstall the workbench."
        )
    found = [line for line in proc.stdout.splitlines() if line.startswith(QT_PROBE_MARKER)]
    if proc.returncode == 0 and found:
        info = json.loads(found[-1][len(QT_PROBE_MARKER) :])
        details.update(info)
        screen = f", screen {info['primary_screen']}" if info.get("primary_screen") else ""
        return Diagnosis("qt", title, True, f"{info['platform']} (Qt {info['qt']}{screen})", details=details)
    stderr = proc.stderr.strip()
    details["exit_status"] = proc.returncode
    details["stderr"] = stderr[-4000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    reason = next(
        (ln for ln in lines if "could not load the qt platform plugin" in ln.lower() or "error" in ln.lower()),
        lines[-1] if lines else f"the probe exited with status {proc.returncode}",
    )
    wanted = requested or ("the default platform" if sys.platform.startswith("linux") else "the native platform")
    return Diagnosis(
        "qt",
        title,
        False,
        f"a Qt application cannot start with {wanted}",
        problem=f"The desktop app cannot open a window here: {reason.strip()}",
        fix=_qt_fix(stderr, requested),
        details=details,
    )


# --- keyring --------------------------------------------------------------------------------------------------


def check_keyring(store: SecretStore | None = None) -> Diagnosis:
    """Whether connection passwords can be saved securely (the same rules as the app's SecretStore)."""
    store = store or KeyringSecretStore()
    reason = store.check()
    title = "Keyring"
    details: dict[str, Any] = {"PYTHON_KEYRING_BACKEND": os.environ.get("PYTHON_KEYRING_BACKEND") or None}
    if reason is None:
        backend_of = getattr(store, "backend", None)
        if callable(backend_of):
            backend = backend_of()
            details["backend"] = f"{type(backend).__module__}.{type(backend).__name__}"
        details["secure"] = True
        return Diagnosis("keyring", title, True, f"passwords are saved in {store.description}", details=details)
    details["secure"] = False
    problem, fix = _split_reason(reason)
    return Diagnosis(
        "keyring",
        title,
        False,
        "no secure keyring: saved connections must ask for their password each time",
        problem=problem,
        fix=fix,
        details=details,
    )


def _split_reason(reason: str) -> tuple[str, str]:
    """SecretStore messages end with what to do; separate the problem from the fix."""
    marker = "Install or unlock"
    at = reason.find(marker)
    if at > 0:
        return reason[:at].strip(), reason[at:].strip()
    return reason, (
        "Install or unlock a system keyring (GNOME Keyring or KWallet on Linux, the macOS Keychain, the Windows "
        "Credential Manager), or choose “Ask for the password each time” for the connection."
    )


# --- PostgreSQL -----------------------------------------------------------------------------------------------


def check_postgresql(bindirs: Callable[[], list[BinDir]] = find_bindirs) -> Diagnosis:
    """PostgreSQL binaries for the embedded server (the demo, the migration replay, the tests)."""
    found = bindirs()
    title = "PostgreSQL for the embedded server"
    details: dict[str, Any] = {
        "found": [{"path": str(b.path), "major": b.major, "source": b.source} for b in found],
    }
    if not found:
        return Diagnosis(
            "postgresql",
            title,
            False,
            "no PostgreSQL server binaries",
            problem="`workbench demo` and `workbench migrations` (replay) need initdb, pg_ctl and postgres.",
            fix=(
                "Install the 'pgserver' Python package (pip install pgserver), or PostgreSQL itself "
                "(Debian/Ubuntu: apt install postgresql; macOS: brew install postgresql@16; Windows: the EDB "
                "installer), with its bin directory on PATH."
            ),
            details=details,
        )
    chosen = next((b for b in found if b.source == "system"), found[0])
    details["used"] = str(chosen.path)
    if _is_root():
        details["runs_as"] = SERVICE_USER
    summary = f"PostgreSQL {chosen.major} ({chosen.source}) at {chosen.path}"
    others = [f"{b.major} ({b.source})" for b in found if b is not chosen]
    if others:
        summary += f"; also {', '.join(others)}"
    return Diagnosis("postgresql", title, True, summary, details=details)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# --- where things live ----------------------------------------------------------------------------------------


def _writable_dir(directory: Path) -> tuple[bool, str | None]:
    """Whether `directory` is (or can be created as) a writable folder; else why not."""
    probe = directory
    while not probe.exists():
        if probe.parent == probe:
            return False, f"no existing parent folder of {directory}"
        probe = probe.parent
    if not probe.is_dir():
        return False, f"{probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return False, f"{probe} is not writable by this user"
    return True, None


def check_location(topic: str, title: str, directory: Path, file_name: str, env: str) -> Diagnosis:
    path = directory / file_name
    overridden = bool(os.environ.get(env))
    details: dict[str, Any] = {
        "path": str(path),
        "directory": str(directory),
        "exists": path.exists(),
        "env": env,
        "from_env": overridden,
    }
    where = f"{path}{f' (from ${env})' if overridden else ''}"
    if path.exists() and not path.is_file():
        return Diagnosis(
            topic,
            title,
            False,
            where,
            problem=f"{path} exists but is not a file.",
            fix=f"Move it away, or set {env} to another folder.",
            details=details,
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return Diagnosis(
            topic,
            title,
            False,
            where,
            problem=f"{path} is not readable and writable by this user.",
            fix=f"Fix its permissions (chmod u+rw), or set {env} to another folder.",
            details=details,
        )
    ok, why = _writable_dir(directory)
    if not ok:
        return Diagnosis(
            topic,
            title,
            False,
            where,
            problem=f"Cannot write there: {why}.",
            fix=f"Make the folder writable, or set {env} to a writable folder.",
            details=details,
        )
    state = "" if path.exists() else " (created on first use)"
    return Diagnosis(topic, title, True, where + state, details=details)


def check_locations() -> list[Diagnosis]:
    return [
        check_location("profiles", "Connection profiles", config_dir(), PROFILES_FILE, CONFIG_DIR_ENV),
        check_location("reviews", "Review store", data_dir(), STORE_FILE, DATA_DIR_ENV),
        check_location("logs", "Log file", log_dir(), LOG_FILE_NAME, LOG_DIR_ENV),
    ]


# --- all together ---------------------------------------------------------------------------------------------


def diagnose(qt_probe_command: Sequence[str], secrets: SecretStore | None = None) -> DoctorReport:
    """Everything, the Qt probe running in its child process meanwhile."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        qt = pool.submit(probe_qt, qt_probe_command)
        rest = [check_keyring(secrets), check_postgresql(), *check_locations()]
        diagnoses = (qt.result(), *rest)
    return DoctorReport(facts(), diagnoses)
