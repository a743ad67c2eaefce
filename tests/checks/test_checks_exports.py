"""The curated public surface of autopack.checks and its exception tree."""

from __future__ import annotations

import autopack.checks as checks


def test_all_names_exist():
    for name in checks.__all__:
        assert hasattr(checks, name), name
    assert {"CiRunner", "CheckReport", "Baseline", "compute_baseline", "check_deliverables"} <= set(
        checks.__all__
    )


def test_exception_tree_has_codes():
    subclasses = [
        checks.ChecksConfigError,
        checks.UnsafePathError,
        checks.JUnitError,
        checks.ProcessStartError,
    ]
    codes = set()
    for cls in subclasses:
        assert issubclass(cls, checks.ChecksError)
        codes.add(cls.code)
    assert len(codes) == len(subclasses)
    err = checks.UnsafePathError("nope")
    assert str(err) == "nope [unsafe_path]"
    assert checks.ChecksError("x", code="custom").code == "custom"


def test_status_ok():
    assert checks.CheckStatus.PASSED.is_ok()
    assert checks.CheckStatus.SKIPPED.is_ok()
    assert not checks.CheckStatus.FAILED.is_ok()
    assert not checks.CheckStatus.TIMEOUT.is_ok()
