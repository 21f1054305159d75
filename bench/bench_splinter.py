"""The workbench side by side with Supabase splinter on the same databases: speed, and what each one reports.

splinter's SQL is not part of this project: pass the compiled ``splinter.sql`` of the version to compare with
(the file ``splinter.sql`` at the top of the supabase/splinter repository).

    python bench/bench_splinter.py --splinter PATH/splinter.sql [--tables 2000] [--runs 3] [--schema DIR ...]

Databases: the demo; bench_audit.py's schema of ``--tables`` tables (0 skips it); and each ``--schema DIR``,
whose ``*.sql`` files are applied in name order with psql after the Supabase scaffold (its own ``scaffold.sql``
first; statements that fail, e.g. for an extension this server lacks, are counted and skipped, as
``psql -v ON_ERROR_STOP=0`` does); ``--plain DIR`` likewise for a plain PostgreSQL schema, without the scaffold.

Timed on each: splinter's query as Supabase runs it (one transaction, ``pgrst.db_schemas`` set to the exposed
schemas; the query alone, in an open session) and ``workbench audit --format json`` in a fresh process (its
engine time: collection and checks, and the wall time of the whole command). The workbench is run with
``min_stats_age_days = 0``: by default it skips its usage-based checks on statistics younger than a week,
where splinter reports every index of a new database as unused.

Then, lint by lint, every row splinter reports that the workbench has no finding for (same check, same
object): left out by design when the catalog shows it is one of CHECKS.md's exclusions (an unused index that
is the only one serving a foreign key, a SECURITY DEFINER trigger function, an aggregate's search_path),
else MISSED; and how many findings the workbench has beyond splinter's. splinter's two SECURITY DEFINER lints
map to security_definer_function_executable; a lint the workbench has no check for is listed as such.
"""

from __future__ import annotations

import argparse
import compileall
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

import workbench
from bench_audit import build_schema
from workbench.core.checks.indexes import fk_covers, foreign_keys
from workbench.core.connections import open_session
from workbench.core.demo import load_demo, resource_text
from workbench.core.embedded import EmbeddedServer, load_sql
from workbench.core.model import Snapshot
from workbench.core.snapshot import collect_snapshot

EXPOSED = "public"
# splinter lint name -> workbench check id, where they differ.
RENAMED = {
    "anon_security_definer_function_executable": "security_definer_function_executable",
    "authenticated_security_definer_function_executable": "security_definer_function_executable",
}
_TICKED = re.compile(r"\\?`([^`\\]+)\\?`")  # `name` in splinter's detail (some lints escape the backticks)


@dataclass
class Side:
    seconds: list[float] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def run_splinter(dsn: str, query: str) -> tuple[float, list[dict[str, Any]]]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn, conn.cursor() as cur:
        cur.execute(f"SET LOCAL pgrst.db_schemas = '{EXPOSED}'")
        started = time.perf_counter()
        cur.execute(query.encode())  # several statements (set local, a DO block, the union); the last has rows
        while cur.nextset():
            pass
        rows = cur.fetchall()
        elapsed = time.perf_counter() - started
        conn.rollback()
    return elapsed, rows


