"""Recognise a plan's shape and rewrite it into the canonical nested document.

* **nested** — ``{run_id, goal, ..., tiers: [{tier_index, tier_name|name, phases: [...]}]}``
* **flat** — ``{run: {...}, tiers: [{tier_id, ...}], phases: [{tier_id, ...}]}`` (the run's
  fields may also sit at the top level when there is no ``run`` key)
* **phases only** — ``{run_id, goal|description, phases: [...]}``, one implicit tier

The shape is decided by the top-level keys alone (:func:`detect_shape`).
"""

from __future__ import annotations

from typing import Any

from autopack.spec._locate import Path
from autopack.spec._normaliser import Normalised, Normaliser, SpecShape, suggest
from autopack.spec.models import RunSpec

IMPLICIT_TIER_ID = "main"
_SHAPE_KEYS = ["tiers", "phases", "run"]
_FLAT_TOP = {"run", "tiers", "phases"}


def detect_shape(doc: dict[str, Any]) -> SpecShape | None:
    """Decide the shape by its top-level keys."""
    if "run" in doc or ("tiers" in doc and "phases" in doc):
        return SpecShape.FLAT
    if "tiers" in doc:
        return SpecShape.NESTED
    if "phases" in doc:
        return SpecShape.PHASES_ONLY
    return None


def normalise(doc: Any) -> Normalised:
    """Rewrite ``doc`` (parsed JSON/YAML) into the canonical nested document."""
    norm = Normaliser()
    res = norm.out
    if doc is None:
        norm.issue((), "the document is empty", "empty")
        return res
    if isinstance(doc, list):
        hint = " (a bare list of phases? put it under 'phases' next to a 'run_id')"
        norm.issue((), f"expected a mapping at the top level, got a list{hint}", "type")
        return res
    top = norm.mapping(doc, (), "the run")
    if top is None:
        return res
    res.shape = detect_shape(top)
    if res.shape is None:
        found = ", ".join(sorted(top)) or "none"
        hints = (suggest(k, _SHAPE_KEYS) for k in top if k not in RunSpec.model_fields)
        hint = next((h for h in hints if h), "")
        norm.issue(
            (),
            "cannot tell the plan's shape: expected 'tiers' (nested), 'run' + 'tiers' + "
            f"'phases' (flat) or 'phases' (phases only); found keys: {found}{hint}",
            "shape",
        )
        return res
    if res.shape is SpecShape.FLAT:
        res.data = _flat(norm, top)
    elif res.shape is SpecShape.NESTED:
        res.data = _nested(norm, top)
    else:
        res.data = _phases_only(norm, top)
    return res


def _nested(norm: Normaliser, top: dict[str, Any]) -> dict[str, Any]:
    top = dict(top)
    raw_tiers = top.pop("tiers")
    out: dict[str, Any] = {}
    norm.run_fields(top, (), out)
    tiers_raw = norm.seq(raw_tiers, ("tiers",), "tiers")
    if tiers_raw is None:
        norm.out.suppress.add(("tiers",))
        return out  # the run cannot be built; the issue is already recorded
    tiers: list[dict[str, Any]] = []
    prev: Any = -1
    for i, item in enumerate(tiers_raw):
        src = norm.mapping(item, ("tiers", i), "a tier")
        if src is None:
            norm.out.suppress.add(("tiers",))
            continue
        canon: Path = ("tiers", len(tiers))
        tier = norm.tier_head(src, ("tiers", i), canon, prev, len(tiers))
        prev = tier["tier_index"]
        if "phases" in src:
            orig_phases: Path = ("tiers", i, "phases")
            tier["phases"] = norm.phase_list(src.pop("phases"), orig_phases, (*canon, "phases"))
        tier.update(src)
        tiers.append(tier)
    norm.fill_tier_ids(tiers)
    out["tiers"] = tiers
    return out


def _phases_only(norm: Normaliser, top: dict[str, Any]) -> dict[str, Any]:
    top = dict(top)
    raw_phases = top.pop("phases")
    out: dict[str, Any] = {}
    norm.run_fields(top, (), out)
    norm.out.locs.add(("tiers",), ("phases",))
    norm.out.locs.add(("tiers", 0), ())
    phases = norm.phase_list(raw_phases, ("phases",), ("tiers", 0, "phases"))
    tier = {"tier_id": IMPLICIT_TIER_ID, "tier_index": 0, "name": IMPLICIT_TIER_ID}
    out["tiers"] = [{**tier, "phases": phases}]
    return out


