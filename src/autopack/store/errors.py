"""The store's exception tree.

    StoreError                  base; ``code`` is stable, the message is for people
    ├── NotFoundError           a run, tier, phase or approval does not exist
    ├── RunExistsError          a run with that id was already created
    └── ApprovalStateError      an approval was already decided

State changes the transition table forbids raise
:class:`autopack.policy.states.IllegalTransitionError`; a direct write to a ``state``
attribute raises :class:`autopack.store.models.DirectStateWriteError`; an unusable schema
raises :class:`autopack.store.migrate.SchemaError`.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's errors."""

    code = "store_error"


class NotFoundError(StoreError):
    """The thing asked for does not exist."""

    code = "not_found"

    def __init__(self, kind: str, key: str, run_id: str | None = None) -> None:
        self.kind = kind
        self.key = key
        self.run_id = run_id
        where = f" in run {run_id!r}" if run_id and kind != "run" else ""
        super().__init__(f"no {kind} {key!r}{where}")


class RunExistsError(StoreError):
    """A run with that id exists already."""

    code = "run_exists"

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id!r} exists already; choose another run_id")


class ApprovalStateError(StoreError):
    """An approval can be decided once."""

    code = "approval_decided"
