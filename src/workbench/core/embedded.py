"""A throwaway PostgreSQL server for the demo and the tests.

The server lives in a fresh temporary directory (data directory, private unix socket directory, log) and is
removed again by :meth:`EmbeddedServer.stop` (also registered with :mod:`atexit`). It uses the system's
PostgreSQL binaries when they are found, else the binaries bundled with the ``pgserver`` wheel.

Connections:

* over the private unix socket as the superuser ``postgres`` with trust authentication (:meth:`dsn`);
* over TCP on ``127.0.0.1:<port>`` with scram-sha-256 password authentication (:meth:`host_dsn`), so that
  tests can exercise real authentication failures.

PostgreSQL refuses to run as root: when this process is root, ``initdb``/``pg_ctl``/``postgres`` run as the
unprivileged system user ``workbench-pg`` (created on first use, ``nobody`` when that fails).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

import psycopg
from psycopg import sql as pgsql
from psycopg.conninfo import make_conninfo

__all__ = [
    "SERVICE_USER",
    "BinDir",
    "EmbeddedServer",
    "EmbeddedServerError",
    "find_bindirs",
    "load_sql",
]

Source = Literal["system", "pgserver"]

SERVICE_USER = "workbench-pg"
"""System user that runs the server when this process is root."""

_REQUIRED = ("initdb", "pg_ctl", "postgres")
_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; keep room for "/.s.PGSQL.NNNNN"
_TIMEOUT = 120.0


class EmbeddedServerError(RuntimeError):
    """The throwaway server could not be found, started or used."""


@dataclass(frozen=True)
class BinDir:
    """A directory holding ``initdb``, ``pg_ctl`` and ``postgres``."""

    path: Path
    major: int
    source: Source


# ----------------------------------------------------------------------------------------------------
# Discovery


def _pgserver_bindir() -> Path | None:
    """The ``bin`` directory of the PostgreSQL bundled with the pgserver wheel (no import)."""
    try:
        spec = importlib.util.find_spec("pgserver")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "pginstall" / "bin"
        if candidate.is_dir():
            return candidate
    return None


def _has_binaries(path: Path) -> bool:
    return all(os.access(path / name, os.X_OK) for name in _REQUIRED)


def _server_major(path: Path) -> int | None:
    """Major version from ``postgres --version`` (``None`` when it does not run)."""
    try:
        out = subprocess.run(
            [str(path / "postgres"), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION_RE.search(out.stdout)
    if out.returncode != 0 or match is None:
        return None
    return int(match.group(1))


def _system_candidates() -> list[Path]:
    found: list[Path] = []
    for name in ("pg_ctl", "initdb"):
        exe = shutil.which(name)
        if exe:
            found.append(Path(exe).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=False)
            if out.returncode == 0 and out.stdout.strip():
                found.append(Path(out.stdout.strip()))

    def version_key(path: Path) -> tuple[int, ...]:
        digits = re.findall(r"\d+", path.parent.name)
        return tuple(int(d) for d in digits)

    debian = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.is_dir()]
    found.extend(sorted(debian, key=version_key, reverse=True))
    return found


def find_bindirs() -> list[BinDir]:
    """Every usable PostgreSQL installation: system ones first, then pgserver's bundled binaries.

    System binaries are looked up on ``PATH`` (``pg_ctl``, ``initdb``; symlinks resolved), through
    ``pg_config --bindir`` and under ``/usr/lib/postgresql/*/bin``. Duplicates (same resolved directory) are
    listed once.
    """
    pgserver_bin = _pgserver_bindir()
    pgserver_resolved = pgserver_bin.resolve() if pgserver_bin is not None else None
    candidates: list[tuple[Path, Source]] = [(p, "system") for p in _system_candidates()]
    if pgserver_bin is not None:
        candidates.append((pgserver_bin, "pgserver"))

    result: list[BinDir] = []
    seen: set[Path] = set()
    for path, source in candidates:
        try:
            resolved = path.resolve()
        except OSError:
            continue
        if resolved in seen or not _has_binaries(resolved):
            continue
        seen.add(resolved)
        major = _server_major(resolved)
        if major is None:
            continue
        if resolved == pgserver_resolved:
            source = "pgserver"
        result.append(BinDir(path=resolved, major=major, source=source))
    return result


def _pkglibdir(bindir: Path) -> Path | None:
    pg_config = bindir / "pg_config"
    if os.access(pg_config, os.X_OK):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [str(pg_config), "--pkglibdir"], capture_output=True, text=True, timeout=30, check=False
            )
            if out.returncode == 0 and out.stdout.strip():
                return Path(out.stdout.strip())
    for candidate in (bindir.parent / "lib" / "postgresql", bindir.parent / "lib"):
        if candidate.is_dir():
            return candidate
    return None


def _has_pg_stat_statements(bindir: Path) -> bool:
    libdir = _pkglibdir(bindir)
    if libdir is None:
        return False
    return any((libdir / f"pg_stat_statements{suffix}").is_file() for suffix in (".so", ".dylib", ".dll"))


# ----------------------------------------------------------------------------------------------------
# Running as root


@dataclass(frozen=True)
class _Account:
    name: str
    uid: int
    gid: int


_account_cache: list[_Account] = []


def _service_account() -> _Account | None:
    """The unprivileged account to run PostgreSQL as, or ``None`` when this process is not root."""
    if os.geteuid() != 0:
        return None
    if _account_cache:
        return _account_cache[0]
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
                capture_output=True,
                timeout=60,
                check=False,
            )
        try:
            entry = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            try:
                entry = pwd.getpwnam("nobody")
            except KeyError as exc:
                raise EmbeddedServerError(
                    f"PostgreSQL cannot run as root and neither the user {SERVICE_USER!r} could be created "
                    "nor the user 'nobody' was found; run the tests as an unprivileged user."
                ) from exc
    account = _Account(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)
    _account_cache.append(account)
    return account


def _run(
    cmd: list[str], account: _Account | None, cwd: Path, timeout: float = _TIMEOUT
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", LANG="C", TZ="UTC")
    if account is not None:
        env.update(HOME=str(cwd), USER=account.name, LOGNAME=account.name)
        return subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            timeout=timeout,
            check=False,
            user=account.uid,
            group=account.gid,
            extra_groups=[],
        )
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False)


def _traversable_by_others(path: Path) -> bool:
    for part in (path, *path.parents):
        try:
            if not part.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _temp_root(account: _Account | None) -> Path:
    root = Path(tempfile.gettempdir())
    too_long = len(str(root)) > _SOCKET_PATH_MAX - 40
    if too_long or (account is not None and not _traversable_by_others(root)):
        root = Path("/tmp")
    return root


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty server log)"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) counts as gone
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


# ----------------------------------------------------------------------------------------------------
# The server


class EmbeddedServer:
    """A throwaway PostgreSQL cluster in a temporary directory; use it as a context manager."""

    def __init__(self, bindir: BinDir | None = None, *, prefer: str = "system") -> None:
        if prefer not in ("system", "pgserver"):
            raise ValueError(f"prefer must be 'system' or 'pgserver', not {prefer!r}")
        if bindir is None:
            bindir = self._choose(prefer)
        self.bindir: BinDir = bindir
        self.major: int = bindir.major
        self.superuser: str = "postgres"
        self.superuser_password: str = secrets.token_urlsafe(18)
        self.port: int = 0
        self.pid: int | None = None
        self.startup_seconds: float | None = None
        self.has_pg_stat_statements: bool = _has_pg_stat_statements(bindir.path)
        self.base_dir: Path | None = None
        self._exe_dir: Path = bindir.path
        self._account: _Account | None = None
        self._started = False

    @staticmethod
    def _choose(prefer: str) -> BinDir:
        found = find_bindirs()
        order: tuple[Source, ...] = ("system", "pgserver") if prefer == "system" else ("pgserver", "system")
        for source in order:
            for candidate in found:
                if candidate.source == source:
                    return candidate
        raise EmbeddedServerError(
            "No PostgreSQL server binaries were found: install PostgreSQL (initdb, pg_ctl and postgres on "
            "PATH or under /usr/lib/postgresql/*/bin) or the 'pgserver' Python package."
        )

    # -- paths -----------------------------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self._base() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._base() / "sock"

    @property
    def log_path(self) -> Path:
        return self._base() / "server.log"

    @property
    def is_running(self) -> bool:
        return self._started and self.pid is not None and _pid_alive(self.pid)

    def _base(self) -> Path:
        if self.base_dir is None:
            raise EmbeddedServerError("The embedded server has not been started.")
        return self.base_dir

    def _exe(self, name: str) -> str:
        return str(self._exe_dir / name)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Create a cluster in a fresh temporary directory and start it (a no-op when already started)."""
        if self._started:
            return
        began = time.perf_counter()
        self._account = _service_account()
        self.base_dir = Path(tempfile.mkdtemp(prefix="workbench-pg-", dir=_temp_root(self._account)))
        atexit.register(self.stop)
        self._started = True
        try:
            self._prepare_dirs()
            self._ensure_executable()
            self._initdb()
            self._configure()
            self._launch()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - began

    def _prepare_dirs(self) -> None:
        base = self._base()
        base.chmod(0o700)
        self.socket_dir.mkdir(mode=0o700)
        if self._account is not None:
            for path in (base, self.socket_dir):
                os.chown(path, self._account.uid, self._account.gid)

    def _run_failure(self) -> str | None:
        """Why the service account cannot run ``postgres --version`` (``None`` when it can)."""
        try:
            probe = _run([self._exe("postgres"), "--version"], self._account, self._base(), timeout=30)
        except OSError as exc:
            return str(exc)
        return None if probe.returncode == 0 else (probe.stderr or probe.stdout).strip()

    def _ensure_executable(self) -> None:
        """As root, check the service account can run the binaries; copy pgserver's tree when it cannot."""
        if self._account is None:
            return
        failure = self._run_failure()
        if failure is None:
            return
        if self.bindir.source != "pgserver":
            raise EmbeddedServerError(
                f"The user {self._account.name!r} cannot run {self._exe('postgres')} (every parent directory "
                f"must be readable and traversable by others): {failure}"
            )
        # pgserver's binaries are relocatable: copy the install tree (bin, lib, share) next to the cluster,
        # keeping the wheel's layout (the binaries find libpq through RPATH $ORIGIN/../../../pgserver.libs).
        # This happens when the wheel lives below a private directory such as /root.
        install = self.bindir.path.parent
        root = self._base() / "pgserver-copy"
        target = root / "pgserver" / "pginstall"
        shutil.copytree(install, target, symlinks=True)
        libs = install.parent.parent / "pgserver.libs"
        if libs.is_dir():
            shutil.copytree(libs, root / "pgserver.libs", symlinks=True)
        for path in (root, *root.rglob("*")):
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(mode | stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0))
        self._exe_dir = target / "bin"
        failure = self._run_failure()
        if failure is not None:
            raise EmbeddedServerError(
                f"The user {self._account.name!r} cannot run the PostgreSQL binaries copied to {target}: {failure}"
            )

    def _initdb(self) -> None:
        base = self._base()
        pwfile = base / "pwfile"
        pwfile.write_text(self.superuser_password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        if self._account is not None:
            os.chown(pwfile, self._account.uid, self._account.gid)
        try:
            out = _run(
                [
                    self._exe("initdb"),
                    "--pgdata",
                    str(self.data_dir),
                    "--username",
                    self.superuser,
                    "--pwfile",
                    str(pwfile),
                    "--auth",
                    "trust",
                    "--encoding",
                    "UTF8",
                    "--locale",
                    "C",
                    "--no-sync",
                ],
                self._account,
                base,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if out.returncode != 0:
            raise EmbeddedServerError(
                f"initdb ({self.bindir.path}) failed with exit code {out.returncode}:\n"
                f"{(out.stderr or out.stdout).strip()}"
            )

    def _configure(self) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "'" + str(self.socket_dir).replace("'", "''") + "'",
            "max_connections": "50",
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
            "track_counts": "on",
            "password_encryption": "'scram-sha-256'",
            "logging_collector": "off",
            "timezone": "'UTC'",
            "log_timezone": "'UTC'",
        }
        if self.has_pg_stat_statements:
            settings["shared_preload_libraries"] = "'pg_stat_statements'"
        lines = ["", "# workbench embedded server", *(f"{key} = {value}" for key, value in settings.items())]
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n".join(lines) + "\n")
        (self.data_dir / "pg_hba.conf").write_text(
            "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
            "local   all       all                 trust\n"
            "host    all       all   127.0.0.1/32  scram-sha-256\n",
            encoding="utf-8",
        )

    def _launch(self) -> None:
        log_excerpt = ""
        for _attempt in range(3):
            self.port = _free_port()
            out = _run(
                [
                    self._exe("pg_ctl"),
                    "--pgdata",
                    str(self.data_dir),
                    "--log",
                    str(self.log_path),
                    "--options",
                    f"-p {self.port}",
                    "--wait",
                    "--timeout",
                    "60",
                    "start",
                ],
                self._account,
                self._base(),
            )
            if out.returncode == 0:
                self.pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
                return
            log_excerpt = _tail(self.log_path)
            if "could not bind" not in log_excerpt and "already in use" not in log_excerpt:
                break
        raise EmbeddedServerError(
            f"PostgreSQL {self.major} ({self.bindir.path}) did not start; last lines of its log:\n{log_excerpt}"
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its temporary directory. Safe to call twice."""
        atexit.unregister(self.stop)
        base = self.base_dir
        if base is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists():
                for mode in ("fast", "immediate"):
                    cmd = [self._exe("pg_ctl"), "-D", str(self.data_dir), "--mode", mode, "--wait", "stop"]
                    out = _run(cmd, self._account, base, timeout=60)
                    if out.returncode == 0:
                        break
            if self.pid is not None and _pid_alive(self.pid):
                with contextlib.suppress(OSError):
                    os.kill(self.pid, signal.SIGKILL)
        finally:
            shutil.rmtree(base, ignore_errors=True)
            self.base_dir = None
            self._exe_dir = self.bindir.path
            self._started = False

    # -- connections -----------------------------------------------------------------------------------------
    def dsn(self, dbname: str = "postgres") -> str:
        """Superuser connection over the private unix socket (trust authentication)."""
        if not self._started:
            raise EmbeddedServerError("The embedded server has not been started.")
        return make_conninfo(host=str(self.socket_dir), port=self.port, user=self.superuser, dbname=dbname)

    def host_dsn(self, dbname: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        """Connection over TCP to 127.0.0.1 with scram-sha-256 authentication.

        Without ``password`` the superuser's password is used for ``postgres`` and none for other users.
        """
        if not self._started:
            raise EmbeddedServerError("The embedded server has not been started.")
        if password is None and user == self.superuser:
            password = self.superuser_password
        if password is None:
            return make_conninfo(host="127.0.0.1", port=self.port, user=user, dbname=dbname)
        return make_conninfo(host="127.0.0.1", port=self.port, user=user, dbname=dbname, password=password)

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its dsn."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` (if it exists), terminating its connections first."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            force = pgsql.SQL(" WITH (FORCE)") if self.major >= 13 else pgsql.SQL("")
            conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {}{}").format(pgsql.Identifier(name), force))

    def __repr__(self) -> str:
        state = f"port {self.port}" if self._started else "stopped"
        return f"<EmbeddedServer PostgreSQL {self.major} ({self.bindir.source}), {state}>"


def load_sql(dsn: str, sql: str) -> None:
    """Execute a whole SQL script (several statements) in autocommit mode."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.encode("utf-8"))
