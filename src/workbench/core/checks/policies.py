"""Row level security policies: what their expressions do, per row and per role, decided on the parsed trees.

Every expression judgement here comes from :mod:`workbench.core.checks.policy_expr` (the server's own
``pg_node_tree``), never from the deparsed text. The deparsed text (``Policy.using`` / ``with_check``) is only
used to *write* remediation SQL, and only where the tree analysis says what to change.

Scope: policies on tables with RLS enabled, in user schemas, plus schema ``realtime`` (its ``messages``
policies are written by the project, splinter re-enabled it for ``auth_rls_initplan``). Extension-owned tables
are skipped. The table-level checks (``rls_command_gap``, ``rls_not_forced``) look at user tables only.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from psycopg import sql

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.exposure import (
    api_roles,
    grantees_conferring,
    is_system_schema,
    is_user_object,
    role_closure,
    roles_that_can,
)
from workbench.core.checks.objects import policy_ref, rel_ident, relation_ref, render, roles_list
from workbench.core.checks.policy_expr import Node, NodeTreeError, PolicyExpression, parsed_tree
from workbench.core.checks.registry import CheckSpec, check
from workbench.core.model import Category, Finding, Function, Level, Policy, Relation, Snapshot

COMMANDS: Final = ("SELECT", "INSERT", "UPDATE", "DELETE")
#: Functions whose per-row evaluation `(select ...)` turns into a once-per-statement InitPlan.
INITPLAN_FUNCTIONS: Final = ("auth.uid", "auth.jwt", "auth.role", "auth.email", "pg_catalog.current_setting")
_POLICY_SCHEMAS_BEYOND_USER: Final = frozenset({"realtime"})
_USER_METADATA: Final = "user_metadata"
_JWT_CLAIMS_SETTING: Final = "request.jwt.claims"
_RAW_USER_META: Final = ("auth", "users", "raw_user_meta_data")
_BUILTIN_SCHEMAS: Final = frozenset({"pg_catalog", "information_schema"})


# --- parsed policies, cached per snapshot -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class ParsedPolicy:
    """A policy with its USING and WITH CHECK trees analysed (``error`` says why a tree could not be read)."""

    policy: Policy
    using: PolicyExpression | None
    with_check: PolicyExpression | None
    error: str | None = None

    def expressions(self) -> Iterator[tuple[str, PolicyExpression]]:
        """``("USING", expr)`` and ``("WITH CHECK", expr)`` for the expressions the policy has."""
        if self.using is not None:
            yield "USING", self.using
        if self.with_check is not None:
            yield "WITH CHECK", self.with_check


class _Lookups:
    """Name lookups for policy expressions that do not hold the snapshot: the analyses are cached in the
    snapshot, and a reference back would make every snapshot a reference cycle that only the (slow, GIL-holding)
    cyclic collector can free."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.functions = dict(snapshot.referenced_functions)
        self.operators = dict(snapshot.referenced_operators)
        self.relations = {r.oid: r for r in snapshot.relations}
        self.columns: dict[int, Mapping[int, str]] = {}

    def relation(self, oid: int) -> tuple[str, str, Mapping[int, str]] | None:
        rel = self.relations.get(oid)
        return (rel.schema, rel.name, self.column_names(rel)) if rel is not None else None

    def column_names(self, rel: Relation) -> Mapping[int, str]:
        names = self.columns.get(rel.oid)
        if names is None:
            names = self.columns[rel.oid] = {c.attnum: c.name for c in rel.columns}
        return names


