"""Learned rules on disk: ``<data_dir>/learned_rules.yaml`` and the observations behind them.

The rules file is the user's as much as Autopack's: ``autopack rules list|approve|drop``
reads and changes it, and a person may edit it by hand (``scope``, ``category``,
``constraint``, ``status``, ``pinned``; whole rules may be added or deleted). So every change
Autopack makes is a read-modify-write under a lock (:func:`update_rules`): the file is read
again, only the rules (and fields) the change concerns are replaced, and the result is written
atomically (temp file + rename). A crash leaves the old file or the new one; a hand edit made
before the update is kept. A malformed file is never overwritten: :class:`RulesFileError`
names the field (``rules[1].status: ...``) and the file stays as it is. Comments written by
hand are not kept (PyYAML does not round-trip them); the file's own header is rewritten.

A dropped rule stays in the file with status ``dropped`` (so the same observations do not
propose it again); ``rules list`` hides dropped and retired rules unless ``--all``.

Observations (``<data_dir>/rule_observations.jsonl``) are append-only, one JSON object a
line, each written with one ``write`` + ``fsync``. A line cut short by a crash (the last line,
without its newline) is ignored, and the next append starts on a fresh line; any other bad
line is an error naming its line number. See :mod:`autopack.memory.rule_learning` for what an
observation and a rule mean.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from autopack.memory.yaml_io import (
    atomic_write_text,
    describe_validation_error,
    file_lock,
    read_yaml_mapping,
)

__all__ = [
    "OBSERVATIONS_FILE",
    "RULES_FILE",
    "LearnedRule",
    "Observation",
    "RuleSet",
    "RuleStatus",
    "RulesFileError",
    "UnknownRuleError",
    "append_observation",
    "approve_rule",
    "drop_rule",
    "dump_rules",
    "load_observations",
    "load_rules",
    "observations_path",
    "rules_path",
    "save_rules",
    "update_rules",
]

RULES_FILE = "learned_rules.yaml"
OBSERVATIONS_FILE = "rule_observations.jsonl"

_HEADER = """\
# Learned rules (autopack rules list | approve ID | drop ID).
# Proposed when a failure was fixed the same way in two or more phases; injected into the
# Builder's and the Doctor's prompts for phases whose scope and category match.
# You may edit scope (a glob), category ("*" = any), constraint, status
# (candidate | active | retired | dropped) and pinned (true: never demoted automatically).
"""


class RulesFileError(Exception):
    """The rules or observations file cannot be read or is malformed (names the field)."""

    code = "rules_file_invalid"


class UnknownRuleError(RulesFileError):
    """No rule has the given id."""

    code = "rule_not_found"


class RuleStatus(StrEnum):
    """A rule's life: proposed, trusted, given up by Autopack, or given up by a person."""

    CANDIDATE = "candidate"
    ACTIVE = "active"
    RETIRED = "retired"
    DROPPED = "dropped"

    @property
    def injected(self) -> bool:
        """Whether rules in this state go into prompts."""
        return self in (RuleStatus.CANDIDATE, RuleStatus.ACTIVE)


