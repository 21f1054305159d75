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
