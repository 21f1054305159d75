"""Policy expression analysis over real ``pg_policy`` trees (each server version) and pure parser units."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import psycopg
import pytest

from workbench.core.checks.policy_expr import (
    Node,
    NodeTreeError,
    PolicyExpression,
    TypedList,
    decode_string_datum,
    parse_node_tree,
    walk,
)

SCHEMA = r"""
create schema auth;
create table auth.users (id uuid primary key, email text, raw_user_meta_data jsonb);
create function auth.uid() returns uuid language sql stable
    as $$ select nullif(current_setting('request.jwt.claims', true)::jsonb ->> 'sub', '')::uuid $$;
create function auth.jwt() returns jsonb language sql stable
    as $$ select coalesce(current_setting('request.jwt.claims', true), '{}')::jsonb $$;

create table public.docs (id bigint primary key, owner uuid, status text, team_id int);
create table public.members (team_id int, user_id uuid, role text);
create table public.teams (id int, org_id int);
alter table public.docs enable row level security;

create policy unwrapped on docs using (auth.uid() = owner);
create policy wrapped on docs using ((select auth.uid()) = owner);
create policy wrapped_jwt on docs using ((select auth.jwt() ->> 'tenant') = status);
create policy in_testexpr on docs using (auth.uid() in (select user_id from members));
create policy setting on docs for update using (current_setting('app.tenant') = status)
    with check ((select current_setting('app.tenant')) = status and not false);
create policy always on docs using (true);
create policy one_is_one on docs using (1 = 1);
create policy or_true on docs using (owner = auth.uid() or true);
create policy and_true on docs using (true and true);
create policy not_false on docs using (not false);
create policy never on docs using (false);
create policy one_is_two on docs using (1 = 2);
create policy const_and_column on docs using (1 = 1 and status = 'x');
create policy nested on docs using (
    exists (select 1 from members m
            where m.team_id = docs.team_id
              and m.team_id in (select t.id from teams t where t.org_id = 1)));
create policy jwt_metadata on docs using (auth.jwt() -> 'user_metadata' ->> 'role' = 'admin');
create policy users_metadata on docs using (
    exists (select 1 from auth.users u where u.id = docs.owner and u.raw_user_meta_data ->> 'role' = 'admin'));
