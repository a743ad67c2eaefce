"""``autopack patch``: apply a model's answer (edits in any protocol form) to a directory.

Every apply is governed: writes must stay inside ``--scope`` (the whole root by default) and
off protected paths (``.git/``, ``.env*``, keys, credentials, ``--protect`` patterns and the
project's governance file); the result must pass the integrity checks. All or nothing.
"""

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

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_NEEDS_APPROVAL = 3


@app.callback()
def _group() -> None:
    """Apply edits written by any coding agent (SEARCH/REPLACE, unified diff, whole file)."""


def _read_answer(answer_file: str) -> str:
    try:
        if answer_file == "-":
            return sys.stdin.read()
        return Path(answer_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read {answer_file}: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from exc


@app.command("apply")
def apply_cmd(
    answer_file: Annotated[
        str, typer.Argument(metavar="ANSWER_FILE", help="The answer text, or - for stdin.")
    ],
    root: Annotated[
        Path,
        typer.Option("--root", help="Directory the paths of the answer are relative to."),
    ] = Path(),
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            metavar="PATH",
            help="Writable path or directory (repeatable); default: the whole root.",
        ),
    ] = None,
    protect: Annotated[
        list[str] | None,
        typer.Option("--protect", metavar="GLOB", help="Extra protected pattern (repeatable)."),
    ] = None,
    approve: Annotated[
        bool,
        typer.Option("--approve", help="Also write protected-but-approvable paths (CI files)."),
    ] = False,
    governance: Annotated[
        Path | None,
        typer.Option(
            "--governance",
            metavar="FILE",
            help="Governance additions (YAML); default: $AUTOPACK_GOVERNANCE_FILE, else "
            "<root>/.autopack/governance.yaml.",
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only check that everything would apply.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Apply every edit of ANSWER_FILE under --root, all or nothing, under governance.

    Exit 0 when everything applied (or would, with --check); 1 when anything was refused
    (edits that do not match, a policy violation — the rule is named —, broken results),
    and then nothing is written; 2 for usage errors; 3 when the answer needs --approve.
    """
    from autopack.policy.governance import (
        GovernanceConfig,
        GovernanceConfigError,
        GovernancePolicy,
    )
    from autopack.workspace.apply import ApplyOutcome, governed_apply

    if not root.is_dir():
        typer.echo(f"error: --root {root} is not a directory", err=True)
        raise typer.Exit(EXIT_USAGE)
    answer = _read_answer(answer_file)
    from autopack.settings import SettingsError, load_settings

    try:
        settings = load_settings(workspace=root.resolve())
    except SettingsError as exc:
        typer.echo(f"error: invalid settings: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from exc
    config_file = governance or settings.resolved_governance_file()
    try:
        config = GovernanceConfig.load(config_file)
    except GovernanceConfigError as exc:
        typer.echo(f"error: invalid governance configuration:\n{exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from exc
    policy = GovernancePolicy(
        config, scope_paths=tuple(scope or ["."]), protected_paths=tuple(protect or [])
    )
    result = governed_apply(root, answer, policy, check=check, approved=approve)
    if as_json:
        typer.echo(json.dumps({**result.to_dict(), "check": check}, indent=2))
    elif result.ok and result.edits is not None:
        verb = "would apply" if check else "applied"
        for edit in result.edits.edits:
            how = ", ".join(edit.strategies)
            typer.echo(f"{verb}: block {edit.block} {edit.kind} {edit.path} ({how})")
        edits, files = len(result.edits.edits), len(result.changes)
        typer.echo(
            f"{edits} edit{'s' * (edits != 1)} {verb}; {files} file{'s' * (files != 1)} changed."
        )
    else:
        typer.echo(result.for_model(), err=True)
        if result.outcome is ApplyOutcome.NEEDS_APPROVAL:
            typer.echo("Re-run with --approve to apply it.", err=True)
    if result.ok:
        raise typer.Exit(0)
    if result.outcome is ApplyOutcome.NEEDS_APPROVAL:
        raise typer.Exit(EXIT_NEEDS_APPROVAL)
    raise typer.Exit(EXIT_REFUSED)
