"""The executor: a run walks its tiers and phases; a phase is attempts until it is committed.

:func:`execute_run` drives a stored run; :func:`approve` / :func:`reject` continue it from an
approval gate. :class:`Engine` holds the services (store, routing, governance, checks,
providers) built once from settings.
"""

from autopack.engine.phase import PhaseOutcome, PhaseResult
from autopack.engine.run import EngineError, RunOutcome, approve, execute_run, reject
from autopack.engine.services import Engine, EngineOptions

__all__ = [
    "Engine",
    "EngineError",
    "EngineOptions",
    "PhaseOutcome",
    "PhaseResult",
    "RunOutcome",
    "approve",
    "execute_run",
    "reject",
]
