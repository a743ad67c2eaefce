"""Failure hardening: one realistic sample per detector, and no false positives."""

from __future__ import annotations

import pytest

from autopack.policy.hardening import DETECTORS, Failure, diagnose

PYTEST_MISSING_MODULE = """\
==================================== ERRORS ====================================
______________________ ERROR collecting tests/test_app.py ______________________
ImportError while importing test module '/repo/tests/test_app.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
/usr/lib/python3.11/importlib/__init__.py:126: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
tests/test_app.py:3: in <module>
    import yaml
E   ModuleNotFoundError: No module named 'yaml'
=========================== short test summary info ============================
ERROR tests/test_app.py
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
=============================== 1 error in 0.08s ===============================
"""

PYTHON_M_MISSING = "/work/repo/.venv/bin/python: No module named pytest\n"

NODE_MISSING = """\
node:internal/modules/cjs/loader:1080
  throw err;
  ^

Error: Cannot find module 'left-pad'
Require stack:
- /repo/src/index.js
    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)
    at Module._load (node:internal/modules/cjs/loader:922:27) {
  code: 'MODULE_NOT_FOUND',
  requireStack: [ '/repo/src/index.js' ]
}

Node.js v18.19.0
"""

JEST_SCOPED_MISSING = """\
 FAIL  src/date.test.ts
  ● Test suite failed to run

    Cannot find module '@date-fns/tz/locale' from 'src/date.ts'
"""

NODE_RELATIVE_MISSING = "Error: Cannot find module './config.json'\nRequire stack:\n- /repo/a.js\n"

PYTEST_WRONG_CWD = """\
ERROR: file or directory not found: tests/test_cli.py

============================ no tests ran in 0.01s =============================
"""

PYTHON_FILE_NOT_FOUND = """\
Traceback (most recent call last):
  File "/repo/scripts/load.py", line 4, in <module>
    with open("data/rows.csv") as fh:
FileNotFoundError: [Errno 2] No such file or directory: 'data/rows.csv'
"""

PYTEST_NO_TESTS = """\
============================= test session starts ==============================
platform linux -- Python 3.11.9, pytest-8.3.2, pluggy-1.5.0
rootdir: /repo
collected 0 items

============================ no tests ran in 0.01s =============================
"""

PERMISSION = """\
    def write_cache(self):
>       with open("/usr/lib/app/cache.db", "w") as fh:
E       PermissionError: [Errno 13] Permission denied: '/usr/lib/app/cache.db'

app/cache.py:12: PermissionError
"""

NODE_EACCES = "Error: EACCES: permission denied, open '/etc/app.conf'\n"
SHELL_DENIED = "bash: ./scripts/build.sh: Permission denied\n"

SYNTAX = """\
Traceback (most recent call last):
  File "/repo/src/app/main.py", line 12
    def handler(event:
                ^
SyntaxError: '(' was never closed
"""

INDENTATION = """\
E     File "/repo/src/app/util.py", line 7
E       return x
E   IndentationError: unexpected indent
"""

PYTEST_TIMEOUT = """\
+++++++++++++++++++++++++++++++++++ Timeout ++++++++++++++++++++++++++++++++++++
E       Failed: Timeout >30.0s
"""

PLAIN_ASSERTION = """\
============================= test session starts ==============================
collected 4 items

tests/test_math.py ...F                                                  [100%]

=================================== FAILURES ===================================
___________________________________ test_add ___________________________________

    def test_add():
        with pytest.raises(SyntaxError):
            parse("x")
        assert "No module named 'foo'" not in message
        # Cannot find module 'bar' is what node would say
>       assert add(1, 1) == 3
E       AssertionError: assert 2 == 3
E        +  where 2 = add(1, 1)

tests/test_math.py:9: AssertionError
=========================== short test summary info ============================
FAILED tests/test_math.py::test_add - AssertionError: assert 2 == 3
========================= 1 failed, 3 passed in 0.12s ==========================
"""


def _codes(failure: Failure | str) -> list[str]:
    return [d.code for d in diagnose(failure)]


def test_missing_python_dependency() -> None:
    (diag,) = diagnose(Failure(text=PYTEST_MISSING_MODULE, check_status="error", returncode=2))
    assert diag.code == "missing_python_dependency"
    assert diag.mitigation.kind == "env_fix"
    assert diag.mitigation.command == ["python", "-m", "pip", "install", "PyYAML"]
    assert diag.package == "PyYAML"
    assert "No module named 'yaml'" in diag.evidence
    assert "declare it" in diag.mitigation.hint


