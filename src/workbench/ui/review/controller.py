"""The review store, used off the GUI thread: one operation at a time, in order, each followed by a fresh view.

`ReviewController` owns the `ReviewStore` of the window. Every read and write runs in a `Worker` (the store is
SQLite on disk); operations are queued so that two quick clicks are written in the order they were made. After
each operation the worker reads the review again and the controller emits it as a `ReviewView`, so the panel
only ever replaces what it shows. When the store cannot be opened (damaged, written by a newer release, not a
store at all) the controller says so once with `sig_unavailable` and ignores every later request: the rest of the
app keeps working without reviews.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from workbench.core.checks.runner import AuditResult
from workbench.core.connections.profiles import ConnectionProfile
from workbench.core.remediation.verify import FixVerification, verify_fixes
from workbench.core.review import (
    DecisionStatus,
    ReviewNotFound,
    ReviewState,
    ReviewStore,
    ReviewStoreError,
    RunComparison,
    RunInfo,
)
from workbench.ui.workers import Worker, WorkerContext

CLOSE_WAIT_S = 10.0


def review_name(profile: ConnectionProfile) -> str:
    """The review that records a connection's audits: named after its profile."""
    return profile.name.strip() or profile.target


HISTORY_RUNS = 20  # runs listed in the review's history


@dataclass(frozen=True, slots=True)
class RunRow:
    """One audit run of the history, compared with the run before it."""

    run: RunInfo
    verification: FixVerification | None  # None for the first run


@dataclass(frozen=True, slots=True)
class ReviewView:
    """What the panel shows of one review, read in one go by a worker."""

    name: str
    state: ReviewState | None  # None: there is no review of that name yet
    history: tuple[RunRow, ...] | None = None  # None: not re-read with this view (keep the one shown)


@dataclass(frozen=True, slots=True)
class _Failure:
    message: str


@dataclass(slots=True)
class _Op:
    label: str
    fn: Callable[[ReviewStore | None], Any]
    done: Callable[[Any], None] | None
    writes: bool
    review: str | None = None  # the review a "read" shows


def read_view(store: ReviewStore, name: str, *, history: bool) -> ReviewView:
    try:
        state = store.state(name)
    except ReviewNotFound:
        return ReviewView(name, None, () if history else None)
    rows: tuple[RunRow, ...] | None = None
    if history:
        # The latest runs only: each holds thousands of findings on a large database, and a review audited
        # for months would otherwise be decoded whole every time it is shown.
        runs = store.runs(name, last=HISTORY_RUNS + 1)
        first = 1 if len(runs) > HISTORY_RUNS else 0
        rows = tuple(
            RunRow(runs[i], verify_fixes(runs[i - 1].findings, runs[i]) if i else None) for i in range(first, len(runs))
        )
    return ReviewView(name, state, rows)


