"""The scripted provider: deterministic answers from a YAML/JSON script (tests, benchmarks, demo).

The format is documented in ``docs/scripted-model.md``. In short::

    answers:                      # keyed: matched by role / phase / attempt (omitted = any)
      - {role: builder, phase: P1, attempt: 1, text_file: answers/p1.txt}
      - {role: auditor, text: '{"approved": true, "issues": [], "summary": "ok"}'}
    sequence:                     # ordered, per role ("*" = any role); each item used once
      doctor: [{text: "..."}, {error: rate_limited, retry_after: 2}]

Lookup for a request: the matching keyed answer with the most keys (ties: first in the file),
then the next item of the role's sequence, then of the ``"*"`` sequence, then a keyed answer
with no keys at all; otherwise :class:`~autopack.llm.errors.ScriptError` naming the request.
Usage defaults to the estimates the ledger uses (see :func:`~autopack.llm.base.estimate_tokens`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from autopack.llm.base import (
    Completion,
    CompletionRequest,
    StopReason,
    estimate_tokens,
    run_completion,
)
from autopack.llm.errors import (
    AuthenticationError,
    LlmError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitedError,
    ScriptError,
)
from autopack.llm.retry import RetryPolicy, Sleep
from autopack.settings import Settings

__all__ = ["Script", "ScriptedAnswer", "ScriptedProvider", "load_script"]

SimulatedError = Literal[
    "rate_limited", "timeout", "server_error", "overloaded", "connection_error", "auth",
    "bad_request", "malformed",
]  # fmt: skip


class ScriptedUsage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    input_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=0)


class ScriptedAnswer(BaseModel):
    """One answer (or one simulated failure) of the script."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    text: str | None = None
    text_file: str | None = Field(default=None, description="Relative to the script's folder.")
    usage: ScriptedUsage | None = None
    stop_reason: StopReason = "end"
    error: SimulatedError | None = None
    retry_after: float | None = Field(default=None, ge=0, description="With rate_limited.")
    repeat: int | None = Field(
        default=None, ge=1, description="Uses allowed (sequence default 1, keyed unlimited)."
    )

    @model_validator(mode="after")
    def _one_content(self) -> ScriptedAnswer:
        given = (self.text is not None) + (self.text_file is not None) + (self.error is not None)
        if given != 1:
            raise ValueError("give exactly one of text, text_file, error")
        return self


class KeyedAnswer(ScriptedAnswer):
    """An answer of ``answers:``, chosen by the request's role, phase and attempt."""

    role: str | None = None
    phase: str | None = None
    attempt: int | None = Field(default=None, ge=1)

    @property
    def specificity(self) -> int:
        return sum(k is not None for k in (self.role, self.phase, self.attempt))

    def matches(self, request: CompletionRequest) -> bool:
        return (
            (self.role is None or self.role == request.role)
            and (self.phase is None or self.phase == request.phase_id)
            and (self.attempt is None or self.attempt == request.attempt)
        )


