"""`workbench` command line: audit, checks, snapshot and demo. Parsing and output only; the work is in core."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from workbench import __version__
from workbench.cli import doctor_cmd, migrations_cmd, report_cmd, review_cmd
from workbench.core.checks import AuditConfig, AuditResult, all_checks, audit, run_checks
from workbench.core.checks.config_file import ConfigError, load_config
from workbench.core.connections import Cancelled, ConnectionFailed, SessionOptions, open_session
from workbench.core.connections.session import describe_target
from workbench.core.logs import configure_logging
from workbench.core.model import Level, Snapshot
from workbench.core.report.audit_json import audit_to_dict
from workbench.core.report.audit_markdown import render_markdown, render_text
from workbench.core.report.json_text import dumps_lines
from workbench.core.snapshot import SnapshotFormatError, collect_snapshot, load_snapshot, save_snapshot

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
log = logging.getLogger(__name__)
FORMATS = ("text", "json", "md")


class UsageError(Exception):
    """A problem with what the user asked for; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"workbench: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="workbench", description="Review a PostgreSQL (or Supabase) database before production.")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    parser.add_argument("--dsn", help="open the app on this database (with no command)")
    parser.add_argument("--screenshot", type=Path, help="save a PNG of the window after the audit, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("audit", help="audit a database read-only and print the findings")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--dsn", help="connection URI, libpq keywords or service=NAME")
    source.add_argument("--snapshot", type=Path, help="re-analyse a saved snapshot instead of a live database")
    _output_options(p)
    report_cmd.extend_audit_parser(p)
    p.add_argument(
        "--fail-on",
        choices=[lv.value for lv in Level],
        default="error",
        help="exit 1 when a finding is at or above this level (default: error)",
    )
    p.add_argument("--config", type=Path, help="workbench.toml with exposed schemas, thresholds, ignores")
    p.add_argument(
        "--statement-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="per-query timeout of the read-only session (default 30)",
    )
    p.add_argument("--save-snapshot", type=Path, metavar="FILE", help="also save the snapshot as JSON")
    p.add_argument("--review", metavar="NAME", help="store the run in this review (created if missing); show fixed/new")

    p = sub.add_parser("checks", help="list the checks the audit runs")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = sub.add_parser("snapshot", help="save a database's catalog snapshot as JSON to compare or audit later")
    p.add_argument("--dsn", required=True)
    p.add_argument("-o", "--output", type=Path, required=True)

    p = sub.add_parser("compare", help="compare two databases or snapshots (e.g. staging and production)")
    p.add_argument("--a", required=True, metavar="DSN_OR_SNAPSHOT", help="the reference (e.g. staging)")
    p.add_argument("--b", required=True, metavar="DSN_OR_SNAPSHOT", help="the one to check (e.g. production)")
    _output_options(p)
    p.add_argument("--config", type=Path, help="workbench.toml for the audits of both sides")
    p.add_argument(
        "--sync-script",
        type=Path,
        metavar="FILE",
        help="write a script making B's security settings match A's (never run by workbench)",
    )

    p = sub.add_parser("demo", help="start a throwaway PostgreSQL with a flawed demo schema and review it")
    p.add_argument("--headless", action="store_true", help="print the review instead of opening the app")
    _output_options(p)
    p.add_argument("--screenshot", type=Path, help="save a PNG of the window after the audit, then exit")

    migrations_cmd.add_parser(sub)
    review_cmd.add_parser(sub)
    report_cmd.add_parsers(sub)
    doctor_cmd.add_parser(sub)
    return parser


def _output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--output", "-o", type=Path, help="write to FILE instead of standard output")


def _emit(result: AuditResult, fmt: str, output: Path | None) -> None:
    if fmt == "json":
        text = dumps_lines(audit_to_dict(result)) + "\n"
    elif fmt == "md":
        text = render_markdown(result) + "\n"
    else:
        text = render_text(result) + "\n"
    _write(text, output)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot write {output}: {exc.strerror or exc}") from None


def _exit_status(result: AuditResult, fail_on: str) -> int:
    threshold = Level(fail_on).rank
    return EXIT_FINDINGS if any(f.level.rank >= threshold for f in result.findings) else EXIT_OK


