"""The attacker of ``make bench``'s "greet-under-attack": slow clients held open.

While wrk measures a server, a thread of the benchmark keeps two kinds of
connection open against it, on 127.0.0.1 only:

- **slow bodies**: ``POST /soap`` with the headers of a real call (the
  scenario's ``SOAPAction``, so no server can refuse it before reading its body)
  declaring a ``Content-Length`` of 100000, then one byte of the body a second;
- **slow headers**: a request line, then one header line a second, never the
  blank line that would end the headers.

A connection the server closes (or answers: a 408, a 400) is closed here too
and opened again half a second later, so the count stays up for as long as the
attack lasts. Everything is bounded: the sockets (the two counts, nothing
more), the connections made over the attack (``max_connects``) and its time
(``limit`` seconds, however it is stopped); every socket is closed at the end.

One thread, non-blocking sockets and a selector: the attacker costs the machine
a few hundred small writes a second.
"""

from __future__ import annotations

import errno
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Final

REOPEN_AFTER: Final = 0.5  # seconds between a slot's close and its next connection


@dataclass(frozen=True)
class Attack:
    slow_bodies: int = 50
    slow_headers: int = 200
    #: one body byte, or one header line, per connection every ``interval`` seconds
    interval: float = 1.0
    declared_length: int = 100_000

    @property
    def sockets(self) -> int:
        return self.slow_bodies + self.slow_headers


@dataclass
class AttackStats:
    """What the attack did, counted from ``Attacker.mark`` on."""

    #: connections made (reopened, unless ``mark`` came before the first were made)
    connects: int = 0
    #: connections the server ended: closed, reset, or answered (then closed here)
    ended_by_server: int = 0
    #: of those, the ones the server sent something on first (an error answer)
    answered: int = 0
    #: connections that could not be made
    connect_failures: int = 0
    #: attack connections open (connected, request started), sampled every interval
    open_samples: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        samples = self.open_samples or [0]
        return {
            "attack_connects": self.connects,
            "attack_ended_by_server": self.ended_by_server,
            "attack_answered": self.answered,
            "attack_connect_failures": self.connect_failures,
            "attack_open_min": min(samples),
            "attack_open_mean": round(sum(samples) / len(samples)),
        }


class _Slot:
    __slots__ = ("kind", "sock", "connected", "sent", "reopen_at")

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "body" or "header"
        self.sock: socket.socket | None = None
        self.connected = False
        self.sent = 0  # body bytes or header lines sent after the start
        self.reopen_at = 0.0


