"""The command line starts fast and headless: parsing, `checks` and `audit` load no SQLAlchemy, keyring or Qt."""

from __future__ import annotations

import json
import subprocess
import sys

from workbench.core.embedded import load_sql

HEAVY = ("sqlalchemy", "keyring", "PySide6")

# Imports the command line, builds its parser, runs the command in argv (output discarded) and prints which
# heavy packages ended up in sys.modules.
PROBE = f"""
import contextlib, io, json, sys
import workbench.cli.main as cli
cli.build_parser()
if sys.argv[1:]:
    with contextlib.redirect_stdout(io.StringIO()):
        cli.main(sys.argv[1:])
print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in {HEAVY!r})))
"""


def heavy_modules_after(*argv: str) -> list[str]:
    command = [sys.executable, "-c", PROBE, *argv]
    proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded: list[str] = json.loads(proc.stdout)
    return loaded


def test_importing_the_cli_and_building_its_parser_loads_no_sqlalchemy_keyring_or_qt() -> None:
    assert heavy_modules_after() == []


def test_listing_the_checks_loads_no_sqlalchemy_keyring_or_qt() -> None:
    assert heavy_modules_after("checks", "--format", "json") == []


def test_an_audit_loads_no_sqlalchemy_keyring_or_qt(fresh_db: str) -> None:
    load_sql(fresh_db, "create table public.customers (id int primary key, email text);")
    assert heavy_modules_after("audit", "--dsn", fresh_db, "--format", "json") == []


def test_the_review_package_loads_its_store_only_when_a_store_name_is_used() -> None:
    code = (
        "import sys\n"
        "from workbench.core.review import DEFAULT_ITEMS, DecisionStatus\n"
        "from workbench.core.review.status import DecisionStatus as Status\n"
        "assert DecisionStatus is Status and DEFAULT_ITEMS\n"
        "assert 'sqlalchemy' not in sys.modules\n"
        "from workbench.core.review import ReviewStore\n"
        "import workbench.core.review.store as store\n"
        "assert ReviewStore is store.ReviewStore and store.DecisionStatus is Status\n"
        "assert 'sqlalchemy' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
