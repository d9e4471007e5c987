"""Running the service on granian: the supervisor of the worker processes.

Each worker runs the serving core (``service.rsgi``: granian's RSGI interface,
the engine called on the worker's event loop with whole requests); the
``interface=wsgi`` setting runs the same engine behind granian's
thread-per-request WSGI bridge instead, kept so the two can be measured side by
side (``make bench``).

The listening sockets are made here, one per worker, all ``SO_REUSEPORT`` on
one port, instead of granian's default of each worker making its own: with
``--port 0`` those would each get a port of their own. Every one is listening
before the workers start, so connections made as soon as the "listening on"
line is printed wait in a backlog instead of being refused, and a respawned
worker takes over its predecessor's socket, backlog and all. One listener per
worker, not one shared by all: the kernel spreads new connections across the
listeners, whereas on a shared one the first worker to wake accepts every
connection waiting (measured: of wrk's 16 connections, often all 16 went to one
of two workers, which then did all the work while the other idled). A port
that another socket is listening on is refused at startup (``SO_REUSEPORT``
alone would share it silently with, say, a second ``make run``).

Stopping (SIGTERM or SIGINT): each worker is told to drain first
(``DRAIN_SIGNAL``): it answers every request in flight and then stops itself;
only a worker that has not stopped by ``shutdown_timeout`` is stopped, then
killed.

These are overrides of granian's private methods (it has no public way to do
any of it): granian is pinned to the exact version they were written for, and
``tests/test_server_granian_internals.py`` fails when what they rely on changes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from granian import Granian
from granian.constants import Interfaces, Loops
from granian.http import HTTP1Settings
from granian.net import SocketSpec

from service.config import Settings
from service.observability import metrics
from service.rsgi import DRAIN_SIGNAL

#: The application granian loads in each worker, per ``interface``.
TARGETS: Final = {"rsgi": "service.rsgi:create_core", "wsgi": "service.app:create_app"}


class _SharedSocketGranian(Granian):  # type: ignore[misc,valid-type]
    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.bound_port: int | None = None
        #: one listener per worker: (granian's holder of the socket, the socket)
        self._listeners: list[tuple[Any, socket.socket]] = []
        self._sso: socket.socket | None = None

    def _stop_workers(self) -> None:
        """Each worker drains, then stops itself; a worker that will not is stopped.

        granian's own stop sends SIGTERM at once; ours sends the serving core's
        ``DRAIN_SIGNAL`` (``service.rsgi.ServingCore.begin_drain``): the worker
        answers what is in flight and sends itself SIGTERM when idle. A worker still
        starting has no handler yet and ends at the signal, having served nothing.
        After ``shutdown_timeout`` a worker still alive gets SIGTERM, then SIGKILL.
        (The WSGI interface has no drain: its workers get SIGTERM, repeated every half
        second for a worker that was still starting and missed the first.)
        """
        drain = self.interface == Interfaces.RSGI
        deadline = time.monotonic() + self.settings.shutdown_timeout
        for worker in self.wrks:
            _signal(worker, DRAIN_SIGNAL if drain else signal.SIGTERM)
        for worker in self.wrks:
            while worker.is_alive() and time.monotonic() < deadline:
                worker.join(0.5)
                if worker.is_alive() and not drain:
                    worker.terminate()
            if worker.is_alive():
                worker.terminate()
                worker.join(2)
            if worker.is_alive():
                print(f"soap-service: killing worker-{worker.idx + 1}", file=sys.stderr)
                worker.kill()
                worker.join()
        self.wrks.clear()

    def _init_shared_socket(self) -> None:
        port = self.bind_port
        try:
            _refuse_a_port_in_use(self.bind_addr, port)
            for _ in range(max(1, self.workers)):  # the first one picks the port if it is 0
                holder = SocketSpec(self.bind_addr, port, self.backlog).build()  # SO_REUSEPORT
                sock = socket.socket(fileno=holder.get_fd())
                sock.set_inheritable(True)
                sock.listen(self.backlog)  # queue connections before the workers are up
                port = sock.getsockname()[1]
                self._listeners.append((holder, sock))
        except OSError as error:
            raise ListenError(f"cannot listen on {self.bind_addr}:{port}: {error}") from None
        self._ssp = None
        self._shd, self._sso = self._listeners[0]
        self._sfd = self._sso.fileno()
        self.bound_port = port
        scheme = "https" if self.ssl_ctx[0] else "http"
        local = f"{scheme}://{self.bind_addr}:{self.bound_port}"
        settings = self.settings.with_overrides(port=self.bound_port)
        settings = settings.with_overrides(public_url=settings.public_url or local)
        os.environ.update(settings.to_env())  # the workers read their settings from here
        print(f"soap-service: listening on {local}", flush=True)
        print(f"soap-service: SOAP 1.1 {settings.base_url}/soap", flush=True)
        print(f"soap-service: SOAP 1.2 {settings.base_url}/soap12", flush=True)
        print(f"soap-service: WSDL     {settings.base_url}/soap?wsdl", flush=True)
        print(f"soap-service: help     {settings.base_url}/", flush=True)
        print(f"soap-service: HTTP     {settings.base_url}/http/<Operation>", flush=True)
        print(f"soap-service: metrics  {settings.base_url}/metrics", flush=True)
        print(f"soap-service: health   {settings.base_url}/healthz, /readyz", flush=True)

    def _spawn_worker(self, idx: int, target: Any, callback_loader: Any) -> Any:
        """Worker ``idx`` (a respawned one too) serves listener ``idx``."""
        self._shd, self._sso = self._listeners[idx % len(self._listeners)]
        self._sfd = self._sso.fileno()
        return super()._spawn_worker(idx, target, callback_loader)

    def _drop_shared_socket(self) -> None:
        for _, sock in self._listeners:
            sock.close()
        self._listeners.clear()
        self._sso = None


class ListenError(Exception):
    """The service's listening sockets cannot be made (the message says why)."""


