"""Stored and printed JSON stays plain JSON, whichever way it is encoded for speed."""

from __future__ import annotations

import json

from workbench.core.report.json_text import dumps_items, dumps_lines, loads_items

HOSTILE = [
    {"key": 'we\'ird; "schema".tåble; DROP TABLE x; --', "note": "line one\nline two\r\n", "n": 1},
    "Ünïcødé ☃",
    [],
    None,
]


def test_items_round_trip_and_older_single_line_arrays_still_read() -> None:
    text = dumps_items(HOSTILE)
    assert json.loads(text) == HOSTILE
    assert loads_items(text) == HOSTILE
    assert loads_items(dumps_items([])) == []
    assert loads_items(json.dumps(HOSTILE)) == HOSTILE  # review stores written before this format


def test_lines_output_is_the_same_document() -> None:
    document = {"tool": {"name": "workbench"}, "findings": HOSTILE, "empty": [], "n": 3}
    assert json.loads(dumps_lines(document)) == document
