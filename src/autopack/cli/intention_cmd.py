"""``autopack intention``: show the project's intention, or write a template to fill in.

``show`` prints what the Builder and the Doctor get (and the Auditor's part), exactly as
injected; ``init`` writes a commented template to ``.autopack/intention.yaml`` and never
overwrites an existing file. Exit status: 0 done, 1 missing or existing file, 2 malformed.
"""

from __future__ import annotations

import typer

from autopack.cli.common import EXIT_FAILURE, EXIT_USAGE, console, fail, get_settings
from autopack.memory.intention import (
    TEMPLATE,
    IntentionError,
    intention_path,
    load_intention,
    render_for_auditor,
    render_intention,
)

app = typer.Typer(no_args_is_help=True, help="Show or create the project's intention.")


@app.command("show")
def show() -> None:
    """Print the intention as the prompts get it."""
    path = intention_path(get_settings().data_dir)
    if not path.is_file():
        fail(f"no intention file at {path} (create one with `autopack intention init`)")
    try:
        intention = load_intention(path)
    except IntentionError as exc:
        fail(f"invalid intention file:\n{exc}", EXIT_USAGE)
    out = console()
    builder = render_intention(intention)
    if not builder:
        out.print(f"{path}: every field is empty, nothing is injected.")
        return
    out.print(f"# Builder and Doctor ({len(builder.encode('utf-8'))} bytes)", markup=False)
    out.print(builder, markup=False)
    out.print("\n# Auditor", markup=False)
    out.print(render_for_auditor(intention), markup=False)


@app.command("init")
def init() -> None:
    """Write a commented template (refuses to overwrite an existing file)."""
    settings = get_settings()
    path = intention_path(settings.data_dir)
    if path.exists():
        fail(f"{path} already exists: edit it, or remove it first", EXIT_FAILURE)
    settings.ensure_data_dir()
    try:
        with open(path, "x", encoding="utf-8") as handle:  # "x": never overwrite
            handle.write(TEMPLATE)
    except FileExistsError:
        fail(f"{path} already exists: edit it, or remove it first", EXIT_FAILURE)
    console().print(
        f"wrote {path}: fill in the goal and constraints, then `autopack intention show`"
    )
