"""The issue learner: records what auditors, checks and the Doctor found; never adds notes.

Always on (recording issues changes no prompt). For every attempt that reached a verdict it
records the Auditor's issues (approved verdicts' minor issues included) and the checks'
failing tests (:mod:`autopack.issues.extract`), mirrors the phase file and the run index,
and remembers the evidence that resolves issues (passing tests, phases committed with
passing checks). When the run ends it resolves what the evidence allows
(:mod:`autopack.issues.resolution`) and writes the index and a backlog snapshot.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from autopack.checks import CheckStatus
from autopack.checks.errors import JUnitError
from autopack.checks.junit import Outcome, parse_junit_file
from autopack.engine.learning import Learner, LearningError
from autopack.engine.phase import PhaseOutcome
from autopack.issues import mirror
from autopack.issues.extract import from_checks, from_doctor, from_verdict
from autopack.issues.resolution import Completion, RunEvidence
from autopack.store.issue_views import IssueInput

if TYPE_CHECKING:
    from collections.abc import Callable

    from autopack.agents import DoctorDecision, Verdict
    from autopack.checks import CheckReport
    from autopack.engine.attempt import AttemptContext, AttemptReport
    from autopack.engine.phase import PhaseResult
    from autopack.engine.services import Engine

__all__ = ["IssueLearner", "passing_tests"]


def passing_tests(report: CheckReport, worktree: Path) -> list[str]:
    """Ids of the tests a check run passed (from its JUnit file; none without one)."""
    if report.junit_path is None or report.status is CheckStatus.SKIPPED:
        return []
    roots = tuple(Path(p) for p in (report.cwd, worktree) if p)
    try:
        result = parse_junit_file(Path(report.junit_path), roots=roots)
    except (JUnitError, OSError):
        return []
    return [c.id for c in result.cases if c.outcome is Outcome.PASSED]


def _redacted(verdict: Verdict, redact: Callable[[str], str]) -> Verdict:
    """The verdict with its model text redacted: an Auditor issue's key is made from its
    wording (slugged, digits blurred), so redacting the recorded title later is too late."""
    issues = tuple(
        i.model_copy(update={"description": redact(i.description)}) for i in verdict.issues
    )
    return verdict.model_copy(update={"issues": issues, "summary": redact(verdict.summary)})


class IssueLearner(Learner):
    """See the module docstring."""

    name = "issues"

    def __init__(self) -> None:
        self._lock = threading.Lock()  # parallel lanes call in from their threads
        self._runs: dict[str, RunEvidence] = {}
        self._final: dict[tuple[str, str], tuple[int, bool]] = {}

    def _evidence(self, run_id: str) -> RunEvidence:
        return self._runs.setdefault(run_id, RunEvidence())

    def _record(self, ctx: AttemptContext, items: list[IssueInput], tick: int) -> None:
        store, run_id, phase_id = ctx.engine.store, ctx.run_id, ctx.phase.phase_id
        # Check output and model text may echo a secret: stored and mirrored only redacted.
        redact = ctx.engine.redactor.redact
        items = [replace(i, title=redact(i.title), evidence=redact(i.evidence)) for i in items]
        rows = store.record_issues(run_id, phase_id, items)
        with self._lock:
            self._evidence(run_id).saw_issues({r.issue_key for r in rows}, tick)
        artifacts = ctx.engine.artifacts_dir(run_id)
        try:
            mirror.write_phase_file(
                artifacts, run_id, phase_id, store.phase_issues(run_id, phase_id)
            )
            mirror.write_index(artifacts, run_id, store.run_issue_index(run_id))
        except OSError as exc:
            raise LearningError(f"issue files not written: {exc}") from exc

    def attempt_finished(
        self,
        ctx: AttemptContext,
        attempt: int,
        report: AttemptReport,
        *,
        hints: tuple[str, ...] = (),
    ) -> None:
        items: list[IssueInput] = []
        if report.verdict is not None:
            items += from_verdict(_redacted(report.verdict, ctx.engine.redactor.redact))
        passed: list[str] = []
        if report.checks is not None:
            items += from_checks(report.checks)
            passed = passing_tests(report.checks, ctx.ws.path)
        checks_passed = report.checks is not None and report.checks.status is CheckStatus.PASSED
        with self._lock:
            evidence = self._evidence(ctx.run_id)
            tick = evidence.next_tick()
            evidence.saw_passing(passed, tick)
            self._final[(ctx.run_id, ctx.phase.phase_id)] = (tick, checks_passed)
        if items:
            self._record(ctx, items, tick)

    def doctor_decided(self, ctx: AttemptContext, attempt: int, decision: DoctorDecision) -> None:
        items = from_doctor(decision, ctx.phase.phase_id)
        if items:
            with self._lock:
                tick = self._evidence(ctx.run_id).next_tick()
            self._record(ctx, items, tick)

    def phase_finished(self, ctx: AttemptContext, result: PhaseResult) -> None:
        with self._lock:
            tick, checks_passed = self._final.pop((ctx.run_id, ctx.phase.phase_id), (0, False))
            if result.outcome is PhaseOutcome.COMPLETE and checks_passed:
                paths = tuple(ctx.phase.scope.paths)
                self._evidence(ctx.run_id).saw_completion(
                    Completion(tick, ctx.phase.phase_id, paths)
                )

    def run_finished(self, engine: Engine, run_id: str, state: str, reason: str) -> None:
        with self._lock:
            evidence = self._runs.pop(run_id, RunEvidence())
            for key in [k for k in self._final if k[0] == run_id]:
                del self._final[key]
        store = engine.store
        resolved = store.resolve_issues(
            run_id, evidence.resolvable(store.unresolved_issue_places())
        )
        artifacts = engine.artifacts_dir(run_id)
        try:
            mirror.write_index(artifacts, run_id, store.run_issue_index(run_id))
            mirror.write_backlog(
                artifacts,
                run_id,
                list(store.iter_backlog()),
                store.issue_backlog_summary(),
                resolved,
            )
        except OSError as exc:
            raise LearningError(f"issue files not written: {exc}") from exc
