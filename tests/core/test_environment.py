"""The doctor's individual checks, with controlled inputs (no Qt in this process, no server)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from keyring.backends import fail, null

from tests.ui.memory_keyring import MemoryKeyring
from workbench.core.connections.secrets import AskEachTimeSecretStore, KeyringSecretStore
from workbench.core.embedded import BinDir
from workbench.core.environment import (
    check_keyring,
    check_location,
    check_locations,
    check_postgresql,
    probe_qt,
)


def test_a_secure_keyring_is_ok() -> None:
    d = check_keyring(KeyringSecretStore(MemoryKeyring()))
    assert d.ok and d.problem is None
    assert d.details["secure"] is True
    assert d.details["backend"].endswith("MemoryKeyring")


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_no_or_a_null_keyring_is_a_problem_with_a_fix(backend: object) -> None:
    d = check_keyring(KeyringSecretStore(backend))
    assert not d.ok
    assert d.problem and "keyring" in d.problem.lower()
    assert d.fix and "Ask for the password each time" in d.fix
    assert d.details["secure"] is False


def test_ask_each_time_store_is_reported_as_not_saving_passwords() -> None:
    d = check_keyring(AskEachTimeSecretStore())
    assert not d.ok and d.fix


def test_postgresql_found_prefers_the_system_binaries() -> None:
    found = [BinDir(Path("/opt/pgserver/bin"), 16, "pgserver"), BinDir(Path("/usr/lib/pg/15/bin"), 15, "system")]
    d = check_postgresql(lambda: found)
    assert d.ok
    assert d.summary.startswith("PostgreSQL 15 (system) at /usr/lib/pg/15/bin")
    assert "16 (pgserver)" in d.summary
    assert [f["source"] for f in d.details["found"]] == ["pgserver", "system"]


def test_no_postgresql_is_a_problem_that_names_pgserver() -> None:
    d = check_postgresql(lambda: [])
    assert not d.ok
    assert d.fix and "pgserver" in d.fix and "apt install postgresql" in d.fix


def test_locations_follow_the_environment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("WORKBENCH_LOG_DIR", str(tmp_path / "l"))
    by_topic = {d.topic: d for d in check_locations()}
    assert by_topic["profiles"].details["path"] == str(tmp_path / "c" / "profiles.json")
    assert by_topic["reviews"].details["path"] == str(tmp_path / "d" / "reviews.sqlite3")
    assert by_topic["logs"].details["path"] == str(tmp_path / "l" / "workbench.log")
    assert all(d.ok and d.details["from_env"] for d in by_topic.values())
    assert "(created on first use)" in by_topic["reviews"].summary


def test_a_location_below_a_file_is_a_problem(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    d = check_location("reviews", "Review store", blocker / "sub", "reviews.sqlite3", "WORKBENCH_DATA_DIR")
    assert not d.ok
    assert d.problem and "is a file" in d.problem
    assert d.fix and "WORKBENCH_DATA_DIR" in d.fix


def test_the_qt_probe_reports_what_the_child_printed() -> None:
    code = 'print("WORKBENCH-QT-PROBE " + \'{"platform": "offscreen", "qt": "6.9.9", "primary_screen": "800x600"}\')'
    d = probe_qt([sys.executable, "-c", code])
    assert d.ok
    assert d.summary == "offscreen (Qt 6.9.9, screen 800x600)"


def test_a_qt_abort_in_the_child_is_a_problem_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code = (
        "import os, sys\n"
        'sys.stderr.write(\'qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" even though it was '
        "found.\\n')\n"
        "sys.stderr.flush()\n"
        "os.abort()\n"
    )
    d = probe_qt([sys.executable, "-c", code])
    assert not d.ok
    assert d.problem and 'Could not load the Qt platform plugin "xcb"' in d.problem
    assert d.fix and "no display" in d.fix.lower() and "QT_QPA_PLATFORM=offscreen" in d.fix
    assert d.details["exit_status"] != 0


def test_a_missing_xcb_cursor_library_gets_its_package_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    code = (
        "import sys\n"
        "sys.stderr.write('qt.qpa.plugin: From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb "
        "platform plugin.\\n')\n"
        "sys.exit(134)\n"
    )
    d = probe_qt([sys.executable, "-c", code])
    assert not d.ok
    assert d.fix and "libxcb-cursor0" in d.fix


def test_a_probe_that_hangs_times_out() -> None:
    d = probe_qt([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert not d.ok and d.fix
