"""``autopack run``, ``approve``, ``reject`` and ``cancel``: drive runs from the command line.

Exit codes: 0 the run succeeded (or the command did what it said), 1 the run ended failed,
2 usage or configuration errors, 3 the run waits for an approval.

``autopack run PLAN --detach`` (only with ``AUTOPACK_DISPATCH=queue``) stores the run and
queues its job in one transaction (:meth:`autopack.engine.queue.QueueDispatcher.create`; an
existing run gets a job that resumes it), prints how to watch it and exits 0: an
``autopack worker`` executes it. Options that only shape a run executed here
(``--scripted``, ``--auto-approve``, ``--max-parallel``, ``--model-config``) are refused
with it rather than silently dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from autopack.cli.common import EXIT_USAGE, fail, get_settings, open_store
from autopack.cli.live import live_run_view
from autopack.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from autopack.spec.loader import LoadedSpec

EXIT_WAITING = 3


def _settings(workspace: Path | None, model_config: Path | None) -> Settings:
    try:
        settings = load_settings(workspace=workspace.resolve()) if workspace else get_settings()
    except SettingsError as exc:
        fail(f"invalid settings: {exc}", EXIT_USAGE)
    if model_config is not None:
        settings = settings.model_copy(update={"models_file": model_config})
    return settings


def _finish(console: Console, store: object, outcome: object) -> None:
    from autopack.cli.runs_cmd import render_run
    from autopack.engine import RunOutcome
    from autopack.policy.states import RunState

    assert isinstance(outcome, RunOutcome)
    run = store.get_run(outcome.run_id)  # type: ignore[attr-defined]
    render_run(run)
    state = RunState(outcome.state)
    if state is RunState.DONE_SUCCESS:
        console.print(
            f"[green]run {outcome.run_id} succeeded[/]: review it with "
            f"`git log -p autonomous/{outcome.run_id}` and merge it when you are satisfied."
        )
        raise typer.Exit(0)
    external = [p.phase_id for p in run.phases if p.state in ("GATE", "PENDING_REVIEW")]
    if outcome.waiting and external:
        console.print(
            f"[yellow]run {outcome.run_id} waits for external work[/] ({outcome.reason}). "
            f"An external builder or auditor claims {', '.join(external)} through the API "
            f"(`autopack serve`); the run continues by itself when the result arrives."
        )
        raise typer.Exit(EXIT_WAITING)
    if outcome.waiting:
        console.print(
            f"[yellow]run {outcome.run_id} waits for approval[/] ({outcome.reason}). "
            f"Review .autopack/runs/{outcome.run_id}/phases/*/pending-approval.diff, then "
            f"`autopack approve {outcome.run_id}` or `autopack reject {outcome.run_id} "
            "--reason ...`."
        )
        raise typer.Exit(EXIT_WAITING)
    console.print(f"[red]run {outcome.run_id} ended {state.value}[/]: {outcome.reason}")
    raise typer.Exit(1)


def _engine(
    settings: Settings,
    store: object,
    scripted: Path | None,
    auto_approve: bool,
    max_parallel: int = 1,
):
    from autopack.engine import Engine, EngineOptions
    from autopack.llm import LlmError
    from autopack.policy.governance import GovernanceConfigError
    from autopack.policy.models_config import ModelsConfigError
    from autopack.policy.strategy import StrategyConfigError

    options = EngineOptions(
        scripted=scripted.resolve() if scripted else None,
        auto_approve=auto_approve,
        max_parallel=max_parallel,
    )
    try:
        return Engine(settings, store, options)  # type: ignore[arg-type]
    except (StrategyConfigError, ModelsConfigError, GovernanceConfigError, LlmError) as exc:
        fail(f"invalid configuration: {exc}", EXIT_USAGE)


def run(
    plan: Annotated[Path, typer.Argument(help="The plan (JSON or YAML, any accepted shape).")],
    workspace: Annotated[
        Path | None, typer.Option("--workspace", help="The git repository (default: here).")
    ] = None,
    base: Annotated[str, typer.Option("--base", help="Base ref of the integration branch.")] = (
        "HEAD"
    ),
    scripted: Annotated[
        Path | None,
        typer.Option("--scripted", metavar="ANSWERS", help="Answer every model call from a file."),
    ] = None,
    model_config: Annotated[
        Path | None, typer.Option("--model-config", help="Model registry overrides (YAML).")
    ] = None,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Grant approvals automatically (demos only).")
    ] = False,
    max_parallel: Annotated[
        int,
        typer.Option(
            "--max-parallel",
            min=1,
            max=16,
            help="Run up to N phases of a tier at once when their scopes do not overlap.",
        ),
    ] = 1,
    detach: Annotated[
        bool,
        typer.Option(
            "--detach",
            help="Queue the run for `autopack worker` and return at once "
            "(needs AUTOPACK_DISPATCH=queue).",
        ),
    ] = False,
) -> None:
    """Carry out a plan on an integration branch (resumes the run if it exists)."""
    from autopack.cli.spec_cmd import load_or_exit
    from autopack.engine import EngineError, InProcessDispatcher
    from autopack.store import LeaseHeldError, NotFoundError

    settings = _settings(workspace, model_config)
    if detach:
        local = [
            name
            for name, given in (
                ("--scripted", scripted is not None),
                ("--auto-approve", auto_approve),
                ("--max-parallel", max_parallel != 1),
                ("--model-config", model_config is not None),
            )
            if given
        ]
        _check_detach(settings, local)
    loaded = load_or_exit(plan)
    console = Console(highlight=False)
    if detach:
        _detach(settings, loaded, base, console)
    with open_store(settings) as store:
        engine = _engine(settings, store, scripted, auto_approve, max_parallel)
        try:
            store.get_run(loaded.spec.run_id)
            console.print(f"resuming run {loaded.spec.run_id}")
        except NotFoundError:
            compiled = engine.strategy.compile_run(loaded.spec)
            store.create_run(loaded.spec, compiled, shape=loaded.shape, actor="cli")
        try:
            with live_run_view(console, store, loaded.spec.run_id) as notify:
                outcome = InProcessDispatcher(engine).execute(
                    loaded.spec.run_id, base_ref=base, notify=notify
                )
        except (EngineError, LeaseHeldError) as exc:
            fail(str(exc))
        _finish(console, store, outcome)


def _check_detach(settings: Settings, local: list[str]) -> None:
    if settings.dispatch != "queue":
        fail(
            "--detach needs AUTOPACK_DISPATCH=queue (a PostgreSQL DATABASE_URL and "
            "`autopack worker` processes to execute the run); without it a run executes "
            "in this process: drop --detach",
            EXIT_USAGE,
        )
    if local:
        fail(
            f"{', '.join(local)} only apply to a run executed here; a detached run is "
            "executed by `autopack worker` with its own settings",
            EXIT_USAGE,
        )


def _detach(settings: Settings, loaded: LoadedSpec, base: str, console: Console) -> None:
    """Store and queue the run (one transaction), or queue a resume; exit 0."""
    from sqlalchemy.exc import SQLAlchemyError

    from autopack.engine import EngineError
    from autopack.engine.queue import QueueDispatcher
    from autopack.store import NotFoundError

    spec = loaded.spec
    with open_store(settings) as store:
        engine = _engine(settings, store, None, False)
        try:
            dispatcher = QueueDispatcher(engine)
            try:
                store.get_run(spec.run_id)
            except NotFoundError:
                compiled = engine.strategy.compile_run(spec)
                dispatcher.create(spec, compiled, shape=loaded.shape, actor="cli", base_ref=base)
                what = "queued"
            else:
                outcome = dispatcher.execute(spec.run_id, base_ref=base, notify=lambda m: None)
                what = f"exists; resume {outcome.reason}"
        except EngineError as exc:
            fail(str(exc))
        except SQLAlchemyError as exc:
            fail(f"cannot use the database: {exc.orig or type(exc).__name__}")
    console.print(f"run {spec.run_id} {what}", markup=False)
    console.print(
        f"an `autopack worker` executes it; watch it with `autopack status {spec.run_id} "
        f"--watch`, review it with `autopack report {spec.run_id}`",
        markup=False,
    )
    raise typer.Exit(0)


def approve(
    run_id: Annotated[str, typer.Argument(help="The run.")],
    phase_id: Annotated[str | None, typer.Argument(help="The waiting phase.")] = None,
    by: Annotated[str, typer.Option("--by", help="Who approves.")] = "cli",
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "",
    scripted: Annotated[Path | None, typer.Option("--scripted", metavar="ANSWERS")] = None,
    workspace: Annotated[Path | None, typer.Option("--workspace")] = None,
) -> None:
    """Approve the waiting phase and continue the run from its approved answer."""
    from autopack.engine import EngineError, InProcessDispatcher
    from autopack.store import LeaseHeldError

    settings = _settings(workspace, None)
    console = Console(highlight=False)
    with open_store(settings) as store:
        engine = _engine(settings, store, scripted, False)
        try:
            with live_run_view(console, store, run_id) as notify:
                outcome = InProcessDispatcher(engine).approve(
                    run_id, phase_id, by=by, notify=notify, reason=reason
                )
        except (EngineError, LeaseHeldError) as exc:
            fail(str(exc))
        _finish(console, store, outcome)


def resume(
    run_id: Annotated[str, typer.Argument(help="The run to continue.")],
    scripted: Annotated[Path | None, typer.Option("--scripted", metavar="ANSWERS")] = None,
    workspace: Annotated[Path | None, typer.Option("--workspace")] = None,
    model_config: Annotated[
        Path | None, typer.Option("--model-config", help="Model registry overrides (YAML).")
    ] = None,
    max_parallel: Annotated[int, typer.Option("--max-parallel", min=1, max=16)] = 1,
) -> None:
    """Continue a run after a crash or a stop: repair the worktree, re-queue, go on.

    Refused while another worker holds a live lease on the run.
    """
    from autopack.engine import EngineError, InProcessDispatcher
    from autopack.store import LeaseHeldError, NotFoundError

    settings = _settings(workspace, model_config)
    console = Console(highlight=False)
    with open_store(settings) as store:
        engine = _engine(settings, store, scripted, False, max_parallel)
        try:
            with live_run_view(console, store, run_id) as notify:
                outcome = InProcessDispatcher(engine).execute(run_id, notify=notify)
        except (EngineError, LeaseHeldError, NotFoundError) as exc:
            fail(str(exc))
        _finish(console, store, outcome)


def reject(
    run_id: Annotated[str, typer.Argument(help="The run.")],
    phase_id: Annotated[str | None, typer.Argument(help="The waiting phase.")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "rejected",
    by: Annotated[str, typer.Option("--by", help="Who rejects.")] = "cli",
    workspace: Annotated[Path | None, typer.Option("--workspace")] = None,
) -> None:
    """Reject the waiting phase: it fails and the run ends for review."""
    from autopack.engine import EngineError, InProcessDispatcher
    from autopack.store import LeaseHeldError

    settings = _settings(workspace, None)
    with open_store(settings) as store:
        engine = _engine(settings, store, None, False)
        try:
            outcome = InProcessDispatcher(engine).reject(run_id, phase_id, by=by, reason=reason)
        except (EngineError, LeaseHeldError) as exc:
            fail(str(exc))
        _finish(Console(highlight=False), store, outcome)


def cancel(
    run_id: Annotated[str, typer.Argument(help="The run.")],
    workspace: Annotated[Path | None, typer.Option("--workspace")] = None,
) -> None:
    """Stop a run at its next safe point (between phases); a run not executing stops now."""
    from autopack.policy.states import RunState

    with open_store(_settings(workspace, None)) as store:
        store.request_cancel(run_id)
        state = store.get_run(run_id).state
        if state in (RunState.RUN_CREATED, RunState.GATE, RunState.PHASE_QUEUEING):
            store.transition_run(run_id, RunState.CANCELLED, reason="cancelled", actor="cli")
            state = RunState.CANCELLED
    Console(highlight=False).print(f"cancel requested for {run_id} (now {state})")
