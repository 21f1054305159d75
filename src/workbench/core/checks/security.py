"""Security outside RLS: definer views, exposed auth.users, functions, extensions and relations RLS cannot cover."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import pairwise

from psycopg import sql

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.exposure import (
    api_roles,
    can_select,
    exposed_relations,
    is_exposed_schema,
    is_supabase,
    is_user_object,
    role_closure,
    roles_that_can_execute,
    schema_usable,
)
from workbench.core.checks.objects import (
    comment,
    extension_ref,
    function_ident,
    function_ref,
    ident,
    rel_ident,
    relation_ref,
    render,
    roles_list,
)
from workbench.core.checks.registry import CheckSkipped, CheckSpec, check
from workbench.core.model import Category, Finding, Function, Grant, Level, Relation, Snapshot

SECURITY_INVOKER_SINCE = 150000  # PostgreSQL 15 introduced the security_invoker view option
_NOT_CALLABLE = ("trigger", "event_trigger")  # such functions run only as triggers, never called directly
# pg_get_functiondef prints `AS $function$...` for a body kept as text, `BEGIN ATOMIC`/`RETURN` for an
# SQL-standard body (PG 14+), which is parsed once at creation and so cannot be hijacked via search_path.
_MAX_PATHS = 10_000  # bound on dependency paths explored from one view (diamond-shaped view graphs)
_BODY_START = re.compile(r"^(AS |BEGIN ATOMIC\b|RETURN\b)", re.MULTILINE)


# --- shared helpers ---------------------------------------------------------------------------------------------


def _truthy(value: str | None) -> bool:
    """PostgreSQL's parse_bool for a reloption value (`on`, `1`, and prefixes of `true`/`yes`)."""
    if value is None:
        return False
    v = value.strip().lower()
    return v in ("on", "1") or (v != "" and ("true".startswith(v) or "yes".startswith(v)))


def _invoker_supported(snapshot: Snapshot) -> bool:
    return snapshot.server_version_num >= SECURITY_INVOKER_SINCE


def _is_invoker(snapshot: Snapshot, rel: Relation) -> bool:
    return rel.kind == "v" and _invoker_supported(snapshot) and _truthy(rel.option("security_invoker"))


def _readers(snapshot: Snapshot, config: AuditConfig, rel: Relation) -> tuple[str, ...]:
    """API roles that can read `rel` (whole table or some columns) and reach its schema."""
    return tuple(
        r
        for r in api_roles(snapshot, config)
        if schema_usable(snapshot, r, rel.schema) and can_select(snapshot, r, rel, any_column=True)
    )


def _select_grantees(rel: Relation) -> dict[str, object]:
    """Who holds SELECT on the relation, and on which columns, straight from its ACLs."""
    out: dict[str, object] = {"table": sorted({g.grantee for g in rel.grants if g.privilege == "SELECT"})}
    columns = {c.name: sorted({g.grantee for g in c.grants if g.privilege == "SELECT"}) for c in rel.columns}
    if any(columns.values()):
        out["columns"] = {name: who for name, who in columns.items() if who}
    return out


def _grants_conferring(
    snapshot: Snapshot, roles: Iterable[str], grants: Iterable[Grant], privilege: str, owner: str
) -> list[str]:
    """Grantees whose `privilege` grant the given roles enjoy (PUBLIC first): the grants to revoke."""
    reach: set[str] = set()
    for r in roles:
        reach |= role_closure(snapshot, r)
    found = {g.grantee for g in grants if g.privilege == privilege and g.grantee in reach and g.grantee != owner}
    return sorted(found, key=lambda g: (g != "PUBLIC", g))


def _revoke_select(snapshot: Snapshot, rel: Relation, readers: Iterable[str]) -> sql.Composable | None:
    """REVOKE SELECT from the grantees giving `readers` access (a table REVOKE also drops column grants)."""
    grants = [*rel.grants, *(g for c in rel.columns for g in c.grants)]
    targets = _grants_conferring(snapshot, readers, grants, "SELECT", rel.owner)
    if not targets:
        return None
    return sql.SQL("REVOKE SELECT ON {} FROM {}").format(rel_ident(rel), roles_list(targets))


def _comments(*lines: str) -> str:
    return comment(*lines).rstrip("\n")


