"""Data the API can reach by accident: secret columns, queues, storage listings, GraphQL introspection; and
references into Supabase-managed schemas or catalog types that block an upgrade."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.exposure import (
    api_roles,
    can_select,
    exposed_relations,
    grantees_conferring,
    holds,
    is_user_object,
    relation_privileges,
    role_closure,
    roles_that_can,
    schema_usable,
)
from workbench.core.checks.objects import (
    column_ref,
    comment,
    constraint_ref,
    ident,
    rel_ident,
    relation_ref,
    render,
    roles_list,
)
from workbench.core.checks.policy_expr import Node, NodeTreeError, PolicyExpression, parsed_tree
from workbench.core.checks.registry import CheckSkipped, CheckSpec, check
from workbench.core.model import Category, Column, Finding, Level, ObjectRef, Policy, Relation, Snapshot

# pg_upgrade refuses columns of these types: they store OIDs that the new cluster does not keep. regclass,
# regtype and regrole are accepted (pg_upgrade preserves the OIDs of relations, types and roles).
UNSUPPORTED_REG_TYPES = frozenset(
    {
        "regcollation",
        "regconfig",
        "regdictionary",
        "regnamespace",
        "regoper",
        "regoperator",
        "regproc",
        "regprocedure",
    }
)
# What may surround the single column reference of a `bucket_id = '<bucket>'` filter.
_FILTER_OPERANDS = frozenset({"VAR", "CONST", "RELABELTYPE", "COLLATEEXPR", "COERCEVIAIO", "ARRAYEXPR"})
_BUCKET_COLUMN = ("storage", "objects", "bucket_id")


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


# --- sensitive columns ----------------------------------------------------------------------------------------


def sensitive_pattern(column: str, patterns: Iterable[str]) -> str | None:
    """The configured name or glob pattern a column name matches (lower-cased, '-' read as '_'), if any."""
    name = column.lower().replace("-", "_")
    for pattern in patterns:
        if fnmatch.fnmatchcase(name, pattern.lower().replace("-", "_")):
            return pattern
    return None


def _column_readers(snapshot: Snapshot, rel: Relation, column: Column, roles: Iterable[str]) -> list[str]:
    """The roles that can read `column`: SELECT on the table or on that column."""
    return [
        r
        for r in roles
        if holds(snapshot, r, rel.grants, "SELECT", rel.owner) or holds(snapshot, r, column.grants, "SELECT")
    ]


def _hide_columns_sql(
    snapshot: Snapshot, rel: Relation, hidden: list[Column], readers: list[str]
) -> list[sql.Composable]:
    """Revoke SELECT on the sensitive columns while keeping every other column readable as before."""
    statements: list[sql.Composable] = []
    table_grantees = grantees_conferring(snapshot, readers, rel.grants, "SELECT", rel.owner)
    hidden_names = {c.name for c in hidden}
    kept = [c.name for c in rel.columns if c.name not in hidden_names]
    if table_grantees:
        # A table-level REVOKE also drops those grantees' column-level SELECT grants.
        statements.append(sql.SQL("REVOKE SELECT ON {} FROM {}").format(rel_ident(rel), roles_list(table_grantees)))
        if kept:
            statements.append(
                sql.SQL("GRANT SELECT ({}) ON {} TO {}").format(
                    sql.SQL(", ").join(ident(c) for c in kept), rel_ident(rel), roles_list(table_grantees)
                )
            )
    for col in hidden:
        only_column = [
            g
            for g in grantees_conferring(snapshot, readers, col.grants, "SELECT", rel.owner)
            if g not in table_grantees
        ]
        if only_column:
            statements.append(
                sql.SQL("REVOKE SELECT ({}) ON {} FROM {}").format(
                    ident(col.name), rel_ident(rel), roles_list(only_column)
                )
            )
    return statements


@check(
    "sensitive_columns_exposed",
    "Sensitive columns exposed",
    Level.ERROR,
    Category.SECURITY,
    description=(
        "A table in an exposed schema has RLS off and a column named like a secret or personal data "
        "(password, token, ssn, iban...) that an API role can read."
    ),
    rationale=(
        "With row level security off, whoever holds the public API key reads every row of the column: "
        "password hashes, API tokens or identity numbers leak wholesale. Row level security would limit the "
        "rows, but only column privileges keep a column away from the API entirely."
    ),
    remediation=(
        "Move secrets to a table or schema the API cannot reach. Otherwise revoke SELECT on the sensitive "
        "columns from the API roles (revoke the table-level SELECT, grant SELECT on the other columns), and "
        "enable row level security with policies for the rows each user may see. The list of names is the "
        "`sensitive_columns` setting (exact names and glob patterns such as `*_token`)."
    ),
)
def sensitive_columns_exposed(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel in exposed_relations(snapshot, config, "rp"):
        if rel.rls_enabled or rel.parent_oid is not None:  # partitions are reached through their parent
            continue
        roles = [r for r in api_roles(snapshot, config) if schema_usable(snapshot, r, rel.schema)]
        exposed: dict[str, dict[str, Any]] = {}
        hidden: list[Column] = []
        readers: set[str] = set()
        for col in rel.columns:
            if col.type_name == "bool":  # `has_password`, `is_secret`: a flag holds no secret
                continue
            pattern = sensitive_pattern(col.name, config.sensitive_columns)
            if pattern is None:
                continue
            hidden.append(col)
            who = _column_readers(snapshot, rel, col, roles)
            if who:
                exposed[col.name] = {"type": col.type, "matches": pattern, "readable_by": who}
                readers.update(who)
        if not exposed:
            continue
        revoke = _hide_columns_sql(snapshot, rel, hidden, sorted(readers))
        yield spec.finding(
            relation_ref(rel),
            f"Table {rel.qualified} has RLS disabled and {len(exposed)} sensitive "
            f"{_plural(len(exposed), 'column', 'columns')} readable by {', '.join(sorted(readers))}: "
            f"{', '.join(exposed)}.",
            evidence={
                "rls_enabled": False,
                "columns": exposed,
                "select_granted_to": sorted({g.grantee for g in rel.grants if g.privilege == "SELECT"}),
            },
            sql=comment("Keep the other columns readable, hide the sensitive ones from the API roles:")
            + render(*revoke)
            if revoke
            else None,
        )


# --- foreign keys into auth -------------------------------------------------------------------------------------


@check(
    "fkey_to_auth_unique",
    "Foreign key to an auth unique constraint",
    Level.ERROR,
    Category.SECURITY,
    description="A foreign key references a unique key of a table in schema auth that is not its primary key.",
    rationale=(
        "Supabase owns the auth schema and changes its unique constraints in platform upgrades (for example "
        "users_phone_key). A foreign key that depends on such a constraint blocks the upgrade, or loses its "
        "meaning when the constraint changes; only the primary key (auth.users.id) is a stable target."
    ),
    remediation=(
        "Drop the foreign key and reference the table's primary key instead (auth.users(id)), copying the "
        "value you need into your own table if necessary."
    ),
)
def fkey_to_auth_unique(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for con in snapshot.constraints:
        if con.type != "f" or con.ref_table_oid is None or con.index_oid is None:
            continue
        rel = snapshot.relation(con.table_oid)
        target = snapshot.relation(con.ref_table_oid)
        key = snapshot.index(con.index_oid)
        if rel is None or target is None or key is None or target.schema != "auth":
            continue
        if key.is_primary or not key.is_unique:
            continue
        # Partitions carry a copy of their parent's foreign key: report it once, on the parent.
        if rel.parent_oid is not None or not is_user_object(snapshot, rel.schema, rel.extension):
            continue
        ref_columns = [c.name for a in con.ref_columns if (c := target.column(a)) is not None]
        primary = next((ix for ix in snapshot.indexes_of(target.oid) if ix.is_primary), None)
        yield spec.finding(
            constraint_ref(rel, con),
            f"Foreign key {con.name} on {rel.qualified} references {target.qualified}({', '.join(ref_columns)}) "
            f"through unique key {key.constraint or key.name}, not the primary key.",
            evidence={
                "definition": con.definition,
                "referenced_table": target.qualified,
                "referenced_columns": ref_columns,
                "referenced_key": key.constraint or key.name,
                "referenced_key_is_primary": False,
                "primary_key_columns": (
                    [c.name for a in primary.key_columns if (c := target.column(a)) is not None] if primary else []
                ),
            },
            sql=comment(f"Reference the primary key of {target.qualified} instead, then:")
            + render(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(rel_ident(rel), ident(con.name))),
        )


# --- reg* columns -----------------------------------------------------------------------------------------------


def _reg_type(col: Column) -> str | None:
    """The unsupported reg* type stored in `col` (directly or as an array element), if any."""
    base = col.type_name[1:] if col.type.endswith("[]") and col.type_name.startswith("_") else col.type_name
    return base if base in UNSUPPORTED_REG_TYPES else None


@check(
    "unsupported_reg_types",
    "Unsupported reg* column types",
    Level.WARN,
    Category.SECURITY,
    description=(
        "A user table or materialized view stores a reg* type (regproc, regprocedure, regoper, regoperator, "
        "regconfig, regdictionary, regnamespace, regcollation) that pg_upgrade cannot carry over."
    ),
    rationale=(
        "These types store raw catalog OIDs, which pg_upgrade does not preserve, so it refuses to upgrade a "
        "cluster that stores them: the major-version upgrade is blocked until the column changes. regclass, "
        "regtype and regrole are fine."
    ),
    remediation=(
        "Store the object's name as text (the cast `::text` gives the qualified name, `::regproc` etc. turns it "
        "back into an OID at query time). Changing the column type rewrites the table."
    ),
)
def unsupported_reg_types(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel in snapshot.relations:
        # Only relations that store rows matter to pg_upgrade; a partitioned table is fixed through its parent.
        if rel.kind not in "rpm" or rel.parent_oid is not None:
            continue
        if not is_user_object(snapshot, rel.schema, rel.extension):
            continue
        for col in rel.columns:
            reg = _reg_type(col)
            if reg is None:
                continue
            if rel.kind == "m":
                fix = None
            else:
                target = "text[]" if col.type.endswith("[]") else "text"
                fix = comment("Rewrites the table under an ACCESS EXCLUSIVE lock; views using the column block it.")
                fix += render(
                    sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}").format(
                        rel_ident(rel), ident(col.name), sql.SQL(target), ident(col.name), sql.SQL(target)
                    )
                )
            yield spec.finding(
                column_ref(rel, col.name),
                f"Column {rel.qualified}.{col.name} is of type {col.type}, which blocks pg_upgrade"
                + (" (recreate the materialized view with the column cast to text)." if fix is None else "."),
                evidence={"type": col.type, "reg_type": reg, "relation_kind": relation_ref(rel).kind},
                sql=fix,
            )


# --- pgmq queues ------------------------------------------------------------------------------------------------


@check(
    "insecure_queue_exposed_in_api",
    "Insecure queue exposed in API",
    Level.ERROR,
    Category.SECURITY,
    description="A pgmq queue table (pgmq.q_*) has RLS off and an API role can read it.",
    rationale=(
        "Supabase Queues exposes pgmq through the pgmq_public functions, which run with the caller's "
        "privileges. With row level security off on the queue table, any holder of the API key can read, "
        "and with write grants send or delete, every message of the queue."
    ),
    remediation=(
        "Enable row level security on the queue table and add policies for the roles that may use it, or "
        "revoke the API roles' privileges on it."
    ),
)
def insecure_queue_exposed_in_api(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    if snapshot.schema("pgmq") is None:
        return  # no pgmq, no queue: nothing to check
    for rel in snapshot.relations:
        # Queue tables are usually members of the pgmq extension: that must not hide them here.
        if rel.schema != "pgmq" or not rel.name.startswith("q_") or rel.kind not in "rp":
            continue
        if rel.rls_enabled or rel.parent_oid is not None:
            continue
        holders = {
            role: privs
            for role in api_roles(snapshot, config)
            if schema_usable(snapshot, role, rel.schema)
            and "SELECT" in (privs := relation_privileges(snapshot, role, rel))
        }
        if not holders:
            continue
        yield spec.finding(
            relation_ref(rel),
            f"Queue table {rel.qualified} has RLS disabled and is readable by {', '.join(sorted(holders))}.",
            evidence={
                "queue": rel.name[2:],
                "rls_enabled": False,
                "privileges": {r: list(p) for r, p in sorted(holders.items())},
                "pgmq_public_schema": snapshot.schema("pgmq_public") is not None,
            },
            sql=render(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(rel_ident(rel))),
        )


# --- storage buckets --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _BucketScope:
    """The buckets whose every object a policy admits: all of them (`every`), or the named ones."""

    every: bool
    buckets: frozenset[str] = frozenset()

    def admits(self, bucket: str) -> bool:
        return self.every or bucket in self.buckets


@dataclass(frozen=True, slots=True)
class _ObjectsPolicy:
    """A SELECT/ALL policy on storage.objects; `scope` is None when it admits no bucket as a whole."""

    policy: Policy
    scope: _BucketScope | None

    def applies_to(self, snapshot: Snapshot, role: str) -> bool:
        return bool(role_closure(snapshot, role) & set(self.policy.roles))

    def evidence(self) -> dict[str, Any]:
        assert self.scope is not None
        return {
            "policy": self.policy.name,
            "command": self.policy.command,
            "roles": list(self.policy.roles),
            "using": self.policy.using,
            "opens": "every bucket" if self.scope.every else sorted(self.scope.buckets),
        }


def _bucket_filter(node: Any, analyse: Callable[[Node], PolicyExpression]) -> frozenset[str] | None:
    """Buckets a USING expression opens entirely, or None when it filters on anything but the bucket.

    Accepted: `bucket_id = '<b>'`, `bucket_id IN ('<b1>', ...)` (= ANY) and ORs of those; anything else,
    such as a check on the owner or the folder, makes the policy narrower than a listing.
    """
    if not isinstance(node, Node):
        return None
    if node.type == "BOOLEXPR" and node.get("boolop") == "or":
        args = node.get("args")
        parts = [_bucket_filter(arg, analyse) for arg in args] if isinstance(args, list) else [None]
        if not parts or any(p is None for p in parts):
            return None
        return frozenset().union(*(p for p in parts if p is not None))
    if node.type not in ("OPEXPR", "SCALARARRAYOPEXPR"):
        return None
    if node.type == "SCALARARRAYOPEXPR" and not node.get_bool("useOr"):
        return None
    comparison = analyse(node)
    opno = node.get_int("opno")
    operator = comparison.operator_name(opno) if opno is not None else None
    if operator is None or operator.rpartition(".")[2] != "=":
        return None
    operands = list(comparison.nodes())[1:]
    if any(n.type not in _FILTER_OPERANDS for n in operands) or sum(n.type == "VAR" for n in operands) != 1:
        return None
    if comparison.referenced_columns() != {_BUCKET_COLUMN}:
        return None
    return frozenset(comparison.string_constants())


def _objects_policies(snapshot: Snapshot, objects: Relation) -> list[_ObjectsPolicy]:
    """The SELECT/ALL policies on storage.objects with the buckets each admits as a whole."""
    columns = {c.attnum: c.name for c in objects.columns}

    def analyse(tree: str | Node) -> PolicyExpression:
        return PolicyExpression(
            parsed_tree(snapshot, tree) if isinstance(tree, str) else tree,
            function_name=snapshot.function_name,
            operator_name=snapshot.operator_name,
            table=(objects.schema, objects.name),
            columns=columns,
        )

    found: list[_ObjectsPolicy] = []
    for pol in snapshot.policies_of(objects.oid):
        if pol.command not in ("SELECT", "ALL"):
            continue
        scope: _BucketScope | None = None
        if pol.using_tree is None:
            # Without USING a permissive policy admits no row, and a restrictive one restricts nothing.
            scope = None if pol.permissive else _BucketScope(every=True)
        else:
            try:
                expr = analyse(pol.using_tree)
                if expr.is_always_true():
                    scope = _BucketScope(every=True)
                elif buckets := _bucket_filter(expr.root, analyse):
                    scope = _BucketScope(every=False, buckets=buckets)
            except NodeTreeError:
                scope = None
        found.append(_ObjectsPolicy(pol, scope))
    return found


def _listing_policies(
    snapshot: Snapshot, policies: list[_ObjectsPolicy], role: str, bucket: str
) -> list[_ObjectsPolicy]:
    """The permissive policies through which `role` lists all of `bucket` (none when a restrictive one narrows)."""
    applicable = [p for p in policies if p.applies_to(snapshot, role)]
    if any(not p.policy.permissive and (p.scope is None or not p.scope.admits(bucket)) for p in applicable):
        return []
    return [p for p in applicable if p.policy.permissive and p.scope is not None and p.scope.admits(bucket)]


@check(
    "public_bucket_allows_listing",
    "Public bucket allows listing",
    Level.WARN,
    Category.SECURITY,
    description="A public storage bucket also has a broad SELECT policy on storage.objects, so clients can list it.",
    rationale=(
        "Objects of a public bucket are served by URL without any policy. A SELECT policy that is always "
        "true, or only checks `bucket_id`, adds the ability to list every file of the bucket through the API, "
        "which exposes file names and objects nobody was given a link to."
    ),
    remediation=(
        "Drop the broad SELECT policy (public URLs keep working), or narrow it to what clients must list, e.g. "
        "their own folder; or make the bucket private if its files are not meant to be public."
    ),
)
def public_bucket_allows_listing(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    buckets_table = snapshot.relation_named("storage", "buckets")
    objects = snapshot.relation_named("storage", "objects")
    if buckets_table is None or objects is None:
        return  # no Supabase storage: there are no buckets to check
    found = snapshot.probe("storage_buckets")
    if found is None:
        raise CheckSkipped("the storage_buckets probe did not run")
    if found.skipped:
        raise CheckSkipped(f"storage.buckets could not be read: {found.skipped}")
    listers = roles_that_can(snapshot, config, objects, "SELECT")
    if not listers:
        return
    policies = _objects_policies(snapshot, objects) if objects.rls_enabled else []
    for bucket in found.rows:
        if not bucket.get("public"):
            continue
        bucket_id = str(bucket["id"])
        if objects.rls_enabled:
            through = {r: _listing_policies(snapshot, policies, r, bucket_id) for r in listers}
            who = sorted(r for r, used in through.items() if used)
            broad = [p for p in policies if any(p in used for used in through.values())]
            if not broad:
                continue
            names = ", ".join(p.policy.name for p in broad)
            how = f"{len(broad)} broad SELECT {_plural(len(broad), 'policy', 'policies')} on storage.objects ({names})"
        else:
            who, broad = sorted(listers), []
            how = "storage.objects, which has row level security disabled"
        yield spec.finding(
            ObjectRef("bucket", f"bucket:{bucket_id}", "storage", None, bucket_id),
            f"Public bucket {bucket_id} can be listed by {', '.join(who)} through {how}.",
            evidence={
                "bucket": {"id": bucket_id, "name": bucket.get("name"), "public": True},
                "storage_objects_rls_enabled": objects.rls_enabled,
                "listable_by": who,
                "policies": [p.evidence() for p in broad],
            },
            sql=_bucket_fix(buckets_table, objects, bucket_id, broad),
        )


def _bucket_fix(buckets_table: Relation, objects: Relation, bucket_id: str, broad: list[_ObjectsPolicy]) -> str:
    """Drop the listing policies (or enable RLS when it is off); making the bucket private is the alternative."""
    parts: list[str] = []
    if not objects.rls_enabled:
        parts.append(render(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(rel_ident(objects))))
    for p in broad:
        why = (
            f'Policy "{p.policy.name}" opens every bucket: give private buckets a narrower policy first.'
            if p.scope is not None and p.scope.every
            else f'Policy "{p.policy.name}" only adds listing: public URLs keep working without it.'
        )
        drop = sql.SQL("DROP POLICY {} ON {}").format(ident(p.policy.name), rel_ident(objects))
        parts.append(comment(why) + render(drop))
    private = sql.SQL("UPDATE {} SET public = false WHERE id = {}").format(
        rel_ident(buckets_table), sql.Literal(bucket_id)
    )
    parts.append(comment("Or, if its files are not meant to be public:", render(private)).rstrip("\n"))
    return "\n".join(parts)


# --- pg_graphql -------------------------------------------------------------------------------------------------


def _graphql_exposure(role: str) -> Callable[[CheckSpec, Snapshot, AuditConfig], Iterator[Finding]]:
    """The check for one API role: relations pg_graphql's introspection shows to that role."""

    def run(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
        extension = snapshot.extension("pg_graphql")
        if extension is None or snapshot.role(role) is None:
            return  # no pg_graphql (or no such role): nothing is introspectable
        for rel in snapshot.relations:
            if rel.kind not in "rpvmf" or rel.parent_oid is not None:
                continue
            if not is_user_object(snapshot, rel.schema, rel.extension):
                continue
            # pg_graphql reflects schemas the role may use, and relations with any selectable column.
            if not schema_usable(snapshot, role, rel.schema) or not can_select(snapshot, role, rel, any_column=True):
                continue
            whole = holds(snapshot, role, rel.grants, "SELECT", rel.owner)
            grants = [*rel.grants, *(g for c in rel.columns for g in c.grants)]
            targets = grantees_conferring(snapshot, [role], grants, "SELECT", rel.owner)
            noun = relation_ref(rel).kind.replace("_", " ")
            yield spec.finding(
                relation_ref(rel),
                f"pg_graphql is installed and {role} can select "
                f"{'' if whole else 'columns of '}{noun} {rel.qualified}: its name and columns are visible "
                "in GraphQL introspection.",
                evidence={
                    "pg_graphql": extension.installed_version,
                    "role": role,
                    "schema_usage": True,
                    "select": "table"
                    if whole
                    else [c.name for c in rel.columns if holds(snapshot, role, c.grants, "SELECT")],
                    "granted_to": list(targets),
                    "rls_enabled": rel.rls_enabled,
                },
                # A table-level REVOKE also drops the grantees' column-level SELECT grants.
                sql=render(sql.SQL("REVOKE SELECT ON {} FROM {}").format(rel_ident(rel), roles_list(targets)))
                if targets
                else None,
            )

    return run


_GRAPHQL_RATIONALE = (
    "pg_graphql builds its schema from the caller's privileges: every relation {who} can select appears in "
    "the introspection of /graphql/v1 with its columns and relationships, even when row level security hides "
    "all of its rows. That maps your data model for {audience}."
)
_GRAPHQL_REMEDIATION = (
    "Confirm each relation is meant to be discoverable {audience}; otherwise revoke SELECT from {who} (and "
    "from PUBLIC when the grant comes from there), or drop pg_graphql if the GraphQL API is not used."
)

pg_graphql_anon_table_exposed = check(
    "pg_graphql_anon_table_exposed",
    "Anonymous users can see the relation in GraphQL",
    Level.WARN,
    Category.SECURITY,
    description="pg_graphql is installed and the anon role can select the relation.",
    rationale=_GRAPHQL_RATIONALE.format(who="anon", audience="anyone holding the public API key"),
    remediation=_GRAPHQL_REMEDIATION.format(who="anon", audience="without signing in"),
)(_graphql_exposure("anon"))

pg_graphql_authenticated_table_exposed = check(
    "pg_graphql_authenticated_table_exposed",
    "Signed-in users can see the relation in GraphQL",
    Level.WARN,
    Category.SECURITY,
    description="pg_graphql is installed and the authenticated role can select the relation.",
    rationale=_GRAPHQL_RATIONALE.format(who="authenticated", audience="every signed-in user"),
    remediation=_GRAPHQL_REMEDIATION.format(who="authenticated", audience="to every signed-in user"),
)(_graphql_exposure("authenticated"))
