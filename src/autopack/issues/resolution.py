"""When a run resolves an issue: the evidence one run gathers, and the rule applied at its end.

Definitions (evaluated when the run ends, whatever its terminal state). Every attempt gets
a tick; an issue recorded in this run has the tick of its last occurrence (-1 when this run
never recorded it). An unresolved backlog issue is **resolved** by the run when the run
gathered evidence for it *with a later tick*:

- ``test:<id>`` — a check report of the run shows that test passing (JUnit outcome
  ``passed``) and no later report shows it failing (a failure would be recorded again);
- ``file:<path>#...`` (any issue naming a file) — a phase of the run whose scope covers the
  file completed (committed) with its final checks ``passed``, and that final attempt did
  not record the key again;
- anything else (Doctor findings, file-less review findings, failed check runs) — a phase
  with the same ``phase_id`` as one that recorded the issue since it was opened completed
  with its final checks ``passed``, and that attempt did not record the key again.

"Checks passed" means :class:`~autopack.checks.CheckStatus` ``passed``: a skipped check
proves nothing. An issue fixed by a later attempt of the same run is resolved at that run's
end; one recorded by the committing attempt itself (a minor finding of an approved verdict)
stays open. A resolved issue that occurs again is reopened by the store, its age restarted.
The evidence lives in the engine process: after a crash, a resumed run resolves issues only
from what it saw after resuming.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from autopack.issues.keys import id_of_test_key, kind_of, normalize_path

__all__ = ["Completion", "RunEvidence", "covers"]


def covers(paths: Iterable[str], file: str) -> bool:
    """Whether a scope's writable ``paths`` include ``file``."""
    target = normalize_path(file)
    for root in paths:
        base = normalize_path(root)
        if base and (target == base or target.startswith(base + "/")):
            return True
    return False


@dataclass(frozen=True)
class Completion:
    """A phase committed with passing checks, at ``tick`` (its final attempt's)."""

    tick: int
    phase_id: str
    paths: tuple[str, ...]


@dataclass
class RunEvidence:
    """What one run saw, in order (see the module docstring)."""

    tick: int = 0
    recorded: dict[str, int] = field(default_factory=dict)
    passed_tests: dict[str, int] = field(default_factory=dict)
    completions: list[Completion] = field(default_factory=list)

    def next_tick(self) -> int:
        """A new, later tick (one per attempt or Doctor decision)."""
        self.tick += 1
        return self.tick

    def saw_issues(self, keys: Iterable[str], tick: int) -> None:
        for key in keys:
            self.recorded[key] = max(tick, self.recorded.get(key, -1))

    def saw_passing(self, test_ids: Iterable[str], tick: int) -> None:
        for test_id in test_ids:
            self.passed_tests[test_id] = max(tick, self.passed_tests.get(test_id, -1))

    def saw_completion(self, completion: Completion) -> None:
        self.completions.append(completion)

    def resolvable(self, places: Mapping[str, tuple[str | None, frozenset[str]]]) -> list[str]:
        """Which unresolved issues (key → file, phases that recorded it) this run resolved."""
        out: list[str] = []
        for key, (file, phases) in sorted(places.items()):
            last = self.recorded.get(key, -1)
            kind = kind_of(key)
            if kind == "test":
                test_id = id_of_test_key(key) or ""
                if self.passed_tests.get(test_id, -1) > last:
                    out.append(key)
            elif file:
                if any(c.tick > last and covers(c.paths, file) for c in self.completions):
                    out.append(key)
            elif any(c.tick > last and c.phase_id in phases for c in self.completions):
                out.append(key)
        return out
