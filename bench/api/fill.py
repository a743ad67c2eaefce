"""Fill a database with N runs of M phases, fast but through the store's own code paths.

Runs are created with :func:`autopack.store.runs.create_run` (rows + creation events), many
per transaction; states move through :func:`autopack.store.transitions.apply_transition`
(the transition table and its events, as in real runs). Attempts and model calls are bulk
inserted (one attempt and a builder and an auditor call for every phase that started), and
the runs', tiers' and phases' token counters are then set from the calls in three
``UPDATE`` statements, so the figures the API shows are consistent. ``ANALYZE`` runs at the
end, so the query planner has the statistics a live database would have.

The mix, by run index: 70 % ``DONE_SUCCESS`` (every phase complete), 15 %
``DONE_FAILED_BUDGET_EXHAUSTED`` (half the phases complete, one failed), 10 % still
executing (a quarter complete, one executing), 5 % just created.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from autopack.policy.states import Machine, PhaseState, RunState
from autopack.policy.strategy import StrategyEngine
from autopack.spec.models import RunSpec
from autopack.store import Store
from autopack.store.models import Attempt, LlmCall, Phase, Run, Tier, utcnow
from autopack.store.runs import create_run
from autopack.store.transitions import apply_transition

MODELS = (("claude-haiku-4-5", "builder"), ("claude-opus-4-1", "auditor"))
TIERS = 4


def template(phases: int) -> RunSpec:
    """A plan of ``phases`` phases over four tiers."""
    per_tier = max(1, phases // TIERS)
    tiers = []
    for t in range(TIERS):
        count = per_tier if t < TIERS - 1 else phases - per_tier * (TIERS - 1)
        tiers.append(
            {
                "tier_id": f"t{t}",
                "tier_index": t,
                "name": f"Tier {t}",
                "phases": [
                    {
                        "phase_id": f"p{t}-{i}",
                        "phase_index": i,
                        "name": f"phase {t}.{i}",
                        "task_category": "feature_scaffolding",
                        "complexity": "low",
                        "scope": {"paths": [f"pkg/mod_{t}_{i}.py"]},
                    }
                    for i in range(count)
                ],
            }
        )
    return RunSpec.model_validate(
        {"run_id": "bench-0000", "goal": "benchmark", "token_cap": 2_000_000, "tiers": tiers}
    )


def _plan(index: int, phases: int) -> tuple[list[RunState], int, bool]:
    """Run states to walk, phases to complete, and whether one more phase is under way."""
    share = index % 20
    done = [RunState.PHASE_QUEUEING, RunState.PHASE_EXECUTION, RunState.PHASE_QUEUEING]
    if share < 14:
        return [*done, RunState.SNAPSHOT_CREATED, RunState.DONE_SUCCESS], phases, False
    if share < 17:
        return [*done, RunState.DONE_FAILED_BUDGET_EXHAUSTED], phases // 2, True
    if share < 19:
        return [RunState.PHASE_QUEUEING, RunState.PHASE_EXECUTION], phases // 4, True
    return [], 0, False


def _move(session: Session, machine: Machine, run_id: str, key: str, state: str) -> None:
    apply_transition(session, machine, run_id, key, state, reason="bench", actor="bench")


def _walk(session: Session, run_id: str, spec: RunSpec, index: int) -> list[tuple[str, str]]:
    """Move the run and its phases; the (phase_id, outcome) of every phase that started."""
    run_path, complete, underway = _plan(index, len(spec.phases()))
    started: list[tuple[str, str]] = []
    phases = spec.phases()
    for n, phase in enumerate(phases[: complete + (1 if underway else 0)]):
        _move(session, Machine.PHASE, run_id, phase.phase_id, PhaseState.EXECUTING)
        if n < complete:
            _move(session, Machine.PHASE, run_id, phase.phase_id, PhaseState.COMPLETE)
            started.append((phase.phase_id, "success"))
        elif run_path and run_path[-1].is_terminal():
            _move(session, Machine.PHASE, run_id, phase.phase_id, PhaseState.FAILED)
            started.append((phase.phase_id, "budget_exhausted"))
        else:
            started.append((phase.phase_id, ""))  # in progress: no outcome yet
    for state in run_path:
        _move(session, Machine.RUN, run_id, run_id, state)
    return started


def _records(
    session: Session, run_ids: list[str], started: dict[str, list[tuple[str, str]]], rng: Any
) -> None:
    """Bulk insert one attempt and two model calls per started phase."""
    pks = {
        (run_id, phase_id): pk
        for pk, run_id, phase_id in session.execute(
            select(Phase.id, Phase.run_id, Phase.phase_id).where(Phase.run_id.in_(run_ids))
        )
    }
    now = utcnow()
    attempts = [
        {
            "run_id": run_id,
            "phase_pk": pks[(run_id, phase_id)],
            "attempt_index": 1,
            "builder_model": MODELS[0][0],
            "outcome": outcome or None,
            "tokens_in": 0,
            "tokens_out": 0,
            "started_at": now,
            "finished_at": now if outcome else None,
            "duration_ms": rng.randint(2_000, 90_000) if outcome else None,
        }
        for run_id in run_ids
        for phase_id, outcome in started[run_id]
    ]
    if not attempts:
        return
    session.execute(insert(Attempt), attempts)
    attempt_pk = {
        (run_id, phase_pk): pk
        for pk, run_id, phase_pk in session.execute(
            select(Attempt.id, Attempt.run_id, Attempt.phase_pk).where(Attempt.run_id.in_(run_ids))
        )
    }
    calls = []
    for run_id in run_ids:
        for phase_id, _ in started[run_id]:
            pk = pks[(run_id, phase_id)]
            for model, role in MODELS:
                tokens_in, tokens_out = rng.randint(800, 6_000), rng.randint(40, 1_500)
                calls.append(
                    {
                        "run_id": run_id,
                        "phase_id": phase_id,
                        "attempt_pk": attempt_pk[(run_id, pk)],
                        "provider": "anthropic",
                        "model": model,
                        "role": role,
                        "tokens_in": tokens_in,
                        "tokens_out": tokens_out,
                        "cost_usd": Decimal(tokens_in * 3 + tokens_out * 15) / Decimal(1_000_000),
                        "latency_ms": rng.randint(400, 40_000),
                        "status": "ok",
                        "created_at": now,
                    }
                )
    session.execute(insert(LlmCall), calls)


def _token_counters(session: Session, run_ids: list[str]) -> None:
    """Set tokens_used of the batch's runs, tiers and phases from their calls."""
    used = LlmCall.tokens_in + LlmCall.tokens_out
    per_run = select(func.coalesce(func.sum(used), 0)).where(LlmCall.run_id == Run.id)
    session.execute(
        update(Run).where(Run.id.in_(run_ids)).values(tokens_used=per_run.scalar_subquery())
    )
    per_phase = select(func.coalesce(func.sum(used), 0)).where(
        LlmCall.run_id == Phase.run_id, LlmCall.phase_id == Phase.phase_id
    )
    session.execute(
        update(Phase)
        .where(Phase.run_id.in_(run_ids))
        .values(tokens_used=per_phase.scalar_subquery())
    )
    per_tier = select(func.coalesce(func.sum(Phase.tokens_used), 0)).where(Phase.tier_pk == Tier.id)
    session.execute(
        update(Tier).where(Tier.run_id.in_(run_ids)).values(tokens_used=per_tier.scalar_subquery())
    )


def fill(store: Store, *, runs: int, phases: int, batch: int = 50, seed: int = 7) -> None:
    """Create ``runs`` runs of ``phases`` phases with their attempts and model calls."""
    rng = random.Random(seed)
    base = template(phases)
    strategy = StrategyEngine.load().compile_run(base)
    for first in range(0, runs, batch):
        indexes = range(first, min(runs, first + batch))
        run_ids = [f"bench-{i:04d}" for i in indexes]
        started: dict[str, list[tuple[str, str]]] = {}
        with store.transaction() as session:
            for index, run_id in zip(indexes, run_ids, strict=True):
                spec = base.model_copy(update={"run_id": run_id})
                create_run(session, spec, strategy, shape="nested", actor="bench")
                session.flush()
                started[run_id] = _walk(session, run_id, spec, index)
            _records(session, run_ids, started, rng)
            _token_counters(session, run_ids)
    with store.engine.begin() as conn:  # planner statistics, as autovacuum would gather
        conn.execute(text("ANALYZE"))
