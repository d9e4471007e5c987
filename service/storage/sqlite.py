"""The SQLite backend: the embedded default.

Durability: WAL journal with ``synchronous=FULL``, so a commit is fsynced
before a receipt is returned; an acknowledged upload survives a crash or a
power cut (NORMAL would only survive a process crash). One ``BEGIN
IMMEDIATE`` transaction per write: nothing is ever half-written. Reads of
image bytes go through SQLite's incremental blob I/O, a chunk at a time;
``open_content`` reads a large image inside a read transaction of its own
connection, which in WAL mode is a snapshot: writers go on, and a delete
committed meanwhile does not cut the read short.

Speed for large images: a new database has 64 KiB pages (``PAGE_SIZE``; a 10 MiB
image is 160 overflow pages, not 2,560), and checkpoints run on a thread of their
own (``Checkpointer``), not in the COMMIT of whichever upload crossed the WAL
threshold, before its answer. A database made with another page size
keeps it (SQLite changes it only by ``VACUUM`` outside WAL mode; the README shows
how).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from service.ns import UTC_FORMAT
from service.storage import CHUNK, Content, ImageRecord, NewImage, StorageError
from service.storage.connection import Checkpointer, PerThreadConnection
from service.storage.sql import JOINED, SqlImageStore

#: Version -> statements that bring the previous version to it.
MIGRATIONS: Final[dict[int, str]] = {
    # 1: the first layout (one table, bytes in each row)
    1: """
CREATE TABLE IF NOT EXISTS images (
    image_id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size_bytes INTEGER NOT NULL,
    format TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
    filename TEXT NOT NULL, content_type TEXT, received_at TEXT NOT NULL,
    content BLOB NOT NULL
);
""",
    # 2: content addressed blobs, owned records, listing indexes. Version 1 wrote
    #    received_at as Python's UTC isoformat (no fraction when it was zero).
    2: """
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY, size_bytes INTEGER NOT NULL, format TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, content BLOB NOT NULL
);
ALTER TABLE images RENAME TO images_v1;
CREATE TABLE images (
    image_id TEXT PRIMARY KEY, owner TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    filename TEXT NOT NULL, content_type TEXT, received_at TEXT NOT NULL,
    UNIQUE (owner, sha256)
);
INSERT OR IGNORE INTO blobs
    SELECT sha256, size_bytes, format, width, height, content FROM images_v1;
INSERT OR IGNORE INTO images
    SELECT image_id, '', sha256, filename, content_type,
           substr(received_at, 1, 19) || '.' ||
           CASE WHEN substr(received_at, 20, 1) = '.' THEN substr(received_at, 21, 6)
                ELSE '000000' END || 'Z'
    FROM images_v1;
DROP TABLE images_v1;
CREATE INDEX images_by_time ON images (received_at DESC, image_id DESC);
CREATE INDEX images_by_owner ON images (owner, received_at DESC, image_id DESC);
""",
    # 3: listings follow acknowledgement order (seq), not the wall clock, which
    #    can step backwards; existing records keep their time order.
    3: """
