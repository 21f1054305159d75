"""The immutable catalog snapshot every check reads.

OIDs are kept so the objects of one snapshot can reference each other; they never appear in findings
(findings use names) and mean nothing across databases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Grant:
    """One privilege held by a grantee ("PUBLIC" for the pseudo-role)."""

    grantee: str
    privilege: str  # SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, EXECUTE, USAGE, CREATE
    grantable: bool = False


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    superuser: bool
    login: bool
    bypassrls: bool
    inherit: bool
    member_of: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Schema:
    oid: int
    name: str
    owner: str
    grants: tuple[Grant, ...] = ()
    extension: str | None = None  # owning extension, if any


@dataclass(frozen=True, slots=True)
class Column:
    attnum: int
    name: str
    type: str  # format_type(atttypid, atttypmod)
    type_name: str  # the base type's name without modifiers, e.g. "numeric", "regclass", "vector"
    not_null: bool
    default: str | None = None
    identity: str = ""  # "", "a" (ALWAYS) or "d" (BY DEFAULT)
    generated: str = ""  # "" or "s" (stored)
    collation: str | None = None
    grants: tuple[Grant, ...] = ()  # column-level privileges only


@dataclass(frozen=True, slots=True)
class TableStats:
    seq_scan: int = 0
    seq_tup_read: int = 0
    idx_scan: int = 0
    n_live_tup: int = 0
    n_dead_tup: int = 0
    n_mod_since_analyze: int = 0
    last_vacuum: str | None = None
    last_autovacuum: str | None = None
    last_analyze: str | None = None
    last_autoanalyze: str | None = None
    # pg_stats has rows for the table; read only when no ANALYZE time is known (else None).
    has_column_stats: bool | None = None


@dataclass(frozen=True, slots=True)
class Relation:
    """A table, partitioned table, view, materialized view or foreign table."""

    oid: int
    schema: str
    name: str
    kind: str  # r table, p partitioned table, v view, m matview, f foreign table
    owner: str
    rls_enabled: bool = False
    rls_forced: bool = False
    options: tuple[str, ...] = ()  # reloptions, e.g. ("security_invoker=true",)
    columns: tuple[Column, ...] = ()
    grants: tuple[Grant, ...] = ()
    extension: str | None = None
    parent_oid: int | None = None  # set on a partition
    partition_bound: str | None = None
    partition_key: str | None = None  # set on a partitioned parent, e.g. "RANGE (created_at)"
    reltuples: float = -1.0
    relpages: int = 0
    size_bytes: int = 0  # total relation size including indexes and toast
    view_definition: str | None = None
    depends_on: tuple[int, ...] = ()  # OIDs of relations a view/matview reads
    stats: TableStats | None = None
    comment: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, attnum: int) -> Column | None:
        for col in self.columns:
            if col.attnum == attnum:
                return col
        return None

    def column_named(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    def option(self, name: str) -> str | None:
        prefix = name + "="
        for opt in self.options:
            if opt.startswith(prefix):
                return opt[len(prefix) :]
        return None


@dataclass(frozen=True, slots=True)
class Index:
    oid: int
    schema: str
    name: str
    table_oid: int
    access_method: str
    is_unique: bool
    is_primary: bool
    is_exclusion: bool
    is_valid: bool
    is_ready: bool
    is_replica_identity: bool
    key_columns: tuple[int, ...]  # attnums of key columns; 0 marks an expression
    include_columns: tuple[int, ...] = ()
    expressions: str | None = None
    predicate: str | None = None
    opclasses: tuple[str, ...] = ()
    collations: tuple[str, ...] = ()
    definition: str = ""
    constraint: str | None = None  # name of the constraint the index backs
    size_bytes: int = 0
    idx_scan: int = 0
    key_options: tuple[int, ...] = ()  # pg_index.indoption per key column (1 DESC, 2 NULLS FIRST)
    nulls_not_distinct: bool = False  # PG15+ UNIQUE NULLS NOT DISTINCT
    predicate_tree: str | None = None  # pg_node_tree text of indpred (implicit-AND list)
    parent_oid: int | None = None  # the partitioned index this partition's index is attached to

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True, slots=True)
class Constraint:
    oid: int
    schema: str
    table_oid: int
    name: str
    type: str  # p primary, u unique, f foreign key, c check, x exclusion, t trigger, n not-null (PG17+)
    columns: tuple[int, ...] = ()
    ref_table_oid: int | None = None
    ref_columns: tuple[int, ...] = ()
    on_delete: str = ""  # a no action, r restrict, c cascade, n set null, d set default
    on_update: str = ""
    validated: bool = True
    deferrable: bool = False
    nulls_not_distinct: bool = False
    index_oid: int | None = None
    definition: str = ""
    parent_oid: int | None = None  # conparentid: the constraint this one was cloned from (partitions)


@dataclass(frozen=True, slots=True)
class Policy:
    oid: int
    schema: str
    table_oid: int
    table: str
    name: str
    permissive: bool
    command: str  # ALL, SELECT, INSERT, UPDATE, DELETE
    roles: tuple[str, ...]  # "PUBLIC" for the pseudo-role
    using: str | None = None  # deparsed expression
    with_check: str | None = None
    using_tree: str | None = None  # pg_node_tree text of polqual
    with_check_tree: str | None = None


@dataclass(frozen=True, slots=True)
class Function:
    oid: int
    schema: str
    name: str
    identity_args: str
    kind: str  # f function, p procedure, a aggregate, w window
    language: str
    security_definer: bool
    volatility: str  # i, s, v
    owner: str
    config: tuple[str, ...] = ()  # proconfig, e.g. ("search_path=''",)
    grants: tuple[Grant, ...] = ()
    extension: str | None = None
    result_type: str = ""
    definition: str | None = None  # pg_get_functiondef for functions and procedures

    @property
    def signature(self) -> str:
        return f"{self.schema}.{self.name}({self.identity_args})"

    def setting(self, name: str) -> str | None:
        prefix = name + "="
        for item in self.config:
            if item.startswith(prefix):
                return item[len(prefix) :]
        return None


@dataclass(frozen=True, slots=True)
class Sequence:
    oid: int
    schema: str
    name: str
    data_type: str
    start_value: int
    min_value: int
    max_value: int
    increment: int
    cycle: bool
    last_value: int | None
    owner: str
    owned_by_table: int | None = None  # relation OID
    owned_by_column: int | None = None  # attnum
    grants: tuple[Grant, ...] = ()
    # (table OID, attnum) of the column defaults that call this sequence (serial defaults; identity
    # columns have no default expression and are not listed).
    default_of: tuple[tuple[int, int], ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True, slots=True)
class Extension:
    name: str
    schema: str
    installed_version: str
    default_version: str | None
    relocatable: bool = False


@dataclass(frozen=True, slots=True)
class Trigger:
    oid: int
    schema: str
    table_oid: int
    name: str
    definition: str
    enabled: str  # O origin, D disabled, R replica, A always
    function: str  # schema.name


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """A fact gathered beyond catalog metadata; `skipped` carries the reason it could not be gathered."""

    name: str
    rows: tuple[dict[str, Any], ...] = ()
    skipped: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one read-only pass learned about a database."""

    database: str
    server_version: str
    server_version_num: int
    current_user: str
    collected_at: str  # ISO-8601, server clock
    stats_since: str | None  # when usage statistics began accumulating (reset or server start)
    schemas: tuple[Schema, ...] = ()
    relations: tuple[Relation, ...] = ()
    indexes: tuple[Index, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    policies: tuple[Policy, ...] = ()
    functions: tuple[Function, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    extensions: tuple[Extension, ...] = ()
    roles: tuple[Role, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    settings: tuple[tuple[str, str], ...] = ()
    available_extensions: tuple[str, ...] = ()
    # OID -> schema-qualified name of every function/operator referenced by a policy expression tree.
    referenced_functions: tuple[tuple[int, str], ...] = ()
    referenced_operators: tuple[tuple[int, str], ...] = ()
    probes: tuple[ProbeResult, ...] = ()
    skipped_queries: tuple[tuple[str, str], ...] = ()  # (query name, reason) for collection steps that failed
    duration_s: float = 0.0
    # init=False: dataclasses.replace() must give the copy its own (empty) lookup cache.
    _index: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    # Lookups built lazily; the snapshot itself never changes. Checks call these hundreds of thousands of
    # times on a large catalog, so the hot ones read the cache directly (no closure per call).
    def _lookup(self, name: str, build: Any) -> Any:
        cached = self._index.get(name)
        if cached is None:
            cached = build()
            self._index[name] = cached
        return cached

    def _grouped(self, name: str, items: tuple[Any, ...]) -> dict[int, tuple[Any, ...]]:
        """`items` by their `table_oid`, built once."""
        groups: dict[int, tuple[Any, ...]] | None = self._index.get(name)
        if groups is None:
            out: dict[int, list[Any]] = {}
            for item in items:
                out.setdefault(item.table_oid, []).append(item)
            groups = self._index[name] = {k: tuple(v) for k, v in out.items()}
        return groups

    def relation(self, oid: int) -> Relation | None:
        table: dict[int, Relation] | None = self._index.get("rel")
        if table is None:
            table = self._index["rel"] = {r.oid: r for r in self.relations}
        return table.get(oid)

    def relation_named(self, schema: str, name: str) -> Relation | None:
        table: dict[tuple[str, str], Relation] | None = self._index.get("relname")
        if table is None:
            table = self._index["relname"] = {(r.schema, r.name): r for r in self.relations}
        return table.get((schema, name))

    def index(self, oid: int) -> Index | None:
        return self._lookup("idx", lambda: {i.oid: i for i in self.indexes}).get(oid)  # type: ignore[no-any-return]

    def indexes_of(self, table_oid: int) -> tuple[Index, ...]:
        return self._grouped("idx_by_table", self.indexes).get(table_oid, ())

    def constraints_of(self, table_oid: int) -> tuple[Constraint, ...]:
        return self._grouped("con_by_table", self.constraints).get(table_oid, ())

    def policies_of(self, table_oid: int) -> tuple[Policy, ...]:
        return self._grouped("pol_by_table", self.policies).get(table_oid, ())

    def role(self, name: str) -> Role | None:
        table: dict[str, Role] | None = self._index.get("role")
        if table is None:
            table = self._index["role"] = {r.name: r for r in self.roles}
        return table.get(name)

    def extension(self, name: str) -> Extension | None:
        return self._lookup("ext", lambda: {e.name: e for e in self.extensions}).get(name)  # type: ignore[no-any-return]

    def schema(self, name: str) -> Schema | None:
        table: dict[str, Schema] | None = self._index.get("schema")
        if table is None:
            table = self._index["schema"] = {s.name: s for s in self.schemas}
        return table.get(name)

    def setting(self, name: str) -> str | None:
        return self._lookup("settings", lambda: dict(self.settings)).get(name)  # type: ignore[no-any-return]

    def probe(self, name: str) -> ProbeResult | None:
        return self._lookup("probe", lambda: {p.name: p for p in self.probes}).get(name)  # type: ignore[no-any-return]

    def function_name(self, oid: int) -> str | None:
        table: dict[int, str] | None = self._index.get("fn")
        if table is None:
            table = self._index["fn"] = dict(self.referenced_functions)
        return table.get(oid)

    def operator_name(self, oid: int) -> str | None:
        table: dict[int, str] | None = self._index.get("op")
        if table is None:
            table = self._index["op"] = dict(self.referenced_operators)
        return table.get(oid)
