"""A small wrapper over the git command line: argument lists, timeouts, typed errors.

Every command runs with an environment and ``-c`` options chosen so that neither the
user's configuration nor the calling process can change what it does:

- variables that redirect git (``GIT_DIR``, ``GIT_INDEX_FILE``, ``GIT_WORK_TREE``…, set
  for instance when Autopack runs from inside a git hook) are dropped; only an allow-list
  of ``GIT_*`` variables (config file locations, tracing, ssh) passes through;
- no prompt, no pager, no editor (``GIT_TERMINAL_PROMPT=0``, ``GIT_PAGER=cat``,
  ``GIT_EDITOR=true``), C locale so messages are stable;
- ``core.hooksPath=/dev/null``: the repository's hooks (pre-commit, post-checkout…) never
  run on Autopack's commits and checkouts; ``commit.gpgsign=false`` and
  ``tag.gpgsign=false``: no signing prompt or agent; ``core.autocrlf=false``: files are
  committed byte for byte as written (``.gitattributes`` still applies, it is the
  project's choice); ``core.fsmonitor=false``: no daemon started in a throw-away
  worktree; ``gc.auto=0`` and ``maintenance.auto=false``: no background gc racing the next
  command.

A timeout kills the whole process group (git spawns helpers) and raises
``GitError(code="git_timeout")``.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from autopack.workspace.errors import GitError

__all__ = ["FORCED_CONFIG", "Git"]

FORCED_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("commit.gpgsign", "false"),
    ("tag.gpgsign", "false"),
    ("core.autocrlf", "false"),
    ("core.safecrlf", "false"),
    ("core.fsmonitor", "false"),
    ("core.pager", "cat"),
    ("color.ui", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
)
"""``-c`` options given to every command (see the module docstring for why)."""

_PASS_THROUGH = {
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_EXEC_PATH",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_SSH_VARIANT",
}

_FIXED_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_EDITOR": "true",
    "GIT_SEQUENCE_EDITOR": "true",
    "GIT_OPTIONAL_LOCKS": "0",
    "LC_ALL": "C",
    "LANGUAGE": "C",
}


def git_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every git command runs with (``extra`` wins)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GIT_") or k in _PASS_THROUGH or k.startswith("GIT_TRACE")
    }
    env.update(_FIXED_ENV)
    if extra:
        env.update(extra)
    return env


class Git:
    """Runs git in ``cwd``. Stateless apart from the directory and the default timeout."""

    def __init__(self, cwd: Path, *, timeout: float = 120.0) -> None:
        self.cwd = Path(cwd)
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Git({str(self.cwd)!r})"

    def run(
        self,
        *args: str,
        check: bool = True,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``git <args>``; raise :class:`GitError` on failure when ``check``.

        Output is decoded as UTF-8 with replacement (a binary blob in a diff never raises)
        and without newline translation: a CRLF file's diff keeps its ``\\r``. ``input``
        is written to stdin as UTF-8 (otherwise stdin is closed).
        """
        forced = [part for key, value in FORCED_CONFIG for part in ("-c", f"{key}={value}")]
        argv = ["git", *forced, *args]
        shown = ["git", *args]
        limit = self.timeout if timeout is None else timeout
        try:
            proc = subprocess.Popen(
                argv,
                cwd=self.cwd,
                env=git_environment(env),
                stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except (FileNotFoundError, NotADirectoryError) as exc:
            code = "git_missing" if exc.filename == "git" else "git_failed"
            raise GitError(shown, None, str(exc), code=code) from exc
        data = input.encode("utf-8") if input is not None else None
        try:
            out, err = proc.communicate(data, timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            _, err = proc.communicate()
            raise GitError(
                shown,
                None,
                _decode(err),
                code="git_timeout",
                message=f"`{' '.join(shown)}` timed out after {limit:g}s and was killed",
            ) from None
        except BaseException:
            _kill_group(proc)
            proc.communicate()
            raise
        stdout, stderr = _decode(out), _decode(err)
        if check and proc.returncode != 0:
            raise GitError(shown, proc.returncode, stderr)
        return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)

    def output(self, *args: str, env: dict[str, str] | None = None) -> str:
        """stdout of a successful command without its trailing newline."""
        return self.run(*args, env=env).stdout.rstrip("\n")

    def rev_parse(self, ref: str) -> str:
        """The full object name ``ref`` points to; :class:`GitError` when it names nothing."""
        return self.output("rev-parse", "--verify", "--quiet", "--end-of-options", ref)

    def try_rev_parse(self, ref: str) -> str | None:
        """Like :meth:`rev_parse`, ``None`` when the ref does not exist."""
        proc = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", ref, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def head(self) -> str:
        """The commit HEAD points to."""
        return self.rev_parse("HEAD^{commit}")

    def is_clean(self) -> bool:
        """No staged, modified, deleted or untracked (not ignored) file."""
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all").stdout
        return out == ""

    def changed_paths(self, since: str | None = None) -> list[str]:
        """Paths whose worktree or index content differs from ``since`` (default HEAD).

        Includes untracked files that are not ignored; renames count as a deletion plus an
        addition. Paths are relative to the worktree root, with ``/`` separators.
        """
        base = since or "HEAD"
        diff = self.run(
            "diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", base, "--"
        ).stdout
        untracked = self.run(
            "ls-files", "--others", "--exclude-standard", "--full-name", "-z", "--", ":/"
        ).stdout
        names = {p for p in diff.split("\0") if p} | {p for p in untracked.split("\0") if p}
        return sorted(names)

    def ignored(self, paths: list[str]) -> set[str]:
        """The given worktree-relative paths that git ignores (``.gitignore`` and friends)."""
        if not paths:
            return set()
        out = self.run(
            "check-ignore", "--no-index", "-z", "--stdin", check=False, input="\0".join(paths)
        ).stdout
        return {p for p in out.split("\0") if p}


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except PermissionError:
        proc.kill()
