"""Fixtures for the agents tests: a scripted fake model (a test double of the MODEL only),
phases and small workspaces."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from autopack.agents import Redactor
from autopack.llm.base import Completion, Message
from autopack.spec.models import PhaseSpec


@dataclass
class FakeModel:
    """Answers with canned texts in order and records every conversation it was sent."""

    answers: list[str | tuple[str, str]]
    calls: list[list[Message]] = field(default_factory=list)

    def __call__(self, messages: list[Message]) -> Completion:
        self.calls.append(list(messages))
        if not self.answers:
            raise AssertionError("the fake model ran out of answers")
        answer = self.answers.pop(0)
        text, stop = answer if isinstance(answer, tuple) else (answer, "end")
        return Completion(
            text=text,
            input_tokens=sum(len(m.content) for m in messages) // 4,
            output_tokens=len(text) // 4,
            stop_reason=stop,
            latency_ms=1,
            provider="fake",
            model="fake-model",
        )


@pytest.fixture
def fake_model() -> Callable[..., FakeModel]:
    """``fake_model("answer 1", ("cut off", "max_tokens"), ...)``."""

    def make(*answers: str | tuple[str, str]) -> FakeModel:
        return FakeModel(list(answers))

    return make


def make_phase(**overrides: Any) -> PhaseSpec:
    """A phase with a small scope; keyword arguments override fields (scope as a dict)."""
    data: dict[str, Any] = {
        "phase_id": "p1",
        "phase_index": 0,
        "name": "Make greet take a name",
        "description": "Change `greet` in src/app/greet.py to accept a `name` argument.",
        "task_category": "feature_scaffolding",
        "scope": {
            "paths": ["src/app/"],
            "deliverables": ["src/app/greet.py", "tests/test_greet.py"],
        },
    }
    data.update(overrides)
    return PhaseSpec.model_validate(data)


@pytest.fixture
def phase() -> PhaseSpec:
    """The default phase."""
    return make_phase()


@pytest.fixture
def no_redaction() -> Redactor:
    """A redactor knowing no literal values (token shapes are still redacted)."""
    return Redactor()


def write(root: Path, files: dict[str, str | bytes]) -> None:
    """Create files under ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def all_text(messages: Sequence[Message]) -> str:
    """Every message's content, joined."""
    return "\n".join(m.content for m in messages)


@pytest.fixture
def phase_factory() -> Callable[..., PhaseSpec]:
    """:func:`make_phase` as a fixture."""
    return make_phase


@pytest.fixture
def write_tree() -> Callable[[Path, dict[str, str | bytes]], None]:
    """:func:`write` as a fixture."""
    return write
