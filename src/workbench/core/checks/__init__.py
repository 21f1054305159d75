"""The audit checks: a registry of small, pure functions over a snapshot."""

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.registry import REGISTRY, Check, CheckSkipped, CheckSpec, all_checks, check
from workbench.core.checks.runner import AuditResult, SkippedCheck, audit, run_checks

__all__ = [
    "REGISTRY",
    "AuditConfig",
    "AuditResult",
    "Check",
    "CheckSkipped",
    "CheckSpec",
    "SkippedCheck",
    "all_checks",
    "audit",
    "check",
    "run_checks",
]
