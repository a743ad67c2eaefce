"""The executor: a run walks its tiers and phases; a phase is attempts until it is committed.

:func:`execute_run` drives a stored run; :func:`approve` / :func:`reject` continue it from an
approval gate; :class:`InProcessDispatcher` does either under the run's worker lease (the
way interfaces should call them). :class:`Engine` holds the services (store, routing,
governance, checks, providers) built once from settings.
"""

from autopack.engine.approval import approve, reject
from autopack.engine.dispatch import Dispatcher, InProcessDispatcher, LeaseLostError, RunLease
from autopack.engine.phase import PhaseOutcome, PhaseResult
from autopack.engine.run import EngineError, RunOutcome, execute_run
from autopack.engine.services import Engine, EngineOptions

__all__ = [
    "Dispatcher",
    "Engine",
    "EngineError",
    "EngineOptions",
    "InProcessDispatcher",
    "LeaseLostError",
    "PhaseOutcome",
    "PhaseResult",
    "RunLease",
    "RunOutcome",
    "approve",
    "execute_run",
    "reject",
]
