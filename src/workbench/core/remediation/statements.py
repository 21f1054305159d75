"""What a remediation statement costs: the lock it takes, its impact, and whether it can run in a transaction.

Decided from the statement's leading keywords (and, for ALTER TABLE, from each of its actions) on the tokens of
the shared SQL lexer, so quoted names, strings and comments never confuse it. The lock is the strongest
table-level lock the statement requests; "brief" means it is held for a catalog change only, but note that any
lock waits behind the transactions already using the table and, while it waits, blocks the queries queued after
it. The scripts set `lock_timeout` so such a wait fails instead of stalling the application.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.core.migrations.sqltext import Statement, Token

ADD_VALUE_IN_TRANSACTION_SINCE = 120000  # ALTER TYPE ... ADD VALUE may run in a transaction block from PG 12

_RANK = {
    "none": 0,
    "ROW EXCLUSIVE": 1,
    "SHARE UPDATE EXCLUSIVE": 2,
    "SHARE": 3,
    "SHARE ROW EXCLUSIVE": 4,
    "EXCLUSIVE": 5,
    "ACCESS EXCLUSIVE": 6,
}


@dataclass(frozen=True, slots=True)
class StatementEffect:
    """The cost of one statement, for the comment above it and for the dry run / apply split."""

    command: str  # e.g. "ALTER TABLE … ENABLE ROW LEVEL SECURITY"
    lock: str  # a table lock mode, "none", or "varies"
    impact: str  # one sentence for a DBA
    transactional: bool = True  # False: cannot run inside a transaction block
    control: bool = False  # BEGIN, COMMIT, ROLLBACK, SAVEPOINT…: handled by the workbench itself

    @property
    def summary(self) -> str:
        """`Lock: …. Impact.` as written in the script's comment."""
        lock = "no table lock" if self.lock == "none" else f"{self.lock} lock" if self.lock != "varies" else "varies"
        return f"Lock: {lock}. {self.impact}"


def _words(tokens: Sequence[Token]) -> list[str]:
    return [t.word for t in tokens]