class LearnedRule(BaseModel):
    """One rule as stored in ``learned_rules.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    status: RuleStatus = RuleStatus.CANDIDATE
    pinned: bool = Field(default=False, description="Approved by a person: never demoted.")
    scope: str = Field(default="**", min_length=1, description="Glob over phase scope paths.")
    category: str = Field(default="*", min_length=1, description="task_category, or '*'.")
    constraint: str = Field(min_length=1, description="The instruction given to the Builder.")
    failure: str = Field(default="", description="The failure signature the rule prevents.")
    fix: str = Field(default="", description="The fix signature it was learned from.")
    phases: list[str] = Field(default_factory=list, description="Phases it was learned from.")
    helped: int = Field(default=0, ge=0)
    missed: int = Field(default=0, ge=0)

    @field_validator("scope", "category", "constraint", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class RuleSet(BaseModel):
    """The whole file: a version and the rules, in file order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    rules: tuple[LearnedRule, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            if rule.id in seen:
                raise ValueError(f"rules[{i}].id: duplicate id {rule.id!r}")
            seen.add(rule.id)
        return self

    def get(self, rule_id: str) -> LearnedRule | None:
        """The rule with this id, if any."""
        return next((r for r in self.rules if r.id == rule_id), None)

    def replace(self, rule: LearnedRule) -> RuleSet:
        """This set with ``rule`` replacing the rule of the same id (appended when new)."""
        if self.get(rule.id) is None:
            return self.model_copy(update={"rules": (*self.rules, rule)})
        rules = tuple(rule if r.id == rule.id else r for r in self.rules)
        return self.model_copy(update={"rules": rules})


class Observation(BaseModel):
    """A phase whose failure was fixed by the hints its successful attempt had."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str
    phase_id: str
    category: str
    scope: tuple[str, ...] = ()
    failure: str = Field(min_length=1, description="Failure signature of the last failure.")
    fix: str = Field(min_length=1, description="Fix signature of the successful attempt.")
    fix_text: str = Field(min_length=1, description="The hints themselves (redacted).")


def rules_path(data_dir: Path) -> Path:
    """``<data_dir>/learned_rules.yaml``."""
    return data_dir / RULES_FILE


def observations_path(data_dir: Path) -> Path:
    """``<data_dir>/rule_observations.jsonl``."""
    return data_dir / OBSERVATIONS_FILE


def load_rules(path: Path) -> RuleSet:
    """The rules in ``path`` (none when it does not exist); :class:`RulesFileError` if bad."""
    if not path.exists():
        return RuleSet()
    try:
        data = read_yaml_mapping(path)
    except (OSError, ValueError) as exc:
        raise RulesFileError(f"{path}: {exc}") from exc
    if data.get("rules") is None:
        data = {**data, "rules": []}
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        raise RulesFileError(f"{path}:\n{describe_validation_error(exc)}") from exc


def dump_rules(rules: RuleSet) -> str:
    """The file's text: the header comment, then the rules in order."""
    data = rules.model_dump(mode="json")
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return _HEADER + body


def save_rules(path: Path, rules: RuleSet) -> None:
    """Write the whole file atomically (prefer :func:`update_rules` for changes)."""
    atomic_write_text(path, dump_rules(rules))


def update_rules(path: Path, change: Callable[[RuleSet], RuleSet]) -> RuleSet:
    """Read the file again, apply ``change``, write it (atomically) only if it changed.

    Holding the lock for the whole cycle means a concurrent update (another phase, another
    worker, a CLI command) is never lost; reading right before changing keeps hand edits.
    """
    with file_lock(path):
        before = load_rules(path)
        after = change(before)
        if after != before:
            save_rules(path, after)
        return after


def approve_rule(path: Path, rule_id: str) -> LearnedRule:
    """A person's approval: the rule becomes active and pinned (never demoted automatically)."""
    return _set(path, rule_id, status=RuleStatus.ACTIVE, pinned=True)


def drop_rule(path: Path, rule_id: str) -> LearnedRule:
    """A person's veto: the rule is no longer injected, nor proposed again."""
    return _set(path, rule_id, status=RuleStatus.DROPPED, pinned=False)


def _set(path: Path, rule_id: str, **changes: object) -> LearnedRule:
    def change(rules: RuleSet) -> RuleSet:
        rule = rules.get(rule_id)
        if rule is None:
            known = ", ".join(r.id for r in rules.rules) or "none"
            raise UnknownRuleError(f"no rule {rule_id!r} in {path} (rules: {known})")
        return rules.replace(rule.model_copy(update=changes))

    found = update_rules(path, change).get(rule_id)
    assert found is not None  # change() raised otherwise
    return found


def append_observation(path: Path, observation: Observation) -> None:
    """Append one observation as a line (see the module docstring for crash safety)."""
    line = observation.model_dump_json() + "\n"
    with file_lock(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+b") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    line = "\n" + line  # the last append was cut short by a crash
            handle.seek(0, os.SEEK_END)
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())


def load_observations(path: Path) -> list[Observation]:
    """Every observation in file order; a torn last line is skipped (see the docstring)."""
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise RulesFileError(f"{path}: cannot read: {exc.strerror}") from exc
    lines = text.split("\n")
    torn = lines.pop()  # "" when the file ends with a newline; otherwise a cut-short line
    out: list[Observation] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(Observation.model_validate_json(line))
        except ValidationError as exc:
            detail = describe_validation_error(exc).replace("\n", "; ")
            raise RulesFileError(f"{path}: line {number}: {detail}") from exc
    del torn  # every append ends with a newline: a line without one was cut short
    return out
