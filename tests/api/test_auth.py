"""Authentication and roles: keys hashed, constant-time checks, 401/403/429, anonymous read."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from api.api_helpers import ADMIN, ADMIN_KEY, Api, bearer, fill, plan, routes
from autopack.api import create_app
from autopack.settings import load_settings
from autopack.store.keys import hash_key
from autopack.store.models import ApiKey


def test_every_endpoint_but_health_needs_a_key(api: Api) -> None:
    served = routes()
    assert ("GET", "/health") in served and len(served) >= 14
    for method, template in served:
        response = api.client.request(method, fill(template, "1"))
        if template == "/health":
            assert response.status_code == 200
            continue
        assert response.status_code == 401, (method, template, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    assert api.client.get("/no-such-page").status_code == 404  # unknown paths stay unknown


@pytest.mark.parametrize(
    ("role", "start", "approve", "read"),
    [
        ("viewer", 403, 403, 200),
        ("operator", 422, 403, 200),
        ("approver", 403, 404, 200),
    ],
)
def test_role_boundaries(api: Api, role: str, start: int, approve: int, read: int) -> None:
    """422/404 mean the request got past authorisation (malformed plan, unknown approval)."""
    headers = api.key(role)
    assert api.client.get("/runs", headers=headers).status_code == read
    assert api.client.get("/approval/pending", headers=headers).status_code == read
    started = api.client.post("/runs/start", json={"run_id": "x"}, headers=headers)
    assert started.status_code == start, started.text
    approved = api.client.post("/approval/7/approve", headers=headers)
    assert approved.status_code == approve
    rejected = api.client.post("/approval/7/reject", json={"reason": "no"}, headers=headers)
    assert rejected.status_code == approve
    control = (422 if role == "operator" else 403, 404 if role == "operator" else 403)
    assert api.client.post("/runs/x/cancel", headers=headers).status_code == control[1]
    assert api.client.post("/runs/x/resume", headers=headers).status_code == control[1]
    assert (
        api.client.post(
            "/runs/x/phases/p/update_status", json={"state": "BAD"}, headers=headers
        ).status_code
        == control[0]
    )
    if start == 403:
        body = started.json()["error"]
        assert body["code"] == "forbidden" and body["details"]["role"] == role
        assert api.ctx.store.list_runs() == []


def test_keys_are_stored_hashed_and_work_in_either_header(api: Api) -> None:
    view, secret = api.ctx.store.create_api_key("ci-bot", "viewer")
    assert secret.startswith(f"apk_{view.prefix}_") and len(secret) > 50
    with api.ctx.store.transaction() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.id == view.id)).one()
        assert row.hash == hash_key(secret) and secret not in (row.hash, row.prefix)
    assert api.client.get("/runs", headers={"X-API-Key": secret}).status_code == 200
    assert api.client.get("/runs", headers=bearer(secret)).status_code == 200
    [listed] = [k for k in api.ctx.store.api_keys() if k.id == view.id]
    assert listed.last_used_at is not None
    basic = api.client.get("/runs", headers={"Authorization": f"Basic {secret}"})
    assert basic.status_code == 401


def test_a_revoked_key_is_refused(api: Api) -> None:
    headers = api.key("operator", "soon-gone")
    assert api.client.get("/runs", headers=headers).status_code == 200
    api.ctx.store.revoke_api_key("soon-gone")
    response = api.client.get("/runs", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_repeated_wrong_keys_get_429_for_the_rest_of_the_window(api: Api) -> None:
    good = api.key("viewer")
    forged = "apk_0123456789ab_" + "x" * 43
    for _ in range(10):
        assert api.client.get("/runs", headers=bearer(forged)).status_code == 401
    limited = api.client.get("/runs", headers=bearer(forged))
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "too_many_auth_failures"
    assert int(limited.headers["retry-after"]) >= 1
    assert api.client.get("/runs", headers=good).status_code == 429  # the address is blocked
    assert api.client.get("/health").status_code == 200


def test_the_failure_limit_is_a_setting(make_api) -> None:
    api = make_api(auth_failure_limit="2/minute")
    for expected in (401, 401, 429):
        assert api.client.get("/runs", headers=bearer("wrong")).status_code == expected


def test_the_admin_key_comes_from_a_file_and_placeholders_are_refused(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "api-key"
    secret.write_text(ADMIN_KEY + "\n")
    monkeypatch.setenv("AUTOPACK_API_KEY_FILE", str(secret))
    settings = load_settings(workspace=project, skip_ci=True)
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == ADMIN_KEY
    create_app(settings)  # accepted
    for weak in ("changeme", "short-key"):
        with pytest.raises(ValueError, match="AUTOPACK_API_KEY"):
            create_app(load_settings(workspace=project, api_key=weak))
    with pytest.raises(ValueError, match="AUTOPACK_AUTH_FAILURE_LIMIT"):
        create_app(load_settings(workspace=project, auth_failure_limit="often"))


def test_anonymous_read_only_on_localhost_with_the_opt_in(make_api) -> None:
    local = make_api(anonymous_read=True, bind_host="127.0.0.1")
    local.create_run("calc-run")
    assert local.client.get("/runs").status_code == 200
    assert local.client.get("/runs/calc-run/progress").status_code == 200
    assert local.client.get("/openapi.json").status_code == 200
    refused = local.client.post("/runs/start", json=plan("other"))
    assert refused.status_code == 401 and "run_control" in refused.json()["error"]["message"]
    assert local.client.post("/runs/calc-run/cancel").status_code == 401
    assert local.client.get("/runs", headers=bearer("wrong")).status_code == 401
    assert local.client.get("/runs", headers=ADMIN).status_code == 200

    ipv6 = make_api(anonymous_read=True, bind_host="::1")
    assert ipv6.client.get("/runs").status_code == 200
    for api in (make_api(anonymous_read=True, bind_host="0.0.0.0"), make_api(bind_host="::1")):
        assert api.client.get("/runs").status_code == 401