def run_workbench(dsn: str, config: Path) -> tuple[float, float, dict[str, Any]]:
    """(engine seconds, wall seconds of the command, the audit's JSON)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        command = [sys.executable, "-m", "workbench", "audit", "--dsn", dsn, "--format", "json"]
        command += ["--config", str(config), "--output", str(out), "--fail-on", "error"]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(f"workbench audit failed: {done.stderr.strip()}")
        doc: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return float(doc["duration_s"]), wall, doc


def _ticked(detail: str) -> list[str]:
    return _TICKED.findall(detail or "")


def expected_keys(row: dict[str, Any]) -> tuple[str, set[str]]:
    """The workbench check and the finding keys, any one of which covers this splinter row."""
    name = str(row["name"])
    check = RENAMED.get(name, name)
    meta: dict[str, Any] = row.get("metadata") or {}
    schema, obj = meta.get("schema"), meta.get("name")
    relation = f"{schema}.{obj}"
    ticked = _ticked(str(row.get("detail") or ""))
    if name == "unindexed_foreign_keys":
        return check, {f"{relation}:{meta['fkey_name']}"}
    if name in ("auth_rls_initplan", "rls_references_user_metadata"):
        return check, {f"{relation}:{ticked[1]}"} if len(ticked) > 1 else {f"{relation}:*"}
    if name == "rls_policy_always_true":
        return check, {f"{relation}:{meta['policy_name']}"}
    if name == "unused_index":
        return check, {f"{schema}.{ticked[0]}"}
    if name == "duplicate_index":
        return check, {f"{schema}.{index}" for index in meta.get("indexes") or ()}
    if name == "multiple_permissive_policies":
        return check, {f"{relation}#{ticked[2]}"} if len(ticked) > 2 else {f"{relation}#*"}
    if name == "function_search_path_mutable":
        return check, {f"{relation}(*"}
    if name in RENAMED:
        return check, {f"{relation}({meta.get('arguments') or ''})"}
    if name == "extension_in_public":
        return check, {f"extension:{obj}"}
    if name == "extension_versions_outdated":
        return check, {f"extension:{meta.get('extension_name')}"}
    if name == "unsupported_reg_types":
        return check, {f"{relation}.{meta.get('column')}"}
    if name == "fkey_to_auth_unique":
        return check, {f"{relation}:{meta.get('foreign_key')}"}
    if name == "public_bucket_allows_listing":
        return check, {f"bucket:{meta.get('bucket_id')}"}
    return check, {relation}


def finding_keys(finding: dict[str, Any]) -> set[str]:
    """The keys a workbench finding answers to: its own, and the coarser forms expected_keys() builds."""
    key = str(finding["key"])
    keys = {key}
    if finding["object"].get("kind") == "function":
        keys.add(key.split("(", 1)[0] + "(*")
    if ":" in key and not key.startswith(("extension:", "bucket:")):
        keys.add(key.split(":", 1)[0] + ":*")
    if finding["check"] == "multiple_permissive_policies":
        command = str(finding["fingerprint"]).rsplit(":", 1)[-1]
        keys |= {f"{key}#{command}", f"{key}#*"}
    return keys


def by_design(row: dict[str, Any], snapshot: Snapshot) -> str | None:
    """Why the workbench does not report this splinter row on purpose (CHECKS.md), checked in the catalog."""
    name = str(row["name"])
    meta: dict[str, Any] = row.get("metadata") or {}
    schema, obj = meta.get("schema"), meta.get("name")
    if name == "unused_index":
        index = _ticked(str(row.get("detail") or ""))[0]
        ix = next((i for i in snapshot.indexes if (i.schema, i.name) == (schema, index)), None)
        rel = snapshot.relation(ix.table_oid) if ix else None
        if ix is not None and rel is not None:
            served = []
            for fk in foreign_keys(snapshot, rel):
                covers = fk_covers(snapshot, fk)
                if ix.oid in {c.oid for c in covers} and not any(c.idx_scan for c in covers):
                    served.append(fk.name)  # every index serving it is unused: one of them must stay
            if served:
                return f"the only index serving foreign key {', '.join(served)}"
    functions = [f for f in snapshot.functions if (f.schema, f.name) == (schema, obj)]
    if name in RENAMED and functions and all(f.result_type in ("trigger", "event_trigger") for f in functions):
        return "a trigger function: it cannot be called through the API"
    if name == "function_search_path_mutable" and functions and all(f.kind in ("a", "w") for f in functions):
        return "an aggregate or window function: it runs no code of its own with a search_path"
    return None


@dataclass
class Coverage:
    covered: Counter[str] = field(default_factory=Counter)
    missed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    deliberate: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    no_check: Counter[str] = field(default_factory=Counter)
    beyond: int = 0


def compare(splinter_rows: Iterable[dict[str, Any]], audit: dict[str, Any], snapshot: Snapshot) -> Coverage:
    ours: dict[str, set[str]] = defaultdict(set)
    for f in audit["findings"]:
        ours[f["check"]] |= finding_keys(f)
    known = set(audit["checks_run"]) | {s["check"] for s in audit["checks_skipped"]}
    result = Coverage()
    claimed: set[tuple[str, str]] = set()
    for row in splinter_rows:
        check, keys = expected_keys(row)
        if check not in known:
            result.no_check[str(row["name"])] += 1
            continue
        hit = keys & ours[check]
        if hit:
            result.covered[str(row["name"])] += 1
            claimed |= {(check, k) for k in hit}
        elif (why := by_design(row, snapshot)) is not None:
            result.deliberate[str(row["name"])].append(f"{', '.join(sorted(keys))} ({why})")
        else:
            result.missed[str(row["name"])].append(", ".join(sorted(keys)))
    result.beyond = sum(1 for f in audit["findings"] if not {(f["check"], k) for k in finding_keys(f)} & claimed)
    return result


def apply_folder(server: EmbeddedServer, dsn: str, folder: Path) -> tuple[int, int]:
    """Apply the folder's .sql files with psql, going on after errors: (files, statements that failed)."""
    psql = server.bindir.path / "psql"
    exe = str(psql) if psql.exists() else shutil.which("psql")
    if exe is None:
        raise SystemExit("psql is needed to apply --schema folders")
    # A scaffold.sql the folder brings (what its project expects of the platform) goes first; files whose
    # name starts with "_" are not part of the schema.
    files = sorted(folder.glob("*.sql"), key=lambda p: (p.name != "scaffold.sql", p.name))
    files = [p for p in files if not p.name.startswith("_")]
    failed = 0
    for path in files:
        done = subprocess.run(
            [exe, "-X", "-q", "-v", "ON_ERROR_STOP=0", "-d", dsn, "-f", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        failed += done.stderr.count("ERROR:")
    return len(files), failed


def measure(name: str, dsn: str, query: str, config: Path, runs: int) -> dict[str, Any]:
    load_sql(dsn, "ANALYZE")
    splinter = [run_splinter(dsn, query) for _ in range(runs)]
    workbench_runs = [run_workbench(dsn, config) for _ in range(runs)]
    with open_session(dsn) as session:
        snapshot = collect_snapshot(session)
    coverage = compare(splinter[-1][1], workbench_runs[-1][2], snapshot)
    return {
        "database": name,
        "splinter_s": statistics.median(s for s, _ in splinter),
        "workbench_engine_s": statistics.median(e for e, _, _ in workbench_runs),
        "workbench_cli_s": statistics.median(w for _, w, _ in workbench_runs),
        "splinter_rows": len(splinter[-1][1]),
        "workbench_findings": len(workbench_runs[-1][2]["findings"]),
        "coverage": coverage,
    }


def report(result: dict[str, Any]) -> None:
    c: Coverage = result["coverage"]
    print(
        f"\n{result['database']}: splinter {result['splinter_s']:.3f} s ({result['splinter_rows']} rows); "
        f"workbench {result['workbench_engine_s']:.3f} s engine, {result['workbench_cli_s']:.3f} s command "
        f"({result['workbench_findings']} findings)"
    )
    missed = sum(len(v) for v in c.missed.values())
    deliberate = sum(len(v) for v in c.deliberate.values())
    print(
        f"  splinter rows the workbench reports too: {sum(c.covered.values())}; left out by design: {deliberate}; "
        f"missed: {missed}; lints without a workbench check: {sum(c.no_check.values())}; workbench findings "
        f"beyond splinter's: {c.beyond}"
    )
    for lint in sorted(set(c.covered) | set(c.missed) | set(c.deliberate)):
        line = f"    {lint:52} {c.covered[lint]:5} covered"
        for label, rows in (("left out by design", c.deliberate.get(lint)), ("MISSED", c.missed.get(lint))):
            if rows:
                line += f", {len(rows)} {label}: " + "; ".join(rows[:3]) + (" …" if len(rows) > 3 else "")
        print(line)
    for lint, n in sorted(c.no_check.items()):
        print(f"    {lint:52} {n:5} rows, no workbench check")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splinter", type=Path, required=True, help="splinter's compiled splinter.sql")
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--schema", type=Path, nargs="*", default=[], help="Supabase projects: folders of .sql")
    parser.add_argument("--plain", type=Path, nargs="*", default=[], help="the same, without the Supabase scaffold")
    parser.add_argument("--prefer", choices=("system", "pgserver"), default="system")
    args = parser.parse_args()
    query = args.splinter.read_text(encoding="utf-8")
    compileall.compile_dir(Path(workbench.__file__).parent, quiet=1)  # as an installed wheel has it
    with tempfile.TemporaryDirectory() as tmp, EmbeddedServer(prefer=args.prefer) as server:
        config = Path(tmp) / "workbench.toml"
        config.write_text("min_stats_age_days = 0\n", encoding="utf-8")
        print(f"PostgreSQL {server.major} ({server.bindir.source}); splinter {args.splinter}")
        dsn = server.create_database("demo")
        load_demo(dsn)
        report(measure("demo", dsn, query, config, args.runs))
        if args.tables:
            dsn = server.create_database(f"bench_{args.tables}")
            build_schema(dsn, args.tables)
            report(measure(f"{args.tables} tables (bench_audit.py schema)", dsn, query, config, args.runs))
        for folder, supabase in [(f, True) for f in args.schema] + [(f, False) for f in args.plain]:
            dsn = server.create_database(re.sub(r"\W", "_", folder.name.lower()))
            if supabase:
                load_sql(dsn, resource_text("scaffold", "supabase.sql"))
            files, failed = apply_folder(server, dsn, folder)
            print(f"\n{folder}: {files} files applied, {failed} statements failed")
            report(measure(folder.name, dsn, query, config, args.runs))


if __name__ == "__main__":
    main()
