"""Run an ArcadeDB server with the Bolt plugin in this process until stdin closes or it is killed.

Usage: python arcadedb_launcher.py ROOT_DIR PASSWORD HTTP_PORT BOLT_PORT HTTPS_PORT

Prints one line ``READY`` once the server has started. It runs in
its own process so that a stuck JVM can be killed by pid without taking the test process along.
"""
from __future__ import annotations

import os
import sys
import time


def main(argv: list[str]) -> int:
    root, password, http_port, bolt_port, https_port = argv
    import arcadedb_embedded

    server = arcadedb_embedded.create_server(
        root_path=root,
        root_password=password,
        config={
            "host": "127.0.0.1",
            "http_port": int(http_port),
            "server_plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "bolt_port": int(bolt_port),
            # its default 2490-2499 range would collide with other servers on this machine
            "server_httpsIncomingPort": int(https_port),
        },
    )
    server.start()
    print("READY", flush=True)
    # The parent holds our stdin open; EOF means it is done with us (or died).
    sys.stdin.read()
    started = time.monotonic()
    server.stop()
    print(f"STOPPED in {time.monotonic() - started:.1f}s", flush=True)
    # Leftover non-daemon JVM threads can keep the process alive after stop(); leave regardless.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
