"""`autopack serve` for real: uvicorn in a child process, requests over a real socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from api.api_helpers import ADMIN_KEY, plan

ENTRY = "from autopack.cli.main import run; run()"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(
    port: int, method: str, path: str, *, key: str | None = None, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _call(port, "GET", "/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start: {proc.communicate()[1]}")
            time.sleep(0.1)
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _env(project: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOPACK_")}
    return {**env, "AUTOPACK_WORKSPACE": str(project), "AUTOPACK_SKIP_CI": "1", **extra}


def test_serve_runs_a_plan_over_http(project: Path, answers: Path) -> None:
    env = _env(project, AUTOPACK_API_KEY=ADMIN_KEY)
    with serving(env, "--scripted", str(answers), "--workers", "2") as (port, _):
        status, headers, body = _call(port, "GET", "/health")
        assert body == {"status": "ok"} and headers["x-content-type-options"] == "nosniff"
        assert "server" not in {h.lower() for h in headers}
        assert _call(port, "GET", "/runs")[0] == 401

        status, _, body = _call(port, "POST", "/runs/start", key=ADMIN_KEY, body=plan())
        assert status == 202, body
        deadline = time.monotonic() + 60
        while True:
            progress = _call(port, "GET", "/runs/calc-run/progress", key=ADMIN_KEY)[2]
            if progress["state"] == "GATE" and not progress["executing"]:
                break
            assert time.monotonic() < deadline, progress
            time.sleep(0.1)
        [pending] = _call(port, "GET", "/approval/pending", key=ADMIN_KEY)[2]
        assert pending["phase_id"] == "div"


def test_serve_beyond_localhost_without_a_key_warns(project: Path) -> None:
    with serving(_env(project, AUTOPACK_ANONYMOUS_READ="1"), "--host", "0.0.0.0") as (
        port,
        proc,
    ):
        assert _call(port, "GET", "/runs")[0] == 401  # anonymous read ignored off localhost
        proc.terminate()
        stderr = proc.communicate(timeout=60)[1]
    assert "listening on 0.0.0.0 (beyond this machine) with no API key" in stderr
    assert "AUTOPACK_ANONYMOUS_READ is ignored" in stderr
