"""Synthetic findings for model tests (no database needed)."""

from __future__ import annotations

import random

from workbench.core.checks.registry import CheckSpec
from workbench.core.model import Category, Finding, Level, ObjectRef

SPECS = {
    spec.id: spec
    for spec in (
        CheckSpec(
            "rls_disabled_in_public",
            "RLS disabled in public",
            Level.ERROR,
            Category.SECURITY,
            "A table has RLS off.",
            "Anyone can read every row.",
            "Enable RLS.",
        ),
        CheckSpec(
            "unindexed_foreign_keys",
            "Unindexed foreign keys",
            Level.INFO,
            Category.PERFORMANCE,
            "A foreign key has no index.",
            "Deletes scan the child table.",
            "Add an index.",
        ),
        CheckSpec(
            "duplicate_index",
            "Duplicate index",
            Level.WARN,
            Category.PERFORMANCE,
            "Two indexes are identical.",
            "Writes pay twice.",
            "Drop one.",
        ),
        CheckSpec(
            "missing_primary_key",
            "Missing primary key",
            Level.WARN,
            Category.INTEGRITY,
            "A table has no primary key.",
            "Rows cannot be addressed.",
            "Add a primary key.",
        ),
    )
}


def finding(
    check: str,
    table: str,
    *,
    schema: str = "public",
    level: Level | None = None,
    detail: str | None = None,
    sql: str | None = None,
) -> Finding:
    spec = SPECS[check]
    return Finding(
        check=check,
        title=spec.title,
        level=level or spec.level,
        category=spec.category,
        object=ObjectRef("table", f"{schema}.{table}", schema, None, table),
        detail=detail or f"Table {schema}.{table} is affected by {check}.",
        evidence={"table": f"{schema}.{table}", "rows": len(table)},
        remediation_sql=sql if sql is not None else f"-- fix {schema}.{table}",
    )


def many_findings(count: int, seed: int = 7) -> tuple[Finding, ...]:
    rng = random.Random(seed)
    checks = list(SPECS)
    return tuple(
        finding(checks[i % len(checks)], f"t{rng.randrange(10**6):06d}_{i}", schema=rng.choice(["public", "app"]))
        for i in range(count)
    )
