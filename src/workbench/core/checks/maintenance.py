"""Table upkeep: scan patterns, planner statistics, sequences running out, partitions and growing log tables.

Conventions (shared with indexes.py): system schemas and extension members are skipped; a partitioned table
is judged as a whole where its partitions only make sense together (sequential scans are summed over its
leaf partitions), and per partition where the partition is what needs the fix (statistics, DEFAULT rows).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from psycopg import sql

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.exposure import is_user_object, matches_any
from workbench.core.checks.indexes import (
    _NOT_TRANSACTIONAL,
    NAMEDATALEN,
    _names_in_use,
    _partitions,
    _truncate,
    _user_relation,
)
from workbench.core.checks.objects import comment, rel_ident, relation_ref, render, sequence_ref
from workbench.core.checks.registry import CheckSkipped, CheckSpec, check
from workbench.core.checks.statistics import require_stats_age, stats_evidence
from workbench.core.model import Category, Column, Finding, Level, ObjectRef, Relation, Sequence, Snapshot

TIME_TYPES = ("date", "timestamp", "timestamptz")


def _rows_estimate(rel: Relation) -> int:
    """The larger of the planner's estimate (reltuples, -1 when never analyzed) and the live-tuple counter."""
    live = rel.stats.n_live_tup if rel.stats else 0
    return max(int(rel.reltuples), live, 0)


def _require_table_stats(snapshot: Snapshot) -> None:
    failed = dict(snapshot.skipped_queries).get("table_stats")
    if failed:
        raise CheckSkipped(f"table statistics could not be read: {failed}")


_IDENT = re.compile(r'^(?:"((?:[^"]|"")+)"|([a-z_][a-z0-9_$]*))$')


def partition_key_column(rel: Relation) -> tuple[str, Column] | None:
    """(strategy, column) when `rel` is partitioned by one plain column, else None (expressions, several
    columns, a non-default operator class or collation)."""
    found = re.fullmatch(r"(RANGE|LIST|HASH) \((.+)\)", rel.partition_key or "")
    if not found:
        return None
    name = _IDENT.match(found.group(2))
    if not name:
        return None
    column = rel.column_named(name.group(1).replace('""', '"') if name.group(1) else name.group(2))
    return (found.group(1), column) if column is not None else None


# --------------------------------------------------------------------------------------------------
# high_seq_scan_ratio
# --------------------------------------------------------------------------------------------------


def _leaves(snapshot: Snapshot, rel: Relation) -> list[Relation]:
    """The relation itself, or for a partitioned table every leaf partition below it."""
    if rel.kind != "p":
        return [rel]
    return [leaf for part in _partitions(snapshot, rel) for leaf in _leaves(snapshot, part)]


