"""What the SQL backends share: the queries, written once with ``?`` placeholders.

A backend supplies three things: how to run a statement (``_execute``), a
transaction (``_transaction``) and how a row becomes a record (``_record``).
``clock`` stamps ``received_at``; it is only ever shown, never ordered by.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Final, Self

from service.storage import LOAD_WHOLE, Content, Cursor, ImageRecord, LoadedContent

COLUMNS: Final = (
    "i.image_id, i.owner, i.sha256, b.size_bytes, b.format, b.width, b.height,"
    " i.filename, i.content_type, i.received_at, i.seq"
)
JOINED: Final = f"SELECT {COLUMNS} FROM images i JOIN blobs b USING (sha256)"


def utc_now() -> datetime:
    return datetime.now(UTC)


class SqlImageStore:
    """What both SQL backends share; a store is a context manager that closes itself."""

    clock: Callable[[], datetime] = staticmethod(utc_now)

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[object]:
        raise NotImplementedError

    def _record(self, row: Sequence[Any]) -> ImageRecord:
        raise NotImplementedError

    def chunks(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        raise NotImplementedError

    def _snapshot(self, image_id: str) -> Content | None:
        """``open_content`` for a large image: the backend's own snapshot reader."""
        raise NotImplementedError

    def open_content(self, image_id: str) -> Content | None:
        # one statement: the record and (when small) its bytes, as of one moment
        row = self._execute(
            "SELECT b.size_bytes, CASE WHEN b.size_bytes <= ? THEN b.content END"
            " FROM images i JOIN blobs b USING (sha256) WHERE i.image_id = ?",
            (LOAD_WHOLE, image_id),
        ).fetchone()
        if row is None:
            return None
        if row[1] is not None:
            return LoadedContent(bytes(row[1]))
        return self._snapshot(image_id)

    def get(self, image_id: str) -> ImageRecord | None:
        row = self._execute(f"{JOINED} WHERE i.image_id = ?", (image_id,)).fetchone()
        return None if row is None else self._record(row)

    def list_images(self, owner: str | None, limit: int, after: Cursor | None) -> list[ImageRecord]:
        where: list[str] = []
        params: list[object] = []
        if owner is not None:
            where.append("i.owner = ?")
            params.append(owner)
        if after is not None:
            where.append("i.seq < ?")
            params.append(after.seq)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._execute(
            f"{JOINED} {clause} ORDER BY i.seq DESC LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [self._record(row) for row in rows]

    def delete(self, image_id: str) -> ImageRecord | None:
        with self._transaction():
            record = self.get(image_id)
            if record is not None:
                self._execute("DELETE FROM images WHERE image_id = ?", (image_id,))
                self._execute(
                    "DELETE FROM blobs WHERE sha256 = ? AND NOT EXISTS"
                    " (SELECT 1 FROM images WHERE sha256 = ?)",
                    (record.sha256, record.sha256),
                )
        return record

    def content(self, image_id: str) -> bytes | None:
        record = self.get(image_id)
        if record is None:
            return None
        return b"".join(self.chunks(record.sha256, 0, record.size_bytes))

    def integrity_problems(self) -> list[str]:
        """What is inconsistent: orphaned blobs or records, bytes that fail their hash."""
        problems = [
            f"orphaned blob {sha}"
            for (sha,) in self._execute(
                "SELECT sha256 FROM blobs b WHERE NOT EXISTS"
                " (SELECT 1 FROM images i WHERE i.sha256 = b.sha256)"
            ).fetchall()
        ]
        problems += [
            f"record {image_id} without its blob"
            for (image_id,) in self._execute(
                "SELECT image_id FROM images i WHERE NOT EXISTS"
                " (SELECT 1 FROM blobs b WHERE b.sha256 = i.sha256)"
            ).fetchall()
        ]
        for sha, size in self._execute("SELECT sha256, size_bytes FROM blobs").fetchall():
            digest = hashlib.sha256()
            length = 0
            for chunk in self.chunks(sha, 0, size):
                digest.update(chunk)
                length += len(chunk)
            if digest.hexdigest() != sha or length != size:
                problems.append(f"blob {sha} does not hash to its name")
        return problems

    def ping(self) -> None:
        self._execute("SELECT 1").fetchone()
