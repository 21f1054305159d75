"""The report as HTML for QTextDocument (Qt's rich-text subset), the source of the PDF and of its preview.

Every piece of text from the database or the reviewer goes through `html.escape`. Tables use ``<thead>`` so that
their header row repeats on every page they run over; code is set in a monospace font inside a shaded one-cell
table and wraps at the page width instead of being clipped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from workbench.core.report.md_text import evidence_value, human_bytes, human_rows
from workbench.core.report.model import FindingEntry, ReportModel
from workbench.core.report.wording import VERIFY_HINT, draft_banner, signature_line

LEVEL_COLOURS = {"error": "#c62828", "warn": "#b86e00", "info": "#1565c0"}
BADGE = {"ERROR": "#c62828", "WARN": "#b86e00", "INFO": "#1565c0", "OK": "#2e7d32", "DECIDED": "#2e7d32"}
SANS = "'DejaVu Sans', 'Segoe UI', 'Helvetica Neue', Arial, sans-serif"
MONO = "'DejaVu Sans Mono', Menlo, Consolas, 'Courier New', monospace"
INK = "#1d2330"
MUTED = "#5b6473"
RULE = "#c9ced6"
HEAD_BG = "#e9edf3"
CODE_BG = "#f3f5f8"
MAX_OBJECTS_SHOWN = 8
LEGEND = (
    '<p style="font-size: 8pt;">'
    + " &nbsp; ".join(
        f'<span style="color: {c};">&#9632;</span> {n}'
        for n, c in (("Error", "#d32f2f"), ("Warning", "#ef8f00"), ("Info", "#1e88e5"))
    )
    + "</p>"
)
CHART_TITLES = {"chart:levels": "Findings by level", "chart:categories": "Findings by category and level"}

STYLE = f"""
body {{ font-family: {SANS}; font-size: 9pt; color: {INK}; }}
h1 {{ font-size: 19pt; font-weight: bold; margin-top: 0px; margin-bottom: 4px; }}
h2 {{ font-size: 14pt; font-weight: bold; margin-top: 14px; margin-bottom: 6px; color: #17325e; }}
h3 {{ font-size: 11.5pt; font-weight: bold; margin-top: 12px; margin-bottom: 4px; color: #17325e; }}
h4 {{ font-size: 10pt; font-weight: bold; margin-top: 10px; margin-bottom: 3px; }}
.check {{ font-size: 9.5pt; font-weight: bold; margin-top: 10px; margin-bottom: 2px; }}
p {{ margin-top: 2px; margin-bottom: 4px; }}
th {{ background-color: {HEAD_BG}; font-weight: bold; text-align: left; }}
.muted {{ color: {MUTED}; }}
.small {{ font-size: 8pt; }}
code {{ font-family: {MONO}; font-size: 8pt; }}
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def code_span(value: object) -> str:
    return f'<span style="font-family: {MONO}; font-size: 8pt;">{esc(value)}</span>'


def code_block(text: str) -> str:
    """Monospace text that keeps its line breaks and indentation and wraps at the page edge."""
    lines = []
    for line in text.rstrip().split("\n"):
        stripped = line.lstrip(" ")
        lines.append("&nbsp;" * (len(line) - len(stripped)) + esc(stripped))
    body = "<br/>".join(lines)
    return (
        f'<table width="100%" cellspacing="0" cellpadding="5" style="background-color: {CODE_BG}; '
        f'border: 1px solid {RULE}; margin-top: 3px; margin-bottom: 6px;"><tr><td>'
        f'<span style="font-family: {MONO}; font-size: 7.5pt;">{body}</span></td></tr></table>'
    )


def badge(level: str) -> str:
    colour = BADGE.get(level.upper(), MUTED)
    return (
        f'<span style="background-color: {colour}; color: #ffffff; font-weight: bold;">&nbsp;{esc(level)}&nbsp;</span>'
    )


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    widths: Sequence[int] | None = None,
    *,
    font_size: str = "8.5pt",
) -> str:
    """A ruled table whose header row repeats on each page; cells are already-escaped HTML."""
    out = [
        f'<table width="100%" cellspacing="0" cellpadding="3" border="1" '
        f'style="border-collapse: collapse; border-color: {RULE}; font-size: {font_size}; margin-bottom: 6px;">',
        "<thead><tr>",
    ]
    for i, h in enumerate(headers):
        width = f' width="{widths[i]}%"' if widths else ""
        out.append(f"<th{width}>{esc(h)}</th>")
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f'<td valign="top">{cell}</td>' for cell in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _objects(objects: tuple[str, ...]) -> str:
    shown = ", ".join(code_span(o) for o in objects[:MAX_OBJECTS_SHOWN])
    more = len(objects) - MAX_OBJECTS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


# --- sections --------------------------------------------------------------------------------------------------------


def _title(model: ReportModel) -> str:
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
    out = [f"<h1>{esc(t.title)}</h1>"]
    banner = draft_banner(model)
    if banner:
        out.append(
            '<table width="100%" cellspacing="0" cellpadding="6" style="background-color: #fdecea; '
            'border: 1px solid #e0a09b; margin-top: 4px; margin-bottom: 8px;"><tr><td>'
            f'<span style="color: #8e1b13;">{esc(banner)}</span></td></tr></table>'
        )
    out.append(
        '<table width="100%" cellspacing="0" cellpadding="3" style="margin-top: 4px; margin-bottom: 8px;">'
        + "".join(f'<tr><td width="18%" class="muted"><b>{esc(k)}</b></td><td>{esc(v)}</td></tr>' for k, v in rows if v)
        + "</table>"
    )
    return "".join(out)


def _summary(model: ReportModel, charts: Sequence[tuple[str, int, int]]) -> str:
    s = model.summary
    out = ["<h2>1. Executive summary</h2>", f"<p>{esc(s.headline)}</p>"]
    out.append(
        table(
            ["Area", "Status", "Level"],
            ([f"<b>{esc(r.area)}</b>", esc(r.status), badge(r.level) if r.level != "—" else "—"] for r in s.rows),
            [20, 66, 14],
        )
    )
    if s.since_previous_run:
        out.append(f"<p>{esc(s.since_previous_run)}</p>")
    if charts:
        cells = "".join(
            f'<td align="center" width="{100 // len(charts)}%"><p style="font-size: 9pt; font-weight: bold; '
            f'margin-bottom: 2px;">{esc(CHART_TITLES.get(name, ""))}</p>'
            f'<img src="{esc(name)}" width="{w}" height="{h}"/>'
            + (LEGEND if name == "chart:categories" else "")
            + "</td>"
            for name, w, h in charts
        )
        out.append(f'<table width="100%" cellspacing="0" cellpadding="2"><tr>{cells}</tr></table>')
    return "".join(out)


def _evidence(entry: FindingEntry) -> str:
    ev = entry.finding.evidence
    if not ev:
        return ""
    rows = ([code_span(k), code_span(evidence_value(v))] for k, v in ev.items())
    return table(["Evidence", "Value"], rows, [26, 74], font_size="8pt")


def _finding(e: FindingEntry) -> str:
    f = e.finding
    level = f.level.value.upper()
    out = [
        f'<p style="margin-top: 8px;"><b>{esc(e.number)}.</b> {badge(level)} &nbsp;{code_span(f.key)}'
        f' &nbsp;<span class="muted">{esc(e.status_label)}</span></p>',
        f"<p>{esc(f.detail)}</p>",
    ]
    if e.decision is not None and e.decision.note:
        out.append(
            f"<p><i>Decision by {esc(e.decision.reviewer)} ({esc(e.decision.decided_at[:10])}):</i> "
            f"{esc(e.decision.note)}</p>"
        )
    out.append(_evidence(e))
    if f.remediation_sql:
        out.append(code_block(f.remediation_sql))
    out.append(f'<p class="small muted">fingerprint {code_span(f.fingerprint)}</p>')
    return "".join(out)


def _findings(model: ReportModel) -> str:
    out = ['<h2 style="page-break-before: always;">2. Findings</h2>']
    if not model.levels:
        return out[0] + "<p>The audit reported no finding.</p>"
    for i, lv in enumerate(model.levels, 1):
        colour = LEVEL_COLOURS[lv.level.value]
        out.append(f'<h3 style="color: {colour};">2.{i} {esc(lv.title)} ({lv.count})</h3>')
        for cat in lv.categories:
            out.append(f"<h4>{esc(cat.title)} ({cat.count})</h4>")
            for chk in cat.checks:
                n = len(chk.entries)
                out.append(
                    f"<p class='check'>{esc(chk.title)} <span class='muted'>({code_span(chk.check)}, {n} "
                    f"finding{'s' if n != 1 else ''})</span></p>"
                )
                if chk.rationale:
                    out.append(f"<p>{esc(chk.rationale)}</p>")
                if chk.remediation:
                    out.append(f"<p><b>How to fix:</b> {esc(chk.remediation)}</p>")
                out += [_finding(e) for e in chk.entries]
    return "".join(out)


def _plan(model: ReportModel) -> str:
    out = ['<h2 style="page-break-before: always;">3. Remediation plan</h2>']
    for tier in model.plan:
        out.append(f"<h3>{esc(tier.title)} <span class='muted'>({esc(tier.when.lower())})</span></h3>")
        out.append(f"<p class='muted'>{esc(tier.description)}</p>")
        if not tier.items:
            out.append("<p>Nothing in this tier.</p>")
            continue
        rows = (
            [
                f"<b>{esc(i.id)}</b>",
                f"{esc(i.title)} <span class='muted'>({i.count}, {esc(i.level)})</span>",
                _objects(i.objects),
                esc(i.action),
                esc(i.status),
            ]
            for i in tier.items
        )
        out.append(table(["#", "Finding", "Objects", "Action", "Status"], rows, [7, 20, 25, 36, 12], font_size="8pt"))
    return "".join(out)


def _decisions(model: ReportModel) -> str:
    out = ["<h2>4. Decisions log</h2>"]
    if not model.decisions:
        text = "No decision was recorded." if model.title.review else "A single audit has no decisions."
        return out[0] + f"<p>{text}</p>"
    rows = []
    for d in model.decisions:
        status = d.status.replace("_", " ") + (f" until {d.deferred_until}" if d.deferred_until else "")
        if d.verified_at:
            status += f" (verified {d.verified_at[:10]})"
        note = d.note + (f" (imported from {d.source_review})" if d.source_review else "")
        rows.append(
            [
                esc(d.decided_at[:16].replace("T", " ")),
                code_span(d.fingerprint),
                esc(status),
                esc(d.reviewer),
                esc(note),
            ]
        )
    out.append(table(["Decided", "Finding", "Decision", "By", "Note"], rows, [13, 32, 17, 12, 26], font_size="8pt"))
    return "".join(out)


def _not_checked(model: ReportModel) -> str:
    out = ["<h2>5. What was not checked</h2>"]
    if not model.not_checked:
        return out[0] + "<p>Every check ran and every catalog query and probe could be read.</p>"
    rows = (
        [
            esc(n.kind),
            f"{esc(n.title)}<br/>{code_span(n.name)}" if n.title != n.name else code_span(n.name),
            esc(n.reason),
        ]
        for n in model.not_checked
    )
    out.append(table(["Kind", "What", "Why"], rows, [13, 30, 57], font_size="8pt"))
    return "".join(out)


def _checklist(model: ReportModel) -> str:
    done = sum(1 for c in model.checklist if c.ticked)
    out = ["<h2>6. Checklist</h2>", f"<p>{done} of {len(model.checklist)} items ticked.</p>"]
    rows = []
    for c in model.checklist:
        mark = '<span style="color: #2e7d32; font-weight: bold;">&#10003;</span>' if c.ticked else "&#9744;"
        by = f"{esc(c.who)}<br/>{esc((c.at or '')[:10])}" if c.ticked and c.who else ""
        how = "automatic" if c.automatic else "manual"
        shown = c.note.split(": ", 1)[0] if "open finding" in c.note else c.note  # the findings are listed above
        note = f"<span class='muted'>{how}</span>" + (f": {esc(shown)}" if shown else "")
        rows.append([mark, esc(c.section), esc(c.text), note, by])
    out.append(table(["", "Section", "Item", "How", "By"], rows, [4, 12, 38, 30, 16], font_size="8pt"))
    return "".join(out)


def _signoff(model: ReportModel) -> str:
    out = ["<h2>7. Sign-off</h2>", f"<p><b>{esc(signature_line(model))}.</b></p>"]
    block = model.signoff
    if block.current is not None:
        c = block.current
        out.append(
            '<table width="100%" cellspacing="0" cellpadding="8" style="border: 1px solid #9aa3b0; '
            'margin-top: 4px; margin-bottom: 8px;"><tr><td>'
            f"<p><i>{esc(c.statement)}</i></p>"
            f"<p><b>{esc(c.reviewer)}</b>, {esc(c.role)}<br/>Signed {esc(c.signed_at)}<br/>"
            f"Review content hash {code_span(c.content_hash)}</p></td></tr></table>"
        )
    if block.history:
        rows = (
            [
                esc(s.signed_at),
                esc(s.reviewer),
                esc(s.role),
                esc(s.statement),
                code_span(s.content_hash[:16]),
                "superseded" if s.superseded else "current",
            ]
            for s in block.history
        )
        out.append(
            table(
                ["Signed at", "Reviewer", "Role", "Statement", "Content hash", "Status"],
                rows,
                [17, 14, 13, 28, 18, 10],
                font_size="8pt",
            )
        )
    elif model.title.review:
        out.append(
            "<p>Sign off with "
            + code_span("workbench review signoff NAME --reviewer WHO --role ROLE --statement TEXT")
            + "</p>"
        )
    return "".join(out)


def _comparison(model: ReportModel) -> str:
    c = model.comparison
    if c is None:
        return ""
    s, fd = c.schema, c.findings
    out = [
        '<h2 style="page-break-before: always;">8. Comparison</h2>',
        f"<p><b>A:</b> {esc(c.a_label)}<br/><b>B:</b> {esc(c.b_label)}</p>",
        f"<p>{len(s.only_in_a)} objects only in A, {len(s.only_in_b)} only in B, {len(s.different)} different, "
        f"{s.identical} identical; findings: {len(fd.only_in_a)} only in A, {len(fd.only_in_b)} only in B, "
        f"{len(fd.in_both)} in both.</p>",
    ]
    if s.only_in_a or s.only_in_b:
        rows = [["A", esc(o.kind), code_span(o.key)] for o in s.only_in_a]
        rows += [["B", esc(o.kind), code_span(o.key)] for o in s.only_in_b]
        out += ["<h3>Objects on one side only</h3>", table(["Side", "Kind", "Object"], rows, [8, 20, 72])]
    if s.different:
        rows = [
            [esc(d.kind), code_span(d.key), esc(x.name), code_span(evidence_value(x.a)), code_span(evidence_value(x.b))]
            for d in s.different
            for x in d.attributes
        ]
        out += [
            "<h3>Different objects</h3>",
            table(["Kind", "Object", "Attribute", "A", "B"], rows, [12, 24, 14, 25, 25], font_size="8pt"),
        ]
    if fd.only_in_a or fd.only_in_b or fd.level_changes:
        rows = [["only A", esc(f.level.value), esc(f.check), code_span(f.key)] for f in fd.only_in_a]
        rows += [["only B", esc(f.level.value), esc(f.check), code_span(f.key)] for f in fd.only_in_b]
        rows += [
            [f"level {esc(a.level.value)} → {esc(b.level.value)}", "", esc(a.check), code_span(a.key)]
            for a, b in fd.level_changes
        ]
        out += ["<h3>Finding differences</h3>", table(["Side", "Level", "Check", "Object"], rows, [14, 10, 30, 46])]
    return "".join(out)


def _inventory(model: ReportModel) -> str:
    inv = model.inventory
    out = ['<h2 style="page-break-before: always;">Appendix A. Inventory</h2>']
    if not inv.available:
        return out[0] + "<p>The snapshot of the audit run could not be read: no inventory.</p>"
    table_rows = [
        [
            code_span(t.name),
            esc(t.kind + (f", {t.partitions} partitions" if t.partitions else "")),
            esc(human_bytes(t.size_bytes)),
            esc(human_rows(t.rows)),
            f"<b>{esc(t.rls)}</b>" if t.rls == "off" else esc(t.rls),
            str(t.policies),
        ]
        for t in inv.tables
    ]
    out += [
        f"<h3>Tables ({len(inv.tables)})</h3>",
        table(
            ["Table", "Kind", "Size", "Rows", "RLS", "Policies"], table_rows, [38, 22, 11, 11, 9, 9], font_size="8pt"
        ),
    ]
    index_rows: list[list[str]] = []
    for i in inv.indexes:
        flags = (("primary", i.primary), ("unique", i.unique and not i.primary), ("INVALID", not i.valid))
        notes = ", ".join(name for name, on in flags if on)
        index_rows.append(
            [
                code_span(i.name) + f"<br/><span class='muted'>on {esc(i.table)}</span>",
                code_span(f"{i.method} {i.columns}"),
                esc(human_bytes(i.size_bytes)),
                f"{i.scans:,}",
                esc(notes),
            ]
        )
    out += [
        f"<h3>Indexes ({len(inv.indexes)})</h3>",
        table(["Index", "Definition", "Size", "Scans", "Notes"], index_rows, [33, 36, 11, 9, 11], font_size="7.5pt"),
    ]
    function_rows = [
        [
            code_span(fn.signature),
            esc(fn.returns),
            esc(fn.language),
            "<b>definer</b>" if fn.security == "definer" else "invoker",
            esc(fn.volatility),
            code_span(fn.search_path) if fn.search_path else "<b>not pinned</b>",
        ]
        for fn in inv.functions
    ]
    out += [
        f"<h3>Functions ({len(inv.functions)})</h3>",
        table(
            ["Function", "Returns", "Language", "Security", "Volatility", "search_path"],
            function_rows,
            [32, 15, 11, 10, 12, 20],
            font_size="7.5pt",
        ),
    ]
    out.append(f"<h3>Partitions ({len(inv.partitions)})</h3>")
    if inv.partitions:
        rows = [
            [
                code_span(p.name),
                code_span(p.parent),
                esc(p.bound),
                esc(human_bytes(p.size_bytes)),
                esc(human_rows(p.rows)),
            ]
            for p in inv.partitions
        ]
        out.append(table(["Partition", "Parent", "Bound", "Size", "Rows"], rows, [28, 20, 32, 10, 10], font_size="8pt"))
    else:
        out.append("<p>No partitioned table.</p>")
    return "".join(out)


def _signature(model: ReportModel) -> str:
    sig = model.signature
    review_hash = sig.review_content_hash if sig and sig.review_content_hash else None
    return (
        '<h2 style="page-break-before: always;">Signature</h2>'
        '<table width="100%" cellspacing="0" cellpadding="8" style="border: 1px solid #9aa3b0;"><tr><td>'
        f"<p><b>{esc(signature_line(model))}</b></p>"
        f"<p>Report SHA-256<br/>{code_span(model.report_sha256)}</p>"
        f"<p>Review content hash<br/>{code_span(review_hash) if review_hash else 'none (not a stored review)'}</p>"
        f"<p class='muted'>{esc(VERIFY_HINT)}. The report hash covers the canonical JSON content of this report and "
        "the review content hash; the file itself is sealed with a SHA-256 of its bytes, so any edit of this PDF "
        "makes the verification fail.</p></td></tr></table>"
    )


def report_html(model: ReportModel, charts: Sequence[tuple[str, int, int]] = ()) -> str:
    """The report as one HTML document; `charts` are (resource name, width, height) of images added to the
    document as resources, shown under the executive summary."""
    body = "".join(
        [
            _title(model),
            _summary(model, charts),
            _findings(model),
            _plan(model),
            _decisions(model),
            _not_checked(model),
            _checklist(model),
            _signoff(model),
            _comparison(model),
            _inventory(model),
            _signature(model),
        ]
    )
    return f"<html><head><style>{STYLE}</style></head><body>{body}</body></html>"
