"""A tiny Python project with one broken test, for tests that run real pytest subprocesses.

Layout::

    pyproject.toml        pytest config: pythonpath ".", markers e2e and slow
    calc.py               add, sub, mul
    tests/test_calc.py    test_add, test_sub, test_mul pass; test_broken fails (known bug)
    tests/test_e2e.py     test_end_to_end, marked e2e (passes)
"""

from __future__ import annotations

from pathlib import Path

from support import gitrepo

PYPROJECT = """\
[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
markers = [
    "e2e: end-to-end tests (strict profile only)",
    "slow: slow tests",
]
"""

CALC = """\
def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b
"""

TEST_CALC = """\
from calc import add, mul, sub


def test_add():
    assert add(2, 3) == 5


def test_sub():
    assert sub(5, 3) == 2


def test_mul():
    assert mul(2, 3) == 6


def test_broken():
    assert add(2, 2) == 5, "known bug, fails on the base commit"
"""

TEST_E2E = """\
import pytest

from calc import add


@pytest.mark.e2e
def test_end_to_end():
    assert add(1, 1) == 2
"""

BROKEN_SUB = CALC.replace("return a - b", "return a + b")
"""calc.py with ``sub`` broken: makes ``test_sub`` fail."""

FAILING_TEST_CALC = "tests/test_calc.py::test_broken"
SUB_TEST = "tests/test_calc.py::test_sub"
E2E_TEST = "tests/test_e2e.py::test_end_to_end"


def write_sample_project(root: Path, *, broken: bool = True, e2e: bool = True) -> Path:
    """Write the project into ``root`` (created if needed); return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "calc.py").write_text(CALC)
    tests = TEST_CALC if broken else TEST_CALC.split("\n\ndef test_broken")[0] + "\n"
    (root / "tests" / "test_calc.py").write_text(tests)
    if e2e:
        (root / "tests" / "test_e2e.py").write_text(TEST_E2E)
    return root


def git(root: Path, *args: str) -> str:
    """Run git in ``root``; return stdout (stripped). Raises on failure."""
    return gitrepo.git(root, *args).strip()


def init_git(root: Path, message: str = "base") -> str:
    """Make ``root`` a git repository (identity set locally) and commit it; return the id."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Autopack Tests")
    git(root, "config", "user.email", "tests@autopack.invalid")
    git(root, "config", "commit.gpgsign", "false")
    return gitrepo.commit_all(root, message)


def sample_repo(root: Path, **kwargs: bool) -> tuple[Path, str]:
    """The sample project as a git repository with one commit; returns (root, commit)."""
    write_sample_project(root, **kwargs)
    return root, init_git(root)
