"""Canary secrets through a whole engine run and its learning loop.

``tests/test_canary_secrets.py`` follows one Builder call. Here the real engine runs the
end-to-end plan (scripted model, real git worktrees, real pytest checks) with every learner
on: issue tracking, retrieval memory (``enable_memory``), learned rules. Canaries sit in the
provider and API key variables, the project's ``.env``, a key file and an in-scope source
file; a project test prints its environment, ``.env`` and key file and fails when ``sub``
breaks (the Builder's second attempt), so the checks record a new failure with that output
as its evidence, and the Doctor and the next Builder prompt see it; the Auditor
echoes canaries in the issues it reports (approving, and once rejecting: its verdict becomes
the next attempt's feedback) and the Doctor in its rationale and hint, as a model could.
The run waits for approval, is approved and finishes; then the run report is saved.

Then every prompt the model received, every notification and log record, every row of every
table of the store and of the memory database (FTS shadow tables included) and every byte of
every file under the data directory (issue mirrors, rule observations, answers, diffs, check
logs, the report, the databases themselves) is searched for any canary.
"""

from __future__ import annotations

import copy
import json
import logging
import sqlite3
from pathlib import Path

import pytest
import yaml
from sqlalchemy import inspect, text

from autopack.engine import Engine, EngineOptions, approve, execute_run
from autopack.engine.report import build_report
from autopack.policy.states import RunState
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from support.engine_script import PLAN, script
from support.sample_project import init_git, write_sample_project

ANTHROPIC = "sk-ant-api03-CANARYanthropic0000000000000"
OPENAI = "sk-proj-CANARYopenai00000000000000000"
API_KEY = "CANARY-autopack-api-key-0000"
DOTENV = "CANARY-dotenv-value-0000"
KEYFILE = "CANARY-private-key-body-0000"
ALL = (ANTHROPIC, OPENAI, API_KEY, DOTENV, KEYFILE)
RUN = "calc-run"

ENV_TEST = """\
import os
from pathlib import Path

from calc import sub

ROOT = Path(__file__).resolve().parents[1]


def test_environment():
    dump = "\\n".join(
        [
            "environment dump:",  # pytest's summary line cuts the first line: no secret there
            (ROOT / ".env").read_text(),
            (ROOT / "deploy" / "id_ed25519").read_text(),
            repr(sorted(os.environ.items())),
        ]
    )
    print(dump)
    assert sub(5, 3) == 2, dump
"""

AUDIT = json.dumps(
    {
        "approved": True,
        "issues": [
            {
                "severity": "minor",
                "category": "security",
                "file": "config.py",
                "description": f"config.py hard-codes {API_KEY}; the env holds {ANTHROPIC}",
            }
        ],
        "summary": f"approved, but rotate {OPENAI}",
    }
)
REJECT = json.dumps(
    {
        "approved": False,
        "issues": [
            {
                "severity": "major",
                "category": "docs",
                "description": f"the README must not show the key {DOTENV}",
            }
        ],
        "summary": f"rejected: {KEYFILE} is in the text",
    }
)
DOCTOR = json.dumps(
    {
        "action": "retry_with_fix",
        "rationale": f"two failures; the check printed {DOTENV} and {KEYFILE}",
        "hint": f"keep sub unchanged and never print {ANTHROPIC}",
    }
)


def _hits(haystack: str) -> list[str]:
    found = [c for c in ALL if c in haystack]
    return found + (["canary"] if "canary" in haystack.lower() else [])


@pytest.fixture
def engine(tmp_path: Path, git_env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    repo = write_sample_project(tmp_path / "project")
    (repo / ".env").write_text(f"TOKEN={DOTENV}\nOPENAI_API_KEY={OPENAI}\n")
    (repo / "deploy").mkdir()
    (repo / "deploy" / "id_ed25519").write_text(
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{KEYFILE}\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    (repo / "config.py").write_text(f'SERVICE_KEY = "{API_KEY}"\n')
    (repo / "tests" / "test_env.py").write_text(ENV_TEST)
    init_git(repo)  # the secrets are committed: the checks' worktrees have them too
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI)
    monkeypatch.setenv("AUTOPACK_API_KEY", API_KEY)

    auditor = [
        {"role": "auditor", "phase": "readme", "attempt": 1, "text": REJECT},  # then approves
        {"role": "auditor", "text": AUDIT},
    ]
    answers = script(auditor=auditor, doctor=[{"role": "doctor", "text": DOCTOR}])
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump(answers))
    plan = copy.deepcopy(PLAN)
    plan["tiers"][0]["phases"][0]["scope"]["paths"].append("config.py")  # shown to the Builder
    settings = load_settings(workspace=repo, enable_memory=True)
    store = Store.open(settings)
    loaded = load_spec_data(plan)
    engine = Engine(settings, store, EngineOptions(scripted=path))
    store.create_run(loaded.spec, engine.strategy.compile_run(loaded.spec), shape=loaded.shape)
    yield engine
    store.close()


