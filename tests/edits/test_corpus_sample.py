"""A fast slice of the benchmark corpus: zero wrong applications, negatives refused."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from autopack.edits import apply_answer

_RUN = Path(__file__).parents[2] / "bench" / "edits" / "run.py"


def _load_cases() -> list[dict]:
    spec = importlib.util.spec_from_file_location("bench_edits_run", _RUN)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_cases()


def test_sample_of_corpus_is_applied_right_or_refused():
    cases = _load_cases()
    assert len(cases) >= 300
    sample = cases[::5]
    for case in sample:
        before = case["before"]
        result = apply_answer(before, case["answer"])
        if case["expect"] == "refuse":
            assert not result.ok, case["id"]
            continue
        assert result.ok, (case["id"], result.for_model())
        after = {p: t for p, t in before.items()}
        after.update(result.files)
        expected = {p: t for p, t in case["after"].items()}
        got = {p: after.get(p) for p in expected}
        assert got == expected, case["id"]
