"""Immutable value objects shared by every layer."""

from workbench.core.model.finding import Category, Finding, Level, ObjectRef
from workbench.core.model.snapshot import (
    Column,
    Constraint,
    Extension,
    Function,
    Grant,
    Index,
    Policy,
    ProbeResult,
    Relation,
    Role,
    Schema,
    Sequence,
    Snapshot,
    TableStats,
    Trigger,
)

__all__ = [
    "Category",
    "Column",
    "Constraint",
    "Extension",
    "Finding",
    "Function",
    "Grant",
    "Index",
    "Level",
    "ObjectRef",
    "Policy",
    "ProbeResult",
    "Relation",
    "Role",
    "Schema",
    "Sequence",
    "Snapshot",
    "TableStats",
    "Trigger",
]