def test_python_dash_m_missing_module() -> None:
    (diag,) = diagnose(PYTHON_M_MISSING)
    assert diag.mitigation.command == ["python", "-m", "pip", "install", "pytest"]


def test_stdlib_or_private_module_gets_a_hint_not_a_command() -> None:
    for text in (
        "ModuleNotFoundError: No module named 'tomllib'",
        "ModuleNotFoundError: No module named '_private'",
    ):
        (diag,) = diagnose(text)
        assert diag.code == "missing_python_dependency"
        assert (diag.mitigation.kind, diag.mitigation.command) == ("hint", None)


def test_missing_node_dependency() -> None:
    (diag,) = diagnose(NODE_MISSING)
    assert diag.code == "missing_node_dependency"
    assert diag.mitigation.command == ["npm", "install", "left-pad"]
    (scoped,) = diagnose(JEST_SCOPED_MISSING)
    assert scoped.mitigation.command == ["npm", "install", "@date-fns/tz"]
    ts = diagnose("src/a.ts(1,20): error TS2307: Cannot find module 'zod' or its types.")
    assert ts[0].mitigation.command == ["npm", "install", "zod"]


def test_relative_node_module_is_a_path_problem() -> None:
    (diag,) = diagnose(NODE_RELATIVE_MISSING)
    assert diag.code == "missing_node_module_path"
    assert diag.mitigation.command is None


def test_wrong_working_directory_comes_before_no_tests() -> None:
    diags = diagnose(Failure(text=PYTEST_WRONG_CWD, returncode=4, cwd="/repo/sub"))
    assert [d.code for d in diags] == ["wrong_working_directory", "no_tests_collected"]
    assert "tests/test_cli.py" in diags[0].summary
    assert "/repo/sub" in diags[0].mitigation.hint


def test_relative_file_not_found_is_a_working_directory_problem() -> None:
    assert _codes(PYTHON_FILE_NOT_FOUND) == ["wrong_working_directory"]
    absolute = "FileNotFoundError: [Errno 2] No such file or directory: '/etc/none'"
    assert _codes(absolute) == []


def test_no_tests_collected() -> None:
    assert _codes(PYTEST_NO_TESTS) == ["no_tests_collected"]
    assert _codes(Failure(returncode=5, check_kind="pytest")) == ["no_tests_collected"]
    assert _codes(Failure(returncode=5, check_kind="custom")) == []


def test_scope_mismatch_from_codes_and_text() -> None:
    (diag,) = diagnose(Failure(codes=("scope.outside",)))
    assert diag.code == "scope_mismatch" and diag.mitigation.kind == "hint"
    text = "- docs/x.md: refused by rule scope.outside: not under any scope path"
    assert _codes(text) == ["scope_mismatch"]


def test_patch_context_mismatch() -> None:
    (diag,) = diagnose("block 2, src/app.py: the lines to find are not in the file [no_match]")
    assert diag.code == "patch_context_mismatch"
    assert "exactly" in diag.mitigation.hint
    (amb,) = diagnose(Failure(codes=("ambiguous_match",)))
    assert "more surrounding lines" in amb.mitigation.hint
    assert _codes(Failure(codes=("ambiguous",))) == ["patch_context_mismatch"]


def test_edit_format_violation_escalates() -> None:
    (diag,) = diagnose(Failure(codes=("no_edits",)))
    assert diag.code == "edit_format_violation"
    assert (diag.mitigation.kind, diag.mitigation.routing) == ("routing", "escalate")


def test_syntax_error() -> None:
    (diag,) = diagnose(SYNTAX)
    assert diag.code == "syntax_error"
    assert "/repo/src/app/main.py, line 12" in diag.summary
    assert "was never closed" in diag.mitigation.hint
    assert _codes(INDENTATION) == ["syntax_error"]
    integrity = Failure(codes=("integrity.python_syntax",), text="src/a.py: not compilable")
    assert _codes(integrity) == ["syntax_error"]


def test_permission_error() -> None:
    for text in (PERMISSION, NODE_EACCES, SHELL_DENIED):
        assert _codes(text) == ["permission_error"], text


def test_timeout() -> None:
    assert _codes(Failure(check_status="timeout")) == ["timeout"]
    assert _codes(PYTEST_TIMEOUT) == ["timeout"]


