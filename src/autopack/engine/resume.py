"""Recovery of a run whose worker stopped mid-flight (killed, crashed, lost its lease).

The workspace repairs itself when opened (:meth:`IntegrationWorkspace.open`): an attempt
that had committed keeps its commit, any other open attempt is rolled back to its snapshot.
:func:`recover_run` then makes the store agree with the repository:

- model-call reservations that were never settled are released (their tokens return to the
  budgets);
- attempts left open are closed as ``interrupted`` (they do not count against the phase);
- a phase left mid-flight whose commit is on the integration branch is marked ``COMPLETE``
  (its edit is never applied a second time); any other is re-queued (``EXECUTING → QUEUED``,
  an explicit edge of the transition table) and starts again from its snapshot.

Lanes of a parallel batch that a crash left behind (worktrees, branches, refs; see
:mod:`autopack.engine.parallel`) are removed first: a lane's phase counts as committed only
once its commit landed on the integration branch, so the phases they ran are re-queued.

With a remote repository (:mod:`autopack.workspace.remote`) "on the integration branch"
means on the remote's: a phase's commit is pushed before the phase is recorded ``COMPLETE``,
and opening the run moves the local branch to the remote's tip and drops the ``after`` refs
of commits that never got there. So a worker killed between its commit and its push leaves
a mid-flight phase whose commit is unknown to the next worker, and the phase is re-queued
here and redone from the remote's state, never marked ``COMPLETE`` from a stale store.

Everything it does is returned as sentences and recorded as events.
"""

from __future__ import annotations

from autopack.engine.parallel import remove_lanes
from autopack.engine.services import Engine
from autopack.policy.states import PhaseState
from autopack.workspace import IntegrationWorkspace

INTERRUPTED = "interrupted"
_MID_FLIGHT = frozenset(
    {PhaseState.EXECUTING, PhaseState.GATE, PhaseState.CI_RUNNING, PhaseState.PENDING_REVIEW}
)


_EXTERNAL_WAITS = frozenset({PhaseState.GATE, PhaseState.PENDING_REVIEW})
"""Where a phase waits for external work (see :mod:`autopack.engine.external`); the phase
continues from there by itself once the work arrives."""


def _phase_commit(ws: IntegrationWorkspace, phase_id: str) -> str | None:
    """The phase's commit when it is on the integration branch."""
    sha = ws.git.try_rev_parse(f"refs/autopack/{ws.run_id}/{phase_id}/after")
    if sha is None:
        return None
    ancestor = ws.git.run(
        "merge-base", "--is-ancestor", sha, f"refs/heads/{ws.branch}", check=False
    )
    return sha if ancestor.returncode == 0 else None


def recover_run(engine: Engine, ws: IntegrationWorkspace, run_id: str, *, actor: str) -> list[str]:
    """Bring the store in line with the repaired workspace; say what was done."""
    store = engine.store
    done: list[str] = [
        f"removed leftover parallel lane {lane}" for lane in remove_lanes(engine, ws, run_id)
    ]
    released = store.release_stale_reservations(run_id, reason="worker stopped mid-call")
    if released:
        done.append(f"released {released} unsettled model-call reservation(s)")
    attempts = store.run_attempts(run_id)  # one query for every phase
    for phase in store.get_run(run_id).phases:
        open_attempts = [a for a in attempts.get(phase.phase_id, []) if a.finished_at is None]
        for attempt in open_attempts:
            store.finish_attempt(
                attempt.id,
                outcome=INTERRUPTED,
                error_class=INTERRUPTED,
                error_message="the worker stopped during this attempt",
            )
            done.append(f"closed interrupted attempt {attempt.attempt_index} of {phase.phase_id}")
        if phase.state not in _MID_FLIGHT:
            continue
        if phase.state in _EXTERNAL_WAITS and not open_attempts:
            continue  # waiting for an external builder or auditor: not interrupted
        sha = _phase_commit(ws, phase.phase_id)
        if sha is not None:
            store.transition_phase(
                run_id,
                phase.phase_id,
                PhaseState.COMPLETE,
                reason=f"committed {sha[:12]} before the interruption",
                actor=actor,
            )
            done.append(f"phase {phase.phase_id} had committed {sha[:12]}: kept as complete")
        else:
            store.transition_phase(
                run_id,
                phase.phase_id,
                PhaseState.QUEUED,
                reason="re-queued after an interruption",
                actor=actor,
                explicit=True,
            )
            done.append(f"phase {phase.phase_id} re-queued (starts again from its snapshot)")
    return done
