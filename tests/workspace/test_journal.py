"""The attempt journal, id validation and the guards that never drop commits."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.workspace import IntegrationWorkspace, WorkspaceError, validate_id
from autopack.workspace.journal import AttemptRecord, Journal
from support.gitrepo import commit_all, git, write


@pytest.mark.parametrize("good", ["a", "run-1", "R_2.x", "9" * 128, "a.b-c_d"])
def test_valid_ids(good: str) -> None:
    assert validate_id(good) == good
    assert validate_id(good, "phase_id") == good


def test_reserved_names() -> None:
    assert validate_id("base", "run_id") == "base"
    with pytest.raises(WorkspaceError, match="reserved"):
        validate_id("base", "phase_id")
    assert validate_id("x.journal", "phase_id") == "x.journal"
    with pytest.raises(WorkspaceError):
        validate_id("x.journal", "run_id")


def test_journal_round_trip_and_atomic_leftovers(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "w" / "r.journal")
    assert journal.read() is None
    record = AttemptRecord("r", "p", 2, "a" * 40, ignored=("build/", "x.log"))
    journal.write(record)
    assert journal.read() == record
    journal.clear()
    journal.clear()
    assert journal.read() is None
    (tmp_path / "w" / "r.journal.abc.tmp").write_text("{half")
    assert [p.name for p in journal.remove_leftovers()] == ["r.journal.abc.tmp"]


def test_a_corrupt_journal_is_reported_not_guessed(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        ws.begin_attempt("p", 1)
        ws._journal.path.write_text("{not json")
        with pytest.raises(WorkspaceError) as info:
            IntegrationWorkspace.open(repo, data_dir, "r")
        assert info.value.code == "journal_corrupt"
    finally:
        ws.remove(delete_branch=True)


def test_open_reports_half_written_journal_files(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        (ws.path.parent / "r.journal.xyz.tmp").write_text("{")
        opened = IntegrationWorkspace.open(repo, data_dir, "r")
        assert opened.repairs == ["removed 1 half-written journal file(s)"]
        assert opened.open_attempt() is None
    finally:
        ws.remove(delete_branch=True)


def test_open_attempt_is_visible(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        snapshot = ws.begin_attempt("p", 4)
        record = ws.open_attempt()
        assert record is not None
        assert (record.phase_id, record.attempt, record.snapshot) == ("p", 4, snapshot)
        ws.rollback_attempt("p")
        assert ws.open_attempt() is None
    finally:
        ws.remove(delete_branch=True)


def test_commits_made_outside_an_attempt_are_never_dropped(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        ws.begin_attempt("p", 1)
        ws.rollback_attempt("p")
        write(ws.path, "by-hand.txt", "a reviewer's fix\n")
        by_hand = commit_all(ws.path, "fix by hand")
        with pytest.raises(WorkspaceError) as info:
            ws.rollback_attempt("p")  # no attempt open: must not reset past the commit
        assert info.value.code == "not_at_snapshot"
        assert ws.git.head() == by_hand
    finally:
        ws.remove(delete_branch=True)


def test_a_commit_during_the_attempt_blocks_commit_attempt(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        snapshot = ws.begin_attempt("p", 1)
        write(ws.path, "a.txt", "a\n")
        commit_all(ws.path, "sneaky")
        with pytest.raises(WorkspaceError) as info:
            ws.commit_attempt("p", 1, message="m", model=None, tokens=None)
        assert info.value.code == "not_at_snapshot"
        ws.rollback_attempt("p")  # the attempt's own stray commit goes with it
        assert ws.git.head() == snapshot
        assert git(ws.path, "status", "--porcelain") == ""
    finally:
        ws.remove(delete_branch=True)
