"""Running a command: child environment without secrets, trimmed output, group kill."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from autopack.checks import CheckStatus, CiRunner, build_child_env, is_secret_name
from autopack.checks.process import run_process, trim_output
from autopack.spec.models import CiSpec


@pytest.mark.parametrize(
    "name",
    [
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_API_KEY_FILE",
        "DATABASE_URL",
        "DATABASE_URL_FILE",
        "AUTOPACK_API_KEY",
        "GITHUB_TOKEN",
        "GH_TOKEN_FILE",
        "AWS_SECRET_ACCESS_KEY",
        "MY_SECRET",
        "PGPASSWORD",
        "db_password",
        "MYSQL_PASSWD",
    ],
)
def test_secret_names(name: str):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["PATH", "HOME", "LANG", "TOKENIZERS_PARALLELISM", "FOO"])
def test_ordinary_names(name: str):
    assert not is_secret_name(name)


def test_child_env_is_minimal_and_secret_free():
    parent = {
        "PATH": "/bin",
        "HOME": "/home/x",
        "PYTHONPATH": "/leak",
        "ANTHROPIC_API_KEY": "sk-ant-parent-secret",
        "SOMETHING_ELSE": "1",
    }
    child = build_child_env(
        {"FOO": "bar", "OPENAI_API_KEY": "sk-from-plan", "PYTHONDONTWRITEBYTECODE": "0"},
        parent=parent,
        passthrough=["PATH", "HOME", "ANTHROPIC_API_KEY"],
    )
    assert child.env == {
        "PATH": "/bin",
        "HOME": "/home/x",
        "FOO": "bar",
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    assert child.dropped == ("OPENAI_API_KEY",)
    assert set(child.redact) == {"sk-ant-parent-secret", "sk-from-plan"}
    assert "sk-" not in repr(child)


def test_trim_output_keeps_head_and_tail():
    data = b"H" * 10 + b"M" * 100 + b"T" * 10
    text = trim_output(data, 10, 10)
    assert text.startswith("H" * 10)
    assert text.endswith("T" * 10)
    assert "100 bytes trimmed" in text
    assert trim_output(b"short", 10, 10) == "short"


def test_secrets_absent_from_child_env(
    tmp_path: Path, runner: CiRunner, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-very-secret")
    monkeypatch.setenv("ANTHROPIC_API_KEY_FILE", "/run/secrets/key")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_tokenvalue123")
    monkeypatch.setenv("DB_PASSWORD", "hunter2hunter2")
    monkeypatch.setenv("PYTHONPATH", "/should/not/leak")
    script = (
        "import json, os, sys; json.dump(dict(os.environ), open('env.json', 'w'));"
        "print('key is', 'sk-ant-test-very-secret')"
    )
    ci = CiSpec(
        type="custom",
        command=[sys.executable, "-c", script],
        env={"FOO": "bar", "OPENAI_API_KEY": "sk-openai-from-plan"},
    )
    report = runner.run(tmp_path, ci)
    assert report.status is CheckStatus.PASSED, report.output_tail
    env = json.loads((tmp_path / "env.json").read_text())
    for name in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_API_KEY_FILE",
        "GITHUB_TOKEN",
        "DB_PASSWORD",
        "OPENAI_API_KEY",
        "PYTHONPATH",
    ):
        assert name not in env
    assert env["FOO"] == "bar"
    assert env["AUTOPACK_JUNIT_XML"].endswith(".junit.xml")
    assert env["PATH"] == os.environ["PATH"]
    assert any("OPENAI_API_KEY" in w for w in report.warnings)
    # A value that reached the output anyway is redacted from the report and the log.
    assert "sk-ant-test-very-secret" not in report.output_tail
    assert "[redacted]" in report.output_tail
    assert "sk-ant-test-very-secret" not in Path(report.log_path or "").read_text()
    assert "sk-ant-test-very-secret" not in report.for_model()


def _alive(pid: int) -> bool:
    """Running (not a zombie waiting for a non-reaping init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(path: Path, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


SPAWNER = """
import os, signal, subprocess, sys, time
if sys.argv[1] == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 60 & wait"])
else:
    child = subprocess.Popen(["sleep", "60"])
with open("pids.tmp", "w") as fh:
    fh.write(f"{os.getpid()} {child.pid}")
os.replace("pids.tmp", "pids")
time.sleep(60)
"""


@pytest.mark.parametrize("mode", ["plain", "ignore"])
def test_timeout_kills_the_whole_group(tmp_path: Path, runner: CiRunner, mode: str):
    ci = CiSpec(type="custom", command=[sys.executable, "-c", SPAWNER, mode], timeout_seconds=1)
    started = time.monotonic()
    report = runner.run(tmp_path, ci)
    elapsed = time.monotonic() - started
    assert report.status is CheckStatus.TIMEOUT
    assert "timed out" in report.summary()
    assert "process group killed" in report.output_tail
    assert elapsed < 1 + 0.5 + 3  # timeout + grace + slack
    _wait_for(tmp_path / "pids")
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    deadline = time.monotonic() + 3
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if _alive(p)]


def test_leftover_background_process_is_killed_after_normal_exit(tmp_path: Path):
    script = (
        "import subprocess; p = subprocess.Popen(['sleep', '60']);"
        "open('pid', 'w').write(str(p.pid))"
    )
    result = run_process(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=build_child_env({}),
        log_path=tmp_path / "out.log",
        timeout_s=10,
    )
    assert result.returncode == 0 and not result.timed_out
    pid = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 3
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_runaway_output_is_stopped_at_the_log_cap(tmp_path: Path):
    flood = "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"
    started = time.monotonic()
    result = run_process(
        [sys.executable, "-c", flood],
        cwd=tmp_path,
        env=build_child_env({}),
        log_path=tmp_path / "out.log",
        timeout_s=60,
        kill_grace_s=0.5,
        max_log_bytes=2 * 1024 * 1024,
    )
    assert result.overflowed and not result.timed_out
    assert time.monotonic() - started < 10
    assert (tmp_path / "out.log").stat().st_size == 2 * 1024 * 1024
    assert "log cut there" in result.output_tail


def test_the_checks_report_an_overflow_as_an_error(tmp_path: Path):
    from autopack.checks import ChecksConfig

    config = ChecksConfig.load().model_copy(update={"max_log_bytes": 1024 * 1024})
    runner = CiRunner(artifacts_dir=tmp_path / "artifacts", config=config)
    flood = "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)\n"
    report = runner.run(tmp_path, CiSpec(type="custom", command=[sys.executable, "-c", flood]))
    assert report.status is CheckStatus.ERROR
    assert "log cap" in report.model_dump_json() and "log cut there" in report.output_tail
