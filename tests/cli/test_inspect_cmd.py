"""`autopack status`, `diff`, `report`, `merge` and the live view, on real scripted runs."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from autopack.cli.live import live_run_view
from autopack.cli.main import build_app
from autopack.settings import load_settings
from autopack.store import Store
from support.gitrepo import git
from support.scripted_run import RUN_ID, make_project, run_plan, write_script


@pytest.fixture
def project(tmp_path: Path, git_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = make_project(tmp_path / "project")
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(repo))
    monkeypatch.setenv("AUTOPACK_SKIP_CI", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return repo


@pytest.fixture
def cli():
    runner, app = CliRunner(), build_app()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    return write_script(tmp_path / "script.yaml", auditor_rejects=True)


@pytest.fixture
def finished(project: Path, answers: Path) -> Path:
    outcome = run_plan(project, answers, auto_approve=True)
    assert outcome.state == "DONE_SUCCESS", outcome.reason
    return project


@pytest.fixture
def waiting(project: Path, answers: Path) -> Path:
    outcome = run_plan(project, answers, auto_approve=False)
    assert outcome.state == "GATE", outcome.reason
    return project


def test_status_of_a_finished_run(finished: Path, cli) -> None:
    result = cli("status", RUN_ID)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("DONE_SUCCESS", "every phase committed", "core COMPLETE", "api COMPLETE"):
        assert text in out, text
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith(("core", "api"))}
    assert set(lines) == {"mul-default", "readme", "div"}
    assert "3/3" in lines["mul-default"] and "claude-" in lines["mul-default"]
    assert "$0.0" in lines["div"] and "\x1b[" not in out
    watched = cli("status", RUN_ID, "--watch", "--interval", "0.1")
    assert watched.exit_code == 0 and watched.stdout.count("DONE_SUCCESS") == 1


def test_status_of_a_waiting_run_exits_3_and_watch_stops_at_the_gate(waiting: Path, cli) -> None:
    result = cli("status", RUN_ID)
    assert result.exit_code == 3, result.output
    assert "GATE" in result.stdout and "PENDING_APPROVAL" in result.stdout
    assert "waiting for approval: div" in result.stdout
    assert cli("status", RUN_ID, "--watch", "--interval", "0.1").exit_code == 3
    missing = cli("status", "ghost")
    assert missing.exit_code == 1 and "no run 'ghost'" in missing.stderr


def test_approve_shows_progress_as_plain_lines_off_a_terminal(
    waiting: Path, answers: Path, cli
) -> None:
    result = cli("approve", RUN_ID, "--by", "alice", "--scripted", str(answers))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "  [div] attempt 2 with " in out  # markup off: "[div]" printed as is
    assert "  [div] audit: approved" in out and "build history entry committed" in out
    assert "progress" not in out and "\x1b[" not in out  # no live display off a terminal
    assert f"run {RUN_ID} succeeded" in out


def test_live_view_on_a_terminal_is_thread_safe_and_shows_table_and_log(finished: Path) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=160, color_system=None)
    store = Store.open(load_settings(workspace=finished))
    try:
        with live_run_view(console, store, RUN_ID, lines=5, refresh=0.05) as notify:

            def report(n: int) -> None:
                for i in range(20):
                    notify(f"[worker-{n}] message {i}")

            workers = [threading.Thread(target=report, args=(n,)) for n in range(4)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
    finally:
        store.close()
    out = buffer.getvalue()
    assert "DONE_SUCCESS" in out and "mul-default" in out and "progress" in out
    final = out[out.rindex("DONE_SUCCESS") :]  # the last frame: table, then the log panel
    panel = final[final.index("progress") : final.index("╰")]
    shown = [line for line in panel.splitlines() if "] message " in line]
    assert len(shown) == 5 and "message 19" in panel  # the last 5 messages, one per line
    assert "[worker-" in panel  # markup is not interpreted


def test_diff_of_one_phase_and_of_the_whole_run(finished: Path, cli) -> None:
    readme = cli("diff", RUN_ID, "readme")
    assert readme.exit_code == 0, readme.output
    assert "+++ b/README.md" in readme.stdout and "calc.py" not in readme.stdout
    assert readme.stdout.startswith("diff --git a/README.md b/README.md\n")
    whole = cli("diff", RUN_ID)
    for text in ("+++ b/README.md", "+++ b/calc.py", "+def div(a, b):", "+def mul(a, b=1):"):
        assert text in whole.stdout, text
    stat = cli("diff", RUN_ID, "--stat")
    assert "calc.py" in stat.stdout and "files changed" in stat.stdout
    assert "+def" not in stat.stdout
    assert "1 file changed" in cli("diff", RUN_ID, "mul-default", "--stat").stdout
    unknown = cli("diff", RUN_ID, "nope")
    assert unknown.exit_code == 2 and "no phase 'nope'" in unknown.stderr


def test_report_has_phases_totals_failures_and_how_to_merge(
    finished: Path, cli, tmp_path: Path
) -> None:
    result = cli("report", RUN_ID)
    assert result.exit_code == 0, result.output
    text = result.stdout
    store = Store.open(load_settings(workspace=finished))
    try:
        run = store.get_run(RUN_ID)
    finally:
        store.close()
    assert text.startswith(f"# Autopack run `{RUN_ID}`\n")
    assert "DONE_SUCCESS" in text and "Improve the calc module" in text
    assert f"| {run.tokens_used:,} (" in text
    for phase in ("mul-default", "readme", "div"):
        assert f"| `{phase}` " in text, phase
    head = git(finished, "rev-parse", f"autonomous/{RUN_ID}").strip()
    base = git(finished, "rev-parse", f"refs/autopack/{RUN_ID}/base").strip()
    mul = git(finished, "rev-parse", f"refs/autopack/{RUN_ID}/mul-default/after").strip()
    assert f"`{mul[:10]}`" in text and head[:12] in text
    assert "**patch_apply_error**" in text and "**auditor_reject**" in text
    assert "**auditor_reject** — The Auditor rejected the change. needs a test" in text
    assert "\n  - auditor issue: [major] correctness: no test\n" in text
    issues = text.split("## Issues\n", 1)[1].split("\n## ", 1)[0]
    assert (
        "| `auditor:correctness:no-test` no test | major | open | auditor | mul-default | 1 |"
        in (issues)
    )
    assert "NOT_CLEAN" not in issues
    assert "## How to merge" in text
    assert f"git log -p {base[:12]}..autonomous/{RUN_ID}" in text
    assert f"autopack merge {RUN_ID} --into main" in text
    assert "demo mode" in text
    saved = finished / ".autopack" / "runs" / RUN_ID / "report.md"
    assert saved.read_text() == text
    out = tmp_path / "report.md"
    written = cli("report", RUN_ID, "--output", str(out))
    assert written.exit_code == 0 and out.read_text() == text
    assert str(out) in written.stdout


def test_report_of_a_waiting_run_lists_the_pending_approval(waiting: Path, cli) -> None:
    text = cli("report", RUN_ID).stdout
    assert "GATE" in text and "**pending**" in text and f"autopack approve {RUN_ID} div" in text
    assert "not `DONE_SUCCESS`" in text


def test_merge_fast_forwards_a_finished_run_into_the_checked_out_branch(
    finished: Path, cli
) -> None:
    assert cli("merge", RUN_ID, "--ff-only", "--no-ff").exit_code == 2
    result = cli("merge", RUN_ID, "--ff-only")
    assert result.exit_code == 0, result.output
    assert "fast-forwarded main" in result.stdout
    assert git(finished, "rev-parse", "main") == git(finished, "rev-parse", f"autonomous/{RUN_ID}")
    assert "def mul(a, b=1):" in (finished / "calc.py").read_text()
    assert git(finished, "status", "--porcelain", "--untracked-files=no") == ""
    assert "already contains" in cli("merge", RUN_ID).stdout


def test_merge_refuses_a_run_that_did_not_succeed(waiting: Path, cli) -> None:
    before = git(waiting, "rev-parse", "main")
    result = cli("merge", RUN_ID)
    assert result.exit_code == 1 and "run_not_successful" in result.stderr
    assert git(waiting, "rev-parse", "main") == before


def test_merge_conflict_is_reported_and_the_tree_left_alone(finished: Path, cli) -> None:
    calc = finished / "calc.py"
    calc.write_text(calc.read_text().replace("def mul(a, b):", "def mul(a, b, c=1):"))
    git(finished, "commit", "-q", "-am", "user edits mul too")
    before = calc.read_text()
    result = cli("merge", RUN_ID)
    assert result.exit_code == 1 and "conflict" in result.stderr and "calc.py" in result.stderr
    assert calc.read_text() == before
    assert git(finished, "status", "--porcelain", "--untracked-files=no") == ""
