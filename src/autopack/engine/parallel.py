"""Phases of one tier whose scopes do not overlap, run at the same time in *lanes*.

:func:`plan_batches` cuts a tier's remaining phases, in index order, into batches of
consecutive phases (at most ``--max-parallel``) that cannot touch the same files. A batch
of one runs as always, on the run's workspace. In a larger batch each phase runs in its
own lane, a throw-away integration workspace (``<run>--lane--<phase>``) at the branch's
head, so one phase's attempts, rollbacks and checks never see another's half-done work.
A lane's commit then *lands*: it is cherry-picked onto ``autonomous/<run>`` as the phase's
own commit (same trailers, the run's refs), strictly in index order, before the phase is
recorded COMPLETE. Lanes are removed when the batch ends (or, after a crash, on resume).

Overlap is judged conservatively: two lanes writing one file would make the later landing
conflict (its work is then redone), and a phase reading what an earlier one writes would
not see the write in its lane. So no ``scope.paths`` overlaps everything, and a glob
overlaps whatever it cannot be proven disjoint from. Approvals stay sequential.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

from autopack.engine.attempt import AttemptContext
from autopack.engine.phase import PhaseResult, run_phase
from autopack.engine.services import Engine
from autopack.llm import LlmError
from autopack.policy.routing import RoutingError
from autopack.policy.states import PhaseState
from autopack.spec.models import PhaseSpec
from autopack.store import NotFoundError, Store
from autopack.workspace import BRANCH_PREFIX, IntegrationWorkspace, WorkspaceError, validate_id
from autopack.workspace.cleanup import find_runs, remove_run, run_ref
from autopack.workspace.trailers import read_phase_commits

LANE_MARK = "--lane--"
_WILD = frozenset("*?[]")


class LandingConflictError(RuntimeError):
    """A lane's commit did not apply on the integration branch: the phase runs again there."""

    code = "landing_conflict"


# --- which phases may share a batch (pure) ----------------------------------------------


def _parts(path: str) -> tuple[str, ...] | None:
    """Segments of a scope path, casefolded (case-insensitive file systems); None = all."""
    parts = tuple(s for s in path.strip().replace("\\", "/").casefold().split("/") if s)
    parts = tuple(s for s in parts if s != ".")
    return parts or None


def _ends(segment: str) -> tuple[str, str]:
    """The literal text before the first and after the last wildcard character."""
    marks = [i for i, c in enumerate(segment) if c in _WILD]
    if not marks:
        return segment, segment
    return segment[: marks[0]], segment[marks[-1] + 1 :]


def _segments_meet(a: str, b: str) -> bool:
    """Whether one name could match both path segments (wildcards stay inside a segment)."""
    wild_a, wild_b = bool(_WILD & set(a)), bool(_WILD & set(b))
    if not wild_a and not wild_b:
        return a == b
    if wild_a != wild_b and not (_WILD - {"*", "?"}) & set(a + b):
        pattern, name = (a, b) if wild_a else (b, a)
        return fnmatchcase(name, pattern)
    # Two patterns (or a bracket): a common name starts with both literal prefixes and ends
    # with both literal suffixes, so one of each pair must extend the other.
    (pa, sa), (pb, sb) = _ends(a), _ends(b)
    return (pa.startswith(pb) or pb.startswith(pa)) and (sa.endswith(sb) or sb.endswith(sa))


def paths_overlap(a: str, b: str) -> bool:
    """Whether two scope paths (plain paths, directories or globs) may share a file.

    Plain paths overlap when equal or one is a directory prefix of the other; a glob
    overlaps when, segment by segment, it could match the other path, a path below it or
    one of its directories. ``**``, ``.`` and an empty path overlap everything.
    """
    pa, pb = _parts(a), _parts(b)
    if pa is None or pb is None:
        return True
    for x, y in zip(pa, pb, strict=False):
        if "**" in x or "**" in y:
            return True
        if not _segments_meet(x, y):
            return False
    return True  # equal, or one is a prefix (a directory of the other)


def conflicts(earlier: PhaseSpec, later: PhaseSpec) -> bool:
    """Whether ``later`` may not run beside ``earlier``: shared writes, or it reads them."""
    if not earlier.scope.paths or not later.scope.paths:
        return True
    touched = [*later.scope.paths, *(c.path for c in later.scope.read_only_context)]
    return any(paths_overlap(w, t) for w in earlier.scope.paths for t in touched)


