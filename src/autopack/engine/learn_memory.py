"""Retrieval memory as a learner: what runs teach is stored, and found again for later prompts.

What is recorded (ids are stable, so a resumed or repeated step updates its note):

- a failed attempt: an ``error`` note ``error:<run>:<phase>:<attempt>`` with the normalised
  error signature (:func:`autopack.memory.retrieval.error_signature`) in its title;
- a phase committed after failures: a ``fix`` note ``fix:<run>:<phase>`` linking the errors
  it fixed (signatures) to what fixed them: the hints the successful attempt had, the files
  it changed and the opening of its answer;
- a Doctor decision: a ``doctor_hint`` note (a ``decision`` note when it gave no hint);
- a finished run: a ``run_summary`` note ``run:<run>`` (phases, states, attempts).

Every text is redacted with the engine's redactor before it is stored. Notes for the Builder
and the Doctor come from :class:`~autopack.memory.retrieval.Retriever` within
``AUTOPACK_MEMORY_BUILDER_TOKENS`` / ``AUTOPACK_MEMORY_DOCTOR_TOKENS``; the Auditor gets none.

Docs (``AUTOPACK_MEMORY_INDEX_DOCS``): the project's source-of-truth docs are (re)indexed
from the user's workspace once per run and process, at the run's first notes() call — before
its first prompt, so a run sees the docs as they are when it starts; unchanged sections cost
one digest comparison.

Backend failures (:class:`~autopack.memory.notes.MemoryStoreError`) become
:class:`~autopack.engine.learning.LearningError`: reported, never fatal to the run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from autopack.edits import parse_answer
from autopack.engine.learning import Learner, LearningError, NoteRole
from autopack.memory.notes import MemoryBackend, MemoryStoreError, Note, open_backend
from autopack.memory.retrieval import Retriever, error_signature

if TYPE_CHECKING:
    from autopack.agents import DoctorDecision
    from autopack.engine.attempt import AttemptContext, AttemptReport
    from autopack.engine.services import Engine
    from autopack.settings import Settings

__all__ = ["MemoryLearner"]

T = TypeVar("T")
ANSWER_EXCERPT = 800
ERROR_EXCERPT = 1_500
_NOT_FAILURES = frozenset({"success", "awaiting_approval", "awaiting_review", "interrupted"})


class MemoryLearner(Learner):
    """Records errors, fixes, Doctor decisions and run summaries; retrieves them for prompts."""

    name = "memory"

    def __init__(self, settings: Settings, *, backend: MemoryBackend | None = None) -> None:
        self.settings = settings
        self._backend = backend
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()
        self._indexed: set[str] = set()
        self._last_error: dict[tuple[str, str], str] = {}

    # -- plumbing --------------------------------------------------------------------------

    def _guard(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except MemoryStoreError as exc:
            raise LearningError(str(exc)) from exc

    @property
    def backend(self) -> MemoryBackend:
        """The configured backend, opened on first use."""
        with self._lock:
            if self._backend is None:
                self._backend = self._guard(lambda: open_backend(self.settings))
            return self._backend

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            s = self.settings
            budgets = {"builder": s.memory_builder_tokens, "doctor": s.memory_doctor_tokens}
            self._retriever = Retriever(self.backend, budgets=budgets)
        return self._retriever

    def _store(self, engine: Engine, note: Note) -> None:
        redact = engine.redactor.redact
        clean = note.model_copy(update={"title": redact(note.title), "text": redact(note.text)})
        self._guard(lambda: self.backend.upsert([clean]))

    def _index_docs(self, engine: Engine, run_id: str) -> None:
        if not self.settings.memory_index_docs:
            return
        with self._lock:
            if run_id in self._indexed:
                return
            self._indexed.add(run_id)
        from autopack.memory.docs import index_docs

        paths = self.settings.memory_doc_list()
        deny = engine.governance.deny
        self._guard(lambda: index_docs(self.backend, self.settings.workspace, paths, deny=deny))

    # -- the learner hooks -----------------------------------------------------------------

    def notes(
        self, ctx: AttemptContext, role: NoteRole, *, errors: Sequence[str] = ()
    ) -> tuple[str, ...]:
        if role not in ("builder", "doctor"):
            return ()
        self._index_docs(ctx.engine, ctx.run_id)
        retriever = self.retriever
        return self._guard(lambda: retriever.notes(ctx.phase, role, errors, run_id=ctx.run_id))

    def attempt_finished(
        self,
        ctx: AttemptContext,
        attempt: int,
        report: AttemptReport,
        *,
        hints: tuple[str, ...] = (),
    ) -> None:
        if report.ok:
            fix = self._fix_note(ctx, attempt, report, hints)
            if fix is not None:
                self._store(ctx.engine, fix)
            return
        phase = ctx.phase
        # Redacted before the signature: it blurs digits, so a secret would no longer match.
        feedback = ctx.engine.redactor.redact(report.feedback)
        signature = error_signature(feedback) or report.step.value
        self._last_error[(ctx.run_id, phase.phase_id)] = f"{report.step.value}: {signature}"
        text = (
            f"Signature: {signature}\n"
            f"Phase: {phase.name} ({phase.task_category}), attempt {attempt}, "
            f"model {report.model or '-'}\n\n{feedback[:ERROR_EXCERPT]}"
        )
        note = Note(
            id=f"error:{ctx.run_id}:{phase.phase_id}:{attempt}",
            kind="error",
            title=f"{report.step.value}: {signature}"[:300],
            text=text,
            run_id=ctx.run_id,
            phase_id=phase.phase_id,
            category=phase.task_category,
            paths=tuple(phase.scope.paths),
        )
        self._store(ctx.engine, note)

    def _fix_note(
        self, ctx: AttemptContext, attempt: int, report: AttemptReport, hints: Sequence[str]
    ) -> Note | None:
        """The fix note of a phase committed after failures (``None`` at the first try)."""
        phase = ctx.phase
        # The store knows every failure of the phase, earlier invocations' too (a resume).
        failed = [
            a
            for a in ctx.engine.store.attempts(ctx.run_id, phase.phase_id)
            if a.error_class and a.outcome not in _NOT_FAILURES
        ]
        if not failed:
            return None
        redact = ctx.engine.redactor.redact  # before the signature blurs a secret's digits
        signatures = ((a, error_signature(redact(a.error_message or ""))) for a in failed)
        fixed = list(
            dict.fromkeys(f"{a.error_class}: {sig or a.error_class}" for a, sig in signatures)
        )
        changed = list(dict.fromkeys(e.path for e in parse_answer(report.answer).edits))
        lines = ["Errors it fixed:", *(f"- {f}" for f in fixed)]
        lines.append(
            f"Phase: {phase.name} ({phase.task_category}); committed at attempt {attempt} "
            f"after {len(failed)} failure(s), model {report.model or '-'}"
        )
        if hints:
            lines += ["What fixed it (hints the successful attempt had):"]
            lines += [f"- {h}" for h in hints]
        if changed:
            lines.append(f"Files changed: {', '.join(changed)}")
        excerpt = report.answer.strip()[:ANSWER_EXCERPT]
        if excerpt:
            lines += ["Answer that worked (opening):", excerpt]
        return Note(
            id=f"fix:{ctx.run_id}:{phase.phase_id}",
            kind="fix",
            title=f"Fix for {fixed[-1]}"[:300],
            text="\n".join(lines),
            run_id=ctx.run_id,
            phase_id=phase.phase_id,
            category=phase.task_category,
            paths=tuple(dict.fromkeys([*phase.scope.paths, *changed])),
        )

    def doctor_decided(self, ctx: AttemptContext, attempt: int, decision: DoctorDecision) -> None:
        phase = ctx.phase
        error = self._last_error.get((ctx.run_id, phase.phase_id), "")
        lines = [f"Doctor's action: {decision.action.value}", f"Why: {decision.rationale}"]
        if decision.hint:
            lines.append(f"Hint: {decision.hint}")
        if error:
            lines.append(f"After: {error}")
        subject = decision.hint or decision.rationale
        self._store(
            ctx.engine,
            Note(
                id=f"doctor:{ctx.run_id}:{phase.phase_id}:{attempt}",
                kind="doctor_hint" if decision.hint else "decision",
                title=f"Doctor ({decision.action.value}): {subject}"[:300],
                text="\n".join(lines),
                run_id=ctx.run_id,
                phase_id=phase.phase_id,
                category=phase.task_category,
                paths=tuple(phase.scope.paths),
            ),
        )

    def run_finished(self, engine: Engine, run_id: str, state: str, reason: str) -> None:
        run = engine.store.get_run(run_id)
        lines = [f"Goal: {run.goal}", f"Ended: {state} ({reason})", "Phases:"]
        lines += [
            f"- {p.phase_id} ({p.name}, {p.task_category}): {p.state} after "
            f"{p.attempts_used} attempt(s)"
            for p in run.phases
        ]
        paths = dict.fromkeys(path for p in run.phases for path in p.scope.get("paths", []))
        self._store(
            engine,
            Note(
                id=f"run:{run_id}",
                kind="run_summary",
                title=f"Run {run_id}: {state}",
                text="\n".join(lines),
                run_id=run_id,
                paths=tuple(paths),
            ),
        )
