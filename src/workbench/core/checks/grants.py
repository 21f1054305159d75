"""Privileges that do not add up: writers that cannot use the sequence behind their inserts, internal tables
handed to the API roles, and tenant tables whose isolation has a hole."""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from psycopg import sql

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.exposure import (
    api_roles,
    grantees_conferring,
    holds,
    is_exposed_schema,
    is_supabase,
    is_system_schema,
    is_user_object,
    relation_privileges,
    role_closure,
    schema_usable,
)
from workbench.core.checks.objects import comment, ident, rel_ident, relation_ref, render, role_ident, roles_list
from workbench.core.checks.policies import parsed_policy
from workbench.core.checks.registry import CheckSpec, check
from workbench.core.model import Category, Column, Constraint, Finding, Level, Policy, Relation, Sequence, Snapshot

_TABLE_PRIVILEGES: Final = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
_COLUMN_PRIVILEGES: Final = ("SELECT", "INSERT", "UPDATE", "REFERENCES")
_DELETE_RULES: Final = {"c": "CASCADE", "r": "RESTRICT"}  # the rules worth copying from sibling foreign keys


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _user_tables(snapshot: Snapshot) -> Iterator[Relation]:
    """User tables and partitioned parents; partitions are reached (and judged) through their parent."""
    for rel in snapshot.relations:
        if rel.kind in "rp" and rel.parent_oid is None and is_user_object(snapshot, rel.schema, rel.extension):
            yield rel


def _is_superuser(snapshot: Snapshot, role: str) -> bool:
    found = snapshot.role(role)
    return found is not None and found.superuser


# --- sequence_privilege_gap -------------------------------------------------------------------------------------


def _may_insert(snapshot: Snapshot, role: str, rel: Relation) -> bool:
    """INSERT on the table, or on any of its columns (the other columns' defaults still run)."""
    if holds(snapshot, role, rel.grants, "INSERT", rel.owner):
        return True
    return any(holds(snapshot, role, col.grants, "INSERT") for col in rel.columns)


def _may_use(snapshot: Snapshot, role: str, seq: Sequence) -> bool:
    """nextval() accepts USAGE or UPDATE on the sequence."""
    return holds(snapshot, role, seq.grants, "USAGE", seq.owner) or holds(
        snapshot, role, seq.grants, "UPDATE", seq.owner
    )


def _insert_denied_by_rls(snapshot: Snapshot, role: str, rel: Relation) -> bool:
    """RLS lets `role` insert no row at all (no permissive INSERT/ALL policy applies to it)."""
    if not rel.rls_enabled:
        return False
    found = snapshot.role(role)
    if found is not None and found.bypassrls:
        return False
    closure = role_closure(snapshot, role)
    if rel.owner in closure and not rel.rls_forced:
        return False
    return not any(
        pol.permissive and pol.command in ("INSERT", "ALL") and closure & set(pol.roles)
        for pol in snapshot.policies_of(rel.oid)
    )


def _insert_roles(snapshot: Snapshot, config: AuditConfig, rel: Relation) -> list[str]:
    """API roles and every explicit INSERT grantee that really can insert: not a superuser, schema usable,
    and not refused every row by RLS (a sequence grant would not help those)."""
    candidates = list(api_roles(snapshot, config))
    for grant in (*rel.grants, *(g for col in rel.columns for g in col.grants)):
        if grant.privilege == "INSERT" and grant.grantee not in candidates:
            candidates.append(grant.grantee)
    return sorted(
        (
            role
            for role in candidates
            if not _is_superuser(snapshot, role)
            and schema_usable(snapshot, role, rel.schema)
            and _may_insert(snapshot, role, rel)
            and not _insert_denied_by_rls(snapshot, role, rel)
        ),
        key=lambda r: (r != "PUBLIC", r),
    )


def _grant_map(seq: Sequence) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for g in seq.grants:
        out.setdefault(g.grantee, []).append(g.privilege)
    return {k: sorted(v) for k, v in sorted(out.items())}


