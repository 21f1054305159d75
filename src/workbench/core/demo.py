"""The demo database: a throwaway PostgreSQL seeded with a realistic application full of defects."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from workbench.core.checks.config import AuditConfig
from workbench.core.embedded import EmbeddedServer, load_sql

DEMO_DATABASE = "workbench_demo"


def resource_text(*parts: str) -> str:
    return (resources.files("workbench").joinpath("resources", *parts)).read_text(encoding="utf-8")


@dataclass
class DemoDatabase:
    server: EmbeddedServer
    dsn: str
    load_seconds: float

    def stop(self) -> None:
        self.server.stop()


def load_demo(dsn: str) -> None:
    """Load the scaffold, the schema and the simulated activity, each file as its own execution (the
    statistics counters are flushed between executions, which the activity relies on)."""
    for name in (("scaffold", "supabase.sql"), ("demo", "schema.sql"), ("demo", "activity.sql")):
        load_sql(dsn, resource_text(*name))


def start_demo(progress: Callable[[str], None] | None = None) -> DemoDatabase:
    """Start a throwaway server (system binaries first, else pgserver) and load the demo schema into it."""
    say = progress or (lambda message: None)
    server = EmbeddedServer()
    say(f"Starting PostgreSQL {server.bindir.major} ({server.bindir.source})")
    server.start()
    try:
        started = time.perf_counter()
        dsn = server.create_database(DEMO_DATABASE)
        say("Loading the demo schema")
        load_demo(dsn)
        return DemoDatabase(server, dsn, time.perf_counter() - started)
    except BaseException:
        server.stop()
        raise


def demo_config() -> AuditConfig:
    """The demo's statistics are minutes old: accept them so the usage-based checks have something to say."""
    return AuditConfig(min_stats_age_days=0)
