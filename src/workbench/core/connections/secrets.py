"""Where passwords live: the OS keyring, or nowhere ("ask each time"). Never in a file of ours.

`keyring` is imported only when a password is first needed. A backend that would not really protect the
password (keyring's fail/null backends, keyrings.alt's plaintext or file backends, a chainer with nothing
usable behind it) is refused with `SecretStoreUnavailable`, whose message tells the user what to do.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol, runtime_checkable

from workbench.core.logs import register_secret

SERVICE_NAME = "pg-review-workbench"

_WHAT_TO_DO = (
    "Install or unlock a system keyring (GNOME Keyring or KWallet on Linux, the macOS Keychain, the Windows "
    "Credential Manager), or choose “Ask for the password each time” for this connection."
)


class SecretStoreUnavailable(Exception):
    """No secure place to keep a password; the message says why and what the user can do."""


@runtime_checkable
class SecretStore(Protocol):
    """Passwords of connection profiles, keyed by profile id."""

    @property
    def description(self) -> str:
        """Where passwords go, for the user (e.g. "the system keyring (SecretService)")."""
        ...

    def check(self) -> str | None:
        """None when passwords can be stored, else the sentence to show the user."""
        ...

    def get_password(self, profile_id: str) -> str | None: ...

    def set_password(self, profile_id: str, password: str) -> None: ...

    def delete_password(self, profile_id: str) -> None: ...


class AskEachTimeSecretStore:
    """Keeps nothing: every connection asks for its password."""

    description = "nowhere (the password is asked for each time)"

    def check(self) -> str | None:
        return "Passwords are not stored: each connection asks for its password."

    def get_password(self, profile_id: str) -> str | None:
        return None

    def set_password(self, profile_id: str, password: str) -> None:
        raise SecretStoreUnavailable("Passwords are not stored in “ask each time” mode.")

    def delete_password(self, profile_id: str) -> None:
        return None


def insecure_reason(backend: Any) -> str | None:
    """Why `backend` must not hold passwords, or None when it is a real secret store."""
    cls = type(backend)
    module, name = cls.__module__, cls.__name__
    if module == "keyring.backends.fail":
        return "No system keyring was found on this computer."
    if module == "keyring.backends.null":
        return "The keyring is disabled (null backend)."
    if module.startswith("keyrings.alt"):
        return (
            f"The only keyring available is keyrings.alt's {name}, which keeps passwords in a file on disk "
            "rather than in a protected store."
        )
    if "plaintext" in name.lower() or "plaintext" in module.lower():
        return f"The keyring backend {module}.{name} stores passwords as plain text."
    try:
        priority = float(backend.priority)
    except Exception:  # a backend whose priority raises is not usable either
        return f"The keyring backend {module}.{name} is not usable on this system."
    if priority <= 0:
        return f"The keyring backend {module}.{name} is not usable on this system."
    return None


def _resolve(backend: Any) -> Any:
    """The concrete backend to use: for a chainer, its best secure member (never write through the chain)."""
    if type(backend).__module__ == "keyring.backends.chainer":
        members = list(getattr(backend, "backends", ()))
        usable = [b for b in members if insecure_reason(b) is None]
        if not usable:
            reasons = "; ".join(dict.fromkeys(r for b in members if (r := insecure_reason(b)))) or (
                "No system keyring was found on this computer."
            )
            raise SecretStoreUnavailable(f"{reasons} {_WHAT_TO_DO}")
        return max(usable, key=lambda b: float(b.priority))
    reason = insecure_reason(backend)
    if reason is not None:
        raise SecretStoreUnavailable(f"{reason} {_WHAT_TO_DO}")
    return backend


class KeyringSecretStore:
    """Passwords in the OS keyring under the service "pg-review-workbench", one entry per profile id."""

    def __init__(self, backend: Any | None = None, service: str = SERVICE_NAME):
        self._given = backend
        self._backend: Any | None = None
        self.service = service
        self._lock = threading.Lock()

    def backend(self) -> Any:
        """The keyring backend in use; raises SecretStoreUnavailable when none is secure."""
        with self._lock:
            if self._backend is None:
                given = self._given
                if given is None:
                    try:
                        import keyring
                    except ImportError:
                        raise SecretStoreUnavailable(
                            f"The Python package 'keyring' is not installed. {_WHAT_TO_DO}"
                        ) from None
                    try:
                        given = keyring.get_keyring()
                    except Exception as exc:  # a broken keyring configuration file, a crashing backend
                        raise SecretStoreUnavailable(
                            f"The system keyring could not be opened ({_first_line(exc)}). {_WHAT_TO_DO}"
                        ) from None
                self._backend = _resolve(given)
            return self._backend

    def check(self) -> str | None:
        """None when passwords can be stored, else the sentence to show the user."""
        try:
            self.backend()
        except SecretStoreUnavailable as exc:
            return str(exc)
        return None

    @property
    def description(self) -> str:
        try:
            backend = self.backend()
        except SecretStoreUnavailable:
            return "no usable system keyring"
        name = getattr(backend, "name", None) or type(backend).__name__
        return f"the system keyring ({name})"

    def get_password(self, profile_id: str) -> str | None:
        backend = self.backend()
        try:
            value = backend.get_password(self.service, profile_id)
        except Exception as exc:
            raise SecretStoreUnavailable(self._refused("read", exc)) from None
        if value is None:
            return None
        register_secret(str(value))  # redacted from the log file from now on
        return str(value)

    def set_password(self, profile_id: str, password: str) -> None:
        register_secret(password)
        backend = self.backend()
        try:
            backend.set_password(self.service, profile_id, password)
        except Exception as exc:
            raise SecretStoreUnavailable(self._refused("save", exc)) from None

    def delete_password(self, profile_id: str) -> None:
        backend = self.backend()
        from keyring.errors import PasswordDeleteError

        try:
            backend.delete_password(self.service, profile_id)
        except PasswordDeleteError:
            pass  # nothing was stored
        except Exception as exc:
            raise SecretStoreUnavailable(self._refused("delete", exc)) from None

    @staticmethod
    def _refused(action: str, exc: BaseException) -> str:
        # The backend's message never contains the password (we never pass it into a message).
        return (
            f"The system keyring refused to {action} the password ({type(exc).__name__}: {_first_line(exc)}). "
            "Unlock the keyring and try again, or choose “Ask for the password each time”."
        )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
