"""The learning-loop hooks, through a real run: what learners see and what they add.

A learner here is a small subclass of :class:`Learner` (the extension point itself, not a
stand-in for one of ours): it records the calls it gets and returns marked notes, so the
test can find them in the prompts the scripted model received.
"""

from __future__ import annotations

from autopack.engine import execute_run
from autopack.engine.learning import Learner, LearningError
from autopack.policy.states import RunState


class Recorder(Learner):
    name = "recorder"

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def notes(self, ctx, role, *, errors=()):
        self.calls.append(("notes", role, ctx.phase.phase_id, len(errors)))
        return (f"NOTE-FOR-{role.upper()}-{ctx.phase.phase_id}",)

    def attempt_finished(self, ctx, attempt, report, *, hints=()):
        self.calls.append(("attempt", ctx.phase.phase_id, attempt, report.step.value, hints))

    def doctor_decided(self, ctx, attempt, decision):
        self.calls.append(("doctor", ctx.phase.phase_id, attempt, decision.action.value))

    def phase_finished(self, ctx, result):
        self.calls.append(("phase", ctx.phase.phase_id, result.outcome.value))

    def run_finished(self, engine, run_id, state, reason):
        self.calls.append(("run", run_id, str(state)))


class Broken(Learner):
    name = "broken"

    def notes(self, ctx, role, *, errors=()):
        raise LearningError("memory service unreachable")

    def attempt_finished(self, ctx, attempt, report, *, hints=()):
        raise LearningError("could not record")


def _prompts(engine, role: str) -> list[str]:
    calls = engine._providers["scripted"].calls
    return ["\n".join(m.content for m in c.messages) for c in calls if c.role == role]


def test_learners_see_every_step_and_their_notes_reach_each_role(make_engine) -> None:
    engine = make_engine(auto_approve=True)
    recorder = Recorder()
    engine.learning.learners[:] = [recorder]
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason

    builder = _prompts(engine, "builder")
    assert all("NOTE-FOR-BUILDER-" in p for p in builder)
    assert any("NOTE-FOR-BUILDER-mul-default" in p for p in builder)
    assert any("NOTE-FOR-DOCTOR-mul-default" in p for p in _prompts(engine, "doctor"))
    auditor = _prompts(engine, "auditor")
    assert auditor and all("NOTE-FOR-AUDITOR-" in p for p in auditor)
    assert all("intention_drift" in p for p in auditor)

    attempts = [c for c in recorder.calls if c[0] == "attempt" and c[1] == "mul-default"]
    assert [(c[2], c[3]) for c in attempts] == [
        (1, "patch_apply_error"),
        (2, "ci_fail"),
        (3, "done"),
    ]
    assert attempts[0][4] == ()  # the first attempt had no hint; the last one had some
    assert attempts[2][4]
    assert ("doctor", "mul-default", 2, "retry_with_fix") in recorder.calls
    phases = [c for c in recorder.calls if c[0] == "phase"]
    # The approved phase (div) ends once, after its approval, not when it starts waiting.
    assert phases == [
        ("phase", "mul-default", "complete"),
        ("phase", "readme", "complete"),
        ("phase", "div", "complete"),
    ]
    assert recorder.calls[-1] == ("run", "calc-run", RunState.DONE_SUCCESS)


def test_a_failing_learner_is_reported_and_the_run_goes_on(make_engine) -> None:
    engine = make_engine(auto_approve=True)
    engine.learning.learners[:] = [Broken()]
    lines: list[str] = []
    outcome = execute_run(engine, "calc-run", notify=lines.append)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert any("learning (broken): memory service unreachable" in line for line in lines)
    assert any("learning (broken): could not record" in line for line in lines)
    assert not any("NOTE-FOR" in p for p in _prompts(engine, "builder"))
