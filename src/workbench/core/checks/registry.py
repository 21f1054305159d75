"""The check registry: every check is a small registered unit over an immutable snapshot."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from workbench.core.checks.config import AuditConfig
from workbench.core.model import Category, Finding, Level, ObjectRef, Snapshot

CheckFn = Callable[[Snapshot, AuditConfig], Iterable[Finding]]
_ID = re.compile(r"[a-z][a-z0-9_]*")


class CheckSkipped(Exception):
    """Raised by a check that cannot decide on this database; the message is the reason shown to the user."""


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """What a check is: its contract id, how serious it is, and the text a DBA reads."""

    id: str
    title: str
    level: Level
    category: Category
    description: str  # one sentence: what it detects
    rationale: str  # why it matters, for a DBA
    remediation: str  # how to fix it, in words
    requires: tuple[str, ...] = ()  # probe names; the check is skipped with their reason when one is missing

    def finding(
        self,
        obj: ObjectRef,
        detail: str,
        *,
        evidence: dict[str, Any] | None = None,
        sql: str | None = None,
        level: Level | None = None,
        discriminator: str | None = None,
    ) -> Finding:
        return Finding(
            check=self.id,
            title=self.title,
            level=level or self.level,
            category=self.category,
            object=obj,
            detail=detail,
            evidence=evidence or {},
            remediation_sql=sql,
            discriminator=discriminator,
        )


@dataclass(frozen=True, slots=True)
class Check:
    spec: CheckSpec
    run: CheckFn


REGISTRY: dict[str, Check] = {}


def check(
    id: str,
    title: str,
    level: Level,
    category: Category,
    *,
    description: str,
    rationale: str,
    remediation: str,
    requires: tuple[str, ...] = (),
) -> Callable[[Callable[[CheckSpec, Snapshot, AuditConfig], Iterable[Finding]]], Check]:
    """Register `fn(spec, snapshot, config)` as a check; ids are unique snake_case."""
    if not _ID.fullmatch(id):
        raise ValueError(f"check id {id!r} is not snake_case")
    if id in REGISTRY:
        raise ValueError(f"check {id!r} registered twice")
    spec = CheckSpec(id, title, level, category, description, rationale, remediation, requires)

    def register(fn: Callable[[CheckSpec, Snapshot, AuditConfig], Iterable[Finding]]) -> Check:
        entry = Check(spec, lambda snapshot, config: fn(spec, snapshot, config))
        REGISTRY[id] = entry
        return entry

    return register


def all_checks() -> tuple[Check, ...]:
    """Every registered check, in a stable order (category, then id)."""
    from workbench.core.checks import catalog  # noqa: F401  (imports the check modules)

    order = list(Category)
    return tuple(sorted(REGISTRY.values(), key=lambda c: (order.index(c.spec.category), c.spec.id)))
