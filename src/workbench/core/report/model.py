"""The review report as pure data: what every format (JSON, Markdown, SARIF, PDF) renders.

`workbench.core.report.build` makes a `ReportModel` from a review (the store's `ReviewState` and the snapshot of
its latest run) or from a bare `AuditResult`. The JSON form of the content (`report_json.report_content`) is the
source of truth; its canonical SHA-256 together with the review's content hash is the report hash
(`signing.report_hash`), kept in `ReportModel.signature`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.core.model import Category, Finding, Level
from workbench.core.report.compare_render import Comparison

FORMAT_NAME = "workbench-report"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class TitleBlock:
    title: str
    database: str
    environment: str | None  # from the review's connection profile (development, staging, production)
    target: str | None  # user@host:port/db or the snapshot file, never a secret
    server_version: str
    snapshot_at: str
    audited_as: str
    review: str | None  # the review's name; None for a bare audit
    reviewer: str | None  # who signed it off, else who made the decisions
    run: str | None  # "#2 started 2026-…"
    generated_at: str
    tool_version: str


@dataclass(frozen=True, slots=True)
class SummaryRow:
    area: str
    category: str | None  # None for rows that are not a check category (e.g. "Not checked")
    status: str
    level: str  # ERROR, WARN, INFO, OK, or "—"
    total: int
    open: int


@dataclass(frozen=True, slots=True)
class Summary:
    headline: str
    counts: dict[str, int]  # per level, all findings of the run
    open_counts: dict[str, int]  # per level, findings still to deal with
    rows: tuple[SummaryRow, ...]
    checks_run: int
    checks_skipped: int
    since_previous_run: str | None


@dataclass(frozen=True, slots=True)
class DecisionNote:
    status: str
    reviewer: str
    decided_at: str
    note: str
    deferred_until: str | None = None


@dataclass(frozen=True, slots=True)
class FindingEntry:
    number: str  # F1, F2, … in report order
    finding: Finding
    status: str  # effective status: open, fixed, accepted_risk, deferred, false_positive
    status_label: str  # e.g. "deferred until 2026-12-01"
    decision: DecisionNote | None = None

    @property
    def open(self) -> bool:
        return self.status in ("open", "fixed")


@dataclass(frozen=True, slots=True)
class CheckGroup:
    check: str
    title: str
    description: str
    rationale: str
    remediation: str
    entries: tuple[FindingEntry, ...]


@dataclass(frozen=True, slots=True)
class CategoryGroup:
    category: Category
    title: str
    checks: tuple[CheckGroup, ...]

    @property
    def count(self) -> int:
        return sum(len(c.entries) for c in self.checks)


@dataclass(frozen=True, slots=True)
class LevelGroup:
    level: Level
    title: str
    categories: tuple[CategoryGroup, ...]

    @property
    def count(self) -> int:
        return sum(c.count for c in self.categories)


@dataclass(frozen=True, slots=True)
class PlanItem:
    id: str  # S1, R2, P3, D1
    check: str
    title: str
    level: str
    count: int
    objects: tuple[str, ...]
    action: str
    status: str


@dataclass(frozen=True, slots=True)
class PlanTier:
    key: str  # security, reliability, performance, deferred
    title: str
    when: str
    description: str
    items: tuple[PlanItem, ...]


@dataclass(frozen=True, slots=True)
class DecisionEntry:
    decided_at: str
    fingerprint: str
    status: str
    reviewer: str
    note: str
    deferred_until: str | None = None
    verified_at: str | None = None
    source_review: str | None = None


@dataclass(frozen=True, slots=True)
class NotCheckedEntry:
    kind: str  # check, catalog query, probe, not selected, ignored
    name: str
    title: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChecklistEntry:
    key: str
    section: str
    text: str
    ticked: bool
    automatic: bool
    who: str | None
    at: str | None
    note: str


@dataclass(frozen=True, slots=True)
class SignOffEntry:
    reviewer: str
    role: str
    statement: str
    signed_at: str
    content_hash: str
    superseded: bool


@dataclass(frozen=True, slots=True)
class SignOffBlock:
    status: str  # signed, draft (never signed, or a bare audit), superseded (changed since the last sign-off)
    current: SignOffEntry | None
    history: tuple[SignOffEntry, ...]

    @property
    def signed(self) -> bool:
        return self.status == "signed" and self.current is not None


@dataclass(frozen=True, slots=True)
class TableRow:
    name: str
    kind: str  # table, partitioned table, materialized view, foreign table
    size_bytes: int
    rows: int  # estimate; -1 when never analysed
    rls: str  # off, enabled, forced
    policies: int
    partitions: int


@dataclass(frozen=True, slots=True)
class IndexRow:
    name: str
    table: str
    method: str
    columns: str  # the part of the definition after USING method
    unique: bool
    primary: bool
    valid: bool
    size_bytes: int
    scans: int


@dataclass(frozen=True, slots=True)
class FunctionRow:
    signature: str
    kind: str  # function, procedure
    language: str
    security: str  # definer, invoker
    volatility: str  # immutable, stable, volatile
    search_path: str  # the pinned value, or "" when not pinned
    returns: str


@dataclass(frozen=True, slots=True)
class PartitionRow:
    parent: str
    name: str
    bound: str
    size_bytes: int
    rows: int


@dataclass(frozen=True, slots=True)
class Inventory:
    tables: tuple[TableRow, ...] = ()
    indexes: tuple[IndexRow, ...] = ()
    functions: tuple[FunctionRow, ...] = ()
    partitions: tuple[PartitionRow, ...] = ()
    available: bool = True  # False when the snapshot could not be read


@dataclass(frozen=True, slots=True)
class Signature:
    algorithm: str
    report_sha256: str
    review_content_hash: str | None
    status: str  # signed, draft, superseded
    signed_by: str | None
    role: str | None
    signed_at: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "report_sha256": self.report_sha256,
            "review_content_hash": self.review_content_hash,
            "status": self.status,
            "signed_by": self.signed_by,
            "role": self.role,
            "signed_at": self.signed_at,
        }


@dataclass(frozen=True, slots=True)
class ReportModel:
    title: TitleBlock
    summary: Summary
    levels: tuple[LevelGroup, ...]
    plan: tuple[PlanTier, ...]
    decisions: tuple[DecisionEntry, ...]
    not_checked: tuple[NotCheckedEntry, ...]
    checklist: tuple[ChecklistEntry, ...]
    signoff: SignOffBlock
    inventory: Inventory
    checks_run: tuple[str, ...]
    comparison: Comparison | None = None
    content: dict[str, Any] = field(default_factory=dict)  # the canonical JSON content (set by the builder)
    signature: Signature | None = None

    @property
    def entries(self) -> tuple[FindingEntry, ...]:
        """Every finding in report order (by level, then category, then check)."""
        return tuple(e for lv in self.levels for cat in lv.categories for chk in cat.checks for e in chk.entries)

    @property
    def draft(self) -> bool:
        return not self.signoff.signed

    @property
    def report_sha256(self) -> str:
        return self.signature.report_sha256 if self.signature is not None else ""
