"""The throwaway PostgreSQL server used by the demo and the tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from workbench.core.embedded import EmbeddedServer, find_bindirs


def _process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs; an unreaped zombie counts as gone (some containers never reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")


def test_pgserver_binaries_are_found() -> None:
    found = find_bindirs()
    assert any(b.source == "pgserver" and b.major >= 16 for b in found)
    assert len({b.path for b in found}) == len(found)


def test_prefer_selects_the_source_without_starting() -> None:
    server = EmbeddedServer(prefer="pgserver")
    assert server.bindir.source == "pgserver"
    assert not server.is_running
    with pytest.raises(ValueError):
        EmbeddedServer(prefer="docker")


def test_server_answers_with_its_major_version(pg_server: EmbeddedServer) -> None:
    with psycopg.connect(pg_server.dsn()) as conn:
        version, num = conn.execute("SELECT version(), current_setting('server_version_num')::int").fetchone() or (
            "",
            0,
        )
    assert version.startswith(f"PostgreSQL {pg_server.major}.")
    assert num // 10000 == pg_server.major


def test_superuser_can_connect_over_tcp_with_password(pg_server: EmbeddedServer) -> None:
    with psycopg.connect(pg_server.host_dsn()) as conn:
        row = conn.execute("SELECT current_user, inet_server_addr()::text").fetchone()
    assert row == ("postgres", "127.0.0.1/32")


def test_pg_stat_statements_preloaded_when_available(pg_server: EmbeddedServer) -> None:
    with psycopg.connect(pg_server.dsn()) as conn:
        row = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    assert row is not None
    assert ("pg_stat_statements" in row[0]) == pg_server.has_pg_stat_statements


def test_databases_are_isolated(pg_server: EmbeddedServer, fresh_db: str, load_sql: Callable[[str, str], None]) -> None:
    other_name = f"wb_other_{uuid.uuid4().hex[:8]}"
    other = pg_server.create_database(other_name)
    try:
        load_sql(fresh_db, "CREATE TABLE only_here (id int); INSERT INTO only_here VALUES (1), (2);")
        with psycopg.connect(fresh_db) as conn:
            assert conn.execute("SELECT count(*) FROM only_here").fetchone() == (2,)
        with psycopg.connect(other) as conn:
            assert conn.execute("SELECT to_regclass('only_here')").fetchone() == (None,)
    finally:
        pg_server.drop_database(other_name)
    with psycopg.connect(pg_server.dsn()) as conn:
        exists = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (other_name,)).fetchone()
    assert exists == (0,)


def test_wrong_password_is_rejected(pg_server: EmbeddedServer, fresh_db: str) -> None:
    role = f"wb_app_{uuid.uuid4().hex[:8]}"
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    assert isinstance(dbname, str)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'right'").format(sql.Identifier(role)))
    try:
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(pg_server.host_dsn(dbname, role, "wrong")).close()
        with psycopg.connect(pg_server.host_dsn(dbname, role, "right")) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (role,)
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_stop_removes_everything(pg_server: EmbeddedServer) -> None:
    server = EmbeddedServer(pg_server.bindir)
    server.start()
    base, pid = server.base_dir, server.pid
    assert base is not None and base.is_dir() and pid is not None
    assert server.is_running
    assert server.startup_seconds is not None and server.startup_seconds < 30

    server.stop()
    assert not base.exists()
    assert _process_gone(pid)
    assert not server.is_running
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres connect_timeout=2").close()
    server.stop()  # idempotent
