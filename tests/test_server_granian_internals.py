"""The granian internals service/server.py and service/rsgi.py lean on, pinned.

granian has no public way to make the workers' listening sockets in the
supervisor on Linux (with ``--port 0`` each worker would get a port of its own;
see ``service.server``), nor to drain a worker before it stops (its stop blocks
the event loop while requests are in flight: see
``service.rsgi.ServingCore.begin_drain``). So ``service.server`` overrides
``_init_shared_socket``, ``_spawn_worker`` (which listener a worker gets),
``_drop_shared_socket`` and ``_stop_workers``, and signals worker processes itself. The dependency is pinned to the exact
version; this test fails, naming what moved, when an upgrade changes any of it.
"""

from __future__ import annotations

import hashlib
import inspect
from importlib.metadata import version

import pytest
from granian.server.common import AbstractServer, AbstractWorker
from granian.server.mp import MPServer, WorkerProcess

from service import server

#: sha256 (first 16 hex digits) of the source of each granian function whose
#: behaviour the service depends on, as read from granian 2.8.9
READ: dict[str, tuple[object, str]] = {
    "AbstractServer._init_shared_socket": (
        AbstractServer._init_shared_socket,
        "a3c733cffa4ec9af",
    ),
    "AbstractServer._stop_workers": (AbstractServer._stop_workers, "f3e0544dda9b5e6c"),
    # every worker, respawned ones too, is made by _spawn_worker(idx=...) with the
    # listener in self._shd / self._sso at that moment
    "AbstractServer._spawn_workers": (AbstractServer._spawn_workers, "bc6ae40021d843e2"),
    "AbstractServer._respawn_workers": (AbstractServer._respawn_workers, "164f5281ce938dbe"),
    "MPServer._spawn_worker": (MPServer._spawn_worker, "87b0a0e68f390bca"),
    "MPServer._init_shared_socket": (MPServer._init_shared_socket, "f3155b13b2578c5b"),
    "MPServer._drop_shared_socket": (MPServer._drop_shared_socket, "11c8701550a5bb27"),
    "MPServer._spawn_rsgi_worker": (MPServer._spawn_rsgi_worker, "7d34e5b6458fa479"),
    "WorkerProcess.terminate": (WorkerProcess.terminate, "1c31da3936577c96"),
    "AbstractWorker._watcher": (AbstractWorker._watcher, "5c2a53f123c79f56"),
}


def test_granian_is_the_release_the_overrides_were_written_for() -> None:
    assert version("granian") == "2.8.9"


@pytest.mark.parametrize("name", sorted(READ))
def test_the_internals_read_have_not_changed(name: str) -> None:
    function, digest = READ[name]
    source = inspect.getsource(function)  # type: ignore[arg-type]
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == digest, (
        f"granian's {name} changed: re-read it against service/server.py and service/rsgi.py"
    )


def test_the_overrides_still_override_something() -> None:
    for method in ("_init_shared_socket", "_spawn_worker", "_drop_shared_socket", "_stop_workers"):
        assert hasattr(MPServer, method)
        assert getattr(server._SharedSocketGranian, method) is not getattr(MPServer, method)


def test_a_worker_is_a_process_with_the_attributes_the_stop_uses() -> None:
    source = inspect.getsource(WorkerProcess)
    assert "self.inner = multiprocessing" in source  # worker.inner.pid
    assert "interrupt_by_parent" in inspect.getsource(AbstractWorker)
    # the worker's SIGTERM handler is set before the application's __rsgi_init__, so the
    # drain signal the core adds there is the only other handler of the worker's loop
    spawn = inspect.getsource(MPServer._spawn_rsgi_worker)
    assert spawn.index("set_loop_signals(loop)") < spawn.index("callback_init(loop)")
