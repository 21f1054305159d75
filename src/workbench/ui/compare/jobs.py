"""Background work of the Compare tab: collect one side, diff two sides, read review decisions.

Plain callables for `workbench.ui.workers.Worker`; no widget here. A side is a live database (collected in a
read-only session, as an audit does) or a saved snapshot file; either way the checks run over the snapshot so
the findings of the two sides can be compared.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from workbench.core.checks import AuditConfig, run_checks
from workbench.core.compare import (
    Description,
    FindingsDiff,
    SnapshotDiff,
    describe,
    diff_described,
    diff_findings,
    security_sync_script,
)
from workbench.core.connections.session import (
    AuditSession,
    Cancelled,
    ConnectionFailed,
    SessionOptions,
    describe_target,
    open_session,
)
from workbench.core.model import Finding, Snapshot
from workbench.core.review import Decision, ReviewStore, ReviewStoreError
from workbench.core.snapshot import SnapshotFormatError, collect_snapshot, load_snapshot
from workbench.ui.compare.ddl import DdlIndex
from workbench.ui.workers import WorkerContext

# -- sources -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DsnSource:
    """A live database. `password` comes from the keyring or a prompt and is dropped once connected."""

    dsn: str
    label: str
    password: str | None = field(default=None, repr=False)
    profile_id: str | None = None
    review: str | None = None  # the review that holds this connection's decisions (named after the profile)

    @property
    def description(self) -> str:
        return describe_target(self.dsn)


@dataclass(frozen=True, slots=True)
class SnapshotFileSource:
    """A snapshot saved with `workbench snapshot` (or `audit --save-snapshot`)."""

    path: Path
    label: str = ""
    review: str | None = None

    @property
    def description(self) -> str:
        return f"snapshot file {self.path.name}"


Source = DsnSource | SnapshotFileSource


def without_password(source: Source) -> Source:
    return dataclasses.replace(source, password=None) if isinstance(source, DsnSource) else source


@dataclass(frozen=True, slots=True)
class Side:
    """One collected side: its snapshot, described for the diff right after collection (in its own thread)."""

    source: Source
    snapshot: Snapshot
    description: Description = field(repr=False)
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return self.source.label or self.snapshot.database


class CollectSideJob:
    """Collect one side (or load its file) and describe it; `cancel()` is safe from the GUI thread at any time."""

    def __init__(self, source: Source, options: SessionOptions | None = None):
        # The password stays in the job until connected; what the job returns does not carry it.
        self._password = source.password if isinstance(source, DsnSource) else None
        self.source = without_password(source)
        self.options = options
        self._lock = threading.Lock()
        self._session: AuditSession | None = None
        self._cancelled = threading.Event()

    @property
    def cancel_requested(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            session = self._session
        if session is not None:
            session.cancel()

    def __call__(self, context: WorkerContext) -> Side:
        started = time.perf_counter()
        source = self.source
        if isinstance(source, SnapshotFileSource):
            context.progress(0.0, f"Reading {source.path.name}")
            try:
                snapshot = load_snapshot(source.path)
            except (OSError, SnapshotFormatError, ValueError) as exc:
                raise ConnectionFailed(f"The snapshot file {source.path} cannot be read: {exc}") from None
        else:
            snapshot = self._collect(source, context)
        if self._cancelled.is_set():
            raise Cancelled
        context.progress(0.9, "Describing the objects")
        description = describe(snapshot)
        context.progress(1.0, f"{len(snapshot.relations):,} relations read")
        return Side(source, snapshot, description, round(time.perf_counter() - started, 3))

    def _collect(self, source: DsnSource, context: WorkerContext) -> Snapshot:
        context.progress(0.0, f"Connecting to {source.description}")
        session = open_session(source.dsn, self.options, password=self._password)
        self._password = None  # not needed any more; do not keep it around
        with self._lock:
            self._session = session
        try:
            if self._cancelled.is_set():
                raise Cancelled
            return collect_snapshot(session, lambda f, m: context.progress(0.9 * f, m))
        except psycopg.Error as exc:
            if self._cancelled.is_set():
                raise Cancelled from None
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            message = f"The connection to {source.description} failed while collecting ({first})."
            raise ConnectionFailed(message) from None
        finally:
            with self._lock:
                self._session = None
            session.close()


# -- the comparison -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decisions:
    """Decisions in force per fingerprint, per side, from the review store (empty when there is none)."""

    a_review: str | None = None
    b_review: str | None = None
    a: Mapping[str, Decision] = field(default_factory=dict)
    b: Mapping[str, Decision] = field(default_factory=dict)
    reviews: tuple[str, ...] = ()  # every review of the store, for choosing another
    problem: str | None = None  # why the store could not be read

    def for_side(self, side: str, fingerprint: str) -> Decision | None:
        return (self.a if side == "a" else self.b).get(fingerprint)


@dataclass(frozen=True, slots=True)
class SchemaComparison:
    """The schema differences of two sides, with what the Compare tab shows beside them; built off the GUI thread."""

    a: Side
    b: Side
    schema: SnapshotDiff
    sync_script: str | None
    ddl_a: DdlIndex
    ddl_b: DdlIndex
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class FindingsComparison:
    """The findings of the two sides compared by fingerprint, with the review decisions beside them."""

    findings: FindingsDiff
    decisions: Decisions
    a_findings: int = 0
    b_findings: int = 0


def read_decisions(store_path: Path | None, a_review: str | None, b_review: str | None, *, auto: bool) -> Decisions:
    """The decisions of the two reviews; with `auto`, a review that does not exist is quietly left out."""
    try:
        store = ReviewStore(store_path)
    except ReviewStoreError as exc:
        return Decisions(problem=str(exc))
    try:
        reviews = tuple(r.name for r in store.reviews())
        out: dict[str, Any] = {"reviews": reviews}
        for side, name in (("a", a_review), ("b", b_review)):
            if name and name in reviews:
                out[side] = store.decisions(name)
                out[f"{side}_review"] = name
            elif name and not auto:
                out[f"{side}_review"] = None
        return Decisions(**out)
    except ReviewStoreError as exc:
        return Decisions(problem=str(exc))
    finally:
        store.close()


class DiffJob:
    """Diff two collected sides: the schema differences, the security sync script, the definitions' index."""

    def __init__(self, a: Side, b: Side):
        self.a = a
        self.b = b

    def __call__(self, context: WorkerContext) -> SchemaComparison:
        started = time.perf_counter()
        a, b = self.a, self.b
        context.progress(0.0, "Comparing the schemas")
        schema = diff_described(a.snapshot, b.snapshot, a.description, b.description, a.label, b.label)
        context.progress(0.7, "Building the sync script")
        script = security_sync_script(a.snapshot, b.snapshot, a.label, b.label)
        seconds = round(time.perf_counter() - started, 3)
        return SchemaComparison(a, b, schema, script, DdlIndex(a.snapshot), DdlIndex(b.snapshot), seconds)


