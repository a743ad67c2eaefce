"""Pydantic validation errors → messages a plan author can act on.

Pydantic's messages are written for programmers (``Input should be 'low', 'medium' or
'high'``); these say what was given, what is allowed, and the closest allowed value
(``'hgh' is not one of low, medium, high (did you mean 'high'?)``).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from autopack.spec._locate import Path, short_repr
from autopack.spec._normaliser import suggest
from autopack.spec.models import (
    COMPLEXITY_ALIASES,
    CiSpec,
    ContextRef,
    Deliverable,
    PhaseSpec,
    RunSpec,
    Scope,
    TierSpec,
)

# The model that validates the object holding a field, by the name of the enclosing field.
_MODEL_BY_PARENT: dict[str | None, type[BaseModel]] = {
    None: RunSpec,
    "tiers": TierSpec,
    "phases": PhaseSpec,
    "scope": Scope,
    "ci": CiSpec,
    "read_only_context": ContextRef,
    "deliverables": Deliverable,
}
# Legacy spellings accepted by the loader, offered as suggestions too.
_ALIASES: dict[type[BaseModel], tuple[str, ...]] = {
    RunSpec: ("description",),
    TierSpec: ("tier_name",),
    PhaseSpec: ("task_name", "id", "goal"),
}
_TYPE_WORDS = {
    "int": "an integer",
    "bool": "true or false",
    "string": "a string",
    "list": "a list",
    "dict": "a mapping",
    "model": "a mapping",
    "model_attributes": "a mapping",
    "float": "a number",
}
_ID_HELP = (
    "is not a valid id: use letters, digits, '.', '_' or '-', starting with a letter or "
    "digit, at most 128 characters"
)
_CATEGORY_HELP = (
    "is not a valid task category: use a lower-case identifier such as "
    "'feature_scaffolding', 'tests' or 'schema_contract_change'"
)
_COMPARE = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


def _model_for(loc: Path) -> type[BaseModel]:
    parent = next((s for s in reversed(loc[:-1]) if isinstance(s, str)), None)
    return _MODEL_BY_PARENT.get(parent, RunSpec)


def _allowed(ctx: dict[str, Any]) -> list[str]:
    return re.findall(r"'([^']*)'", str(ctx.get("expected", "")))


def _field_name(loc: Path) -> str:
    return next((s for s in reversed(loc) if isinstance(s, str)), "")


def message_for(error: ErrorDetails) -> tuple[str, str]:
    """``(message, code)`` for one pydantic error."""
    kind, loc, ctx = error["type"], tuple(error["loc"]), error.get("ctx") or {}
    value = error.get("input")
    field = _field_name(loc)
    if kind == "missing":
        return "required field is missing", "missing"
    if kind == "extra_forbidden":
        model = _model_for(loc)
        known = [*model.model_fields, *_ALIASES.get(model, ())]
        hint = suggest(str(loc[-1]), known) or f"; allowed: {', '.join(model.model_fields)}"
        return f"unknown field {str(loc[-1])!r}{hint}", "unknown_field"
    if kind in ("enum", "literal_error"):
        allowed = _allowed(ctx)
        candidates = allowed + (list(COMPLEXITY_ALIASES) if field == "complexity" else [])
        hint = suggest(value, candidates) if isinstance(value, str) else ""
        text = f"{short_repr(value)} is not one of {', '.join(allowed)}{hint}"
        return text, "invalid_value"
    if kind == "string_pattern_mismatch":
        help_text = _CATEGORY_HELP if field == "task_category" else _ID_HELP
        return f"{short_repr(value)} {help_text}", "invalid_value"
    if kind == "too_short" and field in ("phases", "tiers"):
        what = "a tier needs at least one phase" if field == "phases" else "no tiers given"
        return what, "empty"
    if kind == "string_too_short":
        return "must not be empty", "invalid_value"
    if kind in _COMPARE:
        key, words = _COMPARE[kind]
        return f"must be {words} {ctx.get(key)}, got {short_repr(value)}", "invalid_value"
    base = kind.removesuffix("_type").removesuffix("_parsing").removesuffix("_from_float")
    if base in _TYPE_WORDS and (kind.endswith(("_type", "_parsing", "_from_float"))):
        return f"expected {_TYPE_WORDS[base]}, got {short_repr(value)}", "type"
    if kind == "value_error":
        return str(ctx.get("error") or error["msg"]).removeprefix("Value error, "), "invalid_value"
    message = error["msg"]
    return f"{message[:1].lower()}{message[1:]}, got {short_repr(value)}", "invalid_value"
