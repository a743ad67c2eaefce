"""Worker leases on runs, on SQLite and PostgreSQL: one holder, expiry, takeover, heartbeat."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from autopack.engine.dispatch import LeaseLostError, RunLease
from autopack.store import LeaseHeldError, NotFoundError, Store
from autopack.store.lease import acquire_lease
from autopack.store.models import utcnow


def test_one_holder_until_release(store: Store, created_run: str) -> None:
    lease = store.acquire_lease(created_run, "worker-a", 30)
    assert lease.owner == "worker-a" and store.lease(created_run).live()
    with pytest.raises(LeaseHeldError, match="worker-a") as caught:
        store.acquire_lease(created_run, "worker-b", 30)
    assert caught.value.code == "lease_held"
    assert store.acquire_lease(created_run, "worker-a", 30).owner == "worker-a"  # re-entrant
    assert store.release_lease(created_run, "worker-b") is False  # only the owner releases
    assert store.release_lease(created_run, "worker-a") is True
    assert not store.lease(created_run).live()
    assert store.acquire_lease(created_run, "worker-b", 30).owner == "worker-b"


def test_expired_lease_is_taken_over_and_the_old_owner_cannot_renew(
    store: Store, created_run: str
) -> None:
    past = utcnow() - timedelta(seconds=120)
    with store.transaction() as session:
        acquire_lease(session, created_run, "dead-worker", 60, now=past)
    assert not store.lease(created_run).live()
    assert store.acquire_lease(created_run, "worker-b", 30).owner == "worker-b"
    assert store.renew_lease(created_run, "dead-worker", 30) is False
    assert store.renew_lease(created_run, "worker-b", 30) is True
    assert store.lease(created_run).heartbeat_at is not None


def test_unknown_run(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.acquire_lease("no-such-run", "w", 10)


def test_racing_workers_get_one_lease(store: Store, created_run: str) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def take(name: str) -> None:
        barrier.wait()
        try:
            store.acquire_lease(created_run, name, 30)
            winners.append(name)
        except LeaseHeldError:
            pass

    threads = [threading.Thread(target=take, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and store.lease(created_run).owner == winners[0]


def test_heartbeat_keeps_the_lease_alive_past_its_ttl(store: Store, created_run: str) -> None:
    with RunLease(store, created_run, owner="beating", ttl=1.5, interval=0.2) as lease:
        time.sleep(2.0)  # longer than the ttl: only the heartbeat keeps it
        with pytest.raises(LeaseHeldError):
            store.acquire_lease(created_run, "intruder", 30)
        lease.check()
    assert not store.lease(created_run).live()  # released on exit


def test_a_worker_whose_lease_was_taken_over_stops(store: Store, created_run: str) -> None:
    with RunLease(store, created_run, owner="stalled", ttl=0.2, interval=0.5) as lease:
        time.sleep(0.3)  # the lease expired: the heartbeat was too slow
        store.acquire_lease(created_run, "rescuer", 30)
        deadline = time.monotonic() + 5
        while not lease.lost and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(LeaseLostError):
            lease.check()
    assert store.lease(created_run).owner == "rescuer"  # the stalled worker left it alone
