"""The deployment files, checked without a Docker engine (none runs here).

The Dockerfile and docker-compose.yml are parsed and their promises checked (slim Python,
git, a non-root user, a health check, an entrypoint and commands that exist; services,
health checks, secrets only through ``*_FILE``). The entrypoint itself is run for real with
``sh`` against a SQLite data directory and a PostgreSQL server, and the health check script
against a listening and a closed port.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from autopack.cli.main import build_app
from autopack.store.migrate import head_revision

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
HEALTHCHECK = ROOT / "docker" / "healthcheck.py"
BIN = Path(sys.executable).parent  # where the `autopack` console script is installed


# --- the Dockerfile ----------------------------------------------------------------------


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, args = whole.partition(" ")
        out.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def exec_form(args: str) -> list[str]:
    """A JSON-array (exec form) argument list; exec form is required (no shell)."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(a, str) for a in value), args
    return value


def copies(steps: list[tuple[str, str]]) -> dict[str, str]:
    """Destination in the image → source in the repository, for every COPY of a file."""
    found: dict[str, str] = {}
    for keyword, args in steps:
        if keyword != "COPY":
            continue
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
        *sources, dest = parts
        for src in sources:
            found[dest.rstrip("/") + "/" + Path(src).name if dest.endswith("/") else dest] = src
    return found


def top_commands() -> set[str]:
    result = CliRunner().invoke(build_app(), ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    return set(re.findall(r"^│ (\w[\w-]*)\s", result.stdout, flags=re.MULTILINE))


@pytest.fixture(scope="module")
def steps() -> list[tuple[str, str]]:
    return instructions(ROOT / "Dockerfile")


def test_the_image_is_slim_python_with_git_and_a_non_root_user(steps) -> None:
    froms = [args for keyword, args in steps if keyword == "FROM"]
    assert froms and froms[-1].split()[0] == "python:3.11-slim"
    runs = [args for keyword, args in steps if keyword == "RUN"]
    installs = [r for r in runs if "apt-get install" in r]
    assert any("git" in shlex.split(r) for r in installs), installs
    assert any("rm -rf /var/lib/apt/lists/*" in r for r in installs)  # no apt cache kept
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"} and not users[-1].startswith("0:")
    user = users[-1].split(":")[0]
    assert any("useradd" in r and user in shlex.split(r) for r in runs)
    assert not [a for k, a in steps if k == "ARG" and re.search("KEY|SECRET|PASSWORD", a)]
    envs = " ".join(a for k, a in steps if k == "ENV")
    assert not re.search(r"(API_KEY|PASSWORD|DATABASE_URL)\s*=", envs)


def test_entrypoint_healthcheck_and_command_exist(steps) -> None:
    copied = copies(steps)
    entry = exec_form(next(a for k, a in reversed(steps) if k == "ENTRYPOINT"))
    assert (ROOT / copied[entry[0]]).resolve() == ENTRYPOINT
    entry_copy = next(a for k, a in steps if k == "COPY" and a.endswith(" " + entry[0]))
    assert "--chmod=0755" in entry_copy  # executable in the image whatever the checkout says
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    health = next(a for k, a in steps if k == "HEALTHCHECK")
    check = exec_form(health.split(" CMD ", 1)[1])
    assert check[0] == "python" and (ROOT / copied[check[1]]).resolve() == HEALTHCHECK
    cmd = exec_form(next(a for k, a in reversed(steps) if k == "CMD"))
    assert cmd[:2] == ["autopack", "serve"] and cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert "serve" in top_commands()
    for keyword, args in steps:
        if keyword == "COPY":
            sources = [p for p in shlex.split(args) if not p.startswith("--")][:-1]
            for src in sources:
                assert (ROOT / src).exists(), f"COPY {src}: not in the repository"
    ignored = (ROOT / ".dockerignore").read_text().split()
    for needed in ("src", "pyproject.toml", "README.md", "docker"):
        assert needed not in ignored
    assert {".git", ".venv", "secrets", ".autopack"} <= set(ignored)


# --- docker-compose.yml ------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


SECRET_NAMES = re.compile(r"(PASSWORD|API_KEY|SECRET|TOKEN|DATABASE_URL)$")


def test_compose_services_health_checks_and_dependencies(compose) -> None:
    services = compose["services"]
    assert {"postgres", "migrate", "api", "worker", "qdrant"} <= set(services)
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    api, worker = services["api"], services["worker"]
    assert api["command"][:2] == ["autopack", "serve"]
    assert api["command"][api["command"].index("--host") + 1] == "0.0.0.0"
    assert worker["command"] == ["autopack", "worker", "--concurrency", "2"]
    assert worker["deploy"]["replicas"] >= 2
    assert services["qdrant"]["profiles"] == ["memory"]
    for name in ("api", "worker"):
        needs = services[name]["depends_on"]
        assert needs["postgres"]["condition"] == "service_healthy"
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["AUTOPACK_ENTRYPOINT_MIGRATE"] == "0"
        assert services[name]["healthcheck"]["test"][0] == "CMD"
    assert services["migrate"]["environment"]["AUTOPACK_ENTRYPOINT_MIGRATE"] == "1"
    assert services["migrate"]["restart"] == "no"
    commands = top_commands()
    for name in ("migrate", "api", "worker"):
        command = services[name]["command"]
        assert command[0] == "autopack" and command[1] in commands, command
    # The worker's health check and the migrate service use a real sub-command.
    db_help = CliRunner().invoke(build_app(), ["db", "--help"], env={"COLUMNS": "200"}).stdout
    assert "current" in db_help and "upgrade" in db_help


def test_compose_passes_secrets_only_as_files(compose) -> None:
    declared = compose["secrets"]
    for name, spec in declared.items():
        assert set(spec) == {"file"} and spec["file"].startswith("./secrets/"), name
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        mounted = set(service.get("secrets", []))
        for key, value in env.items():
            if SECRET_NAMES.search(key):
                pytest.fail(f"{name}: secret {key} given in plain text")
            if key.endswith("_FILE"):
                assert value.startswith("/run/secrets/"), (name, key)
                assert value.removeprefix("/run/secrets/") in mounted, (name, key)
                assert value.removeprefix("/run/secrets/") in declared
    app_env = compose["services"]["api"]["environment"]
    for var in ("DATABASE_URL", "AUTOPACK_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
        assert f"{var}_FILE" in app_env
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"]
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"postgres(ql)?(\+\w+)?://[^/\s]*:[^@/\s]+@", text)  # no URL password


# --- the entrypoint, run for real --------------------------------------------------------


def entry_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AUTOPACK_", "DATABASE_URL", "GIT_DIR"))
    }
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "AUTOPACK_WORKSPACE": str(tmp_path),
            "AUTOPACK_DATA_DIR": str(tmp_path / "data"),
            "AUTOPACK_ENTRYPOINT_WAIT_SECONDS": "2",
            **extra,
        }
    )
    return env


