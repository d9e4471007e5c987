"""The access log: one line per request, formatted here and written with one write(2).

The logging module's record machinery (a LogRecord, a Formatter, the handler's
lock and flush) cost more per line than the rest of a small SOAP call, measured
under load (``make bench``). Access lines keep the format of every other line
(``%(asctime)s %(levelname)s %(name)s %(message)s``) and go where the service's
own handler goes (stderr), only while ``soap_service.access`` is enabled for
INFO. A handler added to that logger (by an embedding application, or a test)
gets the lines as ordinary records instead.
"""

from __future__ import annotations

import logging
import os
import sys
import time

logger = logging.getLogger("soap_service.access")


class AccessLog:
    def __init__(self) -> None:
        self._second = -1
        self._stamp = ""

    def _asctime(self, now: float) -> str:
        second = int(now)
        if second != self._second:  # one strftime a second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            self._second = second
        return f"{self._stamp},{int(now * 1000) % 1000:03d}"

    def write(self, message: str) -> None:
        if not logger.isEnabledFor(logging.INFO):
            return
        if logger.handlers:
            logger.info("%s", message)
            return
        line = f"{self._asctime(time.time())} INFO {logger.name} {message}\n".encode()
        fd = sys.stderr.fileno()
        while line:
            line = line[os.write(fd, line) :]


access_log = AccessLog()
