"""Opt-in indexing of a project's source-of-truth docs into retrieval memory.

Each markdown file is split at its headings (levels 1 to ``max_level``; fenced code is not
read for headings) and every section becomes a ``doc`` note with the stable id
``doc:<path>#<heading-slug>`` (``-2``, ``-3`` ... for a repeated heading; ``top`` for the
text before the first heading). Re-indexing is idempotent: sections whose text did not
change are left untouched, changed ones are replaced, and sections (or whole files) that are
gone are deleted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autopack.memory.notes import MemoryBackend, MemoryStoreError, Note
from autopack.policy.governance import matches

__all__ = [
    "DEFAULT_DOCS",
    "DocIndexReport",
    "Section",
    "doc_notes",
    "index_docs",
    "slugify",
    "split_sections",
]

DEFAULT_DOCS: tuple[str, ...] = (
    "BUILD_HISTORY.md",
    "docs/BUILD_HISTORY.md",
    "DEBUG_LOG.md",
    "docs/DEBUG_LOG.md",
    "ARCHITECTURE_DECISIONS.md",
    "docs/ARCHITECTURE_DECISIONS.md",
    "FUTURE_PLAN.md",
    "docs/FUTURE_PLAN.md",
    "LEARNED_RULES.md",
    "docs/LEARNED_RULES.md",
)
MAX_SECTION_CHARS = 12_000
"""A longer section is stored cut (retrieval shows a few hundred tokens of it at most)."""

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class Section:
    """A heading and the text under it (up to the next heading of level ≤ ``max_level``)."""

    slug: str
    heading: str
    body: str


@dataclass
class DocIndexReport:
    """What one indexing pass did, counted in sections."""

    files: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0

    def summary(self) -> str:
        """One line for a person."""
        return (
            f"{self.files} file(s): {self.added} section(s) added, {self.changed} changed, "
            f"{self.unchanged} unchanged, {self.deleted} deleted"
        )


def slugify(heading: str) -> str:
    """A heading as lowercase words joined with ``-`` (``section`` when nothing is left)."""
    words = re.findall(r"\w+", heading.lower().replace("_", " "))
    return "-".join(words)[:80].strip("-") or "section"


def split_sections(text: str, *, max_level: int = 3) -> list[Section]:
    """The sections of a markdown text; slugs are unique within the text."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    fence: str | None = None
    for line in text.splitlines():
        fenced = _FENCE.match(line)
        if fenced:
            mark = fenced.group(1)
            if fence is None:
                fence = mark
            elif mark[0] == fence[0] and len(mark) >= len(fence):
                fence = None
        heading = _HEADING.match(line) if fence is None and not fenced else None
        if heading and len(heading.group(1)) <= max_level:
            sections.append((heading.group(2).strip(), []))
        else:
            sections[-1][1].append(line)
    out: list[Section] = []
    seen: dict[str, int] = {}
    for heading, lines in sections:
        body = "\n".join(lines).strip()
        if not heading and not body:
            continue
        base = slugify(heading) if heading else "top"
        seen[base] = seen.get(base, 0) + 1
        slug = base if seen[base] == 1 else f"{base}-{seen[base]}"
        out.append(Section(slug, heading, body))
    return out


def _normalise(path: str) -> str:
    rel = PurePosixPath(path.replace("\\", "/").strip())
    if not path.strip() or rel.is_absolute() or ".." in rel.parts:
        raise MemoryStoreError(f"doc path {path!r} must be relative to the workspace, without ..")
    return str(rel)


def doc_notes(rel: str, text: str, *, max_level: int = 3) -> list[Note]:
    """The ``doc`` notes of one file's text (``rel``: its path in the workspace)."""
    notes = []
    for s in split_sections(text, max_level=max_level):
        title = f"{rel}: {s.heading}" if s.heading else rel
        notes.append(
            Note(
                id=f"doc:{rel}#{s.slug}",
                kind="doc",
                title=title,
                text=s.body[:MAX_SECTION_CHARS],
                paths=(rel,),
            )
        )
    return notes


def _read(root: Path, rel: str) -> str | None:
    """The file's text, or ``None`` when it is absent; never follows a path out of ``root``."""
    path = root / rel
    try:
        resolved = path.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise MemoryStoreError(f"doc {rel}: {exc}") from exc
    if not resolved.is_relative_to(root.resolve()):
        raise MemoryStoreError(f"doc {rel} resolves outside the workspace")
    if not resolved.is_file():
        return None
    try:
        return resolved.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise MemoryStoreError(f"doc {rel}: {exc}") from exc


def index_docs(
    backend: MemoryBackend,
    root: Path,
    paths: Sequence[str] | None = None,
    *,
    deny: Sequence[str] = (),
    max_level: int = 3,
) -> DocIndexReport:
    """(Re)index ``paths`` (default :data:`DEFAULT_DOCS`) under ``root``; idempotent.

    A path matching a governance ``deny`` pattern (``.env``, keys, credentials ...) is refused
    before anything is read or written: memory must never hold what prompts may not show.
    """
    report = DocIndexReport()
    for raw in DEFAULT_DOCS if paths is None else paths:
        rel = _normalise(raw)
        denied = next((p for p in deny if matches(p, rel)), None)
        if denied is not None:
            raise MemoryStoreError(f"doc {rel} is protected by governance (deny {denied!r})")
        existing = backend.ids(f"doc:{rel}#")
        text = _read(root, rel)
        notes = [] if text is None else doc_notes(rel, text, max_level=max_level)
        report.files += text is not None
        fresh = {n.id: n for n in notes}
        todo = [n for n in notes if existing.get(n.id) != n.digest]
        report.unchanged += len(notes) - len(todo)
        report.added += sum(1 for n in todo if n.id not in existing)
        report.changed += sum(1 for n in todo if n.id in existing)
        backend.upsert(todo)
        report.deleted += backend.delete(i for i in existing if i not in fresh)
    return report
