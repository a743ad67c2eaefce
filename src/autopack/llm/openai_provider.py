"""OpenAI and every OpenAI-compatible server over the official ``openai`` SDK.

Speaks the Chat Completions API (``POST {base_url}/chat/completions``), the one Ollama, vLLM,
llama.cpp server, LM Studio, OpenRouter and GLM endpoints implement. Point ``base_url``
(``OPENAI_BASE_URL``) at the server. Differences handled here:

- **Missing usage**: some servers omit ``usage``. The counts are then estimated with
  :func:`~autopack.llm.base.estimate_input_tokens` / :func:`~autopack.llm.base.estimate_tokens`
  (output capped at ``max_tokens``) and the completion is marked ``usage_estimated=True``.
- **max_tokens vs max_completion_tokens**: newer OpenAI models (o-series, GPT-5) refuse
  ``max_tokens``; set ``token_param="max_completion_tokens"`` for them. Compatible servers
  generally only know ``max_tokens`` (the default).
- **Keys**: local servers do not check keys, so when ``base_url`` is a loopback address and no
  key is set, a placeholder is sent instead of failing (``require_api_key`` overrides).
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal
from urllib.parse import urlsplit

import openai
from pydantic import Field

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

__all__ = ["OpenAIConfig", "OpenAIProvider"]

_FINISH_REASONS: dict[str, StopReason] = {"stop": "end", "length": "max_tokens"}
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}
_PLACEHOLDER_KEY = "not-needed-by-local-server"


class OpenAIConfig(ProviderConfig):
    """:class:`ProviderConfig` plus the Chat Completions specifics."""

    token_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        default="max_tokens",
        description="Request field carrying the output cap; 'max_completion_tokens' for "
        "OpenAI reasoning models.",
    )
    require_api_key: bool | None = Field(
        default=None,
        description="Refuse to start without a key. Default: required unless base_url is a "
        "loopback address (local servers ignore keys).",
    )


def is_loopback(base_url: str | None) -> bool:
    """True for ``http://localhost…``, ``http://127.0.0.1…`` and ``http://[::1]…``."""
    if not base_url:
        return False
    host = urlsplit(base_url).hostname or ""
    return host in _LOOPBACK or host.startswith("127.")


class OpenAIProvider(SdkProvider):
    """:class:`~autopack.llm.base.Provider` for OpenAI and OpenAI-compatible servers."""

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str | None = None,
        config: OpenAIConfig | None = None,
        sleep: Sleep = time.sleep,
        name: str = "openai",
    ) -> None:
        self.name = name
        self.config = config or OpenAIConfig()
        required = self.config.require_api_key
        if required is None:
            required = not is_loopback(base_url)
        if not api_key:
            if required:
                raise AuthenticationError("no API key", code="missing_api_key", provider=name)
            api_key = _PLACEHOLDER_KEY
        self._api_key = api_key
        self._sleep = sleep
        self._client = openai.OpenAI(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,
            timeout=openai.Timeout(self.config.read_timeout, connect=self.config.connect_timeout),
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> OpenAIProvider:
        """Build from settings; ``options`` are :class:`OpenAIConfig` fields, ``sleep``,
        ``base_url`` (overrides ``OPENAI_BASE_URL``) and ``provider_name`` (the name reported in
        completions and logs, e.g. ``"ollama"``; default ``"openai"``)."""
        sleep = options.pop("sleep", time.sleep)
        base_url = options.pop("base_url", None) or settings.openai_base_url
        name = options.pop("provider_name", "openai")
        config = OpenAIConfig(**options)
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        required = config.require_api_key
        if required is None:
            required = not is_loopback(base_url)
        if not key and required:
            raise AuthenticationError(
                "OPENAI_API_KEY is not set (set it, or OPENAI_API_KEY_FILE to a file holding "
                "the key; local servers on 127.0.0.1/localhost need none)",
                code="missing_api_key",
                provider=name,
            )
        return cls(key, base_url=base_url, config=config, sleep=sleep, name=name)

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            self.config.token_param: request.max_tokens,
        }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.stop:
            params["stop"] = request.stop
        return params

    def _malformed(self, request: CompletionRequest, why: str) -> ProviderError:
        return ProviderError(
            f"unreadable answer: {why}",
            code="malformed_response",
            provider=self.name,
            model=request.model,
        )

    def _once(self, request: CompletionRequest) -> Completion:
        try:
            response = self._client.chat.completions.create(**self._params(request))
        except (openai.OpenAIError, json.JSONDecodeError) as exc:
            mapped = map_sdk_error(
                exc, openai, provider=self.name, model=request.model, secrets=[self._api_key]
            )
            if mapped is None:
                raise
            raise mapped from None  # the SDK error holds the request (and its auth header)
        if not isinstance(response, openai.types.chat.ChatCompletion):
            raise self._malformed(request, "not a Chat Completions response")
        if not response.choices:
            raise self._malformed(request, "no choices")
        choice = response.choices[0]
        message = choice.message
        text = (message.content if message else None) or ""
        usage = response.usage
        return self._completion(
            request,
            text=text,
            input_tokens=usage.prompt_tokens if usage is not None else None,
            output_tokens=usage.completion_tokens if usage is not None else None,
            raw_stop=choice.finish_reason,
            stop_reasons=_FINISH_REASONS,
            model=response.model,
        )
