"""Benchmark the staging-vs-production comparison on two generated databases of N tables each.

Both databases get bench_audit.py's schema (primary key, foreign key, two indexes, RLS, two policies and grants
per table); B then drifts a little (policies with a new USING under the same name, dropped indexes, added
columns, a revoked grant), so the diff has something to report. Measured end to end, as the desktop app and
`workbench compare` do it:

* ``collect``     — two read-only sessions collecting both snapshots in parallel threads, each side then
                    described for the diff in its own thread (what the Compare tab's side workers do);
* ``diff``        — ``diff_described``: the schema differences of the two described sides;
* ``e2e``         — collect both + diff: the target is ≤ 2 s for 2,000 tables each;
* ``full_diff``   — ``diff_snapshots`` from scratch (describes both sides itself; what ``workbench compare`` does);
* ``checks``      — the checks over both snapshots and ``diff_findings`` (the Findings tab, filled afterwards);
* ``sync``        — ``security_sync_script``;
* ``cli``         — wall time of ``workbench compare --a DSN --b DSN`` in a fresh process (start-up included);
* ``gui_schema``  — with ``--gui``: the Compare tab from pressing Compare to the differences tree shown;
* ``gui_all``     — with ``--gui``: … to the findings diff shown as well (offscreen Qt).

    python bench/bench_compare.py --tables 2000 --runs 3 [--gui]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench_audit import build_schema
from workbench.core.checks import run_checks
from workbench.core.compare import describe, diff_described, diff_findings, diff_snapshots, security_sync_script
from workbench.core.connections import open_session
from workbench.core.embedded import EmbeddedServer, load_sql
from workbench.core.model import Snapshot
from workbench.core.snapshot import collect_snapshot

DRIFT_EVERY = 40  # one table in 40 drifts in B


def drift(dsn: str, tables: int) -> int:
    """Plant differences in B; returns how many tables were touched."""
    touched = range(0, tables, DRIFT_EVERY)
    statements = []
    for i in touched:
        statements.append(
            f"DROP POLICY t{i}_read ON public.t{i};"
            f"CREATE POLICY t{i}_read ON public.t{i} FOR SELECT TO authenticated USING (owner_id IS NOT NULL);"
            f"DROP INDEX public.t{i}_created_idx;"
            f"ALTER TABLE public.t{i} ADD COLUMN note text;"
            f"REVOKE INSERT ON public.t{i} FROM authenticated;"
        )
    load_sql(dsn, "".join(statements))
    return len(touched)


def collect(dsn: str) -> Snapshot:
    with open_session(dsn) as session:
        return collect_snapshot(session)


def collect_and_describe(dsn: str) -> tuple[Snapshot, Any]:
    """What one side's worker of the Compare tab does: collect, then describe for the diff (in its own thread)."""
    snapshot = collect(dsn)
    return snapshot, describe(snapshot)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def run_core(a: str, b: str) -> dict[str, float]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        sides, collect_s = timed(lambda: list(pool.map(collect_and_describe, (a, b))))
    (snap_a, desc_a), (snap_b, desc_b) = sides
    diff, diff_s = timed(lambda: diff_described(snap_a, snap_b, desc_a, desc_b))
    _full, full_diff_s = timed(lambda: diff_snapshots(snap_a, snap_b))
    findings, checks_s = timed(lambda: diff_findings(run_checks(snap_a).findings, run_checks(snap_b).findings))
    _script, sync_s = timed(lambda: security_sync_script(snap_a, snap_b))
    return {
        "collect_s": collect_s,
        "diff_s": diff_s,
        "e2e_s": collect_s + diff_s,
        "full_diff_s": full_diff_s,
        "checks_s": checks_s,
        "sync_s": sync_s,
        "different": len(diff.different),
        "only_a": len(diff.only_in_a),
        "only_b": len(diff.only_in_b),
        "identical": diff.identical,
        "findings_changed": len(findings.only_in_a) + len(findings.only_in_b) + len(findings.level_changes),
    }


def run_cli(a: str, b: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "workbench", "compare", "--a", a, "--b", b, "--format", "json"],
        check=False,
        capture_output=True,
    )
    return time.perf_counter() - started


def run_gui(a: str, b: str, runs: int) -> tuple[list[float], list[float]]:
    """Press Compare in the Compare tab (offscreen): time to the differences tree, and to the findings diff."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    import workbench.ui  # noqa: F401  (PySide6 work-arounds first)
    from workbench.ui.compare.jobs import DsnSource
    from workbench.ui.compare.panel import ComparePanel

    app = QApplication.instance() or QApplication([])
    panel = ComparePanel(read_reviews=False)
    panel.resize(1400, 900)
    panel.show()
    schema_times, all_times = [], []
    for _ in range(runs):
        loop = QEventLoop()
        marks: dict[str, float] = {}
        panel.sig_schema_ready.connect(lambda _c, m=marks: m.setdefault("schema", time.perf_counter()))
        panel.sig_compare_finished.connect(loop.quit)
        panel.sig_compare_failed.connect(loop.quit)
        started = time.perf_counter()
        panel.compare(DsnSource(a, "A"), DsnSource(b, "B"))
        QTimer.singleShot(180_000, loop.quit)
        loop.exec()
        app.processEvents()
        all_times.append(time.perf_counter() - started)
        schema_times.append(marks.get("schema", float("nan")) - started)
        for signal in (panel.sig_schema_ready, panel.sig_compare_finished, panel.sig_compare_failed):
            signal.disconnect()
    QThreadPool.globalInstance().waitForDone()
    panel.close()
    return schema_times, all_times


def measure(a: str, b: str, runs: int, gui: bool) -> None:
    results = [run_core(a, b) for _ in range(runs)]
    for key in ("collect_s", "diff_s", "e2e_s", "full_diff_s", "checks_s", "sync_s"):
        values = [r[key] for r in results]
        print(f"  {key:12} median {statistics.median(values):7.3f}   min {min(values):7.3f}")
    cli = [run_cli(a, b) for _ in range(runs)]
    print(f"  {'cli_s':12} median {statistics.median(cli):7.3f}   min {min(cli):7.3f}")
    if gui:
        for key, values in zip(("gui_schema_s", "gui_all_s"), run_gui(a, b, runs), strict=True):
            print(f"  {key:12} median {statistics.median(values):7.3f}   min {min(values):7.3f}")
    r = results[0]
    print(
        f"  objects: {r['different']:.0f} different, {r['only_a']:.0f} only in A, {r['only_b']:.0f} only in B,"
        f" {r['identical']:.0f} identical; {r['findings_changed']:.0f} finding differences"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, nargs="+", default=[2000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gui", action="store_true", help="also time the Compare tab end to end")
    parser.add_argument("--dsn", nargs=2, metavar=("A", "B"), help="measure two existing databases instead")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if args.dsn:
        measure(args.dsn[0], args.dsn[1], args.runs, args.gui)
        return
    with EmbeddedServer() as server:
        print(f"PostgreSQL {server.major} ({server.bindir.source})")
        for n in args.tables:
            a, b = server.create_database(f"cmp_a_{n}"), server.create_database(f"cmp_b_{n}")
            built = build_schema(a, n) + build_schema(b, n)
            touched = drift(b, n)
            load_sql(a, "ANALYZE")
            load_sql(b, "ANALYZE")
            print(f"\n{n} tables per database: built in {built:.1f} s, {touched} tables drifted in B")
            measure(a, b, args.runs, args.gui)
            server.drop_database(f"cmp_a_{n}")
            server.drop_database(f"cmp_b_{n}")
    print(f"\nbenchmark process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