ALTER TABLE images ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE images SET seq = ranked.n FROM (
    SELECT image_id, row_number() OVER (ORDER BY received_at, image_id) AS n FROM images
) AS ranked WHERE images.image_id = ranked.image_id;
CREATE TABLE image_seq (last INTEGER NOT NULL);
INSERT INTO image_seq SELECT coalesce(max(seq), 0) FROM images;
DROP INDEX images_by_time;
DROP INDEX images_by_owner;
CREATE UNIQUE INDEX images_by_seq ON images (seq DESC);
CREATE INDEX images_by_owner ON images (owner, seq DESC);
""",
}
LATEST: Final = max(MIGRATIONS)
#: a new database's page size (SQLite's largest)
PAGE_SIZE: Final = 65536
#: the WAL is copied into the database and started again once it is larger than this
WAL_LIMIT: Final = 64 * 1024 * 1024


class SqliteImageStore(SqlImageStore):
    """Images in one SQLite file; a connection per thread."""

    def __init__(self, path: Path, upgrade: bool = True, wal_limit: int = WAL_LIMIT) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connections = PerThreadConnection(
            path,
            synchronous="FULL",
            foreign_keys=True,
            page_size=PAGE_SIZE,
            autocheckpoint=False,
            wal_limit=wal_limit,
        )
        self.checkpointer = Checkpointer(path, synchronous="FULL", wal_limit=wal_limit)
        if upgrade:
            self.upgrade()

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def _execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self._conn.execute(sql, params)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self.checkpointer.wrote()

    def _record(self, row: Sequence[Any]) -> ImageRecord:
        *head, received_at, seq = row
        moment = datetime.strptime(str(received_at), UTC_FORMAT).replace(tzinfo=UTC)
        return ImageRecord(*head, moment, seq)  # type: ignore[call-arg]

    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def upgrade(self) -> int:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = self.schema_version()
            if (
                version == 0
                and conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'images'").fetchone()
            ):
                version = 1  # made before versions were recorded
            for target in range(version + 1, LATEST + 1):
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return LATEST

    def add(self, image: NewImage, owner: str) -> tuple[ImageRecord, bool]:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            existing = conn.execute(
                f"{JOINED} WHERE i.owner = ? AND i.sha256 = ?", (owner, image.sha256)
            ).fetchone()
            if existing:
                conn.execute("COMMIT")
                return self._record(existing), False
            content = image.content
            if isinstance(content, bytes):
                conn.execute(
                    "INSERT OR IGNORE INTO blobs"
                    " (sha256, size_bytes, format, width, height, content)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (image.sha256, len(content), image.format, image.width, image.height, content),
                )
            else:
                # a large upload: zeroblob(n) reserves the bytes, incremental blob I/O
                # writes them a piece at a time, in this transaction (one fsync at COMMIT)
                inserted = conn.execute(
                    "INSERT OR IGNORE INTO blobs"
                    " (sha256, size_bytes, format, width, height, content)"
                    " VALUES (?, ?, ?, ?, ?, zeroblob(?))",
                    (
                        image.sha256,
                        content.size,
                        image.format,
                        image.width,
                        image.height,
                        content.size,
                    ),
                )
                if inserted.rowcount:
                    _write_blob(conn, inserted.lastrowid, content)
            # The write lock taken by BEGIN IMMEDIATE orders these; numbers never repeat.
            conn.execute("UPDATE image_seq SET last = last + 1")
            (seq,) = conn.execute("SELECT last FROM image_seq").fetchone()
            record = ImageRecord(
                image_id=uuid.uuid4().hex,
                owner=owner,
                sha256=image.sha256,
                size_bytes=image.size_bytes,
                format=image.format,
                width=image.width,
                height=image.height,
                filename=image.filename,
                content_type=image.content_type,
                received_at=self.clock(),
                seq=seq,
            )
            conn.execute(
                "INSERT INTO images"
                " (image_id, owner, sha256, filename, content_type, received_at, seq)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.image_id,
                    owner,
                    image.sha256,
                    image.filename,
                    image.content_type,
                    record.received_at.strftime(UTC_FORMAT),
                    seq,
                ),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.checkpointer.wrote()
        return record, True

    def chunks(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        row = self._conn.execute("SELECT rowid FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            return
        with self._conn.blobopen("blobs", "content", row[0], readonly=True) as blob:
            blob.seek(start)
            position = start
            while position < end:
                data = blob.read(min(CHUNK, end - position))
                if not data:
                    break
                position += len(data)
                yield data

    def _snapshot(self, image_id: str) -> _BlobSnapshot | None:
        # its own connection: it is read after the handler returns, maybe on another
        # thread, while this thread's connection serves other requests
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("BEGIN")  # the snapshot begins with the first read
            row = conn.execute(
                "SELECT b.rowid, b.size_bytes FROM images i JOIN blobs b USING (sha256)"
                " WHERE i.image_id = ?",
                (image_id,),
            ).fetchone()
            if row is None:
                conn.close()
                return None
            blob = conn.blobopen("blobs", "content", row[0], readonly=True)
        except BaseException:
            conn.close()
            raise
        return _BlobSnapshot(conn, blob, int(row[1]))

    def close(self) -> None:
        self.checkpointer.close()
        self._connections.close()


def _write_blob(conn: sqlite3.Connection, rowid: int | None, content: Content) -> None:
    assert rowid is not None
    written = 0
    with conn.blobopen("blobs", "content", rowid) as blob:
        for piece in content.pieces():
            if written + len(piece) > content.size:
                raise StorageError(f"the upload has more bytes than its size ({content.size})")
            blob.write(piece)
            written += len(piece)
    if written != content.size:
        raise StorageError(f"the upload has {written} bytes of {content.size}")


class _BlobSnapshot:
    """A blob read through incremental blob I/O inside one read transaction."""

    def __init__(self, conn: sqlite3.Connection, blob: sqlite3.Blob, size: int) -> None:
        self._conn = conn
        self._blob = blob
        self._size = size
        self._closed = False

    @property
    def size(self) -> int:
        return self._size

    def pieces(self, size: int = CHUNK) -> Iterator[bytes]:
        position = 0
        while position < self._size:
            data = self._blob.read(min(size, self._size - position))
            if not data:
                raise StorageError(f"the blob has {position} bytes of {self._size}")
            position += len(data)
            yield data

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._blob.close()
            self._conn.close()  # ends the read transaction
