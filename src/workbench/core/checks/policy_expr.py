"""Structural analysis of row level security policy expressions.

PostgreSQL stores ``pg_policy.polqual`` / ``polwithcheck`` as ``pg_node_tree``: the text form of the
analysed expression written by the server's ``outfuncs.c``. This module reads that text itself (no pglast,
no server round trip) and answers the questions the RLS checks ask: which functions run per row, is the
expression constant-true, how deeply are sub-selects nested, which string constants and which columns does
it touch.

Format notes (PG 13–17):

* ``{TYPE :field value ...}`` is a node, ``( ... )`` a list, ``<>`` NULL; ``(i ..)``, ``(o ..)``,
  ``(x ..)`` and ``(b ..)`` are integer, OID, XID lists and bitmapsets; ``"..."`` is a String value node.
* Tokens are separated by space, tab or newline; ``( ) { }`` are tokens of their own; a backslash
  protects the next character.
* A datum is ``:constvalue <len> [ b0 b1 ... ]`` with *signed* byte values; by-value datums print the
  whole machine word (8 bytes). The byte layout decoded here assumes a little-endian server.
* Fields differ between versions (PG16 adds ``varnullingrels``/``rteperminfos``, PG16 prints
  ``system_user`` as a FUNCEXPR with ``funcformat 3``); the parser is generic and never depends on
  field order or on knowing a node type.

Naming conventions of :class:`PolicyExpression`:

* function names are ``schema.name`` (``auth.uid``, ``pg_catalog.current_setting``);
* operator names are ``schema.op`` (``pg_catalog.=``); a bare ``=`` is accepted too, only the part after
  the last dot is interpreted;
* SQL value functions (``current_user``, ``session_user``, ``current_role``, ``user``, ...) appear as
  calls named ``pg_catalog.<keyword>``, whether the server stored a SQLVALUEFUNCTION or a FUNCEXPR.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from workbench.core.model import Snapshot

__all__ = [
    "BUILTIN_FUNCTIONS",
    "BUILTIN_OPERATORS",
    "USER_CONTEXT_FUNCTIONS",
    "Call",
    "Node",
    "NodeTreeError",
    "PolicyExpression",
    "TypedList",
    "decode_string_datum",
    "parse_node_tree",
    "walk",
]


class NodeTreeError(ValueError):
    """The text is not a well-formed ``pg_node_tree``."""


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """One node: its upper-case type tag (``OPEXPR``, ``VAR``, ...) and its labelled fields.

    Field values are ``Node``, ``list`` (node lists), :class:`TypedList`, ``str`` atoms, ``None`` (``<>``),
    a ``tuple[int, ...]`` of unsigned bytes for datums, or a ``tuple`` of atoms for multi-token values.
    Values that precede any label are kept under the key ``""``. Equality is identity.
    """

    type: str
    fields: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        """The value of field ``name`` (``default`` when absent)."""
        return self.fields.get(name, default)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        """Field ``name`` as an integer, ``default`` when absent or not an integer."""
        value = self.fields.get(name)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                return default
        return default

    def get_bool(self, name: str) -> bool:
        """Field ``name`` read as a boolean (``true``)."""
        return self.fields.get(name) == "true"


@dataclass(frozen=True, slots=True)
class TypedList:
    """An integer list (``i``), OID list (``o``), XID list (``x``) or bitmapset (``b``)."""

    kind: str
    values: tuple[int, ...] = ()


# --------------------------------------------------------------------------------------------------
# Tokenizer and parser
# --------------------------------------------------------------------------------------------------

# pg_strtok(): ( ) { } are single-character tokens, anything else runs up to whitespace or one of them;
# a backslash takes the following character into the token.
_TOKEN_RE: Final = re.compile(r"[(){}]|(?:[^ \n\t(){}\\]+|\\.|\\\Z)+", re.DOTALL)
_UNESCAPE_RE: Final = re.compile(r"\\(.)", re.DOTALL)
_LIST_KINDS: Final = frozenset({"i", "o", "x", "b"})
_NULL: Final = "<>"


def _atom(token: str) -> str | None:
    """Decode one normal token: ``<>`` is NULL, ``"..."`` a String node, backslashes protect."""
    if token[0] not in '<"' and "\\" not in token:
        return token
    if token == _NULL:
        return None
    if len(token) >= 2 and token[0] == '"' and token[-1] == '"':
        token = token[1:-1]
    return _UNESCAPE_RE.sub(r"\1", token) if "\\" in token else token


def _is_int(text: str) -> bool:
    return text.isdigit() or (text[:1] == "-" and text[1:].isdigit())


def _finish_value(values: list[Any]) -> Any:
    """Merge a field's tokens: one value as is, ``N [ ... ]`` as datum bytes, else a tuple."""
    if len(values) == 1:
        return values[0]
    if (
        len(values) >= 3
        and isinstance(values[0], str)
        and values[0].isdigit()
        and values[1] == "["
        and values[-1] == "]"
        and all(isinstance(v, str) and _is_int(v) for v in values[2:-1])
    ):
        return tuple(int(v) & 0xFF for v in values[2:-1])
    return tuple(values)


