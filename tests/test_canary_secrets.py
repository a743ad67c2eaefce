"""Canary secrets through the real chain: no secret in any prompt, log line or stored artifact.

Canaries are planted in the settings' secrets, the workspace's ``.env`` and key file, an
in-scope source file and a previous attempt's error. A Builder prompt is assembled, sent
through the metered call (budget ledger + scripted provider) and its checks run with the
canary in the parent environment. Then every request the model received, every log record,
every row of every table and every file under the data directory is searched.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from autopack.agents import ContextAssembler, ContextInputs, Redactor, build_messages
from autopack.checks import ChecksConfig, CiRunner
from autopack.llm.ledger import MeteredModel
from autopack.llm.scripted import ScriptedProvider
from autopack.policy.strategy import StrategyEngine
from autopack.settings import load_settings
from autopack.spec.models import PhaseSpec
from autopack.store import Store
from support.specs import make_spec

ANTHROPIC = "sk-ant-api03-CANARYanthropic0000000000000"
OPENAI = "sk-proj-CANARYopenai00000000000000000"
API_KEY = "CANARY-autopack-api-key-0000"
DOTENV = "CANARY-dotenv-value-0000"
KEYFILE = "CANARY-private-key-body-0000"
ALL = (ANTHROPIC, OPENAI, API_KEY, DOTENV, KEYFILE)


def _hits(haystack: str) -> list[str]:
    return [c for c in ALL if c in haystack] + (["CANARY"] if "CANARY" in haystack else [])


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ws = tmp_path / "ws"
    (ws / "src" / "app").mkdir(parents=True)
    (ws / "deploy").mkdir()
    (ws / ".env").write_text(f"TOKEN={DOTENV}\n")
    (ws / "deploy" / "id_ed25519").write_text(
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{KEYFILE}\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    (ws / "src" / "app" / "config.py").write_text(
        f'API_KEY = "{API_KEY}"\n\n\ndef greet(name):\n    return f"hello {{name}}"\n'
    )
    (ws / "tests").mkdir()
    (ws / "tests" / "test_env.py").write_text(
        "import os\n\n\ndef test_env():\n"
        "    print(sorted(os.environ.items()))\n    assert False, dict(os.environ)\n"
    )
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI)
    monkeypatch.setenv("AUTOPACK_API_KEY", API_KEY)
    settings = load_settings(workspace=ws)
    return ws, settings


def test_no_canary_in_prompts_logs_rows_or_artifacts(world, caplog) -> None:
    ws, settings = world
    caplog.set_level(logging.DEBUG)
    store = Store.open(settings)
    spec = make_spec("canary", tiers=1, phases_per_tier=1)
    store.create_run(spec, StrategyEngine.load().compile_run(spec))
    phase = PhaseSpec.model_validate(
        {
            "phase_id": "p0-0",
            "phase_index": 0,
            "name": "greet",
            "description": "make greet polite",
            "scope": {"paths": ["src/app/", ".env"], "read_only_context": ["deploy/id_ed25519"]},
        }
    )
    redactor = Redactor.from_sources(settings, ws)
    prompt = build_messages(
        ContextAssembler(ws, redactor=redactor),
        ContextInputs(phase=phase, previous_errors=(f"401: key {ANTHROPIC} rejected",)),
        redactor=redactor,
    )
    provider = ScriptedProvider({"answers": [{"role": "builder", "text": "no edits"}]})
    call = MeteredModel(store, provider, "scripted", "builder", "canary", "p0-0", max_tokens=500)
    call(prompt.messages)

    data_dir = settings.ensure_data_dir()
    runner = CiRunner(artifacts_dir=data_dir / "artifacts", config=ChecksConfig.load())
    report = runner.run(ws, None)
    assert report.failed >= 1  # the check ran and printed its environment

    sent = "\n".join(m.content for r in provider.calls for m in r.messages)
    assert "def greet" in sent  # the source file was shown, redacted
    assert _hits(sent) == [], "a secret reached the model"
    assert _hits(caplog.text) == [], "a secret reached a log line"
    assert _hits(report.for_model() + report.output_tail) == []
    with store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).fetchall()
            assert _hits(repr(rows)) == [], f"a secret was stored in {table}"
    store.close()
    for path in data_dir.rglob("*"):
        if path.is_file():
            blob = path.read_bytes().decode("utf-8", errors="replace")
            assert _hits(blob) == [], f"a secret was written to {path}"
