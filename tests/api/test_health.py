"""``/health`` is open; ``/ready`` checks the database and its schema revision."""

from __future__ import annotations

from api.api_helpers import ADMIN, Api
from autopack.store.migrate import head_revision


def test_health_is_open_and_says_nothing_else(api: Api) -> None:
    response = api.client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_on_a_migrated_database(api: Api) -> None:
    assert api.client.get("/ready").status_code == 401
    response = api.client.get("/ready", headers=api.key("viewer"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["revision"] == body["head"] == head_revision()


def test_not_ready_while_the_schema_is_behind(make_api) -> None:
    api = make_api(auto_migrate=False)  # an empty database, left as it is
    response = api.client.get("/ready", headers=ADMIN)
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "schema_behind" and "autopack db upgrade" in error["message"]
    assert error["details"] == {"revision": None, "head": head_revision()}
    assert api.client.get("/health").status_code == 200
