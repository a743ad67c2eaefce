"""Learned rules, pure logic: signatures, proposal, matching, scoring."""

from __future__ import annotations

import pytest

from autopack.memory.rule_learning import (
    MAX_RULES_INJECTED,
    applicable_rules,
    blur,
    failure_signature,
    first_meaningful_line,
    fix_signature,
    propose,
    render_rules_note,
    rule_id,
    scope_matches,
    scope_pattern,
    score,
)
from autopack.memory.rules import LearnedRule, Observation, RuleSet, RuleStatus

PYTEST_OUTPUT = """\
Checks: FAILED [pytest, normal]: 3 passed, 0 failed, 1 errors, 0 skipped; exit 2 in 0.4s
Command: python -m pytest -q
--- output (trimmed) ---
==================================== ERRORS ====================================
___________________ ERROR collecting tests/test_alpha.py ______________________
ImportError while importing test module '/tmp/w1/tests/test_alpha.py'.
tests/test_alpha.py:1: in <module>
    import nothere_mod
E   ModuleNotFoundError: No module named 'nothere_mod'
"""

HINT = "Python cannot import 'nothere_mod'. Declare it (nothere_mod)."


def _obs(phase: str, *, run: str = "r1", failure: str = "ci_fail: X", fix: str = "fx-1", **kw):
    data = {
        "run_id": run,
        "phase_id": phase,
        "category": "feature_scaffolding",
        "scope": (f"pkg/{phase}.py",),
        "failure": failure,
        "fix": fix,
        "fix_text": "Do the thing.",
    }
    return Observation(**{**data, **kw})


def _rule(**kw) -> LearnedRule:
    return LearnedRule(**{"id": "r-1", "constraint": "do it", "failure": "ci_fail: X", **kw})


# --- signatures ---------------------------------------------------------------------------


def test_first_meaningful_line_prefers_the_exception_line() -> None:
    line = first_meaningful_line(PYTEST_OUTPUT)
    assert line == "ModuleNotFoundError: No module named 'nothere_mod'"


def test_first_meaningful_line_falls_back_to_pytest_e_then_plain_lines() -> None:
    assert first_meaningful_line("Checks: x\nE       assert 3 == 5\n") == "assert 3 == 5"
    assert first_meaningful_line("```\n---\nthe edit did not apply\n") == "the edit did not apply"
    assert first_meaningful_line("") == ""


def test_blur_hides_paths_numbers_and_ids_not_words() -> None:
    got = blur("at /tmp/a/b.py:12 and src\\x.py, commit 3f2a9c1d 0xff; defaced  calc.py")
    assert got == "at <path>:# and <path>, commit # #; defaced <path>"


def test_failure_signature_is_equal_across_phases_that_differ_only_in_paths_and_numbers() -> None:
    other = PYTEST_OUTPUT.replace("test_alpha", "test_beta").replace("/tmp/w1", "/var/w22")
    assert failure_signature("ci_fail", PYTEST_OUTPUT) == failure_signature("ci_fail", other)
    assert failure_signature("ci_fail", PYTEST_OUTPUT) == (
        "ci_fail: ModuleNotFoundError: No module named 'nothere_mod'"
    )
    assert failure_signature("ci_fail", PYTEST_OUTPUT) != failure_signature(
        "auditor_reject", PYTEST_OUTPUT
    )
    assert failure_signature("ci_fail", PYTEST_OUTPUT.replace("nothere_mod", "other")) != (
        failure_signature("ci_fail", PYTEST_OUTPUT)
    )


def test_fix_signature_normalises_and_needs_a_hint() -> None:
    assert fix_signature(()) is None
    assert fix_signature(("  ", "")) is None
    one = fix_signature((HINT, "Keep sub unchanged."))
    assert one is not None and one.startswith("fx-")
    assert fix_signature(("keep  SUB unchanged.", HINT, HINT)) == one  # order, case, spaces
    assert fix_signature((HINT.replace("nothere_mod", "x"),)) != fix_signature((HINT,))
    assert fix_signature(("See line 12 of a/b.py",)) == fix_signature(("See line 40 of c/d.py",))


# --- proposal -----------------------------------------------------------------------------


def test_no_proposal_from_one_phase() -> None:
    assert propose([_obs("alpha")], RuleSet()) == []


def test_the_same_phase_twice_does_not_count() -> None:
    twice = [_obs("alpha", run="r1"), _obs("alpha", run="r2")]
    assert propose(twice, RuleSet()) == []


def test_proposal_after_two_distinct_phases() -> None:
    observations = [
        _obs("alpha", fix_text="old text"),
        _obs("other", failure="ci_fail: Y"),
        _obs("beta", run="r2", fix_text="Declare nothere_mod."),
    ]
    (rule,) = propose(observations, RuleSet())
    assert rule.id == rule_id("ci_fail: X", "fx-1")
    assert rule.status is RuleStatus.CANDIDATE and not rule.pinned
    assert rule.scope == "pkg/**/*.py"
    assert rule.category == "feature_scaffolding"
    assert rule.phases == ["alpha", "beta"]
    assert rule.constraint == "To avoid `ci_fail: X`: Declare nothere_mod."  # latest text
    assert (rule.helped, rule.missed) == (0, 0)


def test_different_fixes_do_not_make_a_rule() -> None:
    assert propose([_obs("alpha"), _obs("beta", fix="fx-2")], RuleSet()) == []


