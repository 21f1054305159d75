"""`workbench doctor`: every item reported, JSON and text, exit status, the real Qt probe in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli.main import main

TOPICS = {"qt", "keyring", "postgresql", "profiles", "reviews", "logs"}


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")


def run_json(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["doctor", "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_doctor_json_reports_every_item(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys)
    checks = report["checks"]
    assert isinstance(checks, list)
    by_topic = {c["topic"]: c for c in checks}
    assert set(by_topic) == TOPICS
    assert code == (0 if report["ok"] else 1)
    assert report["ok"] == all(c["status"] == "ok" for c in checks)
    for c in checks:
        assert c["status"] in ("ok", "problem")
        if c["status"] == "problem":
            assert c["problem"] and c["fix"], c
    assert by_topic["qt"]["status"] == "ok", by_topic["qt"]
    assert by_topic["qt"]["details"]["platform"] == "offscreen"
    assert by_topic["postgresql"]["status"] == "ok"  # the tests need it anyway (pgserver is a dependency)
    assert by_topic["profiles"]["details"]["path"] == str(tmp_path / "config" / "profiles.json")
    assert by_topic["reviews"]["details"]["path"] == str(tmp_path / "data" / "reviews.sqlite3")
    assert by_topic["keyring"]["details"]["secure"] in (True, False)
    environment = report["environment"]
    assert isinstance(environment, dict) and environment["workbench"]


def test_doctor_survives_a_qt_platform_that_aborts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "no-such-platform")
    code, report = run_json(capsys)
    assert code == 1
    checks = report["checks"]
    assert isinstance(checks, list)
    qt = next(c for c in checks if c["topic"] == "qt")
    assert qt["status"] == "problem"
    assert "no-such-platform" in qt["problem"] + qt["details"]["stderr"]
    assert qt["fix"]


def test_doctor_text_says_ok_or_problem_and_how_to_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "no-such-platform")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM   Qt platform plugin:" in out
    assert "OK        PostgreSQL for the embedded server:" in out
    assert "Fix: " in out
    assert out.rstrip().endswith("found.")


def test_doctor_loads_no_qt_in_its_own_process() -> None:
    code = (
        "import sys, json, workbench.cli.main as m\n"
        "m.main(['doctor', '--format', 'json'])\n"
        "loaded = sorted(n for n in sys.modules if n.split('.')[0] in ('PySide6', 'pyqtgraph'))\n"
        "assert not loaded, loaded\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
