"""One SQLite connection per thread (a connection is used by one thread only), in WAL mode.

``close`` closes every thread's connection: an application that is done with
its stores must not leave connections to the garbage collector (Python 3.13
warns about each one).

:class:`Checkpointer` moves WAL checkpoints off the threads that write: SQLite's
automatic checkpoint runs in the COMMIT statement that crosses its threshold (just
after the commit itself), so one upload in a few paid, before its answer, to copy
every writer's pages into the database (a read and a write of the whole WAL, and
an fsync).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

#: how long a RESTART checkpoint may hold writers back, in seconds
RESTART_WAIT: Final = 0.25


class PerThreadConnection:
    def __init__(
        self,
        path: Path,
        synchronous: str,
        foreign_keys: bool = False,
        page_size: int = 0,
        autocheckpoint: bool = True,
        wal_limit: int = -1,
    ) -> None:
        self.path = path
        #: the page size of a database this makes (an existing one keeps its own)
        self.page_size = page_size
        #: False: SQLite's automatic checkpoint is off (a Checkpointer does it)
        self.autocheckpoint = autocheckpoint
        #: the size the WAL file is cut back to when it starts again (-1: never cut)
        self.wal_limit = wal_limit
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
            if self.page_size:
                conn.execute(f"PRAGMA page_size={int(self.page_size)}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            if self.foreign_keys:
                conn.execute("PRAGMA foreign_keys=ON")
            if not self.autocheckpoint:
                conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute(f"PRAGMA journal_size_limit={int(self.wal_limit)}")
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


class Checkpointer:
    """Checkpoints one WAL database on a thread of its own, after writes.

    ``wrote()`` after each commit wakes it. It runs a PASSIVE checkpoint, which
    neither waits for nor blocks readers and writers. A commit is already durable in
    the WAL (``synchronous=FULL`` fsyncs it), so no request waits for a checkpoint.

    Under a steady stream of writes a PASSIVE checkpoint never catches up with the
    last writer, and the WAL would grow without end (SQLite reuses it from its start
    only once all of it is copied). So once the WAL holds more than ``wal_limit``
    bytes, the thread runs a RESTART checkpoint: it holds new writers back for at
    most ``RESTART_WAIT`` seconds while it copies the rest, and the next writer then
    starts the WAL again, truncated to ``wal_limit`` (``journal_size_limit``). A
    reader holding an old snapshot (a GetImage streaming) makes it give up in time;
    it is tried again after the next write.

    The thread starts with the first write in each process (a fork copies no threads).
    """

    def __init__(self, path: Path, synchronous: str, wal_limit: int) -> None:
        self.path = path
        self.synchronous = synchronous
        self.wal_limit = wal_limit
        self._changed = threading.Condition()  # guards everything below
        self._asked = 0  # writes signalled
        self._covered = 0  # writes a finished checkpoint came after
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pid = 0
        #: RESTART checkpoints that completed (the WAL was past ``wal_limit``)
        self.restarts = 0

    def wrote(self) -> None:
        """A transaction has committed: checkpoint soon."""
        with self._changed:
            if self._stopping:
                return
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="sqlite-checkpoint", daemon=True
                )
                self._thread.start()
            self._asked += 1
            self._changed.notify_all()

    def settle(self, timeout: float) -> bool:
        """Wait until a checkpoint has run after the last ``wrote()``; False if
        ``timeout`` seconds pass first."""
        with self._changed:
            asked = self._asked
            return self._changed.wait_for(lambda: self._covered >= asked, timeout)

    def close(self) -> None:
        with self._changed:
            self._stopping = True
            thread, self._thread = self._thread, None
            self._changed.notify_all()
        if thread is not None and self._pid == os.getpid():
            thread.join(timeout=30)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=RESTART_WAIT, isolation_level=None)
        try:
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
            while True:
                with self._changed:
                    self._changed.wait_for(lambda: self._stopping or self._asked > self._covered)
                    if self._stopping:
                        return
                    asked = self._asked
                try:
                    _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames * page_size > self.wal_limit:
                        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                        self.restarts += not busy
                except sqlite3.Error as error:  # the next write tries again
                    log.warning("WAL checkpoint of %s failed: %s", self.path.name, error)
                with self._changed:
                    self._covered = asked
                    self._changed.notify_all()
        finally:
            conn.close()
