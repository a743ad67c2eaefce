"""Approvals behind the routes: request, list pending (with the diff and check logs), decide.

A phase the engine stopped at ``PENDING_APPROVAL`` is decided through the dispatcher, under
the run's lease: approving queues a worker that records the decision and continues the run
from the saved answer (the run goes on by itself); rejecting fails the phase and ends the
run for review, at once. An approval whose phase does not wait (one asked for through
``POST /approval/request``, or for the run as a whole) is only recorded.

What a person needs to decide is read from the engine's artifacts,
``<data_dir>/runs/<run>/phases/<phase>/``: ``pending-approval.diff`` and the logs of the
phase's check runs, each capped in size (a larger file says ``truncated``).
"""

from __future__ import annotations

from pathlib import Path

from autopack.api.context import ApiContext
from autopack.api.errors import ApiError
from autopack.api.schemas import (
    ApprovalRequest,
    ArtifactOut,
    DecisionOut,
    PendingApproval,
)
from autopack.engine.phase import PENDING_DIFF
from autopack.policy.states import PhaseState, RunState
from autopack.store import ApprovalStateError
from autopack.store.views import ApprovalView
from autopack.workspace import WorkspaceError, validate_id

MAX_DIFF_BYTES = 256 * 1024
MAX_LOG_BYTES = 32 * 1024
MAX_LOGS = 5


def request_approval(ctx: ApiContext, body: ApprovalRequest, *, actor: str) -> ApprovalView:
    """Open a pending approval (404 for an unknown run or phase)."""
    reason = f"{body.reason} (requested by {actor})"
    return ctx.store.request_approval(body.run_id, body.phase_id, reason=reason)


def _phase_dir(ctx: ApiContext, run_id: str, phase_id: str) -> Path | None:
    try:
        validate_id(run_id, "run_id")
        validate_id(phase_id, "phase_id")
    except WorkspaceError:
        return None  # not a name the engine could have written under
    return ctx.settings.data_dir / "runs" / run_id / "phases" / phase_id


def _artifact(ctx: ApiContext, path: Path, limit: int, *, tail: bool) -> ArtifactOut:
    size = path.stat().st_size
    with path.open("rb") as handle:
        if tail and size > limit:
            handle.seek(size - limit)
        data = handle.read(limit)
    return ArtifactOut(
        name=path.name,
        path=path.relative_to(ctx.settings.data_dir).as_posix(),
        size=size,
        content=data.decode("utf-8", errors="replace"),
        truncated=size > limit,
    )


def _pending_view(
    ctx: ApiContext, approval: ApprovalView, run_state: str, states: dict[str, str]
) -> PendingApproval:
    diff, logs = None, []
    folder = _phase_dir(ctx, approval.run_id, approval.phase_id) if approval.phase_id else None
    if folder is not None and folder.is_dir():
        if (folder / PENDING_DIFF).is_file():
            diff = _artifact(ctx, folder / PENDING_DIFF, MAX_DIFF_BYTES, tail=False)
        found = sorted(folder.glob("*.log"), key=lambda p: (p.stat().st_mtime, p.name))
        logs = [_artifact(ctx, p, MAX_LOG_BYTES, tail=True) for p in found[-MAX_LOGS:]]
    if diff is None and approval.phase_id and approval.status == "pending":
        # Stopped on another machine (its data directory is not ours): the stored copy.
        _answer, stored = ctx.store.approval_material(approval.id)
        if stored is not None:
            data = stored.encode("utf-8")
            diff = ArtifactOut(
                name=PENDING_DIFF,
                path=f"runs/{approval.run_id}/phases/{approval.phase_id}/{PENDING_DIFF}",
                size=len(data),
                content=data[:MAX_DIFF_BYTES].decode("utf-8", errors="replace"),
                truncated=len(data) > MAX_DIFF_BYTES,
            )
    return PendingApproval(
        **approval.model_dump(),
        run_state=run_state,
        phase_state=states.get(approval.phase_id or ""),
        diff=diff,
        check_logs=logs,
    )


