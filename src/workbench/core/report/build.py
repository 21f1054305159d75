"""Build a `ReportModel` from a review (store state + snapshot) or from a bare audit result."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from workbench import __version__
from workbench.core.checks.registry import REGISTRY, CheckSpec, all_checks
from workbench.core.checks.runner import AuditResult
from workbench.core.model import Category, Finding, Level, Snapshot
from workbench.core.report.audit_json import sort_findings
from workbench.core.report.compare_render import Comparison
from workbench.core.report.md_text import CATEGORY_TITLES
from workbench.core.report.model import (
    CategoryGroup,
    CheckGroup,
    ChecklistEntry,
    DecisionEntry,
    DecisionNote,
    FindingEntry,
    FunctionRow,
    IndexRow,
    Inventory,
    LevelGroup,
    NotCheckedEntry,
    PartitionRow,
    PlanItem,
    PlanTier,
    ReportModel,
    Signature,
    SignOffBlock,
    SignOffEntry,
    Summary,
    SummaryRow,
    TableRow,
    TitleBlock,
)
from workbench.core.report.report_json import report_content
from workbench.core.report.signing import report_hash
from workbench.core.review import (
    DEFAULT_ITEMS,
    ChecklistState,
    Decision,
    DecisionStatus,
    FindingStatus,
    ReviewState,
    ReviewStore,
    ReviewStoreError,
    RunInfo,
    SignOff,
    evaluate_checklist,
    fixed_label,
)

SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})
WORKBENCH_REVIEWER = "workbench"
LEVEL_TITLES = {
    Level.ERROR: "Errors: fix before production",
    Level.WARN: "Warnings: fix soon",
    Level.INFO: "Information: worth knowing",
}
# (key, title, when, description), in plan order.
TIERS: tuple[tuple[str, str, str, str], ...] = (
    ("security", "Tier 1: Security", "Fix now", "Errors and warnings that expose data or privileges."),
    (
        "reliability",
        "Tier 2: Reliability and integrity",
        "Fix this week",
        "Other errors, and warnings about integrity, reliability and migrations.",
    ),
    (
        "performance",
        "Tier 3: Performance and hygiene",
        "Fix when touching",
        "Performance and maintenance warnings, and informational findings: fix when the object is next changed.",
    ),
    (
        "deferred",
        "Tier 4: Deferred",
        "Decided",
        "Findings a reviewer deferred to a date or accepted as a risk.",
    ),
)
_TIER_PREFIX = {"security": "S", "reliability": "R", "performance": "P", "deferred": "D"}
_KIND_NAMES = {"r": "table", "p": "partitioned table", "m": "materialized view", "f": "foreign table"}
_VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}


@dataclass(frozen=True, slots=True)
class _Source:
    """What either kind of input contributes, in one shape."""

    snapshot: Snapshot | None
    database: str
    server_version: str
    started_at: str
    statuses: tuple[FindingStatus, ...]
    checks_run: tuple[str, ...]
    checks_skipped: tuple[tuple[str, str], ...]
    ignored: tuple[tuple[Finding, str], ...]
    review_name: str | None
    review_hash: str | None
    profile: dict[str, object]
    run_label: str | None
    checklist: tuple[ChecklistState, ...]
    signoffs: tuple[SignOff, ...]
    history: tuple[Decision, ...]
    resolved: tuple[Decision, ...]
    since_previous: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def build_review_report(
    state: ReviewState,
    snapshot: Snapshot | None = None,
    *,
    history: Sequence[Decision] | None = None,
    comparison: Comparison | None = None,
    generated_at: str | None = None,
) -> ReportModel:
    """The report of a review: its latest run with decisions, checklist and sign-off.

    `snapshot` is the latest run's snapshot (`ReviewStore.run_snapshot`) for the inventory and for what the
    collection could not read; `history` every decision ever recorded (`ReviewStore.decision_history`), else the
    decisions in force are logged.
    """
    run = state.latest_run
    if history is None:
        in_force = [fs.decision for fs in state.findings if fs.decision is not None] + list(state.resolved)
        history = sorted(in_force, key=lambda d: (d.decided_at, d.id))
    since = None
    if state.comparison is not None and state.previous_run is not None:
        since = f"Since run #{state.previous_run.number}: {state.comparison.summary}"
    source = _Source(
        snapshot=snapshot,
        database=run.database if run else (snapshot.database if snapshot else state.review.name),
        server_version=run.server_version if run else (snapshot.server_version if snapshot else ""),
        started_at=run.started_at if run else "",
        statuses=state.findings,
        checks_run=run.checks_run if run else (),
        checks_skipped=run.checks_skipped if run else (),
        ignored=(),
        review_name=state.review.name,
        review_hash=state.content_hash,
        profile=dict(state.review.profile),
        run_label=f"#{run.number}, started {run.started_at}" if run else None,
        checklist=state.checklist,
        signoffs=state.signoffs,
        history=tuple(history),
        resolved=state.resolved,
        since_previous=since,
    )
    return _build(source, comparison, generated_at)


def build_audit_report(
    result: AuditResult,
    *,
    comparison: Comparison | None = None,
    generated_at: str | None = None,
    target: str | None = None,
    environment: str | None = None,
) -> ReportModel:
    """The report of an audit that is not part of a review: every finding open, never signed (a draft)."""
    snap = result.snapshot
    statuses = tuple(FindingStatus(f, None, DecisionStatus.OPEN, "open") for f in sort_findings(result.findings))
    skipped = tuple((s.check, s.reason) for s in result.checks_skipped)
    run = RunInfo(
        0,
        1,
        result.started_at,
        result.started_at,
        snap.database,
        snap.server_version,
        result.findings,
        result.checks_run,
        skipped,
    )
    profile: dict[str, object] = {}
    if target:
        profile["target"] = target
    if environment:
        profile["environment"] = environment
    source = _Source(
        snapshot=snap,
        database=snap.database,
        server_version=snap.server_version,
        started_at=result.started_at,
        statuses=statuses,
        checks_run=result.checks_run,
        checks_skipped=skipped,
        ignored=result.ignored,
        review_name=None,
        review_hash=None,
        profile=profile,
        run_label=f"started {result.started_at}",
        checklist=evaluate_checklist(DEFAULT_ITEMS, run, statuses),
        signoffs=(),
        history=(),
        resolved=(),
        since_previous=None,
    )
    return _build(source, comparison, generated_at)


# --- assembly ------------------------------------------------------------------------------------------------------


def _build(src: _Source, comparison: Comparison | None, generated_at: str | None) -> ReportModel:
    all_checks()  # make sure the registry is loaded
    levels = _levels(src.statuses)
    entries = [e for lv in levels for cat in lv.categories for chk in cat.checks for e in chk.entries]
    signoff = _signoff(src.signoffs)
    model = ReportModel(
        title=_title(src, signoff, generated_at or _now()),
        summary=_summary(src, entries, signoff),
        levels=levels,
        plan=_plan(entries, src.resolved),
        decisions=tuple(_decision_entry(d) for d in src.history),
        not_checked=_not_checked(src),
        checklist=tuple(_checklist_entry(c) for c in src.checklist),
        signoff=signoff,
        inventory=inventory(src.snapshot) if src.snapshot is not None else Inventory(available=False),
        checks_run=src.checks_run,
        comparison=comparison,
    )
    content = report_content(model)
    current = signoff.current if signoff.signed else None
    signature = Signature(
        algorithm="sha256",
        report_sha256=report_hash(content, src.review_hash),
        review_content_hash=src.review_hash,
        status=signoff.status,
        signed_by=current.reviewer if current else None,
        role=current.role if current else None,
        signed_at=current.signed_at if current else None,
    )
    return dataclasses.replace(model, content=content, signature=signature)


def _spec(check: str) -> CheckSpec | None:
    entry = REGISTRY.get(check)
    return entry.spec if entry is not None else None


def _title(src: _Source, signoff: SignOffBlock, generated_at: str) -> TitleBlock:
    snap = src.snapshot
    profile = src.profile
    target = profile.get("target") or profile.get("snapshot")
    if not target and profile.get("host"):
        port = f":{profile['port']}" if profile.get("port") else ""
        user = f"{profile['user']}@" if profile.get("user") else ""
        target = f"{user}{profile['host']}{port}/{profile.get('database') or ''}"
    reviewer = signoff.current.reviewer if signoff.signed and signoff.current else None
    if reviewer is None:
        people = sorted({d.reviewer for d in src.history if d.reviewer != WORKBENCH_REVIEWER})
        reviewer = ", ".join(people) or None
    environment = profile.get("environment")
    return TitleBlock(
        title=f"Database review: {src.database}",
        database=src.database,
        environment=str(environment) if environment else None,
        target=str(target) if target else None,
        server_version=src.server_version,
        snapshot_at=snap.collected_at if snap else src.started_at,
        audited_as=snap.current_user if snap else "",
        review=src.review_name,
        reviewer=reviewer,
        run=src.run_label,
        generated_at=generated_at,
        tool_version=__version__,
    )


def _entry_for(fs: FindingStatus, number: int) -> FindingEntry:
    d = fs.decision
    note = None
    if d is not None:
        until = d.deferred_until.isoformat() if d.deferred_until else None
        note = DecisionNote(d.status.value, d.reviewer, d.decided_at, d.note, until)
    return FindingEntry(f"F{number}", fs.finding, fs.status.value, fs.label, note)


def _levels(statuses: Iterable[FindingStatus]) -> tuple[LevelGroup, ...]:
    by_fp = {fs.finding.fingerprint: fs for fs in statuses}
    grouped: dict[Level, dict[Category, dict[str, list[FindingStatus]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for f in sort_findings([fs.finding for fs in by_fp.values()]):
        grouped[f.level][f.category][f.check].append(by_fp[f.fingerprint])
    out: list[LevelGroup] = []
    number = 0
    for level in (Level.ERROR, Level.WARN, Level.INFO):
        categories: list[CategoryGroup] = []
        for category in Category:
            checks = grouped.get(level, {}).get(category)
            if not checks:
                continue
            groups: list[CheckGroup] = []
            for check_id in sorted(checks):
                items = []
                for fs in checks[check_id]:
                    number += 1
                    items.append(_entry_for(fs, number))
                spec = _spec(check_id)
                first = checks[check_id][0].finding
                groups.append(
                    CheckGroup(
                        check=check_id,
                        title=spec.title if spec else first.title,
                        description=spec.description if spec else "",
                        rationale=spec.rationale if spec else "",
                        remediation=spec.remediation if spec else "",
                        entries=tuple(items),
                    )
                )
            categories.append(CategoryGroup(category, CATEGORY_TITLES[category], tuple(groups)))
        if categories:
            out.append(LevelGroup(level, LEVEL_TITLES[level], tuple(categories)))
    return tuple(out)


def _counts(entries: Iterable[FindingEntry]) -> dict[str, int]:
    counts = Counter(e.finding.level.value for e in entries)
    return {lv.value: counts.get(lv.value, 0) for lv in Level}


def _level_parts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {lv}" for lv, n in counts.items() if n)


def _summary(src: _Source, entries: list[FindingEntry], signoff: SignOffBlock) -> Summary:
    rows: list[SummaryRow] = []
    for category in Category:
        ran = [c for c in src.checks_run if (s := _spec(c)) is not None and s.category == category]
        mine = [e for e in entries if e.finding.category == category]
        if not ran and not mine:
            continue
        open_ = [e for e in mine if e.open]
        if not mine:
            status, level = f"No findings ({len(ran)} checks)", "OK"
        else:
            status = _level_parts(_counts(mine))
            handled = Counter(e.status_label if e.status == "deferred" else e.status for e in mine if not e.open)
            if handled:
                status += f"; {len(open_)} open, " + ", ".join(
                    f"{n} {label.replace('_', ' ')}" for label, n in sorted(handled.items())
                )
            level = max(open_, key=lambda e: e.finding.level.rank).finding.level.value.upper() if open_ else "DECIDED"
        rows.append(SummaryRow(CATEGORY_TITLES[category], category.value, status, level, len(mine), len(open_)))
    if src.checks_skipped:
        names = ", ".join(c for c, _ in src.checks_skipped[:4]) + ("…" if len(src.checks_skipped) > 4 else "")
        rows.append(SummaryRow("Not checked", None, f"{len(src.checks_skipped)} checks skipped: {names}", "—", 0, 0))
    counts = _counts(entries)
    open_counts = _counts(e for e in entries if e.open)
    total_open = sum(open_counts.values())
    headline = (
        f"{len(entries)} findings ({_level_parts(counts) or 'none'}) from {len(src.checks_run)} checks; "
        f"{total_open} still open."
    )
    if signoff.signed and signoff.current is not None:
        headline += f" Signed off by {signoff.current.reviewer} on {signoff.current.signed_at[:10]}."
    elif signoff.status == "superseded":
        headline += " The last sign-off is superseded by later changes: this is a draft."
    else:
        headline += " Not signed off: this is a draft."
    return Summary(
        headline=headline,
        counts=counts,
        open_counts=open_counts,
        rows=tuple(rows),
        checks_run=len(src.checks_run),
        checks_skipped=len(src.checks_skipped),
        since_previous_run=src.since_previous,
    )


# --- remediation plan ----------------------------------------------------------------------------------------------


def tier_of(level: Level, category: Category, status: str) -> str | None:
    """The plan tier of a finding from its level, category and decision; None when it needs no work."""
    if status == DecisionStatus.FALSE_POSITIVE.value:
        return None
    if status in (DecisionStatus.DEFERRED.value, DecisionStatus.ACCEPTED_RISK.value):
        return "deferred"
    if category is Category.SECURITY and level in (Level.ERROR, Level.WARN):
        return "security"
    if level is Level.ERROR:
        return "reliability"
    if level is Level.WARN and category in (Category.RELIABILITY, Category.INTEGRITY, Category.MIGRATIONS):
        return "reliability"
    return "performance"


_SENTENCE_END = re.compile(r"(?<=[.;:])\s+(?=[A-Z])")
_STATUS_ORDER = {"open": 0, "claimed fixed, still reported": 1, "accepted risk": 3}


def _plan_status(e: FindingEntry) -> str:
    if e.status == DecisionStatus.FIXED.value:
        return "claimed fixed, still reported"
    if e.status == DecisionStatus.ACCEPTED_RISK.value:
        return "accepted risk"
    if e.status == DecisionStatus.DEFERRED.value:
        return e.status_label
    return "open"


def first_sentence(spec: CheckSpec | None) -> str:
    """The first sentence of a check's remediation text: the plan's one-line action."""
    if spec is None:
        return ""
    return _SENTENCE_END.split(spec.remediation.strip(), maxsplit=1)[0]


def _plan(entries: list[FindingEntry], resolved: Iterable[Decision]) -> tuple[PlanTier, ...]:
    # (tier, check, status) -> [(level, object, title, action)]
    groups: dict[tuple[str, str, str], list[tuple[Level, str, str, str]]] = defaultdict(list)
    for e in entries:
        tier = tier_of(e.finding.level, e.finding.category, e.status)
        if tier is None:
            continue
        spec = _spec(e.finding.check)
        groups[(tier, e.finding.check, _plan_status(e))].append(
            (e.finding.level, e.finding.key, spec.title if spec else e.finding.title, first_sentence(spec))
        )
    for d in resolved:
        check, _, key = d.fingerprint.partition(":")
        spec = _spec(check)
        if spec is None:
            continue
        tier = tier_of(spec.level, spec.category, "open") or "performance"
        groups[(tier, check, fixed_label(d))].append((spec.level, key, spec.title, first_sentence(spec)))
    tiers: list[PlanTier] = []
    for key, title, when, description in TIERS:
        mine = [(k, v) for k, v in groups.items() if k[0] == key]
        mine.sort(
            key=lambda kv: (
                -max(x[0].rank for x in kv[1]),
                kv[0][2].startswith("fixed"),
                _STATUS_ORDER.get(kv[0][2], 2),
                kv[0][1],
                kv[0][2],
            )
        )
        items = []
        for n, ((_tier, check, status), rows) in enumerate(mine, 1):
            items.append(
                PlanItem(
                    id=f"{_TIER_PREFIX[key]}{n}",
                    check=check,
                    title=rows[0][2],
                    level=max((r[0] for r in rows), key=lambda lv: lv.rank).value,
                    count=len(rows),
                    objects=tuple(sorted({r[1] for r in rows})),
                    action=rows[0][3],
                    status=status,
                )
            )
        tiers.append(PlanTier(key, title, when, description, tuple(items)))
    return tuple(tiers)


# --- decisions, not checked, checklist, sign-off ----------------------------------------------------------------


def _decision_entry(d: Decision) -> DecisionEntry:
    return DecisionEntry(
        decided_at=d.decided_at,
        fingerprint=d.fingerprint,
        status=d.status.value,
        reviewer=d.reviewer,
        note=d.note,
        deferred_until=d.deferred_until.isoformat() if d.deferred_until else None,
        verified_at=d.verified_at,
        source_review=d.source_review,
    )


def _not_checked(src: _Source) -> tuple[NotCheckedEntry, ...]:
    out: list[NotCheckedEntry] = []
    for check, reason in src.checks_skipped:
        spec = _spec(check)
        out.append(NotCheckedEntry("check", check, spec.title if spec else check, reason))
    snap = src.snapshot
    if snap is not None:
        for query, reason in snap.skipped_queries:
            out.append(NotCheckedEntry("catalog query", query, query.replace("_", " "), reason))
        for probe in snap.probes:
            if probe.skipped:
                out.append(NotCheckedEntry("probe", probe.name, probe.name.replace("_", " "), probe.skipped))
    if src.checks_run:
        accounted = set(src.checks_run) | {c for c, _ in src.checks_skipped}
        for chk in all_checks():
            if chk.spec.id not in accounted and chk.spec.category is not Category.MIGRATIONS:
                out.append(
                    NotCheckedEntry("not selected", chk.spec.id, chk.spec.title, "not selected for this audit run")
                )
    for finding, reason in src.ignored:
        out.append(NotCheckedEntry("ignored", finding.fingerprint, finding.title, reason))
    return tuple(out)


def _checklist_entry(c: ChecklistState) -> ChecklistEntry:
    return ChecklistEntry(
        key=c.item.key,
        section=c.item.section,
        text=c.item.text,
        ticked=c.ticked,
        automatic=c.item.automatic,
        who=c.who,
        at=c.at,
        note=c.note,
    )


def _signoff_entry(s: SignOff) -> SignOffEntry:
    return SignOffEntry(s.reviewer, s.role, s.statement, s.signed_at, s.content_hash, s.superseded)


def _signoff(signoffs: Sequence[SignOff]) -> SignOffBlock:
    history = tuple(_signoff_entry(s) for s in signoffs)
    if not history:
        return SignOffBlock("draft", None, ())
    last = history[-1]
    if last.superseded:
        return SignOffBlock("superseded", None, history)
    return SignOffBlock("signed", last, history)


# --- inventory -----------------------------------------------------------------------------------------------------


def _user_schema(name: str) -> bool:
    return name not in SYSTEM_SCHEMAS and not name.startswith("pg_")


def inventory(snapshot: Snapshot) -> Inventory:
    """The appendix: user tables (size, rows, RLS, policies), indexes, functions and partitions."""
    children: dict[int, list[int]] = defaultdict(list)
    for rel in snapshot.relations:
        if rel.parent_oid is not None:
            children[rel.parent_oid].append(rel.oid)

    def rows_of(oid: int) -> int:
        rel = snapshot.relation(oid)
        if rel is None:
            return -1
        if rel.kind == "p":
            parts = [rows_of(c) for c in children.get(oid, [])]
            known = [p for p in parts if p >= 0]
            return sum(known) if known else -1
        live = rel.stats.n_live_tup if rel.stats is not None else -1
        return max(int(rel.reltuples), live)

    def size_of(oid: int) -> int:
        rel = snapshot.relation(oid)
        if rel is None:
            return 0
        return rel.size_bytes + sum(size_of(c) for c in children.get(oid, []))

    tables = []
    partitions = []
    for rel in snapshot.relations:
        if rel.kind not in _KIND_NAMES or rel.extension is not None or not _user_schema(rel.schema):
            continue
        if rel.parent_oid is not None:
            parent = snapshot.relation(rel.parent_oid)
            partitions.append(
                PartitionRow(
                    parent=parent.qualified if parent else str(rel.parent_oid),
                    name=rel.qualified,
                    bound=rel.partition_bound or "",
                    size_bytes=size_of(rel.oid),
                    rows=rows_of(rel.oid),
                )
            )
            continue
        rls = "forced" if rel.rls_forced else "enabled" if rel.rls_enabled else "off"
        tables.append(
            TableRow(
                name=rel.qualified,
                kind=_KIND_NAMES[rel.kind],
                size_bytes=size_of(rel.oid),
                rows=rows_of(rel.oid),
                rls=rls if rel.kind in "rp" else "n/a",
                policies=len(snapshot.policies_of(rel.oid)),
                partitions=len(children.get(rel.oid, [])),
            )
        )
    indexes = []
    for ix in snapshot.indexes:
        table = snapshot.relation(ix.table_oid)
        if not _user_schema(ix.schema) or table is None or table.extension is not None:
            continue
        if table.parent_oid is not None:  # a partition's index: listed once, on the partitioned table
            continue
        _, _, columns = ix.definition.partition(f" USING {ix.access_method} ")
        indexes.append(
            IndexRow(
                name=ix.qualified,
                table=table.qualified,
                method=ix.access_method,
                columns=columns or ix.definition,
                unique=ix.is_unique,
                primary=ix.is_primary,
                valid=ix.is_valid,
                size_bytes=ix.size_bytes,
                scans=ix.idx_scan,
            )
        )
    functions = [
        FunctionRow(
            signature=fn.signature,
            kind="procedure" if fn.kind == "p" else "function",
            language=fn.language,
            security="definer" if fn.security_definer else "invoker",
            volatility=_VOLATILITY.get(fn.volatility, fn.volatility),
            search_path=fn.setting("search_path") or "",
            returns=fn.result_type,
        )
        for fn in snapshot.functions
        if fn.kind in ("f", "p") and fn.extension is None and _user_schema(fn.schema)
    ]
    return Inventory(
        tables=tuple(sorted(tables, key=lambda t: t.name)),
        indexes=tuple(sorted(indexes, key=lambda i: (i.table, i.name))),
        functions=tuple(sorted(functions, key=lambda f: f.signature)),
        partitions=tuple(sorted(partitions, key=lambda p: (p.parent, p.name))),
    )


# --- from the review store -----------------------------------------------------------------------------------------


def compare_reviews(store: ReviewStore, reference: str, name: str) -> Comparison:
    """The differences between the latest runs of two reviews (A = `reference`, e.g. staging; B = `name`)."""
    from workbench.core.compare import diff_findings, diff_snapshots

    a, b = store.state(reference), store.state(name)
    if a.latest_run is None or b.latest_run is None:
        missing = reference if a.latest_run is None else name
        raise ReviewStoreError(f"Review {missing!r} has no audit run to compare.")
    snap_a, snap_b = store.run_snapshot(a.latest_run.id), store.run_snapshot(b.latest_run.id)
    return Comparison(
        schema=diff_snapshots(snap_a, snap_b),
        findings=diff_findings(a.latest_run.findings, b.latest_run.findings),
        a_label=f"{a.latest_run.database} (review {reference}, run #{a.latest_run.number})",
        b_label=f"{b.latest_run.database} (review {name}, run #{b.latest_run.number})",
    )


def review_report(store: ReviewStore, name: str, *, compare_with: str | None = None) -> ReportModel:
    """The report of review `name` as stored: latest run, its snapshot, the full decision history."""
    state = store.state(name)
    snapshot = None
    if state.latest_run is not None:
        try:
            snapshot = store.run_snapshot(state.latest_run.id)
        except ReviewStoreError:
            snapshot = None  # the report says the inventory could not be read
    comparison = compare_reviews(store, compare_with, name) if compare_with else None
    return build_review_report(state, snapshot, history=store.decision_history(name), comparison=comparison)


def sarif_baseline(state: ReviewState) -> dict[str, str]:
    """SARIF baselineState per fingerprint from the review's latest run against the previous one."""
    if state.comparison is None:
        return {}
    out = {f.fingerprint: "new" for f in state.comparison.new}
    out.update({f.fingerprint: "unchanged" for f in state.comparison.still_open})
    return out
