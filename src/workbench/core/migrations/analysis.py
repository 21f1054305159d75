"""A migration folder read once: every file split into statements, every statement classified."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.migrations.files import MigrationFile, MigrationFolder
from workbench.core.migrations.forms import StatementInfo, describe
from workbench.core.migrations.sqltext import split_statements

__all__ = ["FileAnalysis", "FolderAnalysis", "analyse_folder", "excerpt"]


@dataclass(frozen=True, slots=True)
class FileAnalysis:
    file: MigrationFile
    statements: tuple[StatementInfo, ...]  # of the applied part (up_text)

    @property
    def relative(self) -> str:
        return self.file.relative


@dataclass(frozen=True, slots=True)
class FolderAnalysis:
    folder: MigrationFolder
    files: tuple[FileAnalysis, ...]  # same order as folder.files

    def of(self, relative: str) -> FileAnalysis | None:
        return next((f for f in self.files if f.relative == relative), None)


def analyse_folder(folder: MigrationFolder) -> FolderAnalysis:
    """Split and classify every file of ``folder``."""
    files = tuple(FileAnalysis(f, tuple(describe(s) for s in split_statements(f.up_text))) for f in folder.files)
    return FolderAnalysis(folder, files)


def excerpt(text: str, limit: int = 160) -> str:
    """A statement on one line, shortened for evidence and messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
