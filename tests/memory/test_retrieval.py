"""Retrieval for prompts: the role's budget, no note twice, nothing already in the context."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.agents import ContextAssembler, ContextConfig, ContextInputs
from autopack.llm.base import estimate_tokens
from autopack.memory.fts import FILE_NAME, FtsBackend
from autopack.memory.notes import Note
from autopack.memory.retrieval import Retriever, build_query, error_signature
from autopack.spec.models import PhaseSpec
from support.memory_corpus import corpus

PHASE = PhaseSpec.model_validate(
    {
        "phase_id": "cache",
        "phase_index": 0,
        "name": "cache the exchange rates",
        "task_category": "feature_scaffolding",
        "complexity": "low",
        "scope": {
            "paths": ["src/rates/", "docs/CACHE.md", "notes/**/*.md"],
            "read_only_context": [{"path": "ARCHITECTURE_DECISIONS.md", "reason": "adr"}],
        },
    }
)


@pytest.fixture
def backend(tmp_path: Path) -> FtsBackend:
    return FtsBackend(tmp_path / FILE_NAME)


@pytest.fixture
def full(backend: FtsBackend) -> FtsBackend:
    """With a realistic memory around (BM25 needs other documents to weigh terms)."""
    backend.upsert(corpus())
    return backend


def _doc(path: str, slug: str) -> Note:
    return Note(
        id=f"doc:{path}#{slug}",
        kind="doc",
        title=f"{path}: exchange rates cache",
        text=f"How the exchange rates cache works ({path}).",
        paths=(path,),
    )


def test_doc_hits_already_in_the_context_are_skipped(full: FtsBackend) -> None:
    backend = full
    backend.upsert(
        [
            _doc("docs/CACHE.md", "design"),  # a scope file
            _doc("src/rates/README.md", "notes"),  # under a scope directory
            _doc("ARCHITECTURE_DECISIONS.md", "adr-7"),  # read-only context
            _doc("docs/BUILD_HISTORY.md", "rates"),  # not in the context: shown
            _doc("src/rates_old/README.md", "x"),  # a sibling, not under src/rates/
            _doc("notes/2024/rates.md", "y"),  # matches the scope glob notes/**/*.md
        ]
    )
    hits = Retriever(backend).hits(PHASE, "builder")
    assert sorted(h.note.id for h in hits if h.note.kind == "doc") == [
        "doc:docs/BUILD_HISTORY.md#rates",
        "doc:src/rates_old/README.md#x",
    ]


def test_duplicates_and_this_phase_s_own_errors_are_skipped(full: FtsBackend) -> None:
    backend = full
    same = "Cache rates with a TTL of one hour; the exchange rates API limits calls."
    backend.upsert(
        [
            Note(id="fix:r1:cache", kind="fix", title="exchange rates cache fix", text=same),
            Note(id="fix:r2:cache", kind="fix", title="exchange rates cache fix", text=same),
            Note(
                id="error:now:cache:1",
                kind="error",
                title="exchange rates cache KeyError",
                text="KeyError: 'EUR' in the rates cache",
                run_id="now",
                phase_id="cache",
            ),
            Note(
                id="error:old:cache:1",
                kind="error",
                title="exchange rates cache KeyError",
                text="KeyError: 'USD' in the rates cache (older run)",
                run_id="old",
                phase_id="cache",
            ),
        ]
    )
    r = Retriever(backend)
    doctor = [h.note.id for h in r.hits(PHASE, "doctor", ["KeyError: 'EUR'"], run_id="now")]
    assert len([i for i in doctor if i.startswith("fix:")]) == 1  # same text: shown once
    assert "error:old:cache:1" in doctor  # the same error in another run helps the Doctor
    assert "error:now:cache:1" not in doctor  # already in the prompt as the previous error
    builder = [h.note.id for h in r.hits(PHASE, "builder", ["KeyError"], run_id="now")]
    assert builder and not any(i.startswith("error:") for i in builder)  # Builder: no errors
    assert r.notes(PHASE, "auditor", ["KeyError"]) == ()


def _prompt_cost(notes: tuple[str, ...]) -> int:
    """What the notes cost as the prompt renders them (see ContextAssembler)."""
    return sum(estimate_tokens(f"### Memory {i}\n{n}\n\n") for i, n in enumerate(notes, 1))


@pytest.mark.parametrize("budget", [150, 400, 2_000])
def test_notes_fit_the_role_budget(backend: FtsBackend, budget: int) -> None:
    long_text = "exchange rates cache invalidation detail. " * 200  # ~2,900 tokens each
    backend.upsert(
        [
            Note(id=f"fix:{i}", kind="fix", title=f"rates cache fix {i}", text=f"{i} {long_text}")
            for i in range(10)
        ]
    )
    r = Retriever(backend, budgets={"builder": budget, "doctor": budget})
    notes = r.notes(PHASE, "builder", ["exchange rates cache"])
    assert notes, "at least one (trimmed) note fits"
    assert _prompt_cost(notes) <= budget
    assert all(n.startswith("[fix] rates cache fix") for n in notes)
    assert all("[... cut ...]" in n for n in notes)  # each one was cut to fit
    assert len(notes) >= min(3, budget // 150)


def test_a_zero_budget_or_empty_memory_adds_nothing(backend: FtsBackend) -> None:
    assert Retriever(backend).notes(PHASE, "builder", ["anything"]) == ()
    backend.upsert([Note(id="fix:1", kind="fix", title="exchange rates", text="x")])
    assert Retriever(backend, budgets={"builder": 0}).notes(PHASE, "builder") == ()
    assert Retriever(backend).notes(PHASE, "builder")


def test_notes_reach_the_builder_context_within_its_budget(
    backend: FtsBackend, tmp_path: Path
) -> None:
    backend.upsert([Note(id="fix:1", kind="fix", title="exchange rates cache", text="TTL 1h")])
    notes = Retriever(backend).notes(PHASE, "builder", [])
    assembler = ContextAssembler(tmp_path, ContextConfig(budget_tokens=4_000), deny=[])
    ctx = assembler.assemble(ContextInputs(phase=PHASE, memory=notes))
    [section] = ctx.of_kind("memory")
    assert "[fix] exchange rates cache" in section.text and "TTL 1h" in section.text
    assert section.tokens == _prompt_cost(notes)


def test_error_signatures_ignore_line_numbers_temp_paths_and_addresses() -> None:
    a = (
        'tests/test_x.py::test_a FAILED\n  File "/tmp/pytest-of-ci/pytest-12/t0/src/x.py", '
        "line 41, in f\nValueError: bad value 17 at 0x7f3a2c"
    )
    b = (
        'tests/test_x.py::test_a FAILED\n  File "/tmp/pytest-of-dev/pytest-3/t9/src/x.py", '
        "line 45, in f\nValueError: bad value 23 at 0x55e1"
    )
    assert error_signature(a) == error_signature(b)
    assert "ValueError: bad value N" in error_signature(a)
    assert error_signature("ValueError: bad value") != error_signature("KeyError: 'bad'")


def test_the_query_starts_with_the_error_signature() -> None:
    query = build_query(PHASE, ["lots of noise\nKeyError: 'EUR'\nmore"])
    assert query.startswith("KeyError: 'EUR'")
    assert "cache the exchange rates" in query and "src/rates/" in query
