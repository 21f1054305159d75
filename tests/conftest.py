"""Shared fixtures: a throwaway PostgreSQL server per available version, and fresh databases on it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import uuid
from collections.abc import Callable, Iterator

import pytest

from workbench.core.embedded import BinDir, EmbeddedServer, find_bindirs
from workbench.core.embedded import load_sql as _load_sql


def _server_params() -> list[pytest.ParameterSet]:
    """pgserver's bundled PostgreSQL (always) and the newest system PostgreSQL (when installed)."""
    found = find_bindirs()
    chosen: list[BinDir] = []
    for source in ("pgserver", "system"):
        first = next((b for b in found if b.source == source), None)
        if first is not None:
            chosen.append(first)
    params: list[pytest.ParameterSet] = []
    ids: set[str] = set()
    for bindir in chosen:
        param_id = f"pg{bindir.major}"
        if param_id in ids:
            param_id += f"-{bindir.source}"
        ids.add(param_id)
        params.append(pytest.param(bindir, id=param_id))
    return params


SERVER_PARAMS = _server_params()


@pytest.fixture(scope="session", autouse=True)
def _test_log_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The log file of in-process and child `workbench` runs goes to a temporary folder, not the user's."""
    os.environ.setdefault("WORKBENCH_LOG_DIR", str(tmp_path_factory.mktemp("workbench-logs")))


@pytest.fixture(scope="session", params=SERVER_PARAMS)
def pg_server(request: pytest.FixtureRequest) -> Iterator[EmbeddedServer]:
    """A started throwaway server, shared by the whole session (one per PostgreSQL version)."""
    bindir: BinDir = request.param
    with EmbeddedServer(bindir) as server:
        yield server


@pytest.fixture
def fresh_db(pg_server: EmbeddedServer) -> Iterator[str]:
    """A new, empty database on ``pg_server``; yields its dsn and drops it afterwards."""
    name = f"wb_test_{uuid.uuid4().hex[:12]}"
    dsn = pg_server.create_database(name)
    try:
        yield dsn
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def load_sql() -> Callable[[str, str], None]:
    """``load_sql(dsn, script)`` runs a whole SQL script in autocommit mode."""
    return _load_sql
