"""A snapshot as a JSON document: saved with a review, re-analysed offline, diffed against another."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

from workbench.core.model import Snapshot

FORMAT = "workbench-snapshot"
FORMAT_VERSION = 1


class SnapshotFormatError(Exception):
    """The file is not a snapshot this version can read; the message says why."""


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.compare}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(inner[0], value) if len(inner) == 1 else value
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(_decode(a, v) for a, v in zip(args, value, strict=True))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        fields = {f.name for f in dataclasses.fields(tp) if f.init and f.compare}
        return tp(**{k: _decode(hints[k], v) for k, v in value.items() if k in fields})
    return value


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "snapshot": _encode(snapshot)}


def snapshot_from_dict(document: dict[str, Any]) -> Snapshot:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotFormatError("This file is not a workbench snapshot.")
    version = document.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise SnapshotFormatError(
            f"This snapshot was written by a newer workbench (format {version}); please upgrade to read it."
        )
    try:
        result = _decode(Snapshot, document["snapshot"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotFormatError(f"The snapshot file is damaged: {exc}") from None
    assert isinstance(result, Snapshot)
    return result


def dumps_sliced(value: Any, slice_size: int = 200) -> str:
    """`json.dumps(value, ensure_ascii=False, default=str)`, encoded a slice of each long list at a time.

    The C encoder holds the GIL for a whole call: one call over a large catalog would freeze the GUI thread
    for a third of a second while a worker thread stores a snapshot. The text is identical.
    """
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}: {dumps_sliced(v, slice_size)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple) and len(value) > slice_size:
        slices = (
            json.dumps(value[i : i + slice_size], ensure_ascii=False, default=str)[1:-1]
            for i in range(0, len(value), slice_size)
        )
        return "[" + ", ".join(slices) + "]"
    return json.dumps(value, ensure_ascii=False, default=str)


def snapshot_json(snapshot: Snapshot) -> str:
    """The snapshot document as JSON text (see `snapshot_to_dict`)."""
    return dumps_sliced(snapshot_to_dict(snapshot))


def save_snapshot(snapshot: Snapshot, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(snapshot_json(snapshot), encoding="utf-8")
    tmp.replace(path)


def load_snapshot(path: Path) -> Snapshot:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotFormatError(f"Cannot read the snapshot {path}: {exc}") from None
    return snapshot_from_dict(document)