def plan_batches(
    phases: Sequence[PhaseSpec],
    max_parallel: int,
    solo: Callable[[PhaseSpec], bool] = lambda _: False,
) -> list[tuple[PhaseSpec, ...]]:
    """Consecutive phases, in the given (index) order, grouped into batches that may run
    together: at most ``max_parallel``, pairwise non-conflicting; a phase that conflicts
    with one already in the batch closes it. ``solo`` phases are batches of their own.
    """
    limit = max(1, max_parallel)
    batches: list[tuple[PhaseSpec, ...]] = []
    current: list[PhaseSpec] = []
    for phase in phases:
        alone = limit == 1 or solo(phase)
        if current and (
            alone or len(current) >= limit or any(conflicts(e, phase) for e in current)
        ):
            batches.append(tuple(current))
            current = []
        current.append(phase)
        if alone:
            batches.append(tuple(current))
            current = []
    if current:
        batches.append(tuple(current))
    return batches


# --- lanes --------------------------------------------------------------------------------


def lane_id(run_id: str, phase_id: str) -> str:
    """The lane's workspace id: ``<run>--lane--<phase>``, hashed when that is too long."""
    plain = f"{run_id}{LANE_MARK}{phase_id}"
    if len(plain) <= 128:
        return validate_id(plain, "run_id")
    digest = hashlib.sha256(f"{run_id}\0{phase_id}".encode()).hexdigest()[:16]
    return validate_id(f"{run_id[:96]}{LANE_MARK}{digest}", "run_id")


def _claimed(store: Store, workspace_id: str) -> bool:
    """A stored run owns this id: a user's run that happens to look like a lane."""
    try:
        store.get_run(workspace_id)
    except NotFoundError:
        return False
    return True


def remove_lanes(engine: Engine, ws: IntegrationWorkspace, run_id: str) -> list[str]:
    """Remove what lanes of ``run_id`` left behind (worktree, journal, branch, refs).

    Called when a run is resumed: a crash mid-batch leaves lanes; their phases are
    re-queued by :func:`autopack.engine.resume.recover_run` (a phase's commit counts only
    once it landed on the integration branch).
    """
    found = find_runs(ws.repo, ws.data_dir, with_refs=True)
    heads = ws.git.run("for-each-ref", "--format=%(refname)", f"refs/heads/{BRANCH_PREFIX}")
    found |= {ref.removeprefix(f"refs/heads/{BRANCH_PREFIX}") for ref in heads.stdout.split()}
    removed: list[str] = []
    for phase in engine.store.get_run(run_id).phases:
        lane = lane_id(run_id, phase.phase_id)
        if lane in found and not _claimed(engine.store, lane):
            remove_run(ws.repo, ws.data_dir, lane, delete_branch=True)
            removed.append(lane)
    return removed


def fresh_snapshot(ws: IntegrationWorkspace, phase_id: str) -> None:
    """Drop a phase's snapshot ref left behind HEAD by an earlier try (a lane landed since).

    Only for a phase without a commit and without an open attempt; sequential runs never
    leave one (the phase after an interruption starts where it stopped), so it is a no-op
    there.
    """
    before = run_ref(ws.run_id, f"{phase_id}/before")
    snapshot = ws.git.try_rev_parse(before)
    if snapshot is None or snapshot == ws.git.head() or ws.open_attempt() is not None:
        return
    if ws.git.try_rev_parse(run_ref(ws.run_id, f"{phase_id}/after")) is None:
        ws.git.run("update-ref", "-m", "autopack: stale phase snapshot", "-d", before, snapshot)


@dataclass
class _Lane:
    ctx: AttemptContext
    state: str
    attempts_used: int
    ws: IntegrationWorkspace | None = None
    settled: threading.Event = field(default_factory=threading.Event)
    """Set once the phase landed, or ended without landing: later lanes may land."""


