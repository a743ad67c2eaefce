"""The consolidated report of a batch of parallel runs: per run and totals, markdown and JSON.

:func:`build_batch_report` reads each run's totals from the store
(:func:`autopack.store.aggregates.run_totals`: state, phases, tokens, cost, duration) and
joins what the batch saw: an execution error, and where the merge queue left the run.
:meth:`BatchReport.save` writes ``<data_dir>/batches/<batch_id>/report.md`` and
``report.json``; the JSON is the model dumped as is (costs as decimal strings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from autopack.policy.states import RunState
from autopack.store import Store
from autopack.store.aggregates import run_totals
from autopack.workspace.merge_queue import Landing

__all__ = ["BatchReport", "BatchRunLine", "BatchTotals", "batch_dir", "build_batch_report"]

NOT_MERGED = "not_merged"
"""Landing status of a succeeded run when the batch ran with ``--no-merge``."""
NOT_LANDED = "not_landed"
"""Landing status of a run that did not succeed: the queue never saw it."""
_LANDED = ("landed", "up_to_date")


def batch_dir(data_dir: Path, batch_id: str) -> Path:
    """``<data_dir>/batches/<batch_id>``."""
    return Path(data_dir) / "batches" / batch_id


class BatchRunLine(BaseModel):
    """One run of the batch."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    state: str
    reason: str = Field(description="Why the run ended so (failure reason, or error).")
    phases_complete: int
    phase_count: int
    tokens_used: int
    cost_usd: Decimal
    duration_seconds: float
    landing: str = Field(description="landed, up_to_date, conflict, checks_failed, …")
    landing_reason: str
    conflicts: list[str] = Field(default_factory=list)
    commits: list[str] = Field(default_factory=list, description="Commits the target gained.")

    @property
    def ok(self) -> bool:
        """Succeeded, and landed (or merging was not asked for)."""
        return self.state == RunState.DONE_SUCCESS and self.landing in (*_LANDED, NOT_MERGED)


class BatchTotals(BaseModel):
    """The batch as a whole."""

    model_config = ConfigDict(frozen=True)

    runs: int
    succeeded: int
    landed: int
    not_landed: int
    phases_complete: int
    phase_count: int
    tokens_used: int
    cost_usd: Decimal
    run_seconds: float = Field(description="Sum of the runs' durations.")
    wall_seconds: float = Field(description="From the batch's start to its end.")


class BatchReport(BaseModel):
    """What ``autopack parallel`` (or ``POST /runs/parallel``) did."""

    model_config = ConfigDict(frozen=True)

    batch_id: str
    target: str | None
    merge: bool
    max_concurrent: int
    started_at: datetime
    finished_at: datetime
    runs: list[BatchRunLine]
    totals: BatchTotals
    removed_worktrees: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every run succeeded and landed (or merging was not asked for)."""
        return all(line.ok for line in self.runs)

    def markdown(self) -> str:
        """The report as one markdown page."""
        into = f"`{self.target}`" if self.target else "(no merge)"
        out = [
            f"# Autopack batch `{self.batch_id}`",
            "",
            f"- **Target:** {into}" + ("" if self.merge else " — merging disabled (--no-merge)"),
            f"- **Runs:** {len(self.runs)}, at most {self.max_concurrent} at once",
            f"- **Started:** {self.started_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"**finished:** {self.finished_at:%Y-%m-%d %H:%M:%S} UTC",
            "",
            "## Runs",
            "",
            "| run | state | phases | tokens | cost | duration | landing | reason |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in self.runs:
            reason = r.landing_reason if r.state == RunState.DONE_SUCCESS else r.reason
            out.append(
                f"| `{r.run_id}` | {r.state} | {r.phases_complete}/{r.phase_count} | "
                f"{r.tokens_used:,} | {money(r.cost_usd)} | {seconds(r.duration_seconds)} | "
                f"{r.landing} | {_cell(reason)} |"
            )
        t = self.totals
        out += [
            "",
            "## Totals",
            "",
            "| runs | succeeded | landed | not landed | phases | tokens | cost | run time | "
            "wall time |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {t.runs} | {t.succeeded} | {t.landed} | {t.not_landed} | "
            f"{t.phases_complete}/{t.phase_count} | {t.tokens_used:,} | {money(t.cost_usd)} | "
            f"{seconds(t.run_seconds)} | {seconds(t.wall_seconds)} |",
            "",
        ]
        conflicted = [r for r in self.runs if r.conflicts]
        if conflicted:
            out += ["## Conflicts", ""]
            out += [
                f"- `{r.run_id}`: {', '.join(f'`{p}`' for p in r.conflicts)}" for r in conflicted
            ]
            out.append("")
        if self.removed_worktrees:
            out += [f"Worktrees removed: {', '.join(self.removed_worktrees)}.", ""]
        return "\n".join(out)

    def save(self, data_dir: Path) -> tuple[Path, Path]:
        """Write ``report.md`` and ``report.json`` under the batch's directory."""
        folder = batch_dir(data_dir, self.batch_id)
        folder.mkdir(parents=True, exist_ok=True)
        md, js = folder / "report.md", folder / "report.json"
        md.write_text(self.markdown(), encoding="utf-8")
        js.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return md, js


