"""Fixtures of the GUI tests: isolated config and data dirs, an in-memory keyring, and no worker left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QThreadPool
from PySide6.QtWidgets import QApplication

from tests.ui.memory_keyring import MemoryKeyring
from workbench.ui import workers

SCREENSHOT_DIR = Path("/tmp/workbench-ui-screenshots")


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Profiles and window state go to a fresh directory, never to the user's config."""
    path = tmp_path / "config"
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(path))
    return path


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The review store goes to a fresh directory, never to the user's data."""
    path = tmp_path / "data"
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(path))
    return path


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Register an in-memory keyring backend for the test; the previous backend comes back afterwards."""
    import keyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def leftover_workers(settle_ms: int = 2_000) -> list[str]:
    """Workers or pool threads still running after `settle_ms` of event processing (empty when all is done)."""
    pool = QThreadPool.globalInstance()
    pool.waitForDone(settle_ms)
    # A finished worker is released by its last queued signal: deliver it.
    for _ in range(20):
        QCoreApplication.processEvents()
        if not workers.alive_workers():
            break
    problems = []
    if pool.activeThreadCount():
        problems.append(f"{pool.activeThreadCount()} QThreadPool thread(s) still running")
    alive = workers.alive_workers()
    if alive:
        problems.append(f"{len(alive)} worker(s) not released: {sorted(type(w.op).__name__ for w in alive)}")
    return problems


@pytest.fixture(autouse=True)
def no_worker_left_running(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a worker or a pool thread running; stop them so the next test starts clean."""
    yield
    problems = leftover_workers()
    if problems:
        for worker in workers.alive_workers():
            worker.cancel()
        QThreadPool.globalInstance().waitForDone(30_000)
        QCoreApplication.processEvents()
        pytest.fail("The test left background work running: " + "; ".join(problems))


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
