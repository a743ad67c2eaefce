"""The plan and scripted answers of the end-to-end engine tests and benchmarks."""

from __future__ import annotations

import json
from typing import Any


def _sr(search: str, replace: str, path: str = "calc.py") -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


MALFORMED = _sr("def mul(x, y):\n    return x * y\n", "def mul(a, b=1):\n    return a * b\n")
BREAKS_SUB = _sr("def sub(a, b):\n    return a - b\n", "def sub(a, b):\n    return b - a\n")
GOOD_MUL = _sr("def mul(a, b):\n    return a * b\n", "def mul(a, b=1):\n    return a * b\n")
README = "README.md\n```\n# calc\n\nadd, sub and mul; mul's second argument defaults to 1.\n```\n"
DIV = _sr("def add(a, b):\n", "def div(a, b):\n    return a / b\n\n\ndef add(a, b):\n")
APPROVE = json.dumps({"approved": True, "issues": [], "summary": "looks right"})
REJECT = json.dumps(
    {
        "approved": False,
        "issues": [{"severity": "major", "category": "correctness", "description": "no test"}],
        "summary": "needs a test",
    }
)
DOCTOR = json.dumps(
    {"action": "retry_with_fix", "rationale": "two failures", "hint": "keep sub unchanged"}
)

PLAN: dict[str, Any] = {
    "run_id": "calc-run",
    "goal": "Improve the calc module",
    "token_cap": 400_000,
    "tiers": [
        {
            "tier_id": "core",
            "tier_index": 0,
            "name": "Core",
            "phases": [
                {
                    "phase_id": "mul-default",
                    "phase_index": 0,
                    "name": "mul gets a default",
                    "task_category": "feature_scaffolding",
                    "complexity": "low",
                    "scope": {"paths": ["calc.py"], "deliverables": ["calc.py"]},
                },
                {
                    "phase_id": "readme",
                    "phase_index": 1,
                    "name": "README",
                    "task_category": "docs",
                    "complexity": "low",
                    "scope": {
                        "paths": ["README.md"],
                        "deliverables": ["README.md"],
                        "ci": {"skip": True, "reason": "docs only"},
                    },
                },
            ],
        },
        {
            "tier_id": "api",
            "tier_index": 1,
            "name": "API",
            "phases": [
                {
                    "phase_id": "div",
                    "phase_index": 0,
                    "name": "add div",
                    "task_category": "schema_contract_change",
                    "complexity": "low",
                    "scope": {"paths": ["calc.py"]},
                }
            ],
        },
    ],
}


def script(**overrides: list[dict[str, Any]]) -> dict[str, Any]:
    """The happy-path-with-setbacks script; ``overrides`` replace whole role lists."""
    answers = [
        {"role": "builder", "phase": "mul-default", "attempt": 1, "text": MALFORMED},
        {"role": "builder", "phase": "mul-default", "attempt": 2, "text": BREAKS_SUB},
        {"role": "builder", "phase": "mul-default", "attempt": 3, "text": GOOD_MUL},
        {"role": "builder", "phase": "readme", "text": README},
        {"role": "builder", "phase": "div", "text": DIV},
        {"role": "doctor", "text": DOCTOR},
        {"role": "auditor", "text": APPROVE},
        {"role": "judge", "text": APPROVE},
    ]
    for role, entries in overrides.items():
        answers = [a for a in answers if a.get("role") != role or a.get("phase")] + entries
    return {"answers": answers}
