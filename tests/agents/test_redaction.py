"""The Redactor: sources of secrets, token shapes, short values, and the canary test."""

from __future__ import annotations

import json

import pytest

from autopack.agents import (
    AuditRequest,
    ContextAssembler,
    ContextInputs,
    FailedAttempt,
    FailureHistory,
    Redactor,
    audit,
    build_messages,
    diagnose,
    dual_audit,
)
from autopack.agents.redaction import secrets_in_text
from autopack.checks.report import CheckReport, CheckStatus
from autopack.llm.base import Message
from autopack.settings import load_settings


def test_literal_values_longest_first_and_short_ones_ignored() -> None:
    redactor = Redactor.build([("abcdefgh", "a"), ("abcdefgh-longer", "b"), ("short", "c")])
    assert redactor.redact("abcdefgh-longer abcdefgh short") == ("[REDACTED:b] [REDACTED:a] short")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("key sk-ant-api03-AbCdEf0123456789xyz_-abc end", "anthropic_key"),
        ("key sk-proj-AbCdEf0123456789xyzABCDEF end", "openai_key"),
        ("tok ghp_" + "a1B2" * 9 + " end", "github_token"),
        ("id AKIAIOSFODNN7EXAMPLE end", "aws_access_key"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "private_key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn (cut off", "private_key"),
    ],
)
def test_token_shapes(text: str, kind: str) -> None:
    out = Redactor().redact(text)
    assert f"[REDACTED:{kind}]" in out
    assert "0123456789" not in out and "EXAMPLE" not in out and "MIIE" not in out


def test_ordinary_words_are_not_token_shapes() -> None:
    text = "task-category-identifier-is-long and risk-assessment-for-everyone-here"
    assert Redactor().redact(text) == text


def test_secrets_in_env_and_credential_files() -> None:
    text = """
    # comment
    export API_TOKEN="quoted-token-value"
    PLAIN=plainvalue123 # trailing comment
    SHORT=abc
    "json_key": "json-secret-value",
    bare-single-token-on-a-line
    a sentence with spaces is not a token
    """
    assert secrets_in_text(text) == [
        "quoted-token-value",
        "plainvalue123",
        "json-secret-value",
        "bare-single-token-on-a-line",
    ]


def test_messages_keep_roles(no_redaction) -> None:
    redactor = Redactor.build([("topsecretvalue", "x")])
    out = redactor.messages([Message(role="user", content="a topsecretvalue b")])
    assert out == [Message(role="user", content="a [REDACTED:x] b")]


# -- the canary test ---------------------------------------------------------------------

ANTHROPIC = "sk-ant-api03-CANARYanthropic0000000000"
AUTOPACK = "CANARY-autopack-api-key-7f3a9"
DB_PASSWORD = "CANARYdbpass9x7"
DOTENV = "CANARY-dotenv-token-1234"
KEYFILE = "CANARY-keyfile-token-5678"
SHAPE_ONLY = "sk-ant-api03-CANARYshapeonly000000000"
AWS = "AKIACANARYAWS0000001"
PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nCANARYpembody\n-----END OPENSSH PRIVATE KEY-----"


@pytest.fixture
def canary_world(workspace, monkeypatch, write_tree):
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC)
    monkeypatch.setenv("AUTOPACK_API_KEY", AUTOPACK)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://app:{DB_PASSWORD}@db.internal:5432/prod")
    write_tree(
        workspace,
        {
            ".env": f"SERVICE_TOKEN={DOTENV}\nDEBUG=1\n",
            "deploy/api.key": f"{KEYFILE}\n",
            "deploy/id_ed25519": PEM + "\n",
            "src/app/.env.local": f"OTHER={DOTENV}-local\n",
            "src/app/config.py": (
                f'ANTHROPIC = "{ANTHROPIC}"\n'
                f'DB = "postgres://app:{DB_PASSWORD}@localhost/test"\n'
                f'TOKEN = "{DOTENV}"\n'
                f'KEY = "{KEYFILE}"\n'
                f'SHAPE = "{SHAPE_ONLY}"\n'
                f'AWS = "{AWS}"\n'
                f'PEM = """{PEM}"""\n'
                'def greet():\n    return "hello"\n'
            ),
        },
    )
    settings = load_settings(workspace=workspace)
    return settings, Redactor.from_sources(settings, workspace)