class ChecksJob:
    """The checks over one side's snapshot, for the findings diff; `cancel()` stops between checks."""

    def __init__(self, snapshot: Snapshot, config: AuditConfig | None = None):
        self.snapshot = snapshot
        self.config = config or AuditConfig()
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    def __call__(self, context: WorkerContext) -> tuple[Finding, ...]:
        result = run_checks(self.snapshot, self.config, context.progress, self._cancelled.is_set)
        return result.findings


class FindingsDiffJob:
    """Compare the two sides' findings and read the decisions of their reviews."""

    def __init__(
        self,
        a: tuple[Finding, ...],
        b: tuple[Finding, ...],
        *,
        a_review: str | None,
        b_review: str | None,
        store_path: Path | None = None,
        read_reviews: bool = True,
    ):
        self.a = a
        self.b = b
        self.a_review = a_review
        self.b_review = b_review
        self.store_path = store_path
        self.read_reviews = read_reviews

    def __call__(self, context: WorkerContext) -> FindingsComparison:
        context.progress(0.0, "Comparing the findings")
        findings = diff_findings(self.a, self.b)
        decisions = (
            read_decisions(self.store_path, self.a_review, self.b_review, auto=True)
            if self.read_reviews
            else Decisions()
        )
        return FindingsComparison(findings, decisions, len(self.a), len(self.b))


class DecisionsJob:
    """Read the decisions of two chosen reviews (the user picked another review for a side)."""

    def __init__(self, store_path: Path | None, a_review: str | None, b_review: str | None):
        self.store_path = store_path
        self.a_review = a_review
        self.b_review = b_review

    def __call__(self, context: WorkerContext) -> Decisions:
        return read_decisions(self.store_path, self.a_review, self.b_review, auto=False)
