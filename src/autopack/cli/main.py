"""The ``autopack`` command: the root Typer app and its sub-command groups.

:func:`build_app` assembles the command tree; tests use it with ``typer.testing.CliRunner``
and the console script calls :func:`run`.
"""

from __future__ import annotations

import typer

from autopack import __version__


def _version(value: bool) -> None:
    if value:
        typer.echo(f"autopack {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Governed autonomous build orchestrator.

    Autopack carries out a plan (tiers of phases) on a git repository with LLM builders,
    under governance, budgets and review. Settings come from the environment (see README).
    """


def _demo(
    keep: bool = typer.Option(False, "--keep", help="Keep the demo directory afterwards."),
) -> None:
    """Run a whole governed build on a sample project (scripted model, under a minute)."""
    from rich.console import Console

    from autopack.demo import run_demo

    raise typer.Exit(run_demo(Console(highlight=False), keep=keep))


def build_app() -> typer.Typer:
    """The full command tree."""
    from autopack.cli import (
        db_cmd,
        inspect_cmd,
        intention_cmd,
        keys_cmd,
        memory_cmd,
        models_cmd,
        patch_cmd,
        plan_cmd,
        rules_cmd,
        run_cmd,
        runs_cmd,
        serve_cmd,
        spec_cmd,
    )

    app = typer.Typer(
        name="autopack",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )
    app.callback()(_root)
    app.command("run")(run_cmd.run)
    app.command("resume")(run_cmd.resume)
    app.command("approve")(run_cmd.approve)
    app.command("reject")(run_cmd.reject)
    app.command("cancel")(run_cmd.cancel)
    app.command("demo")(_demo)
    app.command("status")(inspect_cmd.status)
    app.command("diff")(inspect_cmd.diff)
    app.command("report")(inspect_cmd.report)
    app.command("merge")(inspect_cmd.merge)
    from autopack.cli import parallel_cmd

    app.command("parallel")(parallel_cmd.parallel)
    app.command("serve")(serve_cmd.serve)
    from autopack.cli import worker_cmd

    app.command("worker")(worker_cmd.worker)
    app.add_typer(spec_cmd.app, name="spec", help="Validate plans and export their JSON Schema.")
    app.add_typer(plan_cmd.app, name="plan", help="Normalise markdown plans into run specs.")
    app.add_typer(runs_cmd.app, name="runs", help="List, show and create runs.")
    app.add_typer(db_cmd.app, name="db", help="Database schema management.")
    app.add_typer(patch_cmd.app, name="patch", help="Apply a model's edits to a directory.")
    app.add_typer(models_cmd.app, name="models", help="List and check the model registry.")
    app.add_typer(keys_cmd.app, name="keys", help="Create, list and revoke API keys.")
    from autopack.cli import issues_cmd

    app.add_typer(issues_cmd.app, name="issues", help="The issue backlog and each run's issues.")
    app.add_typer(memory_cmd.app, name="memory", help="Search and index retrieval memory.")
    app.add_typer(rules_cmd.app, name="rules", help="List, approve and drop learned rules.")
    app.add_typer(
        intention_cmd.app, name="intention", help="Show or create the project's intention."
    )
    return app


def run() -> None:
    """Console-script entry point."""
    build_app()(prog_name="autopack")