class ReviewController(QObject):
    sig_available = Signal(str)  # the store's path
    sig_unavailable = Signal(str)  # why the review feature is off (a sentence for the user)
    sig_view = Signal(object)  # ReviewView of the current review
    sig_recorded = Signal(str, object)  # review name, RunComparison: an audit run was stored
    sig_failed = Signal(str)  # an operation was refused or failed; nothing else changed
    sig_busy = Signal(bool)

    def __init__(self, path: Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.path = path
        self.store: ReviewStore | None = None
        self.unavailable: str | None = None
        self.current: str | None = None
        self._queue: list[_Op] = []
        self._held = False
        self._worker: Worker | None = None
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def open(self) -> None:
        """Open (or create) the store in the background; sig_available or sig_unavailable follows."""
        self._submit("open", lambda _store: ReviewStore(self.path), self._opened, writes=False)

    def _opened(self, store: Any) -> None:
        if isinstance(store, _Failure):
            self.unavailable = store.message
            self._queue.clear()
            self.sig_unavailable.emit(store.message)
            return
        self.store = store
        self.sig_available.emit(str(store.path))

    @property
    def available(self) -> bool:
        return self.store is not None and not self._closed

    @property
    def busy(self) -> bool:
        return self._worker is not None or bool(self._queue)

    def close(self) -> None:
        """Finish the running operation, write what is still queued, then close the store (GUI thread)."""
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            self._worker.finished.wait(CLOSE_WAIT_S)
        pending, self._queue = self._queue, []
        store = self.store
        if store is None:
            return
        for op in pending:
            if op.writes:
                with contextlib.suppress(ReviewStoreError):
                    op.fn(store)
        store.close()
        self.store = None

    # -- requests ----------------------------------------------------------------------------------------------
    def show(self, name: str | None) -> None:
        """Make `name` the review shown (None: none) and read it with its run history."""
        self.current = name
        if name is None or self.unavailable is not None:
            return
        self._submit("read", lambda store: read_view(_need(store), name, history=True), self._view_done, review=name)

    def refresh(self) -> None:
        self.show(self.current)

    def record(self, profile: ConnectionProfile, result: AuditResult) -> None:
        """Store an audit run in the profile's review (created when missing); marks the fixes it verifies."""
        name = review_name(profile)

        def op(store: ReviewStore | None) -> tuple[RunComparison, ReviewView]:
            s = _need(store)
            s.ensure_review(name, profile)
            comparison = s.record_run(name, result)
            return comparison, read_view(s, name, history=True)

        def done(value: tuple[RunComparison, ReviewView]) -> None:
            comparison, view = value
            self.sig_recorded.emit(name, comparison)
            self._view_done(view)

        # A read of this review still waiting (e.g. queued while the audit ran) would show what the record is
        # about to replace, and repaint the window while the record runs: the record's own view serves instead.
        self._queue = [q for q in self._queue if not (q.label == "read" and q.review == name)]
        self._submit("record", op, done, writes=True)

    def decide(
        self,
        name: str,
        fingerprints: Iterable[str],
        status: DecisionStatus,
        *,
        reviewer: str,
        note: str = "",
        until: date | None = None,
    ) -> None:
        wanted = tuple(fingerprints)

        def op(store: ReviewStore | None) -> ReviewView:
            s = _need(store)
            for fingerprint in wanted:
                s.decide(name, fingerprint, status, reviewer=reviewer, note=note, until=until)
            return read_view(s, name, history=False)

        self._submit("decide", op, self._view_done, writes=True)

    def tick(self, name: str, item_key: str, *, who: str, ticked: bool, note: str = "") -> None:
        def op(store: ReviewStore | None) -> ReviewView:
            s = _need(store)
            s.tick(name, item_key, who=who, ticked=ticked, note=note)
            return read_view(s, name, history=False)

        self._submit("tick", op, self._view_done, writes=True)

    def sign_off(self, name: str, *, reviewer: str, role: str, statement: str) -> None:
        def op(store: ReviewStore | None) -> ReviewView:
            s = _need(store)
            s.sign_off(name, reviewer=reviewer, role=role, statement=statement)
            return read_view(s, name, history=False)

        self._submit("sign", op, self._view_done, writes=True)

    # -- the queue ---------------------------------------------------------------------------------------------
    def _submit(
        self,
        label: str,
        fn: Callable[[ReviewStore | None], Any],
        done: Callable[[Any], None],
        *,
        writes: bool = False,
        review: str | None = None,
    ) -> None:
        if self._closed or self.unavailable is not None:
            return
        self._queue.append(_Op(label, fn, done, writes, review))
        self._next()

    def hold(self, held: bool) -> None:
        """Start no store operation while held (queued ones wait), e.g. during an audit: decoding a review's
        runs on a third Python thread kept the GUI thread from the GIL for up to a second."""
        self._held = held
        self._next()

    def _next(self) -> None:
        if self._worker is not None or not self._queue or self._closed or self._held:
            return
        op = self._queue.pop(0)
        store = self.store

        def run(_context: WorkerContext) -> Any:
            try:
                return op.fn(store)
            except ReviewStoreError as exc:
                return _Failure(str(exc))

        worker = Worker(run)
        worker.signals.sig_finished.connect(lambda value: self._finished(op, value))
        worker.signals.sig_failed.connect(lambda message: self._finished(op, _Failure(message)))
        self._worker = worker.start()
        self.sig_busy.emit(True)

    def _finished(self, op: _Op, value: Any) -> None:
        self._worker = None
        if not self._closed:
            if op.label == "open":
                self._opened(value)
            elif isinstance(value, _Failure):
                self.sig_failed.emit(value.message)
            elif op.done is not None:
                op.done(value)
        if not self._queue:
            self.sig_busy.emit(False)
        self._next()

    def _view_done(self, view: ReviewView) -> None:
        if view.name == self.current:
            self.sig_view.emit(view)


def _need(store: ReviewStore | None) -> ReviewStore:
    if store is None:
        raise ReviewStoreError("The review store is not open.")
    return store
