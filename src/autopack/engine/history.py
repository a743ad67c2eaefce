"""``docs/BUILD_HISTORY.md``: a dated entry per successful run, committed on its branch.

The entry is the run's last commit on ``autonomous/<run_id>`` (so it reaches the user's
branch with the merge, and is reviewable like every phase). It is written through the
workspace's attempt journal under the pseudo-phase :data:`HISTORY_PHASE`, which makes it
idempotent across crashes: once its ``after`` ref exists it is never written again.
"""

from __future__ import annotations

from decimal import Decimal

from autopack.store import Store
from autopack.store.models import utcnow
from autopack.workspace import IntegrationWorkspace

HISTORY_PHASE = "autopack-build-history"
HISTORY_FILE = "docs/BUILD_HISTORY.md"
_HEADER = (
    "# Build history\n\n"
    "One entry per successful Autopack run, newest last. Written by Autopack on the run's "
    "integration branch.\n"
)


def history_entry(store: Store, run_id: str, commits: dict[str, str]) -> str:
    """The markdown entry for a run: date, goal, one line per phase, totals."""
    run = store.get_run(run_id)
    cost = store.total_cost(run_id)
    lines = [
        f"## {utcnow():%Y-%m-%d} — run `{run_id}`",
        "",
        f"Goal: {run.goal.strip() or '(none given)'}",
        "",
        "| phase | name | state | attempts | commit |",
        "|---|---|---|---|---|",
    ]
    for p in run.phases:
        name = p.name.replace("|", "\\|")
        commit = commits.get(p.phase_id, "")[:12] or "-"
        lines.append(f"| `{p.phase_id}` | {name} | {p.state} | {p.attempts_used} | {commit} |")
    lines += [
        "",
        f"Tokens: {run.tokens_used:,} of {run.token_cap:,}; "
        f"cost: ${cost.quantize(Decimal('0.0001'))}.",
        "",
    ]
    return "\n".join(lines)


def append_history(store: Store, ws: IntegrationWorkspace, run_id: str) -> str | None:
    """Commit the run's entry at the end of ``docs/BUILD_HISTORY.md``; once only.

    Returns the new commit, or ``None`` when the entry was already committed.
    """
    if ws.git.try_rev_parse(f"refs/autopack/{run_id}/{HISTORY_PHASE}/after") is not None:
        return None
    commits = {c["phase_id"]: c["sha"] for c in ws.phase_commits() if c["phase_id"]}
    ws.begin_attempt(HISTORY_PHASE, 1)
    path = ws.path / HISTORY_FILE
    existing = path.read_text(encoding="utf-8") if path.is_file() else _HEADER
    if not existing.endswith("\n"):
        existing += "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(existing + "\n" + history_entry(store, run_id, commits), encoding="utf-8")
    return ws.commit_attempt(
        HISTORY_PHASE,
        1,
        message=f"docs: build history entry for run {run_id}",
        model=None,
        tokens=0,
    )
