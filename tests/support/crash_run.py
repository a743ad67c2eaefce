"""A small run for crash tests: a repository, a plan, a script, and a worker process.

The plan has two tiers and four phases: ``p1`` fails its check on the first attempt (rolled
back, retried), ``p2`` is plain, ``p3`` is high risk (approval, granted in demo mode),
``p4`` is docs without checks. The check is a custom command (``python check.py``) that
takes milliseconds, so a kill can land in any step: model call, apply, check, audit, commit,
bookkeeping.

Run as a script it is the worker: ``python crash_run.py REPO SCRIPT [READY]`` creates the
run when needed, writes READY once imports and setup are done, appends each progress message
to READY's ``.progress`` sibling, and executes the run under its lease
(``AUTOPACK_LEASE_SECONDS`` from the environment); exit 0 when the run ended
``DONE_SUCCESS``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RUN_ID = "crash-run"

FILES = {
    ".gitignore": "__pycache__/\n",
    "README.md": "# shapes\n",
    "a.py": "VALUE = 1\n",
    "b.py": "NAME = 'b'\n",
    "c.py": "def area(w, h):\n    return w * h\n",
    "check.py": (
        "import a, b, c\n"
        "assert a.VALUE >= 0, 'a.VALUE must not be negative'\n"
        "assert c.area(2, 3) == 6\n"
    ),
}


def _sr(path: str, search: str, replace: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


APPROVE = json.dumps({"approved": True, "issues": [], "summary": "fine"})
DOCTOR = json.dumps({"action": "retry_with_fix", "rationale": "retry", "hint": "keep it >= 0"})


def plan() -> dict[str, Any]:
    ci = {"type": "custom", "command": ["python", "check.py"], "timeout_seconds": 60}

    def phase(pid: str, index: int, path: str, category: str, **extra: Any) -> dict[str, Any]:
        scope: dict[str, Any] = {"paths": [path], "ci": ci}
        scope.update(extra)
        return {
            "phase_id": pid,
            "phase_index": index,
            "name": f"change {path}",
            "task_category": category,
            "complexity": "low",
            "scope": scope,
        }

    return {
        "run_id": RUN_ID,
        "goal": "Crash-test run",
        "token_cap": 400_000,
        "tiers": [
            {
                "tier_id": "t1",
                "tier_index": 0,
                "name": "first",
                "phases": [
                    phase("p1", 0, "a.py", "feature_scaffolding"),
                    phase("p2", 1, "b.py", "feature_scaffolding"),
                ],
            },
            {
                "tier_id": "t2",
                "tier_index": 1,
                "name": "second",
                "phases": [
                    phase("p3", 0, "c.py", "schema_contract_change"),
                    phase("p4", 1, "README.md", "docs", ci={"skip": True, "reason": "docs only"}),
                ],
            },
        ],
    }


def script() -> dict[str, Any]:
    bad_a = _sr("a.py", "VALUE = 1\n", "VALUE = -2\n")
    good_a = _sr("a.py", "VALUE = 1\n", "VALUE = 2\n")
    return {
        "answers": [
            {"role": "builder", "phase": "p1", "attempt": 1, "text": bad_a},
            {"role": "builder", "phase": "p1", "text": good_a},
            {"role": "builder", "phase": "p2", "text": _sr("b.py", "NAME = 'b'\n", "NAME = 'B'\n")},
            {
                "role": "builder",
                "phase": "p3",
                "text": _sr("c.py", "    return w * h\n", "    return int(w) * int(h)\n"),
            },
            {"role": "builder", "phase": "p4", "text": "README.md\n```\n# shapes\n\nareas.\n```\n"},
            {"role": "doctor", "text": DOCTOR},
            {"role": "auditor", "text": APPROVE},
            {"role": "judge", "text": APPROVE},
        ]
    }  # fmt: skip


def make_repo(root: Path) -> Path:
    """A fresh repository with one commit on ``main``."""
    from support.gitrepo import commit_all, git

    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for rel, text in FILES.items():
        (root / rel).write_text(text)
    commit_all(root, "initial")
    return root


def main() -> int:
    repo, script_path = Path(sys.argv[1]), Path(sys.argv[2])
    from autopack.engine import Engine, EngineOptions, InProcessDispatcher
    from autopack.policy.states import RunState
    from autopack.settings import load_settings
    from autopack.spec.loader import load_spec_data
    from autopack.store import NotFoundError, Store

    settings = load_settings(workspace=repo)
    store = Store.open(settings)
    try:
        engine = Engine(settings, store, EngineOptions(scripted=script_path, auto_approve=True))
        try:
            store.get_run(RUN_ID)
        except NotFoundError:
            loaded = load_spec_data(plan())
            store.create_run(loaded.spec, engine.strategy.compile_run(loaded.spec))
        progress = None
        if len(sys.argv) > 3:  # tell the test that the work starts now, then each step
            ready = Path(sys.argv[3])
            ready.write_text("ready")
            progress = ready.with_suffix(".progress").open("a", buffering=1)

        def notify(message: str) -> None:
            if progress is not None:
                progress.write(message.replace("\n", " ") + "\n")

        outcome = InProcessDispatcher(engine).execute(RUN_ID, notify=notify)
        return 0 if outcome.state == RunState.DONE_SUCCESS else 1
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
