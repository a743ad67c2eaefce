"""Deliverables: present, missing, empty, directories, globs, free text, escapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.checks import DeliverableStatus, check_deliverables
from autopack.checks.deliverables import split_target
from autopack.spec.models import Deliverable, Scope


def _d(*targets: str) -> list[Deliverable]:
    return [Deliverable(target=t) for t in targets]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "wt"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "src" / "empty.py").write_text("")
    (root / "src" / "blank.py").write_text("  \n\n")
    (root / "src" / "hollow").mkdir()
    (root / "src" / "hollow" / "__init__.py").write_text("")
    (root / "Makefile").write_text("all:\n")
    (root / "docs").mkdir()
    (root / "docs" / "guide.md").write_text("# Guide\n")
    return root


def _status(report, path: str) -> DeliverableStatus:
    return next(i.status for i in report.items if i.path == path)


def test_files(tree: Path):
    report = check_deliverables(
        tree, _d("src/pkg/mod.py", "src/missing.py", "src/empty.py", "src/blank.py")
    )
    assert _status(report, "src/pkg/mod.py") is DeliverableStatus.PRESENT
    assert _status(report, "src/missing.py") is DeliverableStatus.MISSING
    assert _status(report, "src/empty.py") is DeliverableStatus.EMPTY
    assert _status(report, "src/blank.py") is DeliverableStatus.EMPTY
    assert not report.ok
    assert [p.path for p in report.problems] == ["src/missing.py", "src/empty.py", "src/blank.py"]
    assert "src/missing.py: missing" in report.for_model()
    assert report.summary().startswith("deliverables: 1/4 present")


def test_directories(tree: Path):
    report = check_deliverables(tree, _d("src/pkg/", "src/hollow/", "src/nope/", "src/pkg/mod.py/"))
    assert _status(report, "src/pkg/") is DeliverableStatus.PRESENT
    assert _status(report, "src/hollow/") is DeliverableStatus.EMPTY
    assert _status(report, "src/nope/") is DeliverableStatus.MISSING
    assert _status(report, "src/pkg/mod.py/") is DeliverableStatus.WRONG_TYPE


def test_globs_and_bare_names(tree: Path):
    report = check_deliverables(tree, _d("src/**/*.py", "tests/*.py", "Makefile", "docs"))
    assert _status(report, "src/**/*.py") is DeliverableStatus.PRESENT
    assert _status(report, "tests/*.py") is DeliverableStatus.MISSING
    assert _status(report, "Makefile") is DeliverableStatus.PRESENT
    assert _status(report, "docs") is DeliverableStatus.PRESENT
    assert report.for_auditor == []


def test_free_text_goes_to_the_auditor(tree: Path):
    scope = Scope(
        deliverables={
            "code": ["src/pkg/mod.py", "a parser that handles nested lists"],
            "docs": "Usage section in the README",
            "tests": ["tests/test_mod.py (unit tests for mod)"],
        }
    )
    report = check_deliverables(tree, scope.deliverables)
    assert report.for_auditor == [
        "[code] a parser that handles nested lists",
        "[docs] Usage section in the README",
    ]
    assert [(i.path, i.kind, i.status) for i in report.items] == [
        ("src/pkg/mod.py", "code", DeliverableStatus.PRESENT),
        ("tests/test_mod.py", "tests", DeliverableStatus.MISSING),
    ]
    assert report.items[1].target == "tests/test_mod.py (unit tests for mod)"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("src/x.py", "src/x.py"),
        ("README.md", "README.md"),
        ("src/x/", "src/x/"),
        ("src/x.py: the new module", "src/x.py"),
        ("src/x.py - the new module", "src/x.py"),
        ("README.md updated with usage", None),
        ("Makefile", None),  # bare name that does not exist: free text
        ("implement caching", None),
        ("https://example.com/spec.md", None),
        ("", None),
    ],
)
def test_split_target(target: str, expected: str | None, tmp_path: Path):
    assert split_target(target, tmp_path) == expected


def test_escapes_are_refused_and_never_read(tree: Path, tmp_path: Path):
    secret = tmp_path / "outside.txt"
    secret.write_text("secret\n")
    (tree / "link.txt").symlink_to(secret)
    (tree / "linkdir").symlink_to(tmp_path)
    report = check_deliverables(
        tree, _d("../outside.txt", "/etc/passwd", "link.txt", "linkdir/", "src/../../x.py")
    )
    assert [i.status for i in report.items] == [DeliverableStatus.OUTSIDE] * 5
    assert "outside" in report.items[2].detail


def test_directory_ignores_files_reached_through_escaping_symlinks(tree: Path, tmp_path: Path):
    outside = tmp_path / "real.py"
    outside.write_text("x = 1\n")
    (tree / "only_links").mkdir()
    (tree / "only_links" / "a.py").symlink_to(outside)
    report = check_deliverables(tree, _d("only_links/"))
    assert report.items[0].status is DeliverableStatus.EMPTY