@pytest.mark.parametrize(
    "text",
    [
        PLAIN_ASSERTION,
        "",
        "All checks passed",
        "ImportError: cannot import name 'thing' from 'pkg' (/repo/pkg/__init__.py)",
        "def test_permission_error():\n    raise SyntaxError",
        "FAILED tests/test_timeouts.py::test_timeout_is_reported - assert False",
        "FAILED tests/test_edits.py::test_apply[no_match] - assert 1 == 2",
        "PASSED tests/test_gov.py::test_rules[scope.outside]",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert diagnose(Failure(text=text, check_status="failed", returncode=1)) == []


def test_several_patterns_most_specific_first() -> None:
    failure = Failure(
        text=PYTEST_MISSING_MODULE + PYTEST_NO_TESTS,
        codes=("scope.outside",),
        check_status="timeout",
    )
    codes = _codes(failure)
    assert codes == [
        "scope_mismatch",
        "missing_python_dependency",
        "no_tests_collected",
        "timeout",
    ]
    order = [name for name, _ in DETECTORS]
    assert codes == sorted(codes, key=order.index)


def test_several_missing_modules_each_get_a_command() -> None:
    text = "\n".join(
        f"E   ModuleNotFoundError: No module named '{m}'"
        for m in ("requests", "PIL.Image", "requests")
    )
    diags = diagnose(text)
    assert [d.package for d in diags] == ["requests", "Pillow"]


def test_telemetry_record() -> None:
    (diag,) = diagnose(NODE_MISSING)
    assert diag.telemetry() == {
        "code": "missing_node_dependency",
        "mitigation": "env_fix",
        "command": ["npm", "install", "left-pad"],
        "routing": None,
        "package": "left-pad",
    }


def test_odd_inputs_do_not_raise() -> None:
    assert diagnose(None) == []
    assert diagnose({"text": 3, "codes": "scope.outside", "returncode": "5"}) == []
    assert _codes({"codes": ["scope.outside", 7], "check_status": "timeout"}) == [
        "scope_mismatch",
        "timeout",
    ]
    assert diagnose(42) == []  # type: ignore[arg-type]
    huge = "x" * 1_000_000 + "\nModuleNotFoundError: No module named 'numpy'\n"
    assert _codes(huge) == ["missing_python_dependency"]


def test_from_a_real_check_report() -> None:
    from autopack.checks.report import CheckReport, CheckStatus

    timed_out = CheckReport(status=CheckStatus.TIMEOUT, command=["pytest"], cwd="/repo")
    assert _codes(Failure.from_check(timed_out)) == ["timeout"]
    failed = CheckReport(
        status=CheckStatus.FAILED,
        returncode=1,
        failing=["tests/test_a.py::test_x"],
        new_failures=["tests/test_a.py::test_x"],
        failure_details={"tests/test_a.py::test_x": PERMISSION},
        output_tail="1 failed in 0.1s",
    )
    failure = Failure.from_check(failed, codes=("no_match",))
    assert _codes(failure) == ["patch_context_mismatch", "permission_error"]
    empty = CheckReport(status=CheckStatus.ERROR, returncode=5, output_tail=PYTEST_NO_TESTS)
    assert _codes(Failure.from_check(empty)) == ["no_tests_collected"]


def test_malformed_failure_fields_are_normalised() -> None:
    odd = Failure(text=None, codes=None, returncode="5", check_status=3)  # type: ignore[arg-type]
    assert (odd.text, odd.codes, odd.returncode, odd.check_status) == ("", (), None, None)
    assert diagnose(odd) == []


def test_submodules_of_one_package_give_one_diagnosis() -> None:
    text = "E   ModuleNotFoundError: No module named 'PIL'\n" * 2 + (
        "E   ModuleNotFoundError: No module named 'PIL.Image'"
    )
    assert [d.package for d in diagnose(text)] == ["Pillow"]


def test_messages_as_rendered_by_the_edit_engine_integrity_and_governance() -> None:
    from autopack.edits.errors import EditError, ErrorCode
    from autopack.workspace.integrity import IntegrityIssue

    no_match = EditError(ErrorCode.NO_MATCH, "the lines to find are not in the file", path="a.py")
    assert _codes(str(no_match)) == ["patch_context_mismatch"]
    ambiguous = EditError(ErrorCode.AMBIGUOUS_MATCH, "found at 2 places", path="a.py", block=1)
    (diag,) = diagnose(str(ambiguous))
    assert "more surrounding lines" in diag.mitigation.hint
    issue = IntegrityIssue("src/a.py", "integrity.python_syntax", "invalid syntax", 3)
    assert _codes(issue.for_model()) == ["syntax_error"]
