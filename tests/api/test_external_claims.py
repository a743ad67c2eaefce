"""Claims on external work in the store, on SQLite and a real PostgreSQL server.

One live claim per (run, phase, role) even when claimers race; expired claims give way;
tokens are stored hashed and open exactly one claim; a submission is consumed once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from autopack.policy.strategy import StrategyEngine
from autopack.store import Store
from autopack.store.claims import ClaimError, ClaimHeldError, hash_token
from autopack.store.db import create_db_engine
from autopack.store.migrate import ensure_schema
from autopack.store.models import ExternalClaim
from support.specs import make_spec

RUN, PHASE = "run-1", "p0-0"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store holding one run."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'autopack.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    engine = create_db_engine(url)
    ensure_schema(engine)
    s = Store(engine)
    spec = make_spec(RUN)
    s.create_run(spec, StrategyEngine.load().compile_run(spec), shape="nested")
    try:
        yield s
    finally:
        s.close()


def test_racing_claimers_get_one_claim(store: Store) -> None:
    won: list[str] = []
    lost: list[str] = []
    barrier = threading.Barrier(6)

    def race(name: str) -> None:
        barrier.wait()
        try:
            store.claims.claim(RUN, PHASE, "builder", owner=name, ttl=60)
        except ClaimHeldError as exc:
            lost.append(str(exc))
        else:
            won.append(name)

    threads = [threading.Thread(target=race, args=(f"agent-{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(lost) == 5
    assert all(f"{won[0]} holds it" in message for message in lost)
    # Another role, or another phase, is other work.
    store.claims.claim(RUN, PHASE, "auditor", owner="reviewer", ttl=60)
    store.claims.claim(RUN, "p0-1", "builder", owner="other", ttl=60)


def test_expired_claims_give_way_and_tokens_are_hashed(store: Store) -> None:
    # Leases long enough for a loaded machine to do the steps before expiry, short to wait out.
    first, token = store.claims.claim(RUN, PHASE, "builder", owner="slow", ttl=1.5)
    assert token.startswith("clm_") and first.live()
    with store.transaction() as session:
        row = session.scalars(select(ExternalClaim).where(ExternalClaim.id == first.id)).one()
        assert row.token_hash == hash_token(token) and token not in row.token_hash
    time.sleep(1.6)
    second, fresh = store.claims.claim(RUN, PHASE, "builder", owner="fast", ttl=60)
    with pytest.raises(ClaimError) as expired:
        store.claims.submit(RUN, PHASE, "builder", token, "answer")
    assert expired.value.code == "claim_expired"
    with pytest.raises(ClaimError) as wrong:
        store.claims.verify(RUN, "p0-1", "builder", fresh)  # another phase's work
    assert wrong.value.code == "claim_invalid"
    with pytest.raises(ClaimError):
        store.claims.verify(RUN, PHASE, "auditor", fresh)  # another role
    assert [c.status for c in store.claims.for_run(RUN)] == ["expired", "active"]
    assert store.claims.live(RUN, PHASE, "builder") == second


def test_a_submission_is_consumed_once_and_blocks_new_claims(store: Store) -> None:
    view, token = store.claims.claim(RUN, PHASE, "builder", owner="agent", ttl=1.5)
    assert store.claims.take(RUN, PHASE, "builder", attempt=1) is None
    refused = store.claims.refuse(view.id, "no edit found")
    assert (refused.refusals, refused.last_error, refused.status) == (1, "no edit found", "active")
    store.claims.submit(RUN, PHASE, "builder", token, "the answer")
    time.sleep(1.6)  # a submitted claim is live whatever its lease says
    with pytest.raises(ClaimHeldError, match="agent has submitted"):
        store.claims.claim(RUN, PHASE, "builder", owner="late", ttl=60)
    with pytest.raises(ClaimError) as used:
        store.claims.submit(RUN, PHASE, "builder", token, "again")
    assert used.value.code == "claim_used"
    taken = store.claims.take(RUN, PHASE, "builder", attempt=2)
    assert taken is not None and taken[1] == "the answer"
    assert (taken[0].status, taken[0].attempt_index) == ("consumed", 2)
    assert store.claims.take(RUN, PHASE, "builder", attempt=3) is None
    assert store.claims.live(RUN, PHASE, "builder") is None
    store.claims.claim(RUN, PHASE, "builder", owner="next", ttl=60)
