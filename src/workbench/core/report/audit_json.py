"""The JSON output contract of `workbench audit --format json` (CHECKS.md, "Output contract")."""

from __future__ import annotations

from typing import Any

from workbench import __version__
from workbench.core.checks.runner import AuditResult
from workbench.core.model import Finding


def sort_findings(findings: tuple[Finding, ...] | list[Finding]) -> list[Finding]:
    """Most severe first, then by check and object, so output is stable and readable."""
    return sorted(findings, key=lambda f: (-f.level.rank, f.category.value, f.check, f.key, f.fingerprint))


def audit_to_dict(result: AuditResult) -> dict[str, Any]:
    snap = result.snapshot
    return {
        "tool": {"name": "workbench", "version": __version__},
        "database": {
            "name": snap.database,
            "server_version": snap.server_version,
            "server_version_num": snap.server_version_num,
        },
        "started_at": result.started_at,
        "duration_s": result.duration_s,
        "checks_run": list(result.checks_run),
        "checks_skipped": [{"check": s.check, "reason": s.reason} for s in result.checks_skipped],
        "findings": [f.as_json() for f in sort_findings(result.findings)],
    }
