"""Compare two snapshots object by object and attribute by attribute.

Each object is reduced to a key (its name, as in CHECKS.md's object keys) and a flat mapping of normalised
attributes, so that what is not a difference (whitespace, grant order, owner's implicit grants, auto-generated
constraint and index names) never shows up as one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from workbench.core.model import Relation, Snapshot

KINDS = (
    "schema",
    "table",
    "view",
    "materialized_view",
    "foreign_table",
    "column",
    "constraint",
    "index",
    "policy",
    "function",
    "trigger",
    "sequence",
    "extension",
    "grant",
    "setting",
)
_REL_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized_view", "f": "foreign_table"}
COMPARED_SETTINGS = (
    "max_connections",
    "statement_timeout",
    "idle_in_transaction_session_timeout",
    "lock_timeout",
    "row_security",
    "ssl",
    "password_encryption",
    "shared_preload_libraries",
    "autovacuum",
    "wal_level",
    "server_encoding",
    "TimeZone",
)
_SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema"})


@dataclass(frozen=True, slots=True)
class AttributeDiff:
    name: str
    a: Any
    b: Any


@dataclass(frozen=True, slots=True)
class ObjectDiff:
    kind: str
    key: str
    attributes: tuple[AttributeDiff, ...]


@dataclass(frozen=True, slots=True)
class DiffObject:
    kind: str
    key: str
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SnapshotDiff:
    a_name: str
    b_name: str
    only_in_a: tuple[DiffObject, ...]
    only_in_b: tuple[DiffObject, ...]
    different: tuple[ObjectDiff, ...]
    identical: int

    @property
    def has_differences(self) -> bool:
        return bool(self.only_in_a or self.only_in_b or self.different)


_SPACES = re.compile(r"\s+")
_INDEX_NAME = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON ")


def normalize_sql(text: str | None) -> str | None:
    """Whitespace-insensitive form of a definition (keeps string literals' content apart from runs of spaces)."""
    if text is None:
        return None
    return _SPACES.sub(" ", text).strip().rstrip(";").strip()


def _index_body(definition: str) -> str:
    """An index definition without its own name, so auto-named twins compare equal."""
    return _INDEX_NAME.sub(r"CREATE \1INDEX ON ", normalize_sql(definition) or "")


def _function_body(definition: str | None) -> str | None:
    """The body of a pg_get_functiondef() text, without the header whose attributes are compared one by one."""
    if definition is None:
        return None
    match = re.search(r"^(AS |BEGIN ATOMIC|RETURN )", definition, flags=re.MULTILINE)
    return definition[match.start() :] if match else definition


def _grants(grants: Any, owner: str | None) -> list[str]:
    return sorted({f"{g.grantee}:{g.privilege}{'*' if g.grantable else ''}" for g in grants if g.grantee != owner})


def _user_relation(rel: Relation) -> bool:
    return rel.extension is None and rel.schema not in _SYSTEM_SCHEMAS


def _unqualified_view(snap: Snapshot, rel: Relation) -> str | None:
    """A view definition without `table.` column qualifiers, which PostgreSQL 16 stopped printing."""
    text = normalize_sql(rel.view_definition)
    if text is None:
        return None
    for oid in rel.depends_on:
        base = snap.relation(oid)
        if base is not None:
            name = re.escape(base.name) if base.name.islower() and base.name.isidentifier() else None
            if name:
                text = re.sub(rf'(?<![\w."]){name}\.(?=[a-z_"])', "", text)
    return text


Description = dict[tuple[str, str], dict[str, Any]]


def describe(snapshot: Snapshot, *, across_versions: bool = False) -> Description:
    """Every comparable object of a snapshot: (kind, key) -> normalised attributes.

    `across_versions` drops what only the deparser of another major version prints differently."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for item in _objects(snapshot):
        if across_versions and item.kind in ("view", "materialized_view"):
            rel = snapshot.relation_named(*item.key.split(".", 1))
            if rel is not None:
                item.attributes["definition"] = _unqualified_view(snapshot, rel)
        out[(item.kind, item.key)] = item.attributes
    return out


def _objects(snap: Snapshot) -> Iterator[DiffObject]:
    for schema in snap.schemas:
        if schema.extension is None:
            yield DiffObject("schema", schema.name, {"owner": schema.owner})
            yield DiffObject("grant", f"schema {schema.name}", {"grants": _grants(schema.grants, schema.owner)})
    for rel in snap.relations:
        if not _user_relation(rel):
            continue
        kind = _REL_KINDS.get(rel.kind, "table")
        attrs: dict[str, Any] = {
            "kind": "partitioned table" if rel.kind == "p" else kind.replace("_", " "),
            "owner": rel.owner,
            "options": sorted(rel.options),
        }
        if kind in ("table", "foreign_table"):
            attrs |= {"rls_enabled": rel.rls_enabled, "rls_forced": rel.rls_forced}
            attrs |= {"partition_key": rel.partition_key, "partition_bound": rel.partition_bound}
        if kind in ("view", "materialized_view"):
            attrs["definition"] = normalize_sql(rel.view_definition)
            attrs["security_invoker"] = (rel.option("security_invoker") or "false").lower() in {"true", "on", "1"}
            attrs["security_barrier"] = (rel.option("security_barrier") or "false").lower() in {"true", "on", "1"}
        yield DiffObject(kind, rel.qualified, attrs)
        yield DiffObject(
            "grant", f"{kind.replace('_', ' ')} {rel.qualified}", {"grants": _grants(rel.grants, rel.owner)}
        )
        for col in rel.columns:
            col_attrs = {
                "type": col.type,
                "not_null": col.not_null,
                "default": normalize_sql(col.default),
                "identity": {"a": "ALWAYS", "d": "BY DEFAULT"}.get(col.identity, ""),
                "generated": col.generated,
                "collation": col.collation,
            }
            yield DiffObject("column", f"{rel.qualified}.{col.name}", col_attrs)
            if col.grants:
                yield DiffObject("grant", f"column {rel.qualified}.{col.name}", {"grants": _grants(col.grants, None)})
    yield from _constraints(snap)
    yield from _indexes(snap)
    for pol in snap.policies:
        yield DiffObject(
            "policy",
            f"{pol.schema}.{pol.table}:{pol.name}",
            {
                "command": pol.command,
                "roles": sorted(pol.roles),
                "permissive": pol.permissive,
                "using": normalize_sql(pol.using),
                "with_check": normalize_sql(pol.with_check),
            },
        )
    for fn in snap.functions:
        if fn.extension is not None or fn.schema in _SYSTEM_SCHEMAS:
            continue
        yield DiffObject(
            "function",
            fn.signature,
            {
                "kind": {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}.get(fn.kind, fn.kind),
                "result_type": fn.result_type,
                "language": fn.language,
                "volatility": {"i": "IMMUTABLE", "s": "STABLE", "v": "VOLATILE"}.get(fn.volatility, fn.volatility),
                "security_definer": fn.security_definer,
                "search_path": fn.setting("search_path"),
                "config": sorted(c for c in fn.config if not c.startswith("search_path=")),
                "owner": fn.owner,
                "body": normalize_sql(_function_body(fn.definition)),
            },
        )
        yield DiffObject("grant", f"function {fn.signature}", {"grants": _grants(fn.grants, fn.owner)})
    for trg in snap.triggers:
        table = snap.relation(trg.table_oid)
        name = table.qualified if table else trg.schema
        yield DiffObject(
            "trigger",
            f"{name}:{trg.name}",
            {"definition": normalize_sql(trg.definition), "enabled": trg.enabled, "function": trg.function},
        )
    for seq in snap.sequences:
        if seq.schema in _SYSTEM_SCHEMAS:
            continue
        yield DiffObject(
            "sequence",
            seq.qualified,
            {
                "data_type": seq.data_type,
                "increment": seq.increment,
                "min_value": seq.min_value,
                "max_value": seq.max_value,
                "cycle": seq.cycle,
                "owner": seq.owner,
            },
        )
        yield DiffObject("grant", f"sequence {seq.qualified}", {"grants": _grants(seq.grants, seq.owner)})
    for ext in snap.extensions:
        yield DiffObject("extension", ext.name, {"version": ext.installed_version, "schema": ext.schema})
    settings = dict(snap.settings)
    for name in COMPARED_SETTINGS:
        if name in settings:
            yield DiffObject("setting", name, {"value": settings[name]})


def _constraints(snap: Snapshot) -> Iterator[DiffObject]:
    for con in snap.constraints:
        rel = snap.relation(con.table_oid)
        if rel is None or not _user_relation(rel) or con.type == "n":
            continue
        yield DiffObject(
            "constraint",
            f"{rel.qualified}:{con.name}",
            {"definition": normalize_sql(con.definition), "validated": con.validated, "deferrable": con.deferrable},
        )


def _indexes(snap: Snapshot) -> Iterator[DiffObject]:
    for ix in snap.indexes:
        rel = snap.relation(ix.table_oid)
        if rel is None or not _user_relation(rel):
            continue
        yield DiffObject(
            "index",
            f"{ix.schema}.{ix.name}",
            {"table": rel.qualified, "definition": _index_body(ix.definition), "valid": ix.is_valid},
        )


def _pair_renamed(only_a: dict[tuple[str, str], dict[str, Any]], only_b: dict[tuple[str, str], dict[str, Any]]) -> int:
    """Match auto-named twins (same table and definition, other name): they are not differences."""
    matched = 0
    for kind in ("index", "constraint"):
        by_body: dict[str, list[tuple[str, str]]] = {}
        for key, attrs in only_b.items():
            if key[0] == kind:
                owner = attrs.get("table") or key[1].split(":")[0]
                by_body.setdefault(f"{owner}|{attrs}", []).append(key)
        for key, attrs in list(only_a.items()):
            if key[0] != kind:
                continue
            owner = attrs.get("table") or key[1].split(":")[0]
            twins = by_body.get(f"{owner}|{attrs}")
            if twins:
                del only_a[key], only_b[twins.pop()]
                matched += 1
    return matched


def diff_snapshots(a: Snapshot, b: Snapshot, a_name: str = "A", b_name: str = "B") -> SnapshotDiff:
    """What only A has, what only B has, and what both have with different attributes."""
    return diff_described(a, b, describe(a), describe(b), a_name, b_name)


def diff_described(
    a: Snapshot, b: Snapshot, da: Description, db: Description, a_name: str = "A", b_name: str = "B"
) -> SnapshotDiff:
    """`diff_snapshots` over `describe(a)` and `describe(b)` computed beforehand (e.g. each right after its
    collection, while the other side is still being read). Across major versions the view definitions are
    described again without what only one version's deparser prints; `da` and `db` are not changed."""
    if a.server_version_num // 10_000 != b.server_version_num // 10_000:
        da, db = describe(a, across_versions=True), describe(b, across_versions=True)
    only_a = {k: v for k, v in da.items() if k not in db}
    only_b = {k: v for k, v in db.items() if k not in da}
    identical = _pair_renamed(only_a, only_b)
    different = []
    for key in da.keys() & db.keys():
        attrs_a, attrs_b = da[key], db[key]
        if attrs_a == attrs_b:
            identical += 1
            continue
        changed = tuple(
            AttributeDiff(name, attrs_a.get(name), attrs_b.get(name))
            for name in sorted(attrs_a.keys() | attrs_b.keys())
            if attrs_a.get(name) != attrs_b.get(name)
        )
        if changed:
            different.append(ObjectDiff(key[0], key[1], changed))
        else:
            identical += 1
    different.sort(key=lambda d: _order((d.kind, d.key)))
    return SnapshotDiff(
        a_name=a_name,
        b_name=b_name,
        only_in_a=tuple(DiffObject(k, n, only_a[(k, n)]) for k, n in sorted(only_a, key=_order)),
        only_in_b=tuple(DiffObject(k, n, only_b[(k, n)]) for k, n in sorted(only_b, key=_order)),
        different=tuple(different),
        identical=identical,
    )


_KIND_ORDER = {kind: i for i, kind in enumerate(KINDS)}


def _order(key: tuple[str, str]) -> tuple[int, str]:
    return (_KIND_ORDER.get(key[0], len(KINDS)), key[1])
