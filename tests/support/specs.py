"""Small valid run specs for tests."""

from __future__ import annotations

from autopack.spec.models import RunSpec


def make_spec(run_id: str = "run-1", *, tiers: int = 2, phases_per_tier: int = 2) -> RunSpec:
    """A small valid run spec with a high-risk phase in the last tier."""
    categories = ["feature_scaffolding", "tests", "docs", "schema_contract_change"]
    data = {
        "run_id": run_id,
        "goal": "exercise the store",
        "token_cap": 1_000_000,
        "tiers": [
            {
                "tier_id": f"t{t}",
                "tier_index": t,
                "name": f"Tier {t}",
                "phases": [
                    {
                        "phase_id": f"p{t}-{i}",
                        "phase_index": i,
                        "name": f"phase {t}.{i}",
                        "task_category": categories[(t * phases_per_tier + i) % len(categories)],
                        "complexity": ["low", "medium", "high"][i % 3],
                        "scope": {"paths": ["src/"], "deliverables": ["src/mod.py"]},
                    }
                    for i in range(phases_per_tier)
                ],
            }
            for t in range(tiers)
        ],
    }
    return RunSpec.model_validate(data)
