"""A real ArcadeDB server (PyPI ``arcadedb-embedded``, in the ``test`` extra) with its Bolt plugin,
for the Bolt store tests and the benchmarks that measure a server.

The server runs in its own process (``arcadedb_launcher.py``, run by file path: it needs nothing of
graphmem) on free loopback ports and is stopped by pid: its stdin closed first, SIGKILL if it has
not exited shortly after (the JVM once ignored SIGTERM for 30 s). Each test gets a fresh database
through the server's HTTP command API.
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

LAUNCHER = Path(__file__).with_name("arcadedb_launcher.py")
PASSWORD = "graphmem-test-pw"  # ArcadeDB wants at least 8 characters
USER = "root"
START_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class ArcadeServer:
    """One ArcadeDB process. ``start()`` raises RuntimeError with the server log if it fails."""

    def __init__(self, root: Path, http_port: int | None = None, bolt_port: int | None = None):
        self.root = root  # a restart on the same root finds the same databases
        self.http_port = http_port or free_port()
        self.bolt_port = bolt_port or free_port()
        self.log_path = root / "server.log"
        self.proc: subprocess.Popen | None = None
        self._names = itertools.count()

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(LAUNCHER.resolve()), str(self.root.resolve() / "databases"), PASSWORD,
             str(self.http_port), str(self.bolt_port), str(free_port())],
            stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
            cwd=self.root,  # ArcadeDB writes its log/ folder into the working directory
            start_new_session=True,  # a ^C in pytest must not reach the JVM before we stop it
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (port_open(self.bolt_port) and port_open(self.http_port)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"ArcadeDB did not start (exit code {self.proc.returncode}); "
                    f"last log lines:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def command(self, command: str) -> None:
        """Run a server command (``create database x``) through the HTTP API."""
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}/api/v1/server",
            data=json.dumps({"command": command}).encode(),
            headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(req, timeout=30).read()
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"ArcadeDB refused {command!r}: {e.read()[:500]!r}") from e

    def fresh_database(self, prefix: str = "t") -> str:
        name = f"{prefix}{next(self._names)}"
        self.command(f"create database {name}")
        return name

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop by pid: close its stdin (it shuts down cleanly), SIGKILL it if still up after grace_s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """Die abruptly, as a crashed server would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
