"""Autopack's commits: the identity, the trailers written into a message and read back.

Every phase commit ends with::

    Autopack-Run: <run_id>
    Autopack-Phase: <phase_id>
    Autopack-Attempt: <n>
    Autopack-Model: <model or "unknown">
    Autopack-Tokens: <n or "unknown">
"""

from __future__ import annotations

from typing import TypedDict

from autopack.workspace.git import Git

__all__ = [
    "UNKNOWN",
    "PhaseCommit",
    "identity_env",
    "parse_trailers",
    "phase_commit",
    "read_phase_commits",
    "with_trailers",
]

UNKNOWN = "unknown"


class PhaseCommit(TypedDict):
    """One commit of the integration branch with its Autopack trailers parsed."""

    sha: str
    subject: str
    author: str
    timestamp: int
    trailers: dict[str, str]
    run_id: str | None
    phase_id: str | None
    attempt: int | None
    model: str | None
    tokens: int | None


def with_trailers(git: Git, message: str, trailers: dict[str, str]) -> str:
    """``message`` with ``trailers`` appended by ``git interpret-trailers``.

    An existing trailer with the same key is replaced; values are folded onto one line.
    """
    args = ["interpret-trailers", "--where", "end", "--if-exists", "replace"]
    for key, value in trailers.items():
        args += ["--trailer", f"{key}: {' '.join(value.split()) or UNKNOWN}"]
    return git.run(*args, input=message + "\n").stdout


def parse_trailers(raw: str) -> dict[str, str]:
    """``Key: value`` lines (as ``%(trailers:only,unfold)`` prints them); last one wins."""
    trailers: dict[str, str] = {}
    for line in raw.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            trailers[key.strip()] = value.strip()
    return trailers


def _optional_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def phase_commit(sha: str, author: str, stamp: int, subject: str, raw: str) -> PhaseCommit:
    """A :class:`PhaseCommit` from ``git log`` fields and the raw trailer block."""
    trailers = parse_trailers(raw)
    model = trailers.get("Autopack-Model")
    return PhaseCommit(
        sha=sha,
        subject=subject,
        author=author,
        timestamp=stamp,
        trailers=trailers,
        run_id=trailers.get("Autopack-Run"),
        phase_id=trailers.get("Autopack-Phase"),
        attempt=_optional_int(trailers.get("Autopack-Attempt")),
        model=None if model in (None, UNKNOWN) else model,
        tokens=_optional_int(trailers.get("Autopack-Tokens")),
    )


def identity_env(identity: tuple[str, str]) -> dict[str, str]:
    """Environment making ``(name, email)`` both author and committer of a commit."""
    name, email = identity
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def read_phase_commits(git: Git, revisions: str) -> list[PhaseCommit]:
    """The commits of ``revisions`` (a range such as ``base..branch``), oldest first."""
    fmt = "%H%x1f%an <%ae>%x1f%ct%x1f%s%x1f%(trailers:only,unfold)%x1e"
    out = git.run("log", "--reverse", f"--format={fmt}", revisions, "--").stdout
    commits: list[PhaseCommit] = []
    for chunk in out.split("\x1e"):
        if not chunk.strip():
            continue
        sha, author, stamp, subject, raw = chunk.strip("\n").split("\x1f")
        commits.append(phase_commit(sha, author, int(stamp), subject, raw))
    return commits
