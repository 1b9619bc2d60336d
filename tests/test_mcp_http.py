"""serve-mcp over HTTP with a token: real requests to the real command in its own process get 401
without the token, 421 for a Host that is not the server's, 403 from a foreign page's Origin, 413 past
the body cap, and 200 with the token; the SDK's client works through the guard. Binding beyond
loopback is refused without a token."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from graphmem.testing.arcadedb import free_port
from test_mcp import _stop, _wait_for_port

pytest.importorskip("mcp")

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token-5b1d0c7e"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "test", "version": "0"}}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server on a free loopback port with a token, answering to one more name; yields its port."""
    tmp = tmp_path_factory.mktemp("http")
    port, log = free_port(), tmp / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false", "GRAPHMEM_MCP_TOKEN": TOKEN}
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "graphmem.cli", "serve-mcp", "--graph", str(tmp / "g.json"),
                                 "--http", f"127.0.0.1:{port}", "--allow-host", "memory.example"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            _wait_for_port(port, proc, log)
            yield port
        finally:
            _stop(proc)


def _post(port: int, headers: dict[str, str]) -> tuple[int, str]:
    """POST an initialize request to /mcp; (status, body's first line)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/mcp", method="POST",
                                     data=json.dumps(INITIALIZE).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json, text/event-stream", **headers})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.readline().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


BEARER = {"Authorization": f"Bearer {TOKEN}"}


def test_requests_without_the_token_get_401_and_with_it_200(server):
    assert _post(server, {})[0] == 401
    assert _post(server, {"Authorization": "Bearer wrong"})[0] == 401
    assert _post(server, {"Authorization": TOKEN})[0] == 401  # the scheme is part of it
    status, text = _post(server, BEARER)
    assert status == 200, text


def test_host_and_origin_are_checked_against_the_servers_names(server):
    status, text = _post(server, {**BEARER, "Host": "attacker.example"})
    assert status == 421 and "--allow-host" in text
    assert _post(server, {**BEARER, "Host": f"memory.example:{server}"})[0] == 200  # --allow-host
    assert _post(server, {**BEARER, "Host": f"localhost:{server}"})[0] == 200
    assert _post(server, {**BEARER, "Origin": "http://attacker.example"})[0] == 403
    assert _post(server, {**BEARER, "Origin": "null"})[0] == 403
    assert _post(server, {**BEARER, "Origin": f"http://127.0.0.1:{server}"})[0] == 200
    # The Host check comes first: a rebinding page without the token learns nothing more.
    assert _post(server, {"Host": "attacker.example"})[0] == 421


def test_the_body_cap_stays(server):
    """A body declared past the SDK's 4 MiB is refused before it is read (the answer comes while
    the client would still be sending it)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=60)
    try:
        conn.putrequest("POST", "/mcp")
        for key, value in {**BEARER, "Content-Type": "application/json", "Content-Length": str(5 << 20)}.items():
            conn.putheader(key, value)
        conn.endheaders()
        assert conn.getresponse().status == 413
    finally:
        conn.close()


def test_the_sdk_client_works_with_the_token(server):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def session() -> dict:
        async with httpx2.AsyncClient(headers=BEARER, timeout=120) as http:
            async with Client(streamable_http_client(f"http://127.0.0.1:{server}/mcp", http_client=http),
                              read_timeout_seconds=120) as client:
                added = await client.call_tool("add_triples", {"triples": [["key", "in", "drawer"]]})
                stats = await client.read_resource("graphmem://stats")
                return {"added": added, "stats": json.loads(stats.contents[0].text)}

    out = asyncio.run(session())
    assert not out["added"].is_error and out["stats"]["triples"] == 1


def test_listening_beyond_loopback_needs_a_token(tmp_path, monkeypatch, capsys):
    from graphmem.cli import main

    monkeypatch.delenv("GRAPHMEM_MCP_TOKEN", raising=False)
    for address in ("0.0.0.0:8765", "192.168.1.20:8765", "[::]:8765"):
        assert main(["serve-mcp", "--graph", str(tmp_path / "g.json"), "--http", address]) == 2
        assert "needs a token" in capsys.readouterr().err
    assert main(["serve-mcp", "--graph", str(tmp_path / "g.json"), "--token", TOKEN]) == 2  # stdio takes none
    assert "--http" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # not an address at all: argparse's usage error
        main(["serve-mcp", "--graph", str(tmp_path / "g.json"), "--http", "8765"])
    assert not (tmp_path / "g.json").exists()  # refused before anything was opened


def test_the_guard_allows_the_bound_address_and_the_names_given():
    from graphmem.mcp_http import GuardedApp, allowed_hosts

    assert allowed_hosts("0.0.0.0") == {"localhost", "127.0.0.1", "::1"}  # no client names a wildcard
    guard = GuardedApp(None, allowed_hosts("10.1.2.3", ["Memory.Example"]), TOKEN)
    ok = {"authorization": f"bearer {TOKEN}"}
    assert guard.refusal({**ok, "host": "10.1.2.3:8765"}) is None
    assert guard.refusal({**ok, "host": "memory.example"}) is None
    assert guard.refusal({**ok, "host": "[::1]:8765"}) is None
    assert guard.refusal({**ok, "host": "10.1.2.4:8765"}).status_code == 421
    assert guard.refusal({**ok, "host": "[::1"}).status_code == 421  # unparseable
    assert guard.refusal({**ok}).status_code == 421  # no Host at all
