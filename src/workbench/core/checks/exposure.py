"""Who can reach what: the API roles, exposed schemas and effective privileges, computed offline."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from workbench.core.checks.config import SYSTEM_SCHEMAS, AuditConfig
from workbench.core.model import Function, Grant, Relation, Snapshot

SUPABASE_API_ROLES = ("anon", "authenticated")


def is_supabase(snapshot: Snapshot) -> bool:
    """anon/authenticated exist and are granted something in this database (roles are cluster-wide, so
    their mere existence says nothing about this database)."""

    def build() -> bool:
        if any(snapshot.role(r) is None for r in SUPABASE_API_ROLES):
            return False
        grants = (
            *(g for s in snapshot.schemas for g in s.grants),
            *(g for r in snapshot.relations for g in r.grants),
            *(g for f in snapshot.functions for g in f.grants),
        )
        return any(g.grantee in SUPABASE_API_ROLES for g in grants)

    return snapshot._lookup("is_supabase", build)  # type: ignore[no-any-return]


def api_roles(snapshot: Snapshot, config: AuditConfig) -> tuple[str, ...]:
    """anon/authenticated on Supabase-style databases, else PUBLIC; plus roles named in the config."""
    base = SUPABASE_API_ROLES if is_supabase(snapshot) else ("PUBLIC",)
    extra = tuple(r for r in config.api_roles if r not in base and (r == "PUBLIC" or snapshot.role(r)))
    return base + extra


def is_system_schema(snapshot: Snapshot, schema: str) -> bool:
    known: dict[str, bool] = snapshot._lookup("system_schemas", dict)  # asked once per object by many checks
    system = known.get(schema)
    if system is None:
        found = snapshot.schema(schema)
        system = known[schema] = (
            schema in SYSTEM_SCHEMAS
            or schema.startswith(("pg_", "pgsodium"))
            or (found is not None and found.extension is not None)
        )
    return system


def is_user_object(snapshot: Snapshot, schema: str, extension: str | None) -> bool:
    """A non-system object the database's developers own (not an extension member)."""
    return extension is None and not is_system_schema(snapshot, schema)


def is_exposed_schema(snapshot: Snapshot, config: AuditConfig, schema: str) -> bool:
    return schema in config.exposed_schemas and not is_system_schema(snapshot, schema)


def role_closure(snapshot: Snapshot, role: str) -> frozenset[str]:
    """The role, PUBLIC and every role whose privileges it inherits."""
    closures: dict[str, frozenset[str]] = snapshot._lookup("role_closures", dict)
    closure = closures.get(role)
    if closure is None:
        closure = closures[role] = _closure(snapshot, role)
    return closure


def _closure(snapshot: Snapshot, role: str) -> frozenset[str]:
    if role == "PUBLIC":
        return frozenset({"PUBLIC"})
    seen = {role, "PUBLIC"}
    todo = [role]
    while todo:
        found = snapshot.role(todo.pop())
        if found is None or not found.inherit:
            continue
        for parent in found.member_of:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return frozenset(seen)


def holds(snapshot: Snapshot, role: str, grants: Iterable[Grant], privilege: str, owner: str | None = None) -> bool:
    """Whether `role` effectively holds `privilege` given an object's grants (defaults already explicit)."""
    if type(grants) is not tuple:
        return _holds(snapshot, role, grants, privilege, owner)
    # Keyed by the tuple's identity (collection shares equal grant tuples); the entry keeps the tuple alive,
    # so its id cannot be reused.
    cache: dict[tuple[str, int, str, str | None], tuple[tuple[Grant, ...], bool]] = snapshot._lookup("holds", dict)
    entry = cache.get(key := (role, id(grants), privilege, owner))
    if entry is None or entry[0] is not grants:
        entry = cache[key] = (grants, _holds(snapshot, role, grants, privilege, owner))
    return entry[1]


def _holds(snapshot: Snapshot, role: str, grants: Iterable[Grant], privilege: str, owner: str | None) -> bool:
    who = role_closure(snapshot, role)
    found = snapshot.role(role)
    if found is not None and found.superuser:
        return True
    if owner is not None and owner in who:
        return True
    return any(g.privilege == privilege and g.grantee in who for g in grants)


def schema_usable(snapshot: Snapshot, role: str, schema: str) -> bool:
    found = snapshot.schema(schema)
    return found is not None and holds(snapshot, role, found.grants, "USAGE", found.owner)


def relation_privileges(snapshot: Snapshot, role: str, rel: Relation) -> tuple[str, ...]:
    """Table-level privileges `role` holds on `rel` (column grants listed separately by the caller)."""
    privs = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    return tuple(p for p in privs if holds(snapshot, role, rel.grants, p, rel.owner))


def can_select(snapshot: Snapshot, role: str, rel: Relation, *, any_column: bool = False) -> bool:
    if holds(snapshot, role, rel.grants, "SELECT", rel.owner):
        return True
    return any_column and any(holds(snapshot, role, c.grants, "SELECT") for c in rel.columns)


def roles_that_can(
    snapshot: Snapshot,
    config: AuditConfig,
    rel: Relation,
    privilege: str = "SELECT",
    *,
    need_schema: bool = True,
) -> tuple[str, ...]:
    """API roles holding `privilege` on `rel` (and USAGE on its schema unless need_schema is False)."""
    return tuple(
        r
        for r in api_roles(snapshot, config)
        if holds(snapshot, r, rel.grants, privilege, rel.owner)
        and (not need_schema or schema_usable(snapshot, r, rel.schema))
    )


def roles_that_can_execute(snapshot: Snapshot, config: AuditConfig, fn: Function) -> tuple[str, ...]:
    roles = api_roles(snapshot, config)
    return tuple(
        r
        for r in (*roles, *(("PUBLIC",) if "PUBLIC" not in roles else ()))
        if holds(snapshot, r, fn.grants, "EXECUTE", fn.owner)
    )


def grantees_conferring(
    snapshot: Snapshot, roles: Iterable[str], grants: Iterable[Grant], privilege: str, owner: str | None = None
) -> tuple[str, ...]:
    """The grantees (PUBLIC first) whose `privilege` grant the given roles enjoy: the grants to revoke."""
    reach: set[str] = set()
    for r in roles:
        reach |= role_closure(snapshot, r)
    found = {g.grantee for g in grants if g.privilege == privilege and g.grantee in reach and g.grantee != owner}
    return tuple(sorted(found, key=lambda g: (g != "PUBLIC", g)))


def matches_any(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in patterns)


def exposed_relations(snapshot: Snapshot, config: AuditConfig, kinds: str = "rp") -> Iterable[Relation]:
    """User relations of the given kinds in exposed schemas (partitions are judged through their parent)."""
    for rel in snapshot.relations:
        if rel.kind in kinds and rel.extension is None and is_exposed_schema(snapshot, config, rel.schema):
            yield rel
