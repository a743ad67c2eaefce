"""The exception tree of :mod:`autopack.llm` (see the package docstring).

Provider SDK exceptions never leave an adapter: they are mapped here, at the boundary, onto
a small tree whose members carry a stable ``code``, the HTTP ``status`` when there was one,
whether the retry loop may try again (``retryable``) and the server's ``retry_after`` hint.

Messages are written for people and logs. They never contain an API key: every message built
from provider text goes through :func:`scrub`, which removes the known secrets and anything
shaped like a key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from types import ModuleType

__all__ = [
    "AuthenticationError",
    "LlmError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitedError",
    "ScriptError",
    "error_for_status",
    "map_sdk_error",
    "scrub",
]

# Statuses worth another try: rate limits, timeouts/conflicts the server asks us to repeat,
# and the transient server failures (529 is Anthropic's "overloaded").
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})

# Anything that looks like a provider key (``sk-...``, ``sk-ant-...``, long bearer tokens).
_KEY_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9._\-]{8,})")
_MAX_DETAIL = 500


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove every known secret and every key-shaped token from ``text``; cap its length."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    text = _KEY_SHAPES.sub("[redacted]", text)
    if len(text) > _MAX_DETAIL:
        text = text[:_MAX_DETAIL] + "…"
    return text


class LlmError(Exception):
    """Root of every exception raised by :mod:`autopack.llm`.

    ``code`` is a stable string (it appears in events and telemetry). ``status`` is the HTTP
    status when the provider answered, ``retry_after`` the delay (seconds) the provider asked
    for, ``attempts`` how many HTTP tries were made before giving up.
    """

    code: str = "llm_error"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable
        self.provider = provider
        self.model = model
        self.status = status
        self.retry_after = retry_after
        self.attempts = 1

    def __str__(self) -> str:
        where = "/".join(p for p in (self.provider, self.model) if p)
        prefix = f"[{self.code}] " + (f"{where}: " if where else "")
        return prefix + self.message


class ProviderError(LlmError):
    """The provider answered with an error, or could not be reached, or answered nonsense."""

    code = "provider_error"


class RateLimitedError(LlmError):
    """HTTP 429: too many requests or tokens; ``retry_after`` holds the server's hint."""

    code = "rate_limited"
    retryable = True


class ProviderTimeoutError(LlmError):
    """The request did not complete within the configured connect/read timeout."""

    code = "timeout"
    retryable = True


class AuthenticationError(LlmError):
    """Missing, invalid or insufficient credentials (401/403). Never retried."""

    code = "authentication_failed"
    retryable = False


class ScriptError(LlmError):
    """Scripted provider: no answer matches the request, or the script file is malformed."""

    code = "script_error"
    retryable = False


def error_for_status(
    status: int,
    detail: str,
    *,
    provider: str,
    model: str | None,
    retry_after: float | None = None,
    secrets: Iterable[str | None] = (),
) -> LlmError:
    """Build the error for an HTTP error status; ``detail`` is scrubbed of secrets."""
    text = scrub(detail, secrets)
    common = {"provider": provider, "model": model, "status": status, "retry_after": retry_after}
    if status in (401, 403):
        code = "authentication_failed" if status == 401 else "permission_denied"
        return AuthenticationError(f"HTTP {status}: {text}", code=code, **common)
    if status == 429:
        return RateLimitedError(f"HTTP 429: {text}", **common)
    if status in RETRYABLE_STATUSES:
        code = "overloaded" if status == 529 else "server_error"
        if status < 500:
            code = "request_timeout" if status == 408 else "conflict"
        return ProviderError(f"HTTP {status}: {text}", code=code, retryable=True, **common)
    code = "server_error" if status >= 500 else _CLIENT_CODES.get(status, "bad_request")
    return ProviderError(f"HTTP {status}: {text}", code=code, retryable=False, **common)


_CLIENT_CODES = {
    400: "bad_request",
    404: "not_found",
    413: "request_too_large",
    422: "unprocessable",
}


def _api_detail(exc: BaseException) -> str:
    """The provider's own error message (``{"error": {"type", "message"}}``) if it sent one."""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        kind, message = error.get("type"), error.get("message")
        parts = [str(p) for p in (kind, message) if p]
        if parts:
            return ": ".join(parts)
    return str(getattr(exc, "message", "") or type(exc).__name__)


def map_sdk_error(
    exc: Exception,
    sdk: ModuleType,
    *,
    provider: str,
    model: str | None,
    secrets: Iterable[str | None] = (),
) -> LlmError | None:
    """Map an exception raised by the ``anthropic`` or ``openai`` SDK onto this tree.

    Both SDKs (Stainless-generated) expose the same classes, so the module is passed in rather
    than imported here. Returns ``None`` for exceptions that are not the SDK's or a decoding
    failure (programming errors propagate unchanged).
    """
    # Imported lazily: retry imports this module.
    from autopack.llm.retry import parse_retry_after

    secrets = list(secrets)
    common = {"provider": provider, "model": model}
    if isinstance(exc, sdk.APIStatusError):
        headers = dict(exc.response.headers.items())
        return error_for_status(
            exc.status_code,
            _api_detail(exc),
            retry_after=parse_retry_after(headers),
            secrets=secrets,
            **common,
        )
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderTimeoutError("no answer within the timeout", **common)
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        why = scrub(str(cause), secrets) if cause else "connection failed"
        return ProviderError(
            f"cannot reach the provider: {why}", code="connection_error", retryable=True, **common
        )
    if isinstance(exc, sdk.APIResponseValidationError | json.JSONDecodeError):
        return ProviderError(
            f"unreadable answer: {scrub(str(exc), secrets)}", code="malformed_response", **common
        )
    if isinstance(exc, sdk.APIError):
        return ProviderError(scrub(_api_detail(exc), secrets), **common)
    return None
