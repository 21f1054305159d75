"""Find the migration files of a folder, their versions, their order and their rollbacks.

Recognised names (the version is what runners order by):

* ``20240101120000_name.sql`` (Supabase, timestamps), ``20250909_name.sql`` (dates), ``001_name.sql``,
  ``0001-name.sql`` (counters); an optional letter right after the digits (``20250909a_name.sql``) is part of
  the version;
* Flyway: ``V1__name.sql``, ``V1.2__name.sql`` (versioned), ``U1__name.sql`` (undo, a rollback of V1),
  ``R__name.sql`` (repeatable: applied after the versioned files, in name order);
* golang-migrate / dbmate style ``1_name.up.sql`` with ``1_name.down.sql``.

Rollbacks are a down file (``X.down.sql`` next to ``X.sql`` or ``X.up.sql``, ``down/X.sql``,
``rollback(s)/X.sql``, Flyway ``U<version>__*.sql``) or a section inside the file: a comment line such as
``-- rollback``, ``-- ROLLBACK SECTION``, ``-- To rollback this migration:``, ``-- down``, ``-- revert``,
``-- undo``, or the tool markers ``-- migrate:down`` (dbmate), ``-- +goose Down``, ``-- +migrate Down``. Only the
tool markers split the file: what follows them is not applied by the replay (the tool does not apply it either).

Only the folder's own ``*.sql`` files are migrations (sub-folders are not searched, except the down folders).
Files without a version are listed but not applied, as Supabase's CLI skips them, unless no file of the folder
has a version: then every file is applied in name order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["MigrationFile", "MigrationFolder", "discover_migrations"]

FileKind = Literal["versioned", "repeatable", "unversioned"]

_FLYWAY = re.compile(r"^(?P<prefix>[VvUu])(?P<version>\d+(?:[._]\d+)*)__(?P<name>.*)$")
_FLYWAY_REPEATABLE = re.compile(r"^[Rr]__(?P<name>.*)$")
_DIGITS = re.compile(r"^(?P<digits>\d+)(?P<letter>[A-Za-z])?(?:[_\-. ](?P<name>.*))?$")
_DOWN_DIRS = ("down", "rollback", "rollbacks", "undo", "revert")
_TOOL_DOWN = re.compile(r"^\s*--\s*(?:migrate:down|\+goose\s+down|\+migrate\s+down)\b", re.IGNORECASE | re.MULTILINE)
_ROLLBACK_COMMENT = re.compile(
    r"^\s*--+\s*\+?\s*(?:to\s+)?(?:rollback|roll\s+back|down\b|revert|undo|migrate:down|goose\s+down|migrate\s+down)",
    re.IGNORECASE | re.MULTILINE,
)
_DATE_DIGITS = 8  # a version of at least 8 digits is a date or a timestamp, compared as text


@dataclass(frozen=True, slots=True)
class MigrationFile:
    """One migration file. ``relative`` (POSIX path from the folder) is the key of its findings."""

    path: Path
    relative: str
    kind: FileKind
    version: str | None  # as written: "20240101120000", "001", "1.2", "20250909a"
    order_key: tuple[int, str]  # runners' order: counters, then dates/timestamps; see _order_key
    name: str  # the descriptive part of the file name
    text: str  # the whole file
    up_text: str  # what is applied: the file without a tool-marked down section
    rollback: str | None  # "section" (a rollback section in the file), "down file", or None
    down_file: str | None = None  # relative path of the down file, when there is one

    @property
    def digits(self) -> str | None:
        """The leading digits of a digit version (None for Flyway and unversioned files)."""
        if self.version is None or not self.version[:1].isdigit() or "." in self.version:
            return None
        return self.version.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True, slots=True)
class MigrationFolder:
    """The migration files of one folder in the order a runner applies them."""

    root: Path
    files: tuple[MigrationFile, ...]  # every migration file (not down files), in apply order
    down_files: tuple[str, ...]  # relative paths of the down/undo files found
    unreadable: tuple[tuple[str, str], ...] = ()  # (relative path, reason)

    @property
    def applied(self) -> tuple[MigrationFile, ...]:
        """The files a replay applies, in order."""
        if not any(f.kind != "unversioned" for f in self.files):
            return self.files
        return tuple(f for f in self.files if f.kind != "unversioned")

    def file(self, relative: str) -> MigrationFile | None:
        return next((f for f in self.files if f.relative == relative), None)


def _order_key(version: str, flyway: bool) -> tuple[int, str]:
    """Counters sort numerically (1 < 2 < 10); dates and timestamps sort as text padded on the right, so the
    date 20250909 comes before 20250909120000 and both after 20240101120000; Flyway versions part by part."""
    if flyway:
        parts = [int(p) for p in re.split(r"[._]", version)]
        while len(parts) > 1 and parts[-1] == 0:
            parts.pop()
        return (0, ".".join(f"{p:012d}" for p in parts))
    match = _DIGITS.match(version)
    assert match is not None
    digits, letter = match.group("digits"), (match.group("letter") or "").lower()
    if len(digits) >= _DATE_DIGITS:
        return (1, digits.ljust(24, "0") + letter)
    return (0, f"{int(digits):012d}" + letter)


def _read(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _parse_name(stem: str) -> tuple[FileKind, str | None, str, bool]:
    """(kind, version, descriptive name, is Flyway undo) of a file name without ``.sql``."""
    flyway = _FLYWAY.match(stem)
    if flyway:
        undo = flyway.group("prefix") in "Uu"
        return "versioned", flyway.group("version"), flyway.group("name"), undo
    repeatable = _FLYWAY_REPEATABLE.match(stem)
    if repeatable:
        return "repeatable", None, repeatable.group("name"), False
    digits = _DIGITS.match(stem)
    if digits:
        version = digits.group("digits") + (digits.group("letter") or "")
        return "versioned", version, digits.group("name") or "", False
    return "unversioned", None, stem, False


def _split_down(text: str) -> tuple[str, bool]:
    """The applied part of a file with a tool-marked down section, and whether it has one."""
    match = _TOOL_DOWN.search(text)
    if match is None:
        return text, False
    return text[: match.start()], True


def discover_migrations(root: Path) -> MigrationFolder:
    """Read the ``*.sql`` files of ``root`` (a folder, or one file) and put them in apply order."""
    root = Path(root)
    if root.is_file():
        candidates = [root]
        base = root.parent
    else:
        candidates = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() == ".sql")
        base = root
    down_dirs = [base / d for d in _DOWN_DIRS if (base / d).is_dir()]
    down_in_dirs = {p.name: p for d in down_dirs for p in sorted(d.glob("*.sql"))}

    entries: list[tuple[Path, str]] = []
    down_files: list[str] = []
    undo_versions: dict[tuple[int, str], str] = {}
    unreadable: list[tuple[str, str]] = []
    for path in candidates:
        relative = path.relative_to(base).as_posix()
        stem = path.name[: -len(".sql")]
        if stem.lower().endswith(".down"):
            down_files.append(relative)
            continue
        kind, version, _name, undo = _parse_name(stem)
        if undo and version is not None:
            undo_versions[_order_key(version, flyway=True)] = relative
            down_files.append(relative)
            continue
        entries.append((path, relative))
    down_files.extend(p.relative_to(base).as_posix() for p in down_in_dirs.values())

    files: list[MigrationFile] = []
    for path, relative in entries:
        try:
            text = _read(path)
        except OSError as exc:
            unreadable.append((relative, exc.strerror or str(exc)))
            continue
        stem = path.name[: -len(".sql")]
        base_stem = stem[: -len(".up")] if stem.lower().endswith(".up") else stem
        kind, version, name, _undo = _parse_name(base_stem)
        flyway = bool(_FLYWAY.match(base_stem))
        order_key = _order_key(version, flyway) if version is not None else (2 if kind == "repeatable" else 3, "")
        up_text, tool_down = _split_down(text)
        down_file = _find_down_file(path, base_stem, base, down_in_dirs)
        if down_file is None and flyway and version is not None:
            down_file = undo_versions.get(order_key)
        rollback: str | None
        if tool_down or _ROLLBACK_COMMENT.search(text):
            rollback = "section"
        elif down_file is not None:
            rollback = "down file"
        else:
            rollback = None
        files.append(
            MigrationFile(
                path=path,
                relative=relative,
                kind=kind,
                version=version,
                order_key=order_key,
                name=name,
                text=text,
                up_text=up_text,
                rollback=rollback,
                down_file=down_file,
            )
        )
    files.sort(key=lambda f: (f.order_key, f.relative))
    return MigrationFolder(base, tuple(files), tuple(sorted(down_files)), tuple(unreadable))


def _find_down_file(path: Path, base_stem: str, base: Path, down_in_dirs: dict[str, Path]) -> str | None:
    for name in (f"{base_stem}.down.sql", f"{base_stem}.DOWN.sql"):
        sibling = path.with_name(name)
        if sibling.is_file():
            return sibling.relative_to(base).as_posix()
    for name in (path.name, f"{base_stem}.sql", f"{base_stem}.down.sql"):
        found = down_in_dirs.get(name)
        if found is not None:
            return found.relative_to(base).as_posix()
    return None