def parsed_policy(snapshot: Snapshot, pol: Policy) -> ParsedPolicy:
    """The analysed expressions of ``pol``; each policy tree is parsed once per snapshot."""
    lookups: _Lookups = snapshot._lookup("policy_lookups", lambda: _Lookups(snapshot))

    def build() -> ParsedPolicy:
        table = snapshot.relation(pol.table_oid)
        columns = lookups.column_names(table) if table is not None else {}

        def analyse(tree: str | None) -> PolicyExpression | None:
            if tree is None:
                return None
            return PolicyExpression(
                parsed_tree(snapshot, tree),
                function_name=lookups.functions.get,
                operator_name=lookups.operators.get,
                table=(pol.schema, pol.table),
                columns=columns,
                relation=lookups.relation,
                shared=snapshot._lookup("policy_expr_shared", dict),
            )

        try:
            return ParsedPolicy(pol, analyse(pol.using_tree), analyse(pol.with_check_tree))
        except NodeTreeError as exc:
            return ParsedPolicy(pol, None, None, error=str(exc))

    return cast(ParsedPolicy, snapshot._lookup(f"policy_expr:{pol.oid}", build))


# --- shared helpers ---------------------------------------------------------------------------------------------


def _comment(*lines: str) -> str:
    """SQL comment lines; line breaks inside (names may hold them) are flattened so nothing escapes the comment."""
    return "".join("-- " + " ".join(line.splitlines()) + "\n" for line in lines)


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _policy_tables(snapshot: Snapshot) -> Iterator[Relation]:
    """Tables whose policies are enforced and written by the project: RLS on, user schema or realtime."""
    for rel in snapshot.relations:
        if rel.kind not in "rp" or not rel.rls_enabled or rel.extension is not None:
            continue
        if rel.schema in _POLICY_SCHEMAS_BEYOND_USER or not is_system_schema(snapshot, rel.schema):
            yield rel


def _user_tables(snapshot: Snapshot) -> Iterator[Relation]:
    """User tables with RLS on, partitions excluded (they are reached through their parent)."""
    for rel in snapshot.relations:
        if rel.kind not in "rp" or not rel.rls_enabled or rel.parent_oid is not None:
            continue
        if is_user_object(snapshot, rel.schema, rel.extension):
            yield rel


def _policies(snapshot: Snapshot) -> Iterator[tuple[Relation, ParsedPolicy]]:
    """Every readable policy of the tables in scope, with its analysed expressions."""
    for rel in _policy_tables(snapshot):
        for pol in snapshot.policies_of(rel.oid):
            parsed = parsed_policy(snapshot, pol)
            if parsed.error is None:
                yield rel, parsed


def _subject_to_rls(snapshot: Snapshot, role: str) -> bool:
    """False for roles that bypass row level security (superusers, BYPASSRLS)."""
    found = snapshot.role(role)
    return found is None or not (found.superuser or found.bypassrls)


def _rls_api_roles(snapshot: Snapshot, config: AuditConfig) -> tuple[str, ...]:
    return tuple(r for r in api_roles(snapshot, config) if _subject_to_rls(snapshot, r))


def _applies_to(snapshot: Snapshot, pol: Policy, roles: Iterable[str]) -> tuple[str, ...]:
    """Those of ``roles`` the policy applies to (directly, through PUBLIC or an inherited membership)."""
    targets = set(pol.roles)
    return tuple(r for r in roles if role_closure(snapshot, r) & targets)


def _policy_evidence(pol: Policy) -> dict[str, Any]:
    return {
        "command": pol.command,
        "permissive": pol.permissive,
        "roles": list(pol.roles),
        "using": pol.using,
        "with_check": pol.with_check,
    }


def _effective_check(pol: Policy) -> str | None:
    """The expression new rows must satisfy: WITH CHECK, else USING (as PostgreSQL does for ALL and UPDATE)."""
    return pol.with_check if pol.with_check is not None else pol.using


def _opens(pol: Policy, command: str) -> bool:
    """Whether the policy can let any row through for ``command`` (without its expression it grants nothing)."""
    if pol.command not in (command, "ALL"):
        return False
    if command == "INSERT":
        return _effective_check(pol) is not None
    return pol.using is not None


# --- auth_rls_initplan ------------------------------------------------------------------------------------------

