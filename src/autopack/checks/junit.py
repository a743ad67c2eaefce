"""Parse JUnit XML (pytest's and the common variants) into counts and failing test ids.

Accepted shapes: a ``<testsuites>`` root, a ``<testsuite>`` root, suites nested in suites,
and several files merged (:func:`parse_junit_files`). Each ``<testcase>`` counts once, by its
first outcome child: ``<failure>`` → failed, ``<error>`` → errored (pytest's setup/teardown
and collection errors), ``<skipped>`` → skipped, none → passed. Reruns
(``<flakyFailure>``, ``<rerunFailure>``…) are ignored. A file without any ``<testcase>`` falls
back to the ``tests/failures/errors/skipped`` attributes of its top-level suites.

Test ids are pytest node ids when they can be derived: pytest writes ``classname`` as the
node id's path with ``/`` → ``.`` and ``.py`` dropped, followed by class names; with a
``root`` the dotted prefix that names an existing ``.py`` file is turned back into a path
(``tests.test_m.TestK`` + ``test_b`` → ``tests/test_m.py::TestK::test_b``; a collection error,
``classname=""`` + ``tests.test_broken``, → ``tests/test_broken.py``). Otherwise the id is
``classname::name`` (or ``name`` alone).

Safety: the XML is parsed by expat with handlers that refuse any DOCTYPE, entity declaration
or external entity (billion laughs, XXE), after a byte-level check for ``<!DOCTYPE`` and
``<!ENTITY``; files over :data:`MAX_JUNIT_BYTES` are refused. Every problem is a
:class:`~autopack.checks.errors.JUnitError`, never a crash.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn
from xml.parsers import expat

from autopack.checks.errors import JUnitError

__all__ = [
    "MAX_JUNIT_BYTES",
    "JUnitResult",
    "Outcome",
    "TestCaseResult",
    "parse_junit_bytes",
    "parse_junit_file",
    "parse_junit_files",
]

MAX_JUNIT_BYTES = 64 * 1024 * 1024
_MAX_DETAIL_CHARS = 4000
_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class Outcome(StrEnum):
    """The outcome of one test case."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class TestCaseResult:
    """One ``<testcase>``: its id, outcome and (for failures) message + trimmed details."""

    __test__ = False  # not a pytest test class, whatever its name says

    id: str
    outcome: Outcome
    message: str = ""
    details: str = ""


@dataclass(frozen=True)
class JUnitResult:
    """Counts and test cases of one or more JUnit files."""

    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    cases: tuple[TestCaseResult, ...] = field(default=(), repr=False)

    @property
    def total(self) -> int:
        """All counted test cases."""
        return self.passed + self.failed + self.errored + self.skipped

    @property
    def failing(self) -> list[str]:
        """Ids of failed and errored cases, in file order, without duplicates."""
        return list(
            dict.fromkeys(c.id for c in self.cases if c.outcome in (Outcome.FAILED, Outcome.ERROR))
        )

    def detail(self, test_id: str) -> str:
        """Message and details of the first failing case with this id ('' when none)."""
        for case in self.cases:
            if case.id == test_id and case.outcome in (Outcome.FAILED, Outcome.ERROR):
                text = "\n".join(p for p in (case.message, case.details) if p)
                return text
        return ""

    def merged(self, other: JUnitResult) -> JUnitResult:
        """This result followed by ``other``."""
        return JUnitResult(
            passed=self.passed + other.passed,
            failed=self.failed + other.failed,
            errored=self.errored + other.errored,
            skipped=self.skipped + other.skipped,
            cases=self.cases + other.cases,
        )


def _forbid(*_args: Any) -> NoReturn:
    raise JUnitError("DOCTYPE and ENTITY declarations are not allowed in JUnit XML")


