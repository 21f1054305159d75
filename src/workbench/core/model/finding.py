"""Findings: what a check reports about one object."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    ERROR = "error"
    WARN = "warn"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more severe."""
        return {"error": 3, "warn": 2, "info": 1}[self.value]


class Category(StrEnum):
    SECURITY = "security"
    PERFORMANCE = "performance"
    INTEGRITY = "integrity"
    RELIABILITY = "reliability"
    MAINTENANCE = "maintenance"
    MIGRATIONS = "migrations"


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """The database object a finding is about; `key` follows CHECKS.md's object-key rules."""

    kind: str  # table, view, materialized_view, foreign_table, index, sequence, function, policy,
    # constraint, column, extension, role, cron_job, setting, database, file
    key: str
    schema: str | None = None
    table: str | None = None
    name: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for name in ("schema", "table", "name"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    title: str
    level: Level
    category: Category
    object: ObjectRef
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)
    remediation_sql: str | None = None
    discriminator: str | None = None  # set when one object has several findings of the same check

    @property
    def key(self) -> str:
        return self.object.key

    @property
    def fingerprint(self) -> str:
        base = f"{self.check}:{self.object.key}"
        return f"{base}:{self.discriminator}" if self.discriminator else base

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "title": self.title,
            "level": self.level.value,
            "category": self.category.value,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "object": self.object.as_json(),
            "detail": self.detail,
            "evidence": self.evidence,
            "remediation_sql": self.remediation_sql,
        }
