"""From a phase and its last errors to the memory notes of a Builder or Doctor prompt.

:func:`build_query` puts the most telling words first (normalised error signatures, then the
phase's name, category, paths and description, then the error text), because backends cap
the terms (FTS) or tokens (embeddings) they use. :class:`Retriever` searches the kinds that
help each role, keeps hits scoring at least ``relative_floor`` of the best one, and renders
them within the role's token budget (:func:`autopack.llm.base.estimate_tokens`), skipping:

- ``doc`` notes about a file the phase's context already shows (its scope paths and
  read-only context, a directory covering the files under it);
- ``error`` notes of the same run and phase (the prompt has that phase's errors already);
- the same note twice, and notes with the same text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from autopack.llm.base import estimate_tokens
from autopack.memory.notes import Hit, MemoryBackend, Note
from autopack.policy.governance import matches
from autopack.spec.models import PhaseSpec

__all__ = [
    "ROLE_KINDS",
    "Retriever",
    "build_query",
    "context_paths",
    "error_signature",
    "render_note",
]

ROLE_KINDS: dict[str, tuple[str, ...]] = {
    "builder": ("fix", "doctor_hint", "decision", "planning", "doc"),
    "doctor": ("fix", "error", "doctor_hint", "decision", "doc", "run_summary"),
}
"""What each role is shown: the Builder what helps it write, the Doctor the history too."""

_SPECIFIC = re.compile(
    r"^E\s+\S|^--- \S+::\S+ ---$|\b\w*(Error|Exception)\b|\[[a-z_]+\]\s*$", re.MULTILINE
)
"""Lines that name the failure itself: exceptions, pytest's ``E`` lines, a failing test's
header, an edit error with its code."""
_ERROR_LINE = re.compile(
    r"(error|exception|traceback|failed|failure|refused|denied|not found|no module|"
    r"missing|cannot|can't|unable|timed? ?out|assert)",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"^(Command:|Checks:|Your answer was NOT applied|Send the whole answer|New failures|"
    r"Pre-existing failures|- \S+::)"
)
"""Lines every failure of a kind shares (Autopack's own framing): never a signature."""
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")
_ABS_PATH = re.compile(r"(?:/[\w.+-]+){2,}/([\w.+-]+)")
_LINE_NO = re.compile(r"\b(line|lines|col|column)\s+\d+", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
_SPACE = re.compile(r"\s+")
_NOTE_SEPARATOR = "\n\n"


def error_signature(text: str, *, max_chars: int = 240) -> str:
    """A short, stable form of an error: its telling lines without numbers and temp paths.

    The same failure in two runs (other line numbers, other temp dirs, other durations) gets
    the same signature, so it can be recognised and searched for.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    framed = [ln for ln in lines if not _BOILERPLATE.match(ln)]
    telling = (
        [ln for ln in framed if _SPECIFIC.search(ln)]
        or [ln for ln in framed if _ERROR_LINE.search(ln)]
        or (framed or lines)[:1]
    )
    out: list[str] = []
    for line in telling:
        line = re.sub(r"^(E\s+|--- )|( ---)$", "", line)
        line = _HEX.sub("0x?", line)
        line = _ABS_PATH.sub(r"\1", line)
        line = _LINE_NO.sub(r"\1 N", line)
        line = _NUMBER.sub("N", line)
        line = _SPACE.sub(" ", line).strip()
        if line and line not in out:
            out.append(line)
        if sum(len(x) for x in out) >= max_chars:
            break
    return " | ".join(out)[:max_chars]


def build_query(phase: PhaseSpec, errors: Sequence[str] = (), *, error_chars: int = 1_500) -> str:
    """Plain text to search memory with, most telling words first."""
    parts = [error_signature(e) for e in errors if e.strip()]
    parts += [phase.name, phase.task_category or "", *phase.scope.paths]
    parts += [d.target for d in phase.scope.deliverables]
    parts.append(phase.description)
    parts += [e[:error_chars] for e in errors]
    return "\n".join(p for p in parts if p)


def context_paths(phase: PhaseSpec) -> tuple[str, ...]:
    """The paths whose files the phase's context already shows (scope and read-only)."""
    paths = [*phase.scope.paths, *(r.path for r in phase.scope.read_only_context)]
    return tuple(p.strip("/") for p in paths if p.strip("/"))


def _covered(path: str, context: Sequence[str]) -> bool:
    """``path`` is one of ``context``, under one of its directories, or matches its glob."""
    path = path.strip("/")
    return any(
        path == c or path.startswith(c + "/") or (any(ch in c for ch in "*?[") and matches(c, path))
        for c in context
    )


def render_note(note: Note) -> str:
    """A note as the prompt shows it: kind, title and where it comes from, then its text."""
    origin = [f"run {note.run_id}"] if note.run_id else []
    if note.phase_id:
        origin.append(f"phase {note.phase_id}")
    if note.category:
        origin.append(note.category)
    where = f" ({', '.join(origin)})" if origin else ""
    return f"[{note.kind}] {note.title}{where}\n{note.text}".strip()


def _cut(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text`` (titles and openings matter most), marked."""
    return text if len(text) <= limit else text[:limit].rstrip() + "\n[... cut ...]"


def _fingerprint(text: str) -> str:
    return hashlib.sha256(_SPACE.sub(" ", text).strip().lower().encode()).hexdigest()


@dataclass
class Retriever:
    """Searches a backend and renders notes for one role within its budget."""

    backend: MemoryBackend
    budgets: dict[str, int] = field(default_factory=lambda: {"builder": 2_000, "doctor": 1_000})
    limit: int = 12
    """Hits asked of the backend per search (before filtering)."""
    relative_floor: float = 0.25
    """Hits scoring below this share of the best hit's score are noise, not memory."""
    estimate: Callable[[str], int] = estimate_tokens

    def hits(
        self,
        phase: PhaseSpec,
        role: str,
        errors: Sequence[str] = (),
        *,
        run_id: str | None = None,
    ) -> list[Hit]:
        """The relevant notes for ``role``, best first, filtered as the module says."""
        kinds = ROLE_KINDS.get(role)
        if not kinds:
            return []
        found = self.backend.search(build_query(phase, errors), kinds=kinds, limit=self.limit)
        if not found:
            return []
        floor = found[0].score * self.relative_floor if found[0].score > 0 else float("-inf")
        context = context_paths(phase)
        seen: set[str] = set()
        out: list[Hit] = []
        for hit in found:
            n = hit.note
            if hit.score < floor or n.id in seen:
                continue
            if n.kind == "doc" and any(_covered(p, context) for p in n.paths):
                continue
            if n.kind == "error" and run_id and n.run_id == run_id and n.phase_id == phase.phase_id:
                continue
            text = _fingerprint(n.text)
            if text in seen:
                continue
            seen.update((n.id, text))
            out.append(hit)
        return out

    def render(self, hits: Sequence[Hit], budget: int) -> tuple[str, ...]:
        """Rendered notes, best first, whose total (as prompt sections) fits ``budget``.

        A note longer than a third of the budget is cut at the end; one that does not
        fit what is left is skipped (a shorter one after it may still fit).
        """
        cap = max(budget // 3, 120)
        out: list[str] = []
        left = budget
        for hit in hits:
            text = render_note(hit.note)
            # The prompt adds a "### Memory N" heading and a blank line to each note.
            overhead = self.estimate(f"### Memory {len(out) + 1}\n{_NOTE_SEPARATOR}")
            room = min(cap, left) - overhead
            limit = len(text)
            while limit > 80 and self.estimate(text) > room:
                limit = int(limit * 0.8)
                text = _cut(render_note(hit.note), limit)
            cost = self.estimate(text) + overhead
            if cost > left or self.estimate(text) > room:
                continue
            out.append(text)
            left -= cost
        return tuple(out)

    def notes(
        self,
        phase: PhaseSpec,
        role: str,
        errors: Sequence[str] = (),
        *,
        run_id: str | None = None,
    ) -> tuple[str, ...]:
        """The rendered notes for one prompt of ``role`` (empty for a role without budget)."""
        budget = self.budgets.get(role, 0)
        if budget <= 0:
            return ()
        return self.render(self.hits(phase, role, errors, run_id=run_id), budget)
