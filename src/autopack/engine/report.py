"""The run report: one markdown page a person reads before merging a run.

:func:`build_report` only reads (the store and the run's branch, found by
:func:`autopack.workspace.locate_run.find_run_branch`: the user's repository, or for a run
on a git remote the fetched mirror); the CLI prints it and writes it to
``<data_dir>/runs/<run_id>/report.md``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from autopack.policy.states import RunState
from autopack.settings import Settings
from autopack.store import Store
from autopack.store.costs import attempt_costs
from autopack.store.issue_views import RunIssueView
from autopack.store.models import utcnow
from autopack.store.views import ApprovalView, AttemptView, EventView, LlmCallView, RunDetail
from autopack.workspace import Git, WorkspaceError
from autopack.workspace.locate_run import RemoteRunBranch, find_run_branch, run_remote
from autopack.workspace.review import RunBranch

__all__ = ["build_report"]

_NOT_FAILED = ("success", "awaiting_approval", None)


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") or "-"


def _money(amount: Decimal) -> str:
    return f"${amount.quantize(Decimal('0.0001'))}"


def _duration(run: RunDetail) -> str:
    start = run.started_at or run.created_at
    end = run.finished_at or utcnow()
    seconds = max(0.0, (end - start).total_seconds())
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def _branch(store: Store, settings: Settings, run_id: str) -> tuple[RunBranch | None, str, str]:
    """The run's branch (``None`` when there is none or it cannot be read), where it lives
    (a path or a credential-free URL) and why it cannot be read (empty when it can)."""
    spec = store.run_spec(run_id)
    where = str(settings.workspace)
    try:
        remote = run_remote(settings, spec)
        where = remote.url if remote is not None else where
        return find_run_branch(settings, spec, run_id), where, ""
    except WorkspaceError as exc:
        return None, where, "" if exc.code == "run_not_found" else exc.message


def _current_branch(repo: Path) -> str | None:
    try:
        proc = Git(repo).run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    except WorkspaceError:
        return None
    return (proc.stdout.strip() or None) if proc.returncode == 0 else None


def build_report(store: Store, run_id: str, settings: Settings) -> str:
    """The markdown report of ``run_id`` (the run must exist in ``store``)."""
    data_dir = settings.data_dir
    run = store.get_run(run_id)
    calls = store.llm_calls(run_id)
    by_phase = store.run_attempts(run_id)  # one query, however many phases
    attempts = {p.phase_id: by_phase.get(p.phase_id, []) for p in run.phases}
    costs = attempt_costs(store, run_id)
    approvals = store.approvals(status=None, run_id=run_id)
    branch, where, unreadable = _branch(store, settings, run_id)
    shas = branch.phase_shas() if branch else {}
    remote = isinstance(branch, RemoteRunBranch)
    out: list[str] = [f"# Autopack run `{run_id}`", ""]
    out += _summary(run, branch, where, unreadable)
    out += _totals(run, calls, attempts, branch)
    out += _phases(run, calls, attempts, shas)
    out += _failures(run, attempts, costs)
    out += _issues(run, store.run_issue_index(run_id), store.events(run_id, entity="tier"))
    out += _approvals(run_id, approvals, data_dir)
    out += _merge(run, branch, None if remote else _current_branch(settings.workspace))
    return "\n".join(out).rstrip() + "\n"


def _summary(run: RunDetail, branch: RunBranch | None, where: str, unreadable: str) -> list[str]:
    reason = run.failure_reason or ("every phase committed" if run.state == "DONE_SUCCESS" else "")
    lines = [f"- **State:** {run.state}" + (f" — {_cell(reason)}" if reason else "")]
    lines.append(f"- **Goal:** {_cell(run.goal) if run.goal.strip() else '(none given)'}")
    started = run.started_at or run.created_at
    finished = f"{run.finished_at:%Y-%m-%d %H:%M:%S} UTC" if run.finished_at else "not finished"
    lines.append(
        f"- **Duration:** {_duration(run)} (started {started:%Y-%m-%d %H:%M:%S} UTC, "
        f"finished: {finished})"
    )
    lines.append(f"- **Repository:** `{where}`")
    if unreadable:
        lines.append(f"- **Branch:** cannot be read: {_cell(unreadable)}")
    elif branch:
        lines.append(
            f"- **Branch:** `{branch.branch}` at `{branch.head[:12]}` (base `{branch.base[:12]}`)"
        )
    else:
        lines.append("- **Branch:** none yet (the run has not started executing)")
    return [*lines, ""]


def _totals(
    run: RunDetail,
    calls: list[LlmCallView],
    attempts: dict[str, list[AttemptView]],
    branch: RunBranch | None,
) -> list[str]:
    cost = sum((c.cost_usd for c in calls), Decimal(0))
    n_attempts = sum(len(a) for a in attempts.values())
    failed = sum(1 for tries in attempts.values() for a in tries if a.outcome not in _NOT_FAILED)
    pct = f" ({run.tokens_used * 100 // run.token_cap}%)" if run.token_cap else ""
    commits = len(branch.phase_commits()) if branch else 0
    done = sum(1 for p in run.phases if p.state == "COMPLETE")
    return [
        "## Totals",
        "",
        "| tokens used | token cap | cost | attempts | failed attempts | model calls | "
        "phases complete | commits |",
        "|---|---|---|---|---|---|---|---|",
        f"| {run.tokens_used:,}{pct} | {run.token_cap:,} | {_money(cost)} | {n_attempts} | "
        f"{failed} | {len(calls)} | {done}/{len(run.phases)} | {commits} |",
        "",
    ]


def _phases(
    run: RunDetail,
    calls: list[LlmCallView],
    attempts: dict[str, list[AttemptView]],
    shas: dict[str, str],
) -> list[str]:
    lines = [
        "## Phases",
        "",
        "| tier | phase | outcome | attempts | models | tokens | cost | commit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in run.phases:
        mine = [c for c in calls if c.phase_id == p.phase_id]
        models = list(dict.fromkeys(c.model for c in mine))
        models += [m for m in dict.fromkeys(a.builder_model for a in attempts[p.phase_id]) if m]
        cost = sum((c.cost_usd for c in mine), Decimal(0))
        sha = shas.get(p.phase_id)
        lines.append(
            f"| {_cell(p.tier_id)} | `{p.phase_id}` {_cell(p.name)} | {p.state} | "
            f"{len(attempts[p.phase_id])} | {_cell(', '.join(dict.fromkeys(models)))} | "
            f"{p.tokens_used:,} | {_money(cost)} | {f'`{sha[:10]}`' if sha else '-'} |"
        )
    return [*lines, ""]


def _failures(
    run: RunDetail, attempts: dict[str, list[AttemptView]], costs: dict[int, Decimal]
) -> list[str]:
    lines = ["## Failures", ""]
    any_failure = False
    for p in run.phases:
        failed = [a for a in attempts[p.phase_id] if a.outcome not in _NOT_FAILED]
        if not failed and p.state != "FAILED":
            continue
        any_failure = True
        lines += [f"### `{p.phase_id}` ({p.state})", ""]
        for a in failed:
            model = f" with `{a.builder_model}`" if a.builder_model else ""
            first = _first_line(a.error_message)
            auditor = a.outcome == "auditor_reject" or a.error_class == "auditor_reject"
            if auditor:  # "The Auditor rejected the change." and its summary, then issues
                head = [ln for ln in (a.error_message or "").splitlines() if ln.strip()]
                first = " ".join(ln.strip() for ln in head if not ln.startswith("- "))
            lines.append(
                f"- attempt {a.attempt_index}{model}: **{a.error_class or a.outcome}**"
                + (f" — {_cell(first)}" if first else "")
                + f" ({a.tokens_in + a.tokens_out:,} tokens, {_money(costs.get(a.id, Decimal(0)))})"
            )
            if auditor:
                issues = [
                    line.strip()[2:]
                    for line in (a.error_message or "").splitlines()
                    if line.strip().startswith("- ")
                ]
                lines += [f"  - auditor issue: {_cell(i)}" for i in issues]
        lines.append("")
    if not any_failure:
        lines += ["No attempt failed.", ""]
    return lines


_ISSUES_SHOWN = 20


def _issues(run: RunDetail, index: list[RunIssueView], tier_events: list[EventView]) -> list[str]:
    """The run's issue index (level 2 of issue tracking) and why a tier is not clean."""
    lines = ["## Issues", ""]
    for tier in run.tiers:
        if tier.state == "NOT_CLEAN":
            why = next(
                (e.reason for e in reversed(tier_events) if e.entity_key.endswith(tier.tier_id)),
                "",
            )
            lines.append(f"- tier `{tier.tier_id}` is **NOT_CLEAN**: {_cell(why)}")
    if not index:
        return [*lines, *([""] if len(lines) > 2 else []), "No issue was recorded.", ""]
    if len(lines) > 2:
        lines.append("")
    order = {"needs_cleanup": 0, "open": 1, "resolved": 2}
    rows = sorted(index, key=lambda i: (order.get(i.backlog_status, 3), i.severity != "major"))
    lines += [
        "| issue | severity | status | source | phases | occurrences |",
        "|---|---|---|---|---|---|",
    ]
    for i in rows[:_ISSUES_SHOWN]:
        title = "" if i.title in i.issue_key else f" {_cell(i.title)}"
        lines.append(
            f"| `{_cell(i.issue_key)}`{title} | {i.severity} | {i.backlog_status} "
            f"| {', '.join(i.sources)} | {', '.join(i.phases)} | {i.occurrences} |"
        )
    if len(rows) > _ISSUES_SHOWN:
        lines.append(
            f"\n… and {len(rows) - _ISSUES_SHOWN} more: `autopack issues index {run.run_id}`"
        )
    return [*lines, ""]