def _parse_xml(data: bytes, source: str) -> ET.Element:
    if len(data) > MAX_JUNIT_BYTES:
        raise JUnitError(f"{source}: {len(data)} bytes is larger than {MAX_JUNIT_BYTES}")
    if _FORBIDDEN.search(data):
        raise JUnitError(f"{source}: DOCTYPE and ENTITY declarations are not allowed")
    parser = expat.ParserCreate()
    builder = ET.TreeBuilder()
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    # Second line of defence (e.g. a UTF-16 file the byte check cannot read).
    parser.StartDoctypeDeclHandler = _forbid
    parser.EntityDeclHandler = _forbid
    parser.ExternalEntityRefHandler = _forbid
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
        return builder.close()
    except JUnitError as exc:
        raise JUnitError(f"{source}: {exc.message}") from None
    except (expat.ExpatError, ValueError, AssertionError) as exc:
        raise JUnitError(f"{source}: malformed XML: {exc}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _resolve_id(classname: str, name: str, roots: Sequence[Path]) -> str:
    """A pytest node id when a dotted prefix names a ``.py`` file under a root."""
    dotted = classname if classname else name
    parts = [p for p in dotted.split(".") if p]
    for root in roots:
        for k in range(len(parts), 0, -1):
            rel = "/".join(parts[:k]) + ".py"
            if (root / rel).is_file():
                tail = parts[k:] + ([name] if classname else [])
                return "::".join([rel, *tail])
    if classname and name:
        return f"{classname}::{name}"
    return classname or name or "<unnamed>"


def _trim(text: str) -> str:
    text = text.strip()
    if len(text) <= _MAX_DETAIL_CHARS:
        return text
    half = _MAX_DETAIL_CHARS // 2
    return f"{text[:half]}\n[... trimmed ...]\n{text[-half:]}"


_OUTCOMES = {"failure": Outcome.FAILED, "error": Outcome.ERROR, "skipped": Outcome.SKIPPED}


def _case(element: ET.Element, roots: Sequence[Path]) -> TestCaseResult:
    classname = (element.get("classname") or element.get("class") or "").strip()
    name = (element.get("name") or "").strip()
    test_id = _resolve_id(classname, name, roots)
    for child in element:
        outcome = _OUTCOMES.get(_local(child.tag))
        if outcome is None:
            continue
        message = (child.get("message") or "").strip()
        details = _trim(child.text or "") if outcome is not Outcome.SKIPPED else ""
        return TestCaseResult(test_id, outcome, message[:_MAX_DETAIL_CHARS], details)
    return TestCaseResult(test_id, Outcome.PASSED)


def _int_attr(element: ET.Element, *names: str) -> int:
    for attr in names:
        raw = element.get(attr)
        if raw is not None:
            try:
                return max(0, int(float(raw)))
            except ValueError:
                return 0
    return 0


def _from_attributes(suites: Iterable[ET.Element]) -> JUnitResult:
    passed = failed = errored = skipped = 0
    for suite in suites:
        tests = _int_attr(suite, "tests")
        f = _int_attr(suite, "failures")
        e = _int_attr(suite, "errors")
        s = _int_attr(suite, "skipped", "skips", "disabled")
        failed, errored, skipped = failed + f, errored + e, skipped + s
        passed += max(0, tests - f - e - s)
    return JUnitResult(passed=passed, failed=failed, errored=errored, skipped=skipped)


def _to_result(root: ET.Element, roots: Sequence[Path], source: str) -> JUnitResult:
    kind = _local(root.tag)
    if kind not in ("testsuites", "testsuite"):
        raise JUnitError(f"{source}: root element <{kind}> is not <testsuites> or <testsuite>")
    cases = [_case(el, roots) for el in root.iter() if _local(el.tag) == "testcase"]
    if not cases:
        suites = (
            [root] if kind == "testsuite" else [c for c in root if _local(c.tag) == "testsuite"]
        )
        if kind == "testsuites" and not suites:
            suites = [root]
        return _from_attributes(suites)
    counts = dict.fromkeys(Outcome, 0)
    for case in cases:
        counts[case.outcome] += 1
    return JUnitResult(
        passed=counts[Outcome.PASSED],
        failed=counts[Outcome.FAILED],
        errored=counts[Outcome.ERROR],
        skipped=counts[Outcome.SKIPPED],
        cases=tuple(cases),
    )


def parse_junit_bytes(
    data: bytes | str, *, roots: Sequence[Path] = (), source: str = "junit"
) -> JUnitResult:
    """Parse one JUnit document. ``roots`` are tried, in order, to derive pytest node ids."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return _to_result(_parse_xml(raw, source), [Path(r) for r in roots], source)


def parse_junit_file(path: Path, *, roots: Sequence[Path] = ()) -> JUnitResult:
    """Parse one JUnit file."""
    try:
        size = path.stat().st_size
        if size > MAX_JUNIT_BYTES:
            raise JUnitError(f"{path}: {size} bytes is larger than {MAX_JUNIT_BYTES}")
        data = path.read_bytes()
    except OSError as exc:
        raise JUnitError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse_junit_bytes(data, roots=roots, source=str(path))


def parse_junit_files(paths: Iterable[Path], *, roots: Sequence[Path] = ()) -> JUnitResult:
    """Parse several JUnit files (e.g. one per test job) into one result."""
    result = JUnitResult()
    for path in paths:
        result = result.merged(parse_junit_file(path, roots=roots))
    return result
