"""Issue tracking in the database: the aging aggregate and the writes (reads: issue_reads).

Like :mod:`autopack.store.runs`, these work inside the caller's transaction. The rules
(keys, aging, statuses) are :mod:`autopack.issues`'; here they become SQL:

- ``age_in_runs`` = ``COUNT(DISTINCT run_id)`` and ``age_in_tiers`` =
  ``COUNT(DISTINCT run_id || '/' || tier_id)`` over the issue's ``phase_issues`` rows seen
  since the issue was (re)opened (``last_seen >= opened_at``);
- a backlog issue's ``status`` is stored, and recomputed in :func:`record_issues` and
  :func:`resolve_issues` — the only writes that change an age — so listing by status is a
  plain filter;
- the list, the run index and the summary each take a fixed number of statements, whatever
  the number of runs, phases and issues.

Writes lock in a fixed order (backlog rows by key, then phase rows) with ``INSERT ... ON
CONFLICT DO NOTHING`` followed by ``SELECT ... FOR UPDATE``, so two phases of parallel lanes
recording the same key on PostgreSQL neither collide nor deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, distinct, func, literal, select
from sqlalchemy.orm import Session

from autopack.issues.aging import PROFILE_THRESHOLDS, Thresholds, status_for, worse
from autopack.issues.keys import issue_key as derive_key
from autopack.store.errors import NotFoundError
from autopack.store.issue_views import (
    BacklogIssueView,
    IssueInput,
    PhaseIssueView,
)
from autopack.store.models import BacklogIssue, Phase, PhaseIssue, Run, Tier, utcnow

__all__ = [
    "BACKLOG_STATUSES",
    "UNRESOLVED",
    "ages_subquery",
    "backlog_select",
    "backlog_view",
    "phase_view",
    "record_issues",
    "require_run",
    "resolve_issues",
    "since_open",
]

BACKLOG_STATUSES = ("open", "needs_cleanup", "resolved")
UNRESOLVED = ("open", "needs_cleanup")
_EVIDENCE_LIMIT = 4000
_SEVERITIES = ("minor", "major")


# -- the aging aggregate -------------------------------------------------------------------
def since_open() -> ColumnElement[bool]:
    return PhaseIssue.last_seen >= BacklogIssue.opened_at


def ages_subquery(keys: Iterable[str] | None = None) -> Any:
    """Per issue key: ages since (re)opened and every occurrence, as a subquery."""
    run_tier = PhaseIssue.run_id + literal("/") + PhaseIssue.tier_id
    stmt = (
        select(
            PhaseIssue.issue_key.label("issue_key"),
            func.count(distinct(case((since_open(), PhaseIssue.run_id)))).label("runs"),
            func.count(distinct(case((since_open(), run_tier)))).label("tiers"),
            func.coalesce(func.sum(PhaseIssue.occurrences), 0).label("occurrences"),
        )
        .join(BacklogIssue, BacklogIssue.issue_key == PhaseIssue.issue_key)
        .group_by(PhaseIssue.issue_key)
    )
    if keys is not None:
        stmt = stmt.where(PhaseIssue.issue_key.in_(list(keys)))
    return stmt.subquery("ages")


def backlog_select(keys: Iterable[str] | None = None) -> Select[Any]:
    ages = ages_subquery(keys)
    return select(
        BacklogIssue,
        func.coalesce(ages.c.runs, 0),
        func.coalesce(ages.c.tiers, 0),
        func.coalesce(ages.c.occurrences, 0),
    ).outerjoin(ages, ages.c.issue_key == BacklogIssue.issue_key)


def backlog_view(row: BacklogIssue, runs: int, tiers: int, occurrences: int) -> BacklogIssueView:
    return BacklogIssueView(
        issue_key=row.issue_key,
        severity=row.severity,
        source=row.source,
        category=row.category,
        title=row.title,
        file=row.file,
        status=row.status,  # type: ignore[arg-type]
        age_in_runs=int(runs),
        age_in_tiers=int(tiers),
        occurrences=int(occurrences),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        resolved_by_run=row.resolved_by_run,
        last_run_id=row.last_run_id,
        cleanup_after_runs=row.cleanup_after_runs,
        cleanup_after_tiers=row.cleanup_after_tiers,
        reopened=row.reopened,
    )


def phase_view(row: PhaseIssue) -> PhaseIssueView:
    return PhaseIssueView(
        run_id=row.run_id,
        tier_id=row.tier_id,
        phase_id=row.phase_id,
        issue_key=row.issue_key,
        severity=row.severity,
        source=row.source,
        category=row.category,
        title=row.title,
        evidence=row.evidence,
        file=row.file,
        occurrences=row.occurrences,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


# -- writes --------------------------------------------------------------------------------
def _insert(session: Session, model: type[Any]) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def require_run(session: Session, run_id: str) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFoundError("run", run_id)
    return run


def _thresholds(run: Run) -> Thresholds:
    default = PROFILE_THRESHOLDS.get(run.safety_profile, PROFILE_THRESHOLDS["normal"])
    return Thresholds(
        runs=run.issue_cleanup_after_runs or default.runs,
        tiers=run.issue_cleanup_after_tiers or default.tiers,
    )


def _merge(issues: Sequence[IssueInput]) -> dict[str, tuple[IssueInput, int]]:
    """Inputs by key (derived when missing), each with how often it came in this batch."""
    merged: dict[str, tuple[IssueInput, int]] = {}
    for item in issues:
        if item.severity not in _SEVERITIES:
            raise ValueError(f"issue severity must be minor or major, not {item.severity!r}")
        key = item.issue_key or derive_key(item.source, item.category, item.file, item.title)
        seen, count = merged.get(key, (item, 0))
        severity = worse(seen.severity, item.severity)
        latest = IssueInput(
            key,
            severity,
            item.source,
            item.category,
            item.title,
            item.evidence,
            item.file or seen.file,
        )
        merged[key] = (latest, count + 1)
    return dict(sorted(merged.items()))


def record_issues(
    session: Session,
    run_id: str,
    phase_id: str,
    issues: Sequence[IssueInput],
    *,
    now: datetime | None = None,
) -> list[PhaseIssueView]:
    """Record one phase's issues: phase rows, backlog rows, statuses; the rows written."""
    run = require_run(session, run_id)
    tier_id = session.scalar(
        select(Tier.tier_id)
        .join(Phase, Phase.tier_pk == Tier.id)
        .where(Phase.run_id == run_id, Phase.phase_id == phase_id)
    )
    if tier_id is None:
        raise NotFoundError("phase", phase_id, run_id)
    merged = _merge(issues)
    if not merged:
        return []
    now = now or utcnow()
    limits = _thresholds(run)
    for key, (item, _) in merged.items():
        _upsert_backlog(session, key, item, run_id, limits, now)
    rows = [
        _upsert_phase(session, run_id, tier_id, phase_id, key, item, count, now)
        for key, (item, count) in merged.items()
    ]
    session.flush()
    _restatus(session, list(merged))
    return [phase_view(r) for r in rows]


