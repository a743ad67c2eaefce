"""``autopack rules``: list, approve and drop learned rules (``.autopack/learned_rules.yaml``).

``list`` shows candidate and active rules (``--all``: retired and dropped too); ``approve``
makes a rule active and pinned (never demoted automatically); ``drop`` stops injecting it and
keeps it from being proposed again. Exit status: 0 done, 1 unknown rule, 2 malformed file.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from autopack.cli.common import EXIT_FAILURE, EXIT_USAGE, console, fail, get_settings
from autopack.memory.rules import (
    LearnedRule,
    RulesFileError,
    UnknownRuleError,
    approve_rule,
    drop_rule,
    load_rules,
    rules_path,
)

app = typer.Typer(no_args_is_help=True, help="List, approve and drop learned rules.")

RuleId = Annotated[str, typer.Argument(help="The rule's id (see `autopack rules list`).")]


def _change(action: str, rule_id: str) -> LearnedRule:
    path = rules_path(get_settings().data_dir)
    try:
        return (approve_rule if action == "approve" else drop_rule)(path, rule_id)
    except UnknownRuleError as exc:
        fail(str(exc), EXIT_FAILURE)
    except RulesFileError as exc:
        fail(f"invalid learned rules file (nothing changed):\n{exc}", EXIT_USAGE)


@app.command("list")
def list_rules(
    show_all: Annotated[
        bool, typer.Option("--all", help="Include retired and dropped rules.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Learned rules: id, status, scope, category, helped/missed, constraint."""
    path = rules_path(get_settings().data_dir)
    try:
        rules = [r for r in load_rules(path).rules if show_all or r.status.injected]
    except RulesFileError as exc:
        fail(f"invalid learned rules file:\n{exc}", EXIT_USAGE)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rules], indent=2))
        return
    if not rules:
        console().print(f"No learned rules{' ' if show_all else ' in use '}({path}).")
        return
    table = Table(title=f"Learned rules ({path})", title_justify="left")
    for column in ("id", "status", "scope", "category", "helped", "missed", "constraint"):
        table.add_column(column, justify="right" if column in ("helped", "missed") else "left")
    for r in rules:
        status = f"{r.status.value} (pinned)" if r.pinned else r.status.value
        table.add_row(r.id, status, r.scope, r.category, str(r.helped), str(r.missed), r.constraint)
    console().print(table)


@app.command("approve")
def approve(rule_id: RuleId) -> None:
    """Make a rule active and pinned: injected for matching phases, never demoted."""
    rule = _change("approve", rule_id)
    console().print(f"rule {rule.id} approved: active, pinned (scope {rule.scope})")


@app.command("drop")
def drop(rule_id: RuleId) -> None:
    """Stop injecting a rule; it stays in the file as dropped and is not proposed again."""
    rule = _change("drop", rule_id)
    console().print(f"rule {rule.id} dropped")
