"""Anthropic Messages API over the official ``anthropic`` SDK (its own retries switched off).

System messages are joined into ``system=``; the others are sent in order. ``temperature`` is
sent in the request body (``extra_body``) because the SDK's ``messages.create`` no longer
takes it as an argument. Input tokens count cache writes and reads too, so the ledger never
under-counts.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anthropic

from autopack.llm.base import (
    Completion,
    CompletionRequest,
    ProviderConfig,
    SdkProvider,
    StopReason,
)
from autopack.llm.errors import AuthenticationError, ProviderError, map_sdk_error
from autopack.llm.retry import Sleep
from autopack.settings import Settings

__all__ = ["AnthropicProvider"]

_STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "end",
    "max_tokens": "max_tokens",
    # The conversation filled the context window: the answer is cut short all the same.
    "model_context_window_exceeded": "max_tokens",
    "stop_sequence": "stop_sequence",
}


class AnthropicProvider(SdkProvider):
    """:class:`~autopack.llm.base.Provider` for Claude models."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        config: ProviderConfig | None = None,
        sleep: Sleep = time.sleep,
        name: str = "anthropic",
    ) -> None:
        if not api_key:
            raise AuthenticationError("no API key", code="missing_api_key", provider=name)
        self.name = name
        self.config = config or ProviderConfig()
        self._api_key = api_key
        self._sleep = sleep
        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,
            timeout=anthropic.Timeout(
                self.config.read_timeout, connect=self.config.connect_timeout
            ),
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> AnthropicProvider:
        """Build from settings; ``options`` are :class:`ProviderConfig` fields, ``sleep``,
        ``base_url`` (overrides ``ANTHROPIC_BASE_URL``) and ``provider_name``."""
        key = settings.anthropic_api_key
        if key is None or not key.get_secret_value():
            raise AuthenticationError(
                "ANTHROPIC_API_KEY is not set (set it, or ANTHROPIC_API_KEY_FILE to a file "
                "holding the key)",
                code="missing_api_key",
                provider="anthropic",
            )
        sleep = options.pop("sleep", time.sleep)
        base_url = options.pop("base_url", None) or settings.anthropic_base_url
        name = options.pop("provider_name", "anthropic")
        return cls(
            key.get_secret_value(),
            base_url=base_url,
            config=ProviderConfig(**options),
            sleep=sleep,
            name=name,
        )

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        params: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "messages": [
                {"role": m.role, "content": m.content}
                for m in request.messages
                if m.role != "system"
            ],
        }
        if system:
            params["system"] = system
        if request.stop:
            params["stop_sequences"] = request.stop
        if request.temperature is not None:
            params["extra_body"] = {"temperature": request.temperature}
        return params

    def _once(self, request: CompletionRequest) -> Completion:
        try:
            message = self._client.messages.create(**self._params(request))
        except (anthropic.AnthropicError, json.JSONDecodeError) as exc:
            mapped = map_sdk_error(
                exc, anthropic, provider=self.name, model=request.model, secrets=[self._api_key]
            )
            if mapped is None:
                raise
            raise mapped from None  # the SDK error holds the request (and its auth header)
        if not isinstance(message, anthropic.types.Message) or message.content is None:
            raise ProviderError(
                "unreadable answer: not a Messages API response",
                code="malformed_response",
                provider=self.name,
                model=request.model,
            )
        text = "".join(block.text for block in message.content if block.type == "text")
        usage = message.usage
        input_tokens = output_tokens = None
        if usage is not None and usage.input_tokens is not None:
            input_tokens = (
                usage.input_tokens
                + (usage.cache_creation_input_tokens or 0)
                + (usage.cache_read_input_tokens or 0)
            )
            output_tokens = usage.output_tokens
        return self._completion(
            request,
            text=text,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            raw_stop=message.stop_reason,
            stop_reasons=_STOP_REASONS,
            model=message.model,
        )
