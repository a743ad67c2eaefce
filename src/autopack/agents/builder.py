"""The Builder's prompt: the edit protocol and rules (system), the task and its context (user).

:func:`build_messages` renders the fixed parts first, reserves their tokens, lets
:class:`~autopack.agents.context.ContextAssembler` fill the rest of the budget (see its
priority order), and redacts every message. The model's answer is parsed by
:mod:`autopack.edits`, not here.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from autopack.agents.context import AssembledContext, ContextAssembler, ContextInputs, DroppedItem
from autopack.agents.prompts import render_template
from autopack.agents.redaction import Redactor
from autopack.checks.deliverables import split_target
from autopack.llm.base import Message
from autopack.spec.models import PhaseSpec

__all__ = [
    "SECTION_GROUPS",
    "BuilderPrompt",
    "acceptance_criteria",
    "build_messages",
    "error_texts",
]

SECTION_GROUPS: tuple[tuple[str, str], ...] = (
    ("Files in scope", "scope_file"),
    ("Read-only context (do not edit)", "read_only"),
    ("Other files (maps only, for lack of space)", "map"),
    ("Project memory and rules", "memory"),
    ("What went wrong in the previous attempt (fix this)", "errors"),
    ("Hints from the Doctor", "hints"),
)
"""Order of the context sections in the task message: files, then the errors to fix last."""


@dataclass(frozen=True)
class BuilderPrompt:
    """The Builder's messages, what the context left out, and their estimated tokens."""

    messages: list[Message]
    dropped: tuple[DroppedItem, ...]
    estimated_tokens: int
    context: AssembledContext


def _deliverable_lines(phase: PhaseSpec) -> list[str]:
    lines = []
    for d in phase.scope.deliverables:
        kind = f"[{d.kind.value}] " if d.kind else ""
        lines.append(f"{kind}{d.target}")
    return lines


def acceptance_criteria(phase: PhaseSpec) -> list[str]:
    """What proves the phase, from its deliverables and its CI specification."""
    out: list[str] = []
    for d in phase.scope.deliverables:
        path = split_target(d.target)
        if path is not None:
            out.append(f"`{path}` exists and is not empty")
    ci = phase.scope.ci
    if ci is None:
        out.append("the project's test suite (pytest) passes with no new failures")
    elif ci.skip:
        out.append(f"automatic checks are skipped for this phase ({ci.reason})")
    elif ci.type == "custom" and ci.command:
        out.append(f"the command `{shlex.join(ci.command)}` exits with status 0")
    else:
        where = " ".join([*ci.paths, *ci.args]) or "the test suite"
        out.append(f"`pytest {where}` passes with no new failures".replace("pytest the", "the"))
    out.append("an Auditor reviews the diff: no major or critical issue may remain")
    return out


def _render(phase: PhaseSpec, run_goal: str, context: AssembledContext) -> tuple[str, str]:
    system = render_template(
        "builder_system",
        scope_paths=list(phase.scope.paths),
        protected_paths=list(phase.scope.protected_paths),
    )
    task = render_template(
        "builder_task",
        run_goal=run_goal.strip(),
        phase=phase,
        deliverables=_deliverable_lines(phase),
        acceptance=acceptance_criteria(phase),
        scope_paths=list(phase.scope.paths),
        missing=list(context.missing),
        groups=SECTION_GROUPS,
        context=context,
    )
    return system, task


def build_messages(
    assembler: ContextAssembler,
    inputs: ContextInputs,
    *,
    redactor: Redactor,
) -> BuilderPrompt:
    """The Builder's system and task messages for one attempt, within the assembler's budget.

    ``inputs.previous_errors`` are the texts the engine got back from the previous attempt
    (e.g. ``GovernedApplyResult.for_model()``, ``CheckReport.for_model()``, an Auditor's
    issues); ``inputs.doctor_hints`` the Doctor's hints.
    """
    empty = AssembledContext((), (), assembler.config.budget_tokens, 0)
    fixed = _render(inputs.phase, inputs.run_goal, empty)
    # Parts that appear only once there is context: group headings, the "missing" line.
    headings = "".join(f"\n\n## {title}\n" for title, _kind in SECTION_GROUPS)
    headings += "Not existing yet (create them ...): " + ", ".join(inputs.phase.scope.paths)
    reserved = sum(assembler.estimate(redactor.redact(t)) for t in (*fixed, headings))
    context = assembler.assemble(inputs, reserved=reserved)
    system, task = _render(inputs.phase, inputs.run_goal, context)
    messages = redactor.messages(
        [Message(role="system", content=system), Message(role="user", content=task)]
    )
    estimated = sum(assembler.estimate(m.content) for m in messages)
    return BuilderPrompt(messages, context.dropped, estimated, context)


def error_texts(*texts: str | None) -> tuple[str, ...]:
    """The non-empty texts, stripped: a convenience for ``ContextInputs.previous_errors``."""
    return tuple(t.strip() for t in texts if t and t.strip())
