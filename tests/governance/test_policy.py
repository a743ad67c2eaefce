"""Governance as pure decisions: default deny, protected paths, approvals, content limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.policy.governance import (
    GovernanceConfig,
    GovernanceConfigError,
    GovernancePolicy,
    Verdict,
    is_binary,
    matches,
)


@pytest.fixture(scope="module")
def config() -> GovernanceConfig:
    return GovernanceConfig.load()


def policy(config: GovernanceConfig, *scope: str, **kw: object) -> GovernancePolicy:
    return GovernancePolicy(config, scope_paths=scope, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        (".env*", "config/.env.local", True),
        ("*.pem", "deep/er/cert.pem", True),
        (".github/workflows/", ".github/workflows/ci.yml", True),
        ("src/**/*.py", "src/a/b/c.py", True),
        ("src/**/*.py", "src/c.py", True),
        ("src/**/*.py", "lib/src/c.py", False),
        ("/top.txt", "sub/top.txt", False),
        ("id_rsa*", "home/.ssh/id_rsa.pub", True),
        ("docs/*.md", "docs/a/b.md", False),
    ],
)
def test_patterns_follow_gitignore_conventions(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("../outside.txt", "path.invalid"),
        ("/etc/passwd", "path.invalid"),
        ("C:/Windows/x", "path.invalid"),
        ("src/a\x00.py", "path.invalid"),
        (".git/config", "path.git"),
        ("src/.git/hooks/pre-commit", "path.git"),
        (".autopack/autopack.db", "protected.deny"),
        (".env", "protected.deny"),
        ("src/.env.production", "protected.deny"),
        ("deploy/server.key", "protected.deny"),
        ("home/.ssh/id_ed25519", "protected.deny"),
        ("aws/credentials", "protected.deny"),
        ("config/settings.py", "scope.outside"),
        ("srcfoo/x.py", "scope.outside"),
    ],
)
def test_denied_paths_name_their_rule(config: GovernanceConfig, path: str, rule: str) -> None:
    decision = policy(config, "src/", "README.md").check_path(path)
    assert (decision.verdict, decision.rule) == (Verdict.DENY, rule)
    assert decision.reason


def test_default_deny_without_scope(config: GovernanceConfig) -> None:
    decision = policy(config).check_path("src/app.py")
    assert (decision.verdict, decision.rule) == (Verdict.DENY, "scope.empty")


def test_inside_scope_is_allowed_and_scope_roots_cannot_be_deleted(
    config: GovernanceConfig,
) -> None:
    p = policy(config, "src/", "README.md", "tests/**/test_*.py")
    assert p.check_path("src/pkg/mod.py").verdict is Verdict.ALLOW
    assert p.check_path("tests/unit/test_x.py").verdict is Verdict.ALLOW
    assert p.check_path("tests/unit/helper.py").verdict is Verdict.DENY
    assert p.check_path("README.md", "delete").rule == "scope.root_delete"
    assert p.check_path("README.md", "rename_from").rule == "scope.root_delete"
    assert p.check_path("src/pkg/mod.py", "delete").verdict is Verdict.ALLOW


def test_phase_protected_paths_and_approvals(config: GovernanceConfig) -> None:
    p = policy(config, ".", protected_paths=("src/legacy/",))
    assert p.check_path("src/legacy/old.py").rule == "protected.deny"
    ci = p.check_path(".github/workflows/ci.yml")
    assert (ci.verdict, ci.rule) == (Verdict.NEEDS_APPROVAL, "protected.approval")
    strict = policy(config, "src/", approval_required=True)
    assert strict.check_path("src/a.py").rule == "strategy.approval"
    assert strict.check_path("other.py").verdict is Verdict.DENY  # deny beats approval


def test_decisions_combine_to_the_most_restrictive(config: GovernanceConfig) -> None:
    p = policy(config, "src/", ".github/")
    decision = p.check_paths([("src/a.py", "write"), (".github/workflows/x.yml", "write")])
    assert decision.verdict is Verdict.NEEDS_APPROVAL
    decision = p.check_paths([("src/a.py", "write"), ("setup.py", "write")])
    assert decision.verdict is Verdict.DENY
    assert "setup.py: refused by rule scope.outside" in decision.for_model()
    assert "src/a.py" not in decision.for_model()


def test_content_limits(config: GovernanceConfig) -> None:
    p = policy(config, "src/")
    big = b"x = 1\n" * (config.max_file_bytes // 6 + 1)
    decisions = p.check_contents(
        {"src/big.py": big, "src/blob.bin": b"\x00\x01", "src/ok.py": b"a = 1\n", "gone": None}
    )
    rules = {d.path: d.rule for d in decisions.decisions}
    assert rules == {"src/big.py": "content.too_large", "src/blob.bin": "content.binary"}
    assert is_binary(b"\xff\xfe bad utf8") and not is_binary("ünïcode".encode())


def test_project_file_extends_lists_and_replaces_limits(tmp_path: Path) -> None:
    extra = tmp_path / "governance.yaml"
    extra.write_text("deny: ['migrations/']\napproval: ['pyproject.toml']\nmax_file_bytes: 10\n")
    config = GovernanceConfig.load(extra)
    assert ".env" in config.deny and "migrations/" in config.deny
    assert "pyproject.toml" in config.approval and config.max_file_bytes == 10
    p = GovernancePolicy(config, scope_paths=(".",))
    assert p.check_path("migrations/0001.py").rule == "protected.deny"
    assert p.check_path("pyproject.toml").verdict is Verdict.NEEDS_APPROVAL


@pytest.mark.parametrize(
    ("text", "message"),
    [("max_file_bytes: -1\n", "max_file_bytes"), ("denyy: []\n", "denyy"), ("[1]\n", "mapping")],
)
def test_malformed_project_file_is_located(tmp_path: Path, text: str, message: str) -> None:
    extra = tmp_path / "governance.yaml"
    extra.write_text(text)
    with pytest.raises(GovernanceConfigError, match=message):
        GovernanceConfig.load(extra)


def test_for_phase_uses_scope_protections_and_strategy(config: GovernanceConfig) -> None:
    from autopack.policy.strategy import StrategyEngine
    from autopack.spec.models import PhaseSpec, SafetyProfile

    phase = PhaseSpec.model_validate(
        {
            "phase_id": "p",
            "phase_index": 0,
            "name": "p",
            "task_category": "schema_contract_change",
            "scope": {"paths": ["api/"], "protected_paths": ["api/v1/"]},
        }
    )
    strategy = StrategyEngine.load().compile(phase, SafetyProfile.NORMAL)
    p = GovernancePolicy.for_phase(config, phase.scope, strategy)
    assert p.check_path("api/v1/routes.py").rule == "protected.deny"
    decision = p.check_path("api/v2/routes.py")
    assert (decision.verdict, decision.rule) == (Verdict.NEEDS_APPROVAL, "strategy.approval")
    assert "high-risk" in decision.reason
    assert p.check_path("web/app.py").rule == "scope.outside"
    plain = GovernancePolicy.for_phase(config, phase.scope)
    assert plain.check_path("api/v2/routes.py").verdict is Verdict.ALLOW


def test_scope_globs_grant_exactly_what_they_match(config: GovernanceConfig) -> None:
    p = policy(config, "docs/*.md", "src/")
    assert p.check_path("docs/a.md").verdict is Verdict.ALLOW
    assert p.check_path("docs/a.md/conftest.py").rule == "scope.outside"
    assert p.check_path("docs/sub/a.md").rule == "scope.outside"
    assert p.check_path("src/deep/x.py").verdict is Verdict.ALLOW


def test_option_like_paths_are_invalid(config: GovernanceConfig) -> None:
    decision = policy(config, ".").check_path("--basetemp=/home/user")
    assert (decision.verdict, decision.rule) == (Verdict.DENY, "path.invalid")
