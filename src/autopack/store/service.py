"""The store facade: one object per database, each method one transaction.

Interfaces (CLI, API) and the engine call these methods; they never see a session. For
work that must be atomic across several steps, :meth:`Store.transaction` yields a session
that the module-level functions in :mod:`autopack.store.runs`,
:mod:`autopack.store.records` and :mod:`autopack.store.transitions` accept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autopack.policy.states import Machine
from autopack.policy.strategy import RunStrategy
from autopack.settings import Settings
from autopack.spec.models import RunSpec
from autopack.store import budget, keys, lease, records, runs
from autopack.store.aggregates.views import RunListItem
from autopack.store.budget import Reservation, ScopeBudget
from autopack.store.claims import ClaimStore
from autopack.store.db import create_db_engine, make_session_factory
from autopack.store.errors import NotFoundError
from autopack.store.issue_facade import IssueFacade
from autopack.store.keys import ApiKeyView
from autopack.store.lease import Lease
from autopack.store.migrate import ensure_schema
from autopack.store.models import Approval, Attempt, Phase, Run
from autopack.store.transitions import apply_transition
from autopack.store.views import (
    ApprovalView,
    AttemptView,
    EventView,
    LlmCallView,
    RunDetail,
)


class Store(IssueFacade):
    """Persistence for runs and everything recorded about them (issues: :class:`IssueFacade`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = make_session_factory(engine)

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool | None = None) -> Store:
        """Connect to the configured database, upgrading its schema when allowed."""
        url = settings.resolved_database_url()
        if url.startswith("sqlite") and settings.database_url is None:
            settings.ensure_data_dir()
        engine = create_db_engine(url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        if settings.auto_migrate if migrate is None else migrate:
            ensure_schema(engine)
        return cls(engine)

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    # runs -----------------------------------------------------------------------------
    def create_run(
        self, spec: RunSpec, strategy: RunStrategy, *, shape: str | None = None, actor: str = "cli"
    ) -> RunDetail:
        """Persist a validated run with its compiled strategy; returns the stored run."""
        with self.transaction() as session:
            runs.create_run(session, spec, strategy, shape=shape, actor=actor)
            run = session.get_one(Run, spec.run_id)  # issue aging follows the run's strategy
            run.issue_cleanup_after_runs = strategy.minor_issue_cleanup_after_runs
            run.issue_cleanup_after_tiers = strategy.minor_issue_cleanup_after_tiers
            return runs.get_run(session, spec.run_id)

    def get_run(self, run_id: str) -> RunDetail:
        """A run with tiers and phases."""
        with self.transaction() as session:
            return runs.get_run(session, run_id)

    def list_runs(
        self, *, state: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[RunListItem]:
        """Newest runs first (each with its cost); ``offset`` skips that many (for pages)."""
        with self.transaction() as session:
            return runs.list_runs(session, state=state, limit=limit, offset=offset)

    def run_spec(self, run_id: str) -> dict[str, Any]:
        """The run's stored specification (as created)."""
        with self.transaction() as session:
            return runs.get_spec(session, run_id)

    def request_cancel(self, run_id: str) -> None:
        """Ask the executor to stop the run at its next safe point."""
        with self.transaction() as session:
            runs.request_cancel(session, run_id)

    def cancel_requested(self, run_id: str) -> bool:
        """Whether a cancel was asked for."""
        with self.transaction() as session:
            return runs.cancel_requested(session, run_id)

    def acquire_lease(self, run_id: str, owner: str, ttl: float) -> Lease:
        """Take the run's worker lease (raises ``LeaseHeldError`` while another holds it)."""
        with self.transaction() as session:
            return lease.acquire_lease(session, run_id, owner, ttl)

    def renew_lease(self, run_id: str, owner: str, ttl: float) -> bool:
        """Heartbeat: extend our lease; ``False`` once it is no longer ours."""
        with self.transaction() as session:
            return lease.renew_lease(session, run_id, owner, ttl)

    def release_lease(self, run_id: str, owner: str) -> bool:
        """Give our lease up."""
        with self.transaction() as session:
            return lease.release_lease(session, run_id, owner)

    def lease(self, run_id: str) -> Lease:
        """The run's current lease (owner, expiry, last heartbeat)."""
        with self.transaction() as session:
            return lease.read_lease(session, run_id)

    def events(
        self, run_id: str, *, entity: str | None = None, key: str | None = None
    ) -> list[EventView]:
        """A run's events in order."""
        with self.transaction() as session:
            return runs.list_events(session, run_id, entity=entity, key=key)

    # state changes --------------------------------------------------------------------
    def transition(
        self,
        machine: Machine,
        run_id: str,
        key: str,
        to_state: str,
        *,
        reason: str,
        actor: str,
        explicit: bool = False,
    ) -> EventView:
        """Change one state through the table, with its event, in its own transaction."""
        with self.transaction() as session:
            event = apply_transition(
                session,
                machine,
                run_id,
                key,
                to_state,
                reason=reason,
                actor=actor,
                explicit=explicit,
            )
            return EventView.model_validate(event)

    def transition_run(self, run_id: str, to_state: str, **kw: Any) -> EventView:
        """Change a run's state."""
        return self.transition(Machine.RUN, run_id, run_id, to_state, **kw)

    def transition_tier(self, run_id: str, tier_id: str, to_state: str, **kw: Any) -> EventView:
        """Change a tier's state."""
        return self.transition(Machine.TIER, run_id, tier_id, to_state, **kw)

    def transition_phase(self, run_id: str, phase_id: str, to_state: str, **kw: Any) -> EventView:
        """Change a phase's state."""
        return self.transition(Machine.PHASE, run_id, phase_id, to_state, **kw)

    # attempts, calls, approvals ---------------------------------------------------------
    def start_attempt(
        self, run_id: str, phase_id: str, *, builder_model: str | None = None
    ) -> AttemptView:
        """Open the next attempt of a phase."""
        with self.transaction() as session:
            return records.start_attempt(session, run_id, phase_id, builder_model=builder_model)

    def finish_attempt(self, attempt_id: int, **results: Any) -> AttemptView:
        """Close an attempt with its outcomes and tokens."""
        with self.transaction() as session:
            return records.finish_attempt(session, attempt_id, **results)

    def attempts(self, run_id: str, phase_id: str) -> list[AttemptView]:
        """A phase's attempts."""
        with self.transaction() as session:
            return records.list_attempts(session, run_id, phase_id)

    def run_attempts(self, run_id: str) -> dict[str, list[AttemptView]]:
        """Every attempt of a run by phase id, in one query."""
        stmt = (
            select(Phase.phase_id, Attempt)
            .join(Attempt, Attempt.phase_pk == Phase.id)
            .where(Phase.run_id == run_id)
            .order_by(Phase.position, Attempt.attempt_index)
        )
        out: dict[str, list[AttemptView]] = {}
        with self.transaction() as session:
            for phase_id, attempt in session.execute(stmt):
                out.setdefault(phase_id, []).append(AttemptView.model_validate(attempt))
        return out

    def attempt_stats(self, run_id: str) -> dict[str, int]:
        """Run-wide counts: ``attempts``, ``failures`` (failed attempts), ``ci_runs``."""
        with self.transaction() as session:
            return records.attempt_stats(session, run_id)

    def record_llm_call(self, **fields: Any) -> LlmCallView:
        """Append a model call to the ledger."""
        with self.transaction() as session:
            return records.record_llm_call(session, **fields)

    def llm_calls(self, run_id: str) -> list[LlmCallView]:
        """A run's model calls."""
        with self.transaction() as session:
            return records.list_llm_calls(session, run_id)

    def request_approval(
        self,
        run_id: str,
        phase_id: str | None,
        *,
        reason: str,
        answer: str | None = None,
        diff: str | None = None,
    ) -> ApprovalView:
        """Open a pending approval (with the answer it would apply and its diff)."""
        with self.transaction() as session:
            return records.request_approval(
                session, run_id, phase_id, reason=reason, answer=answer, diff=diff
            )

    def approval_material(self, approval_id: int) -> tuple[str | None, str | None]:
        """``(answer, diff)`` stored with an approval."""
        with self.transaction() as session:
            return records.approval_material(session, approval_id)

    def decide_approval(
        self, approval_id: int, *, approve: bool, decided_by: str, note: str | None = None
    ) -> ApprovalView:
        """Approve or reject once."""
        with self.transaction() as session:
            return records.decide_approval(
                session, approval_id, approve=approve, decided_by=decided_by, note=note
            )

    def approvals(
        self, *, status: str | None = "pending", run_id: str | None = None
    ) -> list[ApprovalView]:
        """Approvals filtered by status and run."""
        with self.transaction() as session:
            return records.list_approvals(session, status=status, run_id=run_id)

    def approval(self, approval_id: int) -> ApprovalView:
        """One approval (``NotFoundError`` when there is none with that id)."""
        with self.transaction() as session:
            row = session.get(Approval, approval_id)
            if row is None:
                raise NotFoundError("approval", str(approval_id))
            return ApprovalView.model_validate(row)

    # budget ledger ---------------------------------------------------------------------
    def reserve_budget(
        self, run_id: str, phase_id: str | None, *, tokens: int, role: str, model: str
    ) -> Reservation:
        """Hold tokens for a call against the phase, tier and run caps (or raise)."""
        with self.transaction() as session:
            return budget.reserve(session, run_id, phase_id, tokens=tokens, role=role, model=model)

    def settle_budget(self, reservation_id: int, **usage: Any) -> LlmCallView:
        """Record a call's real usage and free the rest of its reservation."""
        with self.transaction() as session:
            return budget.settle(session, reservation_id, **usage)

    def release_budget(self, reservation_id: int, *, reason: str) -> None:
        """Free a reservation whose call produced no usage."""
        with self.transaction() as session:
            budget.release(session, reservation_id, reason=reason)

    def release_stale_reservations(self, run_id: str, *, reason: str = "worker restarted") -> int:
        """Free every open reservation of a run (on resume after a crash)."""
        with self.transaction() as session:
            return budget.release_stale(session, run_id, reason=reason)

    def budgets(self, run_id: str, phase_id: str | None = None) -> list[ScopeBudget]:
        """Cap, used and reserved tokens of the run (and the phase's tier and phase)."""
        with self.transaction() as session:
            return budget.scope_budgets(session, run_id, phase_id)

    def total_cost(self, run_id: str) -> Decimal:
        """Sum of a run's model call costs."""
        return sum((c.cost_usd for c in self.llm_calls(run_id)), Decimal(0))

    # external work ---------------------------------------------------------------------
    @property
    def claims(self) -> ClaimStore:
        """Claims on external builds and reviews (see :mod:`autopack.store.claims`)."""
        return ClaimStore(self.transaction)

    # API keys --------------------------------------------------------------------------
    def create_api_key(self, name: str, role: str) -> tuple[ApiKeyView, str]:
        """A new key: its view and the key itself, which is never retrievable again."""
        with self.transaction() as session:
            return keys.create_key(session, name, role)

    def api_keys(self, *, include_revoked: bool = True) -> list[ApiKeyView]:
        """Stored keys (without secrets)."""
        with self.transaction() as session:
            return keys.list_keys(session, include_revoked=include_revoked)

    def revoke_api_key(self, ref: str) -> ApiKeyView:
        """Revoke a key by id, prefix or unambiguous name."""
        with self.transaction() as session:
            return keys.revoke_key(session, ref)

    def authenticate_api_key(self, key: str) -> ApiKeyView | None:
        """The active key matching ``key``, else ``None`` (constant-time comparison)."""
        with self.transaction() as session:
            return keys.authenticate(session, key)
