"""A vague plan for the calculator and the scripted planner answers that refine it."""

from __future__ import annotations

import json
from typing import Any

VAGUE_PLAN = "Make the calculator nicer.\nAlso handle errors better and tidy things.\n"
"""Prose only, no path: the draft's confidence is below the default threshold."""

REFINED = {
    "goal": "Validate the calculator's inputs, with tests.",
    "phases": [
        {
            "name": "Validate calculator inputs",
            "description": "Raise TypeError for non-numbers in every function of calc.py.",
            "task_category": "feature_scaffolding",
            "complexity": "low",
            "scope_paths": ["calc.py", "src/validation/checks.py"],
            "deliverables": ["calc.py raises TypeError for non-numbers"],
        },
        {
            "name": "Tests for input validation",
            "tier": "Tests",
            "task_category": "tests",
            "scope_paths": ["tests/test_validation.py"],
            "deliverables": ["tests/test_validation.py"],
        },
    ],
}
"""The model's answer: one made-up path (``src/validation/``), one new test file."""


def planner_script(*answers: dict[str, Any] | str) -> dict[str, Any]:
    """A scripted-model script answering the ``planner`` role in order."""
    texts = [a if isinstance(a, str) else json.dumps(a) for a in (answers or (REFINED,))]
    return {"sequence": {"planner": [{"text": t} for t in texts]}}