class _NodeFrame:
    __slots__ = ("fields", "last", "pending", "tail", "type")

    def __init__(self) -> None:
        self.type: str | None = None
        self.fields: dict[str, Any] = {}
        self.pending: str | None = None  # label waiting for its value
        self.last = ""  # label of the most recent value (a datum continues after it)
        self.tail: list[Any] = []  # further values of ``last``

    def add(self, value: Any) -> None:
        if self.pending is not None:
            self.fields[self.pending] = value
            self.last, self.pending = self.pending, None
        else:
            self.tail.append(value)

    def flush(self) -> None:
        if self.tail:
            head = [self.fields[self.last]] if self.last in self.fields else []
            self.fields[self.last] = _finish_value(head + self.tail)
            self.tail = []


class _ListFrame:
    __slots__ = ("items", "kind")

    def __init__(self) -> None:
        self.kind: str | None = None
        self.items: list[Any] = []


def _close_list(frame: _ListFrame) -> Any:
    if frame.kind is None:
        return frame.items
    try:
        return TypedList(frame.kind, tuple(int(v) for v in frame.items))
    except (TypeError, ValueError) as exc:
        raise NodeTreeError(f"non-integer in ({frame.kind} ...) list") from exc


def _tokens(text: str) -> list[str]:
    """pg_strtok() tokens; a fast split when the text holds no backslash."""
    if "\\" in text:
        return _TOKEN_RE.findall(text)
    for char in "(){}":
        if char in text:
            text = text.replace(char, f" {char} ")
    if "\n" in text or "\t" in text:
        text = text.replace("\n", " ").replace("\t", " ")
    return [token for token in text.split(" ") if token]


_LOCATION_RE: Final = re.compile(r" :location -?\d+")


def parse_shared(text: str, cache: dict[str, Any]) -> Any:
    """`parse_node_tree` with a caller-owned cache keyed by the tree without its `:location` offsets (source
    positions, which no analysis reads), so structurally identical expressions are parsed once. The parsed
    tree is shared and must not be mutated."""
    key = _LOCATION_RE.sub("", text)
    found = cache.get(key)
    if found is None:
        found = cache[key] = parse_node_tree(text)
    return found


def parsed_tree(snapshot: Snapshot, text: str) -> Any:
    """`text` parsed once per snapshot, whichever check asks first."""
    exact: dict[str, Any] = snapshot._lookup("parsed_tree_texts", dict)  # skips the location strip on repeats
    found = exact.get(text)
    if found is None:
        found = exact[text] = parse_shared(text, snapshot._lookup("parsed_trees", dict))
    return found


