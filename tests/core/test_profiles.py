"""Connection profiles: validation, URI import (the password is split off), atomic JSON store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.core.connections.profiles import (
    ConnectionProfile,
    Environment,
    PasswordMode,
    ProfileError,
    ProfileStore,
    config_dir,
    profile_from_uri,
)


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "cfg" / "profiles.json")


def orders(**changes: object) -> ConnectionProfile:
    fields: dict[str, object] = {
        "name": "orders",
        "host": "db.example.com",
        "port": 5432,
        "database": "orders",
        "user": "auditor",
        "sslmode": "require",
        "environment": Environment.STAGING,
    }
    fields.update(changes)
    return ConnectionProfile(**fields)  # type: ignore[arg-type]


def test_config_dir_honours_the_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path))
    assert config_dir() == tmp_path
    monkeypatch.delenv("WORKBENCH_CONFIG_DIR")
    assert config_dir().name == "pg-review-workbench"


def test_conninfo_and_target_never_carry_a_password() -> None:
    profile = orders()
    assert profile.conninfo() == "host=db.example.com port=5432 dbname=orders user=auditor sslmode=require"
    assert profile.target == "auditor@db.example.com:5432/orders"
    service = ConnectionProfile(name="svc", service="prod", host="", port=None, database="")
    assert service.conninfo() == "service=prod sslmode=prefer"
    assert service.target == "service prod"


def test_problems_are_sentences() -> None:
    assert orders().problems() == []
    bad = ConnectionProfile(name=" ", host="", port=70000, sslmode="sometimes")
    problems = bad.problems()
    assert len(problems) == 4 and all(p.endswith(".") for p in problems)


def test_crud_round_trips_through_the_file(store: ProfileStore) -> None:
    first = store.add(orders())
    assert store.path.exists()
    again = ProfileStore(store.path)
    assert again.all() == (first,)
    updated = store.update(orders(id=first.id, name="orders (staging)", port=6543))
    assert ProfileStore(store.path).get(first.id) == updated
    copy = store.duplicate(first.id)
    assert copy.name == "orders (staging) (copy)" and copy.id != first.id and copy.host == first.host
    assert store.duplicate(first.id).name == "orders (staging) (copy 2)"
    store.delete(copy.id)
    assert [p.name for p in ProfileStore(store.path).all()] == ["orders (staging)", "orders (staging) (copy 2)"]


def test_names_are_unique_and_invalid_profiles_are_refused(store: ProfileStore) -> None:
    store.add(orders())
    with pytest.raises(ProfileError, match="already exists"):
        store.add(orders())
    with pytest.raises(ProfileError, match="Give the connection a name"):
        store.add(orders(name=""))
    with pytest.raises(ProfileError, match="no longer exists"):
        store.update(orders(name="ghost"))


def test_file_holds_no_secret_and_is_written_atomically(store: ProfileStore) -> None:
    store.add(orders())
    document = json.loads(store.path.read_text(encoding="utf-8"))
    assert document["format"] == 1
    (entry,) = document["profiles"]
    assert "password" not in entry
    assert entry["password_mode"] == "keyring" and entry["environment"] == "staging"
    leftovers = [p.name for p in store.path.parent.iterdir() if p.name != "profiles.json"]
    assert leftovers == []


def test_an_unreadable_file_is_kept_aside(store: ProfileStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{not json", encoding="utf-8")
    recovered = ProfileStore(store.path)
    assert recovered.all() == ()
    assert recovered.recovered_from is not None and recovered.recovered_from.read_text() == "{not json"
    recovered.add(orders())
    assert ProfileStore(store.path).all()[0].name == "orders"


def test_import_from_a_uri_splits_the_password_off() -> None:
    imported = profile_from_uri(
        "postgresql://alice:s3cr%40t@db.prod.example.com:6543/orders?sslmode=verify-full&application_name=x"
    )
    profile = imported.profile
    assert imported.password == "s3cr@t"
    assert imported.ignored == ("application_name",)
    assert (profile.host, profile.port, profile.database, profile.user, profile.sslmode) == (
        "db.prod.example.com",
        6543,
        "orders",
        "alice",
        "verify-full",
    )
    assert profile.environment is Environment.PRODUCTION
    assert profile.password_mode is PasswordMode.KEYRING
    assert profile.name == "orders on db.prod.example.com"
    assert "s3cr" not in json.dumps(profile.as_json())


def test_import_keywords_and_service_names() -> None:
    imported = profile_from_uri("host=/var/run/postgresql dbname=app user=me", name="local")
    assert imported.password is None and imported.profile.password_mode is PasswordMode.NONE
    assert imported.profile.name == "local" and imported.profile.host == "/var/run/postgresql"
    service = profile_from_uri("service=staging").profile
    assert service.service == "staging" and service.environment is Environment.STAGING


@pytest.mark.parametrize("uri", ["", "postgresql://host:notaport/db", "this is = not valid = conninfo ="])
def test_invalid_uris_are_explained(uri: str) -> None:
    with pytest.raises(ProfileError):
        profile_from_uri(uri)
