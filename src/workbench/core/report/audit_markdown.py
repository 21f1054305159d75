"""An audit as a Markdown review (shaped like a DBA's hand-written audit) or as plain text for a terminal."""

from __future__ import annotations

from collections import Counter, defaultdict

from workbench import __version__
from workbench.core.checks.registry import REGISTRY
from workbench.core.checks.runner import AuditResult
from workbench.core.model import Category, Finding, Level
from workbench.core.report.audit_json import sort_findings
from workbench.core.report.md_text import CATEGORY_TITLES, area_status, evidence_lines, md_cell, md_code

_CATEGORY_TITLES = CATEGORY_TITLES
_cell = md_cell
_code = md_code
_status = area_status
_evidence_lines = evidence_lines


def render_markdown(result: AuditResult) -> str:
    """The full review: summary table, findings per category with evidence and SQL, what was not checked."""
    snap = result.snapshot
    findings = sort_findings(result.findings)
    by_category: dict[Category, list[Finding]] = defaultdict(list)
    for f in findings:
        by_category[f.category].append(f)
    counts = Counter(f.level for f in findings)
    out = [
        f"# Database review: {snap.database}",
        "",
        f"- **Server**: PostgreSQL {snap.server_version}",
        f"- **Audited as**: {snap.current_user}",
        f"- **Snapshot**: {snap.collected_at}",
        f"- **Checks run**: {len(result.checks_run)}; skipped: {len(result.checks_skipped)}",
        f"- **Findings**: {len(findings)} ({counts[Level.ERROR]} error, {counts[Level.WARN]} warn, "
        f"{counts[Level.INFO]} info)",
        f"- **Tool**: workbench {__version__}, {result.duration_s:.2f} s",
        "",
        "## Executive summary",
        "",
        "| Area | Status | Level |",
        "|---|---|---|",
    ]
    for category in Category:
        ran = [c for c in result.checks_run if REGISTRY[c].spec.category == category]
        if not ran and not by_category.get(category):
            continue
        status, level = _status(by_category.get(category, []))
        out.append(f"| {_CATEGORY_TITLES[category]} | {status} | {level} |")
    out.append("")
    number = 0
    for category in Category:
        items = by_category.get(category)
        if not items:
            continue
        out += [f"## {_CATEGORY_TITLES[category]}", ""]
        by_check: dict[str, list[Finding]] = defaultdict(list)
        for f in items:
            by_check[f.check].append(f)
        for check_id, group in by_check.items():
            spec = REGISTRY[check_id].spec
            out += [
                f"### {spec.title} ({_code(check_id)}, {group[0].level.value}) — {len(group)}",
                "",
                spec.rationale,
                "",
                f"**How to fix**: {spec.remediation}",
                "",
            ]
            for f in group:
                number += 1
                out.append(f"#### F{number}: {_code(f.key)} — {f.level.value.upper()}")
                out += ["", f.detail, ""]
                if f.evidence:
                    out += ["- Evidence:", *_evidence_lines(f.evidence), ""]
                if f.remediation_sql:
                    out += ["```sql", f.remediation_sql.rstrip(), "```", ""]
                out += [f"<sub>fingerprint {_code(f.fingerprint)}</sub>", ""]
    if result.checks_skipped or snap.skipped_queries:
        out += ["## What was not checked", "", "| Check | Reason |", "|---|---|"]
        out += [f"| {_code(s.check)} | {_cell(s.reason)} |" for s in result.checks_skipped]
        out += [f"| catalog: {_code(q)} | {_cell(reason)} |" for q, reason in snap.skipped_queries]
        out.append("")
    if result.ignored:
        out += ["## Ignored by configuration", "", "| Fingerprint | Reason |", "|---|---|"]
        out += [f"| {_code(f.fingerprint)} | {_cell(reason)} |" for f, reason in result.ignored]
        out.append("")
    return "\n".join(out)


def render_text(result: AuditResult) -> str:
    """A compact terminal listing: one line per finding, then a summary line."""
    snap = result.snapshot
    findings = sort_findings(result.findings)
    out = [f"{snap.database} — PostgreSQL {snap.server_version}, snapshot {snap.collected_at}", ""]
    width = max((len(f.check) for f in findings), default=10)
    for f in findings:
        out.append(f"{f.level.value.upper():5}  {f.check:{width}}  {f.key}")
        out.append(f"{'':5}  {'':{width}}  {f.detail}")
    for s in result.checks_skipped:
        out.append(f"SKIP   {s.check:{width}}  {s.reason}")
    counts = Counter(f.level for f in findings)
    out += [
        "",
        f"{len(findings)} findings ({counts[Level.ERROR]} error, {counts[Level.WARN]} warn, "
        f"{counts[Level.INFO]} info); {len(result.checks_run)} checks run, {len(result.checks_skipped)} skipped "
        f"in {result.duration_s:.2f} s",
    ]
    return "\n".join(out)
