"""The rewriting machinery shared by the three shapes (see :mod:`autopack.spec._shapes`).

Three shapes are accepted (see ``DOMAIN.md``): *nested* (tiers holding phases), *flat*
(``run``/``tiers``/``phases`` with phases naming their tier by ``tier_id``) and *phases-only*
(one implicit tier). Legacy keys are mapped onto canonical fields, missing indices and ids are
filled in from positions, and every rewrite is recorded in a :class:`LocMap` so that errors
found later are reported where the user wrote the value. Values are never validated here
beyond what the rewrite itself needs; pydantic does that.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from autopack.spec._locate import LocMap, Path, short_repr

_TITLE_MAX = 80


class SpecShape(StrEnum):
    """Which of the accepted input shapes a document used."""

    NESTED = "nested"
    FLAT = "flat"
    PHASES_ONLY = "phases_only"


@dataclass
class Normalised:
    """The canonical document (``None`` when the shape is unusable) and what was found."""

    shape: SpecShape | None
    data: dict[str, Any] | None
    locs: LocMap = field(default_factory=LocMap)
    issues: list[tuple[Path, str, str]] = field(default_factory=list)
    implicit: set[Path] = field(default_factory=set)
    """Canonical paths of indices filled in from positions (named as such in messages)."""
    suppress: set[Path] = field(default_factory=set)
    """Canonical paths whose validation errors only echo an issue already recorded (e.g. a
    tier left without phases because its phase list was not a list)."""


def suggest(word: str, candidates: list[str] | set[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), f"{type(value).__name__} {short_repr(value)}")


def _title(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= _TITLE_MAX else line[: _TITLE_MAX - 3].rstrip() + "..."


def _as_id(value: Any) -> Any:
    # YAML reads `id: 3` as an int; an id is text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Normaliser:
    def __init__(self) -> None:
        self.out = Normalised(shape=None, data=None)

    # -- helpers -------------------------------------------------------------------------

    def issue(self, path: Path, message: str, code: str = "invalid") -> None:
        self.out.issues.append((path, message, code))

    def mapping(self, value: Any, path: Path, what: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.issue(path, f"expected a mapping ({what}), got {_type_name(value)}", "type")
            return None
        clean: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str):
                clean[key] = item
            else:
                self.issue(path, f"keys must be strings, got {short_repr(key)}", "type")
        return clean

    def seq(self, value: Any, path: Path, what: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.issue(path, f"expected a list ({what}), got {_type_name(value)}", "type")
            return None
        return value

    def take(self, src: dict[str, Any], keys: tuple[str, ...], orig: Path) -> tuple[str, Any]:
        """Pop the first of ``keys`` present (canonical first, then aliases).

        Two spellings with different values is an error: which one was meant is a guess.
        """
        present = [k for k in keys if k in src]
        if not present:
            return "", None
        first, value = present[0], src.pop(present[0])
        for other in present[1:]:
            other_value = src.pop(other)
            if other_value != value:
                self.issue(
                    (*orig, other),
                    f"{other!r} and {first!r} are the same field with different values; keep one",
                    "conflict",
                )
        return first, value

    def put(
        self, out: dict[str, Any], canon: Path, name: str, key: str, value: Any, orig: Path
    ) -> None:
        """Set canonical field ``name`` from source ``key``, remembering the rename."""
        out[name] = value
        if key and key != name:
            self.out.locs.add((*canon, name), (*orig, key))

    def text(self, src: dict[str, Any], keys: tuple[str, ...], orig: Path) -> tuple[str, Any]:
        """Join several text fields (e.g. a phase ``goal`` and ``description``) in order."""
        given = [(k, src.pop(k)) for k in keys if k in src]
        given = [(k, v) for k, v in given if v is not None]
        if not given:
            return "", None
        if all(isinstance(v, str) for _, v in given):
            return given[0][0], "\n\n".join(v.strip() for _, v in given if v.strip())
        return next((k, v) for k, v in given if not isinstance(v, str))

    # -- levels --------------------------------------------------------------------------

    def run_fields(self, src: dict[str, Any], orig: Path, out: dict[str, Any]) -> None:
        src = dict(src)
        key, goal = self.text(src, ("goal", "description"), orig)
        if key:
            out["goal"] = goal
            self.out.locs.add(("goal",), (*orig, key))
        if "run_id" in src:
            src["run_id"] = _as_id(src["run_id"])
        for key, value in src.items():
            out[key] = value
            self.out.locs.add((key,), (*orig, key))
        for name in ("run_id", "goal", "token_cap", "max_phases", "safety_profile"):
            if name not in out:
                self.out.locs.add((name,), (*orig, name))

    def phase(
        self, src: dict[str, Any], orig: Path, canon: Path, prev_index: Any, position: int
    ) -> dict[str, Any]:
        self.out.locs.add(canon, orig)
        src = dict(src)
        out: dict[str, Any] = {}
        key, phase_id = self.take(src, ("phase_id", "id"), orig)
        if key:
            self.put(out, canon, "phase_id", key, _as_id(phase_id), orig)
        key, index = self.take(src, ("phase_index",), orig)
        if not key:
            index = prev_index + 1 if _is_int(prev_index) else position
            self.out.implicit.add((*canon, "phase_index"))
            self.out.locs.add((*canon, "phase_index"), orig)
        out["phase_index"] = index
        goal = src.get("goal")
        key, name = self.take(src, ("name", "task_name"), orig)
        if key:
            self.put(out, canon, "name", key, name, orig)
        elif isinstance(goal, str) and goal.strip():
            out["name"] = _title(goal)
        else:
            pid = out.get("phase_id")
            out["name"] = pid if isinstance(pid, str) and pid else f"phase {position}"
        key, description = self.text(src, ("goal", "description"), orig)
        if key:
            self.put(out, canon, "description", key, description, orig)
        if "scope" in src:
            out["scope"] = self.scope(src.pop("scope"), (*orig, "scope"), (*canon, "scope"))
        out.update(src)
        return out

    def scope(self, value: Any, orig: Path, canon: Path) -> Any:
        self.out.locs.add(canon, orig)
        if isinstance(value, list):  # shorthand: a list of writable paths
            self.out.locs.add((*canon, "paths"), orig)
            return {"paths": value}
        if not isinstance(value, dict):
            return value  # pydantic reports the type
        out = dict(value)
        context = out.get("read_only_context")
        if isinstance(context, list):
            items = []
            for i, item in enumerate(context):
                if isinstance(item, str):
                    item = {"path": item}
                    here = (*orig, "read_only_context", i)
                    self.out.locs.add((*canon, "read_only_context", i, "path"), here)
                items.append(item)
            out["read_only_context"] = items
        deliverables = out.get("deliverables")
        if isinstance(deliverables, list | dict):
            out["deliverables"] = self.deliverables(
                deliverables, (*orig, "deliverables"), (*canon, "deliverables")
            )
        return out

    def deliverables(self, value: list[Any] | dict[Any, Any], orig: Path, canon: Path) -> Any:
        items: list[Any] = []
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    self.out.locs.add((*canon, i, "target"), (*orig, i))
                    item = {"target": item}
                items.append(item)
            return items
        for kind, targets in value.items():
            here = (*orig, str(kind))
            entries = [targets] if isinstance(targets, str) else targets
            if not isinstance(entries, list):
                msg = f"expected a string or a list of strings, got {_type_name(targets)}"
                self.issue(here, msg, "type")
                continue
            for j, target in enumerate(entries):
                n = len(items)
                self.out.locs.add((*canon, n), (*here, j))
                self.out.locs.add((*canon, n, "kind"), here)
                items.append({"target": target, "kind": kind})
        return items

    def tier_head(
        self, src: dict[str, Any], orig: Path, canon: Path, prev_index: Any, position: int
    ) -> dict[str, Any]:
        """The tier's own fields (``phases`` is left in ``src`` for the caller)."""
        self.out.locs.add(canon, orig)
        out: dict[str, Any] = {}
        key, tier_id = self.take(src, ("tier_id",), orig)
        if key:
            out["tier_id"] = _as_id(tier_id)
        key, index = self.take(src, ("tier_index",), orig)
        if not key:
            index = prev_index + 1 if _is_int(prev_index) else position
            self.out.implicit.add((*canon, "tier_index"))
            self.out.locs.add((*canon, "tier_index"), orig)
        out["tier_index"] = index
        key, name = self.take(src, ("name", "tier_name"), orig)
        if key:
            self.put(out, canon, "name", key, name, orig)
        return out

    def fill_tier_ids(self, tiers: list[dict[str, Any]]) -> None:
        taken = {t["tier_id"] for t in tiers if isinstance(t.get("tier_id"), str)}
        counter = 0
        for tier in tiers:
            if "tier_id" not in tier:
                while f"tier-{counter}" in taken:
                    counter += 1
                tier["tier_id"] = f"tier-{counter}"
                taken.add(tier["tier_id"])
            if "name" not in tier:
                tier["name"] = tier["tier_id"] if isinstance(tier["tier_id"], str) else "tier"

    def phase_list(self, raw: Any, orig: Path, canon: Path) -> list[dict[str, Any]] | Any:
        phases = self.seq(raw, orig, "phases")
        self.out.locs.add(canon, orig)
        if phases is None:
            self.out.suppress.add(canon)
            return []
        out: list[dict[str, Any]] = []
        prev: Any = -1
        for i, item in enumerate(phases):
            src = self.mapping(item, (*orig, i), "a phase")
            if src is None:
                self.out.suppress.add(canon)
                continue
            phase = self.phase(src, (*orig, i), (*canon, len(out)), prev, len(out))
            prev = phase["phase_index"]
            out.append(phase)
        return out
