"""The PostgreSQL backend: several service instances on one database.

Selected by a DSN (``--database-url postgresql://...``). The schema is
versioned in ``schema_version`` and migrated by ``soap-service db upgrade``
(and at start-up) under an advisory lock, so instances starting together do
not race. Blob bytes are stored uncompressed (``STORAGE EXTERNAL``) so reads
of a range are slices, not whole-value fetches; downloads read a chunk at a
time. Commits are synchronous (the server's default ``synchronous_commit``):
a receipt is only returned once the upload's transaction is durable.
``open_content`` reads a large image in slices inside a read-only REPEATABLE
READ transaction of its own connection: one snapshot, so a delete committed
meanwhile does not cut the read short (the bytea column stays; no migration).
"""

from __future__ import annotations

import struct
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC
from typing import Any, Final

import psycopg
from psycopg.conninfo import conninfo_to_dict

from service.storage import (
    CERTIFICATE_COLUMNS,
    CERTIFICATE_ROW,
    CHUNK,
    Content,
    ImageRecord,
    NewImage,
    StorageError,
)
from service.storage.sql import JOINED, SqlImageStore

MIGRATIONS: Final[dict[int, list[str]]] = {
    1: [
        """CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY, size_bytes BIGINT NOT NULL, format TEXT NOT NULL,
            width INTEGER NOT NULL, height INTEGER NOT NULL, content BYTEA NOT NULL)""",
        "ALTER TABLE blobs ALTER COLUMN content SET STORAGE EXTERNAL",
        """CREATE TABLE images (
            image_id TEXT PRIMARY KEY, owner TEXT NOT NULL,
            sha256 TEXT NOT NULL REFERENCES blobs (sha256),
            filename TEXT NOT NULL, content_type TEXT, received_at TIMESTAMPTZ NOT NULL,
            UNIQUE (owner, sha256))""",
        "CREATE INDEX images_by_time ON images (received_at DESC, image_id DESC)",
        "CREATE INDEX images_by_owner ON images (owner, received_at DESC, image_id DESC)",
    ],
    # 2: WS-Security nonces, shared by every instance on this database
    2: [
        "CREATE TABLE nonces (nonce TEXT PRIMARY KEY, expires DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX nonces_expires ON nonces (expires)",
    ],
    # 3: listings follow acknowledgement order (seq), not the wall clock, which
    #    can step backwards and differs between instances.
    3: [
        "ALTER TABLE images ADD COLUMN seq BIGINT",
        """UPDATE images SET seq = ranked.n FROM (
            SELECT image_id, row_number() OVER (ORDER BY received_at, image_id) AS n FROM images
        ) AS ranked WHERE images.image_id = ranked.image_id""",
        "CREATE SEQUENCE images_seq OWNED BY images.seq",
        "SELECT setval('images_seq', coalesce((SELECT max(seq) FROM images), 0) + 1, false)",
        "ALTER TABLE images ALTER COLUMN seq SET DEFAULT nextval('images_seq')",
        "ALTER TABLE images ALTER COLUMN seq SET NOT NULL",
        "DROP INDEX images_by_time",
        "DROP INDEX images_by_owner",
        "CREATE UNIQUE INDEX images_by_seq ON images (seq DESC)",
        "CREATE INDEX images_by_owner ON images (owner, seq DESC)",
    ],
    # 4: users, and the throttle's failure counts, shared by every instance
    #    (service.security.users, service.security.throttle)
    4: [
        """CREATE TABLE users (
            name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
            digest_secret BYTEA, created_at DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE auth_failures (
            kind TEXT NOT NULL, key TEXT NOT NULL, failures INTEGER NOT NULL,
            last_at DOUBLE PRECISION NOT NULL, until_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (kind, key))""",
        "CREATE INDEX auth_failures_last ON auth_failures (last_at)",
    ],
    # 5: the trust store of X.509 certificates, each mapped to a user
    #    (service.security.certificates)
    5: [
        """CREATE TABLE certificates (
            fingerprint TEXT PRIMARY KEY, user_name TEXT NOT NULL, der BYTEA NOT NULL,
            ski TEXT NOT NULL, thumbprint TEXT NOT NULL, issuer TEXT NOT NULL,
            serial TEXT NOT NULL, subject TEXT NOT NULL, not_after DOUBLE PRECISION NOT NULL,
            created_at DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX certificates_ski ON certificates (ski)",
        "CREATE INDEX certificates_thumbprint ON certificates (thumbprint)",
        "CREATE INDEX certificates_serial ON certificates (serial)",
    ],
}
LATEST: Final = max(MIGRATIONS)
_LOCK: Final = 0x50A9_5E41  # advisory lock id for migrations


class PostgresImageStore(SqlImageStore):
    """Images in PostgreSQL; a connection per thread."""

    def __init__(self, dsn: str, upgrade: bool = True) -> None:
        try:
            conninfo_to_dict(dsn)
        except psycopg.ProgrammingError:  # its message may quote the DSN: not repeated
            raise StorageError(
                "the database URL is not a PostgreSQL connection string"
                " (postgresql://user@host:port/dbname or key=value pairs)"
            ) from None
        self.dsn = dsn
        self._local = threading.local()
        if upgrade:
            self.upgrade()

    @property
    def _conn(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            try:
                conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
            except psycopg.OperationalError as error:
                raise StorageError("the database cannot be reached") from error
            self._local.conn = conn
        return conn

    def _execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self._conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    def _transaction(self) -> AbstractContextManager[object]:
        return self._conn.transaction()

    def _record(self, row: Sequence[Any]) -> ImageRecord:
        *head, received_at, seq = row
        return ImageRecord(*head, received_at.astimezone(UTC), seq)  # type: ignore[call-arg]

    def schema_version(self) -> int:
        row = self._conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return 0
        found = self._conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(found[0] or 0) if found else 0

    def upgrade(self) -> int:
        conn = self._conn
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            for target in range(self.schema_version() + 1, LATEST + 1):
                for statement in MIGRATIONS[target]:
                    conn.execute(statement)  # type: ignore[arg-type]
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (target,))
        return LATEST

    def add(self, image: NewImage, owner: str) -> tuple[ImageRecord, bool]:
        conn = self._conn
        content = image.content
        with conn.transaction():
            if isinstance(content, bytes):
                conn.execute(
                    "INSERT INTO blobs (sha256, size_bytes, format, width, height, content)"
                    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING",
                    (image.sha256, len(content), image.format, image.width, image.height, content),
                )
            else:
                self._copy_blob(image, content)
            inserted = conn.execute(
                "INSERT INTO images (image_id, owner, sha256, filename, content_type, received_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (owner, sha256) DO NOTHING"
                " RETURNING image_id",
                (
                    uuid.uuid4().hex,
                    owner,
                    image.sha256,
                    image.filename,
                    image.content_type,
                    self.clock(),
                ),
            ).fetchone()
            row = conn.execute(
                f"{JOINED} WHERE i.owner = %s AND i.sha256 = %s", (owner, image.sha256)
            ).fetchone()
        assert row is not None
        return self._record(row), inserted is not None

    def _copy_blob(self, image: NewImage, content: Content) -> None:
        """A large upload's blob, written by a binary COPY a piece at a time (the bytea is
        never held here). COPY has no ON CONFLICT: a lock on the sha256 (for this
        transaction) orders uploads of the same bytes, and the second finds the blob."""
        conn = self._conn
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 17))", (image.sha256,))
        if conn.execute("SELECT 1 FROM blobs WHERE sha256 = %s", (image.sha256,)).fetchone():
            return
        size = content.size
        fields = [
            image.sha256.encode(),
            struct.pack(">q", size),
            image.format.encode(),
            struct.pack(">i", image.width),
            struct.pack(">i", image.height),
        ]
        with conn.cursor().copy(
            "COPY blobs (sha256, size_bytes, format, width, height, content)"
            " FROM STDIN (FORMAT BINARY)"
        ) as copy:
            # the binary COPY format: signature, flags, header extension; one tuple of six
            # fields, each its length then its bytes; the trailer
            head = bytearray(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
            head += struct.pack(">h", 6)
            for field in fields:
                head += struct.pack(">i", len(field)) + field
            head += struct.pack(">i", size)
            copy.write(bytes(head))
            written = 0
            for piece in content.pieces():
                written += len(piece)
                if written > size:
                    raise StorageError(f"the upload has more bytes than its size ({size})")
                copy.write(piece)
            if written != size:
                raise StorageError(f"the upload has {written} bytes of {size}")
            copy.write(struct.pack(">h", -1))

    def chunks(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        position = start
        while position < end:
            row = self._conn.execute(
                "SELECT substring(content FROM %s FOR %s) FROM blobs WHERE sha256 = %s",
                (position + 1, min(CHUNK, end - position), sha256),
            ).fetchone()
            if row is None or not row[0]:
                return
            data = bytes(row[0])
            position += len(data)
            yield data

    def _snapshot(self, image_id: str) -> _SliceSnapshot | None:
        # its own connection: it is read after the handler returns, maybe on another
        # thread, while this thread's connection serves other requests
        try:
            conn = psycopg.connect(self.dsn, connect_timeout=10)
        except psycopg.OperationalError as error:
            raise StorageError("the database cannot be reached") from error
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            # the snapshot is taken by the transaction's first statement
            row = conn.execute(
                "SELECT b.sha256, b.size_bytes FROM images i JOIN blobs b USING (sha256)"
                " WHERE i.image_id = %s",
                (image_id,),
            ).fetchone()
        except BaseException:
            conn.close()
            raise
        if row is None:
            conn.close()
            return None
        return _SliceSnapshot(conn, str(row[0]), int(row[1]))

    def remember_nonce(self, nonce: str, expires: float, now: float, limit: int) -> bool:
        """False when ``nonce`` is still remembered (a replay), or ``limit`` are."""
        conn = self._conn
        with conn.transaction():
            conn.execute("DELETE FROM nonces WHERE expires < %s", (now,))
            count = conn.execute("SELECT count(*) FROM nonces").fetchone()
            if count is not None and count[0] >= limit:
                return False
            inserted = conn.execute(
                "INSERT INTO nonces (nonce, expires) VALUES (%s, %s)"
                " ON CONFLICT (nonce) DO NOTHING RETURNING nonce",
                (nonce, expires),
            ).fetchone()
        return inserted is not None

    # --- users (service.security.users.UserTable) ---

    def insert_user(
        self, name: str, role: str, password_hash: str, secret: bytes | None, created_at: float
    ) -> bool:
        inserted = self._conn.execute(
            "INSERT INTO users (name, role, password_hash, digest_secret, created_at)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO NOTHING RETURNING name",
            (name, role, password_hash, secret, created_at),
        ).fetchone()
        return inserted is not None

    def delete_user(self, name: str) -> bool:
        return bool(self._conn.execute("DELETE FROM users WHERE name = %s", (name,)).rowcount)

    def user_rows(self) -> list[tuple[str, str, bool]]:
        rows = self._conn.execute(
            "SELECT name, role, digest_secret IS NOT NULL FROM users ORDER BY name"
        ).fetchall()
        return [(name, role, bool(digest)) for name, role, digest in rows]

    def password_row(self, name: str) -> tuple[str, str] | None:
        row = self._conn.execute(
            "SELECT role, password_hash FROM users WHERE name = %s", (name,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def secret_row(self, name: str) -> tuple[str, bytes | None] | None:
        row = self._conn.execute(
            "SELECT role, digest_secret FROM users WHERE name = %s", (name,)
        ).fetchone()
        if row is None:
            return None
        return row[0], None if row[1] is None else bytes(row[1])

    # --- the trust store (service.security.certificates.CertificateTable) ---

    def insert_certificate(self, row: dict[str, object]) -> bool:
        marks = ", ".join(["%s"] * len(CERTIFICATE_COLUMNS))
        inserted = self._conn.execute(
            f"INSERT INTO certificates ({', '.join(CERTIFICATE_COLUMNS)}) VALUES ({marks})"  # type: ignore[arg-type]
            " ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint",
            [row[name] for name in CERTIFICATE_COLUMNS],
        ).fetchone()
        return inserted is not None

    def delete_certificate(self, fingerprint: str) -> bool:
        done = self._conn.execute("DELETE FROM certificates WHERE fingerprint = %s", (fingerprint,))
        return bool(done.rowcount)

    def certificate_rows(
        self, lookup: str | None = None, value: str = ""
    ) -> list[tuple[str, str, bytes, str, str, float]]:
        if lookup is None:
            sql = f"SELECT {CERTIFICATE_ROW} FROM certificates ORDER BY user_name, fingerprint"
            rows = self._conn.execute(sql).fetchall()  # type: ignore[call-overload]
        else:
            assert lookup in ("fingerprint", "ski", "thumbprint", "serial"), lookup
            sql = f"SELECT {CERTIFICATE_ROW} FROM certificates WHERE {lookup} = %s LIMIT 2"  # noqa: S608
            rows = self._conn.execute(sql, (value,)).fetchall()  # type: ignore[call-overload]
        return [(f, u, bytes(d), i, s, float(n)) for f, u, d, i, s, n in rows]

    # --- failed credential checks (service.security.throttle.FailureBook) ---

    def failure_wait(self, keys: Sequence[tuple[str, str]], now: float) -> float:
        clauses = " OR ".join(["(kind = %s AND key = %s)"] * len(keys))
        row = self._conn.execute(
            f"SELECT coalesce(max(until_at), 0) FROM auth_failures WHERE {clauses}",  # noqa: S608
            [part for pair in keys for part in pair],
        ).fetchone()
        return max(0.0, float(row[0]) - now) if row else 0.0

    def record_failure(self, kind: str, key: str, now: float, forget_after: float) -> int:
        conn = self._conn
        stale = now - forget_after
        with conn.transaction():
            conn.execute(
                "DELETE FROM auth_failures WHERE last_at < %s AND until_at <= %s", (stale, now)
            )
            row = conn.execute(
                "INSERT INTO auth_failures (kind, key, failures, last_at, until_at)"
                " VALUES (%s, %s, 1, %s, 0) ON CONFLICT (kind, key) DO UPDATE"
                " SET failures = auth_failures.failures + 1, last_at = EXCLUDED.last_at"
                " RETURNING failures",
                (kind, key, now),
            ).fetchone()
        return int(row[0]) if row else 1

    def block_until(self, kind: str, key: str, until: float) -> None:
        self._conn.execute(
            "UPDATE auth_failures SET until_at = greatest(until_at, %s) WHERE kind = %s AND key = %s",
            (until, kind, key),
        )

    def forget_failures(self, kind: str, key: str) -> None:
        self._conn.execute("DELETE FROM auth_failures WHERE kind = %s AND key = %s", (kind, key))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class _SliceSnapshot:
    """A bytea read in slices (``substring``) inside one REPEATABLE READ transaction."""

    def __init__(self, conn: psycopg.Connection[Any], sha256: str, size: int) -> None:
        self._conn = conn
        self._sha256 = sha256
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    def pieces(self, size: int = CHUNK) -> Iterator[bytes]:
        position = 0
        while position < self._size:
            row = self._conn.execute(
                "SELECT substring(content FROM %s FOR %s) FROM blobs WHERE sha256 = %s",
                (position + 1, min(size, self._size - position), self._sha256),
                binary=True,
            ).fetchone()
            data = bytes(row[0]) if row is not None and row[0] is not None else b""
            if not data:
                raise StorageError(f"the blob has {position} bytes of {self._size}")
            position += len(data)
            yield data

    def close(self) -> None:
        self._conn.close()  # ends the transaction (rolled back: it only read)
