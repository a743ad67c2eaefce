"""Indexing source-of-truth docs: sections by heading, stable ids, idempotent re-indexing."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.memory.docs import DEFAULT_DOCS, index_docs, slugify, split_sections
from autopack.memory.fts import FILE_NAME, FtsBackend
from autopack.memory.notes import MemoryStoreError
from autopack.policy.governance import GovernanceConfig

DEBUG_LOG = """\
Preamble before any heading.

# Debug log

## 2024-05-01: database is locked

Two workers shared one SQLite connection. Fixed with WAL and a busy timeout.

```python
# Not a heading: inside a fence
conn.execute("PRAGMA journal_mode=WAL")
```

## Flaky test
First flaky test: the clock.

## Flaky test
Second flaky test: the network.

#### Deep heading stays in its section
detail
"""


def test_sections_split_at_headings_outside_fences() -> None:
    sections = split_sections(DEBUG_LOG)
    assert [s.slug for s in sections] == [
        "top",
        "debug-log",
        "2024-05-01-database-is-locked",
        "flaky-test",
        "flaky-test-2",
    ]
    locked = sections[2]
    assert "# Not a heading: inside a fence" in locked.body
    assert "Deep heading stays in its section" in sections[4].body
    assert slugify("  Übersicht: API & CLI (v2)! ") == "übersicht-api-cli-v2"
    assert slugify("***") == "section"


@pytest.fixture
def backend(tmp_path: Path) -> FtsBackend:
    return FtsBackend(tmp_path / FILE_NAME)


def test_reindexing_is_idempotent(tmp_path: Path, backend: FtsBackend) -> None:
    root = tmp_path / "project"
    (root / "docs").mkdir(parents=True)
    (root / "DEBUG_LOG.md").write_text(DEBUG_LOG)
    (root / "docs" / "ARCHITECTURE_DECISIONS.md").write_text("# ADR 1\nUse SQLite FTS5.\n")

    first = index_docs(backend, root)
    assert (first.files, first.added, first.changed, first.deleted) == (2, 6, 0, 0)
    ids = backend.ids("doc:")
    assert set(ids) == {
        "doc:DEBUG_LOG.md#top",
        "doc:DEBUG_LOG.md#debug-log",
        "doc:DEBUG_LOG.md#2024-05-01-database-is-locked",
        "doc:DEBUG_LOG.md#flaky-test",
        "doc:DEBUG_LOG.md#flaky-test-2",
        "doc:docs/ARCHITECTURE_DECISIONS.md#adr-1",
    }
    stamp = backend.get("doc:DEBUG_LOG.md#flaky-test").created_at

    again = index_docs(backend, root)
    assert (again.added, again.changed, again.unchanged, again.deleted) == (0, 0, 6, 0)
    assert backend.ids("doc:") == ids

    edited = DEBUG_LOG.replace("Second flaky test: the network.", "Second: DNS timeouts.")
    edited = edited.replace("## 2024-05-01: database is locked", "## 2024-05-01: locked db")
    (root / "DEBUG_LOG.md").write_text(edited)
    (root / "docs" / "ARCHITECTURE_DECISIONS.md").unlink()
    third = index_docs(backend, root)
    assert (third.added, third.changed, third.unchanged, third.deleted) == (1, 1, 3, 2)
    assert backend.get("doc:DEBUG_LOG.md#flaky-test").created_at == stamp  # untouched
    assert "DNS" in backend.get("doc:DEBUG_LOG.md#flaky-test-2").text
    assert backend.get("doc:DEBUG_LOG.md#2024-05-01-database-is-locked") is None
    assert backend.get("doc:DEBUG_LOG.md#2024-05-01-locked-db") is not None
    assert backend.count(["doc"]) == 5
    assert backend.search("DNS timeouts", kinds=["doc"])[0].note.paths == ("DEBUG_LOG.md",)


def test_only_doc_notes_of_the_indexed_paths_are_touched(
    tmp_path: Path, backend: FtsBackend
) -> None:
    (tmp_path / "PLAN.md").write_text("# Next\nship it\n")
    (tmp_path / "OTHER.md").write_text("# Other\nkeep\n")
    index_docs(backend, tmp_path, ["PLAN.md", "OTHER.md"])
    report = index_docs(backend, tmp_path, ["PLAN.md"])  # OTHER.md not asked for: kept
    assert report.deleted == 0 and backend.get("doc:OTHER.md#other") is not None
    assert "docs/BUILD_HISTORY.md" in DEFAULT_DOCS


def test_paths_are_checked(tmp_path: Path, backend: FtsBackend) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "secret.md").write_text("# Secret\n")
    (tmp_path / "project" / "link.md").symlink_to(tmp_path / "secret.md")
    with pytest.raises(MemoryStoreError):
        index_docs(backend, tmp_path / "project", ["../secret.md"])
    with pytest.raises(MemoryStoreError):
        index_docs(backend, tmp_path / "project", ["link.md"])
    (tmp_path / "project" / ".env.md").write_text("# Keys\nTOKEN=abc\n")
    deny = GovernanceConfig.load().deny
    with pytest.raises(MemoryStoreError, match="protected by governance"):
        index_docs(backend, tmp_path / "project", [".env.md"], deny=deny)
    assert backend.count() == 0
    assert index_docs(backend, tmp_path / "project", [".env.md"]).added == 1  # no deny list
