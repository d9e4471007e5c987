"""The storage contract: every backend passes the same tests.

SQLite, and PostgreSQL: this checkout's own cluster, or the server
``SOAP_TEST_DATABASE_URL`` names (tests/pg.py); a fresh database is created for
the run and dropped after. A missing PostgreSQL fails the run, never skips it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.storage import Cursor, ImageStore, NewImage, open_store
from service.storage.sqlite import LATEST as SQLITE_LATEST
from service.storage.sqlite import MIGRATIONS, WAL_LIMIT, SqliteImageStore
from service.storage.sqlite import PAGE_SIZE as SQLITE_PAGE_SIZE
from tests.pg import fresh_database


def image(content: bytes, name: str = "a.png") -> NewImage:
    return NewImage(name, content, "image/png", hashlib.sha256(content).hexdigest(), "png", 1, 1)


@pytest.fixture(scope="module")
def pg_dsn() -> Iterator[str]:
    with fresh_database() as dsn:
        yield dsn


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ImageStore]:
    dsn = "" if request.param == "sqlite" else request.getfixturevalue("pg_dsn")
    with open_store(dsn, str(tmp_path)) as made:
        if dsn:
            made._conn.execute("TRUNCATE images, blobs")  # type: ignore[attr-defined]
        yield made


def test_add_get_and_read_back(store: ImageStore) -> None:
    record, new = store.add(image(b"first"), owner="ada")
    assert new and record.owner == "ada" and record.size_bytes == 5
    assert store.get(record.image_id) == record
    assert store.content(record.image_id) == b"first"
    assert store.get("missing") is None and store.content("missing") is None


def test_same_bytes_same_owner_is_the_same_record(store: ImageStore) -> None:
    first, _ = store.add(image(b"same", "one.png"), owner="ada")
    again, new = store.add(image(b"same", "two.png"), owner="ada")
    assert not new and again == first


def test_same_bytes_other_owners_share_one_blob(store: ImageStore) -> None:
    ada, _ = store.add(image(b"shared"), owner="ada")
    bob, new = store.add(image(b"shared"), owner="bob")
    assert new and bob.image_id != ada.image_id and bob.sha256 == ada.sha256
    assert store.delete(ada.image_id) == ada
    assert store.content(bob.image_id) == b"shared"
    assert store.delete(bob.image_id) == bob
    assert store.delete(bob.image_id) is None
    assert store.integrity_problems() == []


def test_listing_is_newest_first_and_pages(store: ImageStore) -> None:
    made = [store.add(image(f"img-{i}".encode()), owner="ada")[0] for i in range(7)]
    store.add(image(b"other"), owner="bob")
    seen, after = [], None
    while True:
        page = store.list_images("ada", 3, after)
        seen += page
        if len(page) < 3:
            break
        after = Cursor(page[-1].seq)
    assert [r.image_id for r in seen] == [r.image_id for r in reversed(made)]
    assert len(store.list_images(None, 100, None)) == 8


def test_listing_follows_acknowledgement_order_when_the_clock_steps_back(
    store: ImageStore,
) -> None:
    # A wall clock can go backwards (NTP, a resumed VM, another instance's
    # clock); the order in which uploads were acknowledged cannot.
    times = iter(datetime(2026, 11, 21, 12, 0, s, tzinfo=UTC) for s in (30, 10, 50, 0, 20, 5))
    store.clock = lambda: next(times)  # type: ignore[attr-defined]
    made = [store.add(image(f"clock-{i}".encode()), owner="ada")[0] for i in range(5)]
    assert [r.received_at.second for r in made] == [30, 10, 50, 0, 20]
    seen = store.list_images("ada", 2, None)
    seen += store.list_images("ada", 2, Cursor(seen[-1].seq))
    seen += store.list_images("ada", 2, Cursor(seen[-1].seq))
    assert [r.image_id for r in seen] == [r.image_id for r in reversed(made)]
    store.delete(made[-1].image_id)
    again, _ = store.add(image(b"clock-again"), owner="ada")
    assert again.seq > made[-1].seq  # a number is never handed out twice


def test_ranges_are_read_in_chunks(store: ImageStore) -> None:
    data = os.urandom(700_000)
    record, _ = store.add(image(data), owner="ada")
    for start, end in [(0, len(data)), (1, 2), (100, 400_000), (len(data) - 5, len(data))]:
        chunks = list(store.chunks(record.sha256, start, end))
        assert b"".join(chunks) == data[start:end]
        assert all(len(c) <= 256 * 1024 for c in chunks)


def test_a_failed_add_leaves_nothing(store: ImageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> uuid.UUID:
        raise RuntimeError("disk says no")

    monkeypatch.setattr(uuid, "uuid4", broken)
    with pytest.raises(RuntimeError):
        store.add(image(b"never"), owner="ada")
    monkeypatch.undo()
    assert store.list_images(None, 10, None) == []
    assert store.integrity_problems() == []


def test_schema_is_current_and_upgrade_is_idempotent(store: ImageStore) -> None:
    version = store.schema_version()
    assert version >= 1
    assert store.upgrade() == version == store.schema_version()


def test_sqlite_uses_wal_and_full_sync(tmp_path: Path) -> None:
    with SqliteImageStore(tmp_path / "db.sqlite3") as store:
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_new_sqlite_database_has_large_pages_and_checkpoints_off_the_writers(
    tmp_path: Path,
) -> None:
    with SqliteImageStore(tmp_path / "db.sqlite3") as store:
        assert store._conn.execute("PRAGMA page_size").fetchone()[0] == SQLITE_PAGE_SIZE
        assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        assert store._conn.execute("PRAGMA journal_size_limit").fetchone()[0] == WAL_LIMIT


def test_an_existing_sqlite_database_keeps_its_page_size(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path = tmp_path / "images.sqlite3"
    old = sqlite3.connect(path)
    old.execute("PRAGMA journal_mode=WAL")  # made by an earlier version: 4 KiB pages
    old.close()
    store = SqliteImageStore(path)
    request.addfinalizer(store.close)
    assert store._conn.execute("PRAGMA page_size").fetchone()[0] == 4096
    data = os.urandom(1_500_000)
    record, _ = store.add(streamed(data), owner="ada")
    assert store.content(record.image_id) == data and store.integrity_problems() == []


def wal_frames(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames of it already copied into the database)."""
    with sqlite3.connect(path) as probe:
        _, frames, copied = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    probe.close()
    return frames, copied


