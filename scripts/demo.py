"""The demo behind `make demo`: what Autopack does today, with real commands.

1. validates every example plan (all accepted shapes) and prints each summary;
2. stores one plan as a run in a fresh SQLite database (compiled strategy per phase);
3. lists runs and shows the stored run with its state-change events.

Everything happens in a temporary workspace, so the demo can be run again and again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUTOPACK = Path(sys.executable).with_name("autopack")


def step(title: str, *args: str, env: dict[str, str]) -> None:
    print(f"\n\033[1m== {title}\033[0m\n$ autopack {' '.join(args)}", flush=True)
    result = subprocess.run([str(AUTOPACK), *args], env=env, cwd=ROOT, check=False)
    if result.returncode != 0:
        sys.exit(f"demo step failed ({title}): exit {result.returncode}")


def main() -> None:
    examples = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "examples").iterdir()
        if p.suffix in {".json", ".yaml", ".yml"}
    )
    workspace = Path(tempfile.mkdtemp(prefix="autopack-demo-"))
    env = {**os.environ, "AUTOPACK_WORKSPACE": str(workspace), "COLUMNS": "120"}
    env.pop("DATABASE_URL", None)
    try:
        step("Validate the example plans", "spec", "validate", *examples, env=env)
        step("Store a plan as a run", "runs", "create", "examples/nested-feature.yaml", env=env)
        step("List runs", "runs", "list", env=env)
        step(
            "Show the run and its events", "runs", "show", "tasklite-due-dates", "--events", env=env
        )
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    print("\nDemo done: plans validated, a run stored with its strategy and events.")


if __name__ == "__main__":
    main()
