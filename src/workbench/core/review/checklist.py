"""The readiness checklist: templates, and items evaluated from the findings.

The default template is distilled from the "Production Readiness Checklist" / "Deployment Readiness Checklist"
and "DBA sign-off" sections of real review reports: RLS on every user-facing table, no security-definer views,
tenant isolation, no anon access to system tables, foreign keys and their indexes, verified cron jobs, tested
rollback scripts, no data loss, monitoring after deployment. An item that names checks is evaluated from the
latest audit run (ticked only when none of those checks has an open finding and all of them ran); the others are
ticked by a person.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_TEMPLATE = "default"
_KEY = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True)
class ChecklistItemSpec:
    key: str
    text: str
    section: str = ""
    auto_checks: tuple[str, ...] = ()  # evaluated from these checks' findings when not empty

    @property
    def automatic(self) -> bool:
        return bool(self.auto_checks)

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "text": self.text, "section": self.section, "auto_checks": list(self.auto_checks)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChecklistItemSpec:
        return cls(
            key=str(data["key"]),
            text=str(data["text"]),
            section=str(data.get("section") or ""),
            auto_checks=tuple(str(c) for c in data.get("auto_checks") or ()),
        )


def _item(key: str, section: str, text: str, *checks: str) -> ChecklistItemSpec:
    return ChecklistItemSpec(key, text, section, checks)


DEFAULT_ITEMS: tuple[ChecklistItemSpec, ...] = (
    _item(
        "rls_on_exposed_tables",
        "Security",
        "RLS enabled on every table the API can reach",
        "rls_disabled_in_public",
        "policy_exists_rls_disabled",
        "insecure_queue_exposed_in_api",
        "sensitive_columns_exposed",
    ),
    _item(
        "no_security_definer_views",
        "Security",
        "No security-definer views exposed",
        "security_definer_view",
        "auth_users_exposed",
    ),
    _item(
        "policies_scoped_to_caller",
        "Security",
        "Policies scope rows to the caller or tenant (no always-true writes, no user_metadata)",
        "rls_policy_always_true",
        "rls_references_user_metadata",
        "tenant_isolation_gap",
    ),
    _item(
        "no_api_access_to_internal_tables",
        "Security",
        "No anon/authenticated access to internal or system tables",
        "public_grant_on_internal_table",
        "materialized_view_in_api",
        "foreign_table_in_api",
    ),
    _item(
        "functions_pinned_and_guarded",
        "Security",
        "Functions pin search_path; SECURITY DEFINER functions are not callable by anon",
        "function_search_path_mutable",
        "security_definer_function_executable",
    ),
    _item(
        "service_role_access_deliberate",
        "Security",
        "Backend/service-role access configured deliberately (tables and their sequences)",
        "sequence_privilege_gap",
    ),
    _item(
        "foreign_keys_enforced",
        "Integrity",
        "Foreign keys enforce referential integrity and are validated",
        "missing_foreign_key",
        "not_valid_constraint",
        "fk_type_mismatch",
    ),
    _item(
        "required_columns_not_null",
        "Integrity",
        "tenant_id and status columns are NOT NULL",
        "nullable_status_column",
    ),
    _item("primary_keys", "Integrity", "Every table has a primary key", "no_primary_key"),
    _item("no_data_loss", "Integrity", "No data loss (row counts verified before and after the migration)"),
    _item(
        "indexes_cover_foreign_keys",
        "Performance",
        "Indexes cover foreign keys; no duplicate or invalid indexes",
        "unindexed_foreign_keys",
        "duplicate_index",
        "invalid_index",
    ),
    _item(
        "rls_policies_efficient",
        "Performance",
        "RLS policies evaluate auth functions once per statement, one permissive policy per role and command",
        "auth_rls_initplan",
        "multiple_permissive_policies",
    ),
    _item(
        "cron_jobs_verified",
        "Reliability",
        "Scheduled jobs verified end to end (no failing or silently failing cron jobs)",
        "cron_job_failures",
        "cron_silent_http_failure",
    ),
    _item(
        "headroom",
        "Reliability",
        "Sequences, partitions and transaction IDs have headroom",
        "sequence_near_exhaustion",
        "missing_future_partition",
        "xid_wraparound_risk",
    ),
    _item("migrations_and_rollback_tested", "Release", "Migrations applied on staging; rollback scripts tested"),
    _item("code_uses_new_schema", "Release", "Application code and generated types match the schema"),
    _item("monitoring_after_deploy", "Release", "Monitoring planned for 24–48 hours after deployment"),
)


def validate_items(items: Iterable[ChecklistItemSpec], known_checks: Iterable[str]) -> list[str]:
    """Problems with a template's items, as sentences (empty when it can be saved)."""
    known = set(known_checks)
    problems: list[str] = []
    seen: set[str] = set()
    for item in items:
        if not _KEY.fullmatch(item.key):
            problems.append(f"Item key {item.key!r} must be snake_case.")
        if item.key in seen:
            problems.append(f"Item key {item.key!r} is used twice.")
        seen.add(item.key)
        if not item.text.strip():
            problems.append(f"Item {item.key!r} has no text.")
        unknown = [c for c in item.auto_checks if c not in known]
        if unknown:
            problems.append(f"Item {item.key!r} names unknown checks: {', '.join(unknown)}.")
    if not seen:
        problems.append("A checklist needs at least one item.")
    return problems


def items_to_json(items: Iterable[ChecklistItemSpec]) -> str:
    return json.dumps([i.as_json() for i in items], ensure_ascii=False)


def items_from_json(text: str) -> tuple[ChecklistItemSpec, ...]:
    return tuple(ChecklistItemSpec.from_json(d) for d in json.loads(text))
