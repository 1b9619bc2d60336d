"""A real HTTP server on 127.0.0.1 that speaks POST /v1/chat/completions with scripted replies.

Each request takes the next step of the script: a reply, an HTTP error, a stall (for client
timeouts), a raw body sent as HTTP 200 (for malformed replies) or a dropped connection. Requests are recorded (parsed JSON bodies) for assertions.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def completion(content: str, prompt_tokens: int = 10, completion_tokens: int = 5,
               finish_reason: str = "stop") -> dict:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "finish_reason": finish_reason,
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


class ChatServer:
    def __init__(self, choose=None) -> None:
        """``choose(body)``, if given, picks each request's step (a script entry) from the request
        itself, for clients that run concurrently (the fuzz script)."""
        self.script: deque = deque()
        self.requests: list[dict] = []
        self.rejected_formats: set[str] = set()  # response_format types answered with HTTP 400
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                fmt = (body.get("response_format") or {}).get("type")
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                if fmt in server.rejected_formats:
                    return self._send(400, {"error": {"message": f"response_format {fmt} is not supported"}})
                if choose is not None:
                    server.script.appendleft(choose(body))
                if not server.script:
                    return self._send(500, {"error": {"message": "script exhausted"}})
                kind, *args = server.script.popleft()
                if kind == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if kind == "stall":
                    time.sleep(args[0])
                    kind, args = "reply", args[1:]
                if kind == "reply":
                    return self._send(200, completion(*args[0], **args[1]))
                if kind == "raw":
                    return self._send_bytes(200, *args)
                status, message = args
                self._send(status, {"error": {"message": message, "type": "test"}})

            def _send(self, status: int, payload: dict) -> None:
                self._send_bytes(status, json.dumps(payload).encode(), "application/json")

            def _send_bytes(self, status: int, data: bytes, content_type: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def reply(self, content: str, **usage) -> "ChatServer":
        self.script.append(("reply", (content,), usage))
        return self

    def error(self, status: int, message: str = "scripted error") -> "ChatServer":
        self.script.append(("error", status, message))
        return self

    def stall(self, seconds: float, content: str = "late") -> "ChatServer":
        self.script.append(("stall", seconds, (content,), {}))
        return self

    def raw(self, body: bytes, content_type: str = "application/json") -> "ChatServer":
        self.script.append(("raw", body, content_type))
        return self

    def drop(self) -> "ChatServer":
        self.script.append(("drop",))
        return self

    def __enter__(self) -> "ChatServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
