"""`workbench migrations PATH`: review a folder of SQL migrations (file rules, replay, traced locks, audit)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.core.model import Level
from workbench.core.scaffolds import SCAFFOLDS

if TYPE_CHECKING:  # the migrations review (replay, embedded server) is imported by the command itself
    from workbench.core.migrations import MigrationReview

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """The `migrations` sub-command's arguments."""
    p = sub.add_parser(
        "migrations",
        help="review a folder of .sql migrations: file rules, replay on a throwaway PostgreSQL, traced locks, audit",
    )
    p.add_argument("path", type=Path, metavar="PATH", help="folder of .sql migration files (or one file)")
    p.add_argument("--scaffold", choices=SCAFFOLDS, help="apply a platform scaffold first (supabase: roles, auth)")
    p.add_argument("--format", choices=("text", "json", "md"), default="text")
    p.add_argument("--output", "-o", type=Path, help="write to FILE instead of standard output")
    p.add_argument(
        "--fail-on",
        choices=[lv.value for lv in Level],
        default="error",
        help="exit 1 when a finding is at or above this level (default: error)",
    )
    p.add_argument("--config", type=Path, help="workbench.toml for the audit of the replayed schema and ignores")
    p.add_argument("--no-replay", action="store_true", help="only the file rules: start no PostgreSQL")
    p.add_argument(
        "--idempotent",
        choices=("auto", "yes", "no"),
        default="auto",
        help="whether the project writes re-runnable files (default: detected from the folder)",
    )
    p.add_argument(
        "--statement-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="per-statement timeout during the replay (default 60)",
    )


def _progress(fraction: float, message: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[2K{fraction * 100:3.0f}%  {message}")
        sys.stderr.flush()
        if fraction >= 1.0:
            sys.stderr.write("\r\x1b[2K")


def render(review: MigrationReview, fmt: str) -> str:
    from workbench.core.report.migrations_render import (
        migrations_to_dict,
        render_migrations_markdown,
        render_migrations_text,
    )

    if fmt == "json":
        return json.dumps(migrations_to_dict(review), indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "md":
        return render_migrations_markdown(review)
    return render_migrations_text(review) + "\n"


def exit_status(review: MigrationReview, fail_on: str) -> int:
    threshold = Level(fail_on).rank
    return EXIT_FINDINGS if any(f.level.rank >= threshold for f in review.all_findings) else EXIT_OK


def cmd_migrations(args: argparse.Namespace) -> int:
    from workbench.core.checks.config import AuditConfig
    from workbench.core.checks.config_file import load_config
    from workbench.core.migrations import MigrationConfig, MigrationsError, review_migrations

    audit_config = load_config(args.config) if args.config else AuditConfig()
    config = MigrationConfig(
        idempotent={"auto": None, "yes": True, "no": False}[args.idempotent],
        scaffold=args.scaffold,
        replay=not args.no_replay,
        statement_timeout_s=args.statement_timeout,
        audit=audit_config,
    )
    if args.statement_timeout <= 0:
        config = dataclasses.replace(config, statement_timeout_s=60.0)
    try:
        review = review_migrations(args.path, config, _progress)
    except MigrationsError as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    text = render(review, args.format)
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"workbench: Cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    return exit_status(review, args.fail_on)
