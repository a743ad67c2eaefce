"""The learning loop's hooks: what the engine tells learners, and what they add to prompts.

A :class:`Learner` observes a run (every finished attempt, phase and run) and may add notes
to the prompts of later attempts: the Builder's context (memory hits, learned rules, the
project's intention), the Doctor's, and the Auditor's (must-not constraints to check for
drift). The engine calls every learner of :attr:`Engine.learning` at fixed points:

- :meth:`Learning.notes` before a Builder call, a Doctor call and an Auditor call;
- :meth:`Learning.attempt_finished` after each attempt that reached a verdict (failed or
  committed; not one parked for approval or external review);
- :meth:`Learning.doctor_decided` after each Doctor decision;
- :meth:`Learning.phase_finished` when a phase ends (complete, failed, skipped);
- :meth:`Learning.run_finished` when the run reaches a terminal state.

With no learner configured (memory off, no intention file, no learned rules) every note is
empty and every prompt is byte-identical to a run without this module (a golden test holds
that). A learner that fails to record something must not fail the run: learners raise
:class:`LearningError` for expected failures (an unreachable memory service, a malformed
file), which the engine reports as a notice; anything else is a bug and propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from autopack.agents import DoctorDecision
    from autopack.engine.attempt import AttemptContext, AttemptReport
    from autopack.engine.phase import PhaseResult
    from autopack.engine.services import Engine

__all__ = ["Learner", "Learning", "LearningError", "NoteRole"]

NoteRole = Literal["builder", "doctor", "auditor"]


class LearningError(Exception):
    """An expected failure of a learner (reported, never fatal to the run)."""

    code = "learning_error"


class Learner:
    """Base class: every hook does nothing. Subclasses override what they need."""

    name = "learner"

    def notes(
        self, ctx: AttemptContext, role: NoteRole, *, errors: Sequence[str] = ()
    ) -> tuple[str, ...]:
        """Texts for the prompt of ``role`` in this phase (``errors``: the last failure's)."""
        return ()

    def attempt_finished(
        self,
        ctx: AttemptContext,
        attempt: int,
        report: AttemptReport,
        *,
        hints: tuple[str, ...] = (),
    ) -> None:
        """An attempt reached a verdict (``report.ok`` when it is being committed).

        ``hints``: the failure-hardening and Doctor hints this attempt's Builder was given.
        """

    def doctor_decided(self, ctx: AttemptContext, attempt: int, decision: DoctorDecision) -> None:
        """The Doctor decided after failed attempt ``attempt``."""

    def phase_finished(self, ctx: AttemptContext, result: PhaseResult) -> None:
        """A phase ended (complete, failed or skipped) in this invocation."""

    def run_finished(self, engine: Engine, run_id: str, state: str, reason: str) -> None:
        """The run reached a terminal state."""


@dataclass
class Learning:
    """The configured learners, called in order; see the module docstring."""

    learners: list[Learner] = field(default_factory=list)
    report: Callable[[str], None] | None = None
    """Where a learner's :class:`LearningError` is reported (default: the attempt's notify)."""

    def _guard(self, learner: Learner, notify: Callable[[str], None], call: Callable[[], None]):
        try:
            call()
        except LearningError as exc:
            (self.report or notify)(f"learning ({learner.name}): {exc}")

    def notes(
        self, ctx: AttemptContext, role: NoteRole, *, errors: Sequence[str] = ()
    ) -> tuple[str, ...]:
        """Every learner's notes for ``role``, in learner order."""
        out: list[str] = []
        for learner in self.learners:

            def one(learner: Learner = learner) -> None:
                out.extend(t for t in learner.notes(ctx, role, errors=errors) if t.strip())

            self._guard(learner, ctx.notify, one)
        return tuple(out)

    def attempt_finished(
        self,
        ctx: AttemptContext,
        attempt: int,
        report: AttemptReport,
        *,
        hints: tuple[str, ...] = (),
    ) -> None:
        for learner in self.learners:
            self._guard(
                learner,
                ctx.notify,
                lambda learner=learner: learner.attempt_finished(ctx, attempt, report, hints=hints),
            )

    def doctor_decided(self, ctx: AttemptContext, attempt: int, decision: DoctorDecision) -> None:
        for learner in self.learners:
            self._guard(
                learner,
                ctx.notify,
                lambda learner=learner: learner.doctor_decided(ctx, attempt, decision),
            )

    def phase_finished(self, ctx: AttemptContext, result: PhaseResult) -> None:
        for learner in self.learners:
            self._guard(
                learner, ctx.notify, lambda learner=learner: learner.phase_finished(ctx, result)
            )

    def run_finished(
        self,
        engine: Engine,
        run_id: str,
        state: str,
        reason: str,
        notify: Callable[[str], None] = print,
    ) -> None:
        for learner in self.learners:
            self._guard(
                learner,
                notify,
                lambda learner=learner: learner.run_finished(engine, run_id, state, reason),
            )