def money(amount: Decimal) -> str:
    """``$0.0123``."""
    return f"${amount.quantize(Decimal('0.0001'))}"


def seconds(value: float) -> str:
    """``12.3 s`` or ``4 min 05 s``."""
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(value), 60)
    return f"{minutes} min {secs:02d} s"


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") or "-"


def build_batch_report(
    store: Store,
    run_ids: Sequence[str],
    *,
    batch_id: str,
    errors: Mapping[str, str],
    landings: Mapping[str, Landing],
    merge: bool,
    target: str | None,
    max_concurrent: int,
    started_at: datetime,
    finished_at: datetime,
    removed: Sequence[str] = (),
) -> BatchReport:
    """Join the store's totals of each run with what the batch saw."""
    lines: list[BatchRunLine] = []
    for run_id in run_ids:
        t = run_totals(store, run_id)
        landing = landings.get(run_id)
        if landing is not None:
            status, why = landing.status.value, landing.reason
        elif t.state == RunState.DONE_SUCCESS and not merge:
            status, why = NOT_MERGED, "merging disabled"
        else:
            status, why = NOT_LANDED, f"the run ended {t.state}, not DONE_SUCCESS"
        lines.append(
            BatchRunLine(
                run_id=run_id,
                state=t.state,
                reason=errors.get(run_id) or t.failure_reason or "",
                phases_complete=t.phases_complete,
                phase_count=t.phase_count,
                tokens_used=t.tokens_used,
                cost_usd=t.cost_usd,
                duration_seconds=t.duration_seconds,
                landing=status,
                landing_reason=why,
                conflicts=list(landing.conflicts) if landing else [],
                commits=list(landing.commits) if landing else [],
            )
        )
    totals = BatchTotals(
        runs=len(lines),
        succeeded=sum(line.state == RunState.DONE_SUCCESS for line in lines),
        landed=sum(line.landing in _LANDED for line in lines),
        not_landed=sum(line.landing not in (*_LANDED, NOT_MERGED) for line in lines),
        phases_complete=sum(line.phases_complete for line in lines),
        phase_count=sum(line.phase_count for line in lines),
        tokens_used=sum(line.tokens_used for line in lines),
        cost_usd=sum((line.cost_usd for line in lines), Decimal(0)),
        run_seconds=sum(line.duration_seconds for line in lines),
        wall_seconds=max(0.0, (finished_at - started_at).total_seconds()),
    )
    return BatchReport(
        batch_id=batch_id,
        target=target,
        merge=merge,
        max_concurrent=max_concurrent,
        started_at=started_at,
        finished_at=finished_at,
        runs=lines,
        totals=totals,
        removed_worktrees=list(removed),
    )