def _script(comments: list[str], statements: list[sql.Composable]) -> str | None:
    parts = ([_comments(*comments)] if comments else []) + ([render(*statements)] if statements else [])
    return "\n".join(parts) or None


def _walk(snapshot: Snapshot, rel: Relation, *, into_matviews: bool = False) -> Iterator[tuple[Relation, ...]]:
    """Every dependency path from a view/matview down to the relations it reads, through nested views (and
    through nested materialized views when `into_matviews`: where their stored rows came from)."""
    todo: list[tuple[Relation, ...]] = [(rel,)]
    budget = _MAX_PATHS
    while todo and budget > 0:
        path = todo.pop()
        for oid in path[-1].depends_on:
            dep = snapshot.relation(oid)
            if dep is None or any(p.oid == oid for p in path):
                continue
            budget -= 1
            yield (*path, dep)
            if dep.kind == "v" or (into_matviews and dep.kind == "m"):
                todo.append((*path, dep))


def _base_tables(snapshot: Snapshot, rel: Relation) -> list[tuple[Relation, str]]:
    """The stored relations (tables, matviews, foreign tables) a view reads through nested views, each with the
    role whose privileges and policies apply when reading it (the owner of the nearest definer view)."""
    seen: dict[int, tuple[Relation, str]] = {}
    for path in _walk(snapshot, rel):
        base = path[-1]
        if base.kind != "v" and base.oid not in seen:
            definer = next((v for v in reversed(path[:-1]) if not _is_invoker(snapshot, v)), rel)
            seen[base.oid] = (base, definer.owner)
    return sorted(seen.values(), key=lambda b: (b[0].schema, b[0].name))


def _bypasses_rls(snapshot: Snapshot, who: str, table: Relation) -> bool:
    """Whether `who` (the owner of a definer view) is exempt from `table`'s policies."""
    role = snapshot.role(who)
    if role is not None and (role.superuser or role.bypassrls):
        return True
    return who == table.owner and not table.rls_forced


# --- views ------------------------------------------------------------------------------------------------------


