"""The report as SARIF 2.1.0 for code-scanning tools: one run, the check registry as rules, findings as results.

Database objects have no file, so each result's location is a logical location whose fully qualified name is the
finding's object key (``public.orders``, ``public.orders:orders_customer_id_fkey``). ``partialFingerprints``
carries the workbench fingerprint, stable across runs, so a code-scanning tool tracks a finding from one upload to
the next. Findings a reviewer accepted as a risk or marked as false positive are suppressed (``suppressions``,
kind external) with the reviewer's note as justification; deferred ones stay open.
"""

from __future__ import annotations

import json
from typing import Any

from workbench import __version__
from workbench.core.checks.registry import CheckSpec, all_checks
from workbench.core.model import Level
from workbench.core.report.model import FindingEntry, ReportModel

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_LEVELS = {Level.ERROR: "error", Level.WARN: "warning", Level.INFO: "note"}
FINGERPRINT_KEY = "workbench/v1"
_LOGICAL_KINDS = {  # SARIF's well-known logical location kinds, where one fits
    "function": "function",
    "column": "member",
    "schema": "namespace",
    "extension": "module",
}


def _rule(spec: CheckSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "name": "".join(part.capitalize() for part in spec.id.split("_")),
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": spec.description},
        "help": {
            "text": f"{spec.rationale}\n\nHow to fix: {spec.remediation}",
            "markdown": f"{spec.rationale}\n\n**How to fix:** {spec.remediation}",
        },
        "defaultConfiguration": {"level": SARIF_LEVELS[spec.level]},
        "properties": {"category": spec.category.value, "tags": ["postgresql", spec.category.value]},
    }


def _result(e: FindingEntry, index: dict[str, int], baseline: dict[str, str]) -> dict[str, Any]:
    f = e.finding
    location: dict[str, Any] = {"fullyQualifiedName": f.key, "name": f.object.name or f.key}
    kind = _LOGICAL_KINDS.get(f.object.kind, "object")
    location["kind"] = kind
    properties: dict[str, Any] = {
        "objectKind": f.object.kind,
        "category": f.category.value,
        "status": e.status,
        "statusLabel": e.status_label,
        "evidence": f.evidence,
    }
    if f.remediation_sql:
        properties["remediationSql"] = f.remediation_sql
    result: dict[str, Any] = {
        "ruleId": f.check,
        "level": SARIF_LEVELS[f.level],
        "message": {"text": f.detail},
        "locations": [{"logicalLocations": [location]}],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": properties,
    }
    if f.check in index:
        result["ruleIndex"] = index[f.check]
    if e.status in ("accepted_risk", "false_positive"):
        note = e.decision.note if e.decision is not None else ""
        who = e.decision.reviewer if e.decision is not None else "reviewer"
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{e.status_label} ({who}): {note}".rstrip(": "),
            }
        ]
    if f.fingerprint in baseline:
        result["baselineState"] = baseline[f.fingerprint]
    return result


def report_to_sarif(model: ReportModel, *, baseline: dict[str, str] | None = None) -> dict[str, Any]:
    """The SARIF log. `baseline` maps fingerprints to a baselineState (new, unchanged, updated, absent)."""
    specs = [c.spec for c in all_checks()]
    index = {s.id: i for i, s in enumerate(specs)}
    notifications = [
        {
            "level": "note",
            "message": {"text": f"{n.kind} {n.name} not checked: {n.reason}"},
            "descriptor": {"id": n.name},
        }
        for n in model.not_checked
        if n.kind in ("check", "catalog query", "probe")
    ]
    t = model.title
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "workbench",
                "fullName": "PostgreSQL Review Workbench",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(s) for s in specs],
            }
        },
        "automationDetails": {"id": f"workbench/{t.database}/{t.review or 'audit'}/"},
        "invocations": [
            {
                "executionSuccessful": True,
                "startTimeUtc": t.generated_at if t.generated_at.endswith("Z") else None,
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": [_result(e, index, baseline or {}) for e in model.entries],
        "properties": {
            "database": t.database,
            "serverVersion": t.server_version,
            "snapshotAt": t.snapshot_at,
            "review": t.review,
            "reportSha256": model.report_sha256,
            "reviewContentHash": model.signature.review_content_hash if model.signature else None,
            "signature": model.signature.status if model.signature else "draft",
        },
    }
    if run["invocations"][0]["startTimeUtc"] is None:
        del run["invocations"][0]["startTimeUtc"]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render_sarif(model: ReportModel, *, baseline: dict[str, str] | None = None) -> str:
    return json.dumps(report_to_sarif(model, baseline=baseline), indent=2, ensure_ascii=False, default=str) + "\n"
