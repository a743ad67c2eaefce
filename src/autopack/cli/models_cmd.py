"""``autopack models``: list the model registry and check it.

``list`` shows the packaged registry merged with the project's ``models.yaml``; ``check``
validates the same merge (or ``--file``) and prints every problem, one per line. Exit status:
0 when the configuration is consistent, 1 when it is not or cannot be read.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from autopack.cli.common import EXIT_FAILURE, EXIT_USAGE, console, fail, get_settings
from autopack.policy.models_config import ModelsConfig, ModelsConfigError, check_config

app = typer.Typer(no_args_is_help=True, help="List and check the model registry.")

FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        metavar="PATH",
        help="A models file merged over the packaged one, instead of the project's.",
    ),
]


def _project_file() -> Path | None:
    """The project's override: ``AUTOPACK_MODELS_FILE`` or ``<data_dir>/models.yaml``."""
    return get_settings().resolved_models_file()


def _load(file: Path | None, exit_code: int) -> tuple[ModelsConfig, str]:
    path = file if file is not None else _project_file()
    source = str(path) if path is not None else "packaged models.yaml"
    try:
        return ModelsConfig.load(path), source
    except ModelsConfigError as exc:
        fail(f"invalid models configuration:\n{exc}", exit_code)


def _price(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2f}"


@app.command("list")
def list_cmd(
    file: FileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the registered models with their limits and prices."""
    config, source = _load(file, EXIT_USAGE)
    models = list(config.models.values())
    if as_json:
        typer.echo(json.dumps([m.model_dump(mode="json") for m in models], indent=2))
        return
    table = Table(title=f"Models ({source})", title_justify="left")
    for col in ("model", "provider", "api id", "context", "max out", "$/Mtok in", "$/Mtok out"):
        justify = "right" if col.startswith(("context", "max", "$")) else "left"
        table.add_column(col, justify=justify)
    for m in models:
        table.add_row(
            m.name,
            m.provider,
            m.api_model,
            f"{m.context_window:,}",
            f"{m.max_output_tokens:,}",
            _price(m.input_usd_per_mtok),
            _price(m.output_usd_per_mtok),
        )
    console().print(table)


@app.command("check")
def check_cmd(file: FileOption = None) -> None:
    """Check the registry: every referenced model exists, every model has a price, ..."""
    config, source = _load(file, EXIT_FAILURE)
    problems = check_config(config)
    if problems:
        for problem in problems:
            typer.echo(f"{source}: {problem}")
        count = len(problems)
        typer.echo(f"{count} problem{'s' if count != 1 else ''}", err=True)
        raise typer.Exit(EXIT_FAILURE)
    typer.echo(
        f"ok: {source}: {len(config.models)} models, {len(config.roles)} roles, "
        f"{len(config.escalation.chains)} escalation chains"
    )


__all__ = ["app"]
