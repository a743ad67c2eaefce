"""What an external builder or auditor is handed, and the check a submission passes first.

The run side lives in :mod:`autopack.engine.external`; these functions serve the API while
a phase waits: the Builder prompt Autopack would have sent (context assembled from the
integration worktree, redacted), the previous attempt's feedback, the parked review, and
:func:`check_answer`, a dry run of the governed apply (edit engine, governance, integrity;
nothing is written) so that an answer that could never apply is refused at once (422)
and costs no attempt. The caller holds the run's lease while it reads the worktree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autopack.agents import (
    AuditAnswer,
    BuilderPrompt,
    ContextAssembler,
    ContextInputs,
    Verdict,
    build_messages,
)
from autopack.engine.external import FEEDBACK, REVIEW, read_json
from autopack.engine.services import Engine
from autopack.policy.governance import GovernancePolicy
from autopack.policy.strategy import PhaseStrategy
from autopack.spec.models import PhaseSpec, RunSpec
from autopack.store import NotFoundError
from autopack.store.views import AttemptView, PhaseView
from autopack.workspace import GovernedApplyResult, IntegrationWorkspace, governed_apply
from autopack.workspace.cleanup import worktree_root

FORMATS = ("search_replace", "whole_file", "unified_diff", "delete", "rename")
_NOT_FAILURES = frozenset({"success", "awaiting_approval", "awaiting_review", "interrupted"})


@dataclass(frozen=True)
class Material:
    """A stored phase as the engine runs it: spec, compiled strategy, state, run goal."""

    run_id: str
    phase: PhaseSpec
    strategy: PhaseStrategy
    view: PhaseView
    run_goal: str

    def artifacts(self, engine: Engine) -> Path:
        """The phase's artifacts folder."""
        return engine.artifacts_dir(self.run_id) / "phases" / self.phase.phase_id


def material(engine: Engine, run_id: str, phase_id: str) -> Material:
    """The phase ``phase_id`` of ``run_id`` (``NotFoundError`` for an unknown one)."""
    view = next((p for p in engine.store.get_run(run_id).phases if p.phase_id == phase_id), None)
    if view is None:
        raise NotFoundError("phase", phase_id, run_id)
    spec = RunSpec.model_validate(engine.store.run_spec(run_id))
    phase = next(p for p in spec.phases() if p.phase_id == phase_id)
    return Material(run_id, phase, PhaseStrategy.model_validate(view.strategy), view, spec.goal)


@dataclass(frozen=True)
class BuilderBrief:
    """The prompt and the feedback for the next external attempt."""

    prompt: BuilderPrompt
    attempt: int
    attempts_left: int
    errors: tuple[str, ...]
    hints: tuple[str, ...]
    last_attempt: AttemptView | None


def _last_failure(engine: Engine, m: Material) -> AttemptView | None:
    attempts = engine.store.attempts(m.run_id, m.phase.phase_id)
    failed = [a for a in attempts if a.finished_at and a.outcome not in _NOT_FAILURES]
    return failed[-1] if failed else None


def builder_brief(engine: Engine, m: Material) -> BuilderBrief:
    """What the engine saved when the phase began to wait, and the prompt built from it."""
    saved = read_json(m.artifacts(engine) / FEEDBACK) or {}
    last = _last_failure(engine, m)
    errors = tuple(str(e) for e in saved.get("errors", ()))
    if not errors and last is not None and last.error_message:
        errors = (last.error_message,)
    hints = tuple(str(h) for h in saved.get("hints", ()))
    attempt = int(saved.get("attempt", m.view.attempts_used + 1))
    left = int(saved.get("attempts_left", max(0, m.strategy.builder_attempts - attempt + 1)))
    deny = (*engine.governance.deny, *m.phase.scope.protected_paths)
    assembler = ContextAssembler(
        worktree_root(engine.settings.data_dir) / m.run_id, deny=deny, redactor=engine.redactor
    )
    inputs = ContextInputs(
        phase=m.phase, run_goal=m.run_goal, previous_errors=errors, doctor_hints=hints
    )
    prompt = build_messages(assembler, inputs, redactor=engine.redactor)
    return BuilderBrief(prompt, attempt, left, errors, hints, last)


def check_answer(engine: Engine, m: Material, answer: str) -> GovernedApplyResult:
    """A dry run of the governed apply on the run's worktree (approval aside: a change
    that needs one still waits for it when applied for real)."""
    s = engine.settings
    ws = IntegrationWorkspace.open(s.workspace, s.data_dir, m.run_id)
    policy = GovernancePolicy.for_phase(engine.governance, m.phase.scope, m.strategy)
    return governed_apply(
        ws.path, answer, policy, check=True, approved=True, ignored=ws.git.ignored
    )


def parked_review(engine: Engine, m: Material) -> dict[str, Any] | None:
    """The change that waits for an external review (see ``ExternalRoles.park``)."""
    return read_json(m.artifacts(engine) / REVIEW)


def verdict_of(answer: AuditAnswer, default_severity: str) -> Verdict:
    """The verdict the engine applies: default severity, then the severity rule."""
    severity = "major" if default_severity == "major" else "minor"
    return Verdict.from_answer(answer, default_severity=severity)
