"""Which learners an engine has (see :mod:`autopack.engine.learning`), from its settings.

Each part of the learning loop adds its learner here, and only when it is switched on or its
project file exists: with nothing configured the list is empty and prompts do not change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autopack.engine.learn_intention import IntentionLearner
from autopack.engine.learn_rules import RulesLearner
from autopack.engine.learning import Learner, Learning
from autopack.memory.intention import intention_path

if TYPE_CHECKING:
    from autopack.engine.services import Engine

__all__ = ["build_learning"]


def build_learning(engine: Engine) -> Learning:
    """The learners of one engine, in the order their notes appear in prompts."""
    learners: list[Learner] = []
    data_dir = engine.settings.data_dir
    intention = intention_path(data_dir)
    if intention.is_file():  # the project's anchor first: it frames everything below it
        learners.append(IntentionLearner(intention))
    # Always observes; injects only when learned_rules.yaml has a matching rule.
    learners.append(RulesLearner(data_dir, redact=engine.redactor.redact))
    if engine.settings.enable_memory:  # AUTOPACK_ENABLE_MEMORY: retrieval memory (off by default)
        from autopack.engine.learn_memory import MemoryLearner

        learners.append(MemoryLearner(engine.settings))
    from autopack.engine.learn_issues import IssueLearner  # always on: records, adds no notes

    learners.append(IssueLearner())
    return Learning(learners)
