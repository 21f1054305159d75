"""Review a folder of SQL migrations before it reaches a database (no Qt).

File rules over the folder (versions, complete-schema files, rollbacks, idempotency, lock-heavy forms), then a
replay on a throwaway PostgreSQL that measures the locks and rewrites of every statement, audits the resulting
schema and attributes each audit finding to the migration that created or last altered its object.
"""

from workbench.core.connections.session import CancelToken
from workbench.core.migrations.files import MigrationFile, MigrationFolder, discover_migrations
from workbench.core.migrations.registry import MIGRATION_RULES, MigrationConfig, migration_specs
from workbench.core.migrations.replay import (
    AppliedFile,
    Attribution,
    ReplayFailure,
    ReplayResult,
    replay_migrations,
)
from workbench.core.migrations.review import UNATTRIBUTED, MigrationReview, MigrationsError, review_migrations

__all__ = [
    "MIGRATION_RULES",
    "UNATTRIBUTED",
    "AppliedFile",
    "Attribution",
    "CancelToken",
    "MigrationConfig",
    "MigrationFile",
    "MigrationFolder",
    "MigrationReview",
    "MigrationsError",
    "ReplayFailure",
    "ReplayResult",
    "discover_migrations",
    "migration_specs",
    "replay_migrations",
    "review_migrations",
]
