"""The exception tree of :mod:`autopack.agents` (see the package docstring).

A model answer that cannot be used after the one allowed follow-up is an exception
(:class:`MalformedAnswerError`) that the engine counts as a failed attempt. Everything an
agent *decides* (a rejecting verdict, a Doctor action) is a value, never an exception.
"""

from __future__ import annotations

from autopack.errors import AutopackError

__all__ = [
    "AgentError",
    "MalformedAnswerError",
    "PromptTemplateError",
]

_RAW_LIMIT = 2_000


def trim_middle(text: str, limit: int = _RAW_LIMIT) -> str:
    """``text`` cut in the middle to at most about ``limit`` characters, saying so."""
    if len(text) <= limit:
        return text
    half = max(1, limit // 2)
    cut = len(text) - 2 * half
    return f"{text[:half]}\n[... {cut} characters cut ...]\n{text[-half:]}"


class AgentError(AutopackError):
    """Root of every exception raised by :mod:`autopack.agents`; ``code`` is a stable string."""

    code = "agent_error"


class MalformedAnswerError(AgentError):
    """The model's answer was not usable JSON (or was cut off), even after one follow-up.

    ``parse_error`` is the last problem found (the text sent back to the model);
    ``raw`` is the last answer, trimmed in the middle to about 2,000 characters;
    ``attempts`` counts the model calls made; ``truncated`` says whether the last answer
    hit the output token limit.
    """

    code = "malformed_answer"

    def __init__(
        self,
        message: str,
        *,
        parse_error: str,
        raw: str,
        attempts: int = 1,
        truncated: bool = False,
    ) -> None:
        super().__init__(message)
        self.parse_error = parse_error
        self.raw = trim_middle(raw)
        self.attempts = attempts
        self.truncated = truncated


class PromptTemplateError(AgentError):
    """A packaged prompt template is missing, malformed or uses an undefined variable."""

    code = "prompt_template_invalid"