def grep_canaries(conversations: list[list[Message]]) -> list[str]:
    return [
        f"{m.role}: ...{m.content[max(0, i - 40) : i + 40]}..."
        for messages in conversations
        for m in messages
        for i in [m.content.find("CANARY")]
        if i != -1
    ]


def test_canary_secrets_never_reach_any_prompt(canary_world, workspace, phase_factory, fake_model):
    _settings, redactor = canary_world
    phase = phase_factory(
        scope={
            "paths": ["src/app/", ".env", "deploy/"],
            "read_only_context": ["deploy/api.key", "deploy/id_ed25519"],
        }
    )
    error = f"Auth failed with key {AUTOPACK} and sk-proj-CANARYopenai000000000000000"
    conversations: list[list[Message]] = []

    # Builder
    assembler = ContextAssembler(workspace, redactor=redactor)
    builder = build_messages(
        assembler,
        ContextInputs(phase=phase, previous_errors=(error,), doctor_hints=(f"use {DOTENV}",)),
        redactor=redactor,
    )
    conversations.append(builder.messages)
    task = builder.messages[1].content
    assert "src/app/config.py" in task and "def greet" in task  # the file was shown...
    assert "[REDACTED:ANTHROPIC_API_KEY]" in task  # ...with its secrets replaced
    assert "[REDACTED:AUTOPACK_API_KEY]" in task
    assert "[REDACTED:DATABASE_URL]" in task
    assert "[REDACTED:env_file]" in task and "[REDACTED:key_file]" in task

    # Auditor, with a model that quotes a secret back in an invalid answer (the follow-up
    # quotes the answer: it must be redacted too).
    checks = CheckReport(status=CheckStatus.FAILED, output_tail=f"password={DB_PASSWORD}")
    request = AuditRequest(phase=phase, diff=f"+TOKEN = '{DOTENV}'\n+{PEM}\n", checks=checks)
    auditor = fake_model(f"I saw {KEYFILE} in the diff", json.dumps({"approved": True}))
    audit(auditor, request, redactor=redactor)
    conversations.extend(auditor.calls)

    # Dual audit with a judge whose inputs quote the auditors' issues.
    leak = {"severity": "critical", "description": f"hard-coded {ANTHROPIC}", "file": "x"}
    a = fake_model(json.dumps({"approved": True}))
    b = fake_model(json.dumps({"approved": False, "issues": [leak]}))
    judge = fake_model(json.dumps({"approved": False, "issues": [leak]}))
    dual_audit(a, b, judge, request, redactor=redactor)
    assert judge.calls
    conversations.extend([*a.calls, *b.calls, *judge.calls])

    # Doctor
    history = FailureHistory(
        attempts=(
            FailedAttempt(
                attempt=1,
                error_class="ci_fail",
                messages=(error,),
                check_summary=f"db {DB_PASSWORD}",
            ),
        )
    )
    doctor = fake_model(json.dumps({"action": "escalate", "rationale": f"saw {AWS}"}))
    diagnose(doctor, phase, history, redactor=redactor)
    conversations.extend(doctor.calls)

    assert grep_canaries(conversations) == []
    # The protected files themselves were never read into the context.
    not_read = {d.item for d in builder.dropped if d.action == "not_read"}
    assert {".env", "deploy/api.key", "deploy/id_ed25519", "src/app/.env.local"} <= not_read


def test_redactor_never_prints_secrets_in_its_repr(canary_world) -> None:
    _settings, redactor = canary_world
    assert DOTENV in {value for value, _kind in redactor.values}  # it knows them...
    assert "CANARY" not in repr(redactor)  # ...but never shows them in logs
