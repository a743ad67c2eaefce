"""Which learners an engine has (see :mod:`autopack.engine.learning`), from its settings.

Each part of the learning loop adds its learner here, and only when it is switched on or its
project file exists: with nothing configured the list is empty and prompts do not change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autopack.engine.learning import Learner, Learning

if TYPE_CHECKING:
    from autopack.engine.services import Engine

__all__ = ["build_learning"]


def build_learning(engine: Engine) -> Learning:
    """The learners of one engine, in the order their notes appear in prompts."""
    learners: list[Learner] = []
    return Learning(learners)
