"""A comparison (schema differences and finding differences) as JSON, text or Markdown."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from workbench import __version__
from workbench.core.compare import FindingsDiff, SnapshotDiff
from workbench.core.model import Finding


@dataclass(frozen=True, slots=True)
class Comparison:
    schema: SnapshotDiff
    findings: FindingsDiff
    a_label: str
    b_label: str
    sync_script: str | None = None

    @property
    def has_differences(self) -> bool:
        return self.schema.has_differences or bool(self.findings.only_in_a or self.findings.only_in_b)


def _finding(f: Finding) -> dict[str, Any]:
    return {"fingerprint": f.fingerprint, "check": f.check, "level": f.level.value, "key": f.key, "detail": f.detail}


def comparison_to_dict(c: Comparison) -> dict[str, Any]:
    s = c.schema
    return {
        "tool": {"name": "workbench", "version": __version__},
        "a": c.a_label,
        "b": c.b_label,
        "schema": {
            "only_in_a": [{"kind": o.kind, "key": o.key} for o in s.only_in_a],
            "only_in_b": [{"kind": o.kind, "key": o.key} for o in s.only_in_b],
            "different": [
                {
                    "kind": d.kind,
                    "key": d.key,
                    "attributes": [{"name": x.name, "a": x.a, "b": x.b} for x in d.attributes],
                }
                for d in s.different
            ],
            "identical": s.identical,
        },
        "findings": {
            "only_in_a": [_finding(f) for f in c.findings.only_in_a],
            "only_in_b": [_finding(f) for f in c.findings.only_in_b],
            "in_both": len(c.findings.in_both),
            "level_changes": [
                {"fingerprint": a.fingerprint, "a": a.level.value, "b": b.level.value}
                for a, b in c.findings.level_changes
            ],
        },
        "sync_script": c.sync_script,
    }


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 100 else text[:97] + "…"


def render_comparison_text(c: Comparison) -> str:
    s = c.schema
    out = [f"A: {c.a_label}", f"B: {c.b_label}", ""]
    out += [f"only in A  {o.kind:18} {o.key}" for o in s.only_in_a]
    out += [f"only in B  {o.kind:18} {o.key}" for o in s.only_in_b]
    for d in s.different:
        out.append(f"different  {d.kind:18} {d.key}")
        out += [f"{'':11}{'':18}   {x.name}: {_short(x.a)}  →  {_short(x.b)}" for x in d.attributes]
    out += [f"finding only in A  {f.level.value:5} {f.fingerprint}" for f in c.findings.only_in_a]
    out += [f"finding only in B  {f.level.value:5} {f.fingerprint}" for f in c.findings.only_in_b]
    out += [
        f"level changed      {a.level.value} → {b.level.value} {a.fingerprint}" for a, b in c.findings.level_changes
    ]
    out += [
        "",
        f"{len(s.only_in_a)} only in A, {len(s.only_in_b)} only in B, {len(s.different)} different, "
        f"{s.identical} identical; findings: {len(c.findings.only_in_a)} only in A, "
        f"{len(c.findings.only_in_b)} only in B, {len(c.findings.in_both)} in both",
    ]
    return "\n".join(out)


def _cell(value: Any) -> str:
    return _short(value).replace("|", "\\|").replace("\n", " ")


def render_comparison_markdown(c: Comparison) -> str:
    s = c.schema
    out = [
        "# Comparison",
        "",
        f"- **A**: {c.a_label}",
        f"- **B**: {c.b_label}",
        f"- **Objects**: {len(s.only_in_a)} only in A, {len(s.only_in_b)} only in B, {len(s.different)} different, "
        f"{s.identical} identical",
        f"- **Findings**: {len(c.findings.only_in_a)} only in A, {len(c.findings.only_in_b)} only in B, "
        f"{len(c.findings.in_both)} in both",
        "",
    ]
    if s.only_in_a or s.only_in_b:
        out += ["## Objects on one side only", "", "| Side | Kind | Object |", "|---|---|---|"]
        out += [f"| A | {o.kind} | `{_cell(o.key)}` |" for o in s.only_in_a]
        out += [f"| B | {o.kind} | `{_cell(o.key)}` |" for o in s.only_in_b]
        out.append("")
    if s.different:
        out += ["## Different objects", "", "| Kind | Object | Attribute | A | B |", "|---|---|---|---|---|"]
        for d in s.different:
            out += [f"| {d.kind} | `{_cell(d.key)}` | {x.name} | {_cell(x.a)} | {_cell(x.b)} |" for x in d.attributes]
        out.append("")
    fd = c.findings
    if fd.only_in_a or fd.only_in_b or fd.level_changes:
        out += ["## Finding differences", "", "| Side | Level | Check | Object |", "|---|---|---|---|"]
        out += [f"| only A | {f.level.value} | {f.check} | `{_cell(f.key)}` |" for f in fd.only_in_a]
        out += [f"| only B | {f.level.value} | {f.check} | `{_cell(f.key)}` |" for f in fd.only_in_b]
        out += [
            f"| level {a.level.value}→{b.level.value} | | {a.check} | `{_cell(a.key)}` |" for a, b in fd.level_changes
        ]
        out.append("")
    if c.sync_script:
        out += ["## Security sync script (B → A)", "", "```sql", c.sync_script.rstrip(), "```", ""]
    return "\n".join(out)