def parse_node_tree(text: str) -> Any:
    """Parse ``pg_node_tree`` text into :class:`Node` / ``list`` / :class:`TypedList` / ``str`` / ``None``.

    The parser keeps an explicit stack (no recursion limit on deep expressions), accepts any node type and
    any field, and raises :class:`NodeTreeError` only for malformed text (unbalanced brackets, a label
    without a value, a node without a type, nothing or more than one value at the top level).
    """
    if not isinstance(text, str):
        raise NodeTreeError(f"expected str, got {type(text).__name__}")
    tokens = _tokens(text)
    count = len(tokens)
    stack: list[_NodeFrame | _ListFrame] = []
    results: list[Any] = []
    index = 0
    while index < count:
        token = tokens[index]
        index += 1
        top = stack[-1] if stack else None
        value: Any
        if type(top) is _NodeFrame:
            if top.type is None:
                if token in "{}()" or token[0] == ":" or token == _NULL:
                    raise NodeTreeError(f"node without a type tag at token {index - 1}")
                top.type = _atom(token) or token
                continue
            if top.pending is None and token[0] == ":" and len(token) > 1:
                top.flush()
                label = token[1:]
                # fast path: ``:label atom``
                if index < count and tokens[index] not in "{}()":
                    top.fields[label] = _atom(tokens[index])
                    top.last = label
                    index += 1
                else:
                    top.pending = label
                continue
        if token == "{":
            stack.append(_NodeFrame())
            continue
        if token == "(":
            stack.append(_ListFrame())
            continue
        if token == "}":
            if type(top) is not _NodeFrame:
                raise NodeTreeError(f"unbalanced '}}' at token {index - 1}")
            if top.pending is not None:
                raise NodeTreeError(f"label :{top.pending} without a value at token {index - 1}")
            top.flush()
            stack.pop()
            value = Node(top.type or "", top.fields)
        elif token == ")":
            if type(top) is not _ListFrame:
                raise NodeTreeError(f"unbalanced ')' at token {index - 1}")
            stack.pop()
            value = _close_list(top)
        elif type(top) is _ListFrame and top.kind is None and not top.items and token in _LIST_KINDS:
            top.kind = token
            continue
        else:
            value = _atom(token)
        parent = stack[-1] if stack else None
        if parent is None:
            results.append(value)
        elif isinstance(parent, _ListFrame):
            parent.items.append(value)
        else:
            parent.add(value)
    if stack:
        raise NodeTreeError("unexpected end of input (unclosed node or list)")
    if len(results) != 1:
        raise NodeTreeError("empty input" if not results else "more than one top-level value")
    return results[0]


def walk(tree: Any) -> Iterator[Node]:
    """Yield every :class:`Node` in ``tree`` (a node, a list or anything parsed), depth first, pre-order."""
    stack: list[Any] = [tree]
    while stack:
        value = stack.pop()
        if isinstance(value, Node):
            yield value
            stack.extend(reversed(list(value.fields.values())))
        elif isinstance(value, list | tuple):
            stack.extend(reversed(value))


# --------------------------------------------------------------------------------------------------
# Datum decoding
# --------------------------------------------------------------------------------------------------

TEXT_TYPES: Final = frozenset({25, 1043, 1042})  # text, varchar, bpchar (varlena)
NAME_TYPE: Final = 19
CSTRING_TYPES: Final = frozenset({705, 2275})  # unknown, cstring
ARRAY_TYPES: Final = frozenset({1009, 1015, 1014, 1003})  # text[], varchar[], bpchar[], name[]
JSONB_TYPE: Final = 3802
JSONPATH_TYPE: Final = 4072


def _u32(data: tuple[int, ...], pos: int) -> int:
    return data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16 | data[pos + 3] << 24


