"""``autopack spec``: check plans and export the run-specification schema.

``validate`` loads each file with :func:`autopack.spec.load_spec`, compiles the strategy of
every phase, and prints a one-screen summary per valid file; for an invalid file it prints
every problem, one per line, as ``FILE: LOCATION: MESSAGE``. Exit status: 0 when every file
is valid, 1 when any is not, 2 when the strategy configuration itself cannot be loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from autopack.spec import LoadedSpec, SpecError, SpecIssue, load_spec, run_spec_schema_json

if TYPE_CHECKING:
    from autopack.policy.strategy import RunStrategy, StrategyEngine

DOC_SUFFIXES = frozenset({".md", ".markdown", ".rst"})
"""Skipped by ``validate`` so that ``autopack spec validate examples/*`` can pass a README."""

app = typer.Typer(
    no_args_is_help=True,
    help="Check run specifications (plans) and export their JSON Schema.",
)


@dataclass
class FileReport:
    """The outcome of checking one file."""

    path: str
    loaded: LoadedSpec | None = None
    strategy: RunStrategy | None = None
    issues: list[SpecIssue] = field(default_factory=list)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.skipped is not None or (self.loaded is not None and not self.issues)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.path, "valid": self.ok}
        if self.skipped:
            out["skipped"] = self.skipped
        if self.loaded is not None:
            out["shape"] = self.loaded.shape.value
            out["format"] = self.loaded.format
            out["spec"] = self.loaded.spec.model_dump(mode="json")
        if self.strategy is not None:
            out["strategy"] = self.strategy.model_dump(mode="json")
        out["issues"] = [issue.to_dict() for issue in self.issues]
        return out


def check_file(path: Path, engine: StrategyEngine) -> FileReport:
    """Load and validate ``path`` and compile its strategy; never raises for a bad plan."""
    report = FileReport(str(path))
    if path.suffix.lower() in DOC_SUFFIXES and path.is_file():
        report.skipped = "documentation, not a plan"
        return report
    try:
        report.loaded = load_spec(path)
    except SpecError as err:
        report.issues = err.issues
        return report
    report.strategy = engine.compile_run(report.loaded.spec)
    return report


def load_or_exit(path: Path) -> LoadedSpec:
    """Load a plan for another command; on failure print every problem (stderr), exit 1."""
    try:
        return load_spec(path)
    except SpecError as err:
        for issue in err.issues:
            typer.echo(_error_line(str(path), issue), err=True)
        raise typer.Exit(1) from None


def _error_line(path: str, issue: SpecIssue) -> str:
    where = ""
    if issue.line is not None and not issue.loc.startswith("line "):
        where = f" (line {issue.line}, column {issue.column})"
    return f"{path}: {issue.loc}: {issue.message}{where}"


def _tokens(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:g}k" if value >= 1000 else str(value)


def _render_summary(console: Console, report: FileReport) -> None:
    """A few lines per tier and two per phase: fits one screen for a typical plan."""
    assert report.loaded is not None
    spec, loaded = report.loaded.spec, report.loaded
    budgets = report.strategy.tier_token_budgets if report.strategy else {}
    strategies = report.strategy.phases if report.strategy else {}
    shape = loaded.shape.value.replace("_", "-")
    line = {"no_wrap": True, "overflow": "ellipsis"}
    console.print(
        Text.assemble(("✓ ", "bold green"), (report.path, "bold"), f"  run {spec.run_id!r}"),
        Text(f"({shape} {loaded.format or 'data'})", style="dim"),
    )
    if spec.goal:
        console.print(Text(f"  goal: {spec.goal.strip().splitlines()[0]}"), **line)
    count = len(spec.phases())
    limits = [
        f"tokens {_tokens(spec.token_cap)}",
        f"{count} phase{'s' if count != 1 else ''}"
        + (f" (max {spec.max_phases})" if spec.max_phases else ""),
        f"{spec.max_duration_minutes} min" if spec.max_duration_minutes else "no time limit",
        f"safety {spec.safety_profile.value}",
    ]
    console.print("  budgets: " + " · ".join(limits), **line)
    for tier in spec.tiers:
        budget = budgets.get(tier.tier_id)
        tail = f" · budget {_tokens(budget)}" if budget else ""
        console.print(
            Text.assemble(
                (f"  tier {tier.tier_index} ", "bold"), f"{tier.name} ({tier.tier_id}){tail}"
            ),
            **line,
        )
        for phase in tier.phases:
            strategy = strategies.get(phase.phase_id)
            console.print(
                Text.assemble(
                    f"    {tier.tier_index}.{phase.phase_index} ",
                    (phase.phase_id, "cyan"),
                    f"  {phase.task_category} · {phase.complexity.value}",
                    (f"  {phase.name}", "dim") if phase.name != phase.phase_id else "",
                ),
                **line,
            )
            if strategy is None:
                continue
            style = "yellow" if strategy.high_risk else ""
            console.print(Text(f"        {strategy.summary()}", style=style), **line)
            for note in strategy.notes:
                console.print(Text(f"        note: {note}", style="dim"), **line)
    console.print()


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Plan files (JSON or YAML).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document with every result.")
    ] = False,
    strategy_file: Annotated[
        Path | None,
        typer.Option(
            "--strategy",
            metavar="PATH",
            help="Strategy overrides (YAML) instead of the project's.",
        ),
    ] = None,
) -> None:
    """Check plans: a summary per valid file, every problem of an invalid one."""
    from autopack.cli.common import EXIT_USAGE, fail, get_strategy_engine
    from autopack.policy.strategy import StrategyConfigError, StrategyEngine

    if strategy_file is None:
        engine = get_strategy_engine()  # the project's overrides, as `runs create` uses
    else:
        try:
            engine = StrategyEngine.load(strategy_file)
        except StrategyConfigError as exc:
            fail(f"invalid strategy configuration:\n{exc}", EXIT_USAGE)
    reports = [check_file(path, engine) for path in files]
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        console = Console(highlight=False, soft_wrap=False)
        for report in reports:
            if report.skipped:
                console.print(Text(f"- {report.path}: skipped ({report.skipped})", style="dim"))
            elif report.ok:
                _render_summary(console, report)
            else:
                for issue in report.issues:
                    typer.echo(_error_line(report.path, issue))
        checked = [r for r in reports if not r.skipped]
        bad = sum(not r.ok for r in checked)
        if len(checked) > 1 or bad:
            noun = "plan" if len(checked) == 1 else "plans"
            typer.echo(f"{len(checked) - bad} of {len(checked)} {noun} valid", err=bool(bad))
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


@app.command()
def schema() -> None:
    """Print the JSON Schema of a run specification (canonical nested shape)."""
    typer.echo(run_spec_schema_json(indent=2))
