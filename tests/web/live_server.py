"""A real ``autopack serve`` in a child process, and what the browser test needs around it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ENTRY = "from autopack.cli.main import run; run()"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking"]
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def missing_component(reason: str) -> None:
    """Skip locally, fail in CI (as ``tests/conftest.py`` does for PostgreSQL)."""
    if IN_CI:
        pytest.fail(f"required system component missing under CI=true: {reason}")
    pytest.skip(reason)


def require_browser() -> None:
    """Playwright's Python package and Debian's Chromium (never a downloaded browser)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing_component("the playwright package is not installed (pip install playwright)")
    if not CHROMIUM.is_file():
        missing_component(f"{CHROMIUM} is missing (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(project: Path, **extra: str) -> dict[str, str]:
    """The test's environment without Autopack settings, pointed at ``project``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOPACK_")}
    return {**env, "AUTOPACK_WORKSPACE": str(project), **extra}


def autopack(env: dict[str, str], *args: str) -> str:
    """Run the CLI; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass
class LiveServer:
    """A server listening on 127.0.0.1."""

    port: int
    proc: subprocess.Popen[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serving(env: dict[str, str], log: Path, *args: str) -> Iterator[LiveServer]:
    """``autopack serve`` on a free port until the block ends (its output goes to ``log``)."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", ENTRY, "serve", "--port", str(port), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                        break
                except (urllib.error.URLError, ConnectionError):
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield LiveServer(port, proc)
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def keep_screenshots(shots: list[Path], repo: Path) -> Path:
    """Copy the screenshots to ``<repo>/.artifacts/screenshots/`` (git-ignored)."""
    target = repo / ".artifacts" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        shutil.copy2(shot, target / shot.name)
    return target
