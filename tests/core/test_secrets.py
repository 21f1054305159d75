"""The keyring SecretStore: a real (in-memory) backend works; insecure or missing backends are refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from tests.ui.memory_keyring import MemoryKeyring
from workbench.core.connections.secrets import (
    SERVICE_NAME,
    AskEachTimeSecretStore,
    KeyringSecretStore,
    SecretStore,
    SecretStoreUnavailable,
    insecure_reason,
)


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt.file.PlaintextKeyring (same module and name, no file)."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


class BrokenKeyring(MemoryKeyring):
    """A keyring that is locked: every call fails."""

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("the keyring is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("the keyring is locked")


@pytest.fixture
def registered() -> Iterator[MemoryKeyring]:
    import keyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_round_trip_through_the_registered_backend(registered: MemoryKeyring) -> None:
    store = KeyringSecretStore()
    assert isinstance(store, SecretStore)
    assert store.check() is None and store.description.startswith("the system keyring (")
    assert store.get_password("p1") is None
    store.set_password("p1", "hunter2")
    assert registered.entries == {(SERVICE_NAME, "p1"): "hunter2"}
    assert store.get_password("p1") == "hunter2"
    store.delete_password("p1")
    store.delete_password("p1")  # deleting what is not there is fine
    assert registered.entries == {}


@pytest.mark.parametrize(
    ("backend", "words"),
    [
        (fail.Keyring(), "No system keyring was found"),
        (null.Keyring(), "disabled"),
        (PlaintextKeyring(), "keyrings.alt's PlaintextKeyring"),
    ],
)
def test_insecure_backends_are_refused_with_advice(backend: KeyringBackend, words: str) -> None:
    assert insecure_reason(backend) is not None
    store = KeyringSecretStore(backend)
    problem = store.check()
    assert problem is not None and words in problem and "Ask for the password each time" in problem
    with pytest.raises(SecretStoreUnavailable):
        store.set_password("p1", "hunter2")
    assert store.description == "no usable system keyring"


def test_a_chainer_uses_its_best_secure_member_only(monkeypatch: pytest.MonkeyPatch) -> None:
    secure, plaintext = MemoryKeyring(), PlaintextKeyring()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plaintext, secure])
    store = KeyringSecretStore(chainer.ChainerBackend())
    store.set_password("p1", "hunter2")
    assert secure.entries and not plaintext.entries


def test_a_chainer_without_a_secure_member_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [PlaintextKeyring()])
    problem = KeyringSecretStore(chainer.ChainerBackend()).check()
    assert problem is not None and "keyrings.alt" in problem
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    problem = KeyringSecretStore(chainer.ChainerBackend()).check()
    assert problem is not None and "No system keyring" in problem


def test_a_failing_backend_becomes_a_sentence() -> None:
    store = KeyringSecretStore(BrokenKeyring())
    with pytest.raises(SecretStoreUnavailable, match=r"refused to save the password .*locked.*Unlock"):
        store.set_password("p1", "hunter2")
    with pytest.raises(SecretStoreUnavailable) as info:
        store.get_password("p1")
    assert "hunter2" not in str(info.value)


def test_ask_each_time_keeps_nothing() -> None:
    store = AskEachTimeSecretStore()
    assert isinstance(store, SecretStore)
    assert store.get_password("p1") is None
    with pytest.raises(SecretStoreUnavailable):
        store.set_password("p1", "x")
    store.delete_password("p1")


def test_keyring_is_imported_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import workbench.core.connections.secrets, workbench.core.connections.profiles; "
        "print('keyring' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
