"""JUnit XML parsing: pytest's output and common variants, malformed and hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.checks import JUnitError, Outcome, parse_junit_bytes, parse_junit_file
from autopack.checks.junit import parse_junit_files

PYTEST_XML = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="2" failures="2" skipped="2"
 tests="8">
<testcase classname="" name="tests.test_broken" time="0.000">
  <error message="collection failure">ImportError while importing test module</error>
</testcase>
<testcase classname="tests.sub.test_m" name="test_a"><failure message="assert 0">def test_a():
&gt;       assert 0</failure></testcase>
<testcase classname="tests.sub.test_m.TestK" name="test_b" />
<testcase classname="tests.sub.test_m.TestK" name="test_p[1]" />
<testcase classname="tests.sub.test_m.TestK" name="test_p[a b]"><failure message="m" /></testcase>
<testcase classname="tests.sub.test_m" name="test_err"><error message="setup">x</error></testcase>
<testcase classname="tests.sub.test_m" name="test_s"><skipped type="pytest.skip" /></testcase>
<testcase classname="tests.sub.test_m" name="test_xf"><skipped type="pytest.xfail" /></testcase>
</testsuite></testsuites>
"""


def _tree(root: Path) -> Path:
    (root / "tests" / "sub").mkdir(parents=True)
    (root / "tests" / "test_broken.py").write_text("import nonexistent\n")
    (root / "tests" / "sub" / "test_m.py").write_text("def test_a(): pass\n")
    return root


def test_pytest_output_with_node_ids(tmp_path: Path):
    result = parse_junit_bytes(PYTEST_XML, roots=[_tree(tmp_path)])
    assert (result.passed, result.failed, result.errored, result.skipped) == (2, 2, 2, 2)
    assert result.total == 8
    assert result.failing == [
        "tests/test_broken.py",
        "tests/sub/test_m.py::test_a",
        "tests/sub/test_m.py::TestK::test_p[a b]",
        "tests/sub/test_m.py::test_err",
    ]
    assert "assert 0" in result.detail("tests/sub/test_m.py::test_a")
    assert result.detail("tests/sub/test_m.py::TestK::test_b") == ""


def test_without_roots_ids_are_classname_and_name():
    result = parse_junit_bytes(PYTEST_XML)
    assert result.failing[:2] == ["tests.test_broken", "tests.sub.test_m::test_a"]


def test_testsuite_root_and_nested_suites():
    single = parse_junit_bytes(
        '<testsuite name="s" tests="2"><testcase classname="A" name="ok"/>'
        '<testcase classname="A" name="bad"><failure/></testcase></testsuite>'
    )
    assert (single.passed, single.failed) == (1, 1)
    assert single.failing == ["A::bad"]
    nested = parse_junit_bytes(
        "<testsuites><testsuite name='outer'><testsuite name='inner'>"
        "<testcase classname='pkg.Inner' name='t1'><error message='boom'/></testcase>"
        "</testsuite><testcase classname='pkg.Outer' name='t2'/></testsuite></testsuites>"
    )
    assert (nested.passed, nested.errored) == (1, 1)
    assert nested.failing == ["pkg.Inner::t1"]
    assert nested.detail("pkg.Inner::t1") == "boom"


def test_namespaces_reruns_and_duplicate_ids():
    xml = (
        '<ns:testsuites xmlns:ns="urn:x"><ns:testsuite>'
        '<ns:testcase classname="C" name="flaky"><ns:flakyFailure/></ns:testcase>'
        '<ns:testcase classname="C" name="t"><ns:failure/></ns:testcase>'
        '<ns:testcase classname="C" name="t"><ns:error/></ns:testcase>'
        "</ns:testsuite></ns:testsuites>"
    )
    result = parse_junit_bytes(xml)
    assert (result.passed, result.failed, result.errored) == (1, 1, 1)
    assert result.failing == ["C::t"]
    assert result.cases[0].outcome is Outcome.PASSED


def test_summary_only_falls_back_to_attributes():
    result = parse_junit_bytes(
        '<testsuites><testsuite tests="10" failures="2" errors="1" skipped="3"/>'
        '<testsuite tests="1" failures="x"/></testsuites>'
    )
    assert (result.passed, result.failed, result.errored, result.skipped) == (5, 2, 1, 3)
    assert result.failing == []


def test_multiple_files_are_merged(tmp_path: Path):
    a = tmp_path / "a.xml"
    b = tmp_path / "b.xml"
    a.write_text("<testsuite><testcase classname='A' name='x'/></testsuite>")
    b.write_text("<testsuite><testcase classname='B' name='y'><failure/></testcase></testsuite>")
    result = parse_junit_files([a, b])
    assert (result.passed, result.failed) == (1, 1)
    assert result.failing == ["B::y"]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("", "malformed"),
        ("<testsuite><testcase>", "malformed"),
        ("not xml at all", "malformed"),
        (b"\xff\xfe\x00garbage", "malformed"),
        ("<html><body/></html>", "not <testsuites>"),
    ],
)
def test_malformed_is_a_clear_error(data: str | bytes, fragment: str):
    with pytest.raises(JUnitError) as info:
        parse_junit_bytes(data, source="report.xml")
    assert fragment in str(info.value)
    assert "report.xml" in str(info.value)
    assert info.value.code == "junit_invalid"


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<testsuite><testcase classname="a" name="&lol3;"/></testsuite>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuite><testcase classname="a" name="&xxe;"/></testsuite>
"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE, "<!doctype x><testsuite/>"])
def test_doctype_and_entities_are_refused(data: str):
    with pytest.raises(JUnitError, match="DOCTYPE and ENTITY"):
        parse_junit_bytes(data)


def test_doctype_refused_even_when_utf16():
    data = XXE.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>')
    with pytest.raises(JUnitError, match="DOCTYPE and ENTITY"):
        parse_junit_bytes(data.encode("utf-16"))


def test_unreadable_and_oversized_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(JUnitError, match="cannot read"):
        parse_junit_file(tmp_path / "missing.xml")
    big = tmp_path / "big.xml"
    big.write_text("<testsuite/>" + " " * 100)
    monkeypatch.setattr("autopack.checks.junit.MAX_JUNIT_BYTES", 50)
    with pytest.raises(JUnitError, match="larger than"):
        parse_junit_file(big)
