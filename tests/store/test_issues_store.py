"""Issue tracking in the store, on SQLite and PostgreSQL: phase rows, the run index, the
backlog with aging per DISTINCT run and tier, statuses per safety profile, resolution and
reopening, and queries whose statement count does not grow with the data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from autopack.policy.strategy import StrategyEngine
from autopack.spec.models import RunSpec
from autopack.store import IssueInput, NotFoundError, Store
from support.specs import make_spec

STYLE = IssueInput(None, "minor", "auditor", "style", "names are unclear", "see foo()", "src/a.py")
FLAKY = IssueInput(None, "minor", "checks", "test_failure", "tests/test_a.py::test_x", "boom")
WRONG = IssueInput("auditor:correctness:wrong", "major", "auditor", "correctness", "wrong")


def _run(
    store: Store, engine: StrategyEngine, run_id: str, *, profile: str = "normal", tiers: int = 2
) -> str:
    data = make_spec(run_id, tiers=tiers, phases_per_tier=3).model_dump(mode="json")
    spec = RunSpec.model_validate({**data, "safety_profile": profile})
    store.create_run(spec, engine.compile_run(spec), shape="nested")
    return run_id


def _one(store: Store, key: str, status: str | None = "all"):
    found = [i for i in store.issue_backlog(status=status) if i.issue_key == key]
    assert len(found) == 1, found
    return found[0]


def test_keys_are_derived_and_repeats_count_occurrences(
    store: Store, strategy_engine: StrategyEngine
) -> None:
    run = _run(store, strategy_engine, "r1")
    rows = store.record_issues(run, "p0-0", [STYLE, STYLE, FLAKY])
    assert {r.issue_key: r.occurrences for r in rows} == {
        "file:src/a.py#style": 2,
        "test:tests/test_a.py::test_x": 1,
    }
    again = store.record_issues(run, "p0-0", [STYLE])
    assert again[0].occurrences == 3 and again[0].tier_id == "t0"
    assert [r.issue_key for r in store.phase_issues(run, "p0-0")] == [
        "file:src/a.py#style",
        "test:tests/test_a.py::test_x",
    ]
    assert store.phase_issues(run, "p0-1") == []
    assert store.record_issues(run, "p0-0", []) == []


def test_many_occurrences_in_one_run_age_one_run_and_one_tier(
    store: Store, strategy_engine: StrategyEngine
) -> None:
    """The known defect: counting every occurrence would make this 12 runs old."""
    run = _run(store, strategy_engine, "r1")
    for phase in ("p0-0", "p0-1", "p0-2"):
        for _ in range(4):
            store.record_issues(run, phase, [STYLE])
    issue = _one(store, "file:src/a.py#style")
    assert (issue.age_in_runs, issue.age_in_tiers, issue.occurrences) == (1, 1, 12)
    assert issue.status == "open"
    (entry,) = store.run_issue_index(run)
    assert entry.phases == ["p0-0", "p0-1", "p0-2"] and entry.tiers == ["t0"]
    assert entry.occurrences == 12 and entry.backlog_status == "open"
    assert store.tier_cleanup_keys(run, "t0") == []


def test_three_distinct_runs_make_a_minor_issue_need_cleanup_under_normal(
    store: Store, strategy_engine: StrategyEngine
) -> None:
    ages = []
    for n in (1, 2, 3):
        run = _run(store, strategy_engine, f"r{n}")
        store.record_issues(run, "p0-0", [STYLE, STYLE])  # one tier per run
        issue = _one(store, "file:src/a.py#style")
        ages.append((issue.age_in_runs, issue.age_in_tiers, issue.status))
    # Tiers are (run, tier) pairs: the second run is the issue's second tier (threshold 2).
    assert ages == [(1, 1, "open"), (2, 2, "needs_cleanup"), (3, 3, "needs_cleanup")]
    assert (issue.cleanup_after_runs, issue.cleanup_after_tiers) == (3, 2)
    assert store.tier_cleanup_keys("r3", "t0") == ["file:src/a.py#style"]
    assert store.tier_cleanup_keys("r3", "t1") == []
    assert [i.issue_key for i in store.issue_backlog(status="needs_cleanup")] == [
        "file:src/a.py#style"
    ]


def test_runs_threshold_without_the_tiers_threshold(store: Store) -> None:
    """Normal profile with a high tier threshold: the 3rd distinct run is what counts."""
    spec = make_spec("r1", tiers=1)
    engine = StrategyEngine.load()
    for n in (1, 2, 3):
        spec = make_spec(f"r{n}", tiers=1)
        compiled = engine.compile_run(spec).model_copy(
            update={"minor_issue_cleanup_after_tiers": 10}
        )
        store.create_run(spec, compiled)
        store.record_issues(spec.run_id, "p0-0", [STYLE])
        store.record_issues(spec.run_id, "p0-1", [STYLE])
        issue = _one(store, "file:src/a.py#style")
        assert issue.age_in_runs == n and issue.age_in_tiers == n
        assert issue.status == ("needs_cleanup" if n == 3 else "open")


def test_safety_critical_thresholds_are_two_runs_or_one_tier(
    store: Store, strategy_engine: StrategyEngine
) -> None:
    run = _run(store, strategy_engine, "sc1", profile="safety_critical")
    store.record_issues(run, "p0-0", [STYLE, WRONG])
    issue = _one(store, "file:src/a.py#style")
    assert (issue.cleanup_after_runs, issue.cleanup_after_tiers) == (2, 1)
    assert issue.status == "needs_cleanup"  # one tier is enough
    assert _one(store, WRONG.issue_key).status == "open"  # majors are open, never aged
    assert store.tier_cleanup_keys(run, "t0") == ["file:src/a.py#style"]


def test_two_tiers_of_one_run_are_two_tiers(store: Store, strategy_engine: StrategyEngine) -> None:
    run = _run(store, strategy_engine, "r1")
    store.record_issues(run, "p0-0", [STYLE])
    assert _one(store, "file:src/a.py#style").status == "open"
    store.record_issues(run, "p1-0", [STYLE])
    issue = _one(store, "file:src/a.py#style")
    assert (issue.age_in_runs, issue.age_in_tiers, issue.status) == (1, 2, "needs_cleanup")


def test_resolved_issue_reopens_with_its_age_restarted(
    store: Store, strategy_engine: StrategyEngine
) -> None:
    for n in (1, 2):
        store.record_issues(_run(store, strategy_engine, f"r{n}"), "p0-0", [STYLE])
    key = "file:src/a.py#style"
    assert _one(store, key).status == "needs_cleanup"
    _run(store, strategy_engine, "r3")
    assert store.resolve_issues("r3", [key, "no-such-key"]) == [key]
    assert store.resolve_issues("r3", [key]) == []  # only unresolved issues resolve
    resolved = _one(store, key)
    assert resolved.status == "resolved" and resolved.resolved_by_run == "r3"
    assert store.issue_backlog() == []  # default: open + needs_cleanup
    assert store.issue_backlog(status="resolved")[0].issue_key == key
    store.record_issues(_run(store, strategy_engine, "r4"), "p0-0", [STYLE])
    reopened = _one(store, key)
    assert reopened.status == "open" and reopened.reopened == 1
    assert (reopened.age_in_runs, reopened.age_in_tiers) == (1, 1)
    assert reopened.resolved_at is None and reopened.resolved_by_run is None
    assert reopened.occurrences == 3  # every occurrence, all time
    detail = store.backlog_issue(key)
    assert [o.run_id for o in detail.occurrences] == ["r1", "r2", "r4"]
    assert detail.occurrences[0].evidence == "see foo()"


def test_run_counts_index_and_summary(store: Store, strategy_engine: StrategyEngine) -> None:
    run = _run(store, strategy_engine, "r1")
    store.record_issues(run, "p0-0", [STYLE, FLAKY])
    minor_then_major = IssueInput("k:escalates", "minor", "auditor", "general", "x")
    store.record_issues(run, "p0-1", [minor_then_major, WRONG])
    store.record_issues(run, "p1-0", [IssueInput("k:escalates", "major", "judge", "general", "x")])
    assert store.run_issue_counts(run) == {"major": 2, "minor": 2}
    assert store.run_issue_counts("no-such-run") == {"major": 0, "minor": 0}
    index = store.run_issue_index(run)
    assert [i.severity for i in index] == ["major", "major", "minor", "minor"]
    escalated = next(i for i in index if i.issue_key == "k:escalates")
    assert escalated.sources == ["auditor", "judge"] and escalated.tiers == ["t0", "t1"]
    summary = store.issue_backlog_summary()
    assert summary.total == 4 and summary.occurrences == 5
    assert summary.by_severity == {"minor": 2, "major": 2}
    assert summary.by_source == {"auditor": 3, "checks": 1}
    assert summary.by_status == {"open": 4} and summary.needs_cleanup == 0
    assert summary.open_by_severity == {"minor": 2, "major": 2}
    assert summary.oldest_open_age_in_runs == 1


def test_unknown_run_phase_issue_and_bad_input(
    store: Store, strategy_engine: StrategyEngine
) -> None:
    run = _run(store, strategy_engine, "r1")
    with pytest.raises(NotFoundError):
        store.record_issues("nope", "p0-0", [STYLE])
    with pytest.raises(NotFoundError):
        store.record_issues(run, "nope", [STYLE])
    with pytest.raises(NotFoundError):
        store.run_issue_index("nope")
    with pytest.raises(NotFoundError):
        store.phase_issues(run, "nope")
    with pytest.raises(NotFoundError):
        store.backlog_issue("nope")
    with pytest.raises(NotFoundError):
        store.resolve_issues("nope", ["x"])
    with pytest.raises(ValueError, match="severity"):
        store.record_issues(run, "p0-0", [IssueInput(None, "critical", "a", "b", "c")])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status"):
        store.issue_backlog(status="closed")
    assert store.phase_issues(run) == []  # nothing was half-written


def test_backlog_order_limit_and_offset(store: Store, strategy_engine: StrategyEngine) -> None:
    for n in (1, 2, 3):
        run = _run(store, strategy_engine, f"r{n}")
        store.record_issues(
            run, "p0-0", [IssueInput(f"k{m}", "major", "a", "c", "t") for m in range(n, 4)]
        )
    # k3 was seen in 3 runs, k2 in 2, k1 in 1: most aged first.
    assert [i.issue_key for i in store.issue_backlog()] == ["k3", "k2", "k1"]
    assert [i.issue_key for i in store.issue_backlog(limit=1, offset=1)] == ["k2"]
    assert [i.age_in_runs for i in store.issue_backlog()] == [3, 2, 1]


@contextmanager
def _counting(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _statements(store: Store) -> tuple[int, int, int]:
    counts = []
    for call in (
        lambda: store.issue_backlog(status="all"),
        lambda: store.run_issue_index("r0"),
        store.issue_backlog_summary,
    ):
        with _counting(store.engine) as seen:
            call()
        counts.append(len(seen))
    return counts[0], counts[1], counts[2]


def test_queries_take_a_fixed_number_of_statements(
    store: Store, strategy_engine: StrategyEngine
) -> None:
    def grow(runs: range, keys: int) -> None:
        for n in runs:
            run = _run(store, strategy_engine, f"r{n}")
            for phase in ("p0-0", "p0-1", "p1-0"):
                batch = [
                    IssueInput(f"k{m}", "minor", f"s{m % 3}", f"c{m % 4}", "t") for m in range(keys)
                ]
                store.record_issues(run, phase, batch)

    grow(range(0, 2), 3)
    small = _statements(store)
    grow(range(2, 8), 20)
    assert len(store.run_issue_index("r0")) == 3 and len(store.issue_backlog(status="all")) == 20
    assert _statements(store) == small
    assert small[0] <= 3 and small[1] <= 4 and small[2] <= 4
