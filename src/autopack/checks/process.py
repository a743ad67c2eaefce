"""Run one check command safely: argument list, own session, bounded time, no secrets.

* The command is an argument list, never a shell string.
* The child starts a new session (``start_new_session=True``) so it leads its own process
  group; on timeout the **whole group** gets SIGTERM, then SIGKILL after a grace period, so a
  test that spawned helpers leaves nothing behind. Leftovers are also killed after a normal
  exit (a test's background daemon must not outlive the check).
* stdout and stderr go, interleaved, straight into a log file; the report keeps only a
  trimmed head + tail of it (:func:`trim_output`).
* The environment is rebuilt from a small allow-list of the parent's variables plus the
  phase's own ``env`` (:func:`build_child_env`); anything that looks like a secret is removed,
  and the values of removed variables are redacted from the log and the trimmed output.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from autopack.checks.errors import ProcessStartError
from autopack.settings import SECRET_VARIABLES

__all__ = [
    "DEFAULT_PASSTHROUGH",
    "SECRET_PATTERNS",
    "ChildEnv",
    "ProcessResult",
    "build_child_env",
    "is_secret_name",
    "redact_text",
    "run_process",
    "trim_output",
]

DEFAULT_PASSTHROUGH: tuple[str, ...] = (
    "PATH",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TERM",
)
"""Parent variables a check inherits (when set); everything else must come from ``ci.env``."""

SECRET_PATTERNS: tuple[str, ...] = (
    "*API_KEY*",
    "*TOKEN",
    "*TOKEN_FILE",
    "*SECRET*",
    "*PASSWORD*",
    "*PASSWD*",
)
"""Upper-cased name patterns that are never passed to a check, whatever asked for them."""

_REDACTED = "[redacted]"
_MIN_REDACT_LEN = 6  # shorter values would redact ordinary words


def is_secret_name(name: str) -> bool:
    """True for Autopack's own secrets (and their ``_FILE``) and secret-looking names."""
    upper = name.upper()
    for var in SECRET_VARIABLES.values():
        if upper in (var, f"{var}_FILE"):
            return True
    return any(fnmatch.fnmatchcase(upper, pattern) for pattern in SECRET_PATTERNS)


@dataclass(frozen=True)
class ChildEnv:
    """The environment for a check, the names that were dropped, and values to redact."""

    env: dict[str, str]
    dropped: tuple[str, ...] = ()
    redact: tuple[str, ...] = field(default=(), repr=False)


def build_child_env(
    extra: Mapping[str, str],
    *,
    parent: Mapping[str, str] | None = None,
    passthrough: Sequence[str] = DEFAULT_PASSTHROUGH,
) -> ChildEnv:
    """Minimal base (allow-listed parent variables) + ``extra``, minus anything secret.

    ``PYTHONDONTWRITEBYTECODE=1`` is set unless ``extra`` says otherwise, so a check leaves no
    ``__pycache__`` in the worktree. ``dropped`` lists the secret-looking names removed from
    ``extra`` (the phase asked for them; the report says they were refused). ``redact`` holds
    the values of every secret-looking variable of the parent and of ``extra``.
    """
    source = os.environ if parent is None else parent
    env: dict[str, str] = {"PYTHONDONTWRITEBYTECODE": "1"}
    for name in passthrough:
        value = source.get(name)
        if value is not None and not is_secret_name(name):
            env[name] = value
    dropped: list[str] = []
    for name, value in extra.items():
        if is_secret_name(name):
            dropped.append(name)
        else:
            env[name] = value
    secrets = {v for k, v in source.items() if is_secret_name(k)}
    secrets |= {v for k, v in extra.items() if is_secret_name(k)}
    redact = tuple(sorted((v for v in secrets if len(v) >= _MIN_REDACT_LEN), key=len, reverse=True))
    return ChildEnv(env=env, dropped=tuple(dropped), redact=redact)


@dataclass(frozen=True)
class ProcessResult:
    """What happened to one command. ``returncode`` is negative when a signal ended it."""

    argv: tuple[str, ...]
    returncode: int | None
    timed_out: bool
    duration_s: float
    log_path: Path
    output_tail: str
    overflowed: bool = False
    """The output went over the log cap; the process group was killed."""


def trim_output(data: bytes, head_bytes: int, tail_bytes: int) -> str:
    """The first ``head_bytes`` and last ``tail_bytes`` of ``data``, with a marker between."""
    if len(data) <= head_bytes + tail_bytes:
        return data.decode("utf-8", "replace")
    head = data[:head_bytes].decode("utf-8", "replace")
    tail = data[len(data) - tail_bytes :].decode("utf-8", "replace")
    skipped = len(data) - head_bytes - tail_bytes
    return f"{head}\n[... {skipped} bytes trimmed; full output in the log ...]\n{tail}"