def _refuse_a_port_in_use(address: str, port: int) -> None:
    """OSError (EADDRINUSE) if a socket is listening on ``address``:``port`` already.

    A bind without ``SO_REUSEPORT`` fails where one with it would join the other
    listener; ``SO_REUSEADDR`` keeps connections left in TIME_WAIT by a previous
    run from counting."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((address, port))


def _signal(worker: Any, signum: int) -> None:
    """Sends ``signum`` to a granian worker process (its multiprocessing.Process), as
    granian's own ``terminate`` does: marked as stopped by its parent, so its exit is
    not reported as a crash."""
    worker.interrupt_by_parent = True
    pid = worker.inner.pid
    if pid is not None and worker.is_alive():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def serve(settings: Settings, certfile: Path | None = None, keyfile: Path | None = None) -> None:
    """Serve until interrupted. SIGINT or SIGTERM stop it gracefully: the listening
    socket closes, and requests in flight are answered before the workers exit."""
    from service.app import create_app

    own_metrics = not settings.metrics_dir
    if own_metrics:
        settings = settings.with_overrides(
            metrics_dir=tempfile.mkdtemp(prefix="soap-service-metrics-")
        )
    else:
        metrics.clear(Path(settings.metrics_dir))
    try:
        create_app(settings).close()  # fail here, loudly, before any worker starts
        _serve(settings, certfile, keyfile)
    finally:
        if own_metrics:
            shutil.rmtree(settings.metrics_dir, ignore_errors=True)


def _serve(settings: Settings, certfile: Path | None, keyfile: Path | None) -> None:
    interface = settings.interface.lower()
    if interface not in TARGETS:
        raise ValueError(f"interface must be one of {', '.join(TARGETS)}, not {interface!r}")
    server = _SharedSocketGranian(
        settings,
        target=TARGETS[interface],
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.RSGI if interface == "rsgi" else Interfaces.WSGI,
        loop=Loops.uvloop,  # chosen, not left to whichever loop happens to be installed
        websockets=False,  # none served; granian would log that it ignores them
        http1_settings=HTTP1Settings(
            header_read_timeout=settings.header_timeout * 1000,
            max_buffer_size=max(8192, settings.max_header_bytes),  # hyper's own minimum
        ),
        workers=settings.workers,
        blocking_threads=settings.threads if interface == "wsgi" else 1,
        log_access=False,
        ssl_cert=certfile,
        ssl_key=keyfile,
        respawn_failed_workers=True,
        workers_kill_timeout=settings.shutdown_timeout,
    )
    server.serve()
    sys.stdout.flush()