def _varlena(data: tuple[int, ...], pos: int = 0) -> tuple[bytes, int] | None:
    """Payload of the uncompressed varlena at ``pos`` and the position after it (little endian)."""
    if pos >= len(data):
        return None
    first = data[pos]
    if first & 0x01:
        if first == 0x01:  # external TOAST pointer
            return None
        end = pos + (first >> 1)
        start = pos + 1
    else:
        if pos + 4 > len(data) or first & 0x03 == 0x02:  # compressed inline
            return None
        end = pos + (_u32(data, pos) >> 2)
        start = pos + 4
    if end > len(data) or end < start:
        return None
    return bytes(data[start:end]), end


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _array_strings(data: tuple[int, ...]) -> list[str]:
    """Elements of a one-or-more dimensional text-like array datum (nulls skipped)."""
    header = _varlena(data)
    if header is None or len(data) < 16:
        return []
    ndim, dataoffset, elemtype = _u32(data, 4), _u32(data, 8), _u32(data, 12)
    if not 0 < ndim <= 6:
        return []
    count = 1
    for d in range(ndim):
        count *= _u32(data, 16 + 4 * d)
    pos = 16 + 8 * ndim
    bitmap_at = pos if dataoffset else None
    if dataoffset:
        pos = dataoffset
    out: list[str] = []
    for i in range(count):
        if bitmap_at is not None and not data[bitmap_at + i // 8] >> (i % 8) & 1:
            continue  # NULL element
        if elemtype == NAME_TYPE:
            if pos + 64 > len(data):
                break
            out.append(_text(bytes(data[pos : pos + 64]).split(b"\0", 1)[0]))
            pos += 64
            continue
        if pos < len(data) and data[pos] == 0:  # padding before a 4-byte header (att_align_pointer)
            pos = (pos + 3) & ~3
        item = _varlena(data, pos)
        if item is None:
            break
        raw, pos = item
        out.append(_text(raw).rstrip(" ") if elemtype == 1042 else _text(raw))
    return out


_JB_OFFSET_MASK: Final = 0x0FFFFFFF
_JB_HAS_OFF: Final = 0x80000000
_JB_TYPE_MASK: Final = 0x70000000
_JB_STRING: Final = 0x00000000
_JB_CONTAINER: Final = 0x50000000
_JB_FOBJECT: Final = 0x20000000
_JB_FARRAY: Final = 0x40000000


def _jsonb_strings(raw: bytes, start: int, out: list[str], depth: int = 0) -> None:
    """Collect object keys and string values of the jsonb container at ``raw[start:]``."""
    if depth > 64 or start + 4 > len(raw):
        return
    header = int.from_bytes(raw[start : start + 4], "little")
    count = header & _JB_OFFSET_MASK
    nentries = count * 2 if header & _JB_FOBJECT else count if header & _JB_FARRAY else 0
    base = start + 4 + 4 * nentries
    if base > len(raw):
        return
    end = 0
    for i in range(nentries):
        entry = int.from_bytes(raw[start + 4 + 4 * i : start + 8 + 4 * i], "little")
        begin = end
        end = entry & _JB_OFFSET_MASK if entry & _JB_HAS_OFF else begin + (entry & _JB_OFFSET_MASK)
        kind = entry & _JB_TYPE_MASK
        if kind == _JB_STRING:
            out.append(_text(raw[base + begin : base + end]))
        elif kind == _JB_CONTAINER:
            _jsonb_strings(raw, base + ((begin + 3) & ~3), out, depth + 1)


def _jsonpath_strings(raw: bytes) -> list[str]:
    """Best-effort: keys, strings and variables of a binary jsonpath.

    Such an item is a type byte (1 string, 25 key, 28 variable) padded to 4 bytes, the next-item offset,
    the int32 length, the bytes and a NUL.
    """
    out: list[str] = []
    pos = 4  # after the version/lax word
    while pos < len(raw):
        if raw[pos] in (1, 25, 28):
            aligned = (pos + 4) & ~3
            length = int.from_bytes(raw[aligned + 4 : aligned + 8], "little")
            stop = aligned + 8 + length
            if (
                not any(raw[pos + 1 : aligned])
                and aligned + 8 <= len(raw)
                and stop < len(raw)
                and raw[stop] == 0
                and 0 not in raw[aligned + 8 : stop]
            ):
                try:
                    out.append(raw[aligned + 8 : stop].decode("utf-8"))
                except UnicodeDecodeError:
                    pass
                else:
                    pos = stop + 1
                    continue
        pos += 1
    return out


def decode_string_datum(consttype: int, data: tuple[int, ...]) -> list[str]:
    """The strings held in a constant of ``consttype`` (text-like, name, cstring, arrays, jsonb, jsonpath).

    Returns an empty list for other types or undecodable bytes; never raises.
    """
    try:
        if consttype == NAME_TYPE:
            return [_text(bytes(data).split(b"\0", 1)[0])]
        if consttype in CSTRING_TYPES:
            return [_text(bytes(data).split(b"\0", 1)[0])]
        if consttype in ARRAY_TYPES:
            return _array_strings(data)
        if consttype in TEXT_TYPES or consttype in (JSONB_TYPE, JSONPATH_TYPE):
            item = _varlena(data)
            if item is None:
                return []
            raw = item[0]
            if consttype == JSONB_TYPE:
                found: list[str] = []
                _jsonb_strings(raw, 0, found)
                return found
            if consttype == JSONPATH_TYPE:
                return _jsonpath_strings(raw)
            return [_text(raw).rstrip(" ") if consttype == 1042 else _text(raw)]
    except (IndexError, ValueError, TypeError):
        return []
    return []


# --------------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------------

#: Stable catalog OIDs of built-in functions, used when the ``function_name`` lookup has no answer.
BUILTIN_FUNCTIONS: Final[Mapping[int, str]] = {
    745: "pg_catalog.current_user",
    746: "pg_catalog.session_user",
    861: "pg_catalog.current_database",
    1402: "pg_catalog.current_schema",
    2077: "pg_catalog.current_setting",
    3294: "pg_catalog.current_setting",
    2078: "pg_catalog.set_config",
    6311: "pg_catalog.system_user",
    **dict.fromkeys(range(2705, 2711), "pg_catalog.pg_has_role"),
}

#: Stable catalog OIDs of built-in ``=`` / ``<>`` operators, used when ``operator_name`` has no answer.
BUILTIN_OPERATORS: Final[Mapping[int, str]] = {
    **dict.fromkeys((91, 92, 93, 94, 96, 98, 410, 607, 620, 670, 1054, 1070, 1093), "pg_catalog.="),
    **dict.fromkeys((1320, 1752, 2060, 2972, 3240), "pg_catalog.="),
    **dict.fromkeys((85, 518, 519, 531, 411, 608, 643, 1057, 1753, 2973, 3241), "pg_catalog.<>"),
}

#: SQLValueFunctionOp (primnodes.h, PG 10–17) -> the keyword, reported as ``pg_catalog.<keyword>``.
SQL_VALUE_FUNCTIONS: Final[Mapping[int, str]] = {
    0: "current_date",
    1: "current_time",
    2: "current_time",
    3: "current_timestamp",
    4: "current_timestamp",
    5: "localtime",
    6: "localtime",
    7: "localtimestamp",
    8: "localtimestamp",
    9: "current_role",
    10: "current_user",
    11: "user",
    12: "session_user",
    13: "current_catalog",
    14: "current_schema",
}

#: ``pg_catalog`` functions (and SQL value functions) whose result depends on who is asking.
USER_CONTEXT_FUNCTIONS: Final = frozenset(
    {"current_setting", "current_user", "session_user", "current_role", "user", "system_user", "pg_has_role"}
)

_CALL_NODES: Final[Mapping[str, str]] = {"FUNCEXPR": "funcid", "AGGREF": "aggfnoid", "WINDOWFUNC": "winfnoid"}
_TRANSPARENT: Final = frozenset({"RELABELTYPE", "COERCEVIAIO", "COLLATEEXPR", "COERCETODOMAIN"})
_SYSTEM_COLUMNS: Final[Mapping[int, str]] = {
    -1: "ctid",
    -2: "xmin",
    -3: "cmin",
    -4: "xmax",
    -5: "cmax",
    -6: "tableoid",
    0: "*",
}
_REFLEXIVE_TRUE: Final = frozenset({"=", ">=", "<="})
_REFLEXIVE_FALSE: Final = frozenset({"<>", "<", ">"})

Truth = Literal["true", "false", "null", "unknown"]
_NEGATE: Final[Mapping[Truth, Truth]] = {
    "true": "false",
    "false": "true",
    "null": "null",
    "unknown": "unknown",
}
FunctionLookup = Callable[[int], "str | None"]
RelationLookup = Callable[[int], "tuple[str, str, Mapping[int, str]] | None"]


def _bare(name: str) -> str:
    return name.rpartition(".")[2]


@dataclass(frozen=True, slots=True)
class Call:
    """One function call in the expression.

    ``name`` is ``schema.function`` (``None`` when the OID is unknown to the lookup), ``kind`` the node type
    (FUNCEXPR, AGGREF, WINDOWFUNC, SQLVALUEFUNCTION), ``depth`` the number of enclosing sub-selects;
    ``in_subselect`` is ``depth > 0`` (a call in the test expression of ``x IN (select ...)`` is evaluated
    per outer row and is *not* in a sub-select). ``wrapped``: the call is evaluated once per statement, because
    its innermost sub-select is a scalar one of its own: no FROM and no reference to an outer query, like
    ``(select auth.uid())`` or ``(select auth.jwt() ->> 'role')``. A call in the WHERE of
    ``exists (select 1 from members m where m.user_id = auth.uid())`` is in a sub-select but not wrapped:
    it runs for every row that sub-select reads (and the sub-select again for every row of the policy's
    table when it is correlated).
    """

    name: str | None
    oid: int | None
    kind: str
    depth: int
    wrapped: bool = False

    @property
    def in_subselect(self) -> bool:
        return self.depth > 0


@dataclass(frozen=True, slots=True)
class _Entry:
    node: Node
    queries: tuple[Node, ...]  # enclosing QUERY nodes, outermost first


class TreeFacts:
    """What a parsed tree says on its own: its nodes with their enclosing queries, calls and column reads."""

    __slots__ = ("calls", "entries", "root", "variables")

    def __init__(self, root: Any) -> None:
        self.root = root
        self.entries: list[_Entry] | None = None
        self.variables: list[_Entry] = []
        self.calls: list[Call] | None = None

    def correlated_queries(self) -> set[int]:
        """ids of the sub-select QUERY nodes that read a column of an outer query (re-run per outer row)."""
        found: set[int] = set()
        for entry in self.variables:
            levelsup = entry.node.get_int("varlevelsup", 0) or 0
            if 0 < levelsup <= len(entry.queries):
                found.update(id(q) for q in entry.queries[len(entry.queries) - levelsup :])
        return found


class PolicyExpression:
    """Analysis of one policy expression (``polqual`` or ``polwithcheck``).

    ``tree`` is the ``pg_node_tree`` text (or an already parsed tree; ``None`` for "no expression").
    ``function_name`` / ``operator_name`` map OIDs to ``schema.name`` (a ``dict.get`` works); built-in
    OIDs fall back to :data:`BUILTIN_FUNCTIONS` / :data:`BUILTIN_OPERATORS`. ``table`` is the policy's
    ``(schema, table)`` and ``columns`` its ``attnum -> name``; ``relation`` maps a range-table OID to
    ``(schema, name, {attnum: column})`` for sub-selects.
    """

    def __init__(
        self,
        tree: str | Any,
        *,
        function_name: FunctionLookup | None = None,
        operator_name: FunctionLookup | None = None,
        table: tuple[str, str] = ("", ""),
        columns: Mapping[int, str] | None = None,
        relation: RelationLookup | None = None,
        shared: dict[int, TreeFacts] | None = None,
    ) -> None:
        self.root: Any = parse_node_tree(tree) if isinstance(tree, str) else tree
        # Expressions built over one shared parsed tree (and the same name lookups) may pass one `shared` dict:
        # what depends on the tree alone (its walk, calls and column references) is then computed once.
        facts = shared.get(id(self.root)) if shared is not None else None
        if facts is None or facts.root is not self.root:  # not seen yet (or another tree reused the id)
            facts = TreeFacts(self.root)
            if shared is not None:
                shared[id(self.root)] = facts
        self._facts = facts
        self._function_name = function_name
        self._operator_name = operator_name
        self._table = table
        self._columns: Mapping[int, str] = columns or {}
        self._relation = relation
        self._columns_cache: frozenset[tuple[str, str, str]] | None = None

    # -- lookups -----------------------------------------------------------------------------------

    def function_name(self, oid: int) -> str | None:
        """Qualified name of function ``oid`` (lookup first, then the built-in table)."""
        name = self._function_name(oid) if self._function_name is not None else None
        return name if name is not None else BUILTIN_FUNCTIONS.get(oid)

    def operator_name(self, oid: int) -> str | None:
        """Qualified name of operator ``oid`` (lookup first, then the built-in table)."""
        name = self._operator_name(oid) if self._operator_name is not None else None
        return name if name is not None else BUILTIN_OPERATORS.get(oid)

    # -- traversal ---------------------------------------------------------------------------------

    def _entries(self) -> list[_Entry]:
        """Every node with its enclosing queries; join alias lists are skipped (resolved on demand)."""
        facts = self._facts
        if facts.entries is None:
            entries: list[_Entry] = []
            stack: list[tuple[Any, tuple[Node, ...]]] = [(self.root, ())]
            while stack:
                value, queries = stack.pop()
                if isinstance(value, Node):
                    entries.append(_Entry(value, queries))
                    inner = (*queries, value) if value.type == "QUERY" else queries
                    stack.extend(
                        (child, inner)
                        for key, child in reversed(list(value.fields.items()))
                        if key != "joinaliasvars" and isinstance(child, Node | list | tuple)
                    )
                elif isinstance(value, list | tuple):
                    stack.extend((child, queries) for child in reversed(value))
            facts.entries = entries
            facts.variables = [e for e in entries if e.node.type == "VAR"]
        return facts.entries

    def nodes(self) -> Iterator[Node]:
        """Every node of the expression (same order as :func:`walk`, minus join alias lists)."""
        return (entry.node for entry in self._entries())

    # -- calls -------------------------------------------------------------------------------------

    def function_calls(self) -> list[Call]:
        """Every function call in tree order, including SQL value functions such as ``current_user``."""
        facts = self._facts
        if facts.calls is None:
            calls: list[Call] = []
            entries = self._entries()
            correlated = facts.correlated_queries()
            for entry in entries:
                node = entry.node
                depth = len(entry.queries)
                if node.type in _CALL_NODES:
                    oid = node.get_int(_CALL_NODES[node.type])
                    name = self.function_name(oid) if oid is not None else None
                elif node.type == "SQLVALUEFUNCTION":
                    op = node.get_int("op")
                    keyword = SQL_VALUE_FUNCTIONS.get(op) if op is not None else None
                    name, oid = (f"pg_catalog.{keyword}" if keyword else None), None
                else:
                    continue
                inner = entry.queries[-1] if entry.queries else None
                wrapped = inner is not None and not inner.get("rtable") and id(inner) not in correlated
                calls.append(Call(name, oid, node.type, depth, wrapped))
            facts.calls = calls
        return list(facts.calls)

    def unwrapped_calls(self, names: Iterable[str]) -> list[str]:
        """Names of calls to ``names`` that are not wrapped in a scalar sub-select of their own (see
        :class:`Call`), in tree order.

        A name with a dot (``auth.uid``) matches exactly; a bare name (``current_setting``) matches that
        function in any schema.
        """
        wanted = set(names)
        qualified = {n for n in wanted if "." in n}
        bare = wanted - qualified
        return [
            call.name
            for call in self.function_calls()
            if call.name is not None and not call.wrapped and (call.name in qualified or _bare(call.name) in bare)
        ]

    # -- constant truth ----------------------------------------------------------------------------

    def _truth(self, root: Any) -> Truth:
        """Constant truth of a boolean expression (explicit stack: deep NOT/AND chains are fine)."""
        done: dict[int, Truth] = {}
        stack: list[tuple[Any, bool]] = [(root, False)]
        while stack:
            value, expanded = stack.pop()
            node = _strip(value)
            args = node.get("args") if isinstance(node, Node) and node.type == "BOOLEXPR" else None
            if isinstance(args, list):
                if not expanded:
                    stack.append((value, True))
                    stack.extend((arg, False) for arg in args)
                    continue
                assert isinstance(node, Node)
                done[id(value)] = _combine(node.get("boolop"), [done[id(arg)] for arg in args])
            else:
                done[id(value)] = self._leaf_truth(node)
        return done[id(root)]

    def _leaf_truth(self, node: Any) -> Truth:
        if not isinstance(node, Node):
            return "unknown"
        if node.type == "CONST":
            if node.get_bool("constisnull"):
                return "null"
            data = _datum(node)
            if node.get_int("consttype") == 16 and data:
                return "true" if data[0] else "false"
            return "unknown"
        if node.type == "NULLTEST":
            arg = _strip(node.get("arg"))
            if isinstance(arg, Node) and arg.type == "CONST":
                is_null = arg.get_bool("constisnull")
                wants_null = node.get_int("nulltesttype") == 0
                return "true" if is_null == wants_null else "false"
            return "unknown"
        if node.type == "OPEXPR":
            return self._operator_truth(node)
        return "unknown"

    def _operator_truth(self, node: Node) -> Truth:
        args = node.get("args")
        opno = node.get_int("opno")
        if not isinstance(args, list) or len(args) != 2 or opno is None:
            return "unknown"
        left, right = (_strip(a) for a in args)
        if not (isinstance(left, Node) and isinstance(right, Node)):
            return "unknown"
        if left.type != "CONST" or right.type != "CONST":
            return "unknown"
        if left.get_bool("constisnull") or right.get_bool("constisnull"):
            return "null"  # comparison operators are strict
        same = all(left.get(k) == right.get(k) for k in ("consttype", "constcollid", "constvalue"))
        name = self.operator_name(opno)
        if not same or name is None:
            return "unknown"
        op = _bare(name)
        if op in _REFLEXIVE_TRUE:
            return "true"
        if op in _REFLEXIVE_FALSE:
            return "false"
        return "unknown"

    def is_always_true(self) -> bool:
        """True when the expression is provably true for every row (``true``, ``1 = 1``, ``x OR true``)."""
        return self._truth(self.root) == "true"

    # -- structure ---------------------------------------------------------------------------------

    def sublink_depth(self) -> int:
        """Maximum sub-select nesting: 0 none, 1 ``(select auth.uid())``, 2 ``EXISTS (... IN (select))``."""
        return max((len(e.queries) + 1 for e in self._entries() if e.node.type == "QUERY"), default=0)

    def has_subselect(self) -> bool:
        """True when the expression contains any sub-select."""
        return any(e.node.type == "QUERY" for e in self._entries())

    def string_constants(self) -> set[str]:
        """Strings held in constants: text, varchar, bpchar, name, unknown, their arrays, jsonb, jsonpath."""
        found: set[str] = set()
        for entry in self._entries():
            node = entry.node
            if node.type != "CONST" or node.get_bool("constisnull"):
                continue
            consttype, data = node.get_int("consttype"), _datum(node)
            if consttype is not None and data is not None:
                found.update(decode_string_datum(consttype, data))
        return found

    # -- columns -----------------------------------------------------------------------------------

    def referenced_columns(self) -> set[tuple[str, str, str]]:
        """``(schema, table, column)`` of every column read; ``*`` for a whole-row reference.

        Columns of relations the ``relation`` lookup does not know are left out; sub-query and CTE outputs
        are not reported themselves (the base columns inside them are).
        """
        if self._columns_cache is None:
            found: set[tuple[str, str, str]] = set()
            self._entries()
            for entry in self._facts.variables:
                self._resolve_var(entry.node, entry.queries, found, 0)
            self._columns_cache = frozenset(found)
        return set(self._columns_cache)

    def _resolve_var(self, var: Node, queries: tuple[Node, ...], found: set[tuple[str, str, str]], guard: int) -> None:
        varno, attno = var.get_int("varno"), var.get_int("varattno")
        levelsup = var.get_int("varlevelsup", 0) or 0
        if varno is None or attno is None or guard > 32 or not 0 <= levelsup <= len(queries):
            return
        if levelsup == len(queries):  # the policy expression's own level: varno 1 is the policy table
            if varno == 1:
                column = self._columns.get(attno) or _SYSTEM_COLUMNS.get(attno)
                if column is not None:
                    found.add((self._table[0], self._table[1], column))
            return
        scope = queries[: len(queries) - levelsup]
        rtable = scope[-1].get("rtable")
        if not isinstance(rtable, list) or not 0 < varno <= len(rtable):
            return
        rte = rtable[varno - 1]
        if not isinstance(rte, Node):
            return
        kind = rte.get_int("rtekind")
        if kind == 0:  # RTE_RELATION
            relid = rte.get_int("relid")
            info = self._relation(relid) if self._relation is not None and relid is not None else None
            if info is None:
                return
            schema, name, columns = info
            column = columns.get(attno) or _SYSTEM_COLUMNS.get(attno) or _eref_column(rte, attno)
            if column is not None:
                found.add((schema, name, column))
        elif kind == 2:  # RTE_JOIN: follow the join alias expression
            aliases = rte.get("joinaliasvars")
            if isinstance(aliases, list) and 0 < attno <= len(aliases):
                for inner in walk(aliases[attno - 1]):
                    if inner.type == "VAR" and (inner.get_int("varlevelsup", 0) or 0) == 0:
                        self._resolve_var(inner, scope, found, guard + 1)

    # -- user context ------------------------------------------------------------------------------

    def references_user_context(self) -> bool:
        """True when the result depends on the caller or on other rows.

        That is: any ``auth.*`` function, a :data:`USER_CONTEXT_FUNCTIONS` call (``current_setting``,
        ``current_user``, ``session_user``, ``current_role``, ``system_user``, ``pg_has_role``, ...) or any
        sub-select. Calls whose OID the lookup cannot name do not count.
        """
        for call in self.function_calls():
            if call.name is None:
                continue
            schema, _, bare = call.name.rpartition(".")
            if schema == "auth" or (schema in ("pg_catalog", "") and bare in USER_CONTEXT_FUNCTIONS):
                return True
        return self.has_subselect()


def _combine(boolop: Any, parts: list[Truth]) -> Truth:
    """Three-valued AND / OR / NOT over constant truths ("unknown" when not constant)."""
    if boolop == "not" and len(parts) == 1:
        return _NEGATE[parts[0]]
    if boolop not in ("and", "or") or not parts:
        return "unknown"
    dominant: Truth = "false" if boolop == "and" else "true"
    neutral: Truth = "true" if boolop == "and" else "false"
    if dominant in parts:
        return dominant
    if all(p == neutral for p in parts):
        return neutral
    return "unknown" if "unknown" in parts else "null"


def _datum(node: Node) -> tuple[int, ...] | None:
    """The bytes of a CONST's ``constvalue`` (``None`` when null or not a datum)."""
    data = node.get("constvalue")
    if isinstance(data, tuple) and all(isinstance(b, int) for b in data):
        return data
    return None


def _strip(value: Any) -> Any:
    """Skip relabelling and I/O coercions around an expression."""
    while isinstance(value, Node) and value.type in _TRANSPARENT:
        value = value.get("arg")
    return value


def _eref_column(rte: Node, attno: int) -> str | None:
    eref = rte.get("eref")
    names = eref.get("colnames") if isinstance(eref, Node) else None
    if isinstance(names, list) and 0 < attno <= len(names) and isinstance(names[attno - 1], str):
        return names[attno - 1] or None
    return None
