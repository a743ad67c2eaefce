"""Child process for the crash-safety tests: start an attempt, get killed half-way.

Usage: ``python crash_child.py REPO DATA_DIR RUN_ID MODE READY_FILE``. The child opens the
workspace, begins attempt 1 of phase ``p1``, changes files, then stops at a point chosen
by MODE and writes READY_FILE; the test SIGKILLs its process group there.

- ``hook``: a real ``git commit -a`` is blocked in a pre-commit hook, holding ``index.lock``
  (plain ``git commit`` releases the lock before its hooks run);
- ``lock``: after ``git add``, an index lock is created by hand, half-written;
- ``committed``: the commit is made, the process dies before the bookkeeping after it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from autopack.workspace import IntegrationWorkspace


def _wait_forever(ready: Path) -> None:
    ready.write_text(str(os.getpid()))
    time.sleep(120)
    raise SystemExit("not killed in time")


def main() -> None:
    repo, data_dir, run_id, mode, ready_name = sys.argv[1:6]
    ready = Path(ready_name)
    ws = IntegrationWorkspace.open(Path(repo), Path(data_dir), run_id)
    ws.begin_attempt("p1", 1)
    (ws.path / "src" / "app.py").write_text("def answer():\n    return 'half'\n")
    (ws.path / "untracked_new.py").write_text("X = 1\n")
    (ws.path / "new.log").write_text("ignored, created by the attempt\n")
    (ws.path / "README.md").unlink()
    if mode == "hook":
        hooks = ready.parent / "hooks"
        hooks.mkdir(exist_ok=True)
        hook = hooks / "pre-commit"
        hook.write_text(f'#!/bin/sh\necho $$ > "{ready}"\nsleep 120\n')
        hook.chmod(0o755)
        subprocess.run(["git", "add", "-A"], cwd=ws.path, check=True)
        subprocess.run(
            ["git", "-c", f"core.hooksPath={hooks}", "commit", "-a", "-q", "-m", "half"],
            cwd=ws.path,
            check=False,
        )
        raise SystemExit("the hook returned: not killed in time")
    if mode == "lock":
        ws.git.run("add", "--all")
        git_dir = Path(ws.git.output("rev-parse", "--absolute-git-dir"))
        (git_dir / "index.lock").write_bytes(b"DIRC\x00\x00\x00\x02half-written")
        _wait_forever(ready)
    if mode == "committed":

        def die_before_bookkeeping(self: IntegrationWorkspace, phase_id: str, sha: str) -> None:
            _wait_forever(ready)

        IntegrationWorkspace._mark_committed = die_before_bookkeeping  # type: ignore[method-assign]
        ws.commit_attempt("p1", 1, message="whole", model="m", tokens=5)
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
