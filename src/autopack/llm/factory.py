"""Providers chosen by short name from a table of dotted paths, imported only when chosen.

``make_provider("anthropic", settings)`` imports :mod:`autopack.llm.anthropic_provider` (and
with it the ``anthropic`` SDK) at that moment, never before. A name that is not in the table
but contains a dot is taken as the dotted path of a class or factory of one's own with the
same ``from_settings(settings, **options)`` classmethod.
"""

from __future__ import annotations

import importlib
from typing import Any

from autopack.llm.base import Provider
from autopack.llm.errors import LlmError
from autopack.settings import Settings

__all__ = ["PROVIDERS", "make_provider"]

PROVIDERS: dict[str, str] = {
    "anthropic": "autopack.llm.anthropic_provider.AnthropicProvider",
    "openai": "autopack.llm.openai_provider.OpenAIProvider",
    "scripted": "autopack.llm.scripted.ScriptedProvider",
}
"""Short name → dotted path of a class with ``from_settings(settings, **options)``."""


def _import(dotted: str) -> Any:
    module_name, _, attr = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise LlmError(f"cannot load provider {dotted!r}: {exc}", code="unknown_provider") from exc


def make_provider(name: str, settings: Settings, **options: Any) -> Provider:
    """Build the provider called ``name`` (see :data:`PROVIDERS`) from ``settings``.

    ``options`` go to the provider: timeouts and ``retry`` (:class:`ProviderConfig`),
    ``sleep``; for ``openai`` also ``base_url``, ``token_param``, ``require_api_key``,
    ``provider_name``; for ``scripted`` ``script`` (file or mapping), ``base_dir``, ``retry``.

    Raises :class:`LlmError` (``unknown_provider``) for a name that is neither known nor a
    dotted path, and :class:`~autopack.llm.errors.AuthenticationError` when the key is missing.
    """
    dotted = PROVIDERS.get(name)
    if dotted is None:
        if "." not in name:
            known = ", ".join(sorted(PROVIDERS))
            raise LlmError(
                f"unknown provider {name!r}; known: {known} (or a dotted path to a class)",
                code="unknown_provider",
            )
        dotted = name
    target = _import(dotted)
    build = getattr(target, "from_settings", target)
    return build(settings, **options)
