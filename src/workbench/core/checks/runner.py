"""Run the checks over a snapshot (pure) or a live session (collect, then check)."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.registry import Check, CheckSkipped, all_checks
from workbench.core.connections.session import AuditSession, Cancelled
from workbench.core.gcpause import gc_paused
from workbench.core.model import Finding, Snapshot
from workbench.core.snapshot import collect_snapshot

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
FindingsBatch = Callable[[tuple[Finding, ...]], None]


@dataclass(frozen=True, slots=True)
class SkippedCheck:
    check: str
    reason: str


@dataclass(frozen=True, slots=True)
class AuditResult:
    snapshot: Snapshot
    findings: tuple[Finding, ...]
    checks_run: tuple[str, ...]
    checks_skipped: tuple[SkippedCheck, ...]
    ignored: tuple[tuple[Finding, str], ...] = ()
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    duration_s: float = 0.0
    check_duration_s: float = 0.0


def select_checks(config: AuditConfig) -> tuple[Check, ...]:
    checks = all_checks()
    if config.only_checks:
        checks = tuple(c for c in checks if c.spec.id in config.only_checks or c.spec.category in config.only_checks)
    return tuple(c for c in checks if c.spec.id not in config.disabled_checks)


@gc_paused()
def run_checks(
    snapshot: Snapshot,
    config: AuditConfig | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_findings: FindingsBatch | None = None,
    checks: Iterable[Check] | None = None,
) -> AuditResult:
    """Run every selected check over the snapshot; a failing check is reported as skipped, never fatal."""
    config = config or AuditConfig()
    report = progress or (lambda fraction, message: None)
    selected = tuple(checks) if checks is not None else select_checks(config)
    started = time.perf_counter()
    findings: list[Finding] = []
    ignored: list[tuple[Finding, str]] = []
    ran: list[str] = []
    skipped: list[SkippedCheck] = []
    for i, chk in enumerate(selected):
        if cancelled is not None and cancelled():
            raise Cancelled
        report(i / max(len(selected), 1), f"Checking {chk.spec.id}")
        missing = _missing_probe(snapshot, chk)
        if missing:
            skipped.append(SkippedCheck(chk.spec.id, missing))
            continue
        try:
            batch, unread = _run_one(chk, snapshot, config)
        except CheckSkipped as exc:
            skipped.append(SkippedCheck(chk.spec.id, str(exc)))
            continue
        except Exception as exc:  # a bug in one check must not cost the reviewer the others
            log.exception("Check %s failed", chk.spec.id)
            skipped.append(SkippedCheck(chk.spec.id, f"the check failed ({type(exc).__name__}: {exc})"))
            continue
        if unread:
            skipped.append(SkippedCheck(chk.spec.id, unread))
            continue
        ran.append(chk.spec.id)
        kept = []
        for f in batch:
            reason = config.ignored.get(f.fingerprint)
            if reason is None:
                kept.append(f)
            else:
                ignored.append((f, reason))
        findings.extend(kept)
        if kept and on_findings is not None:
            on_findings(tuple(kept))
    report(1.0, "Checks finished")
    levels = Counter(f.level.value for f in findings)
    log.info(
        "Checks over %s finished in %.2f s: %d findings (%s), %d ignored, %d checks run, %d skipped",
        snapshot.database,
        time.perf_counter() - started,
        len(findings),
        ", ".join(f"{n} {level}" for level, n in sorted(levels.items())) or "none",
        len(ignored),
        len(ran),
        len(skipped),
    )
    return AuditResult(
        snapshot=snapshot,
        findings=tuple(findings),
        checks_run=tuple(ran),
        checks_skipped=tuple(skipped),
        ignored=tuple(ignored),
        duration_s=round(snapshot.duration_s + time.perf_counter() - started, 4),
        check_duration_s=round(time.perf_counter() - started, 4),
    )


# Snapshot attributes and the catalog query that fills them (for the optional queries).
_FED_BY = {
    "indexes": "indexes", "indexes_of": "indexes", "index": "indexes",
    "constraints": "constraints", "constraints_of": "constraints",
    "policies": "policies", "policies_of": "policies", "function_name": "policies", "operator_name": "policies",
    "functions": "functions", "sequences": "sequences", "triggers": "triggers",
    "extensions": "extensions", "extension": "extensions", "available_extensions": "available_extensions",
    "settings": "settings", "setting": "settings", "stats_since": "table_stats",
}  # fmt: skip


class _RecordingSnapshot:
    """Passes every attribute through to the snapshot and remembers which ones a check read."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._snapshot, name)


def _run_one(chk: Check, snapshot: Snapshot, config: AuditConfig) -> tuple[tuple[Finding, ...], str | None]:
    """The check's findings, or the reason its result cannot be trusted: it read data whose catalog query failed."""
    failed = dict(snapshot.skipped_queries)
    if not failed:
        return tuple(chk.run(snapshot, config)), None
    recorder = _RecordingSnapshot(snapshot)
    batch = tuple(chk.run(cast(Snapshot, recorder), config))
    for attribute in sorted(recorder.read):
        query = _FED_BY.get(attribute)
        if query in failed:
            return (), f"could not read the {query.replace('_', ' ')}: {failed[query]}"
    return batch, None


def _missing_probe(snapshot: Snapshot, chk: Check) -> str | None:
    """Why a check cannot run: a catalog query (`catalog:NAME`) or a probe it needs could not be read."""
    failed_queries = dict(snapshot.skipped_queries)
    for name in chk.spec.requires:
        if name.startswith("catalog:"):
            reason = failed_queries.get(name.removeprefix("catalog:"))
            if reason:
                return f"could not read the {name.removeprefix('catalog:').replace('_', ' ')}: {reason}"
            continue
        probe = snapshot.probe(name)
        if probe is None:
            return f"the {name} probe did not run"
        if probe.skipped:
            return probe.skipped
    return None


@gc_paused()
def audit(
    session: AuditSession,
    config: AuditConfig | None = None,
    progress: Progress | None = None,
    on_findings: FindingsBatch | None = None,
) -> AuditResult:
    """Collect a snapshot over `session`, then run the checks. `session.cancel()` stops either phase.

    Raises ConnectionFailed, or Cancelled after `session.cancel()`.
    """
    report = progress or (lambda fraction, message: None)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    began = time.perf_counter()
    try:
        snapshot = collect_snapshot(session, lambda f, m: report(0.6 * f, m))
        log.info(
            "Snapshot of %s (PostgreSQL %s) collected in %.2f s: %d relations, %d skipped queries",
            snapshot.database,
            snapshot.server_version,
            snapshot.duration_s,
            len(snapshot.relations),
            len(snapshot.skipped_queries),
        )
        result = run_checks(
            snapshot, config, lambda f, m: report(0.6 + 0.4 * f, m), lambda: session.cancelled, on_findings
        )
    except Cancelled:
        log.info("Audit cancelled after %.2f s", time.perf_counter() - began)
        raise
    except Exception as exc:
        log.warning("Audit failed after %.2f s: %s: %s", time.perf_counter() - began, type(exc).__name__, exc)
        raise
    log.info("Audit of %s finished in %.2f s", snapshot.database, time.perf_counter() - began)
    return dataclasses.replace(result, started_at=started)