class Script(BaseModel):
    """A whole script: keyed ``answers`` and ordered ``sequence`` per role."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    answers: list[KeyedAnswer] = Field(default_factory=list)
    sequence: dict[str, list[ScriptedAnswer]] = Field(default_factory=dict)

    @field_validator("sequence", mode="before")
    @classmethod
    def _any_role(cls, value: Any) -> Any:
        """A bare list is the sequence for every role."""
        return {"*": value} if isinstance(value, list) else value


def load_script(
    source: str | Path | Mapping[str, Any] | Sequence[Any], *, base_dir: Path | None = None
) -> tuple[Script, Path]:
    """Read and validate a script; returns it with the folder ``text_file`` is relative to.

    ``source`` is a path to a ``.yaml``/``.yml``/``.json`` file, a mapping, or a bare list
    (a sequence for every role). Every problem is a :class:`ScriptError` naming its location.
    """
    origin = "<dict>"
    data: Any = source
    if isinstance(source, str | Path):
        path = Path(source)
        origin = str(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScriptError(f"cannot read script {origin}: {exc.strerror}") from exc
        try:
            data = json.loads(raw) if path.suffix == ".json" else yaml.safe_load(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise ScriptError(f"script {origin} is not valid YAML/JSON: {exc}") from exc
        base_dir = base_dir or path.parent
    if isinstance(data, list):
        data = {"sequence": data}
    if not isinstance(data, Mapping):
        raise ScriptError(f"script {origin}: expected a mapping or a list at the top level")
    try:
        script = Script.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'script'}: "
            f"{err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise ScriptError(f"script {origin} is malformed: {problems}") from None
    return script, (base_dir or Path.cwd())


_ERRORS: dict[str, tuple[type[LlmError], dict[str, Any]]] = {
    "rate_limited": (RateLimitedError, {"status": 429}),
    "timeout": (ProviderTimeoutError, {}),
    "server_error": (ProviderError, {"status": 500, "code": "server_error", "retryable": True}),
    "overloaded": (ProviderError, {"status": 529, "code": "overloaded", "retryable": True}),
    "connection_error": (ProviderError, {"code": "connection_error", "retryable": True}),
    "auth": (AuthenticationError, {"status": 401}),
    "bad_request": (ProviderError, {"status": 400, "code": "bad_request"}),
    "malformed": (ProviderError, {"code": "malformed_response"}),
}


class ScriptedProvider:
    """:class:`~autopack.llm.base.Provider` answering from a :class:`Script`. Thread-safe.

    Without ``retry`` a simulated failure reaches the caller at once; with a
    :class:`RetryPolicy` it goes through the same retry loop as the real providers.
    ``calls`` records every request, in order.
    """

    def __init__(
        self,
        script: Script | str | Path | Mapping[str, Any] | Sequence[Any],
        *,
        base_dir: Path | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        name: str = "scripted",
    ) -> None:
        if isinstance(script, Script):
            self.script, self._base_dir = script, base_dir or Path.cwd()
        else:
            self.script, self._base_dir = load_script(script, base_dir=base_dir)
        self.name = name
        self._policy = retry or RetryPolicy(max_attempts=1)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._texts = self._load_texts()
        self._used: dict[int, int] = {}  # id(entry) -> uses
        self._positions: dict[str, int] = dict.fromkeys(self.script.sequence, 0)
        self.calls: list[CompletionRequest] = []

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> ScriptedProvider:
        """``make_provider("scripted", settings, script=path_or_dict, ...)``."""
        if "script" not in options:
            raise ScriptError("the scripted provider needs script=<file or mapping>")
        return cls(options.pop("script"), **options)

    def _load_texts(self) -> dict[int, str]:
        texts: dict[int, str] = {}
        entries = [*self.script.answers, *(a for s in self.script.sequence.values() for a in s)]
        for entry in entries:
            if entry.text_file is not None:
                path = self._base_dir / entry.text_file
                try:
                    texts[id(entry)] = path.read_text(encoding="utf-8")
                except OSError as exc:
                    raise ScriptError(f"text_file {path}: {exc.strerror}") from exc
        return texts

    def complete(self, request: CompletionRequest) -> Completion:
        """Answer ``request`` from the script (see the module docstring for the lookup)."""
        with self._lock:
            self.calls.append(request)
        return run_completion(
            request,
            lambda: self._once(request),
            provider=self.name,
            policy=self._policy,
            sleep=self._sleep,
        )

    def unused(self) -> list[ScriptedAnswer]:
        """Entries never used so far (handy to assert that a test consumed its script)."""
        with self._lock:
            entries = [*self.script.answers, *(a for s in self.script.sequence.values() for a in s)]
            return [e for e in entries if not self._used.get(id(e))]

    def _available(self, entry: ScriptedAnswer, default_repeat: int | None) -> bool:
        limit = entry.repeat if entry.repeat is not None else default_repeat
        return limit is None or self._used.get(id(entry), 0) < limit

    def _from_sequence(self, key: str) -> ScriptedAnswer | None:
        items = self.script.sequence.get(key, [])
        position = self._positions.get(key, 0)
        while position < len(items) and not self._available(items[position], 1):
            position += 1
        self._positions[key] = position
        return items[position] if position < len(items) else None

    def _select(self, request: CompletionRequest) -> ScriptedAnswer:
        keyed = [a for a in self.script.answers if a.matches(request) and self._available(a, None)]
        specific = [a for a in keyed if a.specificity > 0]
        if specific:
            best = max(a.specificity for a in specific)
            return next(a for a in specific if a.specificity == best)
        for key in (request.role, "*"):
            item = self._from_sequence(key)
            if item is not None:
                return item
        if keyed:
            return keyed[0]
        raise ScriptError(
            f"no scripted answer for role={request.role!r} phase={request.phase_id!r} "
            f"attempt={request.attempt!r} model={request.model!r} "
            f"(call {len(self.calls)}; {len(self.script.answers)} keyed answers, sequences "
            f"for {sorted(self.script.sequence) or 'no role'})",
            provider=self.name,
            model=request.model,
        )

    def _once(self, request: CompletionRequest) -> Completion:
        with self._lock:
            entry = self._select(request)
            self._used[id(entry)] = self._used.get(id(entry), 0) + 1
        if entry.error is not None:
            cls, kwargs = _ERRORS[entry.error]
            raise cls(
                f"scripted {entry.error}",
                provider=self.name,
                model=request.model,
                retry_after=entry.retry_after,
                **kwargs,
            )
        text = entry.text if entry.text is not None else self._texts[id(entry)]
        usage = entry.usage or ScriptedUsage()
        input_tokens = usage.input_tokens
        output_tokens = usage.output_tokens
        return Completion(
            text=text,
            input_tokens=(
                request.estimated_input_tokens() if input_tokens is None else input_tokens
            ),
            output_tokens=(
                min(request.max_tokens, estimate_tokens(text))
                if output_tokens is None
                else output_tokens
            ),
            usage_estimated=input_tokens is None or output_tokens is None,
            stop_reason=entry.stop_reason,
            raw_stop_reason=entry.stop_reason,
            latency_ms=0,
            provider=self.name,
            model=request.model,
        )
