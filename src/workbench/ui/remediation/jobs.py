"""Background work of the script editor: dry run, apply, save. Plain callables for `Worker`; no widget here."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from workbench.core.connections.session import make_conninfo
from workbench.core.remediation import (
    ApplyRefused,
    ApplyResult,
    CancelToken,
    Confirmation,
    DryRunResult,
    apply,
    dry_run,
)
from workbench.ui.workers import WorkerContext


class _ScriptJob:
    """A script to run on one connection; `cancel()` is safe from the GUI thread at any time."""

    def __init__(self, dsn: str, script: str, *, password: str | None = None):
        self.dsn = dsn
        self.script = script
        self._password = password
        self.token = CancelToken()

    def cancel(self) -> None:
        self.token.cancel()

    def _conninfo(self) -> str:
        full = make_conninfo(self.dsn, password=self._password)
        self._password = None  # not needed any more; do not keep it around
        return full


class DryRunJob(_ScriptJob):
    """Every statement inside one transaction that is rolled back (raises Cancelled or ConnectionFailed)."""

    def __call__(self, context: WorkerContext) -> DryRunResult:
        context.progress(0.0, "Connecting")
        return dry_run(self._conninfo(), self.script, progress=context.progress, cancel=self.token)


@dataclass(frozen=True, slots=True)
class Refused:
    """The core refused to apply (nothing was run); `message` says why."""

    message: str


class ApplyJob(_ScriptJob):
    """The confirmed apply; returns the result, or `Refused` when the confirmation does not hold."""

    def __init__(self, dsn: str, script: str, confirmation: Confirmation, *, password: str | None = None):
        super().__init__(dsn, script, password=password)
        self.confirmation = confirmation

    def __call__(self, context: WorkerContext) -> ApplyResult | Refused:
        context.progress(0.0, "Connecting")
        try:
            return apply(
                self._conninfo(), self.script, confirm=self.confirmation, progress=context.progress, cancel=self.token
            )
        except ApplyRefused as exc:
            return Refused(str(exc))


@dataclass(frozen=True, slots=True)
class Saved:
    path: Path
    error: str | None = None


class SaveJob:
    """Write the script as UTF-8 (atomically: a temporary file renamed over the target)."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text

    def __call__(self, _context: WorkerContext) -> Saved:
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        try:
            temporary.write_text(self.text, encoding="utf-8", newline="\n")
            temporary.replace(self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            return Saved(self.path, exc.strerror or str(exc))
        return Saved(self.path)
