"""The curated public surface of autopack.llm, and no SDK import at package import."""

from __future__ import annotations

import subprocess
import sys

import autopack.llm as llm


def test_all_names_exist() -> None:
    for name in llm.__all__:
        assert hasattr(llm, name), name
    assert {"Provider", "Completion", "CompletionRequest", "make_provider", "LlmError"} <= set(
        llm.__all__
    )


def test_importing_the_package_imports_no_sdk() -> None:
    code = (
        "import sys, autopack.llm; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('anthropic', 'openai')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
