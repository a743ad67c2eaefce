"""Model providers behind one small interface, and a scripted model for tests and demos.

:class:`Provider` takes a :class:`CompletionRequest` (messages, model id, ``max_tokens``)
and returns a :class:`Completion` (text, token usage, stop reason, latency). Build one with
:func:`make_provider` (``"anthropic"``, ``"openai"`` — also any OpenAI-compatible server via
``OPENAI_BASE_URL`` — or ``"scripted"``). The SDKs are imported only when their provider is
built; importing this package does no work.

Exceptions (one tree; SDK exceptions are mapped at the adapter, messages never hold keys)::

    LlmError                 root: code, provider, model, status, retryable, retry_after,
    │                        attempts (HTTP tries spent)
    ├── ProviderError        the provider failed or answered nonsense (5xx, 4xx, connection,
    │                        malformed_response); retryable for 408/409/5xx/connection
    ├── RateLimitedError     HTTP 429 (retry_after from Retry-After / retry-after-ms)
    ├── ProviderTimeoutError no answer within the connect/read timeout
    ├── AuthenticationError  missing/invalid key (401/403); never retried
    └── ScriptError          scripted provider: no matching answer, malformed script
"""

from autopack.llm.base import (
    Completion,
    CompletionRequest,
    Message,
    Provider,
    ProviderConfig,
    StopReason,
    estimate_input_tokens,
    estimate_tokens,
)
from autopack.llm.errors import (
    AuthenticationError,
    LlmError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitedError,
    ScriptError,
)
from autopack.llm.factory import PROVIDERS, make_provider
from autopack.llm.retry import RetryPolicy, parse_retry_after
from autopack.llm.scripted import Script, ScriptedAnswer, ScriptedProvider, load_script

__all__ = [
    "PROVIDERS",
    "AuthenticationError",
    "Completion",
    "CompletionRequest",
    "LlmError",
    "Message",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitedError",
    "RetryPolicy",
    "Script",
    "ScriptError",
    "ScriptedAnswer",
    "ScriptedProvider",
    "StopReason",
    "estimate_input_tokens",
    "estimate_tokens",
    "load_script",
    "make_provider",
    "parse_retry_after",
]
