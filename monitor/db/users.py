"""Web UI accounts: usernames, roles, hashed passwords and each user's UI language."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

ROLES = ("viewer", "supervisor", "admin")  # ordered: each role may do everything the ones before it may
LANGUAGES = ("vi", "en")
MAX_USERNAME = 32
MIN_PASSWORD = 8  # the NIST SP 800-63B floor for passwords people choose themselves
MAX_PASSWORD = 1024  # far beyond any real password; keeps a hostile form post from hashing megabytes
_USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")


class UserExists(ValueError):
    """add_user() for a username already taken."""


class UnknownUser(ValueError):
    """A username that has no account."""


@dataclass(frozen=True)
class User:
    """One account, without its password hash."""

    username: str
    role: str
    language: str | None  # None: follow the site's language
    created: float
    last_login: float | None


def check_username(name: str) -> str:
    """The username if it is valid, else ValueError saying what to change."""
    if not name:
        raise ValueError("username: empty; use 1 to 32 characters such as 'lan' or 'nguyen.van.a'")
    if len(name) > MAX_USERNAME:
        raise ValueError(f"username: {name[:40]!r} is {len(name)} characters; at most {MAX_USERNAME}")
    if not _USERNAME_RE.fullmatch(name):
        hint = f" (try {name.lower()!r})" if _USERNAME_RE.fullmatch(name.lower()) else ""
        raise ValueError(
            f"username: {name!r} may only use lowercase letters a-z, digits, '.', '_' and '-', "
            f"starting with a letter or digit{hint}"
        )
    return name


def check_role(role: str) -> str:
    """The role if it is one of ROLES, else ValueError."""
    if role not in ROLES:
        raise ValueError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    return role


def check_language(language: str) -> str:
    """The language if it is one of LANGUAGES, else ValueError."""
    if language not in LANGUAGES:
        raise ValueError(f"language: {language!r} is not one of {', '.join(LANGUAGES)}")
    return language


def check_password(password: str) -> str:
    """The password if its length is acceptable, else ValueError."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password: {len(password)} characters; use at least {MIN_PASSWORD}")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"password: longer than {MAX_PASSWORD} characters")
    return password


def role_at_least(role: str, minimum: str) -> bool:
    """Whether `role` may do what `minimum` may (unknown roles may do nothing)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(check_role(minimum))


def _user(row: dict[str, Any]) -> User:
    return User(row["username"], row["role"], row["language"], row["created"], row["last_login"])


def add_user(db: sqlite_utils.Database, username: str, password: str, role: str, *, now: float,
             language: str | None = None) -> User:
    """Create an account; raises ValueError (UserExists when the name is taken)."""
    check_username(username)
    check_role(role)
    check_password(password)
    if language is not None:
        check_language(language)
    row = {"username": username, "password_hash": generate_password_hash(password), "role": role,
           "language": language, "created": now, "last_login": None}
    try:
        with db.atomic():
            db["users"].insert(row)
    except sqlite3.IntegrityError:
        raise UserExists(f"user {username!r} already exists") from None
    return _user(row)


def get_user(db: sqlite_utils.Database, username: str) -> User | None:
    """One account by username, or None."""
    cur = db.execute("select * from users where username = ?", [username])
    row = cur.fetchone()
    return _user(dict(zip([c[0] for c in cur.description], row))) if row else None


def list_users(db: sqlite_utils.Database) -> list[User]:
    """Every account, by username."""
    cur = db.execute("select * from users order by username")
    cols = [c[0] for c in cur.description]
    return [_user(dict(zip(cols, row))) for row in cur.fetchall()]


def remove_user(db: sqlite_utils.Database, username: str) -> None:
    """Delete an account; raises UnknownUser when there is none by that name."""
    with db.atomic():
        if db.execute("delete from users where username = ?", [username]).rowcount == 0:
            raise UnknownUser(f"no user {username!r}")


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no such user")


def verify(db: sqlite_utils.Database, username: str, password: str) -> User | None:
    """The account when the password matches, else None (same work whether or not the user exists)."""
    if len(password) > MAX_PASSWORD:
        return None
    row = db.execute("select password_hash from users where username = ?", [username]).fetchone()
    # Hash even for an unknown name, so the response time does not tell which usernames exist.
    ok = check_password_hash(row[0] if row else _dummy_hash(), password)
    return get_user(db, username) if ok and row else None


def set_language(db: sqlite_utils.Database, username: str, language: str) -> None:
    """Store the user's UI language; raises ValueError for an unknown language or user."""
    check_language(language)
    with db.atomic():
        if db.execute("update users set language = ? where username = ?", [language, username]).rowcount == 0:
            raise UnknownUser(f"no user {username!r}")


def record_login(db: sqlite_utils.Database, username: str, now: float) -> None:
    """Stamp the user's last successful login."""
    with db.atomic():
        db.execute("update users set last_login = ? where username = ?", [now, username])
