"""One SQLite connection per thread (a connection must not cross threads), in WAL mode."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class PerThreadConnection:
    def __init__(self, path: Path, synchronous: str, foreign_keys: bool = False) -> None:
        self.path = path
        self.synchronous = synchronous
        self.foreign_keys = foreign_keys
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            if self.foreign_keys:
                conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
