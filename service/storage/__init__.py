"""Durable image storage: one interface, plain typed Python (no spyne), two backends.

- ``sqlite``: the embedded default, a file in the data directory (``make run``);
- ``postgres``: selected by a DSN (``--database-url``), for several service
  instances behind a load balancer.

Content is addressed by its sha256: the bytes of an image are stored once
(``blobs``), and each upload is a record (``images``) owned by the user who
sent it. The same user uploading the same bytes again gets the existing record
back. Deleting the last record of a blob deletes the blob, in the same
transaction. Both backends pass the same tests (``tests/test_storage.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol, runtime_checkable

#: The size of the pieces an image is read back in.
CHUNK = 256 * 1024
#: Images up to this size are read whole by ``open_content``, in one statement
#: (a few hundred KiB in memory); larger ones from a snapshot, a piece at a time.
LOAD_WHOLE: Final = CHUNK

#: the trust store's columns (service.security.certificates; SQLite's in users.sqlite3,
#: PostgreSQL's from schema version 5), in insert order
CERTIFICATE_COLUMNS: Final = (
    "fingerprint",
    "user_name",
    "der",
    "ski",
    "thumbprint",
    "issuer",
    "serial",
    "subject",
    "not_after",
    "created_at",
)
#: what certificate_rows selects
CERTIFICATE_ROW: Final = "fingerprint, user_name, der, issuer, subject, not_after"


@dataclass(frozen=True)
class NewImage:
    filename: str
    #: the bytes, or (a large upload) ``Content`` read a piece at a time into the store
    #: inside the transaction, never held whole (service.soap.spooled)
    content: bytes | Content
    content_type: str | None
    sha256: str
    format: str
    width: int
    height: int

    @property
    def size_bytes(self) -> int:
        content = self.content
        return len(content) if isinstance(content, bytes) else content.size


@dataclass(frozen=True)
class ImageRecord:
    image_id: str
    owner: str
    sha256: str
    size_bytes: int
    format: str
    width: int
    height: int
    filename: str
    content_type: str | None
    received_at: datetime
    #: acknowledgement order: a newer upload has a larger one
    seq: int


@dataclass(frozen=True)
class Cursor:
    """Where a page of a listing ends: the last record's position.

    Listings are ordered by ``seq``, the order in which the store acknowledged
    uploads, not by ``received_at``: a wall clock can step backwards (NTP,
    a VM resumed, another instance's clock), an acknowledgement order cannot.
    Callers see it only sealed in a page token (``service.security.keys``).
    """

    seq: int


class StorageError(Exception):
    """The store could not do what was asked (unreachable, full, ...)."""


@runtime_checkable
class Content(Protocol):
    """An image's stored bytes as of one moment, read in pieces, then closed.

    What ``ImageStore.open_content`` gives: the bytes come from the snapshot it
    took, so a delete committed meanwhile cuts nothing short. Not thread-safe, but
    it may be used from one thread after another (opened on one, read on another).
    """

    @property
    def size(self) -> int:
        """How many bytes ``pieces`` gives in all."""

    def pieces(self, size: int = CHUNK) -> Iterator[bytes]:
        """The bytes in order, ``size`` at a time (the last piece may be shorter);
        once only. StorageError if the store has fewer than ``self.size``."""

    def close(self) -> None:
        """Releases the snapshot (and its connection); idempotent."""


class LoadedContent:
    """``Content`` already in memory (a small image, read in one statement)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    @property
    def size(self) -> int:
        return len(self.data)

    def pieces(self, size: int = CHUNK) -> Iterator[bytes]:
        view = memoryview(self.data)
        for start in range(0, len(view), size):
            yield bytes(view[start : start + size])

    def close(self) -> None:
        pass


class ImageStore(Protocol):
    def add(self, image: NewImage, owner: str) -> tuple[ImageRecord, bool]:
        """Stores ``image`` for ``owner``; returns the record and whether it is new."""

    def get(self, image_id: str) -> ImageRecord | None: ...

    def list_images(self, owner: str | None, limit: int, after: Cursor | None) -> list[ImageRecord]:
        """Newest first; ``owner`` None lists everyone's."""

    def delete(self, image_id: str) -> ImageRecord | None:
        """Deletes a record (and its blob when it was the last one); returns it."""

    def chunks(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        """The blob's bytes ``[start, end)``, a chunk at a time."""

    def content(self, image_id: str) -> bytes | None: ...

    def open_content(self, image_id: str) -> Content | None:
        """The bytes of record ``image_id`` as of now, None when there is no such record.

        A large image is read from a snapshot the store holds until ``close``, on a
        connection of its own (the caller may read it on another thread, after the
        request's handler has returned); a small one (``LOAD_WHOLE``) is read at once.
        """

    def ping(self) -> None: ...

    def integrity_problems(self) -> list[str]: ...

    def schema_version(self) -> int: ...

    def upgrade(self) -> int:
        """Creates or migrates the schema to the newest version; returns it."""

    def close(self) -> None: ...

    def __enter__(self) -> ImageStore: ...

    def __exit__(self, *exc: object) -> None: ...


def open_store(database_url: str, data_dir: str, upgrade: bool = True) -> ImageStore:
    """PostgreSQL for a DSN (URI or ``key=value``), else the SQLite file in ``data_dir``.

    ``upgrade`` brings the schema to the newest version first (idempotent).
    """
    if database_url:
        from service.storage.postgres import PostgresImageStore

        return PostgresImageStore(database_url, upgrade=upgrade)
    from pathlib import Path

    from service.storage.sqlite import SqliteImageStore

    return SqliteImageStore(Path(data_dir) / "images.sqlite3", upgrade=upgrade)
