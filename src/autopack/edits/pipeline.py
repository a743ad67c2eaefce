"""parse → resolve (dry run on in-memory contents) → result: the pure core of the engine.

All edits of an answer are applied in order to an in-memory :class:`Workspace`; later edits
see earlier ones. If any edit fails, or any block of the answer is malformed, the result is
not ``ok`` and carries no file contents: an answer applies as a whole or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from autopack.edits.errors import AnswerRejectedError, EditError, ErrorCode
from autopack.edits.formats import format_for
from autopack.edits.model import ApplyResult, Edit, EditResult, EditStatus
from autopack.edits.parse import parse_answer
from autopack.edits.workspace import PathPredicate, Workspace

__all__ = ["apply_answer", "apply_answer_or_raise", "apply_edits"]


def apply_edits(
    files: Mapping[str, bytes | str],
    edits: Sequence[Edit],
    *,
    parse_errors: Sequence[EditError] = (),
    allowed: PathPredicate | None = None,
) -> ApplyResult:
    """Apply ``edits`` to ``files`` (path → original content; a missing key is a missing
    file). Returns the new contents of the changed files when every edit applies."""
    ws = Workspace(files, allowed)
    results: list[EditResult] = []
    errors: list[EditError] = list(parse_errors)
    for err in parse_errors:
        results.append(
            EditResult(
                err.block or 0, err.line or 0, "malformed", err.path, EditStatus.FAILED, error=err
            )
        )
    for edit in edits:
        snapshot = ws.snapshot()
        try:
            strategies = format_for(edit.kind).apply(edit, ws)
        except EditError as exc:
            ws.restore(snapshot)
            err = exc.with_location(block=edit.block, line=edit.line)
            if err.path is None:
                err = EditError(
                    err.code,
                    err.reason,
                    path=edit.path,
                    block=err.block,
                    line=err.line,
                    did_you_mean=err.did_you_mean,
                )
            errors.append(err)
            results.append(
                EditResult(
                    edit.block, edit.line, edit.kind, edit.path, EditStatus.FAILED, error=err
                )
            )
        else:
            results.append(
                EditResult(
                    edit.block, edit.line, edit.kind, edit.path, EditStatus.WOULD_APPLY, strategies
                )
            )
    results.sort(key=lambda r: r.block)
    if not edits and not errors:
        errors.append(
            EditError(
                ErrorCode.NO_EDITS,
                "the answer contains no edit: use SEARCH/REPLACE blocks, a unified diff, a whole "
                "file (path line + fenced block), DELETE path or RENAME old -> new",
            )
        )
    ok = not errors
    return ApplyResult(ok, False, tuple(results), tuple(errors), ws.changed() if ok else {})


def apply_answer(
    files: Mapping[str, bytes | str], answer: str, *, allowed: PathPredicate | None = None
) -> ApplyResult:
    """Parse ``answer`` and apply it to ``files`` (see :func:`apply_edits`)."""
    parsed = parse_answer(answer)
    return apply_edits(files, parsed.edits, parse_errors=parsed.errors, allowed=allowed)


def apply_answer_or_raise(
    files: Mapping[str, bytes | str], answer: str, *, allowed: PathPredicate | None = None
) -> dict[str, str | None]:
    """Like :func:`apply_answer` but returns the changed files or raises
    :class:`AnswerRejectedError` (whose ``for_model()`` is ready to send back)."""
    result = apply_answer(files, answer, allowed=allowed)
    if not result.ok:
        raise AnswerRejectedError(result, result.for_model())
    return result.files
