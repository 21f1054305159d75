"""Collect a database into an immutable `Snapshot` and save or load it as JSON."""

from workbench.core.snapshot.collect import collect_snapshot
from workbench.core.snapshot.document import SnapshotFormatError, load_snapshot, save_snapshot

__all__ = ["SnapshotFormatError", "collect_snapshot", "load_snapshot", "save_snapshot"]