def _flat(norm: Normaliser, top: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "run" in top:
        run = norm.mapping(top["run"], ("run",), "the run's fields")
        norm.run_fields(run or {}, ("run",), out)
        for key in top:
            if key not in _FLAT_TOP:
                where = " (run fields belong inside 'run')" if key in RunSpec.model_fields else ""
                msg = f"unknown field {key!r}{where or suggest(key, _FLAT_TOP)}"
                norm.issue((key,), msg, "unknown_field")
    else:
        norm.run_fields({k: v for k, v in top.items() if k not in _FLAT_TOP}, (), out)
    tiers = _flat_tiers(norm, top.get("tiers", []))
    by_id = {t["tier_id"]: n for n, t in enumerate(tiers) if isinstance(t.get("tier_id"), str)}
    norm.out.locs.add(("tiers",), ("tiers",))
    if "phases" not in top:
        norm.issue(("phases",), "required field is missing", "missing")
    raw_phases = norm.seq(top.get("phases", []), ("phases",), "phases")
    implicit = not tiers
    if implicit:
        implicit_tier = {"tier_id": IMPLICIT_TIER_ID, "tier_index": 0, "name": IMPLICIT_TIER_ID}
        tiers.append({**implicit_tier, "phases": []})
        norm.out.locs.add(("tiers", 0), ())
        norm.out.locs.add(("tiers", 0, "phases"), ("phases",))
    if raw_phases is None or "phases" not in top:
        norm.out.suppress.update(("tiers", n, "phases") for n in range(len(tiers)))
    prev: dict[int, Any] = {}
    for i, item in enumerate(raw_phases or []):
        orig: Path = ("phases", i)
        src = norm.mapping(item, orig, "a phase")
        n = None
        if src is not None:
            src = dict(src)
            n = _tier_of(norm, src.pop("tier_id", None), orig, tiers, by_id, implicit)
        if src is None or n is None:
            # the phase's tier may now look empty: that is not a separate problem
            norm.out.suppress.update(("tiers", n, "phases") for n in range(len(tiers)))
            continue
        phases = tiers[n]["phases"]
        canon: Path = ("tiers", n, "phases", len(phases))
        phase = norm.phase(src, orig, canon, prev.get(n, -1), len(phases))
        prev[n] = phase["phase_index"]
        phases.append(phase)
    out["tiers"] = tiers
    return out


def _flat_tiers(norm: Normaliser, raw: Any) -> list[dict[str, Any]]:
    items = norm.seq(raw, ("tiers",), "tiers")
    tiers: list[dict[str, Any]] = []
    prev: Any = -1
    for i, item in enumerate(items or []):
        src = norm.mapping(item, ("tiers", i), "a tier")
        if src is None:
            norm.out.suppress.add(("tiers",))
            continue
        src = dict(src)
        canon: Path = ("tiers", len(tiers))
        tier = norm.tier_head(src, ("tiers", i), canon, prev, len(tiers))
        prev = tier["tier_index"]
        if "phases" in src:
            src.pop("phases")
            norm.issue(
                ("tiers", i, "phases"),
                "this plan has top-level 'phases', so it is read as the flat shape, where "
                "each phase names its tier with 'tier_id'; phases inside a tier are not allowed",
                "shape",
            )
        tier.update(src)
        tier["phases"] = []
        norm.out.locs.add((*canon, "phases"), ("tiers", i))
        tiers.append(tier)
    norm.fill_tier_ids(tiers)
    return tiers


def _tier_of(
    norm: Normaliser,
    tier_id: Any,
    orig: Path,
    tiers: list[dict[str, Any]],
    by_id: dict[str, int],
    implicit: bool,
) -> int | None:
    """The position of the tier a flat phase belongs to, or ``None`` after an issue."""
    if tier_id is None:
        if len(tiers) == 1:
            return 0
        known = ", ".join(by_id)
        norm.issue(orig, f"missing 'tier_id': the plan has several tiers ({known})", "missing")
        return None
    if implicit:
        msg = f"tier_id {tier_id!r} names no tier: the plan declares no 'tiers'"
        norm.issue((*orig, "tier_id"), msg, "unknown_tier")
        return None
    key = str(tier_id) if isinstance(tier_id, int) and not isinstance(tier_id, bool) else tier_id
    if isinstance(key, str) and key in by_id:
        return by_id[key]
    known = ", ".join(by_id) or "none"
    hint = suggest(key, list(by_id)) if isinstance(key, str) else ""
    norm.issue(
        (*orig, "tier_id"),
        f"{tier_id!r} names no tier; known tiers: {known}{hint}",
        "unknown_tier",
    )
    return None
