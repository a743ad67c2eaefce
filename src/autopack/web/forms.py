"""Reading the dashboard's HTML forms (``application/x-www-form-urlencoded``, small).

Parsed here with the standard library: the forms have a few short text fields, and
nothing else is accepted (a multipart body or a large one is refused before parsing).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from autopack.web.access import UiError

__all__ = ["MAX_FORM_BYTES", "FormDep", "read_form"]

MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 16
FORM_TYPE = "application/x-www-form-urlencoded"


async def read_form(request: Request) -> dict[str, str]:
    """The posted fields (the last value of a repeated name wins; no body: no fields)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise UiError(413, "Form too large", f"a form may hold {MAX_FORM_BYTES} bytes")
    if not body:
        return {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        raise UiError(415, "Unsupported form", f"forms are posted as {FORM_TYPE}")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise UiError(400, "Unreadable form", "the form could not be read") from None
    return dict(pairs)


FormDep = Annotated[dict[str, str], Depends(read_form)]
