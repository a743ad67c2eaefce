"""Persistence: SQLAlchemy 2 models, Alembic migrations and the store facade.

SQLite by default (WAL, busy timeout), PostgreSQL through ``DATABASE_URL``. Every state
change goes through :func:`autopack.store.transitions.apply_transition`, which checks the
transition table and writes an event in the same transaction.
"""

from autopack.store.budget import BudgetExhaustedError, Reservation, ReservationError, ScopeBudget
from autopack.store.errors import ApprovalStateError, NotFoundError, RunExistsError, StoreError
from autopack.store.issue_views import (
    BacklogIssueDetail,
    BacklogIssueView,
    IssueBacklogSummary,
    IssueInput,
    PhaseIssueView,
    RunIssueView,
)
from autopack.store.lease import Lease, LeaseHeldError
from autopack.store.migrate import SchemaError
from autopack.store.models import DirectStateWriteError
from autopack.store.service import Store

__all__ = [
    "ApprovalStateError",
    "BacklogIssueDetail",
    "BacklogIssueView",
    "BudgetExhaustedError",
    "DirectStateWriteError",
    "IssueBacklogSummary",
    "IssueInput",
    "Lease",
    "LeaseHeldError",
    "NotFoundError",
    "PhaseIssueView",
    "Reservation",
    "ReservationError",
    "RunExistsError",
    "RunIssueView",
    "SchemaError",
    "ScopeBudget",
    "Store",
    "StoreError",
]
