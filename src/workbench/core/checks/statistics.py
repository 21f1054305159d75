"""How far the cumulative usage statistics can be trusted: their age and whether they are collected at all.

Usage-based checks (unused indexes, dead tuples, sequential scan ratios) read counters that start from zero
at a statistics reset, a crash or, before PostgreSQL 15, every restart. A young counter says "never used"
about an index that a monthly report needs, so those checks are skipped until the statistics are old enough.
"""

from __future__ import annotations

from datetime import datetime

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.registry import CheckSkipped
from workbench.core.model import Snapshot


def _parse(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def stats_age_days(snapshot: Snapshot) -> float | None:
    """Days between the start of the statistics (last reset or server start) and the snapshot, if known."""
    if not snapshot.stats_since:
        return None
    since, now = _parse(snapshot.stats_since), _parse(snapshot.collected_at)
    if since is None or now is None:
        return None
    return max((now - since).total_seconds() / 86_400, 0.0)


def describe_age(days: float) -> str:
    """`0.4 hours`, `36 hours`, `3.5 days`: hours below two days, else days."""
    if days < 2:
        hours = days * 24
        return f"{hours:.1f} hours" if hours < 10 else f"{hours:.0f} hours"
    return f"{days:.1f} days"


def stats_evidence(snapshot: Snapshot, age: float | None) -> dict[str, object]:
    """The evidence every usage-based finding carries: since when the counters run, and how long that is."""
    return {
        "stats_since": snapshot.stats_since,
        "stats_age_days": None if age is None else round(age, 2),
    }


def require_stats_age(snapshot: Snapshot, config: AuditConfig) -> float | None:
    """The statistics age in days; raises CheckSkipped when counters are off or younger than configured.

    Returns None (and lets the check run) only when the age is unknown and no minimum age is configured.
    """
    if (snapshot.setting("track_counts") or "on") == "off":
        raise CheckSkipped("track_counts is off: the server collects no table or index usage statistics")
    age = stats_age_days(snapshot)
    minimum = config.min_stats_age_days
    if age is None:
        if minimum > 0:
            raise CheckSkipped("the age of the usage statistics is unknown (no reset time or server start time)")
        return None
    if age < minimum:
        raise CheckSkipped(
            f"statistics are only {describe_age(age)} old (counting since {snapshot.stats_since}); "
            f"usage-based results need at least {minimum:g} days (min_stats_age_days)"
        )
    return age