@check(
    "high_seq_scan_ratio",
    "Table read mostly by sequential scans",
    Level.INFO,
    Category.PERFORMANCE,
    description=(
        "A table of more than 10,000 rows on which sequential scans outnumber index scans, with at least 10 "
        "sequential scans that each read 1,000 rows or more on average (thresholds configurable)."
    ),
    rationale=(
        "Each sequential scan reads the whole table. On a large table that is usually a query filtering or "
        "joining on columns no index serves: it gets slower as the table grows, evicts useful pages from the "
        "cache and competes with every other query for I/O. Reports and batch jobs that really need every row "
        "are the legitimate exception."
    ),
    remediation=(
        "Find the statements that scan the table (pg_stat_statements, or the slow query log) and check their "
        "plans with EXPLAIN (ANALYZE, BUFFERS); index the columns they filter or join on, with CREATE INDEX "
        "CONCURRENTLY. Leave it as is when the scans come from reports that read the whole table anyway."
    ),
)
def high_seq_scan_ratio(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    _require_table_stats(snapshot)
    age = require_stats_age(snapshot, config)
    min_rows = int(config.threshold("high_seq_scan_ratio.min_rows", 10_000))
    min_scans = int(config.threshold("high_seq_scan_ratio.min_seq_scans", 10))
    min_read = int(config.threshold("high_seq_scan_ratio.min_rows_per_seq_scan", 1_000))
    for rel in snapshot.relations:
        if rel.parent_oid is not None or _user_relation(snapshot, rel.oid, "rpm") is None:
            continue  # partitions are summed into their parent
        leaves = [leaf for leaf in _leaves(snapshot, rel) if leaf.stats is not None]
        if not leaves:
            continue
        seq = sum(leaf.stats.seq_scan for leaf in leaves if leaf.stats)
        idx = sum(leaf.stats.idx_scan for leaf in leaves if leaf.stats)
        read = sum(leaf.stats.seq_tup_read for leaf in leaves if leaf.stats)
        rows = sum(_rows_estimate(leaf) for leaf in leaves)
        if rows <= min_rows or seq < min_scans or seq <= idx or read / seq < min_read:
            continue
        yield spec.finding(
            relation_ref(rel),
            f"{'Partitioned table' if rel.kind == 'p' else 'Table'} {rel.qualified} (about {rows:,} rows) was "
            f"read by {seq:,} sequential scans against {idx:,} index scans in {_age_words(age)}.",
            evidence={
                "seq_scan": seq,
                "idx_scan": idx,
                "seq_scan_share": round(seq / (seq + idx), 4),
                "seq_tup_read": read,
                "avg_rows_per_seq_scan": read // seq,
                "rows_estimate": rows,
                "partitions_summed": len(leaves) if rel.kind == "p" else None,
                "indexes": [ix.name for ix in snapshot.indexes_of(rel.oid)],
                **stats_evidence(snapshot, age),
                "thresholds": {"min_rows": min_rows, "min_seq_scans": min_scans, "min_rows_per_seq_scan": min_read},
            },
        )


def _age_words(age: float | None) -> str:
    if age is None:
        return "the statistics' lifetime"
    return f"{age:.1f} days of statistics" if age >= 2 else f"{age * 24:.1f} hours of statistics"


# --------------------------------------------------------------------------------------------------
# stale_statistics
# --------------------------------------------------------------------------------------------------


@check(
    "stale_statistics",
    "Stale planner statistics",
    Level.WARN,
    Category.PERFORMANCE,
    description=(
        "A table with rows (at least 1,000 estimated, or 10 pages) that was never analyzed, or whose rows "
        "changed by more than 20 % since its last ANALYZE (thresholds configurable)."
    ),
    rationale=(
        "The planner chooses join orders, join methods and indexes from the statistics ANALYZE gathers. "
        "Without them, or with statistics describing a much smaller or different table (after a bulk load, a "
        "restore or a mass update), it misjudges row counts by orders of magnitude and picks plans that are "
        "fine on paper and disastrous in practice. Autovacuum analyzes a table after about 10 % of its rows "
        "changed, so statistics this stale mean autovacuum is off, blocked or behind."
    ),
    remediation=(
        "Run ANALYZE on the table now (it takes a light lock and can run inside a transaction), run it after "
        "every bulk load or restore, and find out why autovacuum did not: disabled for the table, or "
        "autovacuum_analyze_scale_factor too high for its size."
    ),
)
def stale_statistics(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    _require_table_stats(snapshot)
    if (snapshot.setting("track_counts") or "on") == "off":
        raise CheckSkipped("track_counts is off: the server records neither modifications nor ANALYZE times")
    min_rows = int(config.threshold("stale_statistics.min_rows", 1_000))
    min_pages = int(config.threshold("stale_statistics.min_pages", 10))
    ratio = float(config.threshold("stale_statistics.modified_ratio", 0.2))
    for rel in snapshot.relations:
        stats = rel.stats
        if stats is None or _user_relation(snapshot, rel.oid, "rm") is None:
            continue  # partitioned parents hold no rows; their partitions are judged one by one
        rows = _rows_estimate(rel)
        if rows < min_rows and rel.relpages < min_pages:
            continue
        last = max(filter(None, (stats.last_analyze, stats.last_autoanalyze)), default=None)
        modified = stats.n_mod_since_analyze
        if last is None and not stats.has_column_stats:
            reason = "never analyzed"
            detail = f"has about {rows:,} rows and has never been analyzed: the planner has no statistics for it."
        elif modified > ratio * max(rows, 1):
            reason = "modified since analyze"
            share = modified / max(rows, 1)
            since = f"its last ANALYZE ({last})" if last else "its last ANALYZE"
            detail = f"had {modified:,} row modifications since {since}, {share:.0%} of its about {rows:,} rows."
        else:
            continue
        autovacuum = rel.option("autovacuum_enabled")
        yield spec.finding(
            relation_ref(rel),
            f"Table {rel.qualified} {detail}",
            evidence={
                "reason": reason,
                "rows_estimate": rows,
                "reltuples": rel.reltuples,
                "relpages": rel.relpages,
                "n_live_tup": stats.n_live_tup,
                "n_mod_since_analyze": modified,
                "modified_ratio": round(modified / max(rows, 1), 4),
                "last_analyze": stats.last_analyze,
                "last_autoanalyze": stats.last_autoanalyze,
                "has_column_statistics": stats.has_column_stats,
                "autovacuum_enabled": autovacuum if autovacuum is not None else snapshot.setting("autovacuum"),
                "thresholds": {"min_rows": min_rows, "min_pages": min_pages, "modified_ratio": ratio},
            },
            sql=render(sql.SQL("ANALYZE {}").format(rel_ident(rel))),
        )


# --------------------------------------------------------------------------------------------------
# sequence_near_exhaustion
# --------------------------------------------------------------------------------------------------

_TYPE_RANGE = {
    "int2": (-(2**15), 2**15 - 1),
    "int4": (-(2**31), 2**31 - 1),
    "int8": (-(2**63), 2**63 - 1),
}
_TYPE_WORD = {"int2": "smallint", "int4": "integer", "int8": "bigint"}


def _fed_columns(snapshot: Snapshot, seq: Sequence) -> list[tuple[Relation, Column]]:
    """The columns a sequence feeds: its owner (serial or identity) and every column default calling it."""
    targets = list(seq.default_of)
    if seq.owned_by_table is not None and seq.owned_by_column:
        targets.insert(0, (seq.owned_by_table, seq.owned_by_column))
    out: list[tuple[Relation, Column]] = []
    for table_oid, attnum in dict.fromkeys(targets):
        rel = snapshot.relation(table_oid)
        col = rel.column(attnum) if rel else None
        if rel is not None and col is not None and rel.parent_oid is None:  # partitions follow their parent
            out.append((rel, col))
    return out


def _referencing_columns(snapshot: Snapshot, rel: Relation, col: Column) -> list[tuple[Relation, Column]]:
    """Columns of foreign keys that reference `rel.col` (clones on partitions excluded)."""
    out = []
    for con in snapshot.constraints:
        if con.type != "f" or con.parent_oid is not None or con.ref_table_oid != rel.oid:
            continue
        for attnum, ref in zip(con.columns, con.ref_columns, strict=False):
            child = snapshot.relation(con.table_oid)
            child_col = child.column(attnum) if child else None
            if ref == col.attnum and child is not None and child_col is not None:
                out.append((child, child_col))
    return out


@check(
    "sequence_near_exhaustion",
    "Sequence near exhaustion",
    Level.WARN,
    Category.RELIABILITY,
    description=(
        "A sequence (serial or identity) that has used more than 75 % of its range, measured against the "
        "smaller of its own maximum and the maximum of the column types it feeds (threshold configurable). "
        "Sequences the auditing role may not read, never-used and CYCLE sequences are not evaluated."
    ),
    rationale=(
        "When a sequence reaches its limit every INSERT that needs a new value fails. A bigint sequence "
        "feeding an integer column fails earlier still, with an out-of-range error at 2,147,483,647. Widening "
        "a column of a large table rewrites it under an exclusive lock, which needs planning: the time to act "
        "is well before the last values are used."
    ),
    remediation=(
        "Widen the column to bigint (ALTER TABLE ... ALTER COLUMN ... TYPE bigint rewrites the table under an "
        "ACCESS EXCLUSIVE lock: plan a maintenance window, or migrate through a new column) together with the "
        "foreign key columns that reference it, and make the sequence bigint (ALTER SEQUENCE ... AS bigint)."
    ),
)
def sequence_near_exhaustion(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    threshold = float(config.threshold("sequence_near_exhaustion.ratio", 0.75))
    for seq in snapshot.sequences:
        if seq.last_value is None or seq.cycle or seq.increment == 0:
            continue  # never used, unreadable (privileges), or wrapping around by design
        fed = _fed_columns(snapshot, seq)
        owner = snapshot.relation(seq.owned_by_table) if seq.owned_by_table else None
        if not is_user_object(snapshot, seq.schema, owner.extension if owner else None):
            continue
        ascending = seq.increment > 0
        limit = seq.max_value if ascending else seq.min_value
        limited_by: tuple[Relation, Column] | None = None
        for rel, col in fed:
            bounds = _TYPE_RANGE.get(col.type_name)
            if bounds is None:
                continue
            bound = bounds[1] if ascending else bounds[0]
            if (ascending and bound <= limit) or (not ascending and bound >= limit):
                limit, limited_by = bound, (rel, col)  # on a tie the column is named: it must be widened too
        narrow = [(rel, col) for rel, col in fed if col.type_name in ("int2", "int4")]
        origin = seq.min_value if ascending else seq.max_value
        span = abs(limit - origin)
        used = abs(seq.last_value - origin) / span if span else 1.0
        if used <= threshold:
            continue
        remaining = abs(limit - seq.last_value) // abs(seq.increment)
        by = (
            f"column {limited_by[0].qualified}.{limited_by[1].name} ({_TYPE_WORD[limited_by[1].type_name]})"
            if limited_by
            else f"the sequence's own {'maximum' if ascending else 'minimum'}"
        )
        yield spec.finding(
            sequence_ref(seq),
            f"Sequence {seq.qualified} has used {used:.0%} of its range (last value {seq.last_value:,}, limit "
            f"{limit:,} set by {by}); about {remaining:,} values remain.",
            evidence={
                "last_value": seq.last_value,
                "data_type": seq.data_type,
                "increment": seq.increment,
                "sequence_limit": seq.max_value if ascending else seq.min_value,
                "limit": limit,
                "limited_by": by,
                "used_ratio": round(used, 4),
                "remaining_values": remaining,
                "columns": [f"{rel.qualified}.{col.name} ({col.type})" for rel, col in fed],
                "referencing_columns": [
                    f"{child.qualified}.{child_col.name} ({child_col.type})"
                    for rel, col in narrow
                    for child, child_col in _referencing_columns(snapshot, rel, col)
                ],
                "threshold": threshold,
            },
            sql=_widen_script(snapshot, seq, narrow, ascending),
        )


def _widen_script(snapshot: Snapshot, seq: Sequence, narrow: list[tuple[Relation, Column]], ascending: bool) -> str:
    """bigint for the narrow columns (and the foreign key columns referencing them) and for the sequence,
    whose explicit MAXVALUE (MINVALUE when descending) is dropped."""
    statements: list[sql.Composable] = []
    header = ""
    columns: list[tuple[Relation, Column]] = []
    for rel, col in narrow:
        columns.append((rel, col))
        columns.extend(
            (child, child_col)
            for child, child_col in _referencing_columns(snapshot, rel, col)
            if child_col.type_name in ("int2", "int4")
        )
    for rel, col in dict.fromkeys(columns):
        statements.append(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE bigint").format(rel_ident(rel), sql.Identifier(col.name))
        )
    if statements:
        header = "-- Each ALTER COLUMN ... TYPE rewrites its table under an ACCESS EXCLUSIVE lock: plan a window.\n"
    options = []
    if seq.data_type != "bigint":
        options.append(sql.SQL("AS bigint"))
    own = _TYPE_RANGE.get({v: k for k, v in _TYPE_WORD.items()}.get(seq.data_type, ""))
    if own is not None and (seq.max_value != own[1] if ascending else seq.min_value != own[0]):
        options.append(sql.SQL("NO MAXVALUE" if ascending else "NO MINVALUE"))
    if options:
        statements.append(sql.SQL("ALTER SEQUENCE {} {}").format(rel_ident(seq), sql.SQL(" ").join(options)))
    return header + render(*statements) if statements else ""


# --------------------------------------------------------------------------------------------------
# partition_default_rows
# --------------------------------------------------------------------------------------------------


@check(
    "partition_default_rows",
    "Rows in a DEFAULT partition",
    Level.WARN,
    Category.MAINTENANCE,
    description="A DEFAULT partition that holds rows (counted by a bounded probe, up to 10,000).",
    rationale=(
        "The DEFAULT partition catches rows no other partition accepts, typically because the partition for "
        "their period or value was never created. Queries for those rows cannot be pruned to one partition, "
        "and creating the missing partition later fails while the DEFAULT partition holds rows that belong "
        "to it: each new partition then requires moving data under lock."
    ),
    remediation=(
        "Find which keys the rows have (the query below), then for each missing range or value: detach the "
        "DEFAULT partition, create the proper partition, move the rows (INSERT INTO the parent SELECT ... "
        "FROM the detached table, then DELETE them from it) and attach the DEFAULT partition again, in one "
        "transaction. Create future partitions ahead of time so it stays empty."
    ),
    requires=("default_partition_rows",),
)
def partition_default_rows(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    probe = snapshot.probe("default_partition_rows")
    assert probe is not None
    min_rows = int(config.threshold("partition_default_rows.min_rows", 1))
    for row in probe.rows:
        rel = _user_relation(snapshot, int(row["oid"]), "rpf")
        parent = snapshot.relation(rel.parent_oid) if rel and rel.parent_oid else None
        if rel is None or parent is None or row["rows"] is None or row["rows"] < min_rows:
            continue
        count = f"more than {row['rows']:,}" if row["capped"] else f"{row['rows']:,}"
        key = partition_key_column(parent)
        script = None
        if key is not None and key[0] == "RANGE":
            col = sql.Identifier(key[1].name)
            script = "-- The range of keys in the DEFAULT partition: create partitions covering it.\n" + render(
                sql.SQL("SELECT pg_catalog.min({}), pg_catalog.max({}), pg_catalog.count(*) FROM {}").format(
                    col, col, rel_ident(rel)
                )
            )
        elif key is not None and key[0] == "LIST":
            col = sql.Identifier(key[1].name)
            script = "-- The keys in the DEFAULT partition: create a partition for each.\n" + render(
                sql.SQL("SELECT {}, pg_catalog.count(*) FROM {} GROUP BY 1 ORDER BY 2 DESC").format(col, rel_ident(rel))
            )
        yield spec.finding(
            relation_ref(rel),
            f"DEFAULT partition {rel.qualified} of {parent.qualified} holds {count} rows.",
            evidence={
                "parent": parent.qualified,
                "partition_key": parent.partition_key,
                "rows_counted": row["rows"],
                "more_than_counted": row["capped"],
                "rows_estimate": _rows_estimate(rel),
                "size_bytes": rel.size_bytes,
                "partitions": len(_partitions(snapshot, parent)),
            },
            sql=script,
        )


# --------------------------------------------------------------------------------------------------
# missing_future_partition
# --------------------------------------------------------------------------------------------------

_RANGE_BOUND = re.compile(r"FOR VALUES FROM \((.+)\) TO \((.+)\)")
_LITERAL = re.compile(r"'([^']*)'")
_UNBOUNDED: Literal["unbounded"] = "unbounded"


def _bound(text: str, kind: str) -> datetime | Literal["unbounded"] | None:
    """A range bound: a datetime (naive for date and timestamp keys), _UNBOUNDED for MINVALUE/MAXVALUE and
    ±infinity, or None when it cannot be read (a DateStyle other than ISO, a BC date, a multi-column key)."""
    text = text.strip()
    if text in ("MINVALUE", "MAXVALUE"):
        return _UNBOUNDED
    literal = _LITERAL.fullmatch(text)
    if not literal:
        return None
    value = literal.group(1)
    if value in ("infinity", "-infinity"):
        return _UNBOUNDED
    try:
        if kind == "date":
            return datetime.combine(date.fromisoformat(value), datetime.min.time())
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if (parsed.tzinfo is not None) == (kind == "timestamptz") else None


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class _Range:
    """One partition's range; None stands for an unbounded end (MINVALUE, MAXVALUE)."""

    lower: datetime | None
    upper: datetime | None
    partition: Relation

    def contains(self, moment: datetime) -> bool:
        return (self.lower is None or self.lower <= moment) and (self.upper is None or moment < self.upper)


@dataclass(frozen=True, slots=True)
class _Step:
    """The spacing of a partition scheme: whole months, or a fixed interval."""

    months: int = 0
    delta: timedelta = timedelta(0)

    def at(self, anchor: datetime, k: int) -> datetime:
        """The k-th bound after `anchor` (months are added to the anchor, so a day 31 does not drift)."""
        return _add_months(anchor, k * self.months) if self.months else anchor + k * self.delta

    def index_after(self, anchor: datetime, moment: datetime) -> int:
        """The smallest k whose bound `at(anchor, k)` lies after `moment`."""
        if self.months:
            k = ((moment.year - anchor.year) * 12 + moment.month - anchor.month) // self.months
        else:
            k = (moment - anchor) // self.delta
        while self.at(anchor, k) <= moment:
            k += 1
        while self.at(anchor, k - 1) > moment:
            k -= 1
        return k

    @property
    def label(self) -> str:
        if self.months:
            return {1: "monthly", 3: "quarterly", 12: "yearly"}.get(self.months, f"every {self.months} months")
        return {timedelta(days=1): "daily", timedelta(days=7): "weekly"}.get(self.delta, f"every {self.delta}")

    @property
    def name_format(self) -> str:
        """strftime format of the suffix of a new partition's name: as coarse as the period allows."""
        if self.months:
            return "%Y" if self.months % 12 == 0 else "%Y_%m"
        return "%Y_%m_%d" if self.delta % timedelta(days=1) == timedelta(0) else "%Y_%m_%d_%H%M"


def _step(lower: datetime, upper: datetime) -> _Step | None:
    """The spacing of one partition: whole months when both bounds fall on the same day and time of month."""
    months = (upper.year - lower.year) * 12 + upper.month - lower.month
    if months > 0 and _add_months(lower, months) == upper:
        return _Step(months=months)
    return _Step(delta=upper - lower) if upper > lower else None


def _ranges(parts: list[Relation], kind: str) -> tuple[list[_Range], bool] | None:
    """The partitions' ranges and whether a DEFAULT partition exists; None when a bound cannot be read."""
    ranges, has_default = [], False
    for part in parts:
        if part.partition_bound == "DEFAULT":
            has_default = True
            continue
        found = _RANGE_BOUND.fullmatch(part.partition_bound or "")
        if not found:
            return None
        lower, upper = _bound(found.group(1), kind), _bound(found.group(2), kind)
        if lower is None or upper is None:
            return None
        ranges.append(
            _Range(lower if isinstance(lower, datetime) else None, upper if isinstance(upper, datetime) else None, part)
        )
    return ranges, has_default


def _literal(moment: datetime, kind: str) -> sql.Literal:
    return sql.Literal(moment.date().isoformat() if kind == "date" else moment.isoformat(sep=" "))


def _missing_periods(
    ranges: list[_Range], latest: _Range, step: _Step, now: datetime
) -> tuple[list[tuple[datetime, datetime]], bool]:
    """The periods to create — the next one, or the current and the next when even now is not covered —
    and whether periods between the last partition and now are left without one. Empty when covered.

    Periods follow the grid of the latest partition: its lower bound plus whole steps."""
    assert latest.lower is not None and latest.upper is not None
    anchor = latest.lower
    current = next((r for r in ranges if r.contains(now)), None)
    if current is not None:
        assert current.upper is not None  # ranges open towards MAXVALUE were excluded
        if any(r.contains(current.upper) for r in ranges):
            return [], False
        return [(current.upper, step.at(anchor, step.index_after(anchor, current.upper)))], False
    if latest.upper > now:
        return [], False  # now falls in a hole before the last partition: not a question of the future
    k = step.index_after(anchor, now)
    periods = [(step.at(anchor, k - 1), step.at(anchor, k)), (step.at(anchor, k), step.at(anchor, k + 1))]
    return periods, step.at(anchor, k - 1) > latest.upper


def _partition_name(rel: Relation, lower: datetime, step: _Step, used: set[str]) -> str:
    base = _truncate(f"{rel.name}_{lower.strftime(step.name_format)}", NAMEDATALEN - 4)
    name, n = base, 0
    while name in used:
        n += 1
        name = f"{base}_{n}"
    used.add(name)
    return name


@check(
    "missing_future_partition",
    "No partition for the next period",
    Level.WARN,
    Category.RELIABILITY,
    description=(
        "A table range-partitioned by one date or timestamp column with no partition for the period after the "
        "current one (the period is inferred from the spacing of the latest partition: daily, weekly, monthly, "
        "yearly...; the current period is the one containing the audit's time)."
    ),
    rationale=(
        "Rows are routed by their key: once time passes the last partition's upper bound, every INSERT for "
        "the new period fails with 'no partition of relation found for row', or lands in the DEFAULT "
        "partition, which then blocks creating the right partition later. Partitions must exist before their "
        "period starts."
    ),
    remediation=(
        "Create the next partition(s) now (the statements follow the existing spacing; bounds of timestamptz "
        "keys are written in UTC) and schedule their creation ahead of time, with pg_partman or a pg_cron job."
    ),
)
def missing_future_partition(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    taken: dict[str, set[str]] = {}
    collected = datetime.fromisoformat(snapshot.collected_at.replace("Z", "+00:00"))
    for rel in snapshot.relations:
        if rel.kind != "p" or _user_relation(snapshot, rel.oid, "p") is None:
            continue
        key = partition_key_column(rel)
        if key is None or key[0] != "RANGE" or key[1].type_name not in TIME_TYPES:
            continue
        kind = key[1].type_name
        parts = _partitions(snapshot, rel)
        found = _ranges(parts, kind)
        if found is None:
            continue  # a bound we cannot read: say nothing rather than something wrong
        ranges, has_default = found
        if not ranges or any(r.upper is None for r in ranges):
            continue  # nothing to infer from, or an open-ended last partition takes every future row
        latest = max(ranges, key=lambda r: r.upper or datetime.min)
        step = _step(latest.lower, latest.upper) if latest.lower and latest.upper else None
        if step is None:
            continue
        now = collected if kind == "timestamptz" else collected.astimezone(UTC).replace(tzinfo=None)
        periods, gap = _missing_periods(ranges, latest, step, now)
        if not periods:
            continue
        if not taken:
            taken.update(_names_in_use(snapshot))
        used = taken.setdefault(rel.schema, set())
        names = [_partition_name(rel, lower, step, used) for lower, _ in periods]
        statements = [
            sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier(rel.schema, name), rel_ident(rel), _literal(lower, kind), _literal(upper, kind)
            )
            for name, (lower, upper) in zip(names, periods, strict=True)
        ]
        notes = []
        if gap:
            notes.append("-- Periods between the last partition and now stay without a partition: add them if needed.")
        if has_default:
            notes.append("-- With a DEFAULT partition, each CREATE fails while it holds rows of the new range.")
        if latest.partition.kind == "p":
            notes.append("-- The existing partitions are sub-partitioned: add their PARTITION BY clause.")
        assert latest.upper is not None
        last = latest.upper.date().isoformat() if kind == "date" else latest.upper.isoformat(sep=" ")
        state = (
            "no partition covers the current period"
            if len(periods) == 2
            else f"no partition follows the current one, which ends at {last}"
        )
        yield spec.finding(
            relation_ref(rel),
            f"Partitioned table {rel.qualified} ({step.label} partitions on {key[1].name}): {state}.",
            evidence={
                "partition_key": rel.partition_key,
                "period": step.label,
                "latest_partition": latest.partition.qualified,
                "latest_bound": last,
                "collected_at": snapshot.collected_at,
                "current_period_covered": len(periods) == 1,
                "has_default_partition": has_default,
                "partitions": len(parts),
                "proposed_partitions": names,
            },
            sql="".join(n + "\n" for n in notes) + render(*statements),
        )


# --------------------------------------------------------------------------------------------------
# unbounded_log_table
# --------------------------------------------------------------------------------------------------

_TIME_COLUMN_HINTS = ("created_at", "inserted_at", "logged_at", "occurred_at", "timestamp", "ts", "at", "time")


@check(
    "unbounded_log_table",
    "Large unpartitioned log table",
    Level.INFO,
    Category.MAINTENANCE,
    description=(
        "A table named like a log, event, audit or history table (configurable patterns) larger than 32 MB "
        "(configurable), with a timestamp column, that is not partitioned."
    ),
    rationale=(
        "Log-like tables only grow. Without retention they end up dominating the database: backups, restores "
        "and replicas slow down, vacuum and index maintenance take longer, and deleting old rows in bulk "
        "later creates the bloat and lock pressure a routine cleanup would have avoided."
    ),
    remediation=(
        "Decide on a retention period. Then either delete old rows in small batches on a schedule (pg_cron), "
        "with an index on the timestamp column, or convert the table to one range-partitioned by the "
        "timestamp so that old periods are dropped instantly with DROP TABLE or DETACH PARTITION."
    ),
)
def unbounded_log_table(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    min_bytes = int(config.threshold("unbounded_log_table.min_bytes", 32 * 1024 * 1024))
    patterns = config.log_table_patterns
    for rel in snapshot.relations:
        if rel.kind != "r" or rel.parent_oid is not None or _user_relation(snapshot, rel.oid, "r") is None:
            continue
        if rel.size_bytes < min_bytes or not matches_any(rel.name, patterns):
            continue
        times = [c for c in rel.columns if c.type_name in TIME_TYPES]
        if not times:
            continue
        times.sort(key=lambda c: (c.name not in _TIME_COLUMN_HINTS, c.attnum))
        indexed = {
            col.name
            for ix in snapshot.indexes_of(rel.oid)
            if ix.key_columns and (col := rel.column(ix.key_columns[0])) is not None
        }
        yield spec.finding(
            relation_ref(rel),
            f"Log-like table {rel.qualified} is {rel.size_bytes / 1024 / 1024:.0f} MB, not partitioned, "
            f"and grows by time ({times[0].name}).",
            evidence={
                "size_bytes": rel.size_bytes,
                "rows_estimate": _rows_estimate(rel),
                "timestamp_columns": [c.name for c in times],
                "timestamp_columns_leading_an_index": [c.name for c in times if c.name in indexed],
                "patterns": [p for p in patterns if matches_any(rel.name, [p])],
                "min_bytes": min_bytes,
            },
        )


# --------------------------------------------------------------------------------------------------
# autovacuum_disabled
# --------------------------------------------------------------------------------------------------


def _is_off(value: str | None) -> bool:
    """A PostgreSQL boolean that reads as false (parse_bool: any prefix of false/no, of/off, 0)."""
    v = (value or "").strip().lower()
    if not v:
        return False
    return v == "0" or "false".startswith(v) or "no".startswith(v) or (len(v) > 1 and "off".startswith(v))


_SERVER_SWITCHES = {
    "autovacuum": "the autovacuum launcher is off for the whole server",
    "track_counts": "track_counts is off, so autovacuum has no statistics to act on (and stays idle)",
}


@check(
    "autovacuum_disabled",
    "Autovacuum disabled",
    Level.INFO,
    Category.MAINTENANCE,
    description=(
        "A table has autovacuum_enabled=false as a storage parameter, or autovacuum is off for the whole "
        "server (autovacuum or track_counts off: warn)."
    ),
    rationale=(
        "Without autovacuum nothing reclaims the dead row versions UPDATE and DELETE leave behind, and nothing "
        "refreshes the planner statistics: the table bloats, its indexes with it, and plans degrade as the data "
        "changes. Only the anti-wraparound vacuum still runs, late and all at once. A bulk-loaded staging table "
        "or a table vacuumed by a scheduled job may have it off on purpose: then say so in the review."
    ),
    remediation=(
        "Reset the storage parameter (the table then follows the server's autovacuum settings, which can be "
        "tuned per table instead: autovacuum_vacuum_scale_factor, autovacuum_vacuum_cost_limit). For the server, "
        "set autovacuum and track_counts back on in postgresql.conf or with ALTER SYSTEM and reload."
    ),
)
def autovacuum_disabled(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for name, why in _SERVER_SWITCHES.items():
        value = snapshot.setting(name)
        if value is None or not _is_off(value):
            continue
        yield spec.finding(
            ObjectRef("setting", f"setting:{name}", None, None, name),
            f"Autovacuum does not run: {why}.",
            level=Level.WARN,
            evidence={"setting": name, "value": value, **_NOT_TRANSACTIONAL},
            sql=comment("ALTER SYSTEM cannot run inside a transaction block: run it on its own (autocommit).")
            + render(
                sql.SQL("ALTER SYSTEM SET {} = on").format(sql.Identifier(name)),
                sql.SQL("SELECT pg_catalog.pg_reload_conf()"),
            ),
        )
    for rel in snapshot.relations:
        value = rel.option("autovacuum_enabled")
        if value is None or not _is_off(value) or _user_relation(snapshot, rel.oid, "rm") is None:
            continue
        kind = "materialized view" if rel.kind == "m" else "table"
        stats = rel.stats
        yield spec.finding(
            relation_ref(rel),
            f"Autovacuum is disabled on {kind} {rel.qualified} (autovacuum_enabled={value}).",
            evidence={
                "options": list(rel.options),
                "size_bytes": rel.size_bytes,
                "rows_estimate": _rows_estimate(rel),
                "n_dead_tup": stats.n_dead_tup if stats else None,
                "last_vacuum": stats.last_vacuum if stats else None,
                "last_analyze": stats.last_analyze if stats else None,
            },
            sql=render(
                sql.SQL("ALTER {} {} RESET (autovacuum_enabled)").format(
                    sql.SQL("MATERIALIZED VIEW" if rel.kind == "m" else "TABLE"), rel_ident(rel)
                )
            ),
        )
