"""``GET /metrics``: Prometheus text that parses, with real series from a real run.

The run goes through the API with the scripted model (start, approval gate, approve, done);
the expected numbers come from the store's own rows (``llm_calls``, attempts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy.exc import OperationalError

from api.api_helpers import ADMIN, Api, plan
from autopack.policy.states import PhaseState, RunState
from autopack.store.aggregates import MetricsSnapshot
from autopack.telemetry import StoreCollector


def scrape(api: Api, headers: dict[str, str] | None = None) -> dict[str, list[Sample]]:
    """Samples by sample name (``autopack_llm_calls_total``, ``..._bucket``…)."""
    response = api.client.get("/metrics", headers=ADMIN if headers is None else headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    out: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def value(samples: dict[str, list[Sample]], name: str, **labels: str) -> float:
    """The value of the one sample of ``name`` whose labels include ``labels`` (0 if none)."""
    found = [s for s in samples.get(name, []) if labels.items() <= s.labels.items()]
    assert len(found) <= 1, found
    return found[0].value if found else 0.0


def finish_calc_run(api: Api) -> str:
    """Start the three-phase plan, approve the gated phase, wait for DONE_SUCCESS."""
    assert api.client.post("/runs/start", json=plan(), headers=ADMIN).status_code == 202
    api.wait_for("calc-run", {"GATE"})
    [pending] = api.client.get("/approval/pending", headers=ADMIN).json()
    decided = api.client.post(f"/approval/{pending['id']}/approve", json={}, headers=ADMIN)
    assert decided.status_code == 200, decided.text
    api.wait_for("calc-run", {"DONE_SUCCESS"})
    return "calc-run"


def test_series_of_a_real_run_match_the_store(api: Api) -> None:
    run_id = finish_calc_run(api)
    samples = scrape(api, api.key("viewer"))

    for state in RunState:
        expected = 1 if state is RunState.DONE_SUCCESS else 0
        assert value(samples, "autopack_runs", state=state.value) == expected
    assert {s.labels["state"] for s in samples["autopack_runs"]} == {s.value for s in RunState}
    assert value(samples, "autopack_phases", state="COMPLETE") == 3
    assert {s.labels["state"] for s in samples["autopack_phases"]} == {s.value for s in PhaseState}

    attempts = [a for tries in api.ctx.store.run_attempts(run_id).values() for a in tries]
    outcomes = Counter(a.outcome for a in attempts)
    assert outcomes["success"] >= 3
    for outcome, n in outcomes.items():
        assert value(samples, "autopack_phase_attempts_total", outcome=str(outcome)) == n
    assert value(samples, "autopack_phase_attempts_in_progress") == 0

    calls = api.ctx.store.llm_calls(run_id)
    assert {c.role for c in calls} >= {"builder", "auditor"}
    for model, role in {(c.model, c.role) for c in calls}:
        mine = [c for c in calls if (c.model, c.role) == (model, role)]
        key = {"model": model, "role": role}
        tokens_in = sum(c.tokens_in for c in mine)
        tokens_out = sum(c.tokens_out for c in mine)
        assert tokens_in > 0 and tokens_out > 0
        assert value(samples, "autopack_llm_tokens_total", **key, direction="in") == tokens_in
        assert value(samples, "autopack_llm_tokens_total", **key, direction="out") == tokens_out
        cost = sum((c.cost_usd for c in mine), Decimal(0))
        assert value(samples, "autopack_llm_cost_usd_total", **key) == pytest.approx(float(cost))
        by_status = Counter(c.status for c in mine)
        for status, n in by_status.items():
            assert value(samples, "autopack_llm_calls_total", **key, status=status) == n
        timed = [c for c in mine if c.latency_ms is not None]
        assert value(samples, "autopack_llm_latency_seconds_count", **key) == len(timed)
        assert value(samples, "autopack_llm_latency_seconds_bucket", **key, le="+Inf") == len(timed)
    assert value(samples, "autopack_store_up") == 1
    [info] = samples["autopack_build_info"]
    assert info.labels["version"]


def test_llm_latency_histogram_buckets_come_from_the_recorded_latencies(api: Api) -> None:
    run_id = api.create_run("timed")
    for latency in (50, 300, 7_000, 400_000, None):
        api.ctx.store.record_llm_call(
            provider="p",
            model="m-x",
            role="builder",
            tokens_in=10,
            tokens_out=5,
            cost_usd=Decimal("0.25"),
            latency_ms=latency,
            run_id=run_id,
            phase_id="readme",
        )
    samples = scrape(api)
    key = {"model": "m-x", "role": "builder"}
    buckets = {
        s.labels["le"]: s.value
        for s in samples["autopack_llm_latency_seconds_bucket"]
        if s.labels["model"] == "m-x"
    }
    assert buckets["0.1"] == 1 and buckets["0.25"] == 1 and buckets["0.5"] == 2
    assert buckets["5.0"] == 2 and buckets["10.0"] == 3 and buckets["300.0"] == 3
    assert buckets["+Inf"] == 4  # the call without a latency is not in the histogram
    assert value(samples, "autopack_llm_latency_seconds_count", **key) == 4
    assert value(samples, "autopack_llm_latency_seconds_sum", **key) == pytest.approx(407.35)
    assert value(samples, "autopack_llm_calls_total", **key, status="ok") == 5
    assert value(samples, "autopack_llm_cost_usd_total", **key) == pytest.approx(1.25)
    assert value(samples, "autopack_llm_tokens_total", **key, direction="in") == 50


def _http(samples: dict[str, list[Sample]], suffix: str, **labels: str) -> float:
    return value(samples, f"autopack_http_request{suffix}", **labels)


def test_http_latency_histogram_counts_requests_by_route_template(api: Api) -> None:
    before = scrape(api)
    for _ in range(3):
        assert api.client.get("/runs", headers=ADMIN).status_code == 200
    assert api.client.get("/runs").status_code == 401
    assert api.client.get("/runs/nope", headers=ADMIN).status_code == 404
    assert api.client.get("/runs/also-nope", headers=ADMIN).status_code == 404
    assert api.client.get("/no/such/page", headers=ADMIN).status_code == 404
    after = scrape(api)

    def grew(suffix: str, **labels: str) -> float:
        return _http(after, suffix, **labels) - _http(before, suffix, **labels)

    runs = {"method": "GET", "route": "/runs"}
    assert grew("_duration_seconds_count", **runs) == 4
    assert grew("_duration_seconds_bucket", **runs, le="+Inf") == 4
    assert grew("_duration_seconds_sum", **runs) > 0
    assert grew("s_total", **runs, status="200") == 3
    assert grew("s_total", **runs, status="401") == 1
    one = {"method": "GET", "route": "/runs/{run_id}"}
    assert grew("_duration_seconds_count", **one) == 2  # templates, not raw paths
    assert grew("s_total", **one, status="404") == 2
    assert grew("s_total", method="GET", route="<unmatched>", status="404") == 1
    assert not any("nope" in s.labels.get("route", "") for v in after.values() for s in v)
    scrapes = {"method": "GET", "route": "/metrics"}
    assert _http(after, "_duration_seconds_count", **scrapes) >= 1


def test_openmetrics_on_request(api: Api) -> None:
    response = api.client.get(
        "/metrics", headers={**ADMIN, "Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


def test_each_app_has_its_own_registry(make_api: Callable[..., Api]) -> None:
    first, second = make_api(), make_api()
    for _ in range(5):
        first.client.get("/runs", headers=ADMIN)
    counts = [
        value(scrape(api), "autopack_http_requests_total", route="/runs", status="200")
        for api in (first, second)
    ]
    assert counts == [5, 0]


def test_metrics_need_a_reader_unless_anonymous_read_on_loopback(
    make_api: Callable[..., Api],
) -> None:
    api = make_api()
    for path in ("/metrics", "/metrics/runs", "/metrics/tiers/x"):
        response = api.client.get(path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthorized"
        assert api.client.get(path, headers=api.key("viewer")).status_code in {200, 404}
    assert api.client.get("/metrics", headers={"X-API-Key": "wrong"}).status_code == 401

    scraper = make_api(anonymous_read=True)  # localhost only: a scraper on this machine
    assert scraper.client.get("/metrics").status_code == 200
    exposed = make_api(anonymous_read=True, bind_host="0.0.0.0")
    assert exposed.client.get("/metrics").status_code == 401


def test_a_database_that_does_not_answer_gives_store_up_0() -> None:
    def broken() -> MetricsSnapshot:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    families = list(StoreCollector(broken).collect())
    assert [(f.name, f.samples[0].value) for f in families] == [("autopack_store_up", 0)]