class _Batch:
    """One batch's lanes; lands their commits on ``main`` one at a time, in index order."""

    def __init__(self, main: IntegrationWorkspace, lanes: list[_Lane]) -> None:
        self.main, self.lanes = main, lanes
        self._lock = threading.Lock()

    def open(self) -> None:
        """Create the lanes at the integration head (main thread, before any worker)."""
        head = self.main.git.head()
        for i, lane in enumerate(self.lanes):
            phase, engine = lane.ctx.phase, lane.ctx.engine
            _warm_provider(lane.ctx)
            name = lane_id(self.main.run_id, phase.phase_id)
            if _claimed(engine.store, name):
                lane.ctx.notify(f"no lane: run id {name!r} is taken; runs after the batch")
                continue
            try:
                made = IntegrationWorkspace.create(
                    self.main.repo, self.main.data_dir, name, base_ref=head
                )
            except WorkspaceError as exc:
                if exc.code not in ("branch_exists", "worktree_exists"):
                    raise
                lane.ctx.notify(f"no lane ({exc}); runs after the batch")
                continue
            lane.ws = made
            lane.ctx = replace(
                lane.ctx, ws=made, land=lambda sha, i=i, w=made: self.land(i, w, sha)
            )

    def close(self) -> None:
        """Remove every lane: worktree, journal, branch and refs (its commit has landed)."""
        for lane in self.lanes:
            if lane.ws is not None:
                lane.ws.remove(delete_branch=True)
                lane.ws = None

    def work(self, i: int) -> PhaseResult | None:
        """Run phase ``i`` in its lane (worker thread); ``None``: run it again sequentially."""
        lane = self.lanes[i]
        try:
            if lane.ws is None:
                return None
            return run_phase(lane.ctx, state=lane.state, attempts_used=lane.attempts_used)
        except LandingConflictError as exc:
            _requeue(lane.ctx, str(exc))
            return None
        finally:
            lane.settled.set()

    def land(self, i: int, ws: IntegrationWorkspace, lane_sha: str | None) -> str | None:
        """Put lane ``i``'s commit on the integration branch, after every earlier lane."""
        lane = self.lanes[i]
        try:
            for earlier in self.lanes[:i]:
                earlier.settled.wait()
            if lane_sha is None:
                return None
            with self._lock:
                sha = self._cherry_pick(lane.ctx, ws, lane_sha)
            lane.ctx.notify(f"landed on {self.main.branch} as {sha[:12] if sha else '(no change)'}")
            return sha
        finally:
            lane.settled.set()

    def _cherry_pick(
        self, ctx: AttemptContext, lane: IntegrationWorkspace, lane_sha: str
    ) -> str | None:
        main, phase_id = self.main, ctx.phase.phase_id
        made = read_phase_commits(lane.git, f"{lane_sha}^!")[0]
        attempt = made["attempt"] or 1
        fresh_snapshot(main, phase_id)
        main.begin_attempt(phase_id, attempt)
        picked = main.git.run("cherry-pick", "--no-commit", lane_sha, check=False)
        if picked.returncode != 0:
            main.rollback_attempt(phase_id)
            before = run_ref(main.run_id, f"{phase_id}/before")
            main.git.run("update-ref", "-d", before)  # the re-run starts from the new head
            raise LandingConflictError(
                f"phase {phase_id}: its lane's commit does not apply on {main.branch}: "
                f"{picked.stderr.strip()[:500]}"
            )
        message = f"{ctx.phase.name}\n\n{ctx.phase.description}".strip()  # as phase._commit
        return main.commit_attempt(
            phase_id, attempt, message=message, model=made["model"], tokens=made["tokens"]
        )


def _warm_provider(ctx: AttemptContext) -> None:
    """Make the Builder's provider in the main thread: providers are cached without a lock,
    and a stateful one (the scripted model's ordered answers) must not be made twice. An
    error is left for the worker, which meets it where a sequential run would."""
    phase, engine = ctx.phase, ctx.engine
    with contextlib.suppress(RoutingError, LlmError):
        route = engine.router.choose(
            "builder", category=phase.task_category, complexity=phase.complexity, attempt=1,
            failures=(),
        )  # fmt: skip
        engine.provider_for(route.model)


def _requeue(ctx: AttemptContext, reason: str) -> None:
    """Close the phase's open attempt as interrupted and queue the phase again."""
    store, run_id, phase_id = ctx.engine.store, ctx.run_id, ctx.phase.phase_id
    for attempt in store.attempts(run_id, phase_id):
        if attempt.finished_at is None:
            store.finish_attempt(
                attempt.id, outcome="interrupted", error_class="interrupted", error_message=reason
            )
    why, actor = f"re-queued: {reason}", ctx.engine.options.actor
    store.transition_phase(
        run_id, phase_id, PhaseState.QUEUED, reason=why, actor=actor, explicit=True
    )
    ctx.notify(f"{reason}; it runs again after the batch")


def run_batch(
    main: IntegrationWorkspace,
    contexts: Sequence[AttemptContext],
    starts: Sequence[tuple[str, int]],
) -> list[PhaseResult | None]:
    """Run a batch's phases in lanes, concurrently; results in index order.

    ``contexts`` are built by the caller in the main thread (on ``main``: baselines are
    computed there); ``starts`` gives each phase's stored state and attempts used. A
    ``None`` result means the phase must run again sequentially on ``main`` (no lane could
    be made, or its commit did not land). Every worker has finished, and every lane is
    removed, when this returns or raises; a worker's exception is raised here.
    """
    lanes = [_Lane(c, s, n) for c, (s, n) in zip(contexts, starts, strict=True)]
    batch = _Batch(main, lanes)
    futures: list[Future[PhaseResult | None]] = []
    try:
        batch.open()
        with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="autopack-lane") as pool:
            futures = [pool.submit(batch.work, i) for i in range(len(lanes))]
    finally:
        batch.close()
    return [f.result() for f in futures]