def _live_members_proc(pgid: int) -> bool | None:
    """Whether a non-zombie process is in group ``pgid``; ``None`` without ``/proc``.

    Zombies are ignored: where PID 1 does not reap orphans (some containers) a killed
    grandchild stays a zombie for ever, and it is gone for every practical purpose.
    """
    try:
        entries = os.scandir("/proc")
    except OSError:
        return None
    with entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:  # exited meanwhile
                continue
            fields = stat.rsplit(")", 1)[-1].split()
            if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
                return True
    return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member changed user; it still exists
        pass
    live = _live_members_proc(pgid)
    return True if live is None else live


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _kill_group(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM the group, wait up to ``grace_s`` for it to empty, then SIGKILL what is left."""
    pgid = proc.pid  # session leader: its pid is the group id
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.05)  # reap the leader so a zombie does not keep the group
        if proc.returncode is not None and not _group_alive(pgid):
            return
        time.sleep(0.02)
    _signal_group(pgid, signal.SIGKILL)
    proc.wait()
    # Orphans are reaped by init; wait briefly until the kernel has removed them.
    deadline = time.monotonic() + 2.0
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)


def _kill_leftovers(pgid: int) -> None:
    if _group_alive(pgid):
        _signal_group(pgid, signal.SIGKILL)


def redact_text(text: str, redact: Sequence[str]) -> str:
    """``text`` with every value of ``redact`` replaced by a marker."""
    for value in redact:
        text = text.replace(value, _REDACTED)
    return text


def _redact_log(log_path: Path, redact: Sequence[str]) -> bytes:
    data = log_path.read_bytes()
    if not redact:
        return data
    original = data
    for value in redact:
        data = data.replace(value.encode("utf-8"), _REDACTED.encode())
    if data != original:
        log_path.write_bytes(data)
    return data


def _wait(
    proc: subprocess.Popen[bytes], log: BinaryIO, deadline: float, max_log_bytes: int | None
) -> tuple[bool, bool]:
    """Wait for ``proc``: ``(timed_out, overflowed)``. Returns as soon as it exits; checks the
    log's size every quarter second when a cap is set."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return True, False
        step = left if max_log_bytes is None else min(left, 0.25)
        try:
            proc.wait(timeout=step)
            return False, False
        except subprocess.TimeoutExpired:
            if max_log_bytes is not None and os.fstat(log.fileno()).st_size > max_log_bytes:
                return False, True


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: ChildEnv,
    log_path: Path,
    timeout_s: float,
    kill_grace_s: float = 5.0,
    head_bytes: int = 1024,
    tail_bytes: int = 3072,
    max_log_bytes: int | None = None,
) -> ProcessResult:
    """Run ``argv`` in ``cwd`` with ``env``; output to ``log_path``; never longer than asked.

    Raises :class:`ProcessStartError` when the command cannot be started at all.
    """
    args = tuple(str(a) for a in argv)
    if not args:
        raise ProcessStartError("empty command")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    timed_out = overflowed = False
    with log_path.open("wb") as log:
        try:
            proc = subprocess.Popen(
                args,
                cwd=cwd,
                env=env.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ProcessStartError(f"cannot start {args[0]!r}: {reason}") from exc
        try:
            timed_out, overflowed = _wait(proc, log, start + timeout_s, max_log_bytes)
            if timed_out or overflowed:
                _kill_group(proc, kill_grace_s)
        finally:
            if proc.returncode is None:  # interrupted in the parent: leave nothing running
                _kill_group(proc, 0.0)
            _kill_leftovers(proc.pid)
    duration = time.monotonic() - start
    if overflowed and max_log_bytes is not None:
        with log_path.open("r+b") as log:
            log.truncate(max_log_bytes)
    data = _redact_log(log_path, env.redact)
    tail = trim_output(data, head_bytes, tail_bytes)
    if timed_out:
        tail += f"\n[autopack: timed out after {timeout_s:g}s; process group killed]\n"
    if overflowed:
        tail += (
            f"\n[autopack: output over {max_log_bytes} bytes; process group killed, "
            "log cut there]\n"
        )
    return ProcessResult(
        argv=args,
        returncode=proc.returncode,
        timed_out=timed_out,
        duration_s=round(duration, 3),
        log_path=log_path,
        output_tail=tail,
        overflowed=overflowed,
    )
