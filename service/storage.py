"""Durable image storage: plain typed Python, no spyne.

The embedded default is SQLite in the data directory, in WAL mode with
``synchronous=FULL``: a receipt is only returned after the transaction that
holds the whole image has been committed and fsynced, so an acknowledged
upload survives a crash or a power cut. One transaction per upload; a failure
rolls the whole row back, so nothing is ever half-written.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Final, Protocol

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS images (
    image_id     TEXT PRIMARY KEY,
    sha256       TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    format       TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT,
    received_at  TEXT NOT NULL,
    content      BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS images_sha256 ON images (sha256);
CREATE INDEX IF NOT EXISTS images_received_at ON images (received_at);
"""


@dataclass(frozen=True)
class NewImage:
    filename: str
    content: bytes
    content_type: str | None
    sha256: str
    format: str
    width: int
    height: int


@dataclass(frozen=True)
class StoredImage:
    image_id: str
    sha256: str
    size_bytes: int
    format: str
    width: int
    height: int
    filename: str
    content_type: str | None
    received_at: datetime


class ImageStore(Protocol):
    def add(self, image: NewImage) -> StoredImage: ...

    def get(self, image_id: str) -> StoredImage | None: ...

    def content(self, image_id: str) -> bytes | None: ...

    def ping(self) -> None: ...


class SqliteImageStore:
    """Images in one SQLite file; a connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    @property
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def add(self, image: NewImage) -> StoredImage:
        stored = StoredImage(
            image_id=uuid.uuid4().hex,
            sha256=image.sha256,
            size_bytes=len(image.content),
            format=image.format,
            width=image.width,
            height=image.height,
            filename=image.filename,
            content_type=image.content_type,
            received_at=datetime.now(timezone.utc),
        )
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO images (image_id, sha256, size_bytes, format, width, height,"
                " filename, content_type, received_at, content)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stored.image_id,
                    stored.sha256,
                    stored.size_bytes,
                    stored.format,
                    stored.width,
                    stored.height,
                    stored.filename,
                    stored.content_type,
                    stored.received_at.isoformat(),
                    image.content,
                ),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return stored

    def get(self, image_id: str) -> StoredImage | None:
        row = self._conn.execute(
            "SELECT image_id, sha256, size_bytes, format, width, height, filename,"
            " content_type, received_at FROM images WHERE image_id = ?",
            (image_id,),
        ).fetchone()
        if row is None:
            return None
        image_id, sha256, size, fmt, width, height, filename, content_type, at = row
        return StoredImage(
            image_id,
            sha256,
            size,
            fmt,
            width,
            height,
            filename,
            content_type,
            datetime.fromisoformat(at),
        )

    def content(self, image_id: str) -> bytes | None:
        row = self._conn.execute(
            "SELECT content FROM images WHERE image_id = ?", (image_id,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def ping(self) -> None:
        self._conn.execute("SELECT 1").fetchone()
