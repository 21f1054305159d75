"""A session that used passwords (right and wrong, in keywords, a URI and PGPASSWORD) leaves none in the log file.

Real password authentication: the embedded server's TCP listener uses scram-sha-256 (`host_dsn`).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from workbench.cli.main import main
from workbench.core.embedded import EmbeddedServer
from workbench.core.logs import LOG_FILE_NAME, unconfigure_logging


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "logs"
    unconfigure_logging()  # main() configures it again, into this folder
    monkeypatch.setenv("WORKBENCH_LOG_DIR", str(folder))
    monkeypatch.setenv("WORKBENCH_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    yield folder
    unconfigure_logging()


def log_text(folder: Path) -> str:
    files = sorted(folder.glob(f"{LOG_FILE_NAME}*"))
    assert files, f"no log file in {folder}"
    return "".join(f.read_text(encoding="utf-8") for f in files)


def test_passwords_never_reach_the_log(
    pg_server: EmbeddedServer,
    log_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    password = pg_server.superuser_password
    wrong = "Wr0ng-" + secrets.token_urlsafe(12)
    port = pg_server.port
    keywords = pg_server.host_dsn()  # host=127.0.0.1 … password=<superuser password>
    assert password in keywords
    uri = f"postgresql://postgres:{quote(password, safe='')}@127.0.0.1:{port}/postgres"

    # In-process, as the CLI runs: keyword DSN with the password, the same with a wrong one, a wrong URI.
    assert main(["audit", "--dsn", keywords, "--format", "json", "--fail-on", "error"]) in (0, 1)
    assert json.loads(capsys.readouterr().out)["database"]["name"] == "postgres"
    assert main(["audit", "--dsn", keywords.replace(password, wrong)]) == 2
    assert "Wrong user name or password" in capsys.readouterr().err
    assert main(["audit", "--dsn", uri.replace(quote(password, safe=""), wrong)]) == 2
    # PGPASSWORD, no password in the DSN.
    monkeypatch.setenv("PGPASSWORD", password)
    assert main(["audit", "--dsn", f"host=127.0.0.1 port={port} user=postgres dbname=postgres"]) in (0, 1)
    monkeypatch.delenv("PGPASSWORD")
    capsys.readouterr()

    # A separate process, configured by its own entry point: a URI with the password.
    env = {**os.environ, "WORKBENCH_LOG_DIR": str(log_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "audit", "--dsn", uri, "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr

    text = log_text(log_dir)
    assert password not in text
    assert quote(password, safe="") not in text
    assert wrong not in text
    # The log is not empty: it has the attempts (targets without secrets), the failures and the audits.
    target = f"postgres@127.0.0.1:{port}/postgres"
    assert text.count(f"Connecting to {target}") == 5
    assert text.count(f"Connection to {target} failed: Wrong user name or password") == 2
    assert text.count("Audit of postgres finished in") == 3
    assert "Checks over postgres finished in" in text
