"""``autopack demo``: a whole governed run in a temporary directory, with no key or network.

A sample project (a calculator with one known-broken test) becomes a git repository; a plan of
two tiers and four phases runs against it with the scripted model, whose first attempts fail
on purpose (an edit that does not match, then a regression) so that the retry, failure
hardening, the Doctor and model escalation show. The high-risk phase is approved
automatically, and the output says so. The run ends with one commit per phase on
``autonomous/demo-calc``; the user's own checkouts are never involved.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from importlib import resources
from pathlib import Path

import yaml
from rich.console import Console
from rich.markdown import Markdown

RUN_ID = "demo-calc"


def _asset(name: str) -> str:
    return resources.files("autopack.demo").joinpath(name).read_text(encoding="utf-8")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def make_project(root: Path) -> Path:
    """Write the sample project into ``root/project`` as a git repository with one commit."""
    project = root / "project"
    files: dict[str, str] = yaml.safe_load(_asset("project.yaml"))
    for rel, text in files.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "config", "user.name", "Demo User")
    _git(project, "config", "user.email", "demo@example.invalid")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "calc: initial version")
    return project


def run_demo(console: Console, *, keep: bool = False) -> int:
    """Build the sample project, run the plan, print the outcome; returns an exit code."""
    from autopack.cli.live import live_run_view
    from autopack.cli.runs_cmd import render_run
    from autopack.engine import Engine, EngineOptions, InProcessDispatcher
    from autopack.engine.report import build_report
    from autopack.policy.states import RunState
    from autopack.settings import load_settings
    from autopack.spec.loader import load_spec_text
    from autopack.store import Store

    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="autopack-demo-"))
    try:
        project = make_project(root)
        script = root / "script.yaml"
        script.write_text(_asset("script.yaml"), encoding="utf-8")
        plan = load_spec_text(_asset("plan.yaml"), fmt="yaml", source="demo plan")
        console.print(f"[bold]Autopack demo[/] in {root}")
        console.print(
            "scripted model (no key, no network); demo mode: approvals are granted "
            "automatically — a real run stops and waits for a person."
        )
        settings = load_settings(workspace=project, skip_ci=False)
        store = Store.open(settings)
        try:
            engine = Engine(settings, store, EngineOptions(scripted=script, auto_approve=True))
            store.create_run(plan.spec, engine.strategy.compile_run(plan.spec), shape=plan.shape)
            with live_run_view(console, store, RUN_ID) as notify:
                outcome = InProcessDispatcher(engine).execute(RUN_ID, notify=notify)
            render_run(store.get_run(RUN_ID))
            cost = store.total_cost(RUN_ID)
            report = build_report(store, RUN_ID, settings)
            (engine.artifacts_dir(RUN_ID) / "report.md").write_text(report, encoding="utf-8")
        finally:
            store.close()
        log = _git(project, "log", "--format=%h %s", f"autonomous/{RUN_ID}", "--not", "main")
        console.print(Markdown(report))
        console.print(
            "\n[bold]Integration branch[/] autonomous/demo-calc "
            "(one commit per phase, then the build-history entry):"
        )
        console.print(log.rstrip(), markup=False)
        status = _git(project, "status", "--porcelain")
        console.print(
            f"user checkout untouched: {'yes' if not status.strip() else 'NO: ' + status}"
        )
        elapsed = time.monotonic() - started
        ok = outcome.state == RunState.DONE_SUCCESS
        console.print(
            f"\n{'[green]' if ok else '[red]'}{outcome.state}[/] in {elapsed:.1f} s; "
            f"cost as if the routed models had been called: ${cost:.4f}"
        )
        return 0 if ok else 1
    finally:
        if keep:
            console.print(f"kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
