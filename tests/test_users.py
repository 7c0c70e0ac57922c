"""Accounts: monitor.db.users on a real SQLite file, and `onestop users` as a real process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from monitor.db import users
from monitor.db.store import connect, open_db

CONFIG = 'site: {name: "Một cửa"}\ncameras:\n  - {id: quay-1, name: "Quầy 1", streams: {main: a.mp4}}\n'
PASSWORD = "mat-khau-dai-9"


def onestop(*args: str, cwd, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True,
                          cwd=cwd, input=stdin, timeout=60)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "cameras.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


@pytest.fixture
def db(tmp_path):
    db = open_db(tmp_path / "u.db")
    yield db
    db.conn.close()


# ---------------------------------------------------------------- monitor.db.users


@pytest.mark.parametrize("name", ["a", "lan", "nguyen.van.a", "can-bo_2", "9x", "a" * 32])
def test_good_usernames(name):
    assert users.check_username(name) == name


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("", "empty"),
        ("a" * 33, "33 characters; at most 32"),
        ("Lan", "(try 'lan')"),
        ("lan nguyen", "may only use lowercase letters"),
        ("-lan", "starting with a letter or digit"),
        ("lân", "may only use lowercase letters"),
        ("../etc", "may only use lowercase letters"),
    ],
)
def test_bad_usernames_say_what_to_change(name, fragment):
    with pytest.raises(ValueError, match="^username: ") as err:
        users.check_username(name)
    assert fragment in str(err.value)


def test_add_verify_list_remove(db):
    users.add_user(db, "lan", PASSWORD, "supervisor", now=100.0)
    users.add_user(db, "an", PASSWORD, "viewer", now=101.0, language="en")
    stored = db.execute("select password_hash from users where username = 'lan'").fetchone()[0]
    assert PASSWORD not in stored and stored.startswith("scrypt:")
    assert users.verify(db, "lan", PASSWORD).role == "supervisor"
    assert users.verify(db, "lan", "wrong-password") is None
    assert users.verify(db, "nobody", PASSWORD) is None
    assert [(u.username, u.role, u.language) for u in users.list_users(db)] == [("an", "viewer", "en"),
                                                                                  ("lan", "supervisor", None)]
    with pytest.raises(users.UserExists, match="user 'lan' already exists"):
        users.add_user(db, "lan", PASSWORD, "admin", now=102.0)
    users.set_language(db, "lan", "vi")
    users.record_login(db, "lan", 200.0)
    assert users.get_user(db, "lan") == users.User("lan", "supervisor", "vi", 100.0, 200.0)
    users.remove_user(db, "lan")
    assert users.get_user(db, "lan") is None
    with pytest.raises(users.UnknownUser, match="no user 'lan'"):
        users.remove_user(db, "lan")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda db: users.add_user(db, "lan", PASSWORD, "boss", now=0), "role: 'boss' is not one of viewer, supervisor, admin"),
        (lambda db: users.add_user(db, "lan", "short", "viewer", now=0), "password: 5 characters; use at least 8"),
        (lambda db: users.add_user(db, "lan", PASSWORD, "viewer", now=0, language="fr"), "language: 'fr' is not one of vi, en"),
        (lambda db: users.set_language(db, "nobody", "vi"), "no user 'nobody'"),
    ],
)
def test_bad_values_are_clear_value_errors(db, call, message):
    with pytest.raises(ValueError) as err:
        call(db)
    assert str(err.value) == message
    assert users.list_users(db) == []


@pytest.mark.parametrize(
    "role, minimum, expected",
    [("viewer", "viewer", True), ("viewer", "supervisor", False), ("supervisor", "supervisor", True),
     ("admin", "supervisor", True), ("supervisor", "admin", False), ("retired", "viewer", False)],
)
def test_role_order(role, minimum, expected):
    assert users.role_at_least(role, minimum) is expected


# ---------------------------------------------------------------- onestop users


def test_cli_add_list_remove(folder):
    r = onestop("users", "add", "lan", "--role", "supervisor", "--password-stdin", cwd=folder, stdin=PASSWORD + "\n")
    assert r.returncode == 0 and r.stdout.strip() == "added lan (supervisor)", r.stderr
    db = connect(folder / "onestop.db", readonly=True)
    assert users.verify(db, "lan", PASSWORD).role == "supervisor"  # the trailing newline is not part of it
    db.conn.close()
    assert onestop("users", "add", "an", "--role", "admin", "--password-stdin", cwd=folder, stdin=PASSWORD).returncode == 0
    listed = onestop("users", "list", cwd=folder).stdout.splitlines()
    assert [line.split()[:2] for line in listed] == [["an", "admin"], ["lan", "supervisor"]]
    assert "last login never" in listed[0]
    r = onestop("users", "remove", "lan", cwd=folder)
    assert r.returncode == 0 and r.stdout.strip() == "removed lan"
    assert [line.split()[0] for line in onestop("users", "list", cwd=folder).stdout.splitlines()] == ["an"]


def test_cli_add_twice_fails_unless_exists_ok(folder):
    args = ["users", "add", "lan", "--role", "viewer", "--password-stdin"]
    assert onestop(*args, cwd=folder, stdin=PASSWORD).returncode == 0
    r = onestop(*args, cwd=folder, stdin="another-password")
    assert r.returncode == 1 and r.stderr.strip() == "Error: user 'lan' already exists"
    r = onestop(*args, "--exists-ok", cwd=folder, stdin="another-password")
    assert r.returncode == 0 and "already exists; left unchanged" in r.stdout
    db = connect(folder / "onestop.db", readonly=True)
    assert users.verify(db, "lan", PASSWORD) is not None  # unchanged
    db.conn.close()


@pytest.mark.parametrize(
    "args, stdin, code, fragment",
    [
        (["add", "lan", "--role", "boss"], PASSWORD, 2, "Invalid value for --role: 'boss' is not one of viewer, supervisor, admin"),
        (["add", "Lan", "--role", "viewer"], PASSWORD, 2, "Invalid value for NAME: 'Lan' may only use lowercase"),
        (["add", "a" * 33, "--role", "viewer"], PASSWORD, 2, "at most 32"),
        (["add", "lan"], PASSWORD, 2, "Missing option '--role'"),
        (["add", "lan", "--role", "viewer"], "short\n", 1, "Error: password: 5 characters; use at least 8"),
        (["add", "lan", "--role", "viewer"], "", 1, "Error: password: 0 characters; use at least 8"),
        (["remove", "nobody"], None, 1, "Error: no user 'nobody'"),
    ],
    ids=["bad-role", "uppercase-name", "long-name", "no-role", "short-password", "empty-stdin", "remove-unknown"],
)
def test_cli_errors_are_one_clear_line(folder, args, stdin, code, fragment):
    if args[0] == "add":
        args = [*args, "--password-stdin"]
    r = onestop("users", *args, cwd=folder, stdin=stdin)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert fragment in r.stderr.strip().splitlines()[-1]
    assert "Traceback" not in r.stderr
    if code == 1:
        assert len(r.stderr.strip().splitlines()) == 1


def test_cli_prompts_twice_without_password_stdin(folder):
    # click reads the hidden prompt from stdin when it is not a terminal
    r = onestop("users", "add", "lan", "--role", "admin", cwd=folder, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.returncode == 0, r.stderr
    r = onestop("users", "add", "an", "--role", "admin", cwd=folder, stdin=f"{PASSWORD}\nsomething-else\n")
    assert r.returncode != 0 and "an" not in onestop("users", "list", cwd=folder).stdout.split()


def test_every_users_command_has_an_example(folder):
    for command in (["users"], ["users", "add"], ["users", "list"], ["users", "remove"]):
        assert "Example: onestop users" in onestop(*command, "--help", cwd=folder).stdout