def _upsert_backlog(
    session: Session, key: str, item: IssueInput, run_id: str, limits: Thresholds, now: datetime
) -> None:
    session.execute(
        _insert(session, BacklogIssue)
        .values(
            issue_key=key,
            severity=item.severity,
            source=item.source,
            category=item.category,
            title=item.title,
            file=item.file,
            status="open",
            cleanup_after_runs=limits.runs,
            cleanup_after_tiers=limits.tiers,
            reopened=0,
            first_seen=now,
            last_seen=now,
            opened_at=now,
            last_run_id=run_id,
        )
        .on_conflict_do_nothing(index_elements=["issue_key"])
    )
    row = session.scalars(
        select(BacklogIssue).where(BacklogIssue.issue_key == key).with_for_update()
    ).one()
    if row.status == "resolved":  # it occurs again: reopened, its age restarts now
        row.status, row.opened_at, row.reopened = "open", now, row.reopened + 1
        row.resolved_at = row.resolved_by_run = None
        row.severity, row.source, row.category = item.severity, item.source, item.category
        row.title, row.file = item.title, item.file
    else:
        row.severity = worse(row.severity, item.severity)
    row.last_seen, row.last_run_id = max(row.last_seen, now), run_id
    row.cleanup_after_runs, row.cleanup_after_tiers = limits.runs, limits.tiers


def _upsert_phase(
    session: Session,
    run_id: str,
    tier_id: str,
    phase_id: str,
    key: str,
    item: IssueInput,
    count: int,
    now: datetime,
) -> PhaseIssue:
    session.execute(
        _insert(session, PhaseIssue)
        .values(
            run_id=run_id,
            tier_id=tier_id,
            phase_id=phase_id,
            issue_key=key,
            severity=item.severity,
            source=item.source,
            category=item.category,
            title=item.title,
            evidence="",
            file=item.file,
            occurrences=0,
            first_seen=now,
            last_seen=now,
        )
        .on_conflict_do_nothing(index_elements=["run_id", "phase_id", "issue_key"])
    )
    row = session.scalars(
        select(PhaseIssue)
        .where(
            PhaseIssue.run_id == run_id,
            PhaseIssue.phase_id == phase_id,
            PhaseIssue.issue_key == key,
        )
        .with_for_update()
    ).one()
    row.occurrences += count
    row.last_seen = max(row.last_seen, now)
    row.severity = worse(row.severity, item.severity)
    row.source, row.title = item.source, item.title
    if item.evidence:
        row.evidence = item.evidence[:_EVIDENCE_LIMIT]
    return row


def _restatus(session: Session, keys: list[str]) -> None:
    """Recompute the status of the unresolved backlog issues among ``keys``."""
    for row, runs, tiers, _ in session.execute(
        backlog_select(keys).where(BacklogIssue.issue_key.in_(list(keys)))
    ):
        if row.status in UNRESOLVED:
            limits = Thresholds(row.cleanup_after_runs, row.cleanup_after_tiers)
            row.status = status_for(row.severity, runs, tiers, limits)


def resolve_issues(
    session: Session, run_id: str, keys: Sequence[str], *, now: datetime | None = None
) -> list[str]:
    """Mark unresolved issues among ``keys`` resolved by ``run_id``; the keys it resolved."""
    require_run(session, run_id)
    wanted = sorted(set(keys))
    if not wanted:
        return []
    now = now or utcnow()
    rows = session.scalars(
        select(BacklogIssue)
        .where(BacklogIssue.issue_key.in_(wanted), BacklogIssue.status.in_(UNRESOLVED))
        .order_by(BacklogIssue.issue_key)
        .with_for_update()
    ).all()
    for row in rows:
        row.status, row.resolved_at, row.resolved_by_run = "resolved", now, run_id
    return [r.issue_key for r in rows]