def test_mixed_categories_and_missing_scope_generalise() -> None:
    observations = [_obs("alpha", category="docs"), _obs("beta", scope=())]
    (rule,) = propose(observations, RuleSet())
    assert (rule.category, rule.scope) == ("*", "**")


@pytest.mark.parametrize("status", list(RuleStatus))
def test_an_existing_rule_is_not_proposed_again(status: RuleStatus) -> None:
    existing = _rule(id=rule_id("ci_fail: X", "fx-1"), fix="fx-1", status=status)
    assert propose([_obs("alpha"), _obs("beta")], RuleSet(rules=(existing,))) == []


# --- scope globs and matching -------------------------------------------------------------


@pytest.mark.parametrize(
    ("paths", "pattern"),
    [
        (["pkg/a.py", "pkg/sub/b.py"], "pkg/**/*.py"),
        (["pkg/a.py", "tests/test_a.py"], "**/*.py"),
        (["a.py", "docs/x.md"], "**"),
        (["src/app/", "src/lib/"], "src/**"),
        (["src/app/a.py", "src/app/"], "src/app/**"),
        (["calc.py", "./calc.py"], "calc.py"),
        (["docs"], "docs/**"),
        ([], "**"),
    ],
)
def test_scope_pattern(paths: list[str], pattern: str) -> None:
    assert scope_pattern(paths) == pattern


@pytest.mark.parametrize(
    ("pattern", "paths", "expected"),
    [
        ("pkg/**/*.py", ["pkg/c.py"], True),
        ("pkg/**/*.py", ["pkg/deep/er/c.py"], True),
        ("pkg/**/*.py", ["pkg/c.md"], False),
        ("pkg/**/*.py", ["README.md", "pkg/c.py"], True),
        ("pkg/**/*.py", ["pkg/"], True),  # a directory that may hold a matching file
        ("pkg/**/*.py", ["src/"], False),
        ("pkg/sub/**", ["pkg"], True),
        ("**/*.py", ["README.md"], False),
        ("**", ["anything/at/all.txt"], True),
        ("calc.py", ["calc.py"], True),
        ("calc.py", ["lib/"], False),
        ("pkg/a.py", ["pkg/"], True),
        ("pkg/**", [], False),
    ],
)
def test_scope_matches(pattern: str, paths: list[str], expected: bool) -> None:
    assert scope_matches(pattern, paths) is expected


def test_applicable_rules_filter_by_status_category_and_scope_active_first() -> None:
    rules = RuleSet(
        rules=(
            _rule(id="cand", scope="pkg/**/*.py", helped=5),
            _rule(id="act", scope="pkg/**", status=RuleStatus.ACTIVE),
            _rule(id="ret", status=RuleStatus.RETIRED),
            _rule(id="drop", status=RuleStatus.DROPPED),
            _rule(id="docs", category="docs"),
            _rule(id="elsewhere", scope="lib/**"),
            _rule(id="any", category="Feature_Scaffolding"),
        )
    )
    got = applicable_rules(rules, category="feature_scaffolding", scope=["pkg/x.py"])
    assert [r.id for r in got] == ["act", "cand", "any"]
    many = RuleSet(rules=tuple(_rule(id=f"r{i}") for i in range(MAX_RULES_INJECTED + 3)))
    assert len(applicable_rules(many, category="x", scope=["a.py"])) == MAX_RULES_INJECTED


def test_render_rules_note() -> None:
    assert render_rules_note([]) == ""
    note = render_rules_note([_rule(id="r-9", status=RuleStatus.ACTIVE, constraint="Pin it.")])
    assert "- [r-9, active] Pin it." in note


# --- scoring ------------------------------------------------------------------------------


def test_a_candidate_that_helps_is_promoted() -> None:
    after = score(_rule(), hit=False)
    assert (after.status, after.helped, after.missed) == (RuleStatus.ACTIVE, 1, 0)
    again = score(after, hit=False)
    assert (again.status, again.helped) == (RuleStatus.ACTIVE, 2)


def test_an_active_rule_that_misses_is_demoted() -> None:
    after = score(_rule(status=RuleStatus.ACTIVE, helped=1), hit=True)
    assert (after.status, after.helped, after.missed) == (RuleStatus.CANDIDATE, 1, 1)


def test_a_candidate_with_two_misses_is_retired() -> None:
    once = score(_rule(), hit=True)
    assert (once.status, once.missed) == (RuleStatus.CANDIDATE, 1)
    twice = score(once, hit=True)
    assert (twice.status, twice.missed) == (RuleStatus.RETIRED, 2)


def test_a_rule_with_more_helps_than_misses_is_not_retired_but_demoted_again() -> None:
    veteran = _rule(status=RuleStatus.ACTIVE, helped=5, missed=1)
    demoted = score(veteran, hit=True)
    assert demoted.status is RuleStatus.CANDIDATE
    assert score(demoted, hit=True).status is RuleStatus.CANDIDATE  # 3 misses, 5 helps


def test_pinned_rules_are_never_demoted_or_retired() -> None:
    rule = _rule(status=RuleStatus.ACTIVE, pinned=True)
    for _ in range(3):
        rule = score(rule, hit=True)
    assert (rule.status, rule.missed, rule.pinned) == (RuleStatus.ACTIVE, 3, True)
