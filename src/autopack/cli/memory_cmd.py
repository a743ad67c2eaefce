"""``autopack memory``: search retrieval memory, index the project's docs, count notes.

These commands work whether or not ``AUTOPACK_ENABLE_MEMORY`` is on (they are asked for
explicitly); the backend is the configured one (``AUTOPACK_MEMORY_BACKEND``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from autopack.cli.common import EXIT_USAGE, console, fail, get_settings
from autopack.memory.notes import NOTE_KINDS, MemoryBackend, MemoryStoreError, open_backend

app = typer.Typer(no_args_is_help=True, help="Search and index retrieval memory.")


@contextmanager
def _backend() -> Iterator[MemoryBackend]:
    settings = get_settings()
    try:
        backend = open_backend(settings)
    except MemoryStoreError as exc:
        fail(exc.message)
    try:
        yield backend
    except MemoryStoreError as exc:
        fail(exc.message)
    finally:
        backend.close()


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="Plain text (error, task, question).")],
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help=f"Only these kinds (repeatable): {', '.join(NOTE_KINDS)}."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="Most hits shown.")] = 10,
    full: Annotated[bool, typer.Option("--full", help="Print each note's text.")] = False,
) -> None:
    """The notes most relevant to QUERY, best first."""
    unknown = sorted(set(kind or ()) - set(NOTE_KINDS))
    if unknown:
        fail(f"unknown kind(s) {', '.join(unknown)}: use {', '.join(NOTE_KINDS)}", EXIT_USAGE)
    with _backend() as backend:
        hits = backend.search(query, kinds=kind or None, limit=limit)
    out = console()
    if not hits:
        out.print("no matching note")
        return
    if full:
        for h in hits:
            out.print(f"[bold]{h.score:.3f} {h.note.kind} {h.note.id}[/]\n{h.note.title}")
            out.print(h.note.text, markup=False)
            out.print()
        return
    table = Table("score", "kind", "id", "title")
    for h in hits:
        table.add_row(f"{h.score:.3f}", h.note.kind, h.note.id, h.note.title[:100])
    out.print(table)


@app.command("index-docs")
def index_docs_cmd(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Docs to index (default: AUTOPACK_MEMORY_DOCS, else the usual ones)."),
    ] = None,
) -> None:
    """(Re)index the project's source-of-truth docs; unchanged sections are left alone."""
    from autopack.memory.docs import index_docs
    from autopack.policy.governance import GovernanceConfig

    settings = get_settings()
    deny = GovernanceConfig.load(settings.resolved_governance_file()).deny
    with _backend() as backend:
        report = index_docs(
            backend, settings.workspace, paths or settings.memory_doc_list(), deny=deny
        )
    console().print(report.summary())


@app.command("stats")
def stats() -> None:
    """The backend and how many notes of each kind it holds."""
    settings = get_settings()
    with _backend() as backend:
        counts = {k: backend.count([k]) for k in NOTE_KINDS}
    table = Table("kind", "notes")
    for k, n in counts.items():
        table.add_row(k, str(n))
    table.add_row("all", str(sum(counts.values())))
    out = console()
    out.print(f"backend: {settings.resolved_memory_backend()} (data in {settings.data_dir})")
    out.print(table)
