"""Making a local integration branch agree with the remote's, which is the truth.

A run's refs under ``refs/autopack/<run>/`` are local to one machine; only the branch
``autonomous/<run>`` travels. Everything else is rebuilt from the branch itself:

- the **base** is the first commit, walking first parents back from the tip, that is not a
  commit of this run (every commit Autopack makes on the branch carries
  ``Autopack-Run: <run>``, parallel landings and the build-history entry included);
- each phase's ``after`` ref is its commit (``Autopack-Phase``), its ``before`` ref that
  commit's parent (a phase lands as one commit on its snapshot);
- ``after``/``before`` refs of phases whose commit is not on the branch are deleted, so
  :func:`autopack.engine.resume.recover_run` re-queues a phase whose commit never reached
  the remote instead of keeping it.

A tip that does not carry this run's trailer was pushed by somebody else: refused
(``foreign_commits``), never reset over.
"""

from __future__ import annotations

from autopack.workspace.cleanup import run_ref
from autopack.workspace.errors import WorkspaceError
from autopack.workspace.git import Git
from autopack.workspace.integration import IntegrationWorkspace
from autopack.workspace.journal import REF_PREFIX
from autopack.workspace.trailers import read_phase_commits

__all__ = ["derive_base", "sync_to"]

_MAX_WALK = 10_000
_RUN_TRAILER = "%(trailers:key=Autopack-Run,valueonly,unfold)"


def derive_base(git: Git, tip: str, run_id: str) -> str:
    """The commit ``tip``'s run started from (see the module docstring)."""
    fmt = f"%H%x1f{_RUN_TRAILER}%x1e"
    out = git.run(
        "log", "--first-parent", f"--max-count={_MAX_WALK}", f"--format={fmt}", tip, "--"
    ).stdout
    first = True
    for chunk in out.split("\x1e"):
        if not chunk.strip():
            continue
        sha, _, runs = chunk.strip("\n").partition("\x1f")
        if run_id not in runs.split():
            if first:
                raise WorkspaceError(
                    f"the remote branch autonomous/{run_id} ends with {sha[:12]}, which is not "
                    "a commit of this run: somebody else pushed there; move those commits "
                    "elsewhere (or delete the branch) before the run continues",
                    code="foreign_commits",
                )
            return sha
        first = False
    raise WorkspaceError(
        f"no base found for run {run_id} within {_MAX_WALK} commits of {tip[:12]}",
        code="foreign_commits",
    )


def sync_to(ws: IntegrationWorkspace, target: str) -> list[str]:
    """Put ``ws``'s branch and worktree at ``target`` and rebuild the run's phase refs.

    ``target`` is the remote's tip of the branch, or the run's base when the branch never
    reached the remote. No attempt may be open (:meth:`IntegrationWorkspace.open` has
    finished or undone it). Returns notes of what changed.
    """
    notes: list[str] = []
    head = ws.git.head()
    if head != target:
        dropped = ws.git.output("rev-list", "--count", head, "--not", target)
        ws.git.run("reset", "--hard", "--quiet", target)
        ws.git.run("clean", "-ffdq", "--", ":/")
        notes.append(
            f"moved {ws.branch} from {head[:12]} to the remote's {target[:12]}"
            + (
                f"; {dropped} local commit(s) never reached the remote, their phases run again"
                if dropped != "0"
                else ""
            )
        )
    _rebuild_phase_refs(ws, target)
    return notes


def _rebuild_phase_refs(ws: IntegrationWorkspace, target: str) -> None:
    commits: dict[str, str] = {}
    if target != ws.base_commit:
        for commit in read_phase_commits(ws.git, f"{ws.base_commit}..{target}"):
            if commit["run_id"] == ws.run_id and commit["phase_id"]:
                commits[commit["phase_id"]] = commit["sha"]
    prefix = f"{REF_PREFIX}{ws.run_id}/"
    existing = ws.git.run("for-each-ref", "--format=%(refname) %(objectname)", prefix).stdout
    current = dict(line.split(" ", 1) for line in existing.splitlines() if line.strip())
    wanted: dict[str, str] = {}
    for phase_id, sha in commits.items():
        wanted[run_ref(ws.run_id, f"{phase_id}/after")] = sha
        wanted[run_ref(ws.run_id, f"{phase_id}/before")] = ws.git.rev_parse(f"{sha}^")
    base = run_ref(ws.run_id, "base")
    lines = [f"delete {ref}\n" for ref in current if ref not in wanted and ref != base] + [
        f"update {ref} {sha}\n" for ref, sha in wanted.items() if current.get(ref) != sha
    ]
    if lines:
        ws.git.run("update-ref", "--stdin", input="".join(lines))
