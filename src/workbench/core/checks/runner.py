"""Run the checks over a snapshot (pure) or a live session (collect, then check)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.registry import Check, CheckSkipped, all_checks
from workbench.core.connections.session import AuditSession, Cancelled
from workbench.core.model import Finding, Snapshot
from workbench.core.snapshot import collect_snapshot

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
            batch = tuple(chk.run(snapshot, config))
        except CheckSkipped as exc:
            skipped.append(SkippedCheck(chk.spec.id, str(exc)))
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
    return AuditResult(
        snapshot=snapshot,
        findings=tuple(findings),
        checks_run=tuple(ran),
        checks_skipped=tuple(skipped),
        ignored=tuple(ignored),
        duration_s=round(snapshot.duration_s + time.perf_counter() - started, 4),
        check_duration_s=round(time.perf_counter() - started, 4),
    )


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
    snapshot = collect_snapshot(session, lambda f, m: report(0.6 * f, m))
    result = run_checks(snapshot, config, lambda f, m: report(0.6 + 0.4 * f, m), lambda: session.cancelled, on_findings)
    return dataclasses.replace(result, started_at=started)
