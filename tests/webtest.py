"""Shared pieces of the web tests: the test accounts, CSRF tokens, logging in, a per-test copy of a built site."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from unittest import mock

from werkzeug.security import generate_password_hash

from monitor.db import users

PASSWORD = "correct-horse-9"
ACCOUNTS = {"viewer": "xem", "supervisor": "giam-sat", "admin": "quan-tri"}
# The test accounts' hashes are scrypt at N = 2**10, not werkzeug's default 2**15: the login reads the cost
# from the stored hash, so the same code runs, but a log_in takes ~3 ms instead of ~0.1 s (the web tests log
# in about a thousand times). tests/unit/test_users.py checks what add_user itself stores.
TEST_HASH = "scrypt:1024:8:1"


def add_accounts(db) -> None:  # noqa: ANN001 - sqlite_utils.Database
    """One account per role, all with PASSWORD, stored with the cheap TEST_HASH (add_user's own hash is not made)."""
    cheap = lambda password: generate_password_hash(password, method=TEST_HASH)  # noqa: E731
    with mock.patch.object(users, "generate_password_hash", cheap):
        for role, name in ACCOUNTS.items():
            users.add_user(db, name, PASSWORD, role, now=1.0)


def csrf_token(client, path: str = "/login") -> str:  # noqa: ANN001 - flask test client
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, role: str) -> None:  # noqa: ANN001 - flask test client
    """Log in through the form with the role's account; the login must redirect."""
    form = {"csrf_token": csrf_token(client), "username": ACCOUNTS[role], "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 302


def copy_site(template: Path, tmp_path: Path) -> Path:
    """A private copy of a site built once per module, so a test's writes stay its own."""
    folder = tmp_path / "site"
    shutil.copytree(template, folder)
    return folder


def one_camera_site(folder: Path, yaml_text: str) -> None:
    """A site folder: cameras.yaml from yaml_text (database t.db), camera quay-1 registered, the three accounts."""
    from monitor.db.store import Writer, open_db

    (folder / "cameras.yaml").write_text(yaml_text, encoding="utf-8")
    db = open_db(folder / "t.db")
    Writer(db).register_cameras([("quay-1", "Quầy 1", True)])
    add_accounts(db)
    db.conn.close()


def zone_editor_token(client, camera: str = "quay-1") -> str:  # noqa: ANN001 - flask test client
    """The CSRF token the zone editor page hands its script."""
    html = client.get(f"/cameras/{camera}/zones").get_data(as_text=True)
    return re.search(r'data-csrf="([^"]+)"', html).group(1)
