"""Gathering workspace facts from real directories, and the CI the normaliser infers from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autopack.spec.normalize import normalize_plan
from autopack.workspace.facts import gather_facts
from support.gitrepo import commit_all, git, write

PLAN = "## Add a feature\nChange `main.txt`.\n"


def _ci(root: Path) -> dict | None:
    result = normalize_plan(PLAN, gather_facts(root))
    return result.data["tiers"][0]["phases"][0]["scope"].get("ci")


def test_git_listing_has_tracked_and_untracked_files_but_not_ignored_ones(
    tmp_path: Path, git_env: dict[str, str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, ".gitignore", "build/\n")
    write(repo, "src/app.py", "x = 1\n")
    commit_all(repo, "initial")
    write(repo, "src/new.py", "")
    write(repo, "build/out.py", "")
    write(repo, ".autopack/autopack.db", "")
    (repo / "src" / "app.py").unlink()  # deleted in the worktree: not listed
    facts = gather_facts(repo)
    assert facts.files == (".gitignore", "src/new.py")
    assert not facts.truncated


def test_outside_git_a_bounded_walk_skips_environments(tmp_path: Path) -> None:
    for rel in ("a.py", "pkg/b.py", "node_modules/x/index.js", ".venv/lib/site.py", ".git/HEAD"):
        write(tmp_path, rel, "")
    assert gather_facts(tmp_path).files == ("a.py", "pkg/b.py")
    for n in range(5):
        write(tmp_path, f"many/f{n}.txt", "")
    bounded = gather_facts(tmp_path, max_files=3)
    assert len(bounded.files) == 3 and bounded.truncated
    result = normalize_plan(PLAN, bounded)
    assert "workspace_truncated" in [w.code for w in result.warnings]


def test_a_missing_workspace_is_a_note(tmp_path: Path) -> None:
    facts = gather_facts(tmp_path / "nope")
    assert facts.files == () and "is not a directory" in facts.notes[0]


def test_ci_pytest_from_configuration_or_test_files(tmp_path: Path) -> None:
    write(tmp_path, "main.txt", "")
    write(tmp_path, "pyproject.toml", "[tool.pytest.ini_options]\naddopts = '-q'\n")
    assert _ci(tmp_path) == {"type": "pytest"}
    other = tmp_path / "other"
    write(other, "main.txt", "")
    write(other, "tests/test_x.py", "def test_x(): pass\n")
    assert _ci(other) == {"type": "pytest"}


def test_ci_npm_only_for_a_real_test_script(tmp_path: Path) -> None:
    write(tmp_path, "main.txt", "")
    placeholder = {"scripts": {"test": 'echo "Error: no test specified" && exit 1'}}
    write(tmp_path, "package.json", json.dumps(placeholder))
    assert _ci(tmp_path) is None
    write(tmp_path, "package.json", json.dumps({"scripts": {"test": "vitest run"}}))
    assert _ci(tmp_path) == {"type": "custom", "command": ["npm", "test"]}


def test_ci_make_test_target(tmp_path: Path) -> None:
    write(tmp_path, "main.txt", "")
    write(tmp_path, "Makefile", "VAR := 1\nbuild:\n\tcc x.c\n")
    assert _ci(tmp_path) is None
    write(tmp_path, "Makefile", ".PHONY: test\nbuild:\n\tcc x.c\ntest: build\n\t./run-tests\n")
    assert _ci(tmp_path) == {"type": "custom", "command": ["make", "test"]}


@pytest.mark.parametrize(
    ("marker", "command"),
    [("Cargo.toml", ["cargo", "test"]), ("go.mod", ["go", "test", "./..."])],
)
def test_ci_cargo_and_go(tmp_path: Path, marker: str, command: list[str]) -> None:
    write(tmp_path, "main.txt", "")
    write(tmp_path, marker, "")
    assert _ci(tmp_path) == {"type": "custom", "command": command}


def test_no_project_marker_means_no_ci_and_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "main.txt", "")
    result = normalize_plan(PLAN, gather_facts(tmp_path))
    assert "ci" not in result.data["tiers"][0]["phases"][0]["scope"]
    assert "no_ci" in [w.code for w in result.warnings]
    assert result.components["ci"] == 0.4


def test_an_explicit_ci_line_wins_over_the_project(tmp_path: Path) -> None:
    write(tmp_path, "main.txt", "")
    write(tmp_path, "pytest.ini", "[pytest]\n")
    plan = "CI: `tox -e py311`\n\n## Add a feature\nChange `main.txt`.\n"
    result = normalize_plan(plan, gather_facts(tmp_path))
    ci = result.data["tiers"][0]["phases"][0]["scope"]["ci"]
    assert ci == {"type": "custom", "command": ["tox", "-e", "py311"]}
