"""What retrieval memory stores (:class:`Note`), finds (:class:`Hit`) and where (a backend).

A note has a stable string id chosen by whoever writes it (``fix:<run>:<phase>``,
``doc:<path>#<slug>``, ...), so writing the same note again is an update, never a copy, and
re-indexing can ask a backend which ids it holds under a prefix (:meth:`MemoryBackend.ids`)
together with each note's :attr:`Note.digest` to leave unchanged notes untouched.

Backends (chosen by :func:`open_backend` from a table of dotted paths, imported lazily so the
optional Qdrant extra is only imported when it is asked for):

- ``fts`` — SQLite FTS5 with BM25 ranking, :mod:`autopack.memory.fts` (default, no service);
- ``qdrant`` — Qdrant with sentence embeddings, :mod:`autopack.memory.qdrant` (optional extra
  ``memory-qdrant``; remote with ``QDRANT_HOST``, else embedded in the data directory).

Errors: :class:`MemoryStoreError` (code ``memory_error``) for anything a backend cannot do
(unreadable file, unreachable service, missing extra); the engine's learner reports it and
the run goes on.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict, Field

from autopack.errors import AutopackError

if TYPE_CHECKING:
    from autopack.settings import Settings

__all__ = [
    "BACKENDS",
    "NOTE_KINDS",
    "Hit",
    "MemoryBackend",
    "MemoryStoreError",
    "Note",
    "NoteKind",
    "open_backend",
]

NoteKind = Literal["run_summary", "error", "fix", "doctor_hint", "decision", "planning", "doc"]
NOTE_KINDS: tuple[str, ...] = get_args(NoteKind)


class MemoryStoreError(AutopackError):
    """A memory backend could not do what was asked (message written for a person)."""

    code = "memory_error"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Note(BaseModel):
    """One thing worth remembering; ``id`` is stable (same id = same note, updated)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=500)
    kind: NoteKind
    title: str
    text: str
    run_id: str | None = None
    phase_id: str | None = None
    category: str | None = None
    paths: tuple[str, ...] = ()
    created_at: str = Field(default_factory=_now, description="ISO 8601, UTC.")

    @property
    def digest(self) -> str:
        """A hash of everything but ``created_at``: equal digests, nothing to re-write."""
        data = self.model_dump(exclude={"created_at"})
        raw = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class Hit:
    """A note found by a search; ``score``: higher is more relevant (scales differ by backend)."""

    note: Note
    score: float


class MemoryBackend(Protocol):
    """Where notes live. Every method is safe to call from several threads."""

    name: str

    def upsert(self, notes: Sequence[Note]) -> int:
        """Insert or replace notes by id; returns how many were new or changed."""
        ...

    def search(
        self, query: str, *, kinds: Collection[str] | None = None, limit: int = 10
    ) -> list[Hit]:
        """The notes most relevant to ``query`` (plain user text, never query syntax)."""
        ...

    def get(self, note_id: str) -> Note | None:
        """One note by id."""
        ...

    def delete(self, ids: Iterable[str]) -> int:
        """Delete notes by id; returns how many existed."""
        ...

    def count(self, kinds: Collection[str] | None = None) -> int:
        """How many notes (of the given kinds)."""
        ...

    def ids(self, prefix: str = "") -> dict[str, str]:
        """``{id: digest}`` of the notes whose id starts with ``prefix`` (for re-indexing)."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...


BACKENDS: dict[str, str] = {
    "fts": "autopack.memory.fts:FtsBackend",
    "qdrant": "autopack.memory.qdrant:QdrantBackend",
}
"""Backend name → ``module:class``; each class has ``from_settings(settings)``."""


def open_backend(settings: Settings, name: str | None = None) -> MemoryBackend:
    """The configured backend (``settings.resolved_memory_backend()`` unless ``name``)."""
    name = name or settings.resolved_memory_backend()
    target = BACKENDS.get(name)
    if target is None:
        raise MemoryStoreError(f"unknown memory backend {name!r}: use one of {', '.join(BACKENDS)}")
    module_name, _, cls_name = target.partition(":")
    module = importlib.import_module(module_name)
    backend: MemoryBackend = getattr(module, cls_name).from_settings(settings)
    return backend
