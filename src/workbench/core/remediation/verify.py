"""After a fix: which findings of the previous audit are gone, which are new, which are still there."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from workbench.core.checks.registry import REGISTRY, Check, all_checks
from workbench.core.model import Finding


class AuditOutcome(Protocol):
    """What verification needs from an audit: its findings and the checks that ran (AuditResult has both)."""

    @property
    def findings(self) -> tuple[Finding, ...]: ...

    @property
    def checks_run(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class FixVerification:
    """Previous findings against a new audit, by fingerprint."""

    fixed: tuple[Finding, ...]  # reported before, not now, by a check that ran again (as found before)
    new: tuple[Finding, ...]  # reported now, not before
    still_open: tuple[Finding, ...]  # reported before and now (as found now)
    not_rechecked: tuple[Finding, ...] = ()  # reported before by a check that did not run this time

    @property
    def summary(self) -> str:
        text = f"fixed {len(self.fixed)}, new {len(self.new)}, still open {len(self.still_open)}"
        if self.not_rechecked:
            text += f", not re-checked {len(self.not_rechecked)}"
        return text


def verify_fixes(previous_findings: Iterable[Finding], new_audit: AuditOutcome) -> FixVerification:
    """Compare the findings of an earlier audit with a new audit (possibly of only some checks).

    A finding whose check did not run in the new audit is neither fixed nor open: it is `not_rechecked`.
    """
    ran = set(new_audit.checks_run)
    before = {f.fingerprint: f for f in previous_findings}
    after = {f.fingerprint: f for f in new_audit.findings}
    return FixVerification(
        fixed=tuple(before[k] for k in sorted(before.keys() - after.keys()) if before[k].check in ran),
        new=tuple(after[k] for k in sorted(after.keys() - before.keys())),
        still_open=tuple(after[k] for k in sorted(before.keys() & after.keys())),
        not_rechecked=tuple(before[k] for k in sorted(before.keys() - after.keys()) if before[k].check not in ran),
    )


def affected_checks(findings: Iterable[Finding]) -> tuple[Check, ...]:
    """The registered checks that reported `findings`: what to re-run after applying their fixes."""
    all_checks()
    wanted = {f.check for f in findings}
    return tuple(REGISTRY[c] for c in sorted(wanted) if c in REGISTRY)
