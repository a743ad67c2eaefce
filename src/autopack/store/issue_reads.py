"""Issue tracking reads: phase issues, the run index, the backlog and its summary.

Each works inside the caller's transaction and takes a fixed number of SQL statements,
whatever the number of runs, phases and issues (the aging aggregate is
:func:`autopack.store.issues.backlog_select`).
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from autopack.issues.aging import worse
from autopack.store.errors import NotFoundError
from autopack.store.issue_views import (
    BacklogIssueDetail,
    BacklogIssueView,
    IssueBacklogSummary,
    PhaseIssueView,
    RunIssueView,
)
from autopack.store.issues import (
    BACKLOG_STATUSES,
    UNRESOLVED,
    ages_subquery,
    backlog_select,
    backlog_view,
    phase_view,
    require_run,
    since_open,
)
from autopack.store.models import BacklogIssue, Phase, PhaseIssue

__all__ = [
    "backlog_issue",
    "issue_backlog",
    "issue_backlog_summary",
    "phase_issues",
    "run_issue_counts",
    "run_issue_index",
    "tier_cleanup_keys",
    "unresolved_places",
]


def phase_issues(
    session: Session, run_id: str, phase_id: str | None = None
) -> list[PhaseIssueView]:
    """The issues a run's phases recorded (one phase's when ``phase_id`` is given)."""
    require_run(session, run_id)
    stmt = select(PhaseIssue).where(PhaseIssue.run_id == run_id)
    if phase_id is not None:
        exists = session.scalar(
            select(Phase.id).where(Phase.run_id == run_id, Phase.phase_id == phase_id)
        )
        if exists is None:
            raise NotFoundError("phase", phase_id, run_id)
        stmt = stmt.where(PhaseIssue.phase_id == phase_id)
    rows = session.scalars(stmt.order_by(PhaseIssue.first_seen, PhaseIssue.id))
    return [phase_view(r) for r in rows]


def run_issue_index(session: Session, run_id: str) -> list[RunIssueView]:
    """A run's issues de-duplicated by key: majors first, then in order of first sight."""
    require_run(session, run_id)
    stmt = (
        select(PhaseIssue, BacklogIssue.status)
        .outerjoin(BacklogIssue, BacklogIssue.issue_key == PhaseIssue.issue_key)
        .where(PhaseIssue.run_id == run_id)
        .order_by(PhaseIssue.first_seen, PhaseIssue.id)
    )
    groups: dict[str, list[PhaseIssue]] = {}
    status: dict[str, str] = {}
    for row, backlog_status in session.execute(stmt):
        groups.setdefault(row.issue_key, []).append(row)
        status[row.issue_key] = backlog_status or "open"
    out = [_index_entry(key, rows, status[key]) for key, rows in groups.items()]
    return sorted(out, key=lambda v: (v.severity != "major", v.first_seen, v.issue_key))


def _index_entry(key: str, rows: list[PhaseIssue], status: str) -> RunIssueView:
    severity = "minor"
    for r in rows:
        severity = worse(severity, r.severity)
    latest = max(rows, key=lambda r: r.last_seen)
    return RunIssueView(
        issue_key=key,
        severity=severity,
        sources=sorted({r.source for r in rows}),
        category=rows[0].category,
        title=latest.title,
        file=next((r.file for r in rows if r.file), None),
        phases=list(dict.fromkeys(r.phase_id for r in rows)),
        tiers=list(dict.fromkeys(r.tier_id for r in rows)),
        occurrences=sum(r.occurrences for r in rows),
        first_seen=min(r.first_seen for r in rows),
        last_seen=latest.last_seen,
        backlog_status=status,
    )


def _status_filter(status: str | None) -> tuple[str, ...] | None:
    if status is None:
        return UNRESOLVED
    if status == "all":
        return None
    if status not in BACKLOG_STATUSES:
        raise ValueError(f"status must be one of {', '.join(BACKLOG_STATUSES)} or all")
    return (status,)


