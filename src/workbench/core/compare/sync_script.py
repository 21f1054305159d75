"""A script that makes B match A for the security-relevant differences, with a rollback section.

Covers RLS flags, policies, view security options, function search_path and SECURITY DEFINER, and grants.
The script is for a reviewer to read and edit; nothing here runs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from psycopg import sql

from workbench.core.checks.objects import comment, function_ident, rel_ident, role_ident
from workbench.core.model import Function, Grant, Policy, Relation, Snapshot

_PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "EXECUTE", "USAGE", "CREATE"}
)
_TABLE_KINDS = "rpf"


@dataclass
class _Script:
    forward: list[str] = field(default_factory=list)
    rollback: list[str] = field(default_factory=list)

    def add(self, note: str, forward: Iterable[sql.Composable], rollback: Iterable[sql.Composable]) -> None:
        self.forward.append(comment(note) + "".join(s.as_string() + ";\n" for s in forward))
        self.rollback.insert(0, comment(note) + "".join(s.as_string() + ";\n" for s in rollback))


def _policy_create(pol: Policy, rel: Relation) -> sql.Composable:
    parts = [
        sql.SQL("CREATE POLICY {} ON {} AS {} FOR {} TO {}").format(
            sql.Identifier(pol.name),
            rel_ident(rel),
            sql.SQL("PERMISSIVE" if pol.permissive else "RESTRICTIVE"),
            sql.SQL(
                {"ALL": "ALL", "SELECT": "SELECT", "INSERT": "INSERT", "UPDATE": "UPDATE"}.get(pol.command, "DELETE")
            ),
            sql.SQL(", ").join(role_ident(r) for r in pol.roles),
        )
    ]
    # The expressions are the server's own deparse (schema-qualified, read with search_path = '').
    if pol.using is not None:
        parts.append(sql.SQL("USING ({})").format(sql.SQL(pol.using)))
    if pol.with_check is not None:
        parts.append(sql.SQL("WITH CHECK ({})").format(sql.SQL(pol.with_check)))
    return sql.SQL(" ").join(parts)


def _policy_drop(pol: Policy, rel: Relation) -> sql.Composable:
    return sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(pol.name), rel_ident(rel))


def _rls(rel: Relation, enabled: bool, forced: bool) -> Iterator[sql.Composable]:
    yield sql.SQL("ALTER TABLE {} {} ROW LEVEL SECURITY").format(
        rel_ident(rel), sql.SQL("ENABLE" if enabled else "DISABLE")
    )
    yield sql.SQL("ALTER TABLE {} {} ROW LEVEL SECURITY").format(
        rel_ident(rel), sql.SQL("FORCE" if forced else "NO FORCE")
    )


def _view_options(rel: Relation, source: Relation) -> Iterator[sql.Composable]:
    """Set the view's security options exactly as `source` has them (RESET where it has none)."""
    names = ("security_invoker", "security_barrier")
    present = [n for n in names if source.option(n) is not None]
    absent = [n for n in names if source.option(n) is None]
    if present:
        settings = [
            sql.SQL("{} = {}").format(sql.SQL(n), sql.SQL("true" if _truthy(source.option(n)) else "false"))
            for n in present
        ]
        yield sql.SQL("ALTER VIEW {} SET ({})").format(rel_ident(rel), sql.SQL(", ").join(settings))
    if absent:
        yield sql.SQL("ALTER VIEW {} RESET ({})").format(rel_ident(rel), sql.SQL(", ").join(map(sql.SQL, absent)))


def _truthy(value: str | None) -> bool:
    return (value or "false").lower() in {"true", "on", "1", "yes"}


def _function_security(fn: Function, source: Function) -> Iterator[sql.Composable]:
    keyword = sql.SQL("PROCEDURE" if fn.kind == "p" else "FUNCTION")
    yield sql.SQL("ALTER {} {} {}").format(
        keyword, function_ident(fn), sql.SQL("SECURITY DEFINER" if source.security_definer else "SECURITY INVOKER")
    )
    path = source.setting("search_path")
    if path is None:
        yield sql.SQL("ALTER {} {} RESET search_path").format(keyword, function_ident(fn))
    else:
        # proconfig holds the value as SET would print it: a list of (possibly quoted) names.
        value = "''" if path.strip() in {"", '""', "''"} else path
        yield sql.SQL("ALTER {} {} SET search_path = {}").format(keyword, function_ident(fn), sql.SQL(value))


def _grant_statements(
    on: sql.Composable, have: Iterable[Grant], want: Iterable[Grant], owner: str
) -> tuple[list[sql.Composable], list[sql.Composable]]:
    current = {(g.grantee, g.privilege) for g in have if g.grantee != owner and g.privilege in _PRIVILEGES}
    wanted = {(g.grantee, g.privilege) for g in want if g.grantee != owner and g.privilege in _PRIVILEGES}
    forward: list[sql.Composable] = []
    back: list[sql.Composable] = []
    for grantee, privilege in sorted(wanted - current):
        forward.append(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privilege), on, role_ident(grantee)))
        back.append(sql.SQL("REVOKE {} ON {} FROM {}").format(sql.SQL(privilege), on, role_ident(grantee)))
    for grantee, privilege in sorted(current - wanted):
        forward.append(sql.SQL("REVOKE {} ON {} FROM {}").format(sql.SQL(privilege), on, role_ident(grantee)))
        back.append(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privilege), on, role_ident(grantee)))
    return forward, back


