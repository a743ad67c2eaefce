"""The outermost layer of the app: security headers, a body size cap, and the last resort.

:class:`SecurityMiddleware` is plain ASGI (no ``BaseHTTPMiddleware``: streaming responses
and server-sent events pass through untouched). On every HTTP response it sets, unless
the route set its own:

- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: no-referrer``;
- ``Content-Security-Policy``: :data:`API_CSP` (nothing may load; a dashboard route sets a
  policy of its own, which wins);
- ``Cache-Control: no-store`` on JSON (runs, keys' owners, diffs must not sit in caches).

A request body larger than ``max_body`` gets 413 before any route reads it. An exception no
handler knew is logged with a random id and its traceback; the client gets a 500 with that
id and nothing else (the same shape as every other error, see :mod:`autopack.api.errors`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autopack.api.errors import error_body, new_error_id

log = logging.getLogger("autopack.api")

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
"""The Content-Security-Policy of API responses: JSON needs no sub-resources at all."""

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)

MAX_BODY_BYTES = 4 * 1024 * 1024
"""Largest request body accepted (plans are far smaller)."""


class _BodyTooLargeError(HTTPException):
    """Raised while the body is read; an HTTPException so FastAPI's body parsing passes it on."""


class SecurityMiddleware:
    """Security headers on every response, a body cap, and errors without tracebacks."""

    def __init__(self, app: ASGIApp, *, csp: str = API_CSP, max_body: int = MAX_BODY_BYTES):
        self.app = app
        self.csp = csp.encode("latin-1")
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": self._headers(message.get("headers", []))}
            await send(message)

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await self._error(send_with_headers, 413, "payload_too_large", self._too_large())
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLargeError(413, self._too_large())
            return message

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except _BodyTooLargeError:
            if started:
                raise
            await self._error(send_with_headers, 413, "payload_too_large", self._too_large())
        except Exception:
            error_id = new_error_id()
            log.exception("error %s: unhandled exception on %s %s", error_id, *_where(scope))
            if started:
                raise
            message = "internal error; the server log has the details (quote the error id)"
            await self._error(send_with_headers, 500, "internal_error", message, error_id)

    def _too_large(self) -> str:
        return f"request body over {self.max_body} bytes"

    def _headers(self, raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        headers = list(raw)
        present = {name.lower() for name, _ in headers}
        extra = [*SECURITY_HEADERS, (b"content-security-policy", self.csp)]
        content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
        if content_type.startswith(b"application/json"):
            extra.append((b"cache-control", b"no-store"))
        headers.extend((name, value) for name, value in extra if name not in present)
        return headers

    @staticmethod
    async def _error(
        send: Send, status: int, code: str, message: str, error_id: str | None = None
    ) -> None:
        error_id = error_id or new_error_id()
        if status != 500:
            log.info("error %s: %s %s: %s", error_id, status, code, message)
        body = json.dumps(error_body(code, message, error_id)).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _where(scope: dict[str, Any]) -> tuple[str, str]:
    return scope.get("method", "?"), scope.get("path", "?")