def test_writes_are_checkpointed_by_the_background_thread(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with SqliteImageStore(path) as store:
        for n in range(3):
            store.add(streamed(os.urandom(700_000) + bytes([n])), owner="ada")
        assert store.checkpointer.settle(timeout=30)
        threads = [t.name for t in threading.enumerate()]
        assert "sqlite-checkpoint" in threads
        # the checkpointer copied it all (this probe's own checkpoint found nothing
        # left to do: both counts equal, and SQLite's automatic checkpoint is off)
        frames, copied = wal_frames(path)
        assert frames == copied and frames > 0
    assert "sqlite-checkpoint" not in [t.name for t in threading.enumerate()]


def test_a_wal_past_its_limit_is_started_again_and_a_reader_holds_no_writer_back(
    tmp_path: Path,
) -> None:
    """A PASSIVE checkpoint never catches up with writers that follow each other
    without a gap (the WAL grew to 542 MiB under `make bench`'s uploads); past the
    limit a RESTART copies the rest and the next writer starts the WAL again. A
    reader's old snapshot (a GetImage streaming) makes the RESTART give up, not wait."""
    path = tmp_path / "db.sqlite3"
    wal = path.parent / "db.sqlite3-wal"
    limit = 1024 * 1024
    with SqliteImageStore(path, wal_limit=limit) as store:
        first = os.urandom(1_500_000)
        record, _ = store.add(streamed(first), owner="ada")
        assert store.checkpointer.settle(timeout=30)
        assert store.checkpointer.restarts == 1
        store.add(image(b"small"), owner="ada")  # starts the WAL again, cut to the limit
        assert wal.stat().st_size <= limit

        reading = store.open_content(record.image_id)  # a snapshot, held open
        assert reading is not None
        try:
            second = os.urandom(1_500_000)
            store.add(streamed(second), owner="ada")
            assert store.checkpointer.settle(timeout=30)
            assert store.checkpointer.restarts == 1  # gave up: the reader is still there
            third, _ = store.add(streamed(os.urandom(1_500_000)), owner="bob")  # not held back
            assert b"".join(reading.pieces()) == first
        finally:
            reading.close()
        assert store.checkpointer.settle(timeout=30)
        store.add(image(b"after"), owner="ada")
        assert store.checkpointer.settle(timeout=30)
        assert store.checkpointer.restarts == 2
        store.add(image(b"and after"), owner="ada")
        assert wal.stat().st_size <= limit
        assert store.integrity_problems() == [] and store.content(third.image_id) is not None


def test_sqlite_migrates_the_first_layout(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    path = tmp_path / "images.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[1])
    old.execute(
        "INSERT INTO images VALUES (?, ?, ?, 'png', 1, 1, 'old.png', NULL, ?, ?)",
        (
            "abc123",
            hashlib.sha256(b"old").hexdigest(),
            3,
            datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC).isoformat(),
            b"old",
        ),
    )
    old.commit()
    old.close()
    store = SqliteImageStore(path)
    request.addfinalizer(store.close)  # Python 3.13 warns about a connection left to the GC
    assert store.schema_version() == SQLITE_LATEST
    record = store.get("abc123")
    assert record is not None and record.owner == "" and record.filename == "old.png"
    assert record.received_at == datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert store.content("abc123") == b"old"
    assert store.integrity_problems() == []
    newer, _ = store.add(image(b"newer"), owner="ada")
    assert record.seq == 1 and newer.seq == 2
    assert [r.image_id for r in store.list_images(None, 10, None)] == [newer.image_id, "abc123"]


def test_sqlite_version_2_records_keep_their_time_order(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path = tmp_path / "images.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[1] + MIGRATIONS[2] + "PRAGMA user_version = 2;")
    for name, second in [("b", 20), ("a", 10), ("c", 30)]:
        sha = hashlib.sha256(name.encode()).hexdigest()
        old.execute("INSERT INTO blobs VALUES (?, 1, 'png', 1, 1, ?)", (sha, name.encode()))
        old.execute(
            "INSERT INTO images VALUES (?, 'ada', ?, 'x.png', NULL, ?)",
            (name, sha, f"2026-01-01T00:00:{second}.000000Z"),
        )
    old.commit()
    old.close()
    store = SqliteImageStore(path)
    request.addfinalizer(store.close)  # Python 3.13 warns about a connection left to the GC
    assert [r.image_id for r in store.list_images(None, 10, None)] == ["c", "b", "a"]
    assert store.add(image(b"d"), owner="ada")[0].seq == 4


# --- issue 17: a large upload's bytes given as Content, written a piece at a time ---


class Pieces:
    """Content read from a list of pieces (what service.soap.spooled gives the store);
    ``fail_after`` raises after that many pieces, as a client gone or a disk full would."""

    def __init__(self, data: bytes, piece: int = 100_000, fail_after: int | None = None) -> None:
        self.data = data
        self.piece = piece
        self.fail_after = fail_after
        self.size = len(data)

    def pieces(self, size: int = 0) -> Iterator[bytes]:
        for index, start in enumerate(range(0, len(self.data), self.piece)):
            if self.fail_after is not None and index >= self.fail_after:
                raise RuntimeError("the spool went away")
            yield self.data[start : start + self.piece]

    def close(self) -> None:
        pass


def streamed(data: bytes, **kwargs: int) -> NewImage:
    return NewImage(
        "big.png",
        Pieces(data, **kwargs),
        "image/png",
        hashlib.sha256(data).hexdigest(),
        "png",
        1,
        1,
    )


def test_streamed_content_is_stored_and_read_back(store: ImageStore) -> None:
    data = os.urandom(1_234_567)
    record, new = store.add(streamed(data), owner="ada")
    assert new and record.size_bytes == len(data)
    assert store.content(record.image_id) == data
    again, new = store.add(streamed(data), owner="ada")  # deduplicated, as bytes are
    assert not new and again == record
    bob, new = store.add(streamed(data), owner="bob")  # the blob is shared
    assert new and bob.sha256 == record.sha256
    assert store.content(bob.image_id) == data
    whole, new = store.add(image(data), owner="cy")  # either way finds the other's blob
    assert new and store.content(whole.image_id) == data
    assert store.integrity_problems() == []


@pytest.mark.parametrize("fail_after", [0, 3])
def test_a_streamed_add_that_fails_midway_leaves_nothing(
    store: ImageStore, fail_after: int
) -> None:
    data = os.urandom(1_000_000)
    with pytest.raises(RuntimeError):
        store.add(streamed(data, fail_after=fail_after), owner="ada")
    assert store.list_images(None, 10, None) == []
    assert store.integrity_problems() == []
    record, _ = store.add(streamed(data), owner="ada")  # and the same bytes go in after
    assert store.content(record.image_id) == data


def test_streamed_content_shorter_or_longer_than_its_size_is_refused(store: ImageStore) -> None:
    from service.storage import StorageError

    data = os.urandom(300_000)
    short = Pieces(data)
    short.size = len(data) + 1
    long = Pieces(data)
    long.size = len(data) - 1
    for content in (short, long):
        made = NewImage("x.png", content, None, hashlib.sha256(data).hexdigest(), "png", 1, 1)
        with pytest.raises(StorageError):
            store.add(made, owner="ada")
    assert store.list_images(None, 10, None) == [] and store.integrity_problems() == []
