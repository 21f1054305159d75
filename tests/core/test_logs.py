"""The log file: where it lives, rotation, and secrets redacted from every record (no server needed)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from workbench.core import logs
from workbench.core.logs import (
    BACKUP_COUNT,
    LOG_FILE_NAME,
    MAX_BYTES,
    configure_logging,
    log_dir,
    redact,
    register_secret,
    unconfigure_logging,
)


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Logging configured into tmp_path (and unconfigured again, so other tests configure their own)."""
    unconfigure_logging()
    monkeypatch.setenv("WORKBENCH_LOG_DIR", str(tmp_path))
    path = configure_logging()
    assert path == tmp_path / LOG_FILE_NAME
    yield path
    unconfigure_logging()


def read_all(folder: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob(f"{LOG_FILE_NAME}*")))


def test_log_dir_is_the_platform_user_log_dir_unless_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_LOG_DIR", raising=False)
    assert log_dir() == Path(platformdirs.user_log_dir("pg-review-workbench", appauthor=False))
    monkeypatch.setenv("WORKBENCH_LOG_DIR", "/somewhere/else")
    assert log_dir() == Path("/somewhere/else")


def test_defaults_are_one_megabyte_times_five() -> None:
    assert (MAX_BYTES, BACKUP_COUNT) == (1024 * 1024, 5)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("host=db password=hunter22 dbname=app", "hunter22"),
        ("host=db password = 'it\\'s a secret' dbname=app", "it\\'s a secret"),
        ('{"password": "p@ss\\"word", "user": "u"}', 'p@ss\\"word'),
        ("postgresql://alice:s3cr3t-pw@db.example.com:5432/app?sslmode=require", "s3cr3t-pw"),
        ("postgres://alice:p%40ss%2Fw0rd@db/app", "p%40ss%2Fw0rd"),
        ("PGPASSWORD=topsecret psql -h db", "topsecret"),
        ("superuser_password: abcdef123", "abcdef123"),
        ("https://user:tok3n@example.com/x", "tok3n"),
        ("api_key=AKIA1234 secret=xyz789", "AKIA1234"),
        ("api_key=AKIA1234 secret=xyz789", "xyz789"),
        ("password=abc;port=5432", "abc"),
    ],
)
def test_redact_removes_secret_values(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert logs.REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "Wrong user name or password for postgres@127.0.0.1:5432/postgres.",
        "Connecting to postgres@127.0.0.1:5432/app (read-only audit session)",
        "postgresql://alice@db.example.com:5432/app",
        "Checks over app finished in 0.12 s: 3 findings (1 error, 2 warn)",
    ],
)
def test_redact_keeps_ordinary_messages(text: str) -> None:
    assert redact(text) == text


def test_registered_secrets_are_redacted_anywhere_also_percent_encoded() -> None:
    value = "Kr4ken/ink@deep sea"
    register_secret(value)
    out = redact(f"x {value} y postgresql://u:Kr4ken%2Fink%40deep%20sea@h z form Kr4ken%2Fink%40deep+sea")
    assert "Kr4ken" not in out


def test_short_registered_values_are_left_to_the_patterns() -> None:
    register_secret("ab")
    assert redact("tab stab") == "tab stab"


def test_every_record_is_redacted_args_exceptions_and_other_loggers(log_file: Path) -> None:
    register_secret("from-the-keyring-1234")
    logging.getLogger("workbench.test").warning("using %s for %s", "from-the-keyring-1234", "db")
    logging.getLogger("some.library").error("dsn was host=h password=lib-secret-99")
    try:
        raise RuntimeError("could not connect to postgresql://u:exc-secret-77@h/db")
    except RuntimeError:
        logging.getLogger("workbench.test").exception("failed")
    logging.getLogger("workbench.test").info("stack", stack_info=True, extra={"x": "password=stack-secret-5"})
    text = read_all(log_file.parent)
    for secret in ("from-the-keyring-1234", "lib-secret-99", "exc-secret-77"):
        assert secret not in text
    assert "using *** for db" in text
    assert "RuntimeError: could not connect to postgresql://u:***@h/db" in text
    assert "Traceback" in text


def test_configured_once_file_is_private(log_file: Path) -> None:
    assert configure_logging() == log_file
    ours = [h for h in logging.getLogger().handlers if getattr(h, "baseFilename", None) == str(log_file)]
    assert len(ours) == 1
    logging.getLogger("workbench").info("hello")
    assert (log_file.stat().st_mode & 0o777) == 0o600
    assert "INFO" in log_file.read_text(encoding="utf-8")


def test_the_file_rotates_keeping_five_backups(tmp_path: Path) -> None:
    unconfigure_logging()
    try:
        path = configure_logging(tmp_path, max_bytes=2_000)
        assert path is not None
        for i in range(400):
            logging.getLogger("workbench.test").info("line %04d %s", i, "x" * 40)
        files = sorted(tmp_path.glob(f"{LOG_FILE_NAME}*"))
        assert [f.name for f in files] == [LOG_FILE_NAME, *(f"{LOG_FILE_NAME}.{n}" for n in range(1, 6))]
        assert all(f.stat().st_size <= 2_000 for f in files)
        assert "line 0399" in path.read_text(encoding="utf-8")
    finally:
        unconfigure_logging()


def test_an_unwritable_log_dir_does_not_stop_the_workbench(tmp_path: Path) -> None:
    unconfigure_logging()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    try:
        assert configure_logging(blocker / "logs") is None
    finally:
        unconfigure_logging()