def _top_level_actions(tokens: Sequence[Token]) -> list[list[Token]]:
    """Comma-separated parts at parenthesis depth 0."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "punct" and token.text == "(":
            depth += 1
        elif token.kind == "punct" and token.text == ")":
            depth = max(depth - 1, 0)
        elif token.kind == "punct" and token.text == "," and depth == 0:
            parts.append([])
            continue
        parts[-1].append(token)
    return [p for p in parts if p]


def _skip_name(tokens: Sequence[Token], pos: int) -> int:
    """Position after a (possibly qualified) name starting at `pos`."""
    while pos < len(tokens) and tokens[pos].name is not None:
        pos += 1
        if pos < len(tokens) and tokens[pos].kind == "punct" and tokens[pos].text == ".":
            pos += 1
            continue
        break
    return pos


def _strongest(effects: Sequence[StatementEffect], command: str) -> StatementEffect:
    worst = max(effects, key=lambda e: _RANK.get(e.lock, 0))
    impacts = " ".join(dict.fromkeys(e.impact for e in effects))
    return StatementEffect(command, worst.lock, impacts, all(e.transactional for e in effects))


_BRIEF = "Brief: a catalog change only, no scan."


def _alter_table_action(action: list[Token]) -> StatementEffect:
    w = _words(action)
    text = " ".join(x for x in w if x)
    rls = ("ENABLE", "DISABLE", "FORCE", "NO")
    if w[:1] and w[0] in rls and "ROW" in w and "SECURITY" in w:
        return StatementEffect(text, "ACCESS EXCLUSIVE", _BRIEF)
    if w[:1] == ["ADD"]:
        if "FOREIGN" in w or "REFERENCES" in w:
            if "VALID" in w and w[w.index("VALID") - 1] == "NOT":
                return StatementEffect(
                    "ADD FOREIGN KEY … NOT VALID",
                    "SHARE ROW EXCLUSIVE",
                    "Brief, on this table and the referenced one: existing rows are not checked.",
                )
            return StatementEffect(
                "ADD FOREIGN KEY",
                "SHARE ROW EXCLUSIVE",
                "Scans the table to check every row while blocking writes to it and to the referenced table.",
            )
        if "USING" in w and "INDEX" in w:
            return StatementEffect(
                "ADD CONSTRAINT … USING INDEX", "ACCESS EXCLUSIVE", "Brief: promotes an existing index, no build."
            )
        if "PRIMARY" in w or "UNIQUE" in w or "EXCLUDE" in w:
            return StatementEffect(
                "ADD PRIMARY KEY/UNIQUE",
                "ACCESS EXCLUSIVE",
                "Builds an index while blocking every read and write of the table.",
            )
        if "CHECK" in w:
            if "VALID" in w and w[w.index("VALID") - 1] == "NOT":
                return StatementEffect("ADD CHECK … NOT VALID", "ACCESS EXCLUSIVE", _BRIEF)
            return StatementEffect(
                "ADD CHECK", "ACCESS EXCLUSIVE", "Scans every row while blocking every read and write of the table."
            )
        rewrite = any(x in w for x in ("GENERATED", "IDENTITY", "SERIAL", "BIGSERIAL", "SMALLSERIAL"))
        if rewrite:
            return StatementEffect(
                "ADD COLUMN (identity/generated)",
                "ACCESS EXCLUSIVE",
                "Rewrites the table (and its indexes) while blocking every read and write.",
            )
        return StatementEffect(
            "ADD COLUMN",
            "ACCESS EXCLUSIVE",
            "Brief unless the default is volatile (then the table is rewritten).",
        )
    if w[:2] == ["VALIDATE", "CONSTRAINT"]:
        return StatementEffect(
            "VALIDATE CONSTRAINT",
            "SHARE UPDATE EXCLUSIVE",
            "Scans the table to check existing rows; reads and writes continue meanwhile.",
        )
    if w[:1] == ["DROP"] and "CONSTRAINT" in w[:2]:
        return StatementEffect("DROP CONSTRAINT", "ACCESS EXCLUSIVE", _BRIEF + " A backing index is dropped with it.")
    if w[:1] == ["DROP"]:
        return StatementEffect(
            "DROP COLUMN", "ACCESS EXCLUSIVE", "Brief (no rewrite), but the column's data is gone for good."
        )
    if w[:1] == ["ALTER"]:
        if "NOT" in w and "NULL" in w and "SET" in w:
            return StatementEffect(
                "ALTER COLUMN … SET NOT NULL",
                "ACCESS EXCLUSIVE",
                "Scans every row while blocking every read and write, unless a validated CHECK (col IS NOT NULL) "
                "already proves it.",
            )
        if "TYPE" in w:
            return StatementEffect(
                "ALTER COLUMN … TYPE",
                "ACCESS EXCLUSIVE",
                "Rewrites the table and its indexes while blocking every read and write (unless the types are "
                "binary compatible).",
            )
        return StatementEffect("ALTER COLUMN", "ACCESS EXCLUSIVE", _BRIEF)
    if w[:2] == ["REPLICA", "IDENTITY"]:
        return StatementEffect("REPLICA IDENTITY", "ACCESS EXCLUSIVE", _BRIEF)
    if w[:1] in (["SET"], ["RESET"]) and len(action) > 1 and action[1].text == "(":
        return StatementEffect("SET (storage parameters)", "SHARE UPDATE EXCLUSIVE", _BRIEF)
    if w[:2] == ["ATTACH", "PARTITION"]:
        return StatementEffect(
            "ATTACH PARTITION",
            "SHARE UPDATE EXCLUSIVE",
            "Scans the partition to check its bound unless a matching CHECK constraint exists.",
        )
    if w[:2] == ["DETACH", "PARTITION"]:
        concurrent = "CONCURRENTLY" in w
        return StatementEffect(
            "DETACH PARTITION",
            "SHARE UPDATE EXCLUSIVE" if concurrent else "ACCESS EXCLUSIVE",
            "Brief." + (" Cannot run inside a transaction block." if concurrent else ""),
            transactional=not concurrent,
        )
    return StatementEffect(text or "ALTER TABLE", "ACCESS EXCLUSIVE", "Most ALTER TABLE forms block the table.")


def _alter_table(st: Statement) -> StatementEffect:
    tokens = st.tokens
    pos = 2
    words = _words(tokens)
    if words[pos : pos + 2] == ["IF", "EXISTS"]:
        pos += 2
    if words[pos : pos + 1] == ["ONLY"]:
        pos += 1
    pos = _skip_name(tokens, pos)
    actions = _top_level_actions(tokens[pos:])
    if not actions:
        return StatementEffect("ALTER TABLE", "ACCESS EXCLUSIVE", "Most ALTER TABLE forms block the table.")
    effects = [_alter_table_action(a) for a in actions]
    return _strongest(effects, "ALTER TABLE … " + ", ".join(e.command for e in effects))


_CONTROL = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE"}
_NEVER_IN_TRANSACTION = (
    ("CREATE", "DATABASE"),
    ("DROP", "DATABASE"),
    ("CREATE", "TABLESPACE"),
    ("DROP", "TABLESPACE"),
    ("ALTER", "SYSTEM"),
    ("ALTER", "DATABASE"),  # only ALTER DATABASE … SET TABLESPACE refuses, but be safe: run it on its own
    ("CREATE", "SUBSCRIPTION"),
    ("DROP", "SUBSCRIPTION"),
    ("COMMIT", "PREPARED"),
    ("ROLLBACK", "PREPARED"),
)


def classify(statement: Statement, server_version_num: int = 0) -> StatementEffect:
    """The lock, impact and transaction needs of one statement."""
    w = [x for x in _words(statement.tokens)]
    head = tuple(w[:2])
    first = w[0] if w else ""
    if head in _NEVER_IN_TRANSACTION:
        return StatementEffect(" ".join(head), "varies", "Cannot run inside a transaction block.", transactional=False)
    if first in _CONTROL and not (first == "PREPARE" and "TRANSACTION" not in w[:2]):
        return StatementEffect(first, "none", "Transaction control.", control=True)
    if first in ("VACUUM",):
        return StatementEffect(
            "VACUUM",
            "SHARE UPDATE EXCLUSIVE" if "FULL" not in w else "ACCESS EXCLUSIVE",
            "Reads and writes continue (VACUUM FULL blocks them); heavy on I/O. Cannot run inside a transaction block.",
            transactional=False,
        )
    if first == "ANALYZE":
        return StatementEffect("ANALYZE", "SHARE UPDATE EXCLUSIVE", "Samples the table; reads and writes continue.")
    if first == "REINDEX":
        concurrent = "CONCURRENTLY" in w[:4]
        return StatementEffect(
            "REINDEX",
            "SHARE UPDATE EXCLUSIVE" if concurrent else "ACCESS EXCLUSIVE",
            "Rebuilds the index"
            + (" while reads and writes continue." if concurrent else " while blocking writes and index reads."),
            transactional=not concurrent and w[1:2] not in (["SYSTEM"], ["DATABASE"]),
        )
    if first == "CREATE" and "INDEX" in w[1:3]:
        if "CONCURRENTLY" in w[:5]:
            return StatementEffect(
                "CREATE INDEX CONCURRENTLY",
                "SHARE UPDATE EXCLUSIVE",
                "Builds the index with two table scans while reads and writes continue; cannot run inside a "
                "transaction block, and a failure leaves an INVALID index to drop.",
                transactional=False,
            )
        on = w.index("ON") if "ON" in w else -1
        if on > 0 and w[on + 1 : on + 2] == ["ONLY"]:
            return StatementEffect(
                "CREATE INDEX … ON ONLY",
                "SHARE",
                "Brief: creates the partitioned index on the parent only (invalid until every partition's index is "
                "attached).",
            )
        return StatementEffect(
            "CREATE INDEX", "SHARE", "Blocks every write to the table while the index builds (reads continue)."
        )
    if first == "DROP" and w[1:2] == ["INDEX"]:
        if "CONCURRENTLY" in w[:4]:
            return StatementEffect(
                "DROP INDEX CONCURRENTLY",
                "SHARE UPDATE EXCLUSIVE",
                "Waits for running queries on the table instead of blocking them; cannot run inside a transaction "
                "block.",
                transactional=False,
            )
        return StatementEffect("DROP INDEX", "ACCESS EXCLUSIVE", "Brief, on the table of the index.")
    if first == "ALTER" and w[1:2] == ["TABLE"]:
        return _alter_table(statement)
    if first == "ALTER" and (w[1:2] == ["VIEW"] or w[1:3] == ["MATERIALIZED", "VIEW"]):
        return StatementEffect("ALTER VIEW", "ACCESS EXCLUSIVE", "Brief, on the view only.")
    if first == "ALTER" and w[1:2] == ["INDEX"]:
        if "ATTACH" in w:
            return StatementEffect(
                "ALTER INDEX … ATTACH PARTITION",
                "SHARE UPDATE EXCLUSIVE",
                "Brief: no build; the partitioned index becomes valid when every partition's index is attached.",
            )
        return StatementEffect("ALTER INDEX", "ACCESS EXCLUSIVE", _BRIEF)
    if w[1:2] == ["POLICY"] and first in ("CREATE", "ALTER", "DROP"):
        return StatementEffect(
            f"{first} POLICY", "ACCESS EXCLUSIVE", "Brief, on the table; new queries see the new policy."
        )
    if first in ("GRANT", "REVOKE"):
        return StatementEffect(
            first, "none", "A catalog update; takes effect for statements that start after the commit."
        )
    if first == "ALTER" and w[1:2] and w[1] in ("FUNCTION", "PROCEDURE", "ROUTINE"):
        return StatementEffect(
            f"ALTER {w[1]}", "none", "A catalog update; calls that start after the commit use the new settings."
        )
    if first == "ALTER" and w[1:2] == ["EXTENSION"]:
        if "UPDATE" in w:
            return StatementEffect(
                "ALTER EXTENSION … UPDATE",
                "varies",
                "Runs the extension's update scripts, which lock whatever they alter: read the release notes and "
                "try it on staging first.",
            )
        return StatementEffect("ALTER EXTENSION", "varies", "Brief locks on the extension's objects.")
    if first == "ALTER" and w[1:2] == ["SEQUENCE"]:
        return StatementEffect("ALTER SEQUENCE", "SHARE ROW EXCLUSIVE", "Brief; nextval() callers wait meanwhile.")
    if first == "ALTER" and w[1:2] == ["TYPE"] and "ADD" in w and "VALUE" in w:
        in_tx = server_version_num == 0 or server_version_num >= ADD_VALUE_IN_TRANSACTION_SINCE
        return StatementEffect(
            "ALTER TYPE … ADD VALUE",
            "ACCESS EXCLUSIVE",
            "Brief; the new value cannot be used before the transaction commits."
            if in_tx
            else "Cannot run inside a transaction block before PostgreSQL 12.",
            transactional=in_tx,
        )
    if first == "CREATE" and w[1:2] == ["SCHEMA"]:
        return StatementEffect("CREATE SCHEMA", "none", "A catalog update.")
    if first == "CREATE" and "TABLE" in w[1:4] and "PARTITION" in w and "OF" in w:
        return StatementEffect(
            "CREATE TABLE … PARTITION OF", "ACCESS EXCLUSIVE", "Brief, on the partitioned parent table."
        )
    if first == "CREATE" and "TABLE" in w[1:4]:
        return StatementEffect("CREATE TABLE", "none", "Creates a new, empty table.")
    if first == "REFRESH":
        concurrent = "CONCURRENTLY" in w[:4]
        return StatementEffect(
            "REFRESH MATERIALIZED VIEW",
            "EXCLUSIVE" if concurrent else "ACCESS EXCLUSIVE",
            "Reads continue during the refresh." if concurrent else "Blocks every read of the view until it commits.",
        )
    if first in ("UPDATE", "DELETE", "INSERT", "MERGE"):
        return StatementEffect(
            first, "ROW EXCLUSIVE", "Changes data: locks the rows it touches until the transaction ends."
        )
    if first in ("SET", "RESET"):
        return StatementEffect(first, "none", "Session setting.")
    if first in ("SELECT", "SHOW", "EXPLAIN"):
        return StatementEffect(first, "none", "Read only.")
    if first == "COMMENT":
        return StatementEffect("COMMENT", "none", "A catalog update.")
    command = " ".join(x for x in w[:2] if x) or "statement"
    return StatementEffect(command, "varies", "Check the PostgreSQL documentation for the lock this statement takes.")
