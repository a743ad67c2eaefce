"""``autopack patch``: apply a model's answer (edits in any protocol form) to a directory."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    no_args_is_help=True,
    help="Apply edits written by any coding agent (SEARCH/REPLACE, unified diff, whole file).",
)


@app.callback()
def _group() -> None:
    """Apply edits written by any coding agent (SEARCH/REPLACE, unified diff, whole file)."""


@app.command("apply")
def apply_cmd(
    answer_file: Annotated[
        str, typer.Argument(metavar="ANSWER_FILE", help="The answer text, or - for stdin.")
    ],
    root: Annotated[
        Path,
        typer.Option("--root", help="Directory the paths of the answer are relative to."),
    ] = Path(),
    check: Annotated[
        bool, typer.Option("--check", help="Only check that everything would apply.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print per-edit results as JSON.")] = (
        False
    ),
) -> None:
    """Apply every edit of ANSWER_FILE under --root, all or nothing.

    Exit 0 when everything applied (or would, with --check), 1 when any edit was refused
    (nothing is written then), 2 for usage errors.
    """
    from autopack.edits import apply_to_directory

    if not root.is_dir():
        typer.echo(f"error: --root {root} is not a directory", err=True)
        raise typer.Exit(2)
    try:
        if answer_file == "-":
            answer = sys.stdin.read()
        else:
            answer = Path(answer_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read {answer_file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    result = apply_to_directory(root, answer, check=check)
    if as_json:
        typer.echo(json.dumps({**result.to_dict(), "check": check}, indent=2))
    elif result.ok:
        verb = "would apply" if check else "applied"
        for edit in result.edits:
            how = ", ".join(edit.strategies)
            typer.echo(f"{verb}: block {edit.block} {edit.kind} {edit.path} ({how})")
        edits, files = len(result.edits), len(result.files)
        typer.echo(
            f"{edits} edit{'s' * (edits != 1)} {verb}; {files} file{'s' * (files != 1)} changed."
        )
    else:
        typer.echo(result.for_model(), err=True)
    raise typer.Exit(0 if result.ok else 1)
