"""Failure hardening: deterministic diagnoses of a failed attempt, before any Doctor call.

An ordered table of detectors (most specific first) looks at a :class:`Failure` — the failing
text (check output tail, error messages), structured codes (governance rules, edit-engine and
integrity codes), the check status and exit code — and yields :class:`Diagnosis` values, each
with a stable ``code`` for telemetry and a :class:`Mitigation`:

- ``hint``     text for the Builder's next prompt;
- ``env_fix``  a command to repair the environment, built only from :data:`ALLOWED_COMMANDS`
  with one validated package name (never text from the failure as such); the first element
  ``python`` stands for the workspace's interpreter, which the executor substitutes;
- ``routing``  a change of model (``escalate``) for the router.

Nothing here runs a command or calls a model; :func:`diagnose` never raises on odd input.
An installable name is only a proposal: the executor should install it only when the project
declares it (a model may import a package that does not exist, or exists to be squatted).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from autopack.policy.failure import (
    ALLOWED_COMMANDS,
    Diagnosis,
    Failure,
    Mitigation,
    is_allowed_command,
    npm_install_command,
    pip_install_command,
)

__all__ = [
    "ALLOWED_COMMANDS",
    "DETECTORS",
    "Detector",
    "Diagnosis",
    "Failure",
    "Mitigation",
    "diagnose",
    "is_allowed_command",
    "npm_install_command",
    "pip_install_command",
]


Detector = Callable[[Failure], list[Diagnosis]]


def _trim(line: str, limit: int = 240) -> str:
    line = line.strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _hint(code: str, summary: str, evidence: str, hint: str) -> Diagnosis:
    return Diagnosis(
        code=code, summary=summary, evidence=evidence, mitigation=Mitigation(kind="hint", hint=hint)
    )


def _group(match: re.Match[str]) -> str:
    """The first non-empty group of a match with alternatives."""
    return next((g for g in match.groups() if g), "")


def _first(failure: Failure, pattern: re.Pattern[str]) -> tuple[re.Match[str], str] | None:
    for line in failure.lines():
        match = pattern.search(line)
        if match:
            return match, line
    return None


def _scope_mismatch(f: Failure) -> list[Diagnosis]:
    code = f.has_code("scope.outside", "scope.empty")
    if code is None:
        return []
    return [
        _hint(
            "scope_mismatch",
            "an edit targets a file outside the phase's scope",
            code,
            "Only files under the phase's scope paths may be written. Put the change inside "
            "the scope (or leave it out); if the task truly needs other files, say so: the "
            "phase must be replanned with a wider scope.",
        )
    ]


def _patch_context(f: Failure) -> list[Diagnosis]:
    code = f.has_code("no_match", "ambiguous_match", "ambiguous", "reindent_failed")
    if code is None:
        return []
    extra = (
        " The lines occur more than once: include more surrounding lines so they are unique."
        if code.startswith("ambiguous")
        else " Re-read the file: copy the lines to replace exactly as they are now."
    )
    return [
        _hint(
            "patch_context_mismatch",
            "an edit's search lines do not match the current file",
            code,
            "The lines to find must match the current file exactly (modulo whitespace)."
            + extra
            + " For a small file, sending the whole new file is also accepted.",
        )
    ]


def _edit_format(f: Failure) -> list[Diagnosis]:
    code = f.has_code("malformed_block", "no_edits")
    if code is None:
        return []
    return [
        Diagnosis(
            code="edit_format_violation",
            summary="the answer contains no usable edit",
            evidence=code,
            mitigation=Mitigation(
                kind="routing",
                routing="escalate",
                hint="Answer with complete edit blocks in the requested format, and nothing "
                "that could be mistaken for one.",
            ),
        )
    ]


# Error lines only ("E   SyntaxError: ..."), not source lines such as pytest.raises(SyntaxError).
_SYNTAX = re.compile(r"(?:^|\s)(SyntaxError|IndentationError|TabError): ")
_FILE_LINE = re.compile(r'File "([^"]{1,300})", line (\d{1,7})')


def _syntax_error(f: Failure) -> list[Diagnosis]:
    code = f.has_code("integrity.python_syntax")
    found = _first(f, _SYNTAX)
    if code is None and found is None:
        return []
    where = ""
    if found is not None:
        located = [m for line in f.lines() if (m := _FILE_LINE.search(line))]
        if located:
            where = f" ({located[-1].group(1)}, line {located[-1].group(2)})"
    evidence = _trim(found[1]) if found else str(code)
    return [
        _hint(
            "syntax_error",
            f"Python code does not compile{where}",
            evidence,
            f"A Python file does not compile{where}: {evidence}. Check brackets, quotes, "
            "colons and indentation, and re-read the whole function you changed.",
        )
    ]


# "ModuleNotFoundError: No module named 'x'", and "/venv/bin/python: No module named pytest"
# (python -m with a missing module).
_NO_MODULE = re.compile(
    r"(?:(?:ModuleNotFoundError|ImportError): |^\S*python[\d.]*: )"
    r"No module named (?:'([^']{1,200})'|\"([^\"]{1,200})\"|([^'\"\s]{1,200}))"
)


def _missing_python(f: Failure) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    seen: set[str] = set()
    for line in f.lines():
        match = _NO_MODULE.search(line)
        module = _group(match) if match else ""
        top = module.split(".", 1)[0]
        if not module or top in seen or len(seen) >= 3:
            continue
        seen.add(top)
        command = pip_install_command(module)
        hint = (
            f"Python cannot import {module!r}. If it is part of this project, fix the import "
            "path (package layout, __init__.py, src/ layout); if it is a third-party "
            "package, declare it in the project's dependencies"
        )
        if command is None:
            out.append(
                _hint("missing_python_dependency", f"no module {module!r}", _trim(line), hint + ".")
            )
            continue
        out.append(
            Diagnosis(
                code="missing_python_dependency",
                summary=f"no module {module!r}",
                evidence=_trim(line),
                package=command[-1],
                mitigation=Mitigation(
                    kind="env_fix", command=command, hint=hint + f" ({command[-1]})."
                ),
            )
        )
    return out


# Node ("Error: Cannot find module 'x'"), Jest ("Cannot find module 'x' from 'y'"), TypeScript.
_NO_NODE_MODULE = re.compile(
    r"(?:Error:?\s+|^\s*|TS2307:\s+)Cannot find module ['\"]([^'\"]{1,300})['\"]"
)


def _missing_node(f: Failure) -> list[Diagnosis]:
    found = _first(f, _NO_NODE_MODULE)
    if found is None:
        return []
    match, line = found
    module = match.group(1)
    if module.startswith((".", "/")) or "\\" in module or ":" in module:
        return [
            _hint(
                "missing_node_module_path",
                f"Node cannot resolve the relative module {module!r}",
                _trim(line),
                f"{module!r} is a path: check the file exists and the path is relative to "
                "the importing file.",
            )
        ]
    command = npm_install_command(module)
    hint = f"Node cannot find the package {module!r}: declare it in package.json"
    if command is None:
        return [_hint("missing_node_dependency", f"no package {module!r}", _trim(line), hint + ".")]
    return [
        Diagnosis(
            code="missing_node_dependency",
            summary=f"no package {command[-1]!r}",
            evidence=_trim(line),
            package=command[-1],
            mitigation=Mitigation(kind="env_fix", command=command, hint=hint + "."),
        )
    ]


_PERMISSION = re.compile(
    r"PermissionError: \[Errno 13\]|\bEACCES: permission denied|\bEPERM: operation not permitted|"
    r": Permission denied\b|"
    r"\[Errno 1\] Operation not permitted"
)


def _permission(f: Failure) -> list[Diagnosis]:
    found = _first(f, _PERMISSION)
    if found is None:
        return []
    return [
        _hint(
            "permission_error",
            "the operating system refused access to a file",
            _trim(found[1]),
            "Access was denied. Write only inside the repository (use a temporary directory "
            "for scratch files), and run scripts through their interpreter (python x.py, "
            "sh x.sh) rather than relying on the executable bit.",
        )
    ]


_NOT_FOUND = re.compile(
    r"ERROR: file or directory not found: (\S{1,300})"
    r"|can't open file '([^']{1,300})': \[Errno 2\]"
    r"|\[Errno 2\] No such file or directory: '((?!/)[^']{1,300})'"
)


def _wrong_cwd(f: Failure) -> list[Diagnosis]:
    found = _first(f, _NOT_FOUND)
    if found is None:
        return []
    match, line = found
    path = _group(match)
    where = f" (the checks run in {f.cwd})" if f.cwd else ""
    return [
        _hint(
            "wrong_working_directory",
            f"{path!r} does not exist relative to the working directory",
            _trim(line),
            f"{path!r} was not found{where}. Paths are resolved from the working directory, "
            "not from the file that names them: use paths relative to the repository root, "
            "or build them from __file__ in code.",
        )
    ]


_NO_TESTS = re.compile(r"\bno tests ran\b|\bcollected 0 items\b|\bno tests collected\b")


def _no_tests(f: Failure) -> list[Diagnosis]:
    found = _first(f, _NO_TESTS)
    pytest_empty = f.returncode == 5 and (f.check_kind or "pytest") == "pytest"
    if found is None and not pytest_empty:
        return []
    return [
        _hint(
            "no_tests_collected",
            "the test run found no tests",
            _trim(found[1]) if found else "pytest exit status 5",
            "No tests were collected. Test files must be named test_*.py or *_test.py, test "
            "functions test_*, test classes Test* without __init__; make sure the files are "
            "where the check looks for them.",
        )
    ]


_TIMEOUT = re.compile(r"Failed: Timeout >|\+{5,} Timeout \+{5,}")


def _timeout(f: Failure) -> list[Diagnosis]:
    found = _first(f, _TIMEOUT)
    if (f.check_status or "").lower() != "timeout" and found is None:
        return []
    return [
        _hint(
            "timeout",
            "the checks ran out of time",
            _trim(found[1]) if found else "check status timeout",
            "The checks timed out. Look for infinite loops, waits on input, network access "
            "or sleeps in the code and tests you changed; tests must be fast and offline.",
        )
    ]


DETECTORS: tuple[tuple[str, Detector], ...] = (
    ("scope_mismatch", _scope_mismatch),
    ("patch_context_mismatch", _patch_context),
    ("edit_format_violation", _edit_format),
    ("syntax_error", _syntax_error),
    ("missing_python_dependency", _missing_python),
    ("missing_node_dependency", _missing_node),
    ("permission_error", _permission),
    ("wrong_working_directory", _wrong_cwd),
    ("no_tests_collected", _no_tests),
    ("timeout", _timeout),
)
"""The registry, most specific first; :func:`diagnose` returns diagnoses in this order."""


def diagnose(failure: Failure | str | Mapping[str, Any] | None) -> list[Diagnosis]:
    """Every recognised pattern in ``failure``, most specific first (empty: none known)."""
    subject = Failure.coerce(failure)
    out: list[Diagnosis] = []
    for _name, detector in DETECTORS:
        out.extend(detector(subject))
    return out
