"""Staging vs production: snapshot differences, finding differences, and a reviewed sync script."""

from workbench.core.compare.findings_diff import FindingsDiff, diff_findings
from workbench.core.compare.snapshot_diff import (
    AttributeDiff,
    Description,
    DiffObject,
    ObjectDiff,
    SnapshotDiff,
    describe,
    diff_described,
    diff_snapshots,
)
from workbench.core.compare.sync_script import security_sync_script

__all__ = [
    "AttributeDiff",
    "Description",
    "DiffObject",
    "FindingsDiff",
    "ObjectDiff",
    "SnapshotDiff",
    "describe",
    "diff_described",
    "diff_findings",
    "diff_snapshots",
    "security_sync_script",
]
