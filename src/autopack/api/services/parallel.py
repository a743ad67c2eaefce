"""Batches of parallel runs behind ``/runs/parallel``: validate, store, queue; read status.

A batch is one job on the server's run workers (keyed by its batch id): the job runs
:func:`autopack.engine.parallel_runs.run_batch`, which executes the batch's runs with at
most ``max_concurrent`` threads of its own (each run under its lease), then lands the
successes through the merge queue and writes the report under
``<data_dir>/batches/<batch_id>``. Everything is validated before anything is stored: every
plan, distinct and new run ids, the base ref and the target branch.
"""

from __future__ import annotations

import json

from autopack.api.context import ApiContext
from autopack.api.errors import ApiError
from autopack.api.schemas_parallel import (
    BatchRunState,
    ParallelAccepted,
    ParallelStart,
    ParallelStatus,
)
from autopack.engine.batch_report import batch_dir
from autopack.engine.parallel_runs import BatchOptions, new_batch_id, run_batch, write_manifest
from autopack.spec.loader import load_spec_data
from autopack.store import NotFoundError, RunExistsError
from autopack.workspace import Git
from autopack.workspace.merge import MergeRefusedError
from autopack.workspace.merge_queue import MergeQueue


def _unprocessable(code: str, message: str, loc: str) -> ApiError:
    return ApiError(422, code, message, details={"issues": [{"loc": loc, "message": message}]})


def start_batch(ctx: ApiContext, body: ParallelStart, *, actor: str) -> ParallelAccepted:
    """Validate every plan and the refs, store the runs, queue the batch."""
    loaded = [
        load_spec_data(plan, source=f"request body plans[{i}]") for i, plan in enumerate(body.plans)
    ]  # SpecError → 422, nothing stored
    run_ids = [item.spec.run_id for item in loaded]
    if len(set(run_ids)) != len(run_ids):
        raise _unprocessable("duplicate_run_id", "two plans have the same run id", "body.plans")
    for run_id in run_ids:
        try:
            ctx.store.get_run(run_id)
        except NotFoundError:
            continue
        raise RunExistsError(run_id)
    repo = ctx.settings.workspace
    if Git(repo).try_rev_parse(f"{body.base}^{{commit}}") is None:
        raise _unprocessable("bad_base_ref", f"base {body.base!r} is not a commit", "body.base")
    target = None
    if body.merge:
        try:
            target = MergeQueue(repo, target=body.target).target
        except MergeRefusedError as exc:
            raise _unprocessable("bad_target", exc.message, "body.target") from exc
    ctx.workers.check_capacity()
    for item in loaded:
        compiled = ctx.engine.strategy.compile_run(item.spec)
        ctx.store.create_run(item.spec, compiled, shape=item.shape, actor=actor)
    options = BatchOptions(
        max_concurrent=body.max_concurrent, base_ref=body.base, target=target, merge=body.merge
    )
    batch_id = new_batch_id()
    write_manifest(ctx.settings.data_dir, batch_id, run_ids, options, target)
    notify = ctx.notify_for(batch_id)
    engine = ctx.engine
    ctx.workers.submit(
        batch_id,
        "parallel",
        lambda: run_batch(engine, run_ids, options, batch_id=batch_id, notify=notify),
    )
    return ParallelAccepted(
        batch_id=batch_id, run_ids=run_ids, queued=True, status=f"/runs/parallel/{batch_id}"
    )


def batch_status(ctx: ApiContext, batch_id: str) -> ParallelStatus:
    """The runs' states; the report once the batch has written it. 404 for an unknown id."""
    folder = batch_dir(ctx.settings.data_dir, batch_id)
    manifest_path = folder / "batch.json"
    if not manifest_path.is_file():
        raise ApiError(404, "batch_not_found", f"no batch {batch_id!r}")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    runs = []
    for run_id in manifest["run_ids"]:
        run = ctx.store.get_run(run_id)
        runs.append(
            BatchRunState(
                run_id=run_id,
                state=run.state,
                phases_complete=run.phases_complete,
                phase_count=run.phase_count,
            )
        )
    report_path = folder / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else None
    return ParallelStatus(
        batch_id=batch_id,
        finished=report is not None,
        target=manifest.get("target"),
        runs=runs,
        report=report,
    )