# A small SQL lexer over *deparsed* expressions: only to find where a call the tree analysis reported is
# printed, so that remediation can wrap exactly that text. Deparsed text has no comments and no dollar quotes;
# string constants are '...' (E'...' when they hold backslashes) with quotes doubled.
_SQL_TOKEN: Final = re.compile(
    r"(?P<string>[Ee]?'(?:[^']|'')*')"
    r'|(?P<quoted>"(?:[^"]|"")*")'
    r"|(?P<word>[^\W\d][\w$]*)"
    r"|(?P<space>\s+)"
    r"|(?P<char>.)",
    re.DOTALL,
)
_QUERY_KEYWORDS: Final = frozenset({"SELECT", "WITH", "VALUES", "TABLE"})


@dataclass(frozen=True, slots=True)
class _TextCall:
    name: str  # schema.function as the catalog spells it (pg_catalog for unqualified names)
    start: int
    end: int
    wrapped: bool  # its innermost sub-select has no FROM: `(select auth.uid())`


@dataclass(slots=True)
class _Frame:
    subselect: bool  # the parenthesis opens a sub-select
    has_from: bool = False


def _identifier(kind: str, text: str) -> str:
    return text[1:-1].replace('""', '"') if kind == "quoted" else text.lower()


@functools.lru_cache(maxsize=1024)  # policies repeat the same expressions table after table
def _text_calls(text: str) -> tuple[_TextCall, ...]:
    """Function calls printed in a deparsed expression, with their span and whether their innermost sub-select
    is a scalar one without FROM."""
    tokens = [(m.lastgroup or "", m.group(), m.start(), m.end()) for m in _SQL_TOKEN.finditer(text)]
    tokens = [t for t in tokens if t[0] != "space"]
    frames: list[_Frame] = []  # one per open parenthesis
    # (frame level, name, start, innermost sub-select frame) of the calls awaiting their ")"
    pending: list[tuple[int, str, int, _Frame | None]] = []
    closed: list[tuple[str, int, int, _Frame | None]] = []
    i = 0
    while i < len(tokens):
        kind, value, start, _ = tokens[i]
        if kind in ("word", "quoted"):
            if kind == "word" and value.upper() == "FROM" and frames and frames[-1].subselect:
                frames[-1].has_from = True
            parts = [_identifier(kind, value)]
            j = i + 1
            while j + 1 < len(tokens) and tokens[j][1] == "." and tokens[j + 1][0] in ("word", "quoted"):
                parts.append(_identifier(tokens[j + 1][0], tokens[j + 1][1]))
                j += 2
            if j < len(tokens) and tokens[j][1] == "(" and len(parts) <= 2:
                name = ".".join(parts) if len(parts) == 2 else f"pg_catalog.{parts[0]}"
                innermost = next((f for f in reversed(frames) if f.subselect), None)
                pending.append((len(frames), name, start, innermost))
            i = j
            continue
        if value == "(":
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            frames.append(
                _Frame(following is not None and following[0] == "word" and following[1].upper() in _QUERY_KEYWORDS)
            )
        elif value == ")" and frames:
            frames.pop()
            while pending and pending[-1][0] == len(frames):
                _, name, call_start, innermost = pending.pop()
                closed.append((name, call_start, tokens[i][3], innermost))
        i += 1
    calls = (
        _TextCall(name, a, b, innermost is not None and not innermost.has_from) for name, a, b, innermost in closed
    )
    return tuple(sorted(calls, key=lambda c: c.start))


def wrap_calls(text: str, names: Iterable[str]) -> str | None:
    """``text`` with each unwrapped call to ``names`` wrapped as ``(select call(...))``.

    ``names`` are the unwrapped calls the tree analysis found (``auth.uid``, ``pg_catalog.current_setting``),
    one entry per call, at any depth. Returns None when the text does not show exactly those calls unwrapped
    (outside any sub-select, or in one with a FROM), so a rewrite is only ever offered when text and tree agree.
    """
    wanted = Counter(names)
    found = [c for c in _text_calls(text) if not c.wrapped and c.name in wanted]
    if Counter(c.name for c in found) != wanted:
        return None
    out: list[str] = []
    position = 0
    for call in found:
        if call.start < position:  # inside a call already wrapped
            continue
        out.append(text[position : call.start])
        out.append(f"(select {text[call.start : call.end]})")
        position = call.end
    out.append(text[position:])
    return "".join(out)