def test_no_secret_leaves_a_run_through_the_learning_loop(engine: Engine, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    learners = [learner.name for learner in engine.learning.learners]
    assert {"memory", "issues", "learned_rules"} <= set(learners), learners
    notes: list[str] = []
    assert execute_run(engine, RUN, notify=notes.append).state == RunState.GATE
    done = approve(engine, RUN, "div", by="alice", notify=notes.append)
    assert done.state == RunState.DONE_SUCCESS, done.reason
    settings, store = engine.settings, engine.store
    data_dir = settings.data_dir
    report = build_report(store, RUN, settings)
    (data_dir / "runs" / RUN / "report.md").write_text(report, encoding="utf-8")

    # The canaries were really on every path: shown redacted, recorded redacted.
    sent = [
        "\n".join(m.content for m in call.messages) for call in engine._providers["scripted"].calls
    ]
    assert any("SERVICE_KEY = " in p for p in sent)  # the in-scope file, redacted
    assert any("keep sub unchanged and never print [REDACTED" in p for p in sent)
    assert any("test_environment" in p for p in sent)  # the failing check's output
    issues = {i.issue_key: i for i in store.iter_backlog(status="all")}
    assert issues["test:tests/test_env.py::test_environment"].severity == "major"
    assert issues["test:tests/test_calc.py::test_broken"].severity == "minor"  # pre-existing
    assert any("[REDACTED" in i.title for i in issues.values())  # the Auditor's echo
    readme = store.attempts(RUN, "readme")
    assert [a.outcome for a in readme][:1] == ["auditor_reject"], readme
    [seen] = store.backlog_issue("test:tests/test_env.py::test_environment").occurrences
    assert "TOKEN=[REDACTED:env_file]" in seen.evidence, seen.evidence  # the check's output
    assert "[REDACTED:private_key]" in seen.evidence
    memory = data_dir / "memory.sqlite3"
    assert memory.is_file()
    approvals = store.approvals(status="approved", run_id=RUN)
    assert approvals and store.approval_material(approvals[0].id)[1]  # the diff is stored
    issue_files = list((data_dir / "runs" / RUN / "issues").rglob("*"))
    assert any(p.suffix == ".json" for p in issue_files)
    assert any(p.suffix == ".md" for p in issue_files)

    # ... and no canary anywhere.
    for n, prompt in enumerate(sent):
        assert _hits(prompt) == [], f"a secret reached the model in call {n}"
    assert _hits("\n".join(notes)) == [], [n for n in notes if _hits(n)]
    assert _hits(caplog.text) == [], "a secret reached a log line"
    assert _hits(report) == [], "a secret reached the run report"
    with store.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        assert {"phase_issues", "issue_backlog", "approvals", "events", "attempts"} <= set(
            tables
        ), tables
        for table in tables:
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).fetchall()
            assert _hits(repr(rows)) == [], f"a secret was stored in {table}"
    db = sqlite3.connect(memory)
    try:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert any(n.endswith("_data") for n in names), names  # FTS5 shadow tables
        for name in names:
            rows = db.execute(f'SELECT * FROM "{name}"').fetchall()
            assert _hits(repr(rows)) == [], f"a secret was stored in memory table {name}"
        kinds = {r[0] for r in db.execute("SELECT kind FROM notes")}
        assert {"error", "fix", "run_summary"} <= kinds, kinds
    finally:
        db.close()
    store.close()
    worktrees = data_dir / "worktrees"  # checkouts of the project: its own committed files
    files = [p for p in data_dir.rglob("*") if p.is_file() and worktrees not in p.parents]
    names = {p.name for p in files}
    assert {"rule_observations.jsonl", "report.md", "memory.sqlite3"} <= names, sorted(names)
    for path in files:
        blob = path.read_bytes().decode("utf-8", errors="replace")
        assert _hits(blob) == [], f"a secret was written to {path}"
