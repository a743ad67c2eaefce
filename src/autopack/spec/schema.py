"""JSON Schema of the canonical run specification, for editors and other tools.

The schema describes the canonical nested shape. The loader also accepts the flat and
phases-only shapes and legacy keys; the field descriptions say which (``task_name``,
``tier_name``, phase ``goal``, ``id``, run ``description``).
"""

from __future__ import annotations

import json
from typing import Any

from autopack.spec.models import RunSpec

__all__ = ["run_spec_schema", "run_spec_schema_json"]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def run_spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :class:`RunSpec` as validated on input."""
    schema = RunSpec.model_json_schema(mode="validation")
    return {
        "$schema": _DIALECT,
        "title": "Autopack run specification",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def run_spec_schema_json(indent: int = 2) -> str:
    """:func:`run_spec_schema` as text (stable key order, so diffs stay readable)."""
    return json.dumps(run_spec_schema(), indent=indent, ensure_ascii=False)