create policy by_current_user on docs using (current_user = 'postgres');
create policy published on docs using (status = 'published');
"""


@dataclass(frozen=True)
class Catalog:
    """OID lookups read from the test database, in the shape PolicyExpression expects."""

    functions: Mapping[int, str]
    operators: Mapping[int, str]
    relations: Mapping[int, tuple[str, str, dict[int, str]]]

    def analyse(self, tree: str | None, table_oid: int) -> PolicyExpression:
        schema, table, columns = self.relations[table_oid]
        return PolicyExpression(
            tree,
            function_name=self.functions.get,
            operator_name=self.operators.get,
            table=(schema, table),
            columns=columns,
            relation=self.relations.get,
        )


Policies = dict[str, tuple[PolicyExpression, PolicyExpression | None]]


@pytest.fixture
def policies(fresh_db: str, load_sql: Callable[[str, str], None]) -> Policies:
    """name -> (USING analysis, WITH CHECK analysis or None) for every policy of SCHEMA."""
    load_sql(fresh_db, SCHEMA)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        functions: dict[int, str] = dict(
            conn.execute(
                "select p.oid::int, n.nspname || '.' || p.proname"
                " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            ).fetchall()
        )
        operators: dict[int, str] = dict(
            conn.execute(
                "select o.oid::int, n.nspname || '.' || o.oprname"
                " from pg_operator o join pg_namespace n on n.oid = o.oprnamespace"
            ).fetchall()
        )
        relations: dict[int, tuple[str, str, dict[int, str]]] = {}
        for oid, schema, name, attnum, attname in conn.execute(
            "select c.oid::int, n.nspname, c.relname, a.attnum::int, a.attname"
            " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " join pg_attribute a on a.attrelid = c.oid"
            " where a.attnum > 0 and not a.attisdropped and n.nspname in ('public', 'auth')"
        ):
            relations.setdefault(oid, (schema, name, {}))[2][attnum] = attname
        catalog = Catalog(functions, operators, relations)
        rows = conn.execute("select polname, polrelid::int, polqual, polwithcheck from pg_policy").fetchall()
    return {
        name: (
            catalog.analyse(qual, relid),
            catalog.analyse(check, relid) if check is not None else None,
        )
        for name, relid, qual, check in rows
    }


INITPLAN = {"auth.uid", "auth.jwt", "auth.role", "auth.email", "current_setting"}


def test_initplan_flags_bare_auth_calls_and_current_setting_only(policies: Policies) -> None:
    flagged = {name: using.unwrapped_calls(INITPLAN) for name, (using, _) in policies.items()}
    assert flagged["unwrapped"] == ["auth.uid"]
    assert flagged["wrapped"] == []
    assert flagged["wrapped_jwt"] == []
    assert flagged["or_true"] == ["auth.uid"]
    assert flagged["jwt_metadata"] == ["auth.jwt"]
    # the test expression of ``x IN (select ...)`` runs per row: not wrapped
    assert flagged["in_testexpr"] == ["auth.uid"]
    assert flagged["setting"] == ["pg_catalog.current_setting"]
    with_check = policies["setting"][1]
    assert with_check is not None
    assert with_check.unwrapped_calls(INITPLAN) == []
    assert [(c.name, c.in_subselect) for c in with_check.function_calls()] == [("pg_catalog.current_setting", True)]
    [call] = policies["wrapped"][0].function_calls()
    assert (call.name, call.kind, call.in_subselect, call.depth) == ("auth.uid", "FUNCEXPR", True, 1)


def test_always_true_expressions(policies: Policies) -> None:
    always = {name for name, (using, _) in policies.items() if using.is_always_true()}
    assert always == {"always", "one_is_one", "or_true", "and_true", "not_false"}
    with_check = policies["setting"][1]
    assert with_check is not None and not with_check.is_always_true()


def test_sublink_depth(policies: Policies) -> None:
    depth = {name: using.sublink_depth() for name, (using, _) in policies.items()}
    assert depth["nested"] == 2
    assert depth["wrapped"] == 1
    assert depth["users_metadata"] == 1
    assert depth["unwrapped"] == 0
    assert depth["published"] == 0


def test_jwt_user_metadata_string_constants(policies: Policies) -> None:
    using = policies["jwt_metadata"][0]
    assert {"user_metadata", "role", "admin"} <= using.string_constants()
    assert using.references_user_context()
    assert using.referenced_columns() == set()


def test_subselect_on_auth_users_reads_raw_user_meta_data(policies: Policies) -> None:
    using = policies["users_metadata"][0]
    assert using.referenced_columns() == {
        ("auth", "users", "id"),
        ("auth", "users", "raw_user_meta_data"),
        ("public", "docs", "owner"),
    }
    assert using.references_user_context()  # a sub-select
    nested = policies["nested"][0]
    assert nested.referenced_columns() == {
        ("public", "docs", "team_id"),
        ("public", "members", "team_id"),
        ("public", "teams", "id"),
        ("public", "teams", "org_id"),
    }


def test_current_user_is_user_context(policies: Policies) -> None:
    using = policies["by_current_user"][0]
    assert [c.name for c in using.function_calls()] == ["pg_catalog.current_user"]
    assert using.references_user_context()
    assert using.string_constants() == {"postgres"}  # a ``name`` constant, NUL padded


def test_plain_column_comparison_has_no_user_context(policies: Policies) -> None:
    using = policies["published"][0]
    assert not using.references_user_context()
    assert not using.is_always_true()
    assert using.function_calls() == []
    assert using.string_constants() == {"published"}
    assert using.referenced_columns() == {("public", "docs", "status")}
    assert all(not using.references_user_context() for using in (policies["always"][0], policies["never"][0]))


# -- pure units: no server ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "{OPEXPR :opno 96",
        "{OPEXPR :args (1 2}",
        "{VAR :varno 1})",
        "({VAR :varno 1}",
        "{VAR :varno}",
        "{:varno 1}",
        "{}",
        "{VAR :varno 1} {VAR :varno 2}",
        "(i 1 x)",
        ")",
    ],
)
def test_malformed_text_raises(text: str) -> None:
    with pytest.raises(NodeTreeError):
        parse_node_tree(text)


def test_unknown_node_types_and_formats_parse() -> None:
    tree = parse_node_tree(
        "{FUTUREEXPR :newfield {ANOTHERNODE :x <>} :flags (b 3 7) :ints (i 1 -2) :oids (o) "
        ':names ("a\\ b" "\\"q" "") :resname :y :odd \\<> :constvalue 4 [ 1 0 -1 0 0 0 0 0 ] :cols 2 1 3}'
    )
    assert isinstance(tree, Node) and tree.type == "FUTUREEXPR"
    assert tree.get("newfield").type == "ANOTHERNODE"
    assert tree.get("newfield").get("x") is None
    assert tree.get("flags") == TypedList("b", (3, 7))
    assert tree.get("ints") == TypedList("i", (1, -2))
    assert tree.get("oids") == TypedList("o", ())
    assert tree.get("names") == ["a b", '"q', ""]
    assert tree.get("resname") == ":y"  # a value that looks like a label
    assert tree.get("odd") == "<>"  # an escaped "<>" is a string, not NULL
    assert tree.get("constvalue") == (1, 0, 255, 0, 0, 0, 0, 0)
    assert tree.get("cols") == ("2", "1", "3")
    assert [n.type for n in walk(tree)] == ["FUTUREEXPR", "ANOTHERNODE"]
    assert parse_node_tree("<>") is None
    assert [n.type for n in parse_node_tree("({A} {B})")] == ["A", "B"]


def test_deep_trees_do_not_hit_the_recursion_limit() -> None:
    depth = 5000
    text = "{BOOLEXPR :boolop not :args (" * depth + "{CONST :consttype 16 :constisnull false :constvalue 1 [ 0 ]}"
    text += ")}" * depth
    expr = PolicyExpression(text)
    assert sum(1 for _ in walk(expr.root)) == depth + 1
    assert not expr.is_always_true()  # an even number of NOTs over false


def test_is_always_true_without_catalog_uses_builtin_operators() -> None:
    one = "{CONST :consttype 23 :constcollid 0 :constisnull false :constvalue 4 [ 1 0 0 0 0 0 0 0 ]}"
    null_bool = "{CONST :consttype 16 :constcollid 0 :constisnull true :constvalue <>}"
    assert PolicyExpression(f"{{OPEXPR :opno 96 :args ({one} {one})}}").is_always_true()
    assert not PolicyExpression(f"{{OPEXPR :opno 518 :args ({one} {one})}}").is_always_true()
    assert not PolicyExpression(f"{{OPEXPR :opno 424242 :args ({one} {one})}}").is_always_true()
    assert not PolicyExpression(f"{{BOOLEXPR :boolop not :args ({null_bool})}}").is_always_true()
    assert not PolicyExpression(None).is_always_true()


def test_decode_string_datum_headers_and_types() -> None:
    assert decode_string_datum(25, (20, 0, 0, 0, 97)) == ["a"]  # 4-byte header: 5 << 2
    assert decode_string_datum(25, (9, 97, 98, 99)) == ["abc"]  # 1-byte header: (4 << 1) | 1
    assert decode_string_datum(705, (104, 105, 0)) == ["hi"]  # unknown: a cstring
    assert decode_string_datum(19, (120,) + (0,) * 63) == ["x"]  # name
    assert decode_string_datum(23, (1, 0, 0, 0)) == []
    assert decode_string_datum(25, (255, 255)) == []  # truncated: no exception
