"""Throttling wrong credentials: a guessed password costs a scrypt, and scrypt is CPU.

Failed checks are counted per user name (known or not, so the answer never tells
which names exist) and per client address (the peer, or the client behind a
trusted proxy: ``service.http.forwarding``). Once a name has ``max_failures``
failures, or an address ``max_failures_per_address``, each further check waits
``backoff`` seconds after the last failure, doubling with every failure up to
``backoff_max``; a check asked for sooner is refused with
``Client.TooManyAttempts`` and a ``Retry-After`` before anything is hashed, and
the serving core holds that refusal back ``auth_tarpit`` seconds (``service.rsgi``),
so an attacker's connections wait instead of spinning.
While a key is blocked every credential for it is refused, even a right one
(answering a right password from the cache while refusing the wrong ones would
let guesses run at full speed). A success forgets the name's failures (not the
address's); a key with no failure for ``forget_after`` seconds is forgotten.

Only failures that cost a scrypt count: a wrong password repeated is answered
from the store's cache of recent verdicts (``UserStore.verify``) without a
scrypt and without counting, so a client retrying with a stale password does not
lock its user out; a wrong PasswordDigest (one SHA-1) is not counted either, but
is refused unchecked like any credential while its name or address waits. Each admitted check past the threshold reserves its slot
before it runs, so concurrent requests for one user wait for its verdict.

On SQLite the counts live in each worker process's memory. With ``W`` workers an
attacker gets at most ``W`` times ``max_failures`` quick guesses per user, then at
most ``W`` per ``backoff`` seconds, fewer as the wait doubles: the default backoff
of 2 seconds keeps two workers to one guess a second per user, and the README says
to raise it with more workers. With PostgreSQL every failure is also counted in
the database (a :class:`FailureBook`), and a check waits for the longer of its
worker's wait and the database's: every worker of every instance sharing the
database sees one count per name and per address, on the wall clock (the
instances' clocks are assumed in step, as WS-Security's timestamps need anyway).
The worker's own count stays, for its in-flight reservations and as a floor.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol, TypeVar

from service.faults import TooManyAttemptsFault

if TYPE_CHECKING:
    from service.config import Settings

#: The client address of the request being answered (set by ``SoapApplication.handle``);
#: None: unknown, and only user names are counted.
client_address: ContextVar[str | None] = ContextVar("client_address", default=None)
#: Keys are truncated to this many characters (user names have at most 100).
MAX_KEY: Final = 256
T = TypeVar("T")


class FailureBook(Protocol):
    """Failure counts shared by every worker of every instance (PostgreSQL)."""

    def failure_wait(self, keys: Sequence[tuple[str, str]], now: float) -> float:
        """Seconds until the longest wait of ``(kind, key)`` pairs ends (0: none)."""

    def record_failure(self, kind: str, key: str, now: float, forget_after: float) -> int:
        """Counts a failure (a count idle ``forget_after`` seconds starts again); the
        count now."""

    def block_until(self, kind: str, key: str, until: float) -> None: ...

    def forget_failures(self, kind: str, key: str) -> None: ...


@dataclass(frozen=True)
class ThrottleLimits:
    max_failures: int = 5
    max_failures_per_address: int = 20
    backoff: float = 2.0
    backoff_max: float = 300.0
    forget_after: float = 900.0
    #: Keys remembered per kind (names, addresses); the oldest go first beyond it.
    max_entries: int = 100_000

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottleLimits:
        return cls(
            max_failures=settings.auth_max_failures,
            max_failures_per_address=settings.auth_max_failures_per_address,
            backoff=float(settings.auth_backoff),
            backoff_max=float(settings.auth_backoff_max),
            forget_after=float(settings.auth_forget_after),
        )


def wait_after(failures: int, threshold: int, backoff: float, cap: float) -> float:
    """Seconds a key waits after its ``failures``-th failure: none below ``threshold``,
    then ``backoff``, doubled with each further failure, never more than ``cap``."""
    if failures < threshold or threshold <= 0:
        return 0.0
    return min(cap, backoff * 2.0 ** min(failures - threshold, 64))


class _Entry:
    __slots__ = ("failures", "last", "until", "reserved")

    def __init__(self) -> None:
        self.failures = 0
        self.last = 0.0
        self.until = 0.0  # from failures
        self.reserved = 0.0  # a check in flight past the threshold


class Throttle:
    def __init__(
        self,
        limits: ThrottleLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        shared: FailureBook | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits or ThrottleLimits()
        self.clock = clock
        self.shared = shared
        self.wall_clock = wall_clock
        self._lock = threading.Lock()
        self._names: dict[str, _Entry] = {}
        self._addresses: dict[str, _Entry] = {}

    def _counted(self, name: str, address: str | None) -> list[tuple[str, str, int]]:
        """What a check is counted against: (kind, key, threshold) for the name and, when
        known, the address; the worker's tables and the database's rows alike."""
        keys = [("name", name[:MAX_KEY], self.limits.max_failures)]
        if address:
            keys.append(("address", address[:MAX_KEY], self.limits.max_failures_per_address))
        return keys

    def _keys(self, name: str, address: str | None) -> list[tuple[dict[str, _Entry], str, int]]:
        tables = {"name": self._names, "address": self._addresses}
        return [(tables[kind], key, limit) for kind, key, limit in self._counted(name, address)]

    def _entry(self, table: dict[str, _Entry], key: str, now: float, create: bool) -> _Entry | None:
        entry = table.get(key)
        if entry is not None and max(entry.until, entry.reserved) <= now:
            if now - entry.last > self.limits.forget_after:
                del table[key]
                entry = None
        if entry is None and create:
            if len(table) >= self.limits.max_entries:
                self._prune(table, now)
            entry = table[key] = _Entry()
        return entry

    def _prune(self, table: dict[str, _Entry], now: float) -> None:
        for key in [k for k, e in table.items() if now - e.last > self.limits.forget_after]:
            del table[key]
        while len(table) >= self.limits.max_entries:
            del table[next(iter(table))]

    def retry_after(self, name: str, address: str | None) -> float:
        """Seconds until a check for ``name`` from ``address`` is admitted (0: now)."""
        now = self.clock()
        with self._lock:
            return self._wait(name, address, now)

    def _wait(self, name: str, address: str | None, now: float) -> float:
        wait = 0.0
        for table, key, _ in self._keys(name, address):
            entry = self._entry(table, key, now, create=False)
            if entry is not None:
                wait = max(wait, entry.until - now, entry.reserved - now)
        return wait

    def admit(self, name: str, address: str | None) -> None:
        """Raises ``TooManyAttemptsFault`` when a check must wait; else reserves it."""
        shared_wait = 0.0
        if self.shared is not None:
            keys = [(kind, key) for kind, key, _ in self._counted(name, address)]
            shared_wait = self.shared.failure_wait(keys, self.wall_clock())
        now = self.clock()
        lim = self.limits
        with self._lock:
            wait = max(shared_wait, self._wait(name, address, now))
            if wait > 0:
                raise TooManyAttemptsFault(max(1, math.ceil(wait)))
            for table, key, threshold in self._keys(name, address):
                entry = table.get(key)
                if entry is not None and entry.failures >= threshold:
                    entry.reserved = now + wait_after(
                        entry.failures, threshold, lim.backoff, lim.backoff_max
                    )

    def failed(self, name: str, address: str | None) -> None:
        now = self.clock()
        lim = self.limits
        with self._lock:
            for table, key, threshold in self._keys(name, address):
                entry = self._entry(table, key, now, create=True)
                assert entry is not None
                entry.failures += 1
                entry.last = now
                entry.reserved = 0.0
                wait = wait_after(entry.failures, threshold, lim.backoff, lim.backoff_max)
                entry.until = max(entry.until, now + wait)
        if self.shared is not None:
            wall = self.wall_clock()
            for kind, key, threshold in self._counted(name, address):
                failures = self.shared.record_failure(kind, key, wall, lim.forget_after)
                wait = wait_after(failures, threshold, lim.backoff, lim.backoff_max)
                if wait > 0:
                    self.shared.block_until(kind, key, wall + wait)

    def release(self, name: str, address: str | None) -> None:
        """An admitted check that ran nothing (answered from the cache, or an error)."""
        with self._lock:
            for table, key, _ in self._keys(name, address):
                entry = table.get(key)
                if entry is not None:
                    entry.reserved = 0.0

    def succeeded(self, name: str, address: str | None) -> None:
        if self.shared is not None:
            self.shared.forget_failures("name", name[:MAX_KEY])
        with self._lock:
            self._names.pop(name[:MAX_KEY], None)
            if address:
                entry = self._addresses.get(address[:MAX_KEY])
                if entry is not None:
                    entry.reserved = 0.0


@dataclass(frozen=True)
class Gate:
    """One request's way to the checks: its throttle (None: none) and client address."""

    throttle: Throttle | None = None
    address: str | None = None

    def check(self, name: str, verify: Callable[[], tuple[T | None, bool]]) -> T | None:
        """``verify()``'s answer, once the throttle admits it: ``(found, free)``, where
        ``free`` says the answer cost no scrypt (a cached repeat, a digest), so a failure
        does not count."""
        if self.throttle is None:
            return verify()[0]
        self.throttle.admit(name, self.address)
        try:
            found, free = verify()
        except BaseException:
            self.throttle.release(name, self.address)
            raise
        if found is not None:
            self.throttle.succeeded(name, self.address)
        elif free:
            self.throttle.release(name, self.address)
        else:
            self.throttle.failed(name, self.address)
        return found
