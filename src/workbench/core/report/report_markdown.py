"""The report as Markdown: readable as plain text and on a code host, sealed so that any edit shows.

The sections follow a DBA's hand-written review: title block, executive summary, findings by level and category,
a remediation plan in tiers, the decisions log, what was not checked, the checklist, the sign-off, the comparison
(when one was asked for) and the inventory. The footer prints the report hash and the review's content hash; the
last line is the seal (`signing.seal_markdown`).
"""

from __future__ import annotations

from workbench.core.report.compare_render import render_comparison_markdown
from workbench.core.report.md_text import (
    evidence_lines,
    fence_for,
    human_bytes,
    human_rows,
    md_cell,
    md_code,
)
from workbench.core.report.model import FindingEntry, ReportModel
from workbench.core.report.signing import seal_markdown
from workbench.core.report.wording import VERIFY_HINT, draft_banner, signature_line

MAX_OBJECTS_SHOWN = 6


def _objects(objects: tuple[str, ...]) -> str:
    shown = ", ".join(md_code(o) for o in objects[:MAX_OBJECTS_SHOWN])
    more = len(objects) - MAX_OBJECTS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _title(model: ReportModel) -> list[str]:
    t = model.title
    rows = [
        ("Database", f"{t.database} (PostgreSQL {t.server_version})"),
        ("Environment", t.environment),
        ("Target", t.target),
        ("Snapshot", t.snapshot_at),
        ("Audited as", t.audited_as),
        ("Review", f"{t.review}, run {t.run}" if t.review else f"none (a single audit, {t.run})"),
        ("Reviewer", t.reviewer),
        ("Status", signature_line(model)),
        ("Generated", f"{t.generated_at} by workbench {t.tool_version}"),
    ]
    out = [f"# {md_cell(t.title)}", ""]
    banner = draft_banner(model)
    if banner:
        head, _, rest = banner.partition(". ")
        out += [f"> **{head}.** {rest}", ""]
    out += ["| | |", "|---|---|"]
    out += [f"| **{k}** | {md_cell(v)} |" for k, v in rows if v]
    return [*out, ""]


def _summary(model: ReportModel) -> list[str]:
    s = model.summary
    out = ["## 1. Executive summary", "", s.headline, ""]
    out += ["| Area | Status | Level |", "|---|---|---|"]
    out += [f"| {r.area} | {md_cell(r.status)} | **{r.level}** |" for r in s.rows]
    out.append("")
    if s.since_previous_run:
        out += [md_cell(s.since_previous_run), ""]
    return out


def _finding(e: FindingEntry) -> list[str]:
    f = e.finding
    out = [f"**{e.number}. {md_code(f.key)}** · {f.level.value.upper()} · {md_cell(e.status_label)}", "", f.detail, ""]
    if e.decision is not None and e.decision.note:
        out += [f"*Decision by {md_cell(e.decision.reviewer)} ({e.decision.decided_at[:10]}):* {e.decision.note}", ""]
    if f.evidence:
        out += ["- Evidence:", *evidence_lines(f.evidence), ""]
    if f.remediation_sql:
        sql = f.remediation_sql.rstrip()
        fence = fence_for(sql)
        out += [f"{fence}sql", sql, fence, ""]
    out += [f"<sub>fingerprint {md_code(f.fingerprint)}</sub>", ""]
    return out


def _findings(model: ReportModel) -> list[str]:
    out = ["## 2. Findings", ""]
    if not model.levels:
        return [*out, "The audit reported no finding.", ""]
    for i, lv in enumerate(model.levels, 1):
        out += [f"### 2.{i} {lv.title} ({lv.count})", ""]
        for cat in lv.categories:
            out += [f"#### {cat.title} ({cat.count})", ""]
            for chk in cat.checks:
                n = len(chk.entries)
                out += [f"##### {md_cell(chk.title)} ({md_code(chk.check)}): {n} finding{'s' if n != 1 else ''}", ""]
                if chk.rationale:
                    out += [chk.rationale, ""]
                if chk.remediation:
                    out += [f"**How to fix:** {chk.remediation}", ""]
                for e in chk.entries:
                    out += _finding(e)
    return out


def _plan(model: ReportModel) -> list[str]:
    out = ["## 3. Remediation plan", ""]
    for tier in model.plan:
        out += [f"### {tier.title} ({tier.when.lower()})", "", tier.description, ""]
        if not tier.items:
            out += ["Nothing in this tier.", ""]
            continue
        out += ["| # | Finding | Objects | Action | Status |", "|---|---|---|---|---|"]
        for item in tier.items:
            title = f"{md_cell(item.title)} ({item.count}, {item.level})"
            out.append(
                f"| {item.id} | {title} | {_objects(item.objects)} | {md_cell(item.action)} | {md_cell(item.status)} |"
            )
        out.append("")
    return out


def _decisions(model: ReportModel) -> list[str]:
    out = ["## 4. Decisions log", ""]
    if not model.decisions:
        text = "No decision was recorded." if model.title.review else "A single audit has no decisions."
        return [*out, text, ""]
    out += ["| Decided | Finding | Decision | By | Note |", "|---|---|---|---|---|"]
    for d in model.decisions:
        status = d.status.replace("_", " ") + (f" until {d.deferred_until}" if d.deferred_until else "")
        if d.verified_at:
            status += f" (verified {d.verified_at[:10]})"
        note = d.note + (f" (imported from {d.source_review})" if d.source_review else "")
        out.append(
            f"| {d.decided_at[:16].replace('T', ' ')} | {md_code(d.fingerprint)} | {md_cell(status)} | "
            f"{md_cell(d.reviewer)} | {md_cell(note)} |"
        )
    return [*out, ""]


