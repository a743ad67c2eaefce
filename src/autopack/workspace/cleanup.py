"""Repository-level operations on runs: paths and refs, removal, and cleanup of old runs.

:func:`cleanup_runs` finds runs from the worktree directory, the attempt journals, the
worktrees git has registered under it and (with ``delete_branches``) the
``refs/autopack/<run>/`` namespace. A branch ``autonomous/<run>`` is only deleted when
``refs/autopack/<run>/base`` proves Autopack created it: a user's own branch that merely
shares the prefix is left alone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from autopack.workspace.errors import GitError, WorkspaceError
from autopack.workspace.git import Git
from autopack.workspace.journal import BRANCH_PREFIX, REF_PREFIX, Journal, validate_id

__all__ = ["cleanup_runs", "remove_run"]


def worktree_root(data_dir: Path) -> Path:
    """Where runs' worktrees (and their journals) live."""
    return Path(data_dir).resolve() / "worktrees"


def journal_path(data_dir: Path, run_id: str) -> Path:
    return worktree_root(data_dir) / f"{run_id}.journal"


def run_ref(run_id: str, name: str) -> str:
    return f"{REF_PREFIX}{run_id}/{name}"


def ensure_data_dir(data_dir: Path) -> None:
    """Create the data directory with a ``.gitignore`` of ``*`` (as ``Settings`` does)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ignore = data_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Autopack's data directory: never committed.\n*\n")


def toplevel(repo: Path) -> Path:
    """The root of the working tree ``repo`` belongs to."""
    try:
        return Path(Git(Path(repo)).output("rev-parse", "--show-toplevel")).resolve()
    except (GitError, OSError) as exc:
        raise WorkspaceError(
            f"{repo} is not inside a git working tree", code="not_a_repository"
        ) from exc


def registered_worktrees(git: Git) -> dict[Path, str | None]:
    """Worktrees of the repository: path → checked-out branch ref (``None`` if detached)."""
    out: dict[Path, str | None] = {}
    current: Path | None = None
    for line in git.run("worktree", "list", "--porcelain").stdout.splitlines():
        if line.startswith("worktree "):
            current = Path(line[len("worktree ") :]).resolve()
            out[current] = None
        elif line.startswith("branch ") and current is not None:
            out[current] = line[len("branch ") :]
    return out


def delete_run_refs(git: Git, run_id: str, *, branch: bool) -> None:
    """Delete ``refs/autopack/<run>/*`` and, with ``branch``, ``autonomous/<run>``."""
    # A pattern without a trailing slash matches whole components: run "a" never takes "a.b".
    refs = git.run("for-each-ref", "--format=%(refname)", REF_PREFIX + run_id).stdout.split()
    if branch and git.try_rev_parse(f"refs/heads/{BRANCH_PREFIX}{run_id}"):
        refs.append(f"refs/heads/{BRANCH_PREFIX}{run_id}")
    if refs:
        git.run("update-ref", "--stdin", input="".join(f"delete {r}\n" for r in refs))


def remove_run(repo: Path, data_dir: Path, run_id: str, *, delete_branch: bool) -> None:
    """Remove a run's worktree (forced), its journal, and optionally its branch and refs."""
    validate_id(run_id, "run_id")
    main = Git(repo)
    path = worktree_root(data_dir) / run_id
    if path in registered_worktrees(main):
        main.run("worktree", "remove", "--force", "--force", str(path), check=False)
    if path.exists() or path.is_symlink():
        try:
            if path.is_symlink():
                path.unlink()
            else:
                shutil.rmtree(path)
        except OSError as exc:
            raise WorkspaceError(f"cannot remove {path}: {exc}", code="remove_failed") from exc
    main.run("worktree", "prune")
    journal = Journal(journal_path(data_dir, run_id))
    journal.clear()
    journal.remove_leftovers()
    if delete_branch:
        delete_run_refs(main, run_id, branch=True)


def _is_run_id(name: str) -> bool:
    try:
        validate_id(name, "run_id")
    except WorkspaceError:
        return False
    return True


def find_runs(repo: Path, data_dir: Path, *, with_refs: bool = False) -> set[str]:
    """Run ids that have a worktree, a journal or (``with_refs``) refs in the repository."""
    root = worktree_root(data_dir)
    found: set[str] = set()
    if root.is_dir():
        for entry in root.iterdir():
            name = entry.name.removesuffix(".journal") if entry.is_file() else entry.name
            if _is_run_id(name) and (entry.is_dir() or entry.name.endswith(".journal")):
                found.add(name)
    main = Git(repo)
    found |= {p.name for p in registered_worktrees(main) if p.parent == root and _is_run_id(p.name)}
    if with_refs:
        out = main.run("for-each-ref", "--format=%(refname)", REF_PREFIX.rstrip("/")).stdout
        for ref in out.split():
            name = ref[len(REF_PREFIX) :].split("/", 1)[0]
            if _is_run_id(name):
                found.add(name)
    return found


def cleanup_runs(
    repo: Path,
    data_dir: Path,
    *,
    keep: set[str] | None = None,
    delete_branches: bool = False,
) -> list[str]:
    """Remove the worktrees (and optionally branches and refs) of runs not in ``keep``.

    Returns the run ids cleaned, sorted. Ends with ``git worktree prune``.
    """
    top = toplevel(repo)
    main = Git(top)
    keep = keep or set()
    cleaned: list[str] = []
    for run_id in sorted(find_runs(top, data_dir, with_refs=delete_branches) - keep):
        autopack_made = main.try_rev_parse(run_ref(run_id, "base")) is not None
        remove_run(top, data_dir, run_id, delete_branch=False)
        if delete_branches:
            delete_run_refs(main, run_id, branch=autopack_made)
        cleaned.append(run_id)
    main.run("worktree", "prune")
    return cleaned
