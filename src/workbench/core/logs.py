"""The log file: rotating (1 MB × 5) in the user log directory, with every secret redacted from every record.

`configure_logging()` is called once by the entry point (the CLI's `main`, which also starts the desktop app);
modules log through `logging.getLogger(__name__)` as usual. ``$WORKBENCH_LOG_DIR`` overrides the directory and
``$WORKBENCH_LOG_LEVEL`` (DEBUG, INFO, WARNING) the level of the workbench's own loggers (default INFO).

What is logged: connection attempts (the target as ``user@host:port/db``, never the password), audits (duration,
counts), errors. What is redacted (`RedactingFilter`, on the file handler, so it applies to the records of every
logger, including the formatted exception and stack):

- the value of ``password=…``, ``PGPASSWORD=…`` and other secret-looking keys (``key=value``, ``key: value``, JSON
  ``"key": "value"``, libpq quoting included);
- the password of a URI (``postgresql://user:secret@host``);
- every value given to `register_secret()` (passwords passed to `open_session`, read from or saved into the
  keyring, ``$PGPASSWORD``), wherever it appears, also percent-encoded.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import threading
import urllib.parse
from pathlib import Path

APP_NAME = "pg-review-workbench"
LOG_DIR_ENV = "WORKBENCH_LOG_DIR"
LOG_LEVEL_ENV = "WORKBENCH_LOG_LEVEL"
LOG_FILE_NAME = "workbench.log"
MAX_BYTES = 1024 * 1024
BACKUP_COUNT = 5
REDACTED = "***"
MIN_SECRET_LENGTH = 4  # shorter registered values are left to the patterns (replacing "ab" everywhere is noise)
FORMAT = "%(asctime)s %(levelname)-7s [%(process)d %(threadName)s] %(name)s: %(message)s"

_SECRET_KEY = r"[A-Za-z_]*(?:password|passwd|pwd|passphrase|secret|token|api_?key|access_?key|private_?key)\w*"
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?P<key>\b{_SECRET_KEY})
    (?P<sep>["']?\s*[=:]\s*)
    (?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s&;,"'}})\]]+)
    """
)
_URI_PASSWORD = re.compile(r"(?i)\b(?P<head>[a-z][a-z0-9+.\-]*://[^:/?#@\s'\"]*):(?P<password>[^\s'\"]*)@")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_handler: logging.Handler | None = None
_path: Path | None = None
_configure_lock = threading.Lock()


def log_dir() -> Path:
    """The user log directory of the workbench (``$WORKBENCH_LOG_DIR`` when set)."""
    override = os.environ.get(LOG_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_file() -> Path:
    return log_dir() / LOG_FILE_NAME


def register_secret(value: str | None) -> None:
    """Redact `value` (and its percent-encoded form) from every log record from now on."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value, safe="")}
    with _secrets_lock:
        _secrets.update(f for f in forms if len(f) >= MIN_SECRET_LENGTH)


def redact(text: str) -> str:
    """`text` with every secret replaced by ``***``."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _URI_PASSWORD.sub(lambda m: f"{m['head']}:{REDACTED}@", text)
    return _KEY_VALUE.sub(lambda m: f"{m['key']}{m['sep']}{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record so that its message, exception and stack text hold no secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure_logging(
    directory: Path | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    backup_count: int = BACKUP_COUNT,
    level: str | int | None = None,
) -> Path | None:
    """Log to a rotating file in `directory` (default `log_dir()`); returns the file, None when it cannot be
    written (the workbench then runs without a log file rather than failing). Only the first call configures."""
    global _handler, _path
    register_secret(os.environ.get("PGPASSWORD"))
    with _configure_lock:
        if _handler is not None:
            return _path
        path = (directory or log_dir()) / LOG_FILE_NAME
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
            )
            path.chmod(0o600)
        except OSError:
            return None
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RedactingFilter())
        logging.getLogger().addHandler(handler)
        own = logging.getLogger("workbench")
        chosen = level if level is not None else os.environ.get(LOG_LEVEL_ENV, "").upper() or logging.INFO
        try:
            own.setLevel(chosen)
        except (ValueError, TypeError):
            own.setLevel(logging.INFO)
        _handler, _path = handler, path
    return path


def unconfigure_logging() -> None:
    """Remove the log file handler again (for tests)."""
    global _handler, _path
    with _configure_lock:
        if _handler is not None:
            logging.getLogger().removeHandler(_handler)
            _handler.close()
            _handler, _path = None, None