def security_sync_script(a: Snapshot, b: Snapshot, a_name: str = "A", b_name: str = "B") -> str | None:
    """SQL that makes B's security settings match A's, or None when they already match."""
    script = _Script()
    rels_a = {(r.schema, r.name): r for r in a.relations if r.extension is None}
    for rel_b in b.relations:
        rel_a = rels_a.get((rel_b.schema, rel_b.name))
        if rel_a is None or rel_b.extension is not None:
            continue
        key = rel_b.qualified
        if rel_b.kind in _TABLE_KINDS and (rel_a.rls_enabled, rel_a.rls_forced) != (
            rel_b.rls_enabled,
            rel_b.rls_forced,
        ):
            script.add(
                f"RLS of {key}: enabled {rel_a.rls_enabled}, forced {rel_a.rls_forced} in {a_name}",
                _rls(rel_b, rel_a.rls_enabled, rel_a.rls_forced),
                _rls(rel_b, rel_b.rls_enabled, rel_b.rls_forced),
            )
        if rel_b.kind == "v" and any(
            _truthy(rel_a.option(o)) != _truthy(rel_b.option(o)) for o in ("security_invoker", "security_barrier")
        ):
            script.add(
                f"Security options of view {key} as in {a_name}",
                _view_options(rel_b, rel_a),
                _view_options(rel_b, rel_b),
            )
        forward, back = _grant_statements(
            sql.SQL("TABLE {}").format(rel_ident(rel_b)), rel_b.grants, rel_a.grants, rel_b.owner
        )
        if forward:
            script.add(f"Privileges on {key} as in {a_name}", forward, back)
        _policies(script, a, b, rel_a, rel_b, a_name)
    fns_a = {f.signature: f for f in a.functions if f.extension is None}
    for fn_b in b.functions:
        fn_a = fns_a.get(fn_b.signature)
        if fn_a is None or fn_b.extension is not None or fn_b.kind not in "fp":
            continue
        if (fn_a.security_definer, fn_a.setting("search_path")) != (fn_b.security_definer, fn_b.setting("search_path")):
            script.add(
                f"SECURITY DEFINER and search_path of {fn_b.signature} as in {a_name}",
                _function_security(fn_b, fn_a),
                _function_security(fn_b, fn_b),
            )
        keyword = sql.SQL("PROCEDURE" if fn_b.kind == "p" else "FUNCTION")
        forward, back = _grant_statements(
            sql.SQL("{} {}").format(keyword, function_ident(fn_b)), fn_b.grants, fn_a.grants, fn_b.owner
        )
        if forward:
            script.add(f"EXECUTE privileges on {fn_b.signature} as in {a_name}", forward, back)
    if not script.forward:
        return None
    header = comment(
        f"Make {b_name} ({b.database}, PostgreSQL {b.server_version}) match {a_name} ({a.database}) for",
        "RLS flags, policies, view security options, function security and privileges.",
        f"Snapshots: {a_name} {a.collected_at}, {b_name} {b.collected_at}. Review every statement before running;",
        f"run it on {b_name} only. Objects that exist on one side only are listed by the comparison, not created here.",
    )
    rollback = "".join(
        "".join(f"-- {line}\n" if line else "--\n" for line in block.rstrip("\n").split("\n"))
        for block in script.rollback
    )
    return (
        header
        + "\nBEGIN;\n\n"
        + "\n".join(script.forward)
        + "\nCOMMIT;\n\n"
        + comment(f"Rollback: restores {b_name} as it was in its snapshot. Uncomment to run.")
        + "-- BEGIN;\n"
        + rollback
        + "-- COMMIT;\n"
    )


def _policies(script: _Script, a: Snapshot, b: Snapshot, rel_a: Relation, rel_b: Relation, a_name: str) -> None:
    pols_a = {p.name: p for p in a.policies_of(rel_a.oid)}
    pols_b = {p.name: p for p in b.policies_of(rel_b.oid)}
    for name in sorted(pols_a.keys() | pols_b.keys()):
        pa, pb = pols_a.get(name), pols_b.get(name)
        where = f"policy {name} on {rel_b.qualified}"
        if pa is not None and pb is None:
            script.add(f"Create {where} as in {a_name}", [_policy_create(pa, rel_b)], [_policy_drop(pa, rel_b)])
        elif pa is None and pb is not None:
            script.add(
                f"Drop {where}: {a_name} has no such policy", [_policy_drop(pb, rel_b)], [_policy_create(pb, rel_b)]
            )
        elif pa is not None and pb is not None and _policy_shape(pa) != _policy_shape(pb):
            script.add(
                f"Recreate {where} as in {a_name}",
                [_policy_drop(pb, rel_b), _policy_create(pa, rel_b)],
                [_policy_drop(pa, rel_b), _policy_create(pb, rel_b)],
            )


def _policy_shape(pol: Policy) -> tuple[object, ...]:
    return (pol.permissive, pol.command, tuple(sorted(pol.roles)), pol.using, pol.with_check)
