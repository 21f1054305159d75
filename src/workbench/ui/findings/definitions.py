"""The current definition of a finding's object, as SQL text reconstructed from the snapshot (no Qt)."""

from __future__ import annotations

import re

from workbench.core.model import Function, Index, ObjectRef, Policy, Relation, Snapshot

_BARE = re.compile(r"[a-z_][a-z0-9_$]*")
_RESERVED_WORDS = """
all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create
current_catalog current_date current_role current_time current_timestamp current_user default deferrable
desc distinct do else end except false fetch for foreign from grant group having in initially intersect into
lateral leading limit localtime localtimestamp not null offset on only or order placing primary references
returning select session_user some symmetric table then to trailing true union unique user using variadic
when where window with
"""
_RESERVED = frozenset(_RESERVED_WORDS.split())
_RELKIND = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}
_REFACTION = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def qi(name: str) -> str:
    """Quote an identifier only when PostgreSQL needs it."""
    if _BARE.fullmatch(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def qn(schema: str | None, name: str) -> str:
    return f"{qi(schema)}.{qi(name)}" if schema else qi(name)


def object_definition(snapshot: Snapshot | None, obj: ObjectRef) -> str | None:
    """SQL that shows the object as it is now, or None when the snapshot has nothing to show for it."""
    if snapshot is None:
        return None
    kind = obj.kind
    if kind in ("table", "view", "materialized_view", "foreign_table") and obj.schema and obj.name:
        rel = snapshot.relation_named(obj.schema, obj.name)
        return relation_definition(snapshot, rel) if rel else None
    if kind == "column" and obj.schema and obj.table:
        rel = snapshot.relation_named(obj.schema, obj.table)
        return relation_definition(snapshot, rel, highlight_column=obj.name) if rel else None
    if kind == "index":
        ix = next((i for i in snapshot.indexes if i.schema == obj.schema and i.name == obj.name), None)
        return index_definition(ix) if ix else None
    if kind == "function":
        fn = next((f for f in snapshot.functions if f.signature == obj.key), None)
        if fn is None:
            fn = next((f for f in snapshot.functions if f.schema == obj.schema and f.name == obj.name), None)
        return function_definition(fn) if fn else None
    if kind == "policy":
        pol = next(
            (p for p in snapshot.policies if p.schema == obj.schema and p.table == obj.table and p.name == obj.name),
            None,
        )
        return policy_definition(pol) if pol else None
    if kind == "constraint" and obj.schema and obj.table:
        rel = snapshot.relation_named(obj.schema, obj.table)
        if rel is None:
            return None
        con = next((c for c in snapshot.constraints_of(rel.oid) if c.name == obj.name), None)
        if con is None:
            return None
        return f"ALTER TABLE {qn(rel.schema, rel.name)}\n    ADD CONSTRAINT {qi(con.name)} {con.definition};"
    if kind == "sequence":
        seq = next((s for s in snapshot.sequences if s.schema == obj.schema and s.name == obj.name), None)
        if seq is None:
            return None
        lines = [
            f"CREATE SEQUENCE {qn(seq.schema, seq.name)}",
            f"    AS {seq.data_type}",
            f"    INCREMENT BY {seq.increment}",
            f"    MINVALUE {seq.min_value} MAXVALUE {seq.max_value}",
            f"    START WITH {seq.start_value}" + (" CYCLE" if seq.cycle else ""),
        ]
        text = "\n".join(lines) + ";"
        if seq.last_value is not None:
            text += f"\n-- last value: {seq.last_value:,} of {seq.max_value:,}"
        return text
    if kind == "extension" and obj.name:
        ext = snapshot.extension(obj.name)
        if ext is None:
            return None
        text = f"CREATE EXTENSION {qi(ext.name)} WITH SCHEMA {qi(ext.schema)} VERSION '{ext.installed_version}';"
        if ext.default_version and ext.default_version != ext.installed_version:
            text += f"\n-- default (newest available) version: {ext.default_version}"
        return text
    if kind == "role" and obj.name:
        role = snapshot.role(obj.name)
        if role is None:
            return None
        attrs = [
            "SUPERUSER" if role.superuser else "NOSUPERUSER",
            "LOGIN" if role.login else "NOLOGIN",
            "BYPASSRLS" if role.bypassrls else "NOBYPASSRLS",
            "INHERIT" if role.inherit else "NOINHERIT",
        ]
        text = f"CREATE ROLE {qi(role.name)} {' '.join(attrs)};"
        if role.member_of:
            text += f"\n-- member of: {', '.join(role.member_of)}"
        return text
    if kind == "setting" and obj.name:
        value = snapshot.setting(obj.name)
        return None if value is None else f"-- current value\nSHOW {obj.name};  -- {value}"
    return None


def relation_definition(snapshot: Snapshot, rel: Relation, *, highlight_column: str | None = None) -> str:
    """CREATE statement of a table or view, reconstructed from the catalog snapshot."""
    name = qn(rel.schema, rel.name)
    kind = _RELKIND.get(rel.kind, "TABLE")
    options = f"\nWITH ({', '.join(rel.options)})" if rel.options else ""
    if rel.kind in ("v", "m"):
        body = (rel.view_definition or "    -- definition not available").rstrip().rstrip(";")
        return f"CREATE {kind} {name}{options} AS\n{body};"
    lines = []
    for col in rel.columns:
        line = f"    {qi(col.name)} {col.type}"
        if col.identity:
            line += " GENERATED " + ("ALWAYS" if col.identity == "a" else "BY DEFAULT") + " AS IDENTITY"
        elif col.generated == "s" and col.default:
            line += f" GENERATED ALWAYS AS ({col.default}) STORED"
        elif col.default:
            line += f" DEFAULT {col.default}"
        if col.not_null:
            line += " NOT NULL"
        if highlight_column and col.name == highlight_column:
            line += "  -- ◀"
        lines.append(line)
    constraints = [c for c in snapshot.constraints_of(rel.oid) if c.type in "pufcx"]
    for con in constraints:
        lines.append(f"    CONSTRAINT {qi(con.name)} {con.definition}")
    partition = f"\nPARTITION BY {rel.partition_key}" if rel.partition_key else ""
    text = f"CREATE {kind} {name} (\n" + ",\n".join(lines) + f"\n){partition}{options};"
    if rel.parent_oid is not None:
        parent = snapshot.relation(rel.parent_oid)
        if parent is not None:
            text += f"\n-- partition of {qn(parent.schema, parent.name)} {rel.partition_bound or ''}".rstrip()
    extra: list[str] = []
    if rel.rls_enabled:
        extra.append(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;")
    if rel.rls_forced:
        extra.append(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY;")
    extra += [index_definition(ix) for ix in snapshot.indexes_of(rel.oid) if ix.constraint is None]
    extra += [policy_definition(p) for p in snapshot.policies_of(rel.oid)]
    if extra:
        text += "\n\n" + "\n\n".join(extra)
    if rel.owner:
        text += f"\n-- owner: {rel.owner}"
    return text


def index_definition(ix: Index) -> str:
    text = (ix.definition or f"-- index {ix.qualified}").rstrip(";") + ";"
    if not ix.is_valid:
        text += "  -- INVALID"
    return text


def function_definition(fn: Function) -> str:
    if fn.definition:
        return fn.definition.rstrip()
    return f"-- {fn.signature}: no definition available ({fn.language})"


def policy_definition(pol: Policy) -> str:
    roles = ", ".join("PUBLIC" if r == "PUBLIC" else qi(r) for r in pol.roles) or "PUBLIC"
    text = (
        f"CREATE POLICY {qi(pol.name)} ON {qn(pol.schema, pol.table)}\n"
        f"    AS {'PERMISSIVE' if pol.permissive else 'RESTRICTIVE'}\n"
        f"    FOR {pol.command}\n"
        f"    TO {roles}"
    )
    if pol.using:
        text += f"\n    USING ({pol.using})"
    if pol.with_check:
        text += f"\n    WITH CHECK ({pol.with_check})"
    return text + ";"
