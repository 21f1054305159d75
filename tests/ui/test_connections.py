"""Saved connections in the GUI: CRUD with an in-memory keyring, dialogs, URI import, no usable keyring."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from psycopg import conninfo
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from tests.ui.memory_keyring import MemoryKeyring
from workbench.core.connections.profiles import ConnectionProfile, Environment, PasswordMode, ProfileStore
from workbench.core.connections.secrets import SERVICE_NAME, KeyringSecretStore
from workbench.core.embedded import EmbeddedServer
from workbench.ui import workers
from workbench.ui.connections.dialogs import TEST_LABEL, TESTING_LABEL, ImportUriDialog, PasswordDialog, ProfileDialog
from workbench.ui.connections.panel import ConnectionsPanel
from workbench.ui.models.profiles_model import ProfileRole, ProfilesModel, TransientRole


@pytest.fixture
def panel(qtbot: QtBot, memory_keyring: MemoryKeyring) -> ConnectionsPanel:
    widget = ConnectionsPanel(ProfileStore(), KeyringSecretStore())
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def no_keyring() -> Iterator[None]:
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def profile(**changes: object) -> ConnectionProfile:
    fields: dict[str, object] = {
        "name": "orders",
        "host": "db.example.com",
        "port": 5432,
        "database": "orders",
        "user": "auditor",
        "environment": Environment.PRODUCTION,
    }
    fields.update(changes)
    return ConnectionProfile(**fields)  # type: ignore[arg-type]


def test_profile_crud_keeps_passwords_in_the_keyring_only(
    panel: ConnectionsPanel, memory_keyring: MemoryKeyring, config_dir: Path
) -> None:
    created = panel.create_profile(profile(), "s3cret")
    assert panel.current_profile() == created
    assert memory_keyring.entries == {(SERVICE_NAME, created.id): "s3cret"}
    on_disk = (config_dir / "profiles.json").read_text(encoding="utf-8")
    assert "s3cret" not in on_disk and json.loads(on_disk)["profiles"][0]["name"] == "orders"
    assert panel.has_saved_password(created)

    renamed = panel.update_profile(dataclasses.replace(created, name="orders (prod)"), "n3w")
    assert panel.model.index(0, 0).data() == "orders (prod)"
    assert memory_keyring.entries[(SERVICE_NAME, created.id)] == "n3w"
    unchanged = panel.update_profile(renamed, None)  # an empty password field keeps the saved one
    assert memory_keyring.entries[(SERVICE_NAME, unchanged.id)] == "n3w"

    copy = panel.duplicate_profile(created.id)
    assert copy.name == "orders (prod) (copy)" and panel.current_profile() == copy
    assert (SERVICE_NAME, copy.id) not in memory_keyring.entries  # a copy never inherits the secret

    panel.update_profile(dataclasses.replace(renamed, password_mode=PasswordMode.ASK))
    assert (SERVICE_NAME, created.id) not in memory_keyring.entries  # switching to "ask" forgets it

    panel.delete_profile(copy.id)
    panel.delete_profile(created.id)
    assert panel.model.rowCount() == 0 and ProfileStore().all() == ()
    assert memory_keyring.entries == {}


def test_connection_request_reads_the_keyring_or_asks(
    panel: ConnectionsPanel, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = panel.create_profile(profile(), "s3cret")
    request = panel.connection_request(saved)
    assert request is not None and request.password == "s3cret" and "s3cret" not in request.dsn
    assert request.dsn == saved.conninfo()

    no_password = panel.create_profile(profile(name="no secret yet"))
    asked: list[str] = []

    def prompt(p: ConnectionProfile, *, can_remember: bool, reason: str = "") -> tuple[str, bool]:
        asked.append(p.name)
        assert can_remember
        return "typed", True

    monkeypatch.setattr(panel, "prompt_password", prompt)
    request = panel.connection_request(no_password)
    assert request is not None and request.password == "typed" and asked == ["no secret yet"]
    assert memory_keyring.entries[(SERVICE_NAME, no_password.id)] == "typed"  # "remember" was ticked
    assert panel.connection_request(no_password) is not None and asked == ["no secret yet"]  # not asked again

    monkeypatch.setattr(panel, "prompt_password", lambda *a, **k: None)
    ask = panel.create_profile(profile(name="ask", password_mode=PasswordMode.ASK))
    assert panel.connection_request(ask) is None  # the user cancelled the prompt


def test_without_a_usable_keyring_the_user_is_told_and_nothing_is_written(
    qtbot: QtBot, no_keyring: None, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = ConnectionsPanel(ProfileStore(), KeyringSecretStore())
    qtbot.addWidget(panel)
    problem = panel.keyring_problem()
    assert problem is not None and "No system keyring was found" in problem

    dialog = ProfileDialog(keyring_problem=problem)
    qtbot.addWidget(dialog)
    assert dialog.mode() is PasswordMode.ASK  # "ask each time" is offered instead
    keyring_row = dialog.password_mode.model().item(0)  # type: ignore[attr-defined]
    assert not keyring_row.isEnabled()
    assert not dialog.keyring_note.isHidden() and "never written to a file" in dialog.keyring_note.text()

    messages: list[tuple[str, str]] = []
    panel.sig_message.connect(lambda kind, text: messages.append((kind, text)))
    created = panel.create_profile(profile(), "s3cret")
    assert messages and messages[0][0] == "warning" and "was not saved" in messages[0][1]
    assert "s3cret" not in (config_dir / "profiles.json").read_text(encoding="utf-8")
    assert not any("s3cret" in p.read_text(errors="ignore") for p in config_dir.rglob("*") if p.is_file())

    reasons: list[str] = []

    def prompt(p: ConnectionProfile, *, can_remember: bool, reason: str = "") -> tuple[str, bool]:
        reasons.append(reason)
        assert not can_remember
        return "typed", True

    monkeypatch.setattr(panel, "prompt_password", prompt)
    request = panel.connection_request(created)
    assert request is not None and request.password == "typed"
    assert "cannot be read" in reasons[0]


def test_profile_dialog_builds_and_validates_a_profile(qtbot: QtBot) -> None:
    dialog = ProfileDialog()
    qtbot.addWidget(dialog)
    dialog.name.clear()
    dialog.accept()
    assert not dialog.errors.isHidden() and "Give the connection a name" in dialog.errors.text()
    assert dialog.result() == 0
    qtbot.keyClicks(dialog.name, "billing")
    dialog.host.setText("10.0.0.5")
    dialog.port.setText("6432")
    dialog.database.setText("billing")
    dialog.user.setText("reviewer")
    dialog.sslmode.setCurrentText("verify-full")
    dialog.environment.setCurrentIndex(list(Environment).index(Environment.STAGING))
    qtbot.keyClicks(dialog.password, "pw")
    built = dialog.profile()
    assert (built.name, built.host, built.port, built.database, built.user, built.sslmode, built.environment) == (
        "billing",
        "10.0.0.5",
        6432,
        "billing",
        "reviewer",
        "verify-full",
        Environment.STAGING,
    )
    assert dialog.entered_password() == "pw"
    dialog.password_mode.setCurrentIndex(list(PasswordMode).index(PasswordMode.NONE))
    assert dialog.entered_password() is None and not dialog.password.isEnabled()
    dialog.accept()
    assert dialog.result() == 1


def test_editing_keeps_the_profile_id(qtbot: QtBot) -> None:
    original = profile()
    dialog = ProfileDialog(original, has_saved_password=True)
    qtbot.addWidget(dialog)
    assert dialog.password.placeholderText() == "leave empty to keep the saved password"
    dialog.name.setText("renamed")
    assert dialog.profile().id == original.id and dialog.profile().name == "renamed"


def test_import_uri_dialog_splits_off_the_password(qtbot: QtBot) -> None:
    dialog = ImportUriDialog()
    qtbot.addWidget(dialog)
    dialog.uri.setPlainText("not a uri = = =")
    dialog.accept()
    assert not dialog.errors.isHidden() and dialog.imported is None
    dialog.uri.setPlainText("postgresql://alice:pw@db.staging.local:5433/shop?sslmode=require")
    dialog.accept()
    assert dialog.imported is not None
    assert dialog.imported.password == "pw" and dialog.imported.profile.environment is Environment.STAGING
    prefilled = ProfileDialog(dialog.imported.profile, password=dialog.imported.password)
    qtbot.addWidget(prefilled)
    assert prefilled.host.text() == "db.staging.local" and prefilled.entered_password() == "pw"


def test_password_dialog_offers_to_remember_only_with_a_keyring(qtbot: QtBot) -> None:
    with_keyring = PasswordDialog(profile(), can_remember=True)
    without = PasswordDialog(profile(), can_remember=False, keyring_problem="none", reason="The keyring is gone.")
    qtbot.addWidget(with_keyring)
    qtbot.addWidget(without)
    assert with_keyring.remember.isEnabled() and with_keyring.remember.isChecked()
    assert not without.remember.isEnabled() and not without.reason.isHidden()
    assert isinstance(with_keyring.findChild(QDialogButtonBox), QDialogButtonBox)
    assert isinstance(ProfileDialog().findChild(QComboBox), QComboBox)


def test_transient_connection_from_the_command_line(panel: ConnectionsPanel) -> None:
    panel.create_profile(profile())
    transient = panel.set_transient("host=/tmp port=5999 dbname=demo user=postgres", name="Demo database")
    assert panel.current_profile() == transient
    index = panel.list.currentIndex()
    assert index.data(TransientRole) is True and index.data(ProfileRole).name == "Demo database"
    assert not panel.edit_button.isEnabled() and not panel.delete_button.isEnabled()
    assert panel.run_button.isEnabled()
    request = panel.connection_request()
    assert request is not None and request.transient and request.dsn.endswith("user=postgres")
    assert [p.name for p in ProfileStore().all()] == ["orders"]  # never saved


def test_profiles_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = ProfilesModel()
    model.set_profiles((profile(name="b"), profile(name="a")))
    model.set_transient(profile(name="cli"))
    qtmodeltester.check(model)
    assert [model.index(r, 0).data() for r in range(3)] == ["a", "b", "cli"]


# -- "Test connection" in the profile dialog, against the real test server -------------------------------------


def dbname(dsn: str) -> str:
    return str(conninfo.conninfo_to_dict(dsn)["dbname"])


def fill(dialog: ProfileDialog, *, port: int, database: str, password: str = "") -> None:
    """Type a connection into the dialog the way a user would (TCP, scram-sha-256 on the test server)."""
    dialog.name.setText("test server")
    dialog.host.setText("127.0.0.1")
    dialog.port.setText(str(port))
    dialog.database.setText(database)
    dialog.user.setText("postgres")
    dialog.sslmode.setCurrentText("disable")
    dialog.password.setText(password)


def click_test(qtbot: QtBot, dialog: ProfileDialog) -> None:
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)


def wait_for_result(qtbot: QtBot, dialog: ProfileDialog) -> str:
    qtbot.waitUntil(lambda: not dialog.is_testing(), timeout=30_000)
    assert dialog.test_button.isEnabled() and dialog.test_button.text() == TEST_LABEL
    assert not dialog.test_result.isHidden()
    return dialog.test_result.text()


@pytest.fixture
def dialog(qtbot: QtBot) -> ProfileDialog:
    widget = ProfileDialog()
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A TCP port that accepts connections and never answers: a connection test stays "in flight"."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)
        yield listener


def test_dialog_test_connects_with_what_is_typed(
    qtbot: QtBot,
    dialog: ProfileDialog,
    pg_server: EmbeddedServer,
    fresh_db: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    password = pg_server.superuser_password
    fill(dialog, port=pg_server.port, database=dbname(fresh_db), password=password)
    click_test(qtbot, dialog)
    text = wait_for_result(qtbot, dialog)
    assert text.startswith(f"✓ Connected: PostgreSQL {pg_server.major}"), text
    assert text.endswith(f" as postgres on {dbname(fresh_db)}"), text
    assert password not in text and password not in caplog.text
    assert dialog.result() == 0 and dialog.isVisible()  # testing neither saves nor closes the dialog

    dialog.database.setText("postgres")  # the shown result no longer describes the form
    assert dialog.test_result.isHidden()

    # "Ask each time": the password typed only for the test is used, and still never kept in the profile.
    dialog.password_mode.setCurrentIndex(list(PasswordMode).index(PasswordMode.ASK))
    assert dialog.password.isEnabled() and "not saved" in dialog.password.placeholderText()
    click_test(qtbot, dialog)
    assert wait_for_result(qtbot, dialog).endswith(" as postgres on postgres")
    assert dialog.entered_password() is None


def test_dialog_test_explains_a_wrong_password_or_an_unreachable_port(
    qtbot: QtBot, dialog: ProfileDialog, pg_server: EmbeddedServer, fresh_db: str
) -> None:
    db = dbname(fresh_db)
    fill(dialog, port=pg_server.port, database=db, password="not-the-password")
    click_test(qtbot, dialog)
    text = wait_for_result(qtbot, dialog)
    assert text == f"✗ Wrong user name or password for postgres@127.0.0.1:{pg_server.port}/{db}."
    assert dialog.test_result.styleSheet() == "color: #c62828;"

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    fill(dialog, port=closed_port, database=db, password=pg_server.superuser_password)
    click_test(qtbot, dialog)
    text = wait_for_result(qtbot, dialog)
    assert text == (
        f"✗ Nothing accepts connections at postgres@127.0.0.1:{closed_port}/{db}: "
        "is the server running and the port right?"
    )
    for shown in (text, dialog.errors.text()):
        assert "Traceback" not in shown and pg_server.superuser_password not in shown

    dialog.host.clear()  # nothing to connect to: said at once, nothing started
    click_test(qtbot, dialog)
    assert not dialog.is_testing() and not workers.alive_workers()
    assert dialog.test_result.text() == "✗ Enter a host (or a socket directory), or a service name."


def test_dialog_test_button_is_disabled_while_the_test_runs(
    qtbot: QtBot, dialog: ProfileDialog, silent_server: socket.socket
) -> None:
    port = silent_server.getsockname()[1]
    fill(dialog, port=port, database="demo", password="pw")
    click_test(qtbot, dialog)
    peer, _ = silent_server.accept()  # the connection attempt is in flight, on a pool thread
    with peer:
        assert dialog.is_testing()
        assert not dialog.test_button.isEnabled() and dialog.test_button.text() == TESTING_LABEL
        assert dialog.test_result.text() == f"Testing the connection to postgres@127.0.0.1:{port}/demo…"
        qtbot.wait(300)  # the GUI keeps running meanwhile
        assert not dialog.test_button.isEnabled()
        click_test(qtbot, dialog)  # a disabled button starts nothing more
        assert len(workers.alive_workers()) == 1
    text = wait_for_result(qtbot, dialog)  # the server hung up: a one-sentence failure
    assert text.startswith("✗ ") and f"127.0.0.1:{port}/demo" in text and "\n" not in text


@pytest.mark.parametrize("close", ["reject", "accept"])
def test_closing_the_dialog_during_a_test_drops_the_result(
    qtbot: QtBot, dialog: ProfileDialog, silent_server: socket.socket, close: str
) -> None:
    fill(dialog, port=silent_server.getsockname()[1], database="demo", password="pw")
    click_test(qtbot, dialog)
    peer, _ = silent_server.accept()
    with peer:
        getattr(dialog, close)()
        assert dialog.result() == (QDialog.DialogCode.Accepted if close == "accept" else QDialog.DialogCode.Rejected)
        assert not dialog.is_testing() and dialog.test_button.isEnabled() and dialog.test_result.isHidden()
    qtbot.waitUntil(lambda: not workers.alive_workers(), timeout=15_000)  # the thread ends with the attempt
    assert dialog.test_result.isHidden() and dialog.test_button.text() == TEST_LABEL


def test_editing_tests_with_the_saved_password_when_the_field_is_empty(
    qtbot: QtBot,
    panel: ConnectionsPanel,
    pg_server: EmbeddedServer,
    fresh_db: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    saved = panel.create_profile(
        profile(host="127.0.0.1", port=pg_server.port, database=dbname(fresh_db), user="postgres", sslmode="disable"),
        pg_server.superuser_password,
    )
    seen: list[str] = []

    def exec_(dialog: ProfileDialog) -> int:  # stands in for the modal loop of the panel's Edit…
        assert dialog.password.text() == "" and dialog.profile().id == saved.id
        click_test(qtbot, dialog)
        seen.append(wait_for_result(qtbot, dialog))
        dialog.password.setText("typed-but-wrong")  # a typed password wins over the saved one
        click_test(qtbot, dialog)
        seen.append(wait_for_result(qtbot, dialog))
        return QDialog.DialogCode.Rejected.value

    monkeypatch.setattr(ProfileDialog, "exec", exec_)
    panel.select(saved.id)
    panel.edit_with_dialog()
    assert len(seen) == 2
    assert seen[0].startswith(f"✓ Connected: PostgreSQL {pg_server.major}") and seen[0].endswith(dbname(fresh_db))
    assert seen[1].startswith("✗ Wrong user name or password")
