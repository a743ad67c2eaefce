"""``autopack plan normalize``: a free-text or markdown plan → a run specification.

The spec goes to ``--out`` (YAML or JSON by suffix) or, without it, to stdout as YAML with
the summary (confidence, phases, warnings) on stderr. ``--json`` prints one JSON document
(spec, confidence and components, warnings, issues) instead. Below ``--min-confidence`` the
planner model refines the draft; the store and the engine's model setup are opened only
then (``--scripted ANSWERS`` answers from a file). Exit status: 0 for a valid spec, 1 when
it does not validate, 2 for a usage error (unreadable plan, unknown ``--out`` suffix).
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.text import Text

from autopack.spec.normalize import DEFAULT_MIN_CONFIDENCE, NormalizationResult

app = typer.Typer(
    no_args_is_help=True,
    help="Turn free-text or markdown plans into run specifications.",
)

_FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def render_spec(result: NormalizationResult, fmt: str, source: str) -> str:
    """The spec document as JSON or YAML (YAML starts with a comment naming its origin)."""
    if fmt == "json":
        return json.dumps(result.data, indent=2, ensure_ascii=False) + "\n"
    head = (
        f"# Normalised from {source} by `autopack plan normalize` "
        f"(confidence {result.confidence:.2f}); check the scope before running it.\n"
    )
    return head + yaml.safe_dump(result.data, sort_keys=False, allow_unicode=True, width=100)


def render_summary(console: Console, result: NormalizationResult, source: str) -> None:
    """Confidence with its components, one line per phase, then every warning."""
    style = "green" if result.confidence >= DEFAULT_MIN_CONFIDENCE else "yellow"
    parts = " · ".join(f"{k} {v:.2f}" for k, v in result.components.items())
    mark = ("✓ ", "bold green") if result.valid else ("✗ ", "bold red")
    console.print(
        Text.assemble(mark, (source, "bold"), f"  run {result.data.get('run_id')!r}"),
        Text(" (refined by the model)" if result.refined else "", style="dim"),
    )
    console.print(
        Text.assemble("  confidence ", (f"{result.confidence:.2f}", style), f"  ({parts})")
    )
    for tier in result.data.get("tiers", []):
        console.print(Text(f"  tier {tier['tier_index']} {tier['name']} ({tier['tier_id']})"))
        for phase in tier["phases"]:
            paths = ", ".join(phase["scope"]["paths"]) or "(no scope)"
            console.print(
                Text.assemble(
                    f"    {tier['tier_index']}.{phase['phase_index']} ",
                    (phase["phase_id"], "cyan"),
                    f"  {phase['task_category']} · {phase['complexity']}  ",
                    (paths, "dim"),
                ),
                no_wrap=True,
                overflow="ellipsis",
            )
    for warning in result.warnings:
        console.print(Text(f"  warning: {warning}", style="yellow"))
    for issue in result.issues:
        console.print(Text(f"  invalid: {issue}", style="red"))


def _read_plan(plan: Path) -> str:
    from autopack.cli.common import EXIT_USAGE, fail

    try:
        return plan.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {plan}: {exc}", EXIT_USAGE)


def _connector(stack: ExitStack, settings: Any, scripted: Path | None):
    """Open the store and the engine's model setup only when the model is needed."""

    def connect():
        from autopack.cli.common import EXIT_USAGE, fail, open_store
        from autopack.engine import Engine, EngineOptions
        from autopack.engine.planner import planner_from_engine
        from autopack.policy.governance import GovernanceConfigError
        from autopack.policy.models_config import ModelsConfigError
        from autopack.policy.strategy import StrategyConfigError

        store = stack.enter_context(open_store(settings))
        options = EngineOptions(scripted=scripted.resolve() if scripted else None, actor="cli")
        try:
            engine = Engine(settings, store, options)
        except (StrategyConfigError, ModelsConfigError, GovernanceConfigError) as exc:
            fail(f"invalid configuration: {exc}", EXIT_USAGE)
        return planner_from_engine(engine)()

    return connect


@app.command()
def normalize(
    plan: Annotated[Path, typer.Argument(help="The plan: markdown or free text.")],
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", help="The project the plan is for (default: the setting)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE", help="Write the spec here (.yaml, .yml or .json)."),
    ] = None,
    min_confidence: Annotated[
        float,
        typer.Option(
            "--min-confidence", min=0.0, max=1.0, help="Below this, the model refines the draft."
        ),
    ] = DEFAULT_MIN_CONFIDENCE,
    scripted: Annotated[
        Path | None,
        typer.Option("--scripted", metavar="ANSWERS", help="Answer the model call from a file."),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="The run id (default: from the title).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Normalise PLAN into a run specification with a confidence score and warnings."""
    from autopack.cli.common import EXIT_USAGE, fail, get_settings
    from autopack.engine.planner import normalize_with_refinement
    from autopack.settings import SettingsError, load_settings
    from autopack.workspace.facts import gather_facts

    fmt = _FORMATS.get(out.suffix.lower()) if out is not None else "yaml"
    if fmt is None:
        fail(f"--out {out}: use a .yaml, .yml or .json file", EXIT_USAGE)
    text = _read_plan(plan)
    try:
        settings = load_settings(workspace=workspace.resolve()) if workspace else get_settings()
    except SettingsError as exc:
        fail(f"invalid settings: {exc}", EXIT_USAGE)
    facts = gather_facts(settings.workspace)
    with ExitStack() as stack:
        result = normalize_with_refinement(
            text,
            facts,
            connect=_connector(stack, settings, scripted),
            min_confidence=min_confidence,
            run_id=run_id,
            source_name=plan.stem,
        )
    if out is not None:
        out.write_text(render_spec(result, fmt, plan.name), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        console = Console(highlight=False, soft_wrap=False, stderr=out is None)
        render_summary(console, result, str(plan))
        if out is None:
            typer.echo(render_spec(result, "yaml", plan.name), nl=False)
        else:
            console.print(Text(f"  wrote {out}", style="dim"))
    if not result.valid:
        raise typer.Exit(1)
