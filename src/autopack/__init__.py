"""Autopack: a governed autonomous build orchestrator.

A run is a plan of tiers of phases. Autopack hands each phase to a Builder model, applies the
edits under governance on an isolated integration branch, runs the phase's checks, has an
Auditor review, and retries or escalates within hard budgets. Everything is persisted.

The package is layered (see ``ARCHITECTURE.md``): ``spec``/``policy``/``edits`` are pure,
``store`` and the other adapters each wrap one real system, ``engine`` drives runs and ``cli``
and ``api`` stay thin. Nothing is done at import time.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