def _approvals(run_id: str, approvals: list[ApprovalView], data_dir: Path) -> list[str]:
    if not approvals:
        return []
    lines = ["## Approvals", ""]
    for a in approvals:
        target = f"`{a.phase_id}`" if a.phase_id else "the run"
        if a.status == "pending":
            approve = f"autopack approve {run_id}" + (f" {a.phase_id}" if a.phase_id else "")
            diff = data_dir / "runs" / run_id / "phases" / str(a.phase_id) / "pending-approval.diff"
            lines.append(
                f"- **pending** since {a.requested_at:%Y-%m-%d %H:%M:%S} UTC for {target}: "
                f"{_cell(_first_line(a.reason))}. Review `{diff}`, then `{approve}` or "
                f"`autopack reject {run_id} --reason ...`."
            )
        else:
            auto = " (automatically, demo mode)" if a.decided_by == "demo-auto-approve" else ""
            lines.append(f"- {a.status} for {target} by {a.decided_by or '?'}{auto}")
    return [*lines, ""]


def _merge(run: RunDetail, branch: RunBranch | None, current: str | None) -> list[str]:
    lines = ["## How to merge", ""]
    if branch is None:
        return [*lines, "Nothing to merge yet: the run has no integration branch.", ""]
    if run.state != RunState.DONE_SUCCESS:
        lines += [
            f"The run ended `{run.state}`, not `DONE_SUCCESS`: `autopack merge` refuses it. "
            "The commits made so far can still be reviewed:",
            "",
        ]
    else:
        lines += ["Review every commit, then merge:", ""]
    if isinstance(branch, RemoteRunBranch):
        return lines + _merge_remote(branch)
    into = current or "<branch>"
    lines += [
        "```sh",
        f"git log -p {branch.base[:12]}..{branch.branch}",
        f"autopack diff {run.run_id} --stat",
        f"autopack merge {run.run_id} --into {into}",
        "```",
        "",
        "`autopack merge` fast-forwards when it can, otherwise makes a merge commit; it "
        "refuses when your working tree has uncommitted changes to tracked files, and aborts "
        "on a conflict leaving your tree as it was.",
        "",
    ]
    return lines


def _merge_remote(branch: RemoteRunBranch) -> list[str]:
    return [
        f"The branch lives on `{branch.url}`; `autopack merge` refuses a run on a remote. "
        "In a clone of that remote, on the branch to merge into:",
        "",
        "```sh",
        branch.fetch_hint,
        f"git log -p {branch.base[:12]}..FETCH_HEAD",
        "git merge FETCH_HEAD",
        "git push",
        "```",
        "",
    ]
