"""The intention anchor: what the project is for, in ``<data_dir>/intention.yaml``.

A project states its goal, success criteria, ``must`` and ``must_not`` constraints and
preferences once; every Builder and Doctor prompt gets them (at most :data:`MAX_BYTES` of
UTF-8), and the Auditor gets the goal and the must-not constraints, with the instruction to
report a change against one as a major issue of category ``intention_drift`` (which rejects
the attempt).

Rendering keeps the most important parts when the file says more than fits, in this order:
goal, must-not, must, success criteria, preferences. Whole items are cut from the end of that
order (an item longer than :data:`_ITEM_LIMIT` characters is shortened first), and the text
ends with a line saying what was cut. An intention with nothing filled in renders as ``""``
and injects nothing (``autopack intention init`` writes such a template).

:func:`load_intention` raises :class:`IntentionError` naming the field (``must_not[1]: ...``,
``colour: Extra inputs are not permitted``); the file is never rewritten by Autopack.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from autopack.memory.yaml_io import describe_validation_error, read_yaml_mapping

__all__ = [
    "INTENTION_FILE",
    "MAX_BYTES",
    "TEMPLATE",
    "Intention",
    "IntentionError",
    "intention_path",
    "load_intention",
    "render_for_auditor",
    "render_intention",
]

INTENTION_FILE = "intention.yaml"
MAX_BYTES = 2_048
"""The most a rendered intention may take in a prompt (UTF-8 bytes)."""
_ITEM_LIMIT = 300
_GOAL_LIMIT = 800

# (field, heading, singular, plural), in priority order after the goal.
_SECTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("must_not", "Must not", "must-not constraint", "must-not constraints"),
    ("must", "Must", "must constraint", "must constraints"),
    ("success_criteria", "Success criteria", "success criterion", "success criteria"),
    ("preferences", "Preferences", "preference", "preferences"),
)

TEMPLATE = """\
# The project's intention: injected into every Builder and Doctor prompt (at most 2 KB;
# when it says more, preferences are cut first, then success criteria, then must, then
# must-not; the goal stays). The Auditor gets the goal and the must-not constraints and
# rejects a change that goes against one ("intention_drift").
# Nothing is injected while every field is empty. Check with: autopack intention show

# One or two sentences: what the project is for.
goal: ""
# e.g. goal: "A small, dependency-free calculator library for teaching."

# What a successful result looks like.
success_criteria: []
#  - "Every public function has a test."

# Hard requirements every change must respect.
must: []
#  - "Keep the public API backwards compatible."

# What no change may do (the Auditor reports these as intention drift).
must_not: []
#  - "Add a runtime dependency."
#  - "Change the behaviour of sub()."

# Softer preferences.
preferences: []
#  - "Prefer small functions with docstrings."
"""


class IntentionError(Exception):
    """The intention file cannot be read or is malformed (names the field)."""

    code = "intention_invalid"


def _items(value: object) -> object:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]  # a single constraint written without list syntax
    return value


class Intention(BaseModel):
    """The project's intention (every field optional; unknown fields are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    goal: str = Field(default="", description="What the project is for.")
    success_criteria: tuple[str, ...] = ()
    must: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()
    preferences: tuple[str, ...] = ()

    @field_validator("goal", mode="before")
    @classmethod
    def _goal(cls, value: object) -> object:
        if value is None:
            return ""
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("success_criteria", "must", "must_not", "preferences", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _items(value)

    @field_validator("success_criteria", "must", "must_not", "preferences")
    @classmethod
    def _clean(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for i, item in enumerate(value):
            if not item.strip():
                raise ValueError(f"item {i} is empty")
        return tuple(" ".join(item.split()) for item in value)

    def is_empty(self) -> bool:
        """Nothing filled in: nothing to inject."""
        return not (
            self.goal or self.success_criteria or self.must or self.must_not or self.preferences
        )


def intention_path(data_dir: Path) -> Path:
    """``<data_dir>/intention.yaml``."""
    return data_dir / INTENTION_FILE


def load_intention(path: Path) -> Intention:
    """The intention in ``path``; :class:`IntentionError` naming the field when malformed."""
    try:
        data = read_yaml_mapping(path)
    except OSError as exc:
        raise IntentionError(f"{path}: cannot read: {exc.strerror}") from exc
    except ValueError as exc:
        raise IntentionError(f"{path}: {exc}") from exc
    try:
        return Intention.model_validate(data)
    except ValidationError as exc:
        raise IntentionError(f"{path}:\n{describe_validation_error(exc)}") from exc


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _compose(
    title: str, goal: str, kept: Sequence[tuple[int, str]], cut: Sequence[int], limit: int
) -> str:
    """The note: title, goal, the kept items under their headings, what was cut."""
    lines = [title]
    if goal:
        lines.append(f"Goal: {goal}")
    for index, (_field, heading, _one, _many) in enumerate(_SECTIONS):
        items = [text for section, text in kept if section == index]
        if items:
            lines.append(f"{heading}:")
            lines.extend(f"- {item}" for item in items)
    if cut:
        counts = [(i, sum(1 for c in cut if c == i)) for i in range(len(_SECTIONS))]
        named = [f"{n} {_SECTIONS[i][2] if n == 1 else _SECTIONS[i][3]}" for i, n in counts if n]
        lines.append(f"(Cut to fit {limit} bytes: {', '.join(named)}.)")
    return "\n".join(lines)


def _render(intention: Intention, title: str, sections: Sequence[int], limit: int) -> str:
    items = [
        (index, _shorten(item, _ITEM_LIMIT))
        for index in sections
        for item in getattr(intention, _SECTIONS[index][0])
    ]
    goal = _shorten(intention.goal, _GOAL_LIMIT)
    if not goal and not items:
        return ""
    best = ""
    for k in range(len(items) + 1):  # the longest prefix, in priority order, that fits
        text = _compose(title, goal, items[:k], [i for i, _ in items[k:]], limit)
        if len(text.encode("utf-8")) > limit:
            break
        best = text
    if best:
        return best
    cut = [i for i, _ in items]  # even the goal alone is too long (a tiny limit)
    text = _compose(title, "", [], cut, limit)
    room = limit - len(text.encode("utf-8")) - len("\nGoal: …".encode())
    goal = goal.encode("utf-8")[: max(room, 0)].decode("utf-8", "ignore")
    text = _compose(title, goal + "…" if goal else "", [], cut, limit)
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")  # never over the limit


def render_intention(intention: Intention, *, limit: int = MAX_BYTES) -> str:
    """The Builder's and the Doctor's note: everything, by priority, within ``limit`` bytes."""
    title = "Project intention (keep every change in line with it):"
    return _render(intention, title, range(len(_SECTIONS)), limit)


def render_for_auditor(intention: Intention, *, limit: int = MAX_BYTES) -> str:
    """The Auditor's note: the goal and the must-not constraints, within ``limit`` bytes."""
    title = "Project intention (goal and must-not constraints):"
    return _render(intention, title, (0,), limit)