def _defaults_by_table(snapshot: Snapshot) -> Mapping[int, list[tuple[int, Sequence]]]:
    """table OID -> (attnum, sequence) for every column default that calls a sequence."""
    out: dict[int, list[tuple[int, Sequence]]] = {}
    for seq in snapshot.sequences:
        for table_oid, attnum in seq.default_of:
            out.setdefault(table_oid, []).append((attnum, seq))
    return out


@check(
    "sequence_privilege_gap",
    "Sequence privilege gap",
    Level.WARN,
    Category.SECURITY,
    description=(
        "A role may INSERT into a table whose serial (nextval) column default calls a sequence the role may not use."
    ),
    rationale=(
        "GRANT on a table does not cascade to its sequences. A serial column's default calls nextval(), which "
        "needs USAGE (or UPDATE) on the sequence, so every insert relying on the default fails with "
        "'permission denied for sequence' - typically discovered in production by a background job. Identity "
        "columns (GENERATED ... AS IDENTITY) need no sequence privilege and are not reported."
    ),
    remediation=(
        "Grant USAGE on the sequence to the roles that insert into the table, or convert the column to an "
        "identity column, whose implicit sequence needs no grant."
    ),
)
def sequence_privilege_gap(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    defaults = _defaults_by_table(snapshot)
    for rel in _user_tables(snapshot):
        uses = defaults.get(rel.oid)
        if not uses:
            continue
        roles = _insert_roles(snapshot, config, rel)
        gaps: list[tuple[int, Sequence, list[str]]] = []
        for attnum, seq in uses:
            lacking = [r for r in roles if not _may_use(snapshot, r, seq)]
            if lacking:
                gaps.append((attnum, seq, lacking))
        if not gaps:
            continue
        by_role: dict[str, list[str]] = {}
        for _, seq, lacking in gaps:
            for role in lacking:
                by_role.setdefault(role, []).append(seq.qualified)
        sequences: list[dict[str, Any]] = [
            {
                "sequence": seq.qualified,
                "column": (col.name if (col := rel.column(attnum)) else str(attnum)),
                "owned_by_column": seq.owned_by_table == rel.oid and seq.owned_by_column == attnum,
                "sequence_owner": seq.owner,
                "sequence_grants": _grant_map(seq),
                "roles_without_usage": lacking,
            }
            for attnum, seq, lacking in gaps
        ]
        names = ", ".join(sorted(by_role))
        seq_names = ", ".join(seq.qualified for _, seq, _ in gaps)
        yield spec.finding(
            relation_ref(rel),
            f"{names} may INSERT into {rel.qualified} but not use {seq_names} behind its "
            f"{_plural(len(gaps), 'column default', 'column defaults')}: inserts that rely on the default fail "
            "with 'permission denied for sequence'.",
            evidence={"roles": {r: s for r, s in sorted(by_role.items())}, "sequences": sequences},
            sql=render(
                *(
                    sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(rel_ident(seq), roles_list(lacking))
                    for _, seq, lacking in gaps
                )
            ),
        )


# --- public_grant_on_internal_table -----------------------------------------------------------------------------


def _name_pattern(name: str, patterns: Iterable[str]) -> str | None:
    lowered = name.lower()
    return next((p for p in patterns if fnmatch.fnmatchcase(lowered, p.lower())), None)


def _holders(snapshot: Snapshot, config: AuditConfig, rel: Relation) -> dict[str, dict[str, Any]]:
    """PUBLIC and the API roles that can reach the table: their table and column privileges."""
    roles = ["PUBLIC", *(r for r in api_roles(snapshot, config) if r != "PUBLIC")]
    found: dict[str, dict[str, Any]] = {}
    for role in roles:
        if _is_superuser(snapshot, role) or rel.owner in role_closure(snapshot, role):
            continue  # superusers and the owner's own roles hold everything without a grant
        if not schema_usable(snapshot, role, rel.schema):
            continue
        table = list(relation_privileges(snapshot, role, rel))
        columns = {
            col.name: privs
            for col in rel.columns
            if (privs := [p for p in _COLUMN_PRIVILEGES if holds(snapshot, role, col.grants, p)])
            and not set(privs) <= set(table)
        }
        if table or columns:
            found[role] = {"table": table, "columns": columns}
    return found


def _describe_holder(role: str, held: Mapping[str, Any]) -> str:
    privileges = list(held["table"])
    if held["columns"]:
        privileges.append(f"column privileges on {', '.join(held['columns'])}")
    return f"{role} holds {', '.join(privileges)}"


def _revoke_targets(snapshot: Snapshot, rel: Relation, holders: Iterable[str]) -> list[str]:
    """The grantees whose grants give the holders their privileges (PUBLIC first)."""
    roles = list(holders)
    targets: set[str] = set()
    for privilege in _TABLE_PRIVILEGES:
        targets.update(grantees_conferring(snapshot, roles, rel.grants, privilege, rel.owner))
    for col in rel.columns:
        for privilege in _COLUMN_PRIVILEGES:
            targets.update(grantees_conferring(snapshot, roles, col.grants, privilege, rel.owner))
    return sorted(targets, key=lambda g: (g != "PUBLIC", g))


@check(
    "public_grant_on_internal_table",
    "Public grant on internal table",
    Level.WARN,
    Category.SECURITY,
    description=(
        "PUBLIC or an API role holds privileges on an internal table (outside the exposed schemas, or named "
        "like internal configuration) that has row level security off."
    ),
    rationale=(
        "Tables outside the exposed schemas, and configuration, secret or token tables, are meant for the "
        "backend. A grant to PUBLIC or an API role still lets any SQL running as that role - an invoker "
        "function, a view, a schema exposed later - read (or write) every row, because RLS is off. A "
        "production-readiness review found exactly this on a system_logs_settings table."
    ),
    remediation=(
        "Revoke the privileges from PUBLIC and the API roles. If the API really needs the table, enable row "
        "level security and write policies for it instead (or expose it through a SECURITY DEFINER function "
        "that returns only what is needed)."
    ),
)
def public_grant_on_internal_table(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel in _user_tables(snapshot):
        if rel.rls_enabled:
            continue
        exposed = is_exposed_schema(snapshot, config, rel.schema)
        pattern = _name_pattern(rel.name, config.internal_table_patterns)
        if exposed and pattern is None:
            continue  # an ordinary exposed table: rls_disabled_in_public's business
        holders = _holders(snapshot, config, rel)
        if not holders:
            continue
        targets = _revoke_targets(snapshot, rel, holders)
        reasons = []
        if not exposed:
            reasons.append(f"outside the exposed schemas ({', '.join(config.exposed_schemas) or 'none'})")
        if pattern is not None:
            reasons.append(f"named like {pattern}")
        why = "; ".join(reasons)
        who = "; ".join(_describe_holder(role, held) for role, held in holders.items())
        detail = f"Table {rel.qualified} is internal ({why}) and has RLS off, yet {who}."
        if exposed:
            detail += (
                " rls_disabled_in_public reports the missing RLS on this exposed table; this finding is about the "
                "grant itself: a table named like this is usually not meant for API roles at all."
            )
        else:
            detail += " Any SQL running as such a role (an invoker function, a view) reaches every row."
        statements: list[sql.Composable] = []
        if targets:
            # A table-level REVOKE also drops the grantees' column-level privileges.
            statements.append(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(rel_ident(rel), roles_list(targets)))
        yield spec.finding(
            relation_ref(rel),
            detail,
            evidence={
                "rls_enabled": False,
                "exposed_schema": exposed,
                "internal_because": why,
                "name_pattern": pattern,
                "privileges": {r: h["table"] for r, h in holders.items() if h["table"]},
                "column_privileges": {r: h["columns"] for r, h in holders.items() if h["columns"]},
                "grantees": targets,
            },
            sql=(
                comment(
                    "If API roles really need this table, keep the grant and enable RLS with policies instead:",
                    render(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(rel_ident(rel))),
                )
                + render(*statements)
                if statements
                else None
            ),
        )


# --- tenant_isolation_gap ---------------------------------------------------------------------------------------

CONDITIONS: Final = {
    "nullable": "the column is nullable",
    "no_foreign_key": "it has no foreign key",
    "rls_disabled": "RLS is disabled",
    "no_policy_references_column": "no policy references it",
}


@dataclass(frozen=True, slots=True)
class _Target:
    """The table a tenant column most likely references, and why we think so."""

    table: Relation
    column: Column
    reason: str
    on_delete: str = ""


def _tenant_columns(rel: Relation, names: Iterable[str]) -> list[Column]:
    """The table's tenant columns, in the configuration's order (the first one is the table's tenant key)."""
    by_name = {c.name.lower(): c for c in rel.columns}
    return [col for n in names if (col := by_name.get(n.lower())) is not None]


def _primary_key(snapshot: Snapshot, rel: Relation) -> Constraint | None:
    return next((c for c in snapshot.constraints_of(rel.oid) if c.type == "p"), None)


def _foreign_keys_on(snapshot: Snapshot, rel: Relation, attnum: int) -> list[Constraint]:
    return [c for c in snapshot.constraints_of(rel.oid) if c.type == "f" and attnum in c.columns]


def _is_tenants_table(snapshot: Snapshot, rel: Relation, col: Column) -> bool:
    """The tenants table itself: the tenant column is its whole primary key, references nothing, and other
    tables reference it (or the table is named after the column: tenant_id -> tenants). A 1:1 extension such
    as settings keyed by organization_id has a foreign key, so it is tenant data and is checked."""
    pk = _primary_key(snapshot, rel)
    if pk is None or pk.columns != (col.attnum,) or _foreign_keys_on(snapshot, rel, col.attnum):
        return False
    if rel.name.lower() in _named_candidates(col.name):
        return True
    return any(c.type == "f" and c.ref_table_oid == rel.oid and c.table_oid != rel.oid for c in snapshot.constraints)


def _rls_subjects(snapshot: Snapshot, config: AuditConfig, rel: Relation) -> list[str]:
    """The roles row level security would constrain on this table: API roles and grantees holding a table or
    column privilege with USAGE on the schema, minus superusers, BYPASSRLS roles and the owner's roles."""
    grants = (*rel.grants, *(g for col in rel.columns for g in col.grants))
    candidates = dict.fromkeys((*api_roles(snapshot, config), *(g.grantee for g in grants)))
    subjects: list[str] = []
    for role in candidates:
        found = snapshot.role(role)
        if found is not None and (found.superuser or found.bypassrls):
            continue
        if rel.owner in role_closure(snapshot, role) and not rel.rls_forced:
            continue
        if not schema_usable(snapshot, role, rel.schema):
            continue
        held = relation_privileges(snapshot, role, rel) or any(
            holds(snapshot, role, col.grants, p) for col in rel.columns if col.grants for p in _COLUMN_PRIVILEGES
        )
        if held:
            subjects.append(role)
    return sorted(subjects, key=lambda r: (r != "PUBLIC", r))


def _own_columns(snapshot: Snapshot, rel: Relation, pol: Policy) -> set[str] | None:
    """Columns of the policy's own table its expressions read (sub-select columns of other tables are not
    listed; correlated references to the policy's table are); None when a tree cannot be read."""
    parsed = parsed_policy(snapshot, pol)
    if parsed.error is not None:
        return None
    refs = (ref for _, expr in parsed.expressions() for ref in expr.referenced_columns())
    return {c for s, t, c in refs if (s, t) == (rel.schema, rel.name)}


def _single_key(snapshot: Snapshot, rel: Relation) -> Column | None:
    """The column of a single-column primary key (else of a single-column unique key)."""
    for kind in ("p", "u"):
        for con in snapshot.constraints_of(rel.oid):
            if con.type == kind and len(con.columns) == 1:
                return rel.column(con.columns[0])
    return None


def _named_candidates(column: str) -> list[str]:
    base = column.lower().removesuffix("_id")
    names = [base + "s", base, base + "es"]
    if base.endswith("y"):
        names.insert(0, base[:-1] + "ies")
    if base == "org":
        names = ["organizations", "organisations", "orgs", "organization", "org"]
    return names


def _single_column_fkeys(snapshot: Snapshot) -> dict[str, list[Constraint]]:
    """Single-column foreign keys of non-partition tables by their column's lower-cased name, built once (one
    scan of every constraint per tenant table was quadratic: 1.7 s on 2,000 tables)."""

    def build() -> dict[str, list[Constraint]]:
        out: dict[str, list[Constraint]] = {}
        for con in snapshot.constraints:
            if con.type != "f" or len(con.columns) != 1 or con.ref_table_oid is None:
                continue
            owner = snapshot.relation(con.table_oid)
            source = owner.column(con.columns[0]) if owner is not None else None
            if owner is not None and source is not None and not owner.parent_oid:
                out.setdefault(source.name.lower(), []).append(con)
        return out

    return cast("dict[str, list[Constraint]]", snapshot._lookup("single_column_fkeys", build))


def _likely_target(snapshot: Snapshot, config: AuditConfig, rel: Relation, col: Column) -> _Target | None:
    """Where `col` most likely points: the table its namesakes elsewhere reference, else the table it is
    named after (organization_id -> organizations) with a single-column key of the same type."""
    votes: Counter[tuple[int, int, str]] = Counter(
        (con.ref_table_oid, con.ref_columns[0], con.on_delete)
        for con in _single_column_fkeys(snapshot).get(col.name.lower(), ())
        if con.table_oid != rel.oid and con.ref_table_oid is not None
    )
    if votes:
        by_target: Counter[tuple[int, int]] = Counter()
        for (table_oid, attnum, _), count in votes.items():
            by_target[(table_oid, attnum)] += count
        (table_oid, attnum), count = by_target.most_common(1)[0]
        rules = Counter({rule: n for (t, a, rule), n in votes.items() if (t, a) == (table_oid, attnum)})
        target = snapshot.relation(table_oid)
        key = target.column(attnum) if target is not None else None
        if target is not None and key is not None and target.oid != rel.oid and key.type == col.type:
            return _Target(
                target,
                key,
                f"{count} other {_plural(count, 'table references', 'tables reference')} "
                f"{target.qualified}({key.name}) from a column named {col.name}",
                rules.most_common(1)[0][0],
            )
    schemas = [rel.schema, *(s for s in config.exposed_schemas if s != rel.schema)]
    every: list[str] = snapshot._lookup("relation_schemas", lambda: sorted({r.schema for r in snapshot.relations}))
    schemas += [s for s in every if s not in schemas]
    for schema in schemas:
        if is_system_schema(snapshot, schema):
            continue
        for name in _named_candidates(col.name):
            target = snapshot.relation_named(schema, name)
            if target is None or target.kind not in "rp" or target.oid == rel.oid:
                continue
            key = _single_key(snapshot, target)
            if key is not None and key.type == col.type:
                return _Target(target, key, f"the column is named after {target.qualified}")
    return None


def _template_predicate(snapshot: Snapshot, rel: Relation, col: Column) -> tuple[str, tuple[str, ...], str] | None:
    """An isolation predicate another table already uses on a column of the same name: (expression, roles,
    where it comes from). Only expressions that read nothing of their own table but that column qualify."""
    candidates = snapshot._lookup(f"tenant_templates:{col.name}:{col.type}", lambda: _templates(snapshot, col))
    for oid, template in candidates:
        if oid != rel.oid:
            return template  # type: ignore[no-any-return]
    return None


def _templates(snapshot: Snapshot, col: Column) -> list[tuple[int, tuple[str, tuple[str, ...], str]]]:
    """Every table's usable isolation predicate on a column named and typed like `col`, computed once."""
    found = []
    for other in snapshot.relations:
        if not other.rls_enabled or other.kind not in "rp":
            continue
        if not is_user_object(snapshot, other.schema, other.extension):
            continue
        own = other.column_named(col.name)
        if own is None or own.type != col.type:
            continue
        for pol in snapshot.policies_of(other.oid):
            if pol.using is None or pol.command not in ("ALL", "SELECT") or f"{other.name}." in pol.using:
                continue
            if _own_columns(snapshot, other, pol) == {col.name}:
                found.append((other.oid, (pol.using, pol.roles, f"{other.qualified} policy {pol.name}")))
                break
    return found


def _tenant_fix(
    snapshot: Snapshot,
    config: AuditConfig,
    rel: Relation,
    col: Column,
    failing: list[str],
    target: _Target | None,
) -> str:
    table, column = rel_ident(rel), ident(col.name)
    parts: list[str] = []
    if "nullable" in failing:
        parts.append(
            comment(
                f"Fix the rows whose {col.name} is NULL first. SET NOT NULL scans the table under an ACCESS "
                "EXCLUSIVE lock; on a large table first add CHECK (... IS NOT NULL) NOT VALID, VALIDATE it, "
                "then SET NOT NULL (PostgreSQL 12+ then skips the scan) and drop the check."
            )
            + render(sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL").format(table, column))
        )
    if "no_foreign_key" in failing:
        if target is not None:
            name = ident(f"{rel.name}_{col.name}_fkey")
            rule = _DELETE_RULES.get(target.on_delete)
            add = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){} NOT VALID").format(
                table,
                name,
                column,
                rel_ident(target.table),
                ident(target.column.name),
                sql.SQL(f" ON DELETE {rule}") if rule else sql.SQL(""),
            )
            parts.append(
                comment(
                    f"Points {col.name} at {target.table.qualified}({target.column.name}): {target.reason}.",
                    "NOT VALID skips the scan of existing rows (brief SHARE ROW EXCLUSIVE locks on both tables); "
                    "VALIDATE can run separately, under SHARE UPDATE EXCLUSIVE, and fails while orphan rows remain.",
                )
                + render(add, sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(table, name))
            )
        else:
            template = sql.SQL("ALTER TABLE {} ADD FOREIGN KEY ({}) REFERENCES <tenants table> (id) NOT VALID").format(
                table, column
            )
            parts.append(
                comment(
                    f"No table that {col.name} obviously references was found; point it at the tenants table:",
                    render(template),
                )
            )
    if "no_policy_references_column" in failing:
        found = _template_predicate(snapshot, rel, col)
        predicate: sql.Composable
        if found is not None:
            text, roles, source = found
            predicate, origin = sql.SQL(text), f"the predicate of {source}"
        else:
            predicate = sql.SQL("{} IN (SELECT <tenants of the current user>)").format(column)
            roles = ("authenticated",) if is_supabase(snapshot) else ("PUBLIC",)
            origin = "a template"
        # A restrictive policy only narrows what permissive ones admit: alone it would deny every row.
        restrictive = any(p.permissive for p in snapshot.policies_of(rel.oid))
        policy = sql.SQL("CREATE POLICY {} ON {}{} FOR ALL TO {} USING ({}) WITH CHECK ({})").format(
            ident(f"{rel.name}_tenant_isolation"),
            table,
            sql.SQL(" AS RESTRICTIVE" if restrictive else ""),
            sql.SQL(", ").join(role_ident(r) for r in roles),
            predicate,
            predicate,
        )
        how = (
            "RESTRICTIVE, so it is ANDed with the existing permissive policies"
            if restrictive
            else "the table has no permissive policy yet, so this one admits the tenant's rows"
        )
        parts.append(
            comment(
                f"Scope every row to its tenant with {origin} (review it, then uncomment); {how}:",
                render(policy),
            )
        )
    if "rls_disabled" in failing:
        statement = render(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(table))
        if not any(p.permissive for p in snapshot.policies_of(rel.oid)):
            statement = (
                comment(
                    "With RLS on and no permissive policy, every role but the owner and BYPASSRLS roles sees no "
                    "rows: create the policies the application needs in the same transaction."
                )
                + statement
            )
        parts.append(statement)
    return "\n".join(p.rstrip("\n") for p in parts)


@check(
    "tenant_isolation_gap",
    "Tenant isolation gap",
    Level.ERROR,
    Category.SECURITY,
    description=(
        "A table with a tenant column has it nullable, or without a foreign key, or has RLS disabled, or no "
        "policy that references the tenant column."
    ),
    rationale=(
        "In a multi-tenant schema every tenant-owned row must carry a valid tenant and every access must be "
        "scoped by it. A NULL tenant orphans rows (invisible to their tenant, or visible to all when a "
        "policy treats NULL loosely), a missing foreign key lets rows point at tenants that do not exist, and "
        "without RLS or a policy on the tenant column one tenant's users can reach another tenant's rows. "
        "Reviews that declare isolation 'verified' check exactly these four points."
    ),
    remediation=(
        "Make the tenant column NOT NULL, add the foreign key to the tenants table (NOT VALID first, then "
        "VALIDATE), enable row level security and add a policy (ideally RESTRICTIVE) that scopes rows to the "
        "current user's tenants."
    ),
)
def tenant_isolation_gap(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel in _user_tables(snapshot):
        tenant_columns = _tenant_columns(rel, config.tenant_columns)
        if not tenant_columns:
            continue
        col = tenant_columns[0]
        if _is_tenants_table(snapshot, rel, col):
            continue
        tenant_names = {c.name for c in tenant_columns}
        policies = snapshot.policies_of(rel.oid)
        referencing: list[str] = []
        unreadable: list[str] = []
        for pol in policies:
            own = _own_columns(snapshot, rel, pol)
            if own is None:
                unreadable.append(pol.name)
            elif own & tenant_names or "*" in own:  # a whole-row reference may pass the tenant on
                referencing.append(pol.name)
        fkeys = _foreign_keys_on(snapshot, rel, col.attnum)
        # RLS and policies only matter for roles they constrain: a table reached only by its owner, superusers
        # and BYPASSRLS roles (a backend table behind SECURITY DEFINER functions) gains nothing from them.
        subjects = _rls_subjects(snapshot, config, rel)
        failing = [
            name
            for name, fails in (
                ("nullable", not col.not_null),
                ("no_foreign_key", not fkeys),
                ("rls_disabled", bool(subjects) and not rel.rls_enabled),
                ("no_policy_references_column", bool(subjects) and not referencing and not unreadable),
            )
            if fails
        ]
        if not failing:
            continue
        target = _likely_target(snapshot, config, rel, col) if "no_foreign_key" in failing else None
        evidence: dict[str, Any] = {
            "tenant_column": col.name,
            "failing": failing,
            "nullable": not col.not_null,
            "foreign_keys": [c.name for c in fkeys],
            "rls_enabled": rel.rls_enabled,
            "policies": [p.name for p in policies],
            "policies_referencing_tenant_column": referencing,
            "roles_subject_to_rls": subjects,
        }
        if len(tenant_columns) > 1:
            evidence["other_tenant_columns"] = [c.name for c in tenant_columns[1:]]
        if unreadable:
            evidence["unreadable_policies"] = unreadable
        if target is not None:
            evidence["likely_references"] = f"{target.table.qualified}({target.column.name})"
        reasons = [CONDITIONS[f] for f in failing]
        said = reasons[0] if len(reasons) == 1 else ", ".join(reasons[:-1]) + " and " + reasons[-1]
        if not subjects:
            said += "; only its owner, superusers and BYPASSRLS roles reach it, so RLS is not required"
        yield spec.finding(
            relation_ref(rel),
            f"Tenant table {rel.qualified} (tenant column {col.name}): {said}.",
            evidence=evidence,
            sql=_tenant_fix(snapshot, config, rel, col, failing, target),
        )
