"""A progress bar on stderr for uploads and downloads (``soap-client``)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``label [#####.....]  42%  4.2/10.0 MiB``, redrawn at most ten times a second."""

    def __init__(self, label: str, total: int, out: TextIO = sys.stderr, width: int = 30) -> None:
        self.label, self.total, self.out, self.width = label, max(total, 0), out, width
        self.done = 0
        self._drawn = 0.0

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self._drawn >= 0.1 or self.done >= self.total:
            self._drawn = now
            self._draw()

    def _draw(self) -> None:
        fraction = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(fraction * self.width)
        mib = 1024 * 1024
        self.out.write(
            f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%}"
            f"  {self.done / mib:.1f}/{self.total / mib:.1f} MiB"
        )
        self.out.flush()

    def finish(self) -> None:
        self._draw()
        self.out.write("\n")
        self.out.flush()


class ProgressBody:
    """A request body that reports how much of it has been sent.

    requests sends a file-like body in blocks and takes Content-Length from
    ``len()``, so the body is neither copied nor chunk-encoded.
    """

    def __init__(self, data: bytes, progress: Progress) -> None:
        self._data = memoryview(data)
        self._position = 0
        self.progress = progress

    def __len__(self) -> int:
        return len(self._data)

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else min(self._position + size, len(self._data))
        block = self._data[self._position : end].tobytes()
        self._position = end
        self.progress.advance(len(block))
        return block