def _initplan_fix(rel: Relation, pol: Policy, unwrapped: Mapping[str, list[str]]) -> str | None:
    clauses: list[sql.Composable] = []
    for clause, text in (("USING", pol.using), ("WITH CHECK", pol.with_check)):
        if clause not in unwrapped or text is None:
            continue
        rewritten = wrap_calls(text, unwrapped[clause])
        if rewritten is None:
            return None
        clauses.append(sql.SQL(clause + " ({})").format(sql.SQL(rewritten)))
    if not clauses:
        return None
    head = sql.SQL("ALTER POLICY {} ON {}").format(sql.Identifier(pol.name), rel_ident(rel))
    return render(sql.SQL(" ").join([head, *clauses]))


def _display(name: str) -> str:
    return f"{name.removeprefix('pg_catalog.')}()"


@check(
    "auth_rls_initplan",
    "Auth RLS initialization plan",
    Level.WARN,
    Category.PERFORMANCE,
    description=(
        "A policy calls auth.uid(), auth.jwt(), auth.role(), auth.email() or current_setting() outside a "
        "scalar sub-select of its own, so the call runs once for every row the query touches."
    ),
    rationale=(
        "A bare function call in a policy is evaluated per row: on a large table the same `auth.uid()` (and the "
        "JSON parsing of the JWT claims behind it) runs millions of times. Written as `(select auth.uid())` it "
        "becomes an InitPlan, evaluated once per statement, with the same result. The same holds inside a "
        "sub-select: in `exists (select 1 from members m where m.org_id = t.org_id and m.user_id = auth.uid())` "
        "the call runs for every member row read, for every row of t."
    ),
    remediation=(
        "Wrap each call in a scalar sub-select of its own, e.g. `(select auth.uid()) = user_id`, also inside "
        "sub-selects. The SQL below rewrites "
        "the policy's own expression, changing only the reported calls."
    ),
)
def auth_rls_initplan(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel, parsed in _policies(snapshot):
        pol = parsed.policy
        unwrapped = {
            clause: calls
            for clause, expr in parsed.expressions()
            if (calls := expr.unwrapped_calls(INITPLAN_FUNCTIONS))
        }
        if not unwrapped:
            continue
        shown = sorted({_display(name) for calls in unwrapped.values() for name in calls})
        where = " and ".join(unwrapped)
        yield spec.finding(
            policy_ref(pol),
            f"Policy {pol.name} on {rel.qualified} calls {', '.join(shown)} in {where} without wrapping it as "
            "(select …): evaluated once per row.",
            evidence={
                "unwrapped_calls": {clause: [_display(n) for n in calls] for clause, calls in unwrapped.items()},
                **_policy_evidence(pol),
            },
            sql=_initplan_fix(rel, pol, unwrapped),
        )


# --- rls_policy_always_true -------------------------------------------------------------------------------------


def _always_true_clauses(parsed: ParsedPolicy) -> list[str]:
    """The clauses of a write policy that let every row through (empty for SELECT policies).

    A missing expression denies (it is not "true"), except that ALL and UPDATE policies without WITH CHECK
    check new rows with their USING expression.
    """
    pol = parsed.policy
    if pol.command == "SELECT" or (pol.command == "UPDATE" and parsed.using is None):
        return []  # SELECT: public read is allowed; UPDATE without USING can reach no row
    using_true = parsed.using is not None and parsed.using.is_always_true()
    check_true = parsed.with_check.is_always_true() if parsed.with_check is not None else using_true
    found = []
    if using_true and pol.command != "INSERT":
        found.append("USING")
    if check_true and pol.command in ("INSERT", "UPDATE", "ALL"):
        found.append("WITH CHECK")
    return found


@check(
    "rls_policy_always_true",
    "RLS policy always true",
    Level.WARN,
    Category.SECURITY,
    description=(
        "A permissive INSERT, UPDATE, DELETE or ALL policy for an API role has a USING or WITH CHECK expression "
        "that is always true."
    ),
    rationale=(
        "Policies are OR-ed: one always-true permissive policy lets every API caller write (or delete) any row, "
        "whatever the other policies say. `SELECT ... USING (true)` is not reported: a public read is a common, "
        "deliberate design."
    ),
    remediation=(
        "Replace the expression with a predicate on the row, typically `(select auth.uid()) = user_id`, or drop "
        "the policy if writes should go through the backend only (the SQL below drops it)."
    ),
)
def rls_policy_always_true(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    roles = _rls_api_roles(snapshot, config)
    for rel, parsed in _policies(snapshot):
        pol = parsed.policy
        if not pol.permissive or not (reached := _applies_to(snapshot, pol, roles)):
            continue
        clauses = _always_true_clauses(parsed)
        if not clauses:
            continue
        drop = sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(pol.name), rel_ident(rel))
        yield spec.finding(
            policy_ref(pol),
            f"Policy {pol.name} lets {', '.join(reached)} {pol.command.lower()} any row of {rel.qualified}: "
            f"its {' and '.join(clauses)} is always true.",
            evidence={"always_true": clauses, "applies_to": list(reached), **_policy_evidence(pol)},
            sql=_comment(
                "Replace the always-true expression with a predicate on the row, or drop the policy so that",
                "these writes are denied to API roles:",
            )
            + render(drop),
        )


# --- rls_references_user_metadata -------------------------------------------------------------------------------


def _user_metadata_sources(expr: PolicyExpression) -> list[str]:
    """Where the expression reads user-editable metadata from (empty when it does not)."""
    found: list[str] = []
    constants = expr.string_constants()
    if _USER_METADATA in constants:
        names = {call.name for call in expr.function_calls()}
        if "auth.jwt" in names:
            found.append("auth.jwt() -> 'user_metadata'")
        if "pg_catalog.current_setting" in names and _JWT_CLAIMS_SETTING in constants:
            found.append("current_setting('request.jwt.claims') -> 'user_metadata'")
    if _RAW_USER_META in expr.referenced_columns():
        found.append("auth.users.raw_user_meta_data")
    return found


@check(
    "rls_references_user_metadata",
    "RLS references user metadata",
    Level.ERROR,
    Category.SECURITY,
    description=(
        "A policy decides on `user_metadata` from the JWT (auth.jwt() or the request.jwt.claims setting) or on "
        "auth.users.raw_user_meta_data."
    ),
    rationale=(
        "User metadata is editable by the user through the Auth API (`updateUser({ data })`). A policy that "
        "grants access on a role, tenant or flag kept there lets any user grant it to themselves."
    ),
    remediation=(
        "Keep authorization claims in `app_metadata` (raw_app_meta_data), which only the service role can "
        "change, or in a table the user cannot write, and rewrite the policy to read them from there."
    ),
)
def rls_references_user_metadata(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel, parsed in _policies(snapshot):
        pol = parsed.policy
        sources = {clause: found for clause, expr in parsed.expressions() if (found := _user_metadata_sources(expr))}
        if not sources:
            continue
        reads = sorted({s for found in sources.values() for s in found})
        yield spec.finding(
            policy_ref(pol),
            f"Policy {pol.name} on {rel.qualified} decides on user-editable metadata ({'; '.join(reads)}).",
            evidence={"reads": sources, **_policy_evidence(pol)},
        )


# --- multiple_permissive_policies -------------------------------------------------------------------------------


def _stacked_policies(
    snapshot: Snapshot, config: AuditConfig, permissive: list[Policy], command: str
) -> dict[str, list[str]]:
    """Role -> names of the permissive policies for ``command`` it gets, where that is more than one.

    PUBLIC stands for the policies granted TO PUBLIC; a named role is listed only when it gets more than
    those (so two PUBLIC policies give one entry, not one per role). Roles that bypass RLS are left out.
    """
    applicable = [p for p in permissive if _opens(p, command)]
    if len(applicable) < 2:
        return {}
    public = [p.name for p in applicable if "PUBLIC" in p.roles]
    subjects = dict.fromkeys([*api_roles(snapshot, config), *(r for p in applicable for r in p.roles)])
    stacked: dict[str, list[str]] = {}
    if len(public) > 1:
        stacked["PUBLIC"] = public
    for role in subjects:
        if role == "PUBLIC" or not _subject_to_rls(snapshot, role):
            continue
        names = [p.name for p in applicable if _applies_to(snapshot, p, (role,))]
        if len(names) > 1 and set(names) != set(public):
            stacked[role] = names
    return stacked


def _merge_fix(rel: Relation, policies: list[Policy], command: str) -> str | None:
    """One policy OR-ing the stacked ones, when they share command and roles (else None: a design decision)."""
    if any(p.command != command or p.roles != policies[0].roles for p in policies):
        return None
    using = [p.using for p in policies] if command in ("SELECT", "UPDATE", "DELETE") else []
    checks = [_effective_check(p) for p in policies] if command in ("INSERT", "UPDATE") else []
    if any(e is None for e in [*using, *checks]):
        return None
    name = sql.Identifier(min(p.name for p in policies))
    create = sql.SQL("CREATE POLICY {} ON {} AS PERMISSIVE FOR {} TO {}").format(
        name, rel_ident(rel), sql.SQL(command), roles_list(list(policies[0].roles))
    )
    parts: list[sql.Composable] = [create]
    for clause, exprs in (("USING", using), ("WITH CHECK", checks)):
        if exprs:
            joined = sql.SQL(" OR ").join(sql.SQL("({})").format(sql.SQL(cast(str, e))) for e in exprs)
            parts.append(sql.SQL(clause + " ({})").format(joined))
    drops = [sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(p.name), rel_ident(rel)) for p in policies]
    return render(*drops, sql.SQL(" ").join(parts))


@check(
    "multiple_permissive_policies",
    "Multiple permissive policies",
    Level.WARN,
    Category.PERFORMANCE,
    description="A table has more than one permissive policy for the same role and command.",
    rationale=(
        "PostgreSQL evaluates every permissive policy that applies and ORs the results, for each row: two "
        "policies cost two predicates (and their sub-selects) per row, and the intent is harder to review. "
        "Restrictive policies are not counted (they are AND-ed on purpose); roles that bypass RLS are ignored."
    ),
    remediation=(
        "Merge the policies of one role and command into a single policy whose expression ORs theirs. FOR ALL "
        "policies often overlap a FOR SELECT policy: split the ALL policy into INSERT/UPDATE/DELETE policies."
    ),
)
def multiple_permissive_policies(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel in _policy_tables(snapshot):
        permissive = [p for p in snapshot.policies_of(rel.oid) if p.permissive]
        by_name = {p.name: p for p in permissive}
        for command in COMMANDS:
            stacked = _stacked_policies(snapshot, config, permissive, command)
            if not stacked:
                continue
            involved = sorted({n for names in stacked.values() for n in names})
            summary = "; ".join(f"{role}: {', '.join(names)}" for role, names in stacked.items())
            yield spec.finding(
                relation_ref(rel),
                f"Table {rel.qualified} has several permissive {command} policies for the same role ({summary}).",
                evidence={
                    "command": command,
                    "roles": stacked,
                    "policies": {n: _policy_evidence(by_name[n]) for n in involved},
                },
                sql=_merge_fix(rel, [by_name[n] for n in involved], command),
                discriminator=command,
            )


# --- rls_command_gap --------------------------------------------------------------------------------------------


@check(
    "rls_command_gap",
    "RLS command gap",
    Level.INFO,
    Category.SECURITY,
    description=(
        "A table has RLS policies, API roles hold a privilege for some of SELECT/INSERT/UPDATE/DELETE, but no "
        "permissive policy lets any API role use that command."
    ),
    rationale=(
        "Without a permissive policy the command silently affects no row (or fails with an RLS error on INSERT). "
        "That is right when writes go through the backend only, but then the grant is misleading; when it is not "
        "intended, the application breaks in a way that looks like missing data."
    ),
    remediation=(
        "If the command is meant for the backend only, revoke the privilege from the API roles so the intent is "
        "explicit (the SQL below). Otherwise add a policy for the command."
    ),
)
def rls_command_gap(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    roles = _rls_api_roles(snapshot, config)
    for rel in _user_tables(snapshot):
        policies = snapshot.policies_of(rel.oid)
        if not policies:
            continue  # rls_enabled_no_policy reports the table
        uncovered: dict[str, list[str]] = {}
        for command in COMMANDS:
            holders = [r for r in roles_that_can(snapshot, config, rel, command) if r in roles]
            covered = any(p.permissive and _opens(p, command) and _applies_to(snapshot, p, roles) for p in policies)
            if holders and not covered:
                uncovered[command] = holders
        if not uncovered:
            continue
        by_grantees: dict[tuple[str, ...], list[str]] = {}
        for command, holders in uncovered.items():
            if grantees := grantees_conferring(snapshot, holders, rel.grants, command, rel.owner):
                by_grantees.setdefault(grantees, []).append(command)
        revokes = [
            sql.SQL("REVOKE {} ON {} FROM {}").format(
                sql.SQL(", ").join(sql.SQL(c) for c in commands), rel_ident(rel), roles_list(grantees)
            )
            for grantees, commands in by_grantees.items()
        ]
        yield spec.finding(
            relation_ref(rel),
            f"Table {rel.qualified} has RLS policies but none for {', '.join(uncovered)} by an API role, "
            "although API roles hold those privileges.",
            evidence={
                "uncovered_commands": list(uncovered),
                "privilege_holders": uncovered,
                "policies": {p.name: _policy_evidence(p) for p in policies},
            },
            sql=_comment("If these commands are meant for the backend only, make it explicit:") + render(*revokes)
            if revokes
            else None,
        )


# --- rls_not_forced ---------------------------------------------------------------------------------------------


@check(
    "rls_not_forced",
    "RLS not forced",
    Level.INFO,
    Category.SECURITY,
    description="A table has RLS enabled but not forced, and its owner is a login role that is not a superuser.",
    rationale=(
        "The owner of a table bypasses its policies unless RLS is FORCEd. When the owner can log in (an "
        "application, migration or pooled role), everything connecting as that role sees and changes every row."
    ),
    remediation=(
        "Force row level security, after checking that jobs running as the owner (migrations, triggers, "
        "SECURITY DEFINER functions it owns) either satisfy the policies or use a role with BYPASSRLS."
    ),
)
def rls_not_forced(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    for rel in _user_tables(snapshot):
        owner = snapshot.role(rel.owner)
        if rel.rls_forced or owner is None or not owner.login or owner.superuser or owner.bypassrls:
            continue  # superusers and BYPASSRLS roles ignore FORCE: forcing would change nothing
        yield spec.finding(
            relation_ref(rel),
            f"Table {rel.qualified} is owned by login role {rel.owner}, which bypasses its RLS policies "
            "(RLS is not forced).",
            evidence={
                "rls_enabled": True,
                "rls_forced": False,
                "owner": rel.owner,
                "owner_login": True,
                "owner_superuser": False,
                "owner_bypassrls": False,
                "policies": [p.name for p in snapshot.policies_of(rel.oid)],
            },
            sql=render(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(rel_ident(rel))),
        )


# --- rls_policy_not_user_scoped ---------------------------------------------------------------------------------


def _functions_by_oid(snapshot: Snapshot) -> Mapping[int, Function]:
    return cast(
        "Mapping[int, Function]", snapshot._lookup("functions_by_oid", lambda: {f.oid: f for f in snapshot.functions})
    )


def _user_scoped(snapshot: Snapshot, expr: PolicyExpression) -> bool:
    """Whether the expression may depend on who asks.

    Besides :meth:`PolicyExpression.references_user_context` (auth functions, current_user, current_setting,
    any sub-select), a call to a project function that is not IMMUTABLE counts: helpers such as
    `private.is_member(org_id)` read the caller inside.
    """
    if expr.references_user_context():
        return True
    functions = _functions_by_oid(snapshot)
    for call in expr.function_calls():
        if call.name is None or call.oid is None or call.name.partition(".")[0] in _BUILTIN_SCHEMAS:
            continue
        fn = functions.get(call.oid)
        if fn is None or fn.volatility != "i":
            return True
    return False


def _constant_false(expr: PolicyExpression) -> bool:
    """`USING (false)` / `USING (null)`: the expression grants nothing."""
    root = expr.root
    if not isinstance(root, Node) or root.type != "CONST" or root.get_int("consttype") != 16:
        return False
    value = root.get("constvalue")
    return root.get_bool("constisnull") or (isinstance(value, tuple) and not any(value))


@check(
    "rls_policy_not_user_scoped",
    "RLS policy not user scoped",
    Level.INFO,
    Category.SECURITY,
    description=(
        "A permissive policy for an API role does not depend on the caller: no auth function, no current_user or "
        "session_user, no current_setting, no sub-select and no project helper function."
    ),
    rationale=(
        "Such a policy gives every API caller (for anon: everyone on the internet) the same rows, e.g. "
        "`USING (is_public)` or `USING (true)`. That is right for public reference data and wrong for anything "
        "tenant- or user-owned: review that the table is meant to be shared this way."
    ),
    remediation=(
        "If the rows belong to users or tenants, scope the policy to the caller, e.g. "
        "`(select auth.uid()) = user_id` or a membership sub-select; if the data is public by design, accept the "
        "finding with that justification."
    ),
)
def rls_policy_not_user_scoped(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    roles = _rls_api_roles(snapshot, config)
    for rel, parsed in _policies(snapshot):
        pol = parsed.policy
        if not pol.permissive or not (reached := _applies_to(snapshot, pol, roles)):
            continue
        expressions = list(parsed.expressions())
        if not any(_opens(pol, c) for c in COMMANDS) or all(_constant_false(e) for _, e in expressions):
            continue  # grants nothing
        if any(_user_scoped(snapshot, e) for _, e in expressions):
            continue
        if _always_true_clauses(parsed):
            continue  # an always-true write policy: rls_policy_always_true reports it (warn)
        yield spec.finding(
            policy_ref(pol),
            f"Policy {pol.name} gives every caller in {', '.join(reached)} the same {pol.command} access to "
            f"{rel.qualified}: it does not depend on who asks.",
            evidence={"applies_to": list(reached), **_policy_evidence(pol)},
        )


# --- rls_policy_nested_subquery ---------------------------------------------------------------------------------


@check(
    "rls_policy_nested_subquery",
    "RLS policy with nested sub-selects",
    Level.INFO,
    Category.PERFORMANCE,
    description="A policy expression nests sub-selects two or more levels deep.",
    rationale=(
        "A nested membership lookup in a policy (rows IN (select ... IN (select ... auth.uid()))) is planned "
        "for each query on the table and, when correlated, re-run per row: it is the usual cause of slow RLS "
        "tables. The depth threshold is `rls_policy_nested_subquery.depth` (default 2)."
    ),
    remediation=(
        "Move the lookup into a STABLE SECURITY DEFINER function in a private schema that returns the caller's "
        "ids (e.g. `private.user_org_ids()`), and use `col = ANY (array(select private.user_org_ids()))` or "
        "`col IN (select private.user_org_ids())`; index the membership table on the user column."
    ),
)
def rls_policy_nested_subquery(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    limit = int(config.threshold("rls_policy_nested_subquery.depth", 2))
    for rel, parsed in _policies(snapshot):
        pol = parsed.policy
        depths = {clause: expr.sublink_depth() for clause, expr in parsed.expressions()}
        deep = {clause: depth for clause, depth in depths.items() if depth >= limit}
        if not deep:
            continue
        yield spec.finding(
            policy_ref(pol),
            f"Policy {pol.name} on {rel.qualified} nests sub-selects {max(deep.values())} levels deep "
            f"in {' and '.join(deep)}.",
            evidence={"subselect_depth": deep, "threshold": limit, **_policy_evidence(pol)},
        )
