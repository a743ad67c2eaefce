"""The SQLite FTS5 backend: BM25 ranking over a realistic memory, escaping, idempotence."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autopack.memory.fts import FILE_NAME, FtsBackend, fts_query
from autopack.memory.notes import Note, open_backend
from autopack.memory.retrieval import Retriever
from autopack.settings import load_settings
from autopack.spec.models import PhaseSpec
from support.memory_corpus import corpus


@pytest.fixture
def backend(tmp_path: Path) -> FtsBackend:
    b = FtsBackend(tmp_path / FILE_NAME)
    notes = corpus()
    assert len(notes) >= 200
    assert b.upsert(notes) == len(notes)
    return b


def _phase(name: str, paths: list[str], category: str = "feature_scaffolding") -> PhaseSpec:
    return PhaseSpec.model_validate(
        {
            "phase_id": "new-phase",
            "phase_index": 0,
            "name": name,
            "task_category": category,
            "complexity": "low",
            "scope": {"paths": paths},
        }
    )


# A new failure (other temp dir, other line numbers, other test) and the fix it needs.
NEW_FAILURES = [
    (
        _phase("read the settings file", ["src/app/settings_loader.py"]),
        "ERROR collecting tests/test_settings_loader.py\n"
        "/tmp/pytest-of-root/pytest-77/test_loader0/src/app/settings_loader.py:3: in <module>\n"
        "    import yaml\nE   ModuleNotFoundError: No module named 'yaml'",
        "fix:run-1:p1",
    ),
    (
        _phase("mul gets a default", ["calc.py"]),
        "FAILED tests/test_calc.py::test_mul_one - TypeError: mul() missing 1 required "
        "positional argument: 'b'",
        "fix:run-3:p17",
    ),
    (
        _phase("parallel writers", ["src/app/store.py"], "debt_cleanup"),
        "E   sqlite3.OperationalError: database is locked\ntests/test_store.py:88: in "
        "test_two_workers",
        "fix:run-6:p27",
    ),
    (
        _phase("add the orders table", ["migrations/versions/0012_orders.py"]),
        "alembic upgrade head\nERROR [alembic.util.messaging] Multiple head revisions are "
        "present for given argument 'head'; please specify a specific target revision",
        "fix:run-0:p28",
    ),
    (
        _phase("settings import", ["src/app/config.py"], "cross_cutting_refactor"),
        "ImportError: cannot import name 'Settings' from partially initialized module "
        "'app.config' (most likely due to a circular import) (/tmp/x/src/app/config.py)",
        "fix:run-6:p41",
    ),
]


@pytest.mark.parametrize(("phase", "error", "want"), NEW_FAILURES, ids=lambda v: str(v)[:20])
def test_the_relevant_past_fix_is_ranked_first(
    backend: FtsBackend, phase: PhaseSpec, error: str, want: str
) -> None:
    fix = backend.get(want)
    assert fix is not None and fix.kind == "fix"
    hits = Retriever(backend).hits(phase, "builder", [error])
    assert hits[0].note.id == want, [h.note.id for h in hits[:5]]
    # Also among every kind of note (errors, summaries, plans), fixes only as a filter.
    assert backend.search(error, kinds=["fix"], limit=5)[0].note.id == want


def test_title_weighs_more_than_text(tmp_path: Path) -> None:
    b = FtsBackend(tmp_path / FILE_NAME)
    b.upsert(
        [
            Note(id="in-text", kind="fix", title="Unrelated", text="flaky websocket reconnect"),
            Note(id="in-title", kind="fix", title="Flaky websocket reconnect", text="Unrelated"),
        ]
    )
    assert [h.note.id for h in b.search("websocket reconnect")] == ["in-title", "in-text"]


SYNTAX = [
    'no module named "yaml',
    "mul() OR NOT AND NEAR(a b, 2)",
    "title:secret* ^start -excluded +plus",
    "{text title}: col filter",
    "unbalanced ( ( ) ] quotes ' \"\" '' \\ ; -- DROP TABLE notes;",
    "* ** : ^ NEAR",
    "",
]


@pytest.mark.parametrize("text", SYNTAX)
def test_user_text_never_reaches_fts_syntax(backend: FtsBackend, text: str) -> None:
    query = fts_query(text)
    # Every term is a quoted string joined by OR: nothing else can appear.
    for term in query.split(" OR ") if query else []:
        assert term.startswith('"') and term.endswith('"') and '"' not in term[1:-1]
    backend.search(text, limit=3)  # no sqlite3.OperationalError: fts5 syntax error
    assert backend.count() == len(corpus())  # and certainly no statement ran


def test_fts_syntax_characters_still_find_the_words(backend: FtsBackend) -> None:
    hits = backend.search('NEAR("yaml" -) ModuleNotFoundError:*', kinds=["fix"], limit=3)
    assert hits[0].note.id == "fix:run-1:p1"


def test_raw_fts_would_have_failed(tmp_path: Path) -> None:
    """The escaping matters: the same text as a raw MATCH is a syntax error in FTS5."""
    b = FtsBackend(tmp_path / FILE_NAME)
    b.upsert([Note(id="a", kind="fix", title="t", text="x")])
    conn = sqlite3.connect(b.path)
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("SELECT * FROM notes_fts WHERE notes_fts MATCH ?", ('mul() "b',)).fetchall()
    conn.close()


def test_upsert_by_id_is_idempotent_and_updates(tmp_path: Path) -> None:
    b = FtsBackend(tmp_path / FILE_NAME)
    note = Note(id="fix:r:p", kind="fix", title="Fix for gamma", text="old text")
    assert b.upsert([note]) == 1
    assert b.upsert([note.model_copy(update={"created_at": "2030-01-01T00:00:00+00:00"})]) == 0
    assert b.get("fix:r:p").created_at == note.created_at  # untouched, not rewritten
    assert b.upsert([note.model_copy(update={"text": "new delta text"})]) == 1
    assert b.count() == 1
    assert b.search("delta")[0].note.text == "new delta text"
    assert b.search("old") == []  # the index follows the update
    assert b.delete(["fix:r:p", "missing"]) == 1
    assert b.search("delta") == [] and b.count() == 0


def test_kinds_ids_and_count(backend: FtsBackend) -> None:
    assert backend.count(["fix"]) == len([n for n in corpus() if n.kind == "fix"])
    assert backend.count([]) == 0
    assert all(
        h.note.kind == "doctor_hint" for h in backend.search("sqlite", kinds=["doctor_hint"])
    )
    ids = backend.ids("fix:run-1:")
    assert ids and all(i.startswith("fix:run-1:") for i in ids)
    assert ids["fix:run-1:p1"] == backend.get("fix:run-1:p1").digest
    assert backend.ids("fix:run-1%") == {}  # a prefix, not a LIKE pattern


def test_threads_write_and_read_one_file(tmp_path: Path) -> None:
    b = FtsBackend(tmp_path / FILE_NAME)

    def work(n: int) -> int:
        b.upsert(
            [Note(id=f"t{n}-{k}", kind="error", title=f"worker {n}", text="x") for k in range(20)]
        )
        return len(b.search(f"worker {n}", limit=50))

    with ThreadPoolExecutor(8) as pool:
        assert all(found >= 20 for found in pool.map(work, range(8)))
    assert b.count() == 160


def test_processes_share_the_file(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from autopack.memory.fts import FtsBackend
        from autopack.memory.notes import Note
        b = FtsBackend(Path({str(path)!r}))
        n = sys.argv[1]
        for k in range(30):
            b.upsert([Note(id=f"p{{n}}-{{k}}", kind="fix", title="proc " + n, text="shared")])
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    b = FtsBackend(path)
    assert b.count() == 90
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_open_backend_uses_its_own_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(workspace=tmp_path, enable_memory=True)
    backend = open_backend(settings)
    assert backend.name == "fts"
    backend.upsert([Note(id="x", kind="decision", title="t", text="x")])
    assert (tmp_path / ".autopack" / FILE_NAME).is_file()
    assert not (tmp_path / ".autopack" / "autopack.db").exists()


def test_an_unusable_data_dir_is_a_memory_error_and_a_learning_error(tmp_path: Path) -> None:
    from autopack.engine.learn_memory import MemoryLearner
    from autopack.engine.learning import LearningError
    from autopack.memory.notes import MemoryStoreError

    (tmp_path / "data").write_text("a file where the data directory should be")
    settings = load_settings(workspace=tmp_path, data_dir_override=tmp_path / "data")
    with pytest.raises(MemoryStoreError, match="data directory"):
        open_backend(settings)
    with pytest.raises(LearningError, match="data directory"):
        _ = MemoryLearner(settings).backend