def pending(ctx: ApiContext, *, run_id: str | None, limit: int) -> list[PendingApproval]:
    """Pending approvals, oldest first, each with its diff and check logs."""
    approvals = ctx.store.approvals(status="pending", run_id=run_id)[:limit]
    runs: dict[str, tuple[str, dict[str, str]]] = {}
    out = []
    for approval in approvals:
        if approval.run_id not in runs:
            run = ctx.store.get_run(approval.run_id)
            runs[approval.run_id] = (run.state, {p.phase_id: p.state for p in run.phases})
        run_state, phase_states = runs[approval.run_id]
        out.append(_pending_view(ctx, approval, run_state, phase_states))
    return out


def _open(ctx: ApiContext, approval_id: int) -> tuple[ApprovalView, bool]:
    """The approval (404/409 unless pending) and whether its phase waits for it."""
    approval = ctx.store.approval(approval_id)
    if approval.status != "pending":
        raise ApprovalStateError(f"approval {approval_id} was already {approval.status}")
    run = ctx.store.get_run(approval.run_id)
    state = next((p.state for p in run.phases if p.phase_id == approval.phase_id), None)
    waiting = approval.phase_id is not None and state == PhaseState.PENDING_APPROVAL
    if waiting and RunState(run.state).is_terminal():
        raise ApiError(
            409,
            "run_ended",
            f"run {run.run_id!r} has ended ({run.state}); its waiting phase cannot be decided",
            details={"run_state": run.state},
        )
    if waiting:
        lease = ctx.store.lease(approval.run_id)
        if lease.live() or ctx.workers.busy(approval.run_id):
            raise ApiError(
                409,
                "run_busy",
                f"run {approval.run_id!r} is being executed; decide once it waits again",
                details={"owner": lease.owner},
            )
    return approval, waiting


def approve(ctx: ApiContext, approval_id: int, *, reason: str, by: str) -> DecisionOut:
    """Approve: a waiting phase continues on a worker; other approvals are just recorded."""
    approval, waiting = _open(ctx, approval_id)
    run_id, phase_id = approval.run_id, approval.phase_id
    if waiting:
        approve_run, notify = ctx.dispatcher.approve, ctx.notify_for(run_id)
        notify(f"approval {approval_id} of {phase_id} given by {by}: {reason or '(no reason)'}")
        ctx.workers.submit(
            run_id,
            f"approve {phase_id}",
            lambda: approve_run(run_id, phase_id, by=by, notify=notify, reason=reason),
        )
    else:
        ctx.store.decide_approval(approval_id, approve=True, decided_by=by, note=reason or None)
    return DecisionOut(
        approval_id=approval_id,
        run_id=run_id,
        phase_id=phase_id,
        decision="approved",
        decided_by=by,
        run_state=ctx.store.get_run(run_id).state,
        continues=waiting,
    )


def reject(ctx: ApiContext, approval_id: int, *, reason: str, by: str) -> DecisionOut:
    """Reject: a waiting phase fails and its run ends for review; others are just recorded."""
    if not reason.strip():
        raise ApiError(
            422,
            "reason_required",
            "a rejection needs a reason",
            details={"issues": [{"loc": "body.reason", "message": "required to reject"}]},
        )
    approval, waiting = _open(ctx, approval_id)
    if waiting:
        ctx.dispatcher.reject(approval.run_id, approval.phase_id, by=by, reason=reason)
    else:
        ctx.store.decide_approval(approval_id, approve=False, decided_by=by, note=reason)
    return DecisionOut(
        approval_id=approval_id,
        run_id=approval.run_id,
        phase_id=approval.phase_id,
        decision="rejected",
        decided_by=by,
        run_state=ctx.store.get_run(approval.run_id).state,
        continues=False,
    )
