"""serve-mcp's streamable HTTP transport, guarded: the SDK's app behind a check of every request's
Host and Origin headers and, when the server has one, its bearer token.

Why each check: a web page the user opens can make their browser send requests to a server on
their own machine; DNS rebinding lets it do so under a name of its own choosing, so a Host header
that is not a name this server answers to is refused (421), as is a browser's Origin from anywhere
else (403). A server that listens beyond loopback serves anyone who can reach the port, so it needs
a token, which every request must carry as ``Authorization: Bearer TOKEN`` (401 without it). The
SDK's own cap on a request's body (4 MiB) stays in place behind the guard.
"""
from __future__ import annotations

import hmac
import ipaddress
from typing import Iterable
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
TOKEN_ENV = "GRAPHMEM_MCP_TOKEN"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only reaches this machine."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names a request's Host may give: the loopback names, the address the server is bound to
    (unless it is a wildcard such as 0.0.0.0, which no client names) and the ones given."""
    names = {*LOOPBACK_NAMES, *(_bare(name) for name in extra)}
    try:
        wildcard = ipaddress.ip_address(bound).is_unspecified
    except ValueError:
        wildcard = False
    if not wildcard:
        names.add(_bare(bound))
    return frozenset(names)


def _bare(name: str) -> str:
    return name.strip().strip("[]").lower()


def _hostname(authority: str | None) -> str | None:
    """The host name of a Host header ("127.0.0.1:8765", "[::1]:8765"), None when it has none."""
    if not authority:
        return None
    try:
        return urlsplit("//" + authority).hostname
    except ValueError:  # an unbalanced bracket, a port that is no number
        return None


class GuardedApp:
    """An ASGI app that refuses a request before ``app`` sees it when its Host is not in
    ``hosts`` (421), its Origin names another host (403) or, with a ``token``, it lacks
    ``Authorization: Bearer <token>`` (401). Requests without an Origin (not from a browser) pass
    that check."""

    def __init__(self, app, hosts: frozenset[str], token: str | None):
        self.app = app
        self.hosts = hosts
        self._token = token.encode() if token else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            refused = self.refusal({k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]})
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, headers: dict[str, str]):
        """The response that refuses a request with these headers, None to let it through."""
        from starlette.responses import PlainTextResponse

        host = _hostname(headers.get("host"))
        if host not in self.hosts:
            return PlainTextResponse(f"Host {headers.get('host', '')!r} is not a name of this server (start it "
                                     f"with --allow-host NAME to answer to another)\n", status_code=421)
        origin = headers.get("origin")
        if origin is not None and _hostname(urlsplit(origin).netloc) not in self.hosts:  # "null" too
            return PlainTextResponse(f"requests from pages at {origin!r} are refused\n", status_code=403)
        if self._token is not None and not self._authorized(headers.get("authorization", "")):
            return PlainTextResponse("send the server's token: Authorization: Bearer TOKEN\n", status_code=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="graphmem"'})
        return None

    def _authorized(self, header: str) -> bool:
        scheme, _, given = header.partition(" ")
        assert self._token is not None
        # compare_digest: the time taken says nothing about how much of a guess was right
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self._token)


def serve_http(server, host: str, port: int, *, token: str | None, allow_hosts: Iterable[str] = ()) -> None:
    """Serve ``server`` (an ``MCPServer``) at http://HOST:PORT/mcp behind the guard until stopped."""
    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    # The guard checks Host and Origin on every path; the SDK's own check (loopback names only)
    # would refuse the names --allow-host adds. Its Content-Type check and body cap stay.
    app = server.streamable_http_app(host=host, transport_security=TransportSecuritySettings(
        enable_dns_rebinding_protection=False))
    uvicorn.run(GuardedApp(app, allowed_hosts(host, allow_hosts), token), host=host, port=port,
                log_level=server.settings.log_level.lower())
