"""Prompts are byte-identical to a recorded golden file when memory and learning are off.

The demo plan (retries, failure hardening, the Doctor, escalation, dual audit, an approval)
runs with the scripted model; every request the model received is compared with
``golden/demo_prompts.json``, recorded before the learning loop (issue 8) existed. With
``AUTOPACK_ENABLE_MEMORY`` off, no ``.autopack/intention.yaml`` and no learned rules, nothing
may change a byte. Regenerate (only for a deliberate prompt change) with
``REGENERATE_GOLDEN_PROMPTS=1``.
"""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path

from autopack.demo import RUN_ID, make_project
from autopack.engine import Engine, EngineOptions, InProcessDispatcher
from autopack.llm.scripted import ScriptedProvider
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_text
from autopack.store import Store

_SECONDS = re.compile(r"\bin \d+(\.\d+)?s\b")
_PYTHON = re.compile(r"[^\s'\"]*/bin/python[\d.]*")
"""Check durations and the checks' interpreter (the checkout's venv) vary from machine to
machine and run to run; they are the only things blurred."""

GOLDEN = Path(__file__).parent / "golden" / "demo_prompts.json"


def _asset(name: str) -> str:
    return resources.files("autopack.demo").joinpath(name).read_text(encoding="utf-8")


def _requests(tmp_path: Path) -> list[dict[str, object]]:
    project = make_project(tmp_path)
    script = tmp_path / "script.yaml"
    script.write_text(_asset("script.yaml"), encoding="utf-8")
    plan = load_spec_text(_asset("plan.yaml"), fmt="yaml", source="demo plan")
    settings = load_settings(workspace=project, skip_ci=False, enable_memory=False)
    store = Store.open(settings)
    try:
        engine = Engine(settings, store, EngineOptions(scripted=script, auto_approve=True))
        store.create_run(plan.spec, engine.strategy.compile_run(plan.spec), shape=plan.shape)
        InProcessDispatcher(engine).execute(RUN_ID, notify=lambda _line: None)
        provider = engine._providers["scripted"]
    finally:
        store.close()
    assert isinstance(provider, ScriptedProvider)
    out: list[dict[str, object]] = []
    for call in provider.calls:
        messages = [m.model_dump(mode="json") for m in call.messages]
        text = json.dumps(
            {
                "role": call.role,
                "phase": call.phase_id,
                "attempt": call.attempt,
                "messages": messages,
            },
            ensure_ascii=False,
        )
        text = _SECONDS.sub("in <T>s", text.replace(str(tmp_path), "<TMP>"))
        text = _PYTHON.sub("<PYTHON>", text)
        out.append(json.loads(text))
    return out


def test_demo_prompts_are_byte_identical_to_the_golden_file(tmp_path: Path) -> None:
    got = _requests(tmp_path)
    if os.environ.get("REGENERATE_GOLDEN_PROMPTS") == "1":
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert [(r["role"], r["phase"], r["attempt"]) for r in got] == [
        (r["role"], r["phase"], r["attempt"]) for r in want
    ]
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"request {i} ({w['role']} {w['phase']} attempt {w['attempt']}) changed"
