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
every worker process refuses a replay, not only the one that saw it first.

Where they live (a :class:`UserTable`): by default ``users.sqlite3`` in the data
directory. With PostgreSQL configured, the database (``PostgresImageStore``,
schema version 4), so every instance behind the load balancer knows the same
users, nonces and throttle counts: a user added on one logs in on all. Users an
instance still has in its ``users.sqlite3`` are copied into the database when it
first starts on PostgreSQL (names the database has already are left as they are),
and the file is renamed ``users.sqlite3.imported``, so a user removed later does
not come back. The encryption key is a file (``SECRET_KEY_FILE``, default
``secret.key`` in the data directory): instances sharing a database must share it
too, or they cannot read each other's digest users' passwords (they refuse those
users' digest tokens, and log why).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from cryptography.fernet import Fernet, InvalidToken

from service.security.certificates import LOOKUPS, Lookup, TrustStore
from service.security.keys import load_key
from service.storage import CERTIFICATE_COLUMNS, CERTIFICATE_ROW
from service.storage.connection import PerThreadConnection

if TYPE_CHECKING:
    from service.config import Settings

log = logging.getLogger("soap_service.security")
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
CREATE TABLE IF NOT EXISTS certificates (
    fingerprint TEXT PRIMARY KEY,
    user_name   TEXT NOT NULL,
    der         BLOB NOT NULL,
    ski         TEXT NOT NULL,
    thumbprint  TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    serial      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    not_after   REAL NOT NULL,
    created_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS certificates_ski ON certificates (ski);
CREATE INDEX IF NOT EXISTS certificates_thumbprint ON certificates (thumbprint);
CREATE INDEX IF NOT EXISTS certificates_serial ON certificates (serial);
"""


class UserTable(Protocol):
    """Where users and the nonces of accepted digest tokens are kept."""

    def insert_user(
        self, name: str, role: str, password_hash: str, secret: bytes | None, created_at: float
    ) -> bool:
        """False when ``name`` exists already."""

    def delete_user(self, name: str) -> bool:
        """False when there is no ``name``."""

    def user_rows(self) -> list[tuple[str, str, bool]]:
        """(name, role, has a digest secret) for every user, by name."""

    def password_row(self, name: str) -> tuple[str, str] | None:
        """(role, password hash), or None for no such user."""

    def secret_row(self, name: str) -> tuple[str, bytes | None] | None:
        """(role, encrypted digest secret or None), or None for no such user."""

    def remember_nonce(self, nonce: str, expires: float, now: float, limit: int) -> bool:
        """False when ``nonce`` is still remembered (a replay), or ``limit`` are."""

    def insert_certificate(self, row: dict[str, object]) -> bool:
        """False when the fingerprint is there already (service.security.certificates)."""

    def delete_certificate(self, fingerprint: str) -> bool:
        """False when there is no such fingerprint."""

    def certificate_rows(
        self, lookup: Lookup | None = None, value: str = ""
    ) -> list[tuple[str, str, bytes, str, str, float]]:
        """The trust store's rows whose ``lookup`` column is ``value`` (all when None)."""


class SqliteUserTable:
    """``users.sqlite3`` in the data directory: the embedded default."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connections = PerThreadConnection(path, synchronous="NORMAL")
        self._conn.executescript(_SCHEMA)

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()

    def insert_user(
        self, name: str, role: str, password_hash: str, secret: bytes | None, created_at: float
    ) -> bool:
        try:
            self._conn.execute(
                "INSERT INTO users (name, role, password_hash, digest_secret, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, role, password_hash, secret, created_at),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def delete_user(self, name: str) -> bool:
        return bool(self._conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount)

    def user_rows(self) -> list[tuple[str, str, bool]]:
        rows = self._conn.execute(
            "SELECT name, role, digest_secret IS NOT NULL FROM users ORDER BY name"
        ).fetchall()
        return [(name, role, bool(digest)) for name, role, digest in rows]

    def full_rows(self) -> list[tuple[str, str, str, bytes | None, float]]:
        """Every column of every user (for the copy into PostgreSQL)."""
        return self._conn.execute(
            "SELECT name, role, password_hash, digest_secret, created_at FROM users ORDER BY name"
        ).fetchall()

    def password_row(self, name: str) -> tuple[str, str] | None:
        row = self._conn.execute(
            "SELECT role, password_hash FROM users WHERE name = ?", (name,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def secret_row(self, name: str) -> tuple[str, bytes | None] | None:
        row = self._conn.execute(
            "SELECT role, digest_secret FROM users WHERE name = ?", (name,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def remember_nonce(self, nonce: str, expires: float, now: float, limit: int) -> bool:
        conn = self._conn
        conn.execute("DELETE FROM nonces WHERE expires < ?", (now,))
        if conn.execute("SELECT COUNT(*) FROM nonces").fetchone()[0] >= limit:
            return False
        try:
            conn.execute("INSERT INTO nonces (nonce, expires) VALUES (?, ?)", (nonce, expires))
        except sqlite3.IntegrityError:
            return False
        return True

    # --- the trust store (service.security.certificates.CertificateTable) ---

    def insert_certificate(self, row: dict[str, object]) -> bool:
        marks = ", ".join("?" * len(CERTIFICATE_COLUMNS))
        try:
            self._conn.execute(
                f"INSERT INTO certificates ({', '.join(CERTIFICATE_COLUMNS)}) VALUES ({marks})",
                [row[name] for name in CERTIFICATE_COLUMNS],
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def full_certificate_rows(self) -> list[dict[str, object]]:
        """Every column of every certificate (for the copy into PostgreSQL)."""
        rows = self._conn.execute(
            f"SELECT {', '.join(CERTIFICATE_COLUMNS)} FROM certificates"  # noqa: S608
        ).fetchall()
        return [dict(zip(CERTIFICATE_COLUMNS, row, strict=True)) for row in rows]

    def delete_certificate(self, fingerprint: str) -> bool:
        done = self._conn.execute("DELETE FROM certificates WHERE fingerprint = ?", (fingerprint,))
        return bool(done.rowcount)

    def certificate_rows(
        self, lookup: Lookup | None = None, value: str = ""
    ) -> list[tuple[str, str, bytes, str, str, float]]:
        if lookup is None:
            sql = f"SELECT {CERTIFICATE_ROW} FROM certificates ORDER BY user_name, fingerprint"
            return self._conn.execute(sql).fetchall()
        assert lookup in LOOKUPS, lookup  # a column name, never a caller's text
        sql = f"SELECT {CERTIFICATE_ROW} FROM certificates WHERE {lookup} = ? LIMIT 2"  # noqa: S608
        return self._conn.execute(sql, (value,)).fetchall()


def import_into(table: UserTable, data_dir: Path) -> int:
    """Copies the users of ``data_dir``'s ``users.sqlite3`` into ``table`` (names it has
    already are left alone), and its trust store's certificates (fingerprints it has
    already likewise), and renames the file ``users.sqlite3.imported``; returns how
    many users were copied (0, and nothing renamed, when there is no file)."""
    path = data_dir / "users.sqlite3"
    if not path.exists():
        return 0
    local = SqliteUserTable(path)
    try:
        copied = sum(table.insert_user(*row) for row in local.full_rows())
        for row in local.full_certificate_rows():
            table.insert_certificate(row)
    finally:
        local.close()
    path.rename(path.with_name("users.sqlite3.imported"))
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return copied


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
        table: UserTable | None = None,
        cache_seconds: float = 300.0,
        key_path: Path | None = None,
    ) -> None:
        """Users in ``table``, or in ``users.sqlite3`` in ``data_dir`` when None; the
        digest secrets' key in ``key_path`` (default ``data_dir/secret.key``)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "users.sqlite3"
        self.key_path = key_path or data_dir / "secret.key"
        self.max_nonces = max_nonces
        self._own_table = SqliteUserTable(self.path) if table is None else None
        self.table: UserTable = table or self._own_table  # type: ignore[assignment]
        #: Recent verdicts: HMAC(pepper, name and password) -> (stored hash, right?, until).
        #: Never the password itself; valid while the stored hash is unchanged and for at
        #: most ``cache_seconds``; at most MAX_CACHED entries (the oldest go first).
        self._verdicts: dict[bytes, tuple[str, bool, float]] = {}
        self.cache_seconds = cache_seconds
        self._verdicts_lock = threading.Lock()
        self._pepper = secrets.token_bytes(32)

    def close(self) -> None:
        if self._own_table is not None:
            self._own_table.close()

    def __enter__(self) -> UserStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fernet(self) -> Fernet:
        return Fernet(load_key(self.key_path))

    # --- management ---

    def add(self, name: str, password: str, role: str = "user", digest: bool = False) -> User:
        if not name or len(name) > 100 or not name.isprintable() or ":" in name:
            raise UserError("a user name is 1 to 100 printable characters, without ':'")
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise UserError("a password has at least 8 characters")
        secret = self._fernet().encrypt(password.encode()) if digest else None
        if not self.table.insert_user(name, role, _hash(password), secret, time.time()):
            raise UserError(f"user {name!r} exists already")
        return User(name, role)

    @property
    def trust(self) -> TrustStore:
        """The certificates whose signatures name users (``certs add``)."""
        return TrustStore(self.table)

    def role(self, name: str) -> User | None:
        """The user ``name``, without a password (a certificate vouched for them)."""
        row = self.table.password_row(name)
        return User(name, row[0]) if row else None

    def remove(self, name: str) -> None:
        """Removes the user and the certificates trusted for them, so a user added later
        under the same name does not inherit another's certificates."""
        if not self.table.delete_user(name):
            raise UserError(f"no user {name!r}")
        trust = self.trust
        for row in trust.list():
            if row.user == name:
                trust.remove(row.fingerprint)

    def list(self) -> list[tuple[User, bool]]:
        return [(User(name, role), digest) for name, role, digest in self.table.user_rows()]

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
        row = self.table.password_row(name)
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
        row = self.table.secret_row(name)
        if row is None or row[1] is None:
            return None
        try:
            password = self._fernet().decrypt(row[1]).decode()
        except InvalidToken:
            log.warning(
                "user %r's digest secret was encrypted under another key than %s: instances"
                " sharing a database must share SOAP_SERVICE_SECRET_KEY_FILE",
                name,
                self.key_path,
            )
            return None
        return User(name, row[0]), password

    def remember_nonce(self, nonce: str, expires: float, now: float | None = None) -> bool:
        """False when ``nonce`` was seen and has not expired yet (a replay), or no room."""
        if len(nonce) > MAX_NONCE_KEY:
            raise ValueError(f"a nonce key is at most {MAX_NONCE_KEY} characters")
        now = time.time() if now is None else now
        return self.table.remember_nonce(nonce, expires, now, self.max_nonces)


def open_users(settings: Settings, database: UserTable | None = None) -> UserStore:
    """The users ``settings`` name: in ``database`` (PostgreSQL) when given, after
    copying in what the data directory's ``users.sqlite3`` still holds; else that file."""
    if database is not None:
        copied = import_into(database, settings.data_dir)
        if copied:
            log.warning(
                "copied %d user(s) from %s into PostgreSQL; the file is now users.sqlite3.imported",
                copied,
                settings.data_dir / "users.sqlite3",
            )
    return UserStore(
        settings.data_dir,
        table=database,
        cache_seconds=settings.auth_cache_seconds,
        key_path=settings.secret_key_path,
    )
