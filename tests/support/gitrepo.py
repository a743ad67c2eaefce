"""Real git repositories for tests: create, commit, inspect, compare byte for byte.

Every helper runs git with an argument list and a fixed identity; nothing reads the
developer's configuration once :func:`isolated_git_env` has been applied.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

IDENTITY_ENV = {
    "GIT_AUTHOR_NAME": "Test User",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test User",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}

INITIAL_FILES = {
    ".gitignore": "*.log\nbuild/\n__pycache__/\n",
    "README.md": "# sample\n",
    "src/app.py": "def answer():\n    return 42\n",
}


def isolated_git_env(config_dir: Path) -> dict[str, str]:
    """Variables that hide the developer's global and system git configuration."""
    config_dir.mkdir(parents=True, exist_ok=True)
    config = config_dir / "gitconfig"
    config.touch()
    return {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str, check: bool = True, input: str | None = None) -> str:
    """Run git in ``cwd`` and return its stdout (raises on failure when ``check``)."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, **IDENTITY_ENV, "GIT_TERMINAL_PROMPT": "0"},
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def make_repo(path: Path, *, commits: int = 2) -> Path:
    """A repository at ``path`` on branch ``main`` with ``commits`` commits (0 = empty)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test User")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "commit.gpgsign", "false")
    if commits >= 1:
        for rel, text in INITIAL_FILES.items():
            write(path, rel, text)
        commit_all(path, "initial")
    for n in range(2, commits + 1):
        write(path, f"docs/note{n}.md", f"note {n}\n")
        commit_all(path, f"commit {n}")
    return path


def worktree_paths(repo: Path) -> list[str]:
    """Paths of every worktree git has registered for ``repo`` (main first)."""
    out = git(repo, "worktree", "list", "--porcelain")
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("worktree ")]


def status(cwd: Path) -> str:
    return git(cwd, "status", "--porcelain", "--untracked-files=all")


def tree_bytes(root: Path, *, exclude: tuple[str, ...] = (".git",)) -> dict[str, bytes]:
    """Every file under ``root`` (relative path → bytes), skipping ``exclude`` top-levels."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in exclude or not path.is_file() or path.is_symlink():
            continue
        files[rel.as_posix()] = path.read_bytes()
    return files


def checkout_state(repo: Path, *, data_dir_name: str = ".autopack") -> dict[str, object]:
    """What must never change in the user's checkout: files, index, HEAD and its branch.

    Read without running git there (``git status`` would refresh the index itself).
    """
    dot_git = repo / ".git"
    head = (dot_git / "HEAD").read_text()
    ref = head.removeprefix("ref: ").strip() if head.startswith("ref: ") else None
    return {
        "files": tree_bytes(repo, exclude=(".git", data_dir_name)),
        "index": (dot_git / "index").read_bytes(),
        "HEAD": head,
        "branch": (dot_git / ref).read_text() if ref and (dot_git / ref).exists() else None,
    }
