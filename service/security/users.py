"""Users: who may call what, stored in the data directory. Plain Python, no spyne.

Passwords are stored as salted scrypt hashes, which is all that HTTP Basic
and WS-Security ``PasswordText`` need. ``PasswordDigest`` is different: the
server must recompute ``Base64(SHA-1(nonce + created + password))``, which
needs the password itself. So a user added with ``--digest`` also gets the
password stored *encrypted* (Fernet: AES-128-CBC with HMAC-SHA256) under a
key kept in ``secret.key`` beside the database, created with mode 0600. The
trade-off: anyone who can read both files can recover digest users'
passwords; keep the data directory readable by the service account only, or
prefer PasswordText over TLS, which needs no recoverable secret.

The nonces of accepted digest tokens live here too (table ``nonces``), so
every worker process refuses a replay, not only the one that saw it first;
with PostgreSQL configured they live in the database instead, shared by every
instance behind the load balancer (``shared_nonces``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from cryptography.fernet import Fernet

from service.storage.connection import PerThreadConnection

ROLES: Final = ("user", "admin")
#: The longest nonce key remembered: a user name (100) and a nonce's base64 (usernametoken
#: bounds both, ~88 by default); anything longer is a caller's bug, never stored.
MAX_NONCE_KEY: Final = 1024
#: Most verdicts of password checks a process remembers (UserStore.verify).
MAX_CACHED: Final = 10_000
_SCRYPT: Final = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    digest_secret BLOB,
    created_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
    nonce   TEXT PRIMARY KEY,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS nonces_expires ON nonces (expires);
"""


class NonceBook(Protocol):
    def remember_nonce(self, nonce: str, expires: float, now: float, limit: int) -> bool: ...


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class UserError(ValueError):
    """A user-management request that cannot be done; the message says why."""


def _hash(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)  # type: ignore[arg-type]
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _matches(password: str, stored: str) -> bool:
    _, salt, _digest = stored.split("$")
    return hmac.compare_digest(_hash(password, base64.b64decode(salt)), stored)


# Compared against when a user does not exist, so both cases take as long.
_DUMMY_HASH: Final = _hash(secrets.token_urlsafe(16))


class UserStore:
    def __init__(
        self,
        data_dir: Path,
        max_nonces: int = 1_000_000,
        shared_nonces: NonceBook | None = None,
        cache_seconds: float = 300.0,
    ) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "users.sqlite3"
        self.key_path = data_dir / "secret.key"
        self.max_nonces = max_nonces
        self.shared_nonces = shared_nonces
        self._connections = PerThreadConnection(self.path, synchronous="NORMAL")
        #: Recent verdicts: HMAC(pepper, name and password) -> (stored hash, right?, until).
        #: Never the password itself; valid while the stored hash is unchanged and for at
        #: most ``cache_seconds``; at most MAX_CACHED entries (the oldest go first).
        self._verdicts: dict[bytes, tuple[str, bool, float]] = {}
        self.cache_seconds = cache_seconds
        self._verdicts_lock = threading.Lock()
        self._pepper = secrets.token_bytes(32)
        self._conn.executescript(_SCHEMA)

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()

    def __enter__(self) -> UserStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fernet(self) -> Fernet:
        if not self.key_path.exists():
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet.generate_key())
        return Fernet(self.key_path.read_bytes())

    # --- management ---

    def add(self, name: str, password: str, role: str = "user", digest: bool = False) -> User:
        if not name or len(name) > 100 or not name.isprintable() or ":" in name:
            raise UserError("a user name is 1 to 100 printable characters, without ':'")
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise UserError("a password has at least 8 characters")
        secret = self._fernet().encrypt(password.encode()) if digest else None
        try:
            self._conn.execute(
                "INSERT INTO users (name, role, password_hash, digest_secret, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, role, _hash(password), secret, time.time()),
            )
        except sqlite3.IntegrityError:
            raise UserError(f"user {name!r} exists already") from None
        return User(name, role)

    def remove(self, name: str) -> None:
        if self._conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
            raise UserError(f"no user {name!r}")

    def list(self) -> list[tuple[User, bool]]:
        rows = self._conn.execute(
            "SELECT name, role, digest_secret IS NOT NULL FROM users ORDER BY name"
        ).fetchall()
        return [(User(name, role), bool(digest)) for name, role, digest in rows]

    # --- verification ---

    def check_password(self, name: str, password: str) -> User | None:
        """The user, if ``password`` is theirs; slow by design, cached per process."""
        return self.verify(name, password)[0]

    def verify(self, name: str, password: str) -> tuple[User | None, bool]:
        """(the user if ``password`` is theirs, whether the cache answered).

        A scrypt, unless the same name and password were checked in this process
        within ``cache_seconds`` and the stored hash has not changed since: right
        ones, so a client signing every request pays one scrypt, and wrong ones, so
        a retried stale password costs nothing (and is no new guess to the throttle).
        """
        row = self._conn.execute(
            "SELECT role, password_hash FROM users WHERE name = ?", (name,)
        ).fetchone()
        stored = row[1] if row else _DUMMY_HASH
        # keyed on a digest of both, so a long name or password costs 32 bytes here
        key = hmac.digest(self._pepper, f"{len(name)}:{name}:{password}".encode(), "sha256")
        now = time.monotonic()
        with self._verdicts_lock:
            cached = self._verdicts.get(key)
        if cached is not None and cached[0] == stored and cached[2] > now:
            ok, from_cache = cached[1], True
        else:
            ok, from_cache = _matches(password, stored), False
            if self.cache_seconds > 0:
                with self._verdicts_lock:
                    self._verdicts.pop(key, None)
                    while len(self._verdicts) >= MAX_CACHED:
                        del self._verdicts[next(iter(self._verdicts))]
                    self._verdicts[key] = (stored, ok, now + self.cache_seconds)
        if not ok or row is None:
            return None, from_cache
        return User(name, row[0]), from_cache

    def digest_secret(self, name: str) -> tuple[User, str] | None:
        row = self._conn.execute(
            "SELECT role, digest_secret FROM users WHERE name = ?", (name,)
        ).fetchone()
        if row is None or row[1] is None:
            return None
        return User(name, row[0]), self._fernet().decrypt(row[1]).decode()

    def remember_nonce(self, nonce: str, expires: float, now: float | None = None) -> bool:
        """False when ``nonce`` was seen and has not expired yet (a replay), or no room."""
        if len(nonce) > MAX_NONCE_KEY:
            raise ValueError(f"a nonce key is at most {MAX_NONCE_KEY} characters")
        now = time.time() if now is None else now
        if self.shared_nonces is not None:
            return self.shared_nonces.remember_nonce(nonce, expires, now, self.max_nonces)
        conn = self._conn
        conn.execute("DELETE FROM nonces WHERE expires < ?", (now,))
        if conn.execute("SELECT COUNT(*) FROM nonces").fetchone()[0] >= self.max_nonces:
            return False
        try:
            conn.execute("INSERT INTO nonces (nonce, expires) VALUES (?, ?)", (nonce, expires))
        except sqlite3.IntegrityError:
            return False
        return True
