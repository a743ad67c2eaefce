"""Ids, ref names and the attempt journal of an integration workspace.

The journal is a small JSON file next to the worktree (``<data_dir>/worktrees/<run>.journal``)
that exists exactly while an attempt is in progress. It is written atomically (temporary
file, fsync, rename, fsync of the directory), so after a crash it is either absent or
complete; :meth:`IntegrationWorkspace.open` reads it to roll a half-done attempt back.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autopack.workspace.errors import WorkspaceError

__all__ = [
    "BRANCH_PREFIX",
    "ID_PATTERN",
    "REF_PREFIX",
    "AttemptRecord",
    "Journal",
    "validate_id",
]

BRANCH_PREFIX = "autonomous/"
REF_PREFIX = "refs/autopack/"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_ID_RE = re.compile(ID_PATTERN)
JOURNAL_VERSION = 1

RESERVED_PHASE_IDS = frozenset({"base"})
"""``refs/autopack/<run>/base`` is a ref, so no phase may own ``refs/autopack/<run>/base/``."""


def validate_id(value: str, kind: str = "run_id") -> str:
    """Return ``value`` if it can name a branch, a ref component and a directory.

    The spec's id pattern, plus git's ref rules that the pattern allows through: no
    ``..``, no trailing ``.lock``, no trailing ``.``. A phase may not be called ``base``
    (see :data:`RESERVED_PHASE_IDS`) and a run id may not end in ``.journal`` (the journal
    of run ``x`` is the file ``x.journal`` next to the worktree directories).
    """
    ok = (
        isinstance(value, str)
        and _ID_RE.fullmatch(value) is not None
        and ".." not in value
        and not value.endswith((".lock", "."))
        and not (kind == "phase_id" and value in RESERVED_PHASE_IDS)
        and not (kind == "run_id" and value.endswith(".journal"))
    )
    if not ok:
        raise WorkspaceError(
            f"invalid {kind} {value!r}: use 1-128 letters, digits, '.', '_' or '-', starting "
            "with a letter or digit, without '..' and not ending in '.' or '.lock'"
            + (" ('base' is reserved)" if kind == "phase_id" else " nor in '.journal'"),
            code="invalid_id",
        )
    return value


@dataclass(frozen=True)
class AttemptRecord:
    """What an open attempt needs to be undone after a crash.

    ``ignored`` lists the ignored paths (directories collapsed, as ``git ls-files
    --directory`` prints them) present when the attempt began: a rollback keeps these and
    removes ignored paths the attempt created.
    """

    run_id: str
    phase_id: str
    attempt: int
    snapshot: str
    ignored: tuple[str, ...] = ()
    pid: int = field(default_factory=os.getpid)
    started_at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        data: dict[str, Any] = {"version": JOURNAL_VERSION, **asdict(self)}
        data["ignored"] = list(self.ignored)
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> AttemptRecord:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != JOURNAL_VERSION:
            raise ValueError("unknown journal version")
        return cls(
            run_id=str(data["run_id"]),
            phase_id=str(data["phase_id"]),
            attempt=int(data["attempt"]),
            snapshot=str(data["snapshot"]),
            ignored=tuple(str(p) for p in data.get("ignored", ())),
            pid=int(data.get("pid", 0)),
            started_at=float(data.get("started_at", 0.0)),
        )


class Journal:
    """The attempt journal at ``path``; absent means no attempt is in progress."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> AttemptRecord | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return AttemptRecord.from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            raise WorkspaceError(
                f"attempt journal {self.path} is unreadable ({exc}); inspect the worktree, "
                "then delete the file to continue",
                code="journal_corrupt",
            ) from exc

    def write(self, record: AttemptRecord) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(record.to_json())
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(tmp).unlink()
            raise
        _fsync_dir(directory)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
            _fsync_dir(self.path.parent)

    def remove_leftovers(self) -> list[Path]:
        """Delete temporary files of a write interrupted by a crash; return them."""
        found = sorted(self.path.parent.glob(self.path.name + ".*.tmp"))
        for tmp in found:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return found


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- stale git locks -------------------------------------------------------------------

STALE_LOCK_SECONDS = 5.0
"""A lock younger than this is never considered stale (a git command may be starting)."""

NO_PROC_STALE_SECONDS = 600.0
"""Without ``/proc`` (macOS) a lock must be this old, as no process can be inspected."""


def git_processes_in(directory: Path) -> list[int] | None:
    """Live git processes (``comm`` starting with ``git``) whose cwd is inside ``directory``.

    ``None`` when ``/proc`` is unavailable. Processes of other users whose cwd cannot be
    read are not seen: Autopack's worktrees are only worked on by Autopack's own user.
    """
    proc = Path("/proc")
    if not (proc / "self" / "cwd").exists():
        return None
    root = directory.resolve()
    found: list[int] = []
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if not (entry / "comm").read_text().startswith("git"):
                continue
            if _is_zombie(entry):
                continue
            cwd = (entry / "cwd").readlink()
        except OSError:
            continue
        if cwd == root or root in cwd.parents:
            found.append(int(entry.name))
    return found


def _is_zombie(entry: Path) -> bool:
    stat = (entry / "stat").read_text()
    # "pid (comm) S ..." — comm may contain spaces and parentheses: split at the last ')'.
    return stat[stat.rfind(")") + 2 :].startswith(("Z", "X"))


def stale_locks(candidates: list[Path], worktree: Path, *, min_age: float) -> list[Path]:
    """The existing ``candidates`` that no live git process can be holding.

    Heuristic (git writes no owner into its lock files): a lock is stale when it is at
    least ``min_age`` seconds old and no git process runs inside the worktree; without
    ``/proc`` it must be :data:`NO_PROC_STALE_SECONDS` old. Raises ``worktree_locked``
    when a lock exists that is not stale.
    """
    existing = [p for p in candidates if p.exists()]
    if not existing:
        return []
    holders = git_processes_in(worktree)
    threshold = min_age if holders is not None else max(min_age, NO_PROC_STALE_SECONDS)
    now = time.time()
    for lock in existing:
        try:
            age = now - lock.stat().st_mtime
        except FileNotFoundError:
            continue
        if holders or age < threshold:
            who = f"git process(es) {holders} running there" if holders else f"{age:.0f}s old"
            raise WorkspaceError(
                f"{lock} is held ({who}); wait for that git command to finish, or remove "
                "the lock by hand if no git process is running",
                code="worktree_locked",
            )
    return [p for p in existing if p.exists()]
