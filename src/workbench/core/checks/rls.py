"""Row level security: tables reachable by API roles without RLS, and RLS set up incompletely."""

from __future__ import annotations

from collections.abc import Iterator

from psycopg import sql

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.exposure import (
    api_roles,
    exposed_relations,
    is_user_object,
    relation_privileges,
    schema_usable,
)
from workbench.core.checks.objects import rel_ident, relation_ref, render
from workbench.core.checks.registry import CheckSpec, check
from workbench.core.model import Category, Finding, Level, Snapshot


@check(
    "rls_disabled_in_public",
    "RLS disabled in public",
    Level.ERROR,
    Category.SECURITY,
    description="A table in an exposed schema has row level security off while an API role holds privileges on it.",
    rationale=(
        "Anyone holding the public API key acts as an API role. With RLS off, every row of the table is "
        "readable (and, with write grants, writable) through the API: the grant is the only barrier left."
    ),
    remediation=(
        "Enable row level security, then add policies for the access the application needs. If the table must "
        "not be reachable at all, revoke the API roles' privileges or move it to a schema that is not exposed."
    ),
)
def rls_disabled_in_public(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel in exposed_relations(snapshot, config, "rp"):
        if rel.rls_enabled or rel.parent_oid is not None:  # partitions are reached through their parent
            continue
        holders = {
            role: privs
            for role in api_roles(snapshot, config)
            if schema_usable(snapshot, role, rel.schema) and (privs := relation_privileges(snapshot, role, rel))
        }
        if not holders:
            continue
        yield spec.finding(
            relation_ref(rel),
            f"Table {rel.qualified} has RLS disabled and is reachable by {', '.join(sorted(holders))}.",
            evidence={"rls_enabled": False, "privileges": {r: list(p) for r, p in sorted(holders.items())}},
            sql=render(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(rel_ident(rel))),
        )


@check(
    "policy_exists_rls_disabled",
    "Policy exists, RLS disabled",
    Level.ERROR,
    Category.SECURITY,
    description="A table has policies but row level security is disabled, so the policies are not enforced.",
    rationale=(
        "Policies only apply while RLS is enabled. Their presence suggests the author believes the table is "
        "protected, but every grant holder sees every row."
    ),
    remediation="Enable row level security on the table (and review that its policies are what you expect).",
)
def policy_exists_rls_disabled(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel in snapshot.relations:
        policies = snapshot.policies_of(rel.oid)
        if rel.kind not in "rp" or rel.rls_enabled or not policies:
            continue
        if not is_user_object(snapshot, rel.schema, rel.extension):
            continue
        yield spec.finding(
            relation_ref(rel),
            f"Table {rel.qualified} has {len(policies)} polic{'y' if len(policies) == 1 else 'ies'} "
            "but RLS is disabled.",
            evidence={"rls_enabled": False, "policies": [p.name for p in policies]},
            sql=render(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(rel_ident(rel))),
        )


@check(
    "rls_enabled_no_policy",
    "RLS enabled, no policy",
    Level.INFO,
    Category.SECURITY,
    description="A table has row level security enabled but no policy, so only its owner and BYPASSRLS roles see rows.",
    rationale=(
        "Deny-all may be intended (a table only the backend reads), but it is often a forgotten policy that "
        "makes the application see empty results."
    ),
    remediation=(
        "Add the policies the application needs, or make the intent explicit with a restrictive "
        "`USING (false)` policy and a comment."
    ),
)
def rls_enabled_no_policy(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel in snapshot.relations:
        if rel.kind not in "rp" or not rel.rls_enabled or snapshot.policies_of(rel.oid):
            continue
        if not is_user_object(snapshot, rel.schema, rel.extension):
            continue
        deny = sql.SQL("CREATE POLICY {} ON {} AS RESTRICTIVE FOR ALL TO PUBLIC USING (false)").format(
            sql.Identifier(f"{rel.name}_deny_all"), rel_ident(rel)
        )
        yield spec.finding(
            relation_ref(rel),
            f"Table {rel.qualified} has RLS enabled and no policy: API roles see no rows.",
            evidence={"rls_enabled": True, "policies": 0},
            sql="-- If deny-all is intended, say so explicitly:\n" + render(deny),
        )