class Attacker:
    """Holds ``attack``'s slow connections open against ``127.0.0.1:port`` in a thread."""

    def __init__(
        self, port: int, attack: Attack, soap_action: str, limit: float, max_connects: int = 0
    ) -> None:
        self.address = ("127.0.0.1", port)
        self.soap_action = soap_action
        self.attack = attack
        self.limit = limit
        self.max_connects = max_connects or 40 * attack.sockets
        self.stats = AttackStats()
        self.connects = 0  # since the start
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._slots = [_Slot("body") for _ in range(attack.slow_bodies)] + [
            _Slot("header") for _ in range(attack.slow_headers)
        ]
        self._selector = selectors.DefaultSelector()
        self._thread = threading.Thread(target=self._run, name="bench-attacker", daemon=True)
        self.error: BaseException | None = None

    # --- control (from the benchmark's thread) ---

    def start(self, ramp: float = 5.0) -> None:
        """Start, and return once every connection is open (or ``ramp`` seconds passed)."""
        self._thread.start()
        deadline = time.monotonic() + ramp
        while time.monotonic() < deadline and self.open_count() < len(self._slots):
            if not self._thread.is_alive():
                break
            time.sleep(0.05)

    def mark(self) -> None:
        """Count from now on (the measured run starts)."""
        with self._lock:
            self.stats = AttackStats()

    def stop(self) -> AttackStats:
        self._stop.set()
        self._thread.join(10)
        if self.error is not None:
            raise RuntimeError(f"bench: the attacker failed: {self.error!r}") from self.error
        with self._lock:
            return self.stats

    def open_count(self) -> int:
        return sum(1 for slot in self._slots if slot.connected)

    def __enter__(self) -> Attacker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the thread ---

    def _run(self) -> None:
        started = time.monotonic()
        deadline = started + self.limit
        next_tick = started + self.attack.interval
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= deadline:
                    break
                for slot in self._slots:
                    if slot.sock is None and now >= slot.reopen_at:
                        self._open(slot, now)
                if now >= next_tick:
                    next_tick += self.attack.interval
                    for slot in self._slots:
                        if slot.connected:
                            self._dribble(slot, now)
                    with self._lock:
                        self.stats.open_samples.append(self.open_count())
                wait = min(next_tick, deadline) - now
                pending = [s.reopen_at for s in self._slots if s.sock is None]
                if pending:
                    wait = min(wait, min(pending) - now)
                for key, _ in self._selector.select(max(0.0, min(wait, 0.1))):
                    slot = key.data
                    if slot.connected:
                        self._readable(slot, time.monotonic())
                    else:
                        self._connected(slot, time.monotonic())
        except BaseException as exc:  # reported by stop()
            self.error = exc
        finally:
            for slot in self._slots:
                self._close(slot, 0.0)
            self._selector.close()

    def _open(self, slot: _Slot, now: float) -> None:
        if self.connects >= self.max_connects:
            slot.reopen_at = float("inf")  # the budget is spent: this slot stays closed
            return
        self.connects += 1
        with self._lock:
            self.stats.connects += 1
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        code = sock.connect_ex(self.address)
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            with self._lock:
                self.stats.connect_failures += 1
            slot.reopen_at = now + REOPEN_AFTER
            return
        slot.sock, slot.connected, slot.sent = sock, False, 0
        self._selector.register(sock, selectors.EVENT_WRITE, slot)

    def _connected(self, slot: _Slot, now: float) -> None:
        assert slot.sock is not None
        if slot.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
            with self._lock:
                self.stats.connect_failures += 1
            self._close(slot, now)
            return
        if slot.kind == "body":
            start = (
                b"POST /soap HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: text/xml; charset=utf-8\r\n"
                b'SOAPAction: "%s"\r\n'
                b"Content-Length: %d\r\n\r\n"
                % (self.soap_action.encode(), self.attack.declared_length)
            )
        else:
            start = b"POST /soap HTTP/1.1\r\n"
        if not self._send(slot, start, now):
            return
        slot.connected = True
        self._selector.modify(slot.sock, selectors.EVENT_READ, slot)

    def _dribble(self, slot: _Slot, now: float) -> None:
        if slot.kind == "body":
            if slot.sent >= self.attack.declared_length - 1:
                return  # never the last byte
            data = b"<" if slot.sent == 0 else b" "
        else:
            data = b"Host: 127.0.0.1\r\n" if slot.sent == 0 else b"X-Slow-%d: 1\r\n" % slot.sent
        if self._send(slot, data, now):
            slot.sent += 1

    def _send(self, slot: _Slot, data: bytes, now: float) -> bool:
        assert slot.sock is not None
        try:
            slot.sock.send(data)  # a few bytes into an empty buffer: all or nothing
            return True
        except BlockingIOError:
            return True  # the server is not reading: the connection is held all the same
        except OSError:
            self._ended(slot, now, answered=False)
            return False

    def _readable(self, slot: _Slot, now: float) -> None:
        assert slot.sock is not None
        try:
            data = slot.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        self._ended(slot, now, answered=bool(data))

    def _ended(self, slot: _Slot, now: float, answered: bool) -> None:
        with self._lock:
            self.stats.ended_by_server += 1
            self.stats.answered += answered
        self._close(slot, now)

    def _close(self, slot: _Slot, now: float) -> None:
        if slot.sock is not None:
            try:
                self._selector.unregister(slot.sock)
            except (KeyError, ValueError):
                pass
            slot.sock.close()
        slot.sock, slot.connected, slot.sent = None, False, 0
        slot.reopen_at = now + REOPEN_AFTER
