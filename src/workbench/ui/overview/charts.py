"""What the overview charts show, computed from findings and a snapshot (no Qt): plain tuples of numbers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from workbench.core.model import Category, Finding, Level, Snapshot

SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})


@dataclass(frozen=True, slots=True)
class Bars:
    """Labelled values, in display order (the first bar is drawn at the top of a horizontal chart)."""

    labels: tuple[str, ...]
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Points:
    labels: tuple[str, ...]
    x: tuple[float, ...]
    y: tuple[float, ...]


def findings_by_level(findings: tuple[Finding, ...]) -> Bars:
    counts = Counter(f.level for f in findings)
    levels = (Level.ERROR, Level.WARN, Level.INFO)
    return Bars(tuple(level.value for level in levels), tuple(float(counts.get(lv, 0)) for lv in levels))


def findings_by_category(findings: tuple[Finding, ...]) -> dict[Level, Bars]:
    """One Bars per level over the categories that have findings (for a stacked chart)."""
    categories = [c for c in Category if any(f.category is c for f in findings)]
    counts = Counter((f.category, f.level) for f in findings)
    return {
        level: Bars(tuple(c.value for c in categories), tuple(float(counts.get((c, level), 0)) for c in categories))
        for level in Level
    }


def _user_relations(snapshot: Snapshot, kinds: str = "rpm") -> list[tuple[str, int, object]]:
    return [
        (rel.qualified, rel.size_bytes, rel)
        for rel in snapshot.relations
        if rel.kind in kinds and rel.schema not in SYSTEM_SCHEMAS and not rel.schema.startswith("pg_")
    ]


def largest_tables(snapshot: Snapshot, limit: int = 12) -> Bars:
    rows = sorted(_user_relations(snapshot), key=lambda r: -r[1])[:limit]
    return Bars(tuple(r[0] for r in rows), tuple(float(r[1]) for r in rows))


def largest_indexes(snapshot: Snapshot, limit: int = 12) -> Bars:
    rows = sorted(
        (
            (ix.qualified, ix.size_bytes)
            for ix in snapshot.indexes
            if ix.schema not in SYSTEM_SCHEMAS and not ix.schema.startswith("pg_")
        ),
        key=lambda r: -r[1],
    )[:limit]
    return Bars(tuple(r[0] for r in rows), tuple(float(r[1]) for r in rows))


def index_usage(snapshot: Snapshot) -> Points:
    """Every user index: size in bytes (x) against scans since the statistics reset (y)."""
    rows = [
        (ix.qualified, float(ix.size_bytes), float(ix.idx_scan))
        for ix in snapshot.indexes
        if ix.schema not in SYSTEM_SCHEMAS and not ix.schema.startswith("pg_")
    ]
    return Points(tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows))


def dead_tuple_ratios(snapshot: Snapshot, limit: int = 12) -> Bars:
    """Tables with the highest share of dead rows, as percentages (tables without dead rows are left out)."""
    rows = []
    for name, _size, rel in _user_relations(snapshot, "rm"):
        stats = getattr(rel, "stats", None)
        if stats is None:
            continue
        total = stats.n_live_tup + stats.n_dead_tup
        if total and stats.n_dead_tup:
            rows.append((name, 100.0 * stats.n_dead_tup / total))
    rows.sort(key=lambda r: -r[1])
    rows = rows[:limit]
    return Bars(tuple(r[0] for r in rows), tuple(r[1] for r in rows))


def byte_unit(largest: float) -> tuple[str, float]:
    """The unit to plot sizes in, and its divisor."""
    for unit, divisor in (("GB", 1024.0**3), ("MB", 1024.0**2), ("kB", 1024.0)):
        if largest >= divisor:
            return unit, divisor
    return "bytes", 1.0
