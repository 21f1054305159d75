"""The report as JSON: the source of truth every other format renders (schema: docs/report-json.md).

A document is ``{"format", "format_version", "content", "signature"}``. ``content`` holds everything the report
says; ``signature.report_sha256`` is `signing.report_hash(content, signature.review_content_hash)`, so the file can
be re-indented without breaking it but no value can change unnoticed. Findings keep the fields of the audit's JSON
output contract (`Finding.as_json`) and add the review's status and decision.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from workbench.core.report.compare_render import comparison_to_dict
from workbench.core.report.model import FORMAT_NAME, FORMAT_VERSION, FindingEntry, ReportModel
from workbench.core.report.signing import jsonable


def _finding(e: FindingEntry) -> dict[str, Any]:
    return {
        "number": e.number,
        **e.finding.as_json(),
        "status": e.status,
        "status_label": e.status_label,
        "decision": asdict(e.decision) if e.decision is not None else None,
    }


def report_content(model: ReportModel) -> dict[str, Any]:
    """The canonical content of a report (JSON-native values only)."""
    t = model.title
    checks: dict[str, Any] = {}
    for lv in model.levels:
        for cat in lv.categories:
            for chk in cat.checks:
                checks[chk.check] = {
                    "title": chk.title,
                    "category": cat.category.value,
                    "description": chk.description,
                    "rationale": chk.rationale,
                    "remediation": chk.remediation,
                }
    comparison = None
    if model.comparison is not None:
        comparison = {k: v for k, v in comparison_to_dict(model.comparison).items() if k != "tool"}
    inv = model.inventory
    content = {
        "generator": {"name": "workbench", "version": t.tool_version},
        "generated_at": t.generated_at,
        "title": {k: v for k, v in asdict(t).items() if k not in ("generated_at", "tool_version")},
        "summary": {
            "headline": model.summary.headline,
            "counts": model.summary.counts,
            "open_counts": model.summary.open_counts,
            "checks_run": model.summary.checks_run,
            "checks_skipped": model.summary.checks_skipped,
            "since_previous_run": model.summary.since_previous_run,
            "areas": [asdict(r) for r in model.summary.rows],
        },
        "findings": [_finding(e) for e in model.entries],
        "checks": checks,
        "remediation_plan": [asdict(tier) for tier in model.plan],
        "decisions": [asdict(d) for d in model.decisions],
        "not_checked": [asdict(n) for n in model.not_checked],
        "checks_run": list(model.checks_run),
        "checklist": [asdict(c) for c in model.checklist],
        "signoff": {
            "status": model.signoff.status,
            "current": asdict(model.signoff.current) if model.signoff.current else None,
            "history": [asdict(s) for s in model.signoff.history],
        },
        "inventory": None
        if not inv.available
        else {
            "tables": [asdict(x) for x in inv.tables],
            "indexes": [asdict(x) for x in inv.indexes],
            "functions": [asdict(x) for x in inv.functions],
            "partitions": [asdict(x) for x in inv.partitions],
        },
        "comparison": comparison,
    }
    return jsonable(content)  # type: ignore[no-any-return]


def report_document(model: ReportModel) -> dict[str, Any]:
    if model.signature is None:
        raise ValueError("the report has no signature: build it with workbench.core.report.build")
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "content": model.content,
        "signature": model.signature.as_json(),
    }


def render_json(model: ReportModel) -> str:
    return json.dumps(report_document(model), indent=2, ensure_ascii=False) + "\n"
