"""Local HTTP servers that speak the providers' wire protocols, for the real SDKs to talk to.

One :class:`WireServer` (stdlib ``http.server`` in a thread, 127.0.0.1, a free port) answers
both ``POST /v1/messages`` (Anthropic Messages API) and ``POST /v1/chat/completions`` (OpenAI
Chat Completions API). Tests queue :class:`Reply` values; each request takes the next one, or
a normal answer in the right shape when the queue is empty. Every request is recorded
(method, path, headers, JSON body) so tests can assert what the SDK actually sent.

    with WireServer() as server:
        server.queue(rate_limited(retry_after="2"), anthropic_answer("hello"))
        ... Anthropic(base_url=server.url, ...) ...
        assert server.requests[0].headers["x-api-key"] == "sk-test"
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "RecordedRequest",
    "Reply",
    "WireServer",
    "anthropic_answer",
    "malformed",
    "openai_answer",
    "rate_limited",
    "server_error",
    "slow",
]


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer. ``body`` may be JSON-able, or ``str``/``bytes`` sent as is."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to sleep before answering (past the client's read timeout = a timeout)."""


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: Any
    raw: bytes


def anthropic_answer(
    text: str = "hello from anthropic",
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 11,
    output_tokens: int = 7,
    model: str = "claude-test",
) -> Reply:
    """A Messages API answer."""
    return Reply(
        body={
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }
    )


def openai_answer(
    text: str = "hello from openai",
    *,
    finish_reason: str = "stop",
    usage: bool = True,
    prompt_tokens: int = 13,
    completion_tokens: int = 5,
    model: str = "gpt-test",
) -> Reply:
    """A Chat Completions answer; ``usage=False`` omits usage like some local servers do."""
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage:
        body["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return Reply(body=body)


def _error_body(status: int, kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message, "code": status}}


def rate_limited(retry_after: str | None = "2", *, retry_after_ms: str | None = None) -> Reply:
    """HTTP 429 with ``Retry-After`` (and/or ``retry-after-ms``)."""
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    body = _error_body(429, "rate_limit_error", "slow down")
    return Reply(status=429, body=body, headers=headers)


def server_error(status: int = 500, message: str = "internal failure") -> Reply:
    """A 5xx (or any status) with an error body in the shape both APIs use."""
    kind = {401: "authentication_error", 529: "overloaded_error"}.get(status, "api_error")
    return Reply(status=status, body=_error_body(status, kind, message))


def slow(seconds: float, reply: Reply | None = None) -> Reply:
    """``reply`` (default: an empty 200) sent only after ``seconds``."""
    base = reply or Reply(body={})
    return Reply(status=base.status, body=base.body, headers=base.headers, delay=seconds)


def malformed() -> Reply:
    """A 200 whose body claims to be JSON but is not."""
    return Reply(
        body=b'{"id": "broken", "content": [', headers={"content-type": "application/json"}
    )


class WireServer:
    """A threaded HTTP server on 127.0.0.1 answering from a queue of :class:`Reply`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # a handler still sleeping (slow reply) is abandoned
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL without a trailing path (Anthropic SDK style)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_url(self) -> str:
        """Base URL for the OpenAI SDK (which expects the ``/v1`` prefix in it)."""
        return self.url + "/v1"

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def _next(self, path: str) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        if path.endswith("/chat/completions"):
            return openai_answer()
        if path.endswith("/messages"):
            return anthropic_answer()
        return Reply(status=404, body=_error_body(404, "not_found_error", path))

    def start(self) -> WireServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Silence the default stderr access log."""

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server._lock:
                    server.requests.append(RecordedRequest("POST", self.path, headers, body, raw))
                self._send(server._next(self.path))

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                if isinstance(reply.body, bytes):
                    payload = reply.body
                elif isinstance(reply.body, str):
                    payload = reply.body.encode()
                else:
                    payload = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    headers = {"content-type": "application/json", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (timeout test)

        return Handler
