"""Starting the real server for tests, the soak and the benchmark.

The server prints "listening on http://127.0.0.1:PORT" once its socket is
listening; connections made from then on wait in the backlog until a worker
takes them, so nothing here sleeps or polls.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 60
#: Users every test server has: (password, role, digest allowed). Distinctive
#: passwords, so the log test can prove none of them is ever written.
USERS = {
    "tester": ("Tester-Pa55word-Zq9", "user", True),
    "admin": ("Admin-Pa55word-Xk7", "admin", False),
    "soapui": ("soapui-password", "user", False),
}
TESTER = ("tester", USERS["tester"][0])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[str]
    log_path: Path
    data_dir: Path
    log: IO[str]
    #: the PostgreSQL DSN it serves from; empty: SQLite in data_dir
    database_url: str = ""

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def access_line(self, request_id: str) -> str:
        """The access line of ``request_id``, once written: lines written on a worker's
        event loop are written together at the end of its turn, which may come a moment
        after the client has its answer."""
        with self.log_path.open(errors="replace") as log:
            for _ in range(600_000):
                line = log.readline()
                if f"request_id={request_id} " in line:
                    return line
                if not line:
                    os.sched_yield()  # a file at its end is always readable; the server's turn
        raise AssertionError(f"no access line for {request_id}:\n{self.log_text()}")

    def wait_for_workers(self, count: int = 2) -> None:
        """Returns once ``count`` workers have loaded the application: "listening" is said
        before they have, and a request waits in the backlog until one has."""
        wanted = [f"Started worker-{n} runtime" for n in range(1, count + 1)]
        for _ in range(600_000):
            text = self.log_text()
            if all(line in text for line in wanted):
                return
            os.sched_yield()
        raise AssertionError(f"the workers did not start:\n{self.log_text()}")


def add_users(data_dir: Path, env: dict[str, str] | None = None) -> None:
    """The test users, through the CLI; with ``SOAP_SERVICE_DATABASE_URL`` in ``env``, into
    that database (where another instance may have added them already)."""
    for name, (password, role, digest) in USERS.items():
        command = [
            sys.executable,
            "-m",
            "service",
            "users",
            "--data-dir",
            str(data_dir),
            "add",
            name,
            "--role",
            role,
            *(["--digest"] if digest else []),
        ]
        done = subprocess.run(
            command,
            cwd=ROOT,
            input=password + "\n",
            text=True,
            capture_output=True,
            env={**os.environ, **(env or {})},
        )
        if done.returncode != 0 and not (env and "exists already" in done.stderr):
            raise RuntimeError(f"users add {name} failed: {done.stderr}")


def start_server(
    tmp: Path, *extra: str, env: dict[str, str] | None = None, data_dir: Path | None = None
) -> LiveServer:
    """Starts the server with its log in ``tmp`` and its data in ``data_dir`` (or tmp/data)."""
    tmp.mkdir(parents=True, exist_ok=True)
    data_dir = data_dir or tmp / "data"
    log_path = tmp / "server.log"
    if not (data_dir / "users.sqlite3").exists():
        add_users(data_dir, env)
    command = [
        sys.executable,
        "-m",
        "service",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--workers",
        "2",
        *extra,
    ]
    log = log_path.open("w")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,  # its own process group: kill_server reaches the workers
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
            log.write(line)
            log.flush()
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            process.kill()
            raise RuntimeError(f"server did not start; log:\n{log_path.read_text()}") from None
        if not line:
            raise RuntimeError(f"server exited; log:\n{log_path.read_text()}")
        if "listening on " in line:
            url = line.split("listening on ", 1)[1].strip()
            dsn = (env or {}).get("SOAP_SERVICE_DATABASE_URL", "")
            return LiveServer(url, process, log_path, data_dir, log, dsn)


def kill_server(server: LiveServer) -> None:
    """SIGKILL the server and its workers at once, as a crash would."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()
    if server.process.stdout is not None:
        server.process.stdout.close()
    server.log.close()


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    if server.process.stdout is not None:
        server.process.stdout.close()
    server.log.close()


def worker_peaks(server: LiveServer) -> dict[int, int]:
    """Peak RSS (KiB) of each of ``server``'s workers, reset to its current RSS first."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    pids = [int(pid) for pid in children.read_text().split()]
    for pid in pids:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    return {pid: status_kib(pid, "VmHWM") for pid in pids}


def peak_growth_mib(before: dict[int, int]) -> float:
    """The largest growth of a worker's peak RSS since ``worker_peaks`` gave ``before``."""
    return max(status_kib(pid, "VmHWM") - kib for pid, kib in before.items()) / 1024


def status_kib(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` figure in KiB (VmHWM, VmRSS ...)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)
