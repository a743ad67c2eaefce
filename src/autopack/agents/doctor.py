"""The Doctor: a phase's failure history in; one :class:`DoctorDecision` out.

Actions: ``retry_with_fix`` (a hint for the Builder), ``replan``, ``skip_phase``,
``mark_fatal``, ``rollback_run``, ``execute_fix`` (one allow-listed command), ``escalate``.
The engine carries them out; this module only asks and validates.

``execute_fix`` commands are argument lists, never shell text. A command is accepted only
when it starts with one of the allow-listed argument-list prefixes passed in (e.g.
``("pip", "install")``) and no argument contains shell syntax (``;``, ``|``, ``&``, ``$``,
backquotes, redirections, newlines). A refused command is sent back to the model once like a
parse error (:func:`~autopack.agents.structured.ask_structured`); a second refusal is a
``MalformedAnswerError``.

Cheap or strong Doctor is only a matter of which ``ModelCall`` the caller passes.
:func:`needs_strong_doctor` states the rule: the strong Doctor is needed when the phase is
high risk, when the last two failures have the same signature (error class + the first line
of the first message, with numbers and hex ids blurred), or from the third failure on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autopack.agents.errors import trim_middle
from autopack.agents.prompts import render_template
from autopack.agents.redaction import Redactor
from autopack.agents.structured import ModelCall, ask_structured
from autopack.llm.base import Message
from autopack.spec.models import PhaseSpec

__all__ = [
    "STRONG_DOCTOR_AFTER",
    "DoctorAction",
    "DoctorDecision",
    "FailedAttempt",
    "FailureHistory",
    "build_doctor_messages",
    "check_command",
    "diagnose",
    "needs_strong_doctor",
]

STRONG_DOCTOR_AFTER = 3
"""From this many failed attempts on, the strong Doctor is used."""
_MAX_ATTEMPTS_SHOWN = 6
_MESSAGE_LIMIT = 3_000
_SHELL_SYNTAX = re.compile(r"[;|&$`<>\n\r]")
_BLUR = re.compile(r"0x[0-9a-f]+|[0-9a-f]{7,40}|\d+")

CommandPrefix = Sequence[str]


class DoctorAction(StrEnum):
    """What the run does next with a failing phase."""

    RETRY_WITH_FIX = "retry_with_fix"
    REPLAN = "replan"
    SKIP_PHASE = "skip_phase"
    MARK_FATAL = "mark_fatal"
    ROLLBACK_RUN = "rollback_run"
    EXECUTE_FIX = "execute_fix"
    ESCALATE = "escalate"


class FailedAttempt(BaseModel):
    """One failed attempt as the Doctor sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempt: int = Field(ge=1)
    error_class: str = Field(
        min_length=1, description="e.g. ci_fail, patch_apply_error, auditor_reject."
    )
    messages: tuple[str, ...] = Field(default=(), description="Texts written for the model.")
    check_summary: str | None = None
    model: str | None = None

    def signature(self) -> str:
        """Error class + the first line of the first message, numbers and ids blurred."""
        first = next((m.strip().splitlines()[0] for m in self.messages if m.strip()), "")
        blurred = _BLUR.sub("#", first.lower())
        return f"{self.error_class}:{' '.join(blurred.split())[:200]}"


