"""Remediation: scripts built from findings (forward, rollback from the snapshot, verification), dry run, apply."""

from workbench.core.connections.session import CancelToken
from workbench.core.remediation.execute import (
    ApplyRefused,
    ApplyResult,
    Confirmation,
    DryRunResult,
    StatementOutcome,
    Status,
    apply,
    check_confirmation,
    dry_run,
)
from workbench.core.remediation.script import (
    FindingFix,
    PlannedStatement,
    RemediationScript,
    ScriptSection,
    build_script,
)
from workbench.core.remediation.statements import StatementEffect, classify
from workbench.core.remediation.verify import FixVerification, affected_checks, verify_fixes

__all__ = [
    "ApplyRefused",
    "ApplyResult",
    "CancelToken",
    "Confirmation",
    "DryRunResult",
    "FindingFix",
    "FixVerification",
    "PlannedStatement",
    "RemediationScript",
    "ScriptSection",
    "StatementEffect",
    "StatementOutcome",
    "Status",
    "affected_checks",
    "apply",
    "build_script",
    "check_confirmation",
    "classify",
    "dry_run",
    "verify_fixes",
]
