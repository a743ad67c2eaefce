"""Helpers for the run-specification tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.spec import SpecError, SpecIssue, load_spec_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def example_files() -> list[Path]:
    """Every example plan (the README is documentation, not a plan)."""
    return sorted(p for p in EXAMPLES.iterdir() if p.suffix in {".json", ".yaml", ".yml"})


def issues_of(text: str, fmt: str | None = None) -> list[SpecIssue]:
    """The issues loading ``text`` reports (fails the test when it loads)."""
    with pytest.raises(SpecError) as info:
        load_spec_text(text, fmt=fmt)  # type: ignore[arg-type]
    return info.value.issues


def lines_of(text: str, fmt: str | None = None) -> list[str]:
    """``loc: message`` for each issue."""
    return [str(issue) for issue in issues_of(text, fmt)]
