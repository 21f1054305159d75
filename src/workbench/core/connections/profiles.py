"""Saved connection profiles: what to connect to, never the password.

Profiles live in one JSON file under the user's config directory (``WORKBENCH_CONFIG_DIR`` overrides it), written
atomically so that a crash never leaves half a file. Passwords belong to the SecretStore (secrets.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import psycopg
from psycopg import conninfo

from workbench.core.connections.session import describe_target

APP_NAME = "pg-review-workbench"
CONFIG_DIR_ENV = "WORKBENCH_CONFIG_DIR"
PROFILES_FILE = "profiles.json"
FORMAT_VERSION = 1
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# Connection parameters a profile models; anything else in an imported URI is reported as ignored.
_MODELLED = {"host", "hostaddr", "port", "dbname", "user", "sslmode", "service", "password"}


class Environment(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PRODUCTION = "production"

    @property
    def label(self) -> str:
        return {"dev": "Development", "staging": "Staging", "production": "Production"}[self.value]


class PasswordMode(StrEnum):
    """Where the password of a profile comes from."""

    KEYRING = "keyring"  # the OS keyring, through the SecretStore
    ASK = "ask"  # asked for on every connection, kept nowhere
    NONE = "none"  # no password: trust/peer/cert authentication, ~/.pgpass or the service file

    @property
    def label(self) -> str:
        return {
            "keyring": "Saved in the system keyring",
            "ask": "Ask for the password each time",
            "none": "No password (peer, certificate, .pgpass or service file)",
        }[self.value]


class ProfileError(Exception):
    """A profile is invalid or the profiles file cannot be read or written; the message is for the user."""


def config_dir() -> Path:
    """The user config directory of the workbench (``$WORKBENCH_CONFIG_DIR`` when set)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def new_profile_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class ConnectionProfile:
    """Where and as whom to connect. Holds no secret; `id` keys the password in the SecretStore."""

    name: str
    host: str = ""
    port: int | None = None
    database: str = ""
    user: str = ""
    sslmode: str = "prefer"
    environment: Environment = Environment.DEV
    service: str = ""  # libpq service name (pg_service.conf); explicit fields override it
    password_mode: PasswordMode = PasswordMode.KEYRING
    id: str = dataclasses.field(default_factory=new_profile_id)

    def problems(self) -> list[str]:
        """What is wrong with the profile, as sentences; empty when it can be saved."""
        out = []
        if not self.name.strip():
            out.append("Give the connection a name.")
        if not (self.host.strip() or self.service.strip()):
            out.append("Enter a host (or a socket directory), or a service name.")
        if self.port is not None and not 0 < self.port < 65536:
            out.append("The port must be between 1 and 65535.")
        if self.sslmode not in SSL_MODES:
            out.append(f"sslmode must be one of {', '.join(SSL_MODES)}.")
        return out

    def conninfo(self) -> str:
        """The libpq connection string of the profile (without any password)."""
        return conninfo.make_conninfo(
            "",
            **{
                k: v
                for k, v in {
                    "service": self.service,
                    "host": self.host,
                    "port": self.port,
                    "dbname": self.database,
                    "user": self.user,
                    "sslmode": self.sslmode,
                }.items()
                if v not in (None, "")
            },
        )

    @property
    def target(self) -> str:
        """``user@host:port/db`` for lists and messages."""
        if self.service and not self.host:
            return f"service {self.service}" + (f" ({self.database})" if self.database else "")
        return describe_target(self.conninfo())

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "user": self.user,
            "sslmode": self.sslmode,
            "environment": self.environment.value,
            "service": self.service,
            "password_mode": self.password_mode.value,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConnectionProfile:
        try:
            port = data.get("port")
            return cls(
                id=str(data["id"]),
                name=str(data["name"]),
                host=str(data.get("host") or ""),
                port=int(port) if port not in (None, "") else None,
                database=str(data.get("database") or ""),
                user=str(data.get("user") or ""),
                sslmode=str(data.get("sslmode") or "prefer"),
                environment=Environment(data.get("environment") or "dev"),
                service=str(data.get("service") or ""),
                password_mode=PasswordMode(data.get("password_mode") or "keyring"),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ProfileError(f"A saved connection is malformed ({exc}).") from None


@dataclass(frozen=True, slots=True)
class ImportedProfile:
    """A profile parsed from a URI, the password it carried (to offer to the keyring) and what was dropped."""

    profile: ConnectionProfile
    password: str | None
    ignored: tuple[str, ...] = ()


def profile_from_uri(uri: str, name: str | None = None) -> ImportedProfile:
    """Parse a ``postgresql://`` URI or a libpq keyword string; the password is split off the profile."""
    text = uri.strip()
    if not text:
        raise ProfileError("Paste a connection URI such as postgresql://user@host:5432/dbname.")
    try:
        params = conninfo.conninfo_to_dict(text)
    except psycopg.ProgrammingError as exc:
        first = (str(exc).strip().splitlines() or ["invalid"])[0]
        raise ProfileError(f"This is not a valid connection URI: {first}") from None
    host = str(params.get("host") or params.get("hostaddr") or "")
    port_text = str(params.get("port") or "")
    try:
        port = int(port_text) if port_text else None
    except ValueError:
        raise ProfileError(f"The port {port_text!r} is not a number.") from None
    sslmode = str(params.get("sslmode") or "prefer")
    database = str(params.get("dbname") or "")
    service = str(params.get("service") or "")
    default_name = database or service or host or "connection"
    if host and not host.startswith("/") and database:
        default_name = f"{database} on {host}"
    profile = ConnectionProfile(
        name=name or default_name,
        host=host,
        port=port,
        database=database,
        user=str(params.get("user") or ""),
        sslmode=sslmode if sslmode in SSL_MODES else "prefer",
        service=service,
        environment=_guess_environment(f"{host} {database} {service}"),
        password_mode=PasswordMode.KEYRING if params.get("password") else PasswordMode.NONE,
    )
    ignored = tuple(sorted(k for k in params if k not in _MODELLED))
    password = params.get("password")
    return ImportedProfile(profile, str(password) if password else None, ignored)


def _guess_environment(text: str) -> Environment:
    lowered = text.lower()
    if any(word in lowered for word in ("prod", "live")):
        return Environment.PRODUCTION
    if any(word in lowered for word in ("staging", "stage", "preprod", "uat")):
        return Environment.STAGING
    return Environment.DEV


class ProfileStore:
    """The saved profiles, kept in memory and written atomically to ``profiles.json`` after every change."""

    def __init__(self, path: Path | None = None):
        self.path = path or config_dir() / PROFILES_FILE
        self.recovered_from: Path | None = None  # set when an unreadable file was moved aside at load
        self._profiles: tuple[ConnectionProfile, ...] = self._load()

    # -- reading ---------------------------------------------------------------------------------------------
    def _load(self) -> tuple[ConnectionProfile, ...]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ()
        except OSError as exc:
            raise ProfileError(f"The saved connections in {self.path} cannot be read: {exc.strerror}.") from None
        try:
            document = json.loads(raw)
            items = document["profiles"] if isinstance(document, dict) else None
            if not isinstance(items, list):
                raise ValueError("no 'profiles' list")
            return tuple(ConnectionProfile.from_json(item) for item in items)
        except (ValueError, KeyError, TypeError, ProfileError):
            # Keep the unreadable file for the user rather than overwrite it at the next save.
            aside = self.path.with_name(f"{self.path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
            with contextlib.suppress(OSError):
                self.path.replace(aside)
                self.recovered_from = aside
            return ()

    def all(self) -> tuple[ConnectionProfile, ...]:
        return self._profiles

    def get(self, profile_id: str) -> ConnectionProfile | None:
        return next((p for p in self._profiles if p.id == profile_id), None)

    def named(self, name: str) -> ConnectionProfile | None:
        return next((p for p in self._profiles if p.name == name), None)

    # -- changing --------------------------------------------------------------------------------------------
    def add(self, profile: ConnectionProfile) -> ConnectionProfile:
        self._validate(profile)
        if self.get(profile.id) is not None:
            raise ProfileError(f"A connection with id {profile.id} already exists.")
        self._write((*self._profiles, profile))
        return profile

    def update(self, profile: ConnectionProfile) -> ConnectionProfile:
        self._validate(profile)
        if self.get(profile.id) is None:
            raise ProfileError(f"The connection {profile.name!r} no longer exists.")
        self._write(tuple(profile if p.id == profile.id else p for p in self._profiles))
        return profile

    def delete(self, profile_id: str) -> None:
        self._write(tuple(p for p in self._profiles if p.id != profile_id))

    def duplicate(self, profile_id: str) -> ConnectionProfile:
        """Copy a profile under a free name ("orders (copy)", "orders (copy 2)", ...); the password is not copied."""
        original = self.get(profile_id)
        if original is None:
            raise ProfileError("The connection to duplicate no longer exists.")
        name = self.free_name(f"{original.name} (copy)")
        return self.add(dataclasses.replace(original, id=new_profile_id(), name=name))

    def free_name(self, wanted: str) -> str:
        """`wanted`, or `wanted` numbered ("x (copy 2)", "x (2)") when a profile already has that name."""
        taken = {p.name for p in self._profiles}

        def numbered(n: int) -> str:
            return f"{wanted[:-1]} {n})" if wanted.endswith(")") else f"{wanted} ({n})"

        if wanted not in taken:
            return wanted
        n = 2
        while numbered(n) in taken:
            n += 1
        return numbered(n)

    def _validate(self, profile: ConnectionProfile) -> None:
        problems = profile.problems()
        if problems:
            raise ProfileError(" ".join(problems))
        clash = self.named(profile.name)
        if clash is not None and clash.id != profile.id:
            raise ProfileError(f"A connection named {profile.name!r} already exists.")

    def _write(self, profiles: Iterable[ConnectionProfile]) -> None:
        profiles = tuple(profiles)
        document = {"format": FORMAT_VERSION, "profiles": [p.as_json() for p in profiles]}
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise ProfileError(f"The connections could not be saved to {self.path}: {exc.strerror}.") from None
        self._profiles = profiles
