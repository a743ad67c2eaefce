"""The intention learner: puts ``.autopack/intention.yaml`` into prompts.

The Builder and the Doctor get the whole intention (within 2 KB, by priority); the Auditor
gets the goal and the must-not constraints (its task template asks it to report a change
against one as a major ``intention_drift`` issue, which rejects the attempt). See
:mod:`autopack.memory.intention`.

The file is read again when it changes (modification time and size), so an edit during a run
reaches the next prompt. A malformed file injects nothing and is reported once per version
of the file as a :class:`~autopack.engine.learning.LearningError`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from autopack.engine.learning import Learner, LearningError, NoteRole
from autopack.memory.intention import (
    Intention,
    IntentionError,
    load_intention,
    render_for_auditor,
    render_intention,
)

if TYPE_CHECKING:
    from autopack.engine.attempt import AttemptContext

__all__ = ["IntentionLearner"]


class IntentionLearner(Learner):
    """Injects the project's intention (see the module docstring)."""

    name = "intention"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._intention: Intention | None = None

    def current(self) -> Intention | None:
        """The intention as the file says now (``None``: no file, or malformed and reported)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        version = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if version == self._version:
                return self._intention
            self._version, self._intention = version, None
            try:
                self._intention = load_intention(self.path)
            except IntentionError as exc:
                raise LearningError(f"intention file ignored: {exc}") from exc
            return self._intention

    def notes(
        self, ctx: AttemptContext, role: NoteRole, *, errors: Sequence[str] = ()
    ) -> tuple[str, ...]:
        intention = self.current()
        if intention is None or intention.is_empty():
            return ()
        render = render_for_auditor if role == "auditor" else render_intention
        text = render(intention)
        return (text,) if text else ()
