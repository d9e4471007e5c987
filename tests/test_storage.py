"""service.storage alone: durable settings, one transaction per upload, nothing half-written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from service.storage import NewImage, SqliteImageStore


def image(content: bytes = b"\x89PNG...") -> NewImage:
    return NewImage("a.png", content, "image/png", "0" * 64, "png", 1, 1)


def test_add_get_content(tmp_path: Path) -> None:
    store = SqliteImageStore(tmp_path / "db.sqlite3")
    stored = store.add(image(b"abc"))
    assert store.get(stored.image_id) == stored
    assert store.content(stored.image_id) == b"abc"
    assert store.get("missing") is None and store.content("missing") is None


def test_wal_and_full_sync(tmp_path: Path) -> None:
    store = SqliteImageStore(tmp_path / "db.sqlite3")
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_failed_insert_leaves_nothing(tmp_path: Path) -> None:
    store = SqliteImageStore(tmp_path / "db.sqlite3")
    store._conn.execute(
        "CREATE TRIGGER fail BEFORE INSERT ON images BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        store.add(image())
    assert store._conn.execute("SELECT COUNT(*) FROM images").fetchone()[0] == 0
    assert not store._conn.in_transaction


def test_rows_survive_reopening(tmp_path: Path) -> None:
    stored = SqliteImageStore(tmp_path / "db.sqlite3").add(image(b"kept"))
    assert SqliteImageStore(tmp_path / "db.sqlite3").content(stored.image_id) == b"kept"
