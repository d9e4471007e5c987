"""One SQLite connection per thread (a connection is used by one thread only), in WAL mode.

``close`` closes every thread's connection: an application that is done with
its stores must not leave connections to the garbage collector (Python 3.13
warns about each one).
"""

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
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # check_same_thread=False only so that close() may close it from any thread
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            if self.foreign_keys:
                conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection (call when no thread uses them any more)."""
        with self._lock:
            opened, self._all = self._all, []
        for conn in opened:
            conn.close()
        self._local = threading.local()
