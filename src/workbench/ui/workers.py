"""Run core work off the GUI thread and deliver its results on it.

One QRunnable (`Worker`) runs a plain function; a QObject (`WorkerSignals`, living in the GUI thread) carries
what the function reports back as queued signals. The function never touches a widget. Workers are kept in
`_alive` until their last signal has been delivered on the GUI thread, so neither the runnable nor its signals
object can be collected while a signal is in flight.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from workbench.core.checks import AuditConfig, AuditResult, audit
from workbench.core.connections.session import (
    AuditSession,
    Cancelled,
    ConnectionFailed,
    SessionOptions,
    describe_target,
    open_session,
)
from workbench.core.model import Finding

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    """Signals of one worker; created on the GUI thread, emitted from the pool thread (queued delivery)."""

    sig_progress = Signal(float, str)
    sig_findings = Signal(tuple)
    sig_finished = Signal(object)
    sig_failed = Signal(str)
    sig_cancelled = Signal()
    _sig_done = Signal()  # always last; releases the worker on the GUI thread


@dataclass(frozen=True, slots=True)
class WorkerContext:
    """What a worker function may call: report progress and hand over a batch of findings."""

    progress: Callable[[float, str], None]
    findings: Callable[[tuple[Finding, ...]], None]


_alive: set[Worker] = set()


def alive_workers() -> frozenset[Worker]:
    """Workers started and not yet released (their final signal not yet delivered)."""
    return frozenset(_alive)


class Worker(QRunnable):
    """Runs ``op(context)`` on a pool thread.

    ``op`` returns the result (-> sig_finished), raises Cancelled (-> sig_cancelled), ConnectionFailed
    (-> sig_failed with its sentence) or anything else (-> sig_failed with a short description; the
    traceback goes to the log).
    """

    def __init__(self, op: Callable[[WorkerContext], Any], *, cancel: Callable[[], None] | None = None):
        super().__init__()
        self.setAutoDelete(False)  # Python owns the runnable; `_alive` keeps it until done
        self.op = op
        self._cancel = cancel
        self.signals = WorkerSignals()
        self.signals._sig_done.connect(self._release)
        self.finished = threading.Event()

    def start(self, pool: QThreadPool | None = None) -> Worker:
        _alive.add(self)
        (pool or QThreadPool.globalInstance()).start(self)
        return self

    def cancel(self) -> None:
        """Ask the work to stop (GUI thread); the worker then emits sig_cancelled."""
        if self._cancel is not None:
            self._cancel()

    def run(self) -> None:
        signals = self.signals
        context = WorkerContext(signals.sig_progress.emit, signals.sig_findings.emit)
        try:
            result = self.op(context)
        except Cancelled:
            signals.sig_cancelled.emit()
        except ConnectionFailed as exc:
            signals.sig_failed.emit(str(exc))
        except Exception as exc:
            log.error("worker failed:\n%s", traceback.format_exc())
            signals.sig_failed.emit(f"The work stopped on an unexpected error: {type(exc).__name__}: {exc}")
        else:
            signals.sig_finished.emit(result)
        finally:
            self.finished.set()
            signals._sig_done.emit()

    def _release(self) -> None:
        _alive.discard(self)


class AuditJob:
    """One audit of one database: connect, collect, check. `cancel()` is safe from the GUI thread at any time.

    Cancelling before the connection is open stops the job as soon as it is; cancelling later calls
    `AuditSession.cancel()`, which stops the running query server-side.
    """

    def __init__(
        self,
        dsn: str,
        *,
        password: str | None = None,
        config: AuditConfig | None = None,
        options: SessionOptions | None = None,
    ):
        self.dsn = dsn
        self._password = password
        self.config = config or AuditConfig()
        self.options = options
        self._lock = threading.Lock()
        self._session: AuditSession | None = None
        self._cancel_requested = False

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    def cancel(self) -> None:
        with self._lock:
            self._cancel_requested = True
            session = self._session
        if session is not None:
            session.cancel()

    def __call__(self, context: WorkerContext) -> AuditResult:
        context.progress(0.0, f"Connecting to {describe_target(self.dsn)}")
        session = open_session(self.dsn, self.options, password=self._password)
        self._password = None  # not needed any more; do not keep it around
        with self._lock:
            self._session = session
            cancelled = self._cancel_requested
        try:
            if cancelled:
                raise Cancelled
            return audit(session, self.config, context.progress, context.findings)
        except psycopg.Error as exc:
            if self._cancel_requested:
                raise Cancelled from None
            if isinstance(exc, psycopg.OperationalError) or session.conn.closed or session.conn.broken:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ConnectionFailed(
                    f"The connection to {describe_target(self.dsn)} was lost during the audit ({first})."
                ) from None
            raise
        finally:
            with self._lock:
                self._session = None
            session.close()


class ConnectionTestJob:
    """Open a session and read the server version and role: the "Test" button of a profile."""

    def __init__(self, dsn: str, *, password: str | None = None):
        self.dsn = dsn
        self._password = password

    def __call__(self, context: WorkerContext) -> str:
        context.progress(0.0, f"Connecting to {describe_target(self.dsn)}")
        options = SessionOptions(statement_timeout_ms=10_000, connect_timeout_s=10)
        with open_session(self.dsn, options, password=self._password) as session:
            row = session.conn.execute("SELECT pg_catalog.current_setting('server_version'), current_user").fetchone()
        assert row is not None
        return f"Connected to PostgreSQL {row[0]} as {row[1]}."
