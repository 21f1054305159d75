"""Compare two audits' findings by fingerprint."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from workbench.core.model import Finding


@dataclass(frozen=True, slots=True)
class FindingsDiff:
    only_in_a: tuple[Finding, ...]
    only_in_b: tuple[Finding, ...]
    in_both: tuple[tuple[Finding, Finding], ...]  # (as found in A, as found in B)

    @property
    def level_changes(self) -> tuple[tuple[Finding, Finding], ...]:
        return tuple((a, b) for a, b in self.in_both if a.level != b.level)


def diff_findings(a: Iterable[Finding], b: Iterable[Finding]) -> FindingsDiff:
    """Pair findings by fingerprint; the order follows the fingerprints."""
    by_a = {f.fingerprint: f for f in a}
    by_b = {f.fingerprint: f for f in b}
    return FindingsDiff(
        only_in_a=tuple(by_a[k] for k in sorted(by_a.keys() - by_b.keys())),
        only_in_b=tuple(by_b[k] for k in sorted(by_b.keys() - by_a.keys())),
        in_both=tuple((by_a[k], by_b[k]) for k in sorted(by_a.keys() & by_b.keys())),
    )
