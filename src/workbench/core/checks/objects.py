"""Object references (CHECKS.md object keys) and quoted names for remediation SQL."""

from __future__ import annotations

from psycopg import sql

from workbench.core.model import Constraint, Function, Index, ObjectRef, Policy, Relation, Sequence, Snapshot

_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized_view", "f": "foreign_table"}


def relation_ref(rel: Relation) -> ObjectRef:
    return ObjectRef(_KINDS.get(rel.kind, "table"), f"{rel.schema}.{rel.name}", rel.schema, None, rel.name)


def index_ref(snapshot: Snapshot, ix: Index) -> ObjectRef:
    table = snapshot.relation(ix.table_oid)
    return ObjectRef("index", f"{ix.schema}.{ix.name}", ix.schema, table.name if table else None, ix.name)


def sequence_ref(seq: Sequence) -> ObjectRef:
    return ObjectRef("sequence", f"{seq.schema}.{seq.name}", seq.schema, None, seq.name)


def function_ref(fn: Function) -> ObjectRef:
    return ObjectRef("function", fn.signature, fn.schema, None, fn.name)


def policy_ref(pol: Policy) -> ObjectRef:
    return ObjectRef("policy", f"{pol.schema}.{pol.table}:{pol.name}", pol.schema, pol.table, pol.name)


def constraint_ref(rel: Relation, con: Constraint) -> ObjectRef:
    return ObjectRef("constraint", f"{rel.schema}.{rel.name}:{con.name}", rel.schema, rel.name, con.name)


def column_ref(rel: Relation, column: str) -> ObjectRef:
    return ObjectRef("column", f"{rel.schema}.{rel.name}.{column}", rel.schema, rel.name, column)


def extension_ref(name: str) -> ObjectRef:
    return ObjectRef("extension", f"extension:{name}", None, None, name)


def role_ref(name: str) -> ObjectRef:
    return ObjectRef("role", f"role:{name}", None, None, name)


def database_ref(name: str) -> ObjectRef:
    return ObjectRef("database", f"database:{name}", None, None, name)


def ident(*parts: str) -> sql.Identifier:
    """A (schema-)qualified identifier, always quoted correctly."""
    return sql.Identifier(*parts)


def rel_ident(rel: Relation | Sequence | Index) -> sql.Identifier:
    return sql.Identifier(rel.schema, rel.name)


def role_ident(role: str) -> sql.Composable:
    return sql.SQL("PUBLIC") if role == "PUBLIC" else sql.Identifier(role)


def roles_list(roles: tuple[str, ...] | list[str]) -> sql.Composable:
    return sql.SQL(", ").join(role_ident(r) for r in roles)


def function_ident(fn: Function) -> sql.Composable:
    """`schema.name(identity args)`; the argument list comes from the server's own deparser."""
    return sql.SQL("{}({})").format(sql.Identifier(fn.schema, fn.name), sql.SQL(fn.identity_args))


def render(*statements: sql.Composable) -> str:
    """Statements as one script, one per line, each ending with a semicolon."""
    return "\n".join(s.as_string() + ";" for s in statements)


def comment(*lines: str) -> str:
    """SQL comment lines, each ending with a newline. Line breaks inside a line (object names may contain
    them) are flattened, so no text can escape the comment and run as a statement."""
    return "".join("-- " + " ".join(line.splitlines()) + "\n" for line in lines)
