"""The rules learner: observes how failures get fixed, proposes, injects and scores rules.

Always on (observing costs one small file append per fixed phase), but it injects only when
``.autopack/learned_rules.yaml`` holds a matching candidate or active rule, so a project
without rules gets byte-identical prompts. Definitions are in
:mod:`autopack.memory.rule_learning`; files in :mod:`autopack.memory.rules`.

Per phase (keyed by run and phase; lanes of a parallel tier call in from their threads):

- ``attempt_finished`` of a failed attempt records its failure signature; of the successful
  attempt, with hints and an earlier failure in this invocation, appends an observation and
  adds any candidate the observations now support to the rules file;
- ``notes`` for the Builder (and the Doctor) render the matching rules; the Builder's are
  remembered as injected;
- ``phase_finished`` scores each injected rule (helped or missed) and forgets the phase.

A malformed rules file injects nothing, is never overwritten, and is reported as a
:class:`~autopack.engine.learning.LearningError` (the observation is still appended).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from autopack.engine.learning import Learner, LearningError, NoteRole
from autopack.memory.rule_learning import (
    applicable_rules,
    failure_signature,
    fix_signature,
    fix_text,
    propose,
    render_rules_note,
    score,
)
from autopack.memory.rules import (
    Observation,
    RuleSet,
    RulesFileError,
    append_observation,
    load_observations,
    load_rules,
    observations_path,
    rules_path,
    update_rules,
)

if TYPE_CHECKING:
    from autopack.engine.attempt import AttemptContext, AttemptReport
    from autopack.engine.phase import PhaseResult

__all__ = ["RulesLearner"]


@dataclass
class _PhaseState:
    failures: list[str] = field(default_factory=list)
    injected: set[str] = field(default_factory=set)


class RulesLearner(Learner):
    """Learned rules for one data directory (see the module docstring)."""

    name = "learned_rules"

    def __init__(self, data_dir: Path, redact: Callable[[str], str] = lambda text: text) -> None:
        self.rules_file = rules_path(data_dir)
        self.observations_file = observations_path(data_dir)
        self._redact = redact
        self._lock = threading.Lock()
        self._phases: dict[tuple[str, str], _PhaseState] = {}
        self._reported: tuple[int, int] | None = None

    def _state(self, ctx: AttemptContext) -> _PhaseState:
        with self._lock:
            return self._phases.setdefault((ctx.run_id, ctx.phase.phase_id), _PhaseState())

    def _rules(self) -> RuleSet:
        """The rules file now; a malformed one is reported once per version, then ignored."""
        try:
            return load_rules(self.rules_file)
        except RulesFileError as exc:
            try:
                stat = self.rules_file.stat()
                version: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                version = None
            with self._lock:
                first = version is None or version != self._reported
                self._reported = version
            if first:
                raise LearningError(f"learned rules ignored: {exc}") from exc
            return RuleSet()

    def notes(
        self, ctx: AttemptContext, role: NoteRole, *, errors: Sequence[str] = ()
    ) -> tuple[str, ...]:
        if role == "auditor" or not self.rules_file.exists():
            return ()
        phase = ctx.phase
        rules = applicable_rules(
            self._rules(), category=phase.task_category, scope=list(phase.scope.paths)
        )
        if not rules:
            return ()
        if role == "builder":
            state = self._state(ctx)
            with self._lock:
                state.injected.update(r.id for r in rules)
        return (render_rules_note(rules),)

    def attempt_finished(
        self,
        ctx: AttemptContext,
        attempt: int,
        report: AttemptReport,
        *,
        hints: tuple[str, ...] = (),
    ) -> None:
        state = self._state(ctx)
        if not report.ok:
            text = report.feedback + ("\n" + report.checks.output_tail if report.checks else "")
            signature = failure_signature(report.step.value, self._redact(text))
            with self._lock:
                state.failures.append(signature)
            return
        fix = fix_signature(hints)
        if fix is None or not state.failures:
            return  # fixed without a hint, or its failure was in an earlier invocation
        observation = Observation(
            run_id=ctx.run_id,
            phase_id=ctx.phase.phase_id,
            category=ctx.phase.task_category,
            scope=tuple(ctx.phase.scope.paths),
            failure=state.failures[-1],
            fix=fix,
            fix_text=self._redact(fix_text(hints)),
        )
        try:
            append_observation(self.observations_file, observation)
            observations = load_observations(self.observations_file)

            def add(rules: RuleSet) -> RuleSet:
                for rule in propose(observations, rules):
                    rules = rules.replace(rule)
                    ctx.notify(f"learned rule {rule.id} proposed (scope {rule.scope})")
                return rules

            update_rules(self.rules_file, add)
        except (RulesFileError, OSError) as exc:
            raise LearningError(f"learned rules not updated: {exc}") from exc

    def phase_finished(self, ctx: AttemptContext, result: PhaseResult) -> None:
        with self._lock:
            state = self._phases.pop((ctx.run_id, ctx.phase.phase_id), None)
        if state is None or not state.injected:
            return
        hits = set(state.failures)
        complete = str(result.outcome) == "complete"

        def scored(rules: RuleSet) -> RuleSet:
            for rule_id in sorted(state.injected):
                rule = rules.get(rule_id)
                if rule is None or not rule.status.injected:
                    continue  # dropped or deleted by a person meanwhile
                hit = bool(rule.failure) and rule.failure in hits
                if not hit and not complete:
                    continue  # failed for another reason: says nothing about the rule
                after = score(rule, hit=hit)
                if after.status is not rule.status:
                    ctx.notify(f"learned rule {rule.id}: {rule.status} → {after.status}")
                rules = rules.replace(after)
            return rules

        try:
            update_rules(self.rules_file, scored)
        except (RulesFileError, OSError) as exc:
            raise LearningError(f"learned rules not scored: {exc}") from exc
