"""Prompt templates (Jinja2 ``.j2`` files shipped as package data) and their renderer.

Templates are plain text, not HTML: ``autoescape`` is off, and an undefined variable is an
error (``StrictUndefined``) so a typo never yields a silently empty prompt. Templates hold
no secrets, timestamps or random ids: the same inputs always render the same prompt, which
keeps prompts testable and lets providers cache them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

from autopack.agents.errors import PromptTemplateError

__all__ = ["TEMPLATE_NAMES", "render_template"]

TEMPLATE_NAMES: tuple[str, ...] = (
    "builder_system",
    "builder_task",
    "auditor_system",
    "auditor_task",
    "judge",
    "doctor_system",
    "doctor_task",
    "plan_refiner_system",
    "plan_refiner_task",
)


def _load(name: str) -> str | None:
    resource = resources.files(__name__).joinpath(name)
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # Built on first use, never at import time.
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        autoescape=False,  # noqa: S701 - plain-text prompts, never HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_template(name: str, **variables: Any) -> str:
    """Render ``prompts/<name>.j2`` with ``variables``; trailing whitespace is stripped."""
    try:
        template = _environment().get_template(f"{name}.j2")
        return template.render(**variables).strip() + "\n"
    except jinja2.TemplateNotFound as exc:
        raise PromptTemplateError(f"prompt template {name!r} is not packaged") from exc
    except jinja2.UndefinedError as exc:
        raise PromptTemplateError(f"prompt template {name!r}: {exc.message}") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise PromptTemplateError(
            f"prompt template {name!r} line {exc.lineno}: {exc.message}"
        ) from exc
