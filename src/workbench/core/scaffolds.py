"""Platform scaffolds shipped with the workbench: SQL applied before a migrations replay (roles, schemas).

A light module (no psycopg, no migrations package), so the command line can list the scaffolds cheaply.
"""

from __future__ import annotations

SCAFFOLDS = ("supabase",)


def scaffold_sql(name: str) -> str:
    """The SQL of a scaffold shipped with the workbench (``supabase``)."""
    from importlib import resources

    if name not in SCAFFOLDS:
        raise ValueError(f"unknown scaffold {name!r}; known: {', '.join(SCAFFOLDS)}")
    return resources.files("workbench").joinpath("resources", "scaffold", f"{name}.sql").read_text(encoding="utf-8")
