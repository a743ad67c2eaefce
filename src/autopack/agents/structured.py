"""Reading structured (JSON) answers from a model, with one corrective follow-up.

Extraction (:func:`extract_json`) accepts what models actually send: a bare JSON object, one
inside a ```` ```json ```` (or unlabelled) fence, or one with prose around it. The first
top-level object wins, in this order: the whole answer; the first fenced block holding an
object (``json``-labelled fences first); the first ``{`` in the text from which a complete
object decodes. An object that starts like JSON (``{"`` or ``{}``) but does not decode stops
the scan: a broken answer is reported, never replaced by an object nested inside it.

:func:`ask_structured` validates the object with a pydantic model (and an optional extra
``check``). On a problem it sends ONE follow-up turn quoting the exact parse or validation
error and asks again; if the second answer is still unusable it raises
:class:`~autopack.agents.errors.MalformedAnswerError`, which the engine counts as a failed
attempt. A completion cut off at the output limit (``truncated`` / stop reason
``max_tokens``) counts as malformed whatever it contains, with a follow-up saying so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from autopack.agents.errors import MalformedAnswerError, trim_middle
from autopack.llm.base import Completion, Message

if TYPE_CHECKING:
    from autopack.agents.redaction import Redactor

__all__ = [
    "JsonExtractionError",
    "ModelCall",
    "ask_structured",
    "extract_json",
    "format_validation_error",
    "is_truncated",
]

ModelCall = Callable[[list[Message]], Completion]
"""One model call: messages in, a completion out. The engine binds provider, model and ledger."""

T = TypeVar("T", bound=BaseModel)
Check = Callable[[Any], str | None]

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
_OBJECT_START = re.compile(r"\{\s*(?:\"|\})")
_MAX_SCAN = 500  # '{' positions tried before giving up (prose full of braces)
_TRUNCATED_STOPS = frozenset({"max_tokens", "length", "max_output_tokens"})
_ECHO_LIMIT = 4_000


class JsonExtractionError(ValueError):
    """No JSON object could be read from an answer; the message is written for the model."""


def _decode_object(text: str, origin: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"{origin} is not valid JSON: {exc}"
    if isinstance(value, dict):
        return value, None
    return None, f"{origin} is a JSON {type(value).__name__}, but an object {{...}} is required"


def _scan(text: str) -> tuple[dict[str, Any] | None, str | None]:
    decoder = json.JSONDecoder()
    start = text.find("{")
    tries = 0
    while start != -1 and tries < _MAX_SCAN:
        tries += 1
        try:
            value, _end = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            if _OBJECT_START.match(text, start):
                return None, f"the JSON object starting at character {start} is invalid: {exc}"
        else:
            if isinstance(value, dict):
                return value, None
        start = text.find("{", start + 1)
    return None, None


def extract_json(text: str) -> dict[str, Any]:
    """The first top-level JSON object in ``text`` (see the module docstring for the order).

    Raises :class:`JsonExtractionError` with the most precise problem found.
    """
    stripped = text.strip()
    if not stripped:
        raise JsonExtractionError("the answer is empty")
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        pass  # prose, fences or a broken object: looked at below
    else:
        if isinstance(whole, dict):
            return whole
        raise JsonExtractionError(
            f"the answer is a JSON {type(whole).__name__}, but an object {{...}} is required"
        )
    fence_error: str | None = None
    fences = sorted(_FENCE.finditer(text), key=lambda m: m.group(1).lower() != "json")
    for fence in fences:
        body = fence.group(2).strip()
        if not body.startswith("{"):
            continue
        value, error = _decode_object(body, "the fenced block")
        if value is not None:
            return value
        fence_error = fence_error or error
    value, scan_error = _scan(text)
    if value is not None and fence_error is None:
        return value
    raise JsonExtractionError(
        fence_error or scan_error or "no JSON object {...} was found in the answer"
    )


def format_validation_error(exc: ValidationError) -> str:
    """Pydantic errors as short lines naming the field: ``issues.0.severity: ...``."""
    lines = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(the object)"
        shown = repr(err.get("input"))
        got = f" (got {trim_middle(shown, 80)})" if err["type"] != "missing" else ""
        lines.append(f"- {where}: {err['msg']}{got}")
    return "\n".join(lines)


def is_truncated(completion: Completion) -> bool:
    """Whether the completion stopped at the output token limit."""
    stop = (getattr(completion, "stop_reason", None) or "").lower()
    return bool(getattr(completion, "truncated", False)) or stop in _TRUNCATED_STOPS


def _problem(
    completion: Completion, model_cls: type[T], check: Check | None
) -> tuple[T | None, str]:
    if is_truncated(completion):
        return None, (
            "Your answer was cut off at the output token limit (stop reason "
            f"{completion.stop_reason or 'max_tokens'}), so it is incomplete and was not used."
        )
    try:
        data = extract_json(completion.text or "")
    except JsonExtractionError as exc:
        return None, f"Your answer could not be read as JSON: {exc}."
    try:
        value = model_cls.model_validate(data)
    except ValidationError as exc:
        return None, (
            "Your JSON does not have the required shape:\n" + format_validation_error(exc)
        )
    if check is not None:
        reason = check(value)
        if reason:
            return None, f"Your answer cannot be accepted: {reason}"
    return value, ""


def _follow_up(problem: str, truncated: bool) -> str:
    shorter = " Keep it short: brief descriptions, no prose." if truncated else ""
    return (
        f"{problem}\n\nAnswer again with exactly one JSON object in the shape asked for above, "
        f"and nothing else (no prose, no code fence needed).{shorter}"
    )


def ask_structured(
    call: ModelCall,
    messages: Sequence[Message],
    model_cls: type[T],
    *,
    retries: int = 1,
    check: Check | None = None,
    redactor: Redactor | None = None,
) -> T:
    """Ask ``call`` and parse its answer into ``model_cls``; retry ``retries`` times at most.

    ``check`` may refuse a well-formed value with a reason (sent back like a parse error).
    ``redactor``, when given, redacts every message before each call (the follow-up quotes
    the model's own answer). Provider errors raised by ``call`` propagate unchanged.
    """
    conversation = list(messages)
    for attempt in range(retries + 1):
        outgoing = redactor.messages(conversation) if redactor is not None else conversation
        completion = call(outgoing)
        value, problem = _problem(completion, model_cls, check)
        if value is not None:
            return value
        truncated = is_truncated(completion)
        if attempt == retries:
            raise MalformedAnswerError(
                f"the model's answer was unusable after {attempt + 1} call(s): "
                f"{problem.splitlines()[0]}",
                parse_error=problem,
                raw=completion.text or "",
                attempts=attempt + 1,
                truncated=truncated,
            )
        conversation = [
            *conversation,
            Message(role="assistant", content=trim_middle(completion.text or "", _ECHO_LIMIT)),
            Message(role="user", content=_follow_up(problem, truncated)),
        ]
    raise AssertionError("unreachable")  # pragma: no cover
