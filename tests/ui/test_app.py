"""The entry point: `run_app` with a dsn audits it, saves a screenshot and exits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QImage

from workbench.ui.app import SCREENSHOT_SIZE, run_app

SCHEMA = """
CREATE TABLE public.accounts (id int PRIMARY KEY, email text, api_key text);
GRANT SELECT ON public.accounts TO PUBLIC;
"""


def test_screenshot_after_the_audit(
    fresh_db: str, load_sql: Callable[[str, str], None], tmp_path: Path, config_dir: Path
) -> None:
    load_sql(fresh_db, SCHEMA)
    path = tmp_path / "shots" / "main.png"
    assert run_app(fresh_db, screenshot=path, autorun=True, connection_name="Demo") == 0
    image = QImage(str(path))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    assert not (config_dir / "window.ini").exists()  # a screenshot run leaves the user's layout alone


def test_screenshot_of_a_failed_audit_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "failed.png"
    assert run_app("host=127.0.0.1 port=1 dbname=nothing connect_timeout=2", screenshot=path) == 1
    assert path.exists()


def test_screenshot_without_a_connection(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    assert run_app(screenshot=path) == 0
    assert QImage(str(path)).width() == SCREENSHOT_SIZE[0]