def _not_checked(model: ReportModel) -> list[str]:
    out = ["## 5. What was not checked", ""]
    if not model.not_checked:
        return [*out, "Every check ran and every catalog query and probe could be read.", ""]
    out += ["| Kind | What | Why |", "|---|---|---|"]
    for n in model.not_checked:
        what = f"{md_cell(n.title)} ({md_code(n.name)})" if n.title != n.name else md_code(n.name)
        out.append(f"| {n.kind} | {what} | {md_cell(n.reason)} |")
    return [*out, ""]


def _checklist(model: ReportModel) -> list[str]:
    out = ["## 6. Checklist", ""]
    done = sum(1 for c in model.checklist if c.ticked)
    out += [f"{done} of {len(model.checklist)} items ticked.", ""]
    section = None
    for c in model.checklist:
        if c.section != section:
            section = c.section
            out += ["", f"**{md_cell(section or 'General')}**", ""]
        by = f" — {md_cell(c.who)}, {c.at[:10]}" if c.ticked and c.who and c.at else ""
        how = "automatic" if c.automatic else "manual"
        note = f" *({how}: {md_cell(c.note)})*" if c.note else f" *({how})*"
        out.append(f"- [{'x' if c.ticked else ' '}] {md_cell(c.text)}{by}{note}")
    return [*out, ""]


def _signoff(model: ReportModel) -> list[str]:
    out = ["## 7. Sign-off", "", f"**{signature_line(model)}.**", ""]
    block = model.signoff
    if block.current is not None:
        out += [f"> {block.current.statement}", ">", f"> — {block.current.reviewer}, {block.current.role}", ""]
    if block.history:
        out += ["| Signed at | Reviewer | Role | Statement | Content hash | Status |", "|---|---|---|---|---|---|"]
        for s in block.history:
            out.append(
                f"| {s.signed_at} | {md_cell(s.reviewer)} | {md_cell(s.role)} | {md_cell(s.statement)} | "
                f"{md_code(s.content_hash[:16])} | {'superseded' if s.superseded else 'current'} |"
            )
        out.append("")
    elif model.title.review:
        out += ["Sign off with: `workbench review signoff NAME --reviewer WHO --role ROLE --statement TEXT`", ""]
    return out


def _comparison(model: ReportModel) -> list[str]:
    if model.comparison is None:
        return []
    lines = render_comparison_markdown(model.comparison).splitlines()
    out = ["## 8. Comparison", ""]
    out += [("##" + line) if line.startswith("## ") else line for line in lines[2:]]
    return [*out, ""]


def _inventory(model: ReportModel) -> list[str]:
    inv = model.inventory
    out = ["## Appendix A. Inventory", ""]
    if not inv.available:
        return [*out, "The snapshot of the audit run could not be read: no inventory.", ""]
    out += [
        f"### Tables ({len(inv.tables)})",
        "",
        "| Table | Kind | Size | Rows | RLS | Policies |",
        "|---|---|---|---|---|---|",
    ]
    for t in inv.tables:
        kind = t.kind + (f", {t.partitions} partitions" if t.partitions else "")
        out.append(
            f"| {md_code(t.name)} | {kind} | {human_bytes(t.size_bytes)} | {human_rows(t.rows)} | {t.rls} | "
            f"{t.policies} |"
        )
    out += ["", f"### Indexes ({len(inv.indexes)})", "", "| Index | Table | Definition | Size | Scans | Notes |"]
    out.append("|---|---|---|---|---|---|")
    for i in inv.indexes:
        flags = (("primary", i.primary), ("unique", i.unique and not i.primary), ("INVALID", not i.valid))
        notes = ", ".join(name for name, on in flags if on)
        out.append(
            f"| {md_code(i.name)} | {md_code(i.table)} | {md_code(i.method + ' ' + i.columns)} | "
            f"{human_bytes(i.size_bytes)} | {i.scans:,} | {notes} |"
        )
    out += ["", f"### Functions ({len(inv.functions)})", ""]
    out += ["| Function | Returns | Language | Security | Volatility | search_path |", "|---|---|---|---|---|---|"]
    for fn in inv.functions:
        path = md_code(fn.search_path) if fn.search_path else "**not pinned**"
        security = "**definer**" if fn.security == "definer" else "invoker"
        out.append(
            f"| {md_code(fn.signature)} | {md_cell(fn.returns)} | {fn.language} | {security} | {fn.volatility} | "
            f"{path} |"
        )
    out += ["", f"### Partitions ({len(inv.partitions)})", ""]
    if inv.partitions:
        out += ["| Partition | Parent | Bound | Size | Rows |", "|---|---|---|---|---|"]
        for p in inv.partitions:
            out.append(
                f"| {md_code(p.name)} | {md_code(p.parent)} | {md_cell(p.bound)} | {human_bytes(p.size_bytes)} | "
                f"{human_rows(p.rows)} |"
            )
    else:
        out.append("No partitioned table.")
    return [*out, ""]


def _footer(model: ReportModel) -> list[str]:
    sig = model.signature
    review_hash = sig.review_content_hash if sig and sig.review_content_hash else None
    return [
        "---",
        "",
        f"**Report SHA-256:** `{model.report_sha256}`  ",
        f"**Review content hash:** {md_code(review_hash) if review_hash else 'none (not a stored review)'}  ",
        f"**Signature:** {md_cell(signature_line(model))}  ",
        f"*{VERIFY_HINT}*",
        "",
    ]


def render_report_markdown(model: ReportModel) -> str:
    """The whole report, sealed (its last line is the seal)."""
    out = _title(model)
    for part in (_summary, _findings, _plan, _decisions, _not_checked, _checklist, _signoff, _comparison, _inventory):
        out += part(model)
    out += _footer(model)
    return seal_markdown("\n".join(out))
