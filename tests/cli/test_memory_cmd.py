"""`autopack memory`: index the docs, search, stats — through the real command tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from autopack.cli.main import build_app


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "DEBUG_LOG.md").write_text(
        "# Locked database\nTwo writers: WAL and a busy timeout fixed it.\n\n"
        "# Flaky clock\nFreeze time in tests.\n"
    )
    return tmp_path


def _run(*args: str):
    return CliRunner().invoke(build_app(), ["memory", *args], catch_exceptions=False)


def test_index_search_and_stats(project: Path) -> None:
    first = _run("index-docs")
    assert first.exit_code == 0, first.output
    assert "2 section(s) added" in first.stdout
    again = _run("index-docs")
    assert "0 section(s) added, 0 changed, 2 unchanged" in again.stdout

    found = _run("search", 'database is locked (NEAR* "writers', "--kind", "doc")
    assert found.exit_code == 0, found.output
    assert "doc:docs/DEBUG_LOG.md#locked-database" in found.stdout
    assert "flaky-clock" not in found.stdout
    full = _run("search", "freeze time", "--full", "--limit", "1")
    assert "Freeze time in tests." in full.stdout

    stats = _run("stats")
    assert stats.exit_code == 0
    assert "backend: fts" in stats.stdout
    rows = {tuple(ln.replace("│", " ").split()) for ln in stats.stdout.splitlines()}
    assert ("doc", "2") in rows and ("fix", "0") in rows and ("all", "2") in rows


def test_bad_input_is_a_clear_error(project: Path) -> None:
    result = _run("search", "x", "--kind", "gossip")
    assert result.exit_code == 2
    assert "unknown kind(s) gossip" in result.stderr
    assert _run("search", "nothing stored yet").stdout.strip() == "no matching note"
    bad = _run("index-docs", "../outside.md")
    assert bad.exit_code == 1 and "relative to the workspace" in bad.stderr
