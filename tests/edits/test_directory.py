"""apply_to_directory: atomic writes, never outside root, check mode."""

from __future__ import annotations

import os

import pytest

from autopack.edits import EditStatus, ErrorCode, apply_to_directory


def _sr(path: str, search: str, replace: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def test_applies_and_marks_applied(tmp_path):
    (tmp_path / "a.py").write_bytes(b"x = 1\r\ny = 2\r\n")
    r = apply_to_directory(tmp_path, _sr("a.py", "y = 2", "y = 3") + _sr("n/b.py", "", "z"))
    assert r.ok and r.applied
    assert all(e.status is EditStatus.APPLIED for e in r.edits)
    assert (tmp_path / "a.py").read_bytes() == b"x = 1\r\ny = 3\r\n"
    assert (tmp_path / "n" / "b.py").read_text() == "z\n"
    assert not [p for p in tmp_path.rglob(".autopack-*")]


def test_check_writes_nothing(tmp_path):
    (tmp_path / "a.py").write_text("y = 2\n")
    r = apply_to_directory(tmp_path, _sr("a.py", "y = 2", "y = 3"), check=True)
    assert r.ok and not r.applied
    assert r.edits[0].status is EditStatus.WOULD_APPLY
    assert (tmp_path / "a.py").read_text() == "y = 2\n"


def test_one_failure_changes_nothing(tmp_path):
    (tmp_path / "a.py").write_text("y = 2\n")
    answer = _sr("a.py", "y = 2", "y = 3") + "DELETE b.py\n" + _sr("c.py", "", "new")
    r = apply_to_directory(tmp_path, answer)
    assert not r.ok and r.errors[0].code is ErrorCode.FILE_NOT_FOUND
    assert (tmp_path / "a.py").read_text() == "y = 2\n"
    assert not (tmp_path / "c.py").exists()


def test_symlink_escaping_root_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("s = 1\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    r = apply_to_directory(root, _sr("link/secret.py", "s = 1", "s = 2"))
    assert not r.ok and r.errors[0].code is ErrorCode.UNSAFE_PATH
    assert (outside / "secret.py").read_text() == "s = 1\n"


def test_rollback_when_a_rename_fails(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("a\n")
    (tmp_path / "b.py").write_text("b\n")
    real_replace = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    r = apply_to_directory(tmp_path, _sr("a.py", "a", "A") + _sr("b.py", "b", "B"))
    assert not r.ok and r.errors[0].code is ErrorCode.IO_ERROR
    assert (tmp_path / "a.py").read_text() == "a\n"
    assert (tmp_path / "b.py").read_text() == "b\n"
    assert not [p for p in tmp_path.rglob(".autopack-*")]


@pytest.mark.parametrize("name", ["../x.py", "/abs.py", ".git/config"])
def test_unsafe_paths(tmp_path, name):
    r = apply_to_directory(tmp_path, _sr(name, "", "x"))
    assert not r.ok and r.errors[0].code is ErrorCode.UNSAFE_PATH


def test_never_writes_through_a_symlink_inside_the_root(tmp_path):
    from autopack.edits import apply_to_directory

    root = tmp_path / "root"
    root.mkdir()
    (root / ".env").write_text("TOKEN=keep\n")
    (root / "notes.txt").symlink_to(".env")
    result = apply_to_directory(root, "notes.txt\n```\nTOKEN=stolen\n```\n")
    assert not result.ok
    assert (root / ".env").read_text() == "TOKEN=keep\n"
