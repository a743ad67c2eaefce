"""Issue tracking over HTTP: record an issue in a phase, a run's index, the project backlog
(paged, filtered by status), one backlog issue, the backlog summary; roles, 404s and 422s."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from api.api_helpers import ADMIN, Api

RUN = "calc-run"  # tiers core (mul-default, readme) and api (div)
KEY = "lint:unused-import:src/calc.py"
READS = (
    f"/runs/{RUN}/issues/index",
    "/project/issues/backlog",
    f"/project/issues/{KEY}",
    "/reports/issue_backlog_summary",
)


def issue(**overrides: Any) -> dict[str, Any]:
    """A valid record_issue body."""
    return {
        "issue_key": KEY,
        "severity": "minor",
        "category": "lint",
        "title": "unused import os",
        "evidence": "calc.py:1:1: F401 'os' imported but unused",
        "file": "calc.py",
        **overrides,
    }


def record(
    api: Api, body: dict[str, Any], *, run: str = RUN, phase: str = "mul-default", headers=ADMIN
) -> Any:
    return api.client.post(f"/runs/{run}/phases/{phase}/record_issue", json=body, headers=headers)


def recorded(api: Api, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    response = record(api, body, **kw)
    assert response.status_code == 201, response.text
    return response.json()


def get(api: Api, url: str, status: int = 200) -> Any:
    response = api.client.get(url, headers=ADMIN)
    assert response.status_code == status, (url, response.text)
    return response.json()


def test_a_recorded_issue_is_stored_in_the_phase_the_run_index_and_the_backlog(api: Api) -> None:
    api.create_run(RUN)
    first = recorded(api, issue())
    assert first["run_id"] == RUN and first["phase_id"] == "mul-default"
    assert first["tier_id"] == "core" and first["issue_key"] == KEY
    assert (first["severity"], first["category"], first["source"]) == ("minor", "lint", "api")
    assert first["evidence"].startswith("calc.py:1:1: F401") and first["file"] == "calc.py"
    assert first["occurrences"] == 1

    again = recorded(api, issue(source="ci"))
    assert again["occurrences"] == 2 and again["first_seen"] == first["first_seen"]
    recorded(api, issue(), phase="div")

    index = get(api, f"/runs/{RUN}/issues/index")
    assert index["run_id"] == RUN
    [entry] = index["items"]
    assert entry["issue_key"] == KEY and entry["occurrences"] == 3
    assert sorted(entry["phases"]) == ["div", "mul-default"]
    assert sorted(entry["tiers"]) == ["api", "core"]
    assert set(entry["sources"]) >= {"api", "ci"}
    assert entry["backlog_status"] in {"open", "needs_cleanup"}

    backlog = get(api, "/project/issues/backlog")
    [listed] = backlog["items"]
    assert listed["issue_key"] == KEY and listed["last_run_id"] == RUN
    assert listed["age_in_runs"] == 1 and listed["resolved_at"] is None
    assert backlog["next_offset"] is None and backlog["status"] is None

    detail = get(api, f"/project/issues/{KEY}")
    assert detail["issue"] == listed
    assert sorted(o["phase_id"] for o in detail["occurrences"]) == ["div", "mul-default"]

    summary = get(api, "/reports/issue_backlog_summary")
    assert summary["total"] == 1 and summary["occurrences"] == 3
    assert summary["by_severity"] == {"minor": 1} and summary["by_category"] == {"lint": 1}
    assert sum(summary["by_status"].values()) == 1


def test_a_minor_issue_seen_in_three_runs_needs_cleanup(api: Api) -> None:
    for n in range(3):
        api.create_run(f"run-{n}")
        recorded(api, issue(), run=f"run-{n}")
    major = recorded(
        api, issue(issue_key="sec:eval", severity="major", category="security"), run="run-2"
    )
    assert major["severity"] == "major"  # run-2 has both; a major issue never "needs cleanup"

    [cleanup] = get(api, "/project/issues/backlog?status=needs_cleanup")["items"]
    assert cleanup["issue_key"] == KEY and cleanup["status"] == "needs_cleanup"
    assert cleanup["age_in_runs"] == 3 and cleanup["last_run_id"] == "run-2"
    [open_] = get(api, "/project/issues/backlog?status=open")["items"]
    assert open_["issue_key"] == "sec:eval"
    assert {i["issue_key"] for i in get(api, "/project/issues/backlog")["items"]} == {
        KEY,
        "sec:eval",
    }
    assert len(get(api, "/project/issues/backlog?status=all")["items"]) == 2
    assert get(api, "/project/issues/backlog?status=resolved")["items"] == []
    summary = get(api, "/reports/issue_backlog_summary")
    assert summary["needs_cleanup"] == 1 and summary["oldest_open_age_in_runs"] >= 1
    assert summary["by_status"].get("needs_cleanup") == 1
    index = get(api, "/runs/run-2/issues/index")["items"]
    assert {i["issue_key"]: i["backlog_status"] for i in index}[KEY] == "needs_cleanup"


def test_the_backlog_pages(api: Api) -> None:
    api.create_run(RUN)
    keys = {f"style:rule-{n}" for n in range(7)}
    for key in sorted(keys):
        recorded(api, issue(issue_key=key))
    seen: list[str] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        page = get(api, f"/project/issues/backlog?limit=3&offset={offset}")
        assert page["limit"] == 3 and page["offset"] == offset and len(page["items"]) <= 3
        seen += [i["issue_key"] for i in page["items"]]
        offset, pages = page["next_offset"], pages + 1
    assert pages == 3 and sorted(seen) == sorted(keys)  # every issue once, none twice
    assert get(api, "/project/issues/backlog?limit=3&offset=100")["items"] == []
    exact = get(api, "/project/issues/backlog?limit=7")
    assert len(exact["items"]) == 7 and exact["next_offset"] is None


def test_keys_with_slashes_and_colons_and_title_given_as_description(api: Api) -> None:
    api.create_run(RUN)
    key = "checks:tests/test_calc.py::test_div:zero"
    body = issue(issue_key=key)
    body["description"] = body.pop("title")
    assert recorded(api, body)["title"] == "unused import os"
    assert get(api, f"/project/issues/{key}")["issue"]["issue_key"] == key
    encoded = key.replace("/", "%2F").replace(":", "%3A")
    assert get(api, f"/project/issues/{encoded}")["issue"]["issue_key"] == key
    derived = recorded(api, issue(issue_key=None))  # the store derives a key
    assert derived["issue_key"]
    found = get(api, f"/project/issues/{quote(derived['issue_key'], safe='')}")
    assert found["issue"]["title"] == derived["title"]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"severity": "critical"}, "body.severity"),
        ({"severity": None}, "body.severity"),
        ({"category": ""}, "body.category"),
        ({"title": ""}, "body.title"),
        ({"evidence": "nul \x00 byte"}, "body.evidence"),
        ({"issue_key": "a\nb"}, "body.issue_key"),
        ({"issue_key": "k" * 256}, "body.issue_key"),
        ({"file": 7}, "body.file"),
        ({"source": "s" * 33}, "body.source"),
        ({"category": "c" * 65}, "body.category"),
        ({"colour": "red"}, "body.colour"),
        ({"description": "and a description"}, "body.description"),  # with a title: one only
    ],
)
def test_invalid_bodies_get_422_naming_the_field(api: Api, change: dict, loc: str) -> None:
    api.create_run(RUN)
    response = record(api, issue(**change))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [i["loc"] for i in error["details"]["issues"]] == [loc]
    assert get(api, "/project/issues/backlog")["items"] == []


def test_missing_fields_and_bad_queries_get_422(api: Api) -> None:
    api.create_run(RUN)
    body = issue()
    del body["title"], body["category"]
    response = record(api, body)
    assert response.status_code == 422
    locs = {i["loc"] for i in response.json()["error"]["details"]["issues"]}
    assert locs == {"body.title", "body.category"}
    for query, loc in (
        ("status=closed", "query.status"),
        ("limit=0", "query.limit"),
        ("limit=501", "query.limit"),
        ("offset=-1", "query.offset"),
    ):
        error = get(api, f"/project/issues/backlog?{query}", 422)["error"]
        assert error["details"]["issues"][0]["loc"] == loc, query


def test_unknown_runs_phases_and_keys_get_404(api: Api) -> None:
    api.create_run(RUN)
    for run, phase in (("nope", "mul-default"), (RUN, "nope")):
        response = record(api, issue(), run=run, phase=phase)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
        assert "nope" in response.json()["error"]["message"]
    assert get(api, "/runs/nope/issues/index", 404)["error"]["code"] == "not_found"
    assert get(api, f"/project/issues/{KEY}", 404)["error"]["code"] == "not_found"
    assert get(api, f"/runs/{RUN}/issues/index")["items"] == []  # known run, no issue
    assert get(api, "/reports/issue_backlog_summary")["total"] == 0


def test_role_boundaries(api: Api) -> None:
    api.create_run(RUN)
    for url in READS:
        assert api.client.get(url).status_code == 401, url
    unauthorised = api.client.post(f"/runs/{RUN}/phases/div/record_issue", json=issue())
    assert unauthorised.status_code == 401
    assert unauthorised.json()["error"]["code"] == "unauthorized"

    for role in ("viewer", "approver"):
        refused = record(api, issue(), headers=api.key(role))
        assert refused.status_code == 403, (role, refused.text)
        assert refused.json()["error"]["details"]["role"] == role
    assert get(api, "/project/issues/backlog")["items"] == []  # nothing was recorded

    for n, role in enumerate(("operator", "builder")):
        made = record(api, issue(title=f"by {role}"), headers=api.key(role))
        assert made.status_code == 201, (role, made.text)
        assert made.json()["occurrences"] == n + 1
    viewer = api.key("viewer")
    for url in READS:
        assert api.client.get(url, headers=viewer).status_code == 200, url


def test_the_openapi_document_describes_the_endpoints(api: Api) -> None:
    doc = get(api, "/openapi.json")
    paths = doc["paths"]
    post = paths["/runs/{run_id}/phases/{phase_id}/record_issue"]["post"]
    assert "201" in post["responses"] and "404" in post["responses"]
    body = doc["components"]["schemas"]["IssueRecord"]
    assert set(body["required"]) == {"severity", "category", "title"}
    assert body["properties"]["severity"]["enum"] == ["minor", "major"]
    assert "/project/issues/{issue_key}" in paths  # the :path converter is not in the doc
    for path, schema in (
        ("/runs/{run_id}/issues/index", "RunIssueIndex"),
        ("/project/issues/backlog", "BacklogPage"),
        ("/project/issues/{issue_key}", "BacklogIssueDetailOut"),
        ("/reports/issue_backlog_summary", "IssueBacklogSummaryOut"),
    ):
        ok = paths[path]["get"]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"]["$ref"].endswith(f"/{schema}"), path
    backlog = doc["components"]["schemas"]["BacklogIssueOut"]["properties"]
    assert {"age_in_runs", "age_in_tiers", "status"} <= set(backlog)


def test_a_secret_in_a_recorded_issue_is_stored_redacted(api: Api) -> None:
    from api.api_helpers import ADMIN_KEY

    api.create_run(RUN)
    body = issue(title=f"token {ADMIN_KEY} leaked", evidence=f"env: AUTOPACK_API_KEY={ADMIN_KEY}")
    stored = recorded(api, body)
    assert ADMIN_KEY not in stored["title"] and ADMIN_KEY not in stored["evidence"]
    detail = get(api, f"/project/issues/{KEY}")
    assert ADMIN_KEY not in str(detail)
