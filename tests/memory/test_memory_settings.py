"""The memory settings: off by default, flags like every other, the backend resolved."""

from __future__ import annotations

import pytest

from autopack.settings import SettingsError, load_settings


def test_defaults_keep_memory_off(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert (s.enable_memory, s.memory_index_docs) == (False, False)
    assert s.resolved_memory_backend() == "fts"
    assert s.memory_doc_list() is None
    assert (s.memory_builder_tokens, s.memory_doctor_tokens) == (2_000, 1_000)


@pytest.mark.parametrize("value", ["1", "true", "YES", "On"])
def test_flags_accept_the_usual_spellings(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AUTOPACK_ENABLE_MEMORY", value)
    monkeypatch.setenv("AUTOPACK_MEMORY_INDEX_DOCS", value)
    s = load_settings()
    assert s.enable_memory and s.memory_index_docs


def test_backend_docs_and_budgets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QDRANT_HOST", "localhost:6333")
    assert load_settings().resolved_memory_backend() == "qdrant"  # auto: QDRANT_HOST wins
    monkeypatch.setenv("AUTOPACK_MEMORY_BACKEND", " FTS ")
    monkeypatch.setenv("AUTOPACK_MEMORY_DOCS", " docs/A.md, ,B.md ")
    monkeypatch.setenv("AUTOPACK_MEMORY_BUILDER_TOKENS", "500")
    s = load_settings()
    assert s.resolved_memory_backend() == "fts"
    assert s.memory_doc_list() == ["docs/A.md", "B.md"]
    assert s.memory_builder_tokens == 500
    monkeypatch.setenv("AUTOPACK_MEMORY_BACKEND", "chroma")
    with pytest.raises(SettingsError, match="AUTOPACK_MEMORY_BACKEND"):
        load_settings()