def _progress(fraction: float, message: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[2K{fraction * 100:3.0f}%  {message}")
        sys.stderr.flush()
        if fraction >= 1.0:
            sys.stderr.write("\r\x1b[2K")


def cmd_audit(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else AuditConfig()
    if args.snapshot:
        result = run_checks(load_snapshot(args.snapshot), config)
    else:
        options = SessionOptions(statement_timeout_ms=int(args.statement_timeout * 1000))
        with open_session(args.dsn, options) as session:
            result = audit(session, config, _progress)
        if args.save_snapshot:
            save_snapshot(result.snapshot, args.save_snapshot)
    if args.format in report_cmd.AUDIT_REPORT_FORMATS:
        report_cmd.emit_audit_report(result, args)
    elif args.review:
        review_cmd.emit_reviewed_audit(args.review, result, args.format, args.output, args.dsn or str(args.snapshot))
    else:
        _emit(result, args.format, args.output)
    return _exit_status(result, args.fail_on)


def cmd_checks(args: argparse.Namespace) -> int:
    specs = [c.spec for c in all_checks()]
    if args.format == "json":
        rows = [
            {
                "id": s.id,
                "title": s.title,
                "level": s.level.value,
                "category": s.category.value,
                "description": s.description,
                "rationale": s.rationale,
                "remediation": s.remediation,
                "requires": list(s.requires),
            }
            for s in specs
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        width = max(len(s.id) for s in specs)
        for s in specs:
            print(f"{s.id:{width}}  {s.level.value:5}  {s.category.value:12}  {s.description}")
    return EXIT_OK


def cmd_snapshot(args: argparse.Namespace) -> int:
    with open_session(args.dsn) as session:
        snapshot = collect_snapshot(session, _progress)
    save_snapshot(snapshot, args.output)
    print(f"Saved the snapshot of {snapshot.database} ({len(snapshot.relations)} relations) to {args.output}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from workbench.core.demo import demo_config, start_demo

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    demo = start_demo(say)
    try:
        say(f"Demo database ready in {demo.load_seconds:.1f} s")
        if args.headless:
            with open_session(demo.dsn) as session:
                result = audit(session, demo_config(), _progress)
            _emit(result, args.format, args.output)
            return EXIT_OK
        return _run_app(demo.dsn, args.screenshot, autorun=True)
    finally:
        demo.stop()


def _run_app(dsn: str | None, screenshot: Path | None, *, autorun: bool) -> int:
    try:
        from workbench.ui.app import run_app
    except ImportError as exc:
        raise UsageError(f"The desktop app cannot start: {exc}. Use --headless for the command-line review.") from None
    return run_app(dsn, screenshot=screenshot, autorun=autorun)


def _snapshot_from(source: str) -> tuple[Snapshot, str]:
    """A saved snapshot file, or a live database collected read-only."""
    path = Path(source)
    if path.is_file():
        return load_snapshot(path), f"snapshot {path.name}"
    with open_session(source) as session:
        snap = collect_snapshot(session)
    return snap, f"{describe_target(source)}"


def cmd_compare(args: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from workbench.core.compare import diff_findings, diff_snapshots, security_sync_script
    from workbench.core.report.compare_render import (
        Comparison,
        comparison_to_dict,
        render_comparison_markdown,
        render_comparison_text,
    )

    config = load_config(args.config) if args.config else AuditConfig()
    with ThreadPoolExecutor(max_workers=2) as pool:  # collect both sides at once
        side_a, side_b = pool.submit(_snapshot_from, args.a), pool.submit(_snapshot_from, args.b)
        (snap_a, label_a), (snap_b, label_b) = side_a.result(), side_b.result()
    label_a, label_b = f"{snap_a.database} ({label_a})", f"{snap_b.database} ({label_b})"
    script = security_sync_script(snap_a, snap_b, "A", "B")
    comparison = Comparison(
        schema=diff_snapshots(snap_a, snap_b),
        findings=diff_findings(run_checks(snap_a, config).findings, run_checks(snap_b, config).findings),
        a_label=label_a,
        b_label=label_b,
        sync_script=script,
    )
    if args.format == "json":
        text = json.dumps(comparison_to_dict(comparison), indent=2, ensure_ascii=False, default=str)
    elif args.format == "md":
        text = render_comparison_markdown(comparison)
    else:
        text = render_comparison_text(comparison)
    _write(text + "\n", args.output)
    if args.sync_script and script:
        _write(script, args.sync_script)
    return EXIT_FINDINGS if comparison.has_differences else EXIT_OK


COMMANDS = {
    "audit": cmd_audit,
    "checks": cmd_checks,
    "snapshot": cmd_snapshot,
    "compare": cmd_compare,
    "demo": cmd_demo,
    "migrations": migrations_cmd.cmd_migrations,
    "review": review_cmd.cmd_review,
    "report": report_cmd.cmd_report,
    "verify-report": report_cmd.cmd_verify_report,
    "doctor": doctor_cmd.cmd_doctor,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()  # once per process: the rotating log file, secrets redacted
    log.info("workbench %s: %s", __version__, args.command or "app")
    try:
        if args.command is None:
            return _run_app(args.dsn, args.screenshot, autorun=args.dsn is not None)
        return COMMANDS[args.command](args)
    except (ConnectionFailed, ConfigError, SnapshotFormatError, UsageError) as exc:
        log.warning("%s: %s", args.command or "app", exc)
        print(f"workbench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Cancelled:
        log.info("%s: cancelled", args.command or "app")
        print("workbench: cancelled", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an embedded-server or other environment failure: still one line, no traceback
        from workbench.core.embedded import EmbeddedServerError

        if isinstance(exc, EmbeddedServerError):
            log.warning("%s: %s", args.command, exc)
            print(f"workbench: {exc}", file=sys.stderr)
            return EXIT_USAGE
        log.exception("%s failed", args.command or "app")
        raise
