"""Review a folder of migrations: the file rules, then (optionally) the replay with its traced locks and audit."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from workbench.core.checks.runner import AuditResult
from workbench.core.connections.session import CancelToken
from workbench.core.embedded import EmbeddedServer
from workbench.core.migrations.analysis import FolderAnalysis, analyse_folder
from workbench.core.migrations.files import MigrationFile, discover_migrations
from workbench.core.migrations.registry import MIGRATION_RULES, MigrationConfig, migration_specs, with_discriminators
from workbench.core.migrations.replay import ReplayResult, replay_migrations
from workbench.core.model import Finding

__all__ = ["MigrationReview", "MigrationsError", "review_migrations"]

Progress = Callable[[float, str], None]

UNATTRIBUTED = ""  # the group of audit findings no migration file can be named for


class MigrationsError(Exception):
    """The path holds no migrations to review; the message says why, in one sentence."""


@dataclass(frozen=True, slots=True)
class MigrationReview:
    """Everything a migrations review found. ``findings`` are the migration rules' findings (file rules and
    measured ones); the database audit of the replayed schema is in ``replay.audit``."""

    folder: str
    analysis: FolderAnalysis
    config: MigrationConfig
    rules_run: tuple[str, ...]
    findings: tuple[Finding, ...]
    replay: ReplayResult | None
    started_at: str
    duration_s: float

    @property
    def files(self) -> tuple[MigrationFile, ...]:
        return self.analysis.folder.files

    @property
    def audit(self) -> AuditResult | None:
        return self.replay.audit if self.replay is not None else None

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        """Migration findings and the audit's findings: what the exit status is computed over."""
        return self.findings + (self.audit.findings if self.audit is not None else ())

    def file_of(self, finding: Finding) -> str:
        """The migration file a finding belongs to: its own file, else the file that last altered (or created)
        its object; ``UNATTRIBUTED`` ("") when unknown or created by the scaffold."""
        if finding.object.kind == "file" and finding.object.name:
            return finding.object.name
        if self.replay is None:
            return UNATTRIBUTED
        attribution = self.replay.attribution_of(finding)
        if attribution is None:
            return UNATTRIBUTED
        name = attribution.last_altered_in or attribution.created_in
        return name if name and self.analysis.folder.file(name) is not None else UNATTRIBUTED

    def by_file(self) -> dict[str, list[Finding]]:
        """Findings grouped by migration file (files in apply order, then ``UNATTRIBUTED``)."""
        groups: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.all_findings:
            groups[self.file_of(finding)].append(finding)
        order = [f.relative for f in self.files] + [UNATTRIBUTED]
        return {name: groups[name] for name in order if name in groups}


def review_migrations(
    path: Path,
    config: MigrationConfig | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    server: EmbeddedServer | None = None,
) -> MigrationReview:
    """Run the file rules over ``path`` (a folder of ``*.sql`` files, or one file), then replay it unless
    ``config.replay`` is false. Raises MigrationsError when there is nothing to review, EmbeddedServerError
    when no PostgreSQL can start for the replay, Cancelled after ``cancel.cancel()``."""
    config = config or MigrationConfig()
    report = progress or (lambda fraction, message: None)
    began = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    path = Path(path)
    if not path.exists():
        raise MigrationsError(f"{path} does not exist.")
    folder = discover_migrations(path)
    if not folder.files:
        raise MigrationsError(f"{path} holds no .sql migration files.")
    report(0.0, f"Reading {len(folder.files)} migration files")
    analysis = analyse_folder(folder)
    migration_specs()  # registers the rules
    findings: list[Finding] = []
    ran: list[str] = []
    for rule_id in sorted(MIGRATION_RULES):
        rule = MIGRATION_RULES[rule_id]
        if rule.run is not None:
            findings.extend(rule.run(analysis, config))
        if rule.run is not None or config.replay:
            ran.append(rule_id)
    replay: ReplayResult | None = None
    if config.replay:
        replay = replay_migrations(analysis, config, lambda f, m: report(0.05 + 0.95 * f, m), cancel, server)
        # Measured findings replace the pattern-only ones for every file the replay ran.
        done = replay.replayed_files
        findings = [f for f in findings if not (f.check == "migration_unsafe_operation" and f.object.name in done)]
        findings.extend(replay.findings)
    findings = [f for f in findings if config.audit.ignored.get(f.fingerprint) is None]
    report(1.0, "Review finished")
    return MigrationReview(
        folder=str(path),
        analysis=analysis,
        config=config,
        rules_run=tuple(ran),
        findings=with_discriminators(findings),
        replay=replay,
        started_at=started_at,
        duration_s=round(time.perf_counter() - began, 4),
    )
