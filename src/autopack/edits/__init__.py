"""The edit protocol between the Builder and Autopack: read edits, apply them exactly or refuse.

Pipeline: :func:`parse_answer` finds every edit in a model answer (SEARCH/REPLACE blocks,
unified diffs, whole files, ``DELETE``/``RENAME`` lines, with prose and fences around);
:func:`apply_edits` resolves them against in-memory contents with an ordered table of
matching strategies (:data:`~autopack.edits.match.STRATEGIES`) and returns an
:class:`ApplyResult`; :func:`apply_to_directory` is the thin layer that reads and writes
files atomically. A guess is never applied: zero or several matches is a refusal.

Exceptions (one tree)::

    EditsError                 root of every error raised here
    ├── EditError              one edit refused: code (ErrorCode), path, block, reason,
    │                          did_you_mean; .for_model() explains it to the Builder
    └── AnswerRejectedError         a whole answer did not apply (apply_answer_or_raise);
                               .result is the ApplyResult, .for_model() the message

The pure functions return results rather than raising; ``EditError`` values sit in
``ApplyResult.errors`` and in each failed :class:`EditResult`.
"""

from autopack.edits.directory import apply_to_directory
from autopack.edits.errors import AnswerRejectedError, EditError, EditsError, ErrorCode
from autopack.edits.match import STRATEGIES, Strategy
from autopack.edits.model import (
    ApplyResult,
    DeleteFile,
    Edit,
    EditResult,
    EditStatus,
    Hunk,
    RenameFile,
    SearchReplace,
    UnifiedDiff,
    WholeFile,
)
from autopack.edits.parse import ParsedAnswer, parse_answer
from autopack.edits.pipeline import apply_answer, apply_answer_or_raise, apply_edits
from autopack.edits.workspace import PathPredicate

__all__ = [
    "STRATEGIES",
    "AnswerRejectedError",
    "ApplyResult",
    "DeleteFile",
    "Edit",
    "EditError",
    "EditResult",
    "EditStatus",
    "EditsError",
    "ErrorCode",
    "Hunk",
    "ParsedAnswer",
    "PathPredicate",
    "RenameFile",
    "SearchReplace",
    "Strategy",
    "UnifiedDiff",
    "WholeFile",
    "apply_answer",
    "apply_answer_or_raise",
    "apply_edits",
    "apply_to_directory",
    "parse_answer",
]