@check(
    "security_definer_view",
    "Security definer view",
    Level.ERROR,
    Category.SECURITY,
    description=(
        "A view in an exposed schema runs with its owner's privileges (no security_invoker) and an API role can "
        "read it."
    ),
    rationale=(
        "A view checks permissions and row level security as its owner, not as the caller. When the owner owns "
        "the base tables (the usual case) or bypasses RLS, every row of those tables is visible through the view "
        "to anyone holding the API key, whatever the tables' policies say. Without RLS on any base table the view "
        "still lends its owner's grants to the API roles."
    ),
    remediation=(
        "On PostgreSQL 15 and later, set `security_invoker = true` on the view so the caller's privileges and "
        "policies apply (the API roles then need their own SELECT on the base tables). Before PostgreSQL 15 there "
        "is no security_invoker: revoke the API roles' SELECT on the view, move it to a schema the API does not "
        "expose, or recreate it as a `security_barrier` view that filters rows for the caller (for example on "
        "auth.uid()) or reads through a SECURITY INVOKER function."
    ),
)
def security_definer_view(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    supported = _invoker_supported(snapshot)
    for rel in exposed_relations(snapshot, config, "v"):
        if _is_invoker(snapshot, rel):
            continue
        readers = _readers(snapshot, config, rel)
        if not readers:
            continue
        bases = _base_tables(snapshot, rel)
        rls_bases = [b for b, _ in bases if b.rls_enabled]
        evidence = {
            "server_version_num": snapshot.server_version_num,
            "security_invoker_supported": supported,
            "reloptions": list(rel.options),
            "owner": rel.owner,
            "readable_by": list(readers),
            "select_grantees": _select_grantees(rel),
            "base_tables": [
                {
                    "table": b.qualified,
                    "kind": relation_ref(b).kind.replace("_", " "),
                    "rls_enabled": b.rls_enabled,
                    "rls_forced": b.rls_forced,
                    "read_as": reader,
                    **({"read_as_bypasses_rls": _bypasses_rls(snapshot, reader, b)} if b.rls_enabled else {}),
                }
                for b, reader in bases
            ],
        }
        who = ", ".join(readers)
        if rls_bases:
            level = Level.ERROR
            names = ", ".join(b.qualified for b in rls_bases)
            detail = (
                f"View {rel.qualified} runs as its owner {rel.owner} and is readable by {who}: "
                f"it bypasses row level security on {names}."
            )
        else:
            level = Level.WARN
            detail = (
                f"View {rel.qualified} runs as its owner {rel.owner} and is readable by {who}; "
                "no base table has RLS, but the view lends its owner's privileges to the API roles."
            )
        if supported:
            # An invoker view checks the caller's own privilege on each relation it reads directly.
            direct = sorted(
                (d for oid in rel.depends_on if (d := snapshot.relation(oid)) is not None),
                key=lambda d: (d.schema, d.name),
            )
            lacking = [
                d.qualified for d in direct if any(not can_select(snapshot, r, d, any_column=True) for r in readers)
            ]
            notes = [f"After this the API roles need their own SELECT on: {', '.join(lacking)}."] if lacking else []
            stmt = sql.SQL("ALTER VIEW {} SET (security_invoker = true)").format(rel_ident(rel))
            script = _script(notes, [stmt])
        else:
            major = snapshot.server_version_num // 10_000
            revoke = _revoke_select(snapshot, rel, readers)
            script = _script(
                [
                    f"PostgreSQL {major} has no security_invoker. To get the same effect, either stop exposing the",
                    "view (below) or move it to a schema the API does not expose, or recreate it",
                    "WITH (security_barrier) filtering rows for the caller (e.g. WHERE owner_id = auth.uid())",
                    "or reading through a SECURITY INVOKER function.",
                ],
                [revoke] if revoke is not None else [],
            )
        yield spec.finding(relation_ref(rel), detail, evidence=evidence, sql=script, level=level)


@check(
    "auth_users_exposed",
    "Exposed auth users",
    Level.ERROR,
    Category.SECURITY,
    description="A view or materialized view in an exposed schema reads auth.users and an API role can read it.",
    rationale=(
        "auth.users holds every account's email, phone, metadata and sign-in history. A view over it that runs "
        "as its owner, or a materialized view (a copy, where RLS never applies), hands those rows to anyone "
        "holding the API key."
    ),
    remediation=(
        "Revoke the API roles' SELECT on the view, or move it to a schema the API does not expose. To publish "
        "profile data, keep a public profiles table filled by a trigger on auth.users, protected by RLS. A "
        "security_invoker view (PostgreSQL 15+) is acceptable only while auth.users has RLS enabled."
    ),
)
def auth_users_exposed(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    users = snapshot.relation_named("auth", "users")
    if users is None:
        raise CheckSkipped("there is no auth.users table in this database")
    for rel in exposed_relations(snapshot, config, "vm"):
        found = _walk(snapshot, rel, into_matviews=True)
        paths = sorted((p for p in found if p[-1].oid == users.oid), key=len)
        if not paths:
            continue
        exposed = {
            r: path
            for r in _readers(snapshot, config, rel)
            if (path := next((p for p in paths if _leaks_to(snapshot, r, p)), None)) is not None
        }
        if not exposed:
            continue
        readers = tuple(exposed)
        path = exposed[readers[0]]
        kind = "Materialized view" if rel.kind == "m" else "View"
        why = _why_auth_users_open(snapshot, path)
        evidence = {
            "kind": relation_ref(rel).kind.replace("_", " "),
            "dependency_path": [r.qualified for r in path],
            "security_invoker": _is_invoker(snapshot, rel),
            "reloptions": list(rel.options),
            "owner": rel.owner,
            "auth_users_rls_enabled": users.rls_enabled,
            "readable_by": list(readers),
            "select_grantees": _select_grantees(rel),
            "columns": [c.name for c in rel.columns],
        }
        revoke = _revoke_select(snapshot, rel, readers)
        notes = [
            "Publish profile data through a table filled by a trigger on auth.users instead,"
            " or move this relation to a schema the API does not expose.",
        ]
        yield spec.finding(
            relation_ref(rel),
            f"{kind} {rel.qualified} {why}, and is readable by {', '.join(readers)}.",
            evidence=evidence,
            sql=_script(notes, [revoke] if revoke is not None else []),
        )


def _leaks_to(snapshot: Snapshot, role: str, path: tuple[Relation, ...]) -> bool:
    """Whether `role`, reading the first relation of `path`, gets the rows of the last one.

    A definer view or a materialized view hands over its rows; a security_invoker view checks the caller's own
    privilege on the next relation (and, at the end, auth.users' RLS).
    """
    for hop, nxt in pairwise(path):
        if hop.kind == "m" or not _is_invoker(snapshot, hop):
            return True
        if not can_select(snapshot, role, nxt, any_column=True):
            return False  # the view fails for this role: nothing leaks through this path
    return not path[-1].rls_enabled


def _why_auth_users_open(snapshot: Snapshot, path: tuple[Relation, ...]) -> str:
    """Why one dependency path from an exposed relation to auth.users leaks its rows."""
    if path[0].kind == "m":
        return "stores a copy of auth.users rows"
    if not _is_invoker(snapshot, path[0]):
        return "reads auth.users with its owner's privileges"
    for hop in path[1:-1]:
        if hop.kind == "m":
            return f"reads auth.users rows copied into materialized view {hop.qualified}"
        if not _is_invoker(snapshot, hop):
            return f"reads auth.users through view {hop.qualified}, which runs as its owner"
    return "reads auth.users while auth.users has RLS disabled"


# --- functions --------------------------------------------------------------------------------------------------


def _routine(fn: Function) -> sql.Composable:
    return sql.SQL("PROCEDURE" if fn.kind == "p" else "FUNCTION")


def _has_sql_standard_body(fn: Function) -> bool:
    if fn.language != "sql" or not fn.definition:
        return False
    first = _BODY_START.search(fn.definition)
    return first is not None and not first.group(1).startswith("AS")


@check(
    "function_search_path_mutable",
    "Function search path mutable",
    Level.WARN,
    Category.SECURITY,
    description="A function in a user schema does not pin search_path, so names in its body resolve per caller.",
    rationale=(
        "Unqualified names in a function body are looked up on the caller's search_path. A caller who can "
        "create objects in a schema earlier on that path can substitute their own table, function or operator "
        "(the CVE-2018-1058 class); in a SECURITY DEFINER function the substitute runs with the owner's rights."
    ),
    remediation=(
        "Pin the search path with `ALTER FUNCTION ... SET search_path = ...`. Any fixed value closes the hole; "
        "`''` with fully schema-qualified names in the body is the strictest. Aggregates, window functions, "
        "extension members and SQL-standard bodies (BEGIN ATOMIC / RETURN, resolved at creation) are skipped."
    ),
)
def function_search_path_mutable(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for fn in snapshot.functions:
        if fn.kind not in ("f", "p") or not is_user_object(snapshot, fn.schema, fn.extension):
            continue
        if fn.setting("search_path") is not None or _has_sql_standard_body(fn):
            continue
        path: list[sql.Composable] = [sql.Identifier("pg_catalog"), sql.Identifier(fn.schema)]
        if is_supabase(snapshot) and snapshot.schema("extensions") is not None and fn.schema != "extensions":
            path.append(sql.Identifier("extensions"))
        path.append(sql.Identifier("pg_temp"))
        stmt = sql.SQL("ALTER {} {} SET search_path = {}").format(
            _routine(fn), function_ident(fn), sql.SQL(", ").join(path)
        )
        routine = "Procedure" if fn.kind == "p" else "Function"
        yield spec.finding(
            function_ref(fn),
            f"{routine} {fn.signature} has no pinned search_path"
            + (" and is SECURITY DEFINER." if fn.security_definer else "."),
            evidence={
                "proconfig": list(fn.config),
                "language": fn.language,
                "security_definer": fn.security_definer,
                "owner": fn.owner,
            },
            sql=_script(
                [
                    "Pins the path to the function's own schema (pg_temp last); add any other schema the body",
                    "uses unqualified. Stricter: SET search_path = '' after schema-qualifying every name.",
                ],
                [stmt],
            ),
        )


@check(
    "security_definer_function_executable",
    "Security definer function executable by API roles",
    Level.WARN,
    Category.SECURITY,
    description="A SECURITY DEFINER function in an exposed schema can be executed by an API role or PUBLIC.",
    rationale=(
        "A SECURITY DEFINER function runs with its owner's privileges, usually bypassing RLS. Functions in "
        "exposed schemas are callable over the API (/rpc), and PostgreSQL grants EXECUTE to PUBLIC by default, "
        "so anyone holding the anonymous key can call it unless it was revoked. Reported as an error when anon "
        "or PUBLIC can call it, as a warning when only signed-in roles can."
    ),
    remediation=(
        "Revoke EXECUTE from PUBLIC and anon (and from authenticated unless signed-in users must call it, in "
        "which case the body must check auth.uid() itself), switch the function to SECURITY INVOKER, or move it "
        "to a schema the API does not expose. Trigger functions are skipped: they cannot be called directly."
    ),
)
def security_definer_function_executable(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    supabase = is_supabase(snapshot)
    for fn in snapshot.functions:
        if not fn.security_definer or fn.kind not in ("f", "p") or fn.result_type in _NOT_CALLABLE:
            continue
        if fn.extension is not None or not is_exposed_schema(snapshot, config, fn.schema):
            continue
        executors = tuple(
            r for r in roles_that_can_execute(snapshot, config, fn) if schema_usable(snapshot, r, fn.schema)
        )
        if not executors:
            continue
        anonymous = [r for r in executors if r in ("anon", "PUBLIC")]
        level = Level.ERROR if anonymous else Level.WARN
        targets = _grants_conferring(snapshot, anonymous or executors, fn.grants, "EXECUTE", fn.owner)
        notes: list[str] = []
        if anonymous and supabase and "authenticated" in executors:
            grant = sql.SQL("GRANT EXECUTE ON {} {} TO {}").format(
                _routine(fn), function_ident(fn), sql.Identifier("authenticated")
            )
            notes.append(f"If signed-in users must keep calling it: {grant.as_string()};")
        elif not anonymous:
            check_caller = "check auth.uid() in the body" if supabase else "check the caller in the body"
            notes.append(f"If these roles must call it, keep the grant and {check_caller} instead.")
        stmts: list[sql.Composable] = []
        if targets:
            stmts.append(
                sql.SQL("REVOKE EXECUTE ON {} {} FROM {}").format(_routine(fn), function_ident(fn), roles_list(targets))
            )
        owner = snapshot.role(fn.owner)
        yield spec.finding(
            function_ref(fn),
            f"SECURITY DEFINER {'procedure' if fn.kind == 'p' else 'function'} {fn.signature} runs as "
            f"{fn.owner} and can be executed by {', '.join(executors)}.",
            evidence={
                "security_definer": True,
                "owner": fn.owner,
                "owner_superuser": bool(owner and owner.superuser),
                "owner_bypassrls": bool(owner and owner.bypassrls),
                "executable_by": list(executors),
                "execute_grantees": sorted({g.grantee for g in fn.grants if g.privilege == "EXECUTE"}),
                "proconfig": list(fn.config),
            },
            sql=_script(notes, stmts),
            level=level,
        )


# --- extensions -------------------------------------------------------------------------------------------------


@check(
    "extension_in_public",
    "Extension in public",
    Level.WARN,
    Category.SECURITY,
    description="An extension (other than plpgsql) is installed in schema public.",
    rationale=(
        "Its functions, types and operators land in the schema the API exposes and every role searches, where "
        "they show up as API endpoints, clash with application objects and widen the search-path attack "
        "surface. Keeping extensions in their own schema also keeps dumps and grants clean."
    ),
    remediation=(
        "Move a relocatable extension with `ALTER EXTENSION ... SET SCHEMA extensions` (and add that schema to "
        "search_path where callers use it unqualified). A non-relocatable extension must be dropped and "
        "re-created in another schema, which drops its dependent objects: plan it as a migration."
    ),
)
def extension_in_public(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    target = "extensions"
    users = tuple(r for r in api_roles(snapshot, config) if schema_usable(snapshot, r, "public"))
    for ext in snapshot.extensions:
        if ext.schema != "public" or ext.name == "plpgsql":
            continue
        if ext.relocatable:
            stmts: list[sql.Composable] = [sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(target))]
            if users:
                stmts.append(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident(target), roles_list(users)))
            stmts.append(sql.SQL("ALTER EXTENSION {} SET SCHEMA {}").format(ident(ext.name), ident(target)))
            script = _script([f"Add {target} to search_path where callers use the extension unqualified."], stmts)
        else:
            script = _comments(
                f"{ext.name} is not relocatable: ALTER EXTENSION ... SET SCHEMA fails. Plan a migration that",
                f"drops it and re-creates it WITH SCHEMA {target} (dependent objects must be re-created too).",
            )
        yield spec.finding(
            extension_ref(ext.name),
            f"Extension {ext.name} {ext.installed_version} is installed in schema public"
            + ("." if ext.relocatable else " and is not relocatable."),
            evidence={"schema": ext.schema, "version": ext.installed_version, "relocatable": ext.relocatable},
            sql=script,
        )


@check(
    "extension_versions_outdated",
    "Extension versions outdated",
    Level.WARN,
    Category.SECURITY,
    description="An installed extension's version differs from the default version the server provides.",
    rationale=(
        "After a server upgrade or image update the new extension files are on disk but the database keeps the "
        "old SQL objects until ALTER EXTENSION ... UPDATE runs, missing bug and security fixes, and mismatches "
        "between the shared library and its SQL definitions can fail at run time."
    ),
    remediation=(
        "Run `ALTER EXTENSION ... UPDATE` (it follows the update scripts to the default version); read the "
        "extension's release notes first, and test on staging."
    ),
)
def extension_versions_outdated(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for ext in snapshot.extensions:
        if ext.default_version is None or ext.installed_version == ext.default_version:
            continue
        yield spec.finding(
            extension_ref(ext.name),
            f"Extension {ext.name} is at version {ext.installed_version}; the server provides {ext.default_version}.",
            evidence={
                "installed_version": ext.installed_version,
                "default_version": ext.default_version,
                "schema": ext.schema,
            },
            sql=render(sql.SQL("ALTER EXTENSION {} UPDATE").format(ident(ext.name))),
        )


# --- relations RLS cannot protect -------------------------------------------------------------------------------


def _relations_in_api(
    spec: CheckSpec, snapshot: Snapshot, config: AuditConfig, kind: str, noun: str, why: str
) -> Iterator[Finding]:
    for rel in exposed_relations(snapshot, config, kind):
        readers = _readers(snapshot, config, rel)
        if not readers:
            continue
        evidence: dict[str, object] = {
            "kind": relation_ref(rel).kind.replace("_", " "),
            "owner": rel.owner,
            "readable_by": list(readers),
            "select_grantees": _select_grantees(rel),
        }
        if rel.kind == "m":
            bases = _base_tables(snapshot, rel)
            evidence["base_tables"] = [{"table": b.qualified, "rls_enabled": b.rls_enabled} for b, _ in bases]
        revoke = _revoke_select(snapshot, rel, readers)
        yield spec.finding(
            relation_ref(rel),
            f"{noun} {rel.qualified} is readable by {', '.join(readers)}; {why}",
            evidence=evidence,
            sql=render(revoke) if revoke is not None else None,
        )


@check(
    "materialized_view_in_api",
    "Materialized view in API",
    Level.WARN,
    Category.SECURITY,
    description="A materialized view in an exposed schema is readable by an API role.",
    rationale=(
        "A materialized view is a stored copy of a query's rows; row level security never applies to it, so "
        "every row it holds (including rows copied from RLS-protected tables) is readable by the API roles."
    ),
    remediation=(
        "Revoke the API roles' SELECT on it, or move it to a schema the API does not expose and publish it "
        "through a function or a view that filters rows for the caller."
    ),
)
def materialized_view_in_api(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    yield from _relations_in_api(
        spec, snapshot, config, "m", "Materialized view", "row level security never applies to it."
    )


@check(
    "foreign_table_in_api",
    "Foreign table in API",
    Level.WARN,
    Category.SECURITY,
    description="A foreign table in an exposed schema is readable by an API role.",
    rationale=(
        "Foreign tables do not support row level security: the API roles read the remote data with the "
        "credentials of the user mapping, bypassing whatever protects it at the source."
    ),
    remediation=(
        "Revoke the API roles' SELECT on it, or move it to a schema the API does not expose and publish what is "
        "needed through a function that checks the caller."
    ),
)
def foreign_table_in_api(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    yield from _relations_in_api(
        spec, snapshot, config, "f", "Foreign table", "foreign tables do not support row level security."
    )
