"""Running the WSGI application on granian.

Why granian: measured on these 2-core machines, gunicorn's sync workers top
out near 6.5k req/s even for a fixed response (a connection per request),
waitress collapses at 64 connections, while granian (a Rust HTTP server with
keep-alive, pipelining and a WSGI bridge) serves a fixed response at ~52k
req/s: the HTTP layer is never what limits us.

One listening socket is made here and shared with every worker, instead of
granian's default of one ``SO_REUSEPORT`` listener per worker on Linux: with
``--port 0`` those would each get a port of their own. The shared socket is
listening before the workers start, so connections made as soon as the
"listening on" line is printed wait in its backlog instead of being refused.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from granian import Granian
from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.net import SocketSpec

from service.config import Settings
from service.observability import metrics

#: The application granian loads in each worker, per ``interface``.
TARGETS: Final = {"rsgi": "service.rsgi:create_core", "wsgi": "service.app:create_app"}


class _SharedSocketGranian(Granian):  # type: ignore[misc,valid-type]
    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.bound_port: int | None = None

    def _stop_workers(self) -> None:
        """granian's, but a worker still starting when the stop came is told again.

        A worker that receives SIGTERM before its own server is up misses it and
        runs on (seen when a stop follows a start closely); repeating the signal
        every half second reaches it once it is up. Requests in flight are still
        answered; after ``shutdown_timeout`` a worker is killed.
        """
        deadline = time.monotonic() + self.settings.shutdown_timeout
        for worker in self.wrks:
            worker.terminate()
        for worker in self.wrks:
            while worker.is_alive() and time.monotonic() < deadline:
                worker.join(0.5)
                if worker.is_alive():
                    worker.terminate()
            if worker.is_alive():
                print(f"soap-service: killing worker-{worker.idx + 1}", file=sys.stderr)
                worker.kill()
                worker.join()
        self.wrks.clear()

    def _init_shared_socket(self) -> None:
        spec = SocketSpec(self.bind_addr, self.bind_port, self.backlog)
        self._ssp = None
        self._shd = spec.build()
        self._sfd = self._shd.get_fd()
        sock = socket.socket(fileno=self._sfd)
        sock.set_inheritable(True)
        sock.listen(self.backlog)  # queue connections before the workers are up
        self._sso = sock
        self.bound_port = sock.getsockname()[1]
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
        websockets=False,  # none served; granian would log that it ignores them
        http1_settings=HTTP1Settings(header_read_timeout=settings.header_timeout * 1000),
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