def issue_backlog(
    session: Session, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[BacklogIssueView]:
    """Backlog issues, most aged first; ``status`` None = open and needs_cleanup."""
    wanted = _status_filter(status)
    stmt = backlog_select()
    if wanted is not None:
        stmt = stmt.where(BacklogIssue.status.in_(wanted))
    runs_col, tiers_col = stmt.selected_columns[1], stmt.selected_columns[2]
    stmt = stmt.order_by(
        runs_col.desc(), tiers_col.desc(), BacklogIssue.opened_at, BacklogIssue.issue_key
    )
    stmt = stmt.limit(max(0, limit)).offset(max(0, offset))
    return [backlog_view(*row) for row in session.execute(stmt)]


def backlog_issue(session: Session, key: str) -> BacklogIssueDetail:
    """One backlog issue with every occurrence, oldest first (``NotFoundError`` if none)."""
    found = session.execute(backlog_select([key]).where(BacklogIssue.issue_key == key)).first()
    if found is None:
        raise NotFoundError("issue", key)
    rows = session.scalars(
        select(PhaseIssue)
        .where(PhaseIssue.issue_key == key)
        .order_by(PhaseIssue.first_seen, PhaseIssue.id)
    )
    return BacklogIssueDetail(backlog_view(*found), [phase_view(r) for r in rows])


def issue_backlog_summary(session: Session) -> IssueBacklogSummary:
    """Counts over the whole backlog, in two statements."""
    by_status: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    by_source: dict[str, int] = {}
    by_category: dict[str, int] = {}
    open_by_severity: dict[str, int] = {}
    grouped = select(
        BacklogIssue.status,
        BacklogIssue.severity,
        BacklogIssue.source,
        BacklogIssue.category,
        func.count(),
    ).group_by(
        BacklogIssue.status, BacklogIssue.severity, BacklogIssue.source, BacklogIssue.category
    )
    total = 0
    for st, severity, source, category, n in session.execute(grouped):
        total += n
        for counts, name in (
            (by_status, st),
            (by_severity, severity),
            (by_source, source),
            (by_category, category),
        ):
            counts[name] = counts.get(name, 0) + n
        if st in UNRESOLVED:
            open_by_severity[severity] = open_by_severity.get(severity, 0) + n
    ages = ages_subquery()
    oldest, occurrences = session.execute(
        select(
            func.coalesce(
                func.max(case((BacklogIssue.status.in_(UNRESOLVED), ages.c.runs), else_=0)), 0
            ),
            func.coalesce(func.sum(ages.c.occurrences), 0),
        )
        .select_from(BacklogIssue)
        .outerjoin(ages, ages.c.issue_key == BacklogIssue.issue_key)
    ).one()
    return IssueBacklogSummary(
        total=total,
        by_status=by_status,
        by_severity=by_severity,
        by_source=by_source,
        by_category=by_category,
        needs_cleanup=by_status.get("needs_cleanup", 0),
        oldest_open_age_in_runs=int(oldest or 0),
        occurrences=int(occurrences or 0),
        open_by_severity=open_by_severity,
    )


def run_issue_counts(session: Session, run_id: str) -> dict[str, int]:
    """Distinct issue keys a run recorded, by their worst severity in the run."""
    worst = func.max(case((PhaseIssue.severity == "major", 1), else_=0))
    per_key = (
        select(PhaseIssue.issue_key, worst.label("major"))
        .where(PhaseIssue.run_id == run_id)
        .group_by(PhaseIssue.issue_key)
        .subquery()
    )
    majors, total = session.execute(
        select(func.coalesce(func.sum(per_key.c.major), 0), func.count()).select_from(per_key)
    ).one()
    return {"major": int(majors), "minor": int(total) - int(majors)}


def tier_cleanup_keys(session: Session, run_id: str, tier_id: str) -> list[str]:
    """Keys recorded in this run's tier that need cleanup now (the tier is not clean)."""
    stmt = (
        select(PhaseIssue.issue_key)
        .distinct()
        .join(BacklogIssue, BacklogIssue.issue_key == PhaseIssue.issue_key)
        .where(
            PhaseIssue.run_id == run_id,
            PhaseIssue.tier_id == tier_id,
            BacklogIssue.status == "needs_cleanup",
        )
    )
    return sorted(session.scalars(stmt))


def unresolved_places(session: Session) -> dict[str, tuple[str | None, frozenset[str]]]:
    """Every unresolved issue: its file and the phase ids that recorded it since opened.

    What :mod:`autopack.issues.resolution` needs to decide which issues a run resolved.
    """
    stmt = (
        select(BacklogIssue.issue_key, BacklogIssue.file, PhaseIssue.phase_id)
        .outerjoin(
            PhaseIssue,
            and_(PhaseIssue.issue_key == BacklogIssue.issue_key, since_open()),
        )
        .where(BacklogIssue.status.in_(UNRESOLVED))
    )
    files: dict[str, str | None] = {}
    phases: dict[str, set[str]] = {}
    for key, file, phase_id in session.execute(stmt):
        files[key] = file
        bucket = phases.setdefault(key, set())
        if phase_id is not None:
            bucket.add(phase_id)
    return {k: (files[k], frozenset(phases[k])) for k in files}
