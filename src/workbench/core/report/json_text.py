"""Large JSON documents as text people can still read, encoded fast.

`json.dumps(indent=2)` runs the pure-Python encoder (the C one ignores indentation): 0.25 s for the 4,000
findings of a 2,000-table audit. Here each top-level key and each item of a top-level list gets its own line,
and every value is encoded by the C encoder.
"""

from __future__ import annotations

import json
from typing import Any


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def dumps_lines(document: dict[str, Any]) -> str:
    """`document` as JSON: one line per top-level key, and one per item of a top-level list."""
    lines = []
    for key, value in document.items():
        head = f"  {_compact(str(key))}: "
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {_compact(item)}" for item in value)
            lines.append(f"{head}[\n{items}\n  ]")
        else:
            lines.append(head + _compact(value))
    return "{\n" + ",\n".join(lines) + "\n}" if lines else "{}"


def dumps_items(items: list[Any]) -> str:
    """A JSON array with one item per line (JSON strings hold no raw line breaks), for `loads_items`."""
    return "[\n" + ",\n".join(_compact(item) for item in items) + "\n]" if items else "[]"


def loads_items(text: str) -> list[Any]:
    """The array written by `dumps_items`, decoded an item at a time: one `json.loads` over megabytes holds
    the GIL for a tenth of a second and freezes the GUI thread meanwhile. Any other JSON array is decoded
    whole."""
    if not text.startswith("[\n"):
        value = json.loads(text)
        if not isinstance(value, list):
            raise ValueError("not a JSON array")
        return value
    return [json.loads(line.removesuffix(",")) for line in text[2:-2].split("\n")]
