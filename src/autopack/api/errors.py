"""Every error the API returns: one JSON shape, an id to quote, never a traceback.

    {"error": {"code": "not_found", "message": "no run 'x'", "id": "3f9c…", "details": {…}}}

``code`` is stable (clients branch on it), ``message`` is for people, ``id`` is random and
logged server-side with the cause, ``details`` is optional (the issues of a 422, the allowed
targets of an illegal transition). Domain exceptions are mapped here, at the boundary, so
routers and services just raise them: :data:`DOMAIN_ERRORS` is the table.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from slowapi.errors import RateLimitExceeded
from starlette.exceptions import HTTPException as StarletteHTTPException

from autopack.engine import EngineError
from autopack.policy.states import IllegalTransitionError, allowed_targets
from autopack.spec.errors import SpecError
from autopack.store import (
    ApprovalStateError,
    LeaseHeldError,
    NotFoundError,
    RunExistsError,
    SchemaError,
)
from autopack.store.keys import ApiKeyError
from autopack.workspace import GitError, WorkspaceError

log = logging.getLogger("autopack.api")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error with an HTTP status, a stable code, a message and optional details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        log_detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = dict(details) if details else None
        self.headers = dict(headers) if headers else None
        self.log_detail = log_detail
        """Logged with the error id, never sent to the client."""


def new_error_id() -> str:
    """A random id for one error (quoted to the client, logged with the cause)."""
    return uuid.uuid4().hex[:16]


def error_body(code: str, message: str, error_id: str, details: Any = None) -> dict[str, Any]:
    """The JSON body of every error response."""
    error: dict[str, Any] = {"code": code, "message": message, "id": error_id}
    if details:
        error["details"] = details
    return {"error": error}


def error_response(exc: ApiError) -> JSONResponse:
    """Log ``exc`` with a fresh id and render it."""
    error_id = new_error_id()
    level = logging.WARNING if exc.status in (401, 403, 429) else logging.INFO
    log.log(level, "error %s: %s %s: %s", error_id, exc.status, exc.code, exc.message)
    if exc.log_detail:
        log.error("error %s detail: %s", error_id, exc.log_detail)
    return JSONResponse(
        error_body(exc.code, exc.message, error_id, exc.details),
        status_code=exc.status,
        headers=exc.headers,
    )


def _illegal(exc: IllegalTransitionError) -> ApiError:
    allowed = sorted(allowed_targets(exc.machine, exc.from_state))
    explicit = sorted(allowed_targets(exc.machine, exc.from_state, explicit=True) - set(allowed))
    details = {
        "machine": exc.machine.value,
        "key": exc.key,
        "from_state": exc.from_state,
        "to_state": exc.to_state,
        "allowed": allowed,
        "allowed_explicit": explicit,
    }
    return ApiError(409, exc.code, str(exc), details=details)


def _spec(exc: SpecError) -> ApiError:
    issues = [i.to_dict() for i in exc.issues]
    first = exc.issues[0]
    more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
    message = f"invalid run specification: {first.loc}: {first.message}{more}"
    return ApiError(422, "invalid_spec", message, details={"issues": issues})


def _workspace(exc: WorkspaceError) -> ApiError:
    if isinstance(exc, GitError):  # argv and stderr stay in the server log
        message = "a git command failed; the server log has the details (quote the error id)"
        return ApiError(500, exc.code, message, log_detail=str(exc))
    status = 404 if exc.code == "run_not_found" else 409
    return ApiError(status, exc.code, str(exc))


DOMAIN_ERRORS: dict[type[Exception], Any] = {
    NotFoundError: lambda e: ApiError(404, e.code, str(e)),
    RunExistsError: lambda e: ApiError(409, e.code, str(e)),
    ApprovalStateError: lambda e: ApiError(409, e.code, str(e)),
    LeaseHeldError: lambda e: ApiError(
        409, e.code, str(e), details={"owner": e.owner, "expires_at": e.expires_at.isoformat()}
    ),
    IllegalTransitionError: _illegal,
    SpecError: _spec,
    ApiKeyError: lambda e: ApiError(422, e.code, str(e)),
    EngineError: lambda e: ApiError(409, e.code, str(e)),
    WorkspaceError: _workspace,
    SchemaError: lambda e: ApiError(503, e.code, str(e)),
}
"""Domain exception → the :class:`ApiError` it becomes (looked up along the MRO)."""


def _validation(exc: RequestValidationError) -> ApiError:
    issues = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        # Never echo the input back: it may be large, or hold what should not be logged.
        issues.append({"loc": loc, "message": str(err.get("msg", "")), "code": err.get("type")})
    head = issues[0] if issues else {"loc": "request", "message": "invalid"}
    more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
    message = f"invalid request: {head['loc']}: {head['message']}{more}"
    return ApiError(422, "invalid_request", message, details={"issues": issues})


def _http(exc: StarletteHTTPException) -> ApiError:
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return ApiError(exc.status_code, code, detail, headers=exc.headers)


def _to_api_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, RequestValidationError):
        return _validation(exc)
    if isinstance(exc, RateLimitExceeded):
        return ApiError(429, "rate_limited", f"rate limit exceeded: {exc.detail}")
    if isinstance(exc, StarletteHTTPException):
        return _http(exc)
    for cls in type(exc).__mro__:
        if cls in DOMAIN_ERRORS:
            return DOMAIN_ERRORS[cls](exc)
    raise exc  # pragma: no cover - only registered classes reach the handler


async def _handle(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(_to_api_error(exc))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers (unexpected errors are caught by the security middleware)."""
    for cls in (
        ApiError,
        RequestValidationError,
        RateLimitExceeded,
        StarletteHTTPException,
        *DOMAIN_ERRORS,
    ):
        app.add_exception_handler(cls, _handle)