def run_entrypoint(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    sh = shutil.which("dash") or shutil.which("sh")  # a POSIX shell, not bash, when present
    assert sh is not None
    return subprocess.run(
        [sh, str(ENTRYPOINT), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_entrypoint_migrates_a_sqlite_data_dir_then_execs_the_command(tmp_path: Path) -> None:
    env = entry_env(tmp_path)
    done = run_entrypoint(env, "autopack", "db", "current")
    assert done.returncode == 0, done.stderr
    assert "database upgraded" in done.stdout
    assert f"current: {head_revision()}" in done.stdout  # the command ran after the upgrade
    assert (tmp_path / "data" / "autopack.db").exists() or list((tmp_path / "data").glob("*.db"))
    again = run_entrypoint(env, sys.executable, "-c", "import sys; sys.exit(7)")
    assert again.returncode == 7  # exec: the command's exit status is the container's
    assert "already at revision" in again.stdout
    skip = run_entrypoint({**env, "AUTOPACK_ENTRYPOINT_MIGRATE": "0"}, "true")
    assert skip.returncode == 0 and "revision" not in skip.stdout


def test_entrypoint_migrates_postgresql_through_a_secret_file(tmp_path: Path, pg_url: str) -> None:
    secret = tmp_path / "database_url"
    secret.write_text(pg_url + "\n")
    env = entry_env(tmp_path, DATABASE_URL_FILE=str(secret))
    done = run_entrypoint(env, "autopack", "db", "current")
    assert done.returncode == 0, done.stderr
    assert "database upgraded: empty" in done.stdout
    assert f"current: {head_revision()}" in done.stdout
    assert pg_url not in done.stdout + done.stderr


def test_entrypoint_gives_up_when_the_database_never_answers(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    env = entry_env(
        tmp_path,
        DATABASE_URL="postgresql+psycopg://autopack:s3cret@127.0.0.1:9/autopack",
        AUTOPACK_ENTRYPOINT_WAIT_SECONDS="1",
    )
    failed = run_entrypoint(env, "touch", str(marker))
    assert failed.returncode == 1
    assert "did not answer within 1s" in failed.stderr
    assert "s3cret" not in failed.stderr
    assert not marker.exists()


def test_entrypoint_refuses_bad_settings(tmp_path: Path) -> None:
    env = entry_env(tmp_path)
    assert run_entrypoint(env).returncode == 2
    bad = run_entrypoint({**env, "AUTOPACK_ENTRYPOINT_WAIT_SECONDS": "soon"}, "true")
    assert bad.returncode == 2 and "whole number" in bad.stderr
    bad = run_entrypoint({**env, "AUTOPACK_ENTRYPOINT_MIGRATE": "maybe"}, "true")
    assert bad.returncode == 2


# --- the health check script -------------------------------------------------------------


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def listening() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_healthcheck_script(listening: int) -> None:
    def check(port: int) -> int:
        env = {**os.environ, "AUTOPACK_PORT": str(port)}
        cmd = [sys.executable, str(HEALTHCHECK)]
        return subprocess.run(cmd, env=env, capture_output=True, timeout=30).returncode

    assert check(listening) == 0
    assert check(9) == 1  # nothing listens on the discard port
