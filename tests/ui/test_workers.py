"""The worker bridge: results arrive on the GUI thread; a worker left running is detected."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.conftest import leftover_workers
from workbench.core.connections.session import Cancelled, ConnectionFailed
from workbench.ui.workers import AuditJob, Worker, WorkerContext, alive_workers


def on_gui_thread() -> bool:
    app = QApplication.instance()
    assert app is not None
    return QThread.currentThread() is app.thread()


def test_results_progress_and_batches_arrive_on_the_gui_thread(qtbot: QtBot) -> None:
    seen: list[tuple[str, object, bool]] = []

    def op(ctx: WorkerContext) -> str:
        assert not on_gui_thread()
        ctx.progress(0.5, "halfway")
        ctx.findings(())
        return "done"

    worker = Worker(op)
    worker.signals.sig_progress.connect(lambda f, m: seen.append(("progress", (f, m), on_gui_thread())))
    worker.signals.sig_findings.connect(lambda b: seen.append(("findings", b, on_gui_thread())))
    worker.signals.sig_finished.connect(lambda r: seen.append(("finished", r, on_gui_thread())))
    with qtbot.waitSignal(worker.signals.sig_finished):
        worker.start()
    assert seen == [
        ("progress", (0.5, "halfway"), True),
        ("findings", (), True),
        ("finished", "done", True),
    ]
    qtbot.waitUntil(lambda: worker not in alive_workers())


@pytest.mark.parametrize(
    ("error", "signal", "expected"),
    [
        (Cancelled(), "sig_cancelled", []),
        (ConnectionFailed("Nothing accepts connections at x."), "sig_failed", ["Nothing accepts connections at x."]),
        (ValueError("boom"), "sig_failed", ["The work stopped on an unexpected error: ValueError: boom"]),
    ],
)
def test_errors_become_signals(qtbot: QtBot, error: Exception, signal: str, expected: list[str]) -> None:
    def op(ctx: WorkerContext) -> None:
        raise error

    worker = Worker(op)
    with qtbot.waitSignal(getattr(worker.signals, signal)) as blocker:
        worker.start()
    assert blocker.args == expected


def test_cancel_before_the_connection_is_open(qtbot: QtBot, fresh_db: str) -> None:
    job = AuditJob(fresh_db)
    job.cancel()  # e.g. the user pressed Esc while the server was still answering the connection
    worker = Worker(job, cancel=job.cancel)
    with qtbot.waitSignal(worker.signals.sig_cancelled, timeout=10_000):
        worker.start()
    assert job.cancel_requested


def test_an_unreachable_server_fails_with_a_sentence(qtbot: QtBot) -> None:
    job = AuditJob("host=127.0.0.1 port=1 dbname=x connect_timeout=2")
    worker = Worker(job, cancel=job.cancel)
    with qtbot.waitSignal(worker.signals.sig_failed, timeout=10_000) as blocker:
        worker.start()
    assert blocker.args[0].startswith("Nothing accepts connections at 127.0.0.1:1/x")


def test_a_worker_left_running_is_reported(qtbot: QtBot) -> None:
    release = threading.Event()
    worker = Worker(lambda ctx: release.wait(10), cancel=release.set).start()
    try:
        problems = leftover_workers(settle_ms=100)
        assert problems and "still running" in problems[0]
        assert any("not released" in p for p in problems)
    finally:
        release.set()
    assert leftover_workers() == []
    assert worker.finished.is_set()