class FailureHistory(BaseModel):
    """A phase's failed attempts, oldest first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: tuple[FailedAttempt, ...] = Field(min_length=1)
    high_risk: bool = False
    attempts_left: int | None = Field(default=None, ge=0)


class DoctorDecision(BaseModel):
    """The Doctor's answer. ``command`` is set only for ``execute_fix``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    action: DoctorAction
    rationale: str = Field(min_length=1)
    hint: str = ""
    command: tuple[str, ...] | None = None

    @field_validator("action", mode="before")
    @classmethod
    def _action(cls, value: object) -> object:
        return value.strip().lower().replace("-", "_") if isinstance(value, str) else value

    @field_validator("hint", mode="before")
    @classmethod
    def _hint(cls, value: object) -> object:
        return "" if value is None else value

    @field_validator("command", mode="before")
    @classmethod
    def _command(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError(
                'command must be a JSON list of arguments (e.g. ["pip", "install", '
                '"requests"]), not shell text'
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _command_only_for_fix(cls, data: object) -> object:
        # Only execute_fix runs anything: a command sent with another action is dropped.
        if isinstance(data, dict):
            action = str(data.get("action", "")).strip().lower().replace("-", "_")
            if action != DoctorAction.EXECUTE_FIX.value and "command" in data:
                data = {k: v for k, v in data.items() if k != "command"}
        return data

    @model_validator(mode="after")
    def _command_for_fix(self) -> DoctorDecision:
        if self.action is DoctorAction.EXECUTE_FIX and not self.command:
            raise ValueError("execute_fix needs a non-empty 'command' (a list of arguments)")
        return self


_BARE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,213}")


def check_command(command: Sequence[str], allowed: Sequence[CommandPrefix]) -> str | None:
    """Why ``command`` may not run (``None`` when it may); see the module docstring."""
    args = list(command)
    if not args or any(not isinstance(a, str) or not a for a in args):
        return "the command must be a non-empty list of non-empty strings"
    if any(ch.isspace() for ch in args[0]):
        return f"{args[0]!r} is shell text; give the program and each argument separately"
    bad = next((a for a in args if _SHELL_SYNTAX.search(a)), None)
    if bad is not None:
        return f"argument {bad!r} contains shell syntax; commands never run in a shell"
    for prefix in allowed:
        if list(prefix) and args[: len(prefix)] == list(prefix):
            rest = args[len(prefix) :]
            odd = next((a for a in rest if not _BARE_NAME.fullmatch(a)), None)
            if odd is not None:
                # Options, paths and URLs after an allowed prefix would turn "pip install X"
                # into "install from anywhere, into anywhere".
                return f"argument {odd!r} is not a plain name: no options, paths or URLs"
            return None
    shown = ", ".join(" ".join(p) for p in allowed) or "none"
    return f"{' '.join(args)!r} is not allowed; allowed command prefixes: {shown}"


def needs_strong_doctor(history: FailureHistory) -> bool:
    """Whether to ask the strong Doctor (see the module docstring for the rule)."""
    attempts = history.attempts
    if history.high_risk or len(attempts) >= STRONG_DOCTOR_AFTER:
        return True
    return len(attempts) >= 2 and attempts[-1].signature() == attempts[-2].signature()


def build_doctor_messages(
    phase: PhaseSpec,
    history: FailureHistory,
    *,
    allowed_commands: Sequence[CommandPrefix] = (),
    redactor: Redactor,
    run_goal: str = "",
    notes: Sequence[str] = (),
) -> list[Message]:
    """System (actions, allow-list, answer shape) and task (failure history), redacted.

    Only the last six attempts are shown, each message trimmed to about 3,000 characters.
    """
    shown = [
        attempt.model_copy(
            update={"messages": tuple(trim_middle(m, _MESSAGE_LIMIT) for m in attempt.messages)}
        )
        for attempt in history.attempts[-_MAX_ATTEMPTS_SHOWN:]
    ]
    system = render_template("doctor_system", allowed_commands=[list(p) for p in allowed_commands])
    task = render_template(
        "doctor_task",
        run_goal=run_goal.strip(),
        phase=phase,
        high_risk=history.high_risk,
        attempts_left=history.attempts_left,
        attempts=shown,
        notes=list(notes),
    )
    return redactor.messages(
        [Message(role="system", content=system), Message(role="user", content=task)]
    )


def diagnose(
    call: ModelCall,
    phase: PhaseSpec,
    history: FailureHistory,
    *,
    allowed_commands: Sequence[CommandPrefix] = (),
    redactor: Redactor,
    run_goal: str = "",
    notes: Sequence[str] = (),
) -> DoctorDecision:
    """Ask the Doctor; an ``execute_fix`` command outside the allow-list is sent back once."""

    def allowed(decision: DoctorDecision) -> str | None:
        if decision.action is DoctorAction.EXECUTE_FIX and decision.command:
            return check_command(decision.command, allowed_commands)
        return None

    messages = build_doctor_messages(
        phase,
        history,
        allowed_commands=allowed_commands,
        redactor=redactor,
        run_goal=run_goal,
        notes=notes,
    )
    return ask_structured(call, messages, DoctorDecision, check=allowed, redactor=redactor)
