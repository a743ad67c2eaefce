"""Helpers of the external builder/auditor tests: the plan, starting, claiming, submitting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.api_helpers import Api, plan

RUN = "ext-run"
OUT_OF_SCOPE = "README.md\n```\n# hijacked\n```\n"


def ext_plan(run_id: str = RUN, **modes: str) -> dict[str, Any]:
    """The core tier of the engine tests' plan; ``mul-default`` with ``modes`` set."""
    data = plan(run_id)
    data["tiers"] = data["tiers"][:1]
    data["tiers"][0]["phases"][0].update(modes or {"builder_mode": "external"})
    return data


def start(api: Api, data: dict[str, Any]) -> dict[str, Any]:
    started = api.client.post("/runs/start", json=data, headers=api.key("operator"))
    assert started.status_code == 202, started.text
    return api.wait_for(data["run_id"], {"GATE"})


def phase_of(progress: dict[str, Any], phase_id: str) -> dict[str, Any]:
    return next(p for t in progress["tiers"] for p in t["phases"] if p["phase_id"] == phase_id)


def claim(api: Api, headers: dict[str, str], run_id: str = RUN, **body: Any) -> dict[str, Any]:
    response = api.client.post(f"/runs/{run_id}/phases/next", json=body or None, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def submit(
    api: Api, token: str, answer: str, headers: dict[str, str], phase: str = "mul-default"
) -> Any:
    return api.client.post(
        f"/runs/{RUN}/phases/{phase}/builder_result",
        json={"token": token, "answer": answer},
        headers=headers,
    )


def worktree(api: Api, run_id: str = RUN) -> Path:
    return api.ctx.settings.data_dir / "worktrees" / run_id
