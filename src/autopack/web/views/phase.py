"""A phase's page: its attempts, its diff (read only), its check output and its issues.

The diff comes from :class:`autopack.workspace.review.RunBranch` (found by
:func:`autopack.workspace.locate_run.find_run_branch`: for a run on a git remote, in the
fetched mirror), which never repairs or rolls back anything (safe while a worker executes
the run): a committed phase's commit, an open attempt's changes so far. A phase waiting
for approval shows the diff the engine saved for the decision. Check logs are the files the
check runner wrote under ``<data_dir>/runs/<run>/phases/<phase>/`` (``<label>-<n>.log``),
newest last, each tail-capped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from autopack.api.context import ApiContext
from autopack.engine.phase import PENDING_DIFF
from autopack.policy.states import PhaseState
from autopack.store import NotFoundError
from autopack.store.costs import attempt_costs
from autopack.web.views.attempts import AttemptRow, IssueRow, attempt_rows, issue_rows
from autopack.web.views.common import (
    MAX_DIFF_BYTES,
    Artifact,
    DiffLine,
    diff_lines,
    phase_dir,
    read_artifact,
)
from autopack.workspace import GitError, WorkspaceError
from autopack.workspace.locate_run import find_run_branch

__all__ = ["DiffView", "PhasePage", "phase_page"]

log = logging.getLogger("autopack.web")

MAX_LOG_BYTES = 32 * 1024
MAX_LOGS = 10

_NO_DIFF = {
    "run_not_found": "The run has not started yet: there is no integration branch.",
    "no_snapshot": "No attempt of this phase has begun yet.",
    "worktree_missing": "The phase has no commit and the run's worktree is gone.",
}


@dataclass(frozen=True)
class DiffView:
    """A diff to show, or why there is none."""

    source: str
    lines: list[DiffLine]
    truncated: bool
    note: str

    @property
    def empty(self) -> bool:
        return not self.lines


@dataclass(frozen=True)
class PhasePage:
    """Everything the phase page shows."""

    run_id: str
    run_state: str
    phase_id: str
    name: str
    description: str
    category: str
    complexity: str
    state: str
    paths: list[str]
    attempts: list[AttemptRow]
    issues: list[IssueRow]
    diff: DiffView
    logs: list[Artifact]

    @property
    def run_url(self) -> str:
        return f"/ui/runs/{self.run_id}"

    @property
    def url(self) -> str:
        return f"/ui/runs/{self.run_id}/phases/{self.phase_id}"


def _cut(text: str) -> tuple[str, bool]:
    data = text.encode("utf-8")
    if len(data) <= MAX_DIFF_BYTES:
        return text, False
    return data[:MAX_DIFF_BYTES].decode("utf-8", errors="ignore"), True


def _diff(ctx: ApiContext, run_id: str, phase_id: str, state: str) -> DiffView:
    folder = phase_dir(ctx, run_id, phase_id)
    if state == PhaseState.PENDING_APPROVAL and folder and (folder / PENDING_DIFF).is_file():
        saved = read_artifact(ctx, folder / PENDING_DIFF, MAX_DIFF_BYTES, tail=False)
        if saved is not None:
            lines, cut = diff_lines(saved.content)
            return DiffView("waiting for approval", lines, saved.truncated or cut, "")
    settings = ctx.settings
    try:
        branch = find_run_branch(settings, ctx.store.run_spec(run_id), run_id)
        text = branch.diff(phase_id)
    except GitError as exc:
        log.error("diff of %s/%s: %s", run_id, phase_id, exc)
        return DiffView("", [], False, "git could not produce the diff (see the server log).")
    except WorkspaceError as exc:
        return DiffView("", [], False, _NO_DIFF.get(exc.code, str(exc)))
    source = "committed" if branch.phase_ref(phase_id, "after") else "attempt so far"
    text, cut = _cut(text)
    lines, more = diff_lines(text)
    note = "" if lines else "The phase changed no file."
    return DiffView(source, lines, cut or more, note)


def _logs(ctx: ApiContext, run_id: str, phase_id: str) -> list[Artifact]:
    folder = phase_dir(ctx, run_id, phase_id)
    if folder is None or not folder.is_dir():
        return []
    found = sorted(folder.glob("*.log"), key=lambda p: (p.stat().st_mtime, p.name))
    logs = [read_artifact(ctx, p, MAX_LOG_BYTES, tail=True) for p in found[-MAX_LOGS:]]
    return [a for a in logs if a is not None]


def phase_page(ctx: ApiContext, run_id: str, phase_id: str) -> PhasePage:
    """Read one phase (``NotFoundError`` for an unknown run or phase)."""
    run = ctx.store.get_run(run_id)
    phase = next((p for p in run.phases if p.phase_id == phase_id), None)
    if phase is None:
        raise NotFoundError("phase", phase_id, run_id)
    attempts = ctx.store.attempts(run_id, phase_id)
    scope_paths = phase.scope.get("paths") or []
    return PhasePage(
        run_id=run_id,
        run_state=run.state,
        phase_id=phase_id,
        name=phase.name,
        description=phase.description,
        category=phase.task_category,
        complexity=phase.complexity,
        state=phase.state,
        paths=[str(p) for p in scope_paths],
        attempts=attempt_rows(attempts, attempt_costs(ctx.store, run_id)),
        issues=issue_rows(phase_id, attempts),
        diff=_diff(ctx, run_id, phase_id, phase.state),
        logs=_logs(ctx, run_id, phase_id),
    )
