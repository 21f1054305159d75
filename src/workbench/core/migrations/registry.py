"""The migration rules: a registry of their own, apart from the database checks.

Migration rules look at a folder of files (and at the replay of those files), not at a database snapshot, so
they are not in :data:`workbench.core.checks.registry.REGISTRY`: ``workbench audit`` never runs them, and the
runner's selection by id or category cannot pick them up by accident. They reuse :class:`CheckSpec` (ids,
levels, category ``migrations``, the texts a DBA reads) so that findings, fingerprints and reports work the
same way.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.registry import CheckSpec
from workbench.core.migrations.analysis import FolderAnalysis
from workbench.core.model import Category, Finding, Level, ObjectRef

__all__ = [
    "MIGRATION_RULES",
    "MigrationConfig",
    "MigrationRule",
    "declare_rule",
    "file_ref",
    "migration_rule",
    "migration_specs",
    "with_discriminators",
]

_ID = re.compile(r"migration_[a-z0-9_]+")


@dataclass(frozen=True, slots=True)
class MigrationConfig:
    """Settings of one migrations review."""

    idempotent: bool | None = None  # the project's convention; None: detected from the folder
    idempotent_share: float = 0.6  # detected as idempotent when this share of guardable statements is guarded
    idempotent_min: int = 3  # … and at least this many are
    scaffold: str | None = None  # "supabase": apply the Supabase-like scaffold before the files
    replay: bool = True
    statement_timeout_s: float = 60.0
    audit: AuditConfig = field(default_factory=AuditConfig)


RuleFn = Callable[[FolderAnalysis, MigrationConfig], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class MigrationRule:
    spec: CheckSpec
    run: RuleFn | None  # None: the replay reports it


MIGRATION_RULES: dict[str, MigrationRule] = {}


def _spec(id: str, title: str, level: Level, description: str, rationale: str, remediation: str) -> CheckSpec:
    if not _ID.fullmatch(id):
        raise ValueError(f"migration rule id {id!r} must be snake_case and start with 'migration_'")
    if id in MIGRATION_RULES:
        raise ValueError(f"migration rule {id!r} registered twice")
    return CheckSpec(id, title, level, Category.MIGRATIONS, description, rationale, remediation)


def migration_rule(
    id: str, title: str, level: Level, *, description: str, rationale: str, remediation: str
) -> Callable[[Callable[[CheckSpec, FolderAnalysis, MigrationConfig], Iterable[Finding]]], MigrationRule]:
    """Register ``fn(spec, analysis, config)`` as a rule over a folder of migration files."""
    spec = _spec(id, title, level, description, rationale, remediation)

    def register(fn: Callable[[CheckSpec, FolderAnalysis, MigrationConfig], Iterable[Finding]]) -> MigrationRule:
        rule = MigrationRule(spec, lambda analysis, config: fn(spec, analysis, config))
        MIGRATION_RULES[id] = rule
        return rule

    return register


def declare_rule(id: str, title: str, level: Level, *, description: str, rationale: str, remediation: str) -> CheckSpec:
    """Register a rule whose findings come from the replay; returns its spec."""
    spec = _spec(id, title, level, description, rationale, remediation)
    MIGRATION_RULES[id] = MigrationRule(spec, None)
    return spec


def migration_specs() -> tuple[CheckSpec, ...]:
    """Every migration rule's spec, by id."""
    from workbench.core.migrations import rules  # noqa: F401  (registers the rules)

    return tuple(MIGRATION_RULES[k].spec for k in sorted(MIGRATION_RULES))


def file_ref(relative: str) -> ObjectRef:
    """The object of a finding about a migration file (CHECKS.md: ``file:relative/path``)."""
    return ObjectRef("file", f"file:{relative}", None, None, relative)


def with_discriminators(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """When one file has several findings of one rule, tell them apart by the statement's line."""
    items = list(findings)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, f in enumerate(items):
        groups[(f.check, f.key)].append(i)
    for indexes in groups.values():
        if len(indexes) < 2:
            continue
        seen: dict[str, int] = defaultdict(int)
        for i in indexes:
            line = items[i].evidence.get("line")
            base = str(line) if line is not None else "file"
            seen[base] += 1
            tag = base if seen[base] == 1 else f"{base}.{seen[base]}"
            items[i] = dataclasses.replace(items[i], discriminator=tag)
    return tuple(items)
