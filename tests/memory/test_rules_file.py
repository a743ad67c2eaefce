"""learned_rules.yaml and rule_observations.jsonl: round trips, hand edits, crashes, errors."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import yaml

from autopack.memory.rules import (
    LearnedRule,
    Observation,
    RuleSet,
    RulesFileError,
    RuleStatus,
    UnknownRuleError,
    append_observation,
    approve_rule,
    drop_rule,
    load_observations,
    load_rules,
    save_rules,
    update_rules,
)


def _rule(rule_id: str = "r-1", **kw) -> LearnedRule:
    return LearnedRule(id=rule_id, constraint=f"rule {rule_id}", failure="ci_fail: X", **kw)


def _obs(phase: str) -> Observation:
    return Observation(
        run_id="r", phase_id=phase, category="c", failure="ci_fail: X", fix="fx-1", fix_text="t"
    )


def test_missing_file_is_an_empty_rule_set(tmp_path: Path) -> None:
    assert load_rules(tmp_path / "learned_rules.yaml") == RuleSet()


def test_round_trip_keeps_every_field_and_the_order(tmp_path: Path) -> None:
    path = tmp_path / "learned_rules.yaml"
    rules = RuleSet(
        rules=(
            _rule("r-b", scope="pkg/**/*.py", phases=["a", "b"], helped=2),
            _rule("r-a", status=RuleStatus.ACTIVE, pinned=True, category="docs", missed=1),
        )
    )
    save_rules(path, rules)
    text = path.read_text()
    assert text.startswith("# Learned rules")
    assert load_rules(path) == rules
    assert yaml.safe_load(text)["rules"][0]["id"] == "r-b"


def test_hand_edits_survive_an_update(tmp_path: Path) -> None:
    path = tmp_path / "learned_rules.yaml"
    save_rules(path, RuleSet(rules=(_rule("r-1"), _rule("r-2"))))
    data = yaml.safe_load(path.read_text())
    data["rules"][0]["constraint"] = "My own wording."
    data["rules"][0]["scope"] = "src/**"
    data["rules"][1]["status"] = "dropped"
    data["rules"].append({"id": "mine", "constraint": "Written by hand.", "category": "docs"})
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    def bump(rules: RuleSet) -> RuleSet:  # what the learner does after a phase
        rule = rules.get("r-1")
        assert rule is not None
        return rules.replace(rule.model_copy(update={"helped": rule.helped + 1}))

    update_rules(path, bump)
    after = load_rules(path)
    assert [r.id for r in after.rules] == ["r-1", "r-2", "mine"]
    first = after.rules[0]
    assert (first.constraint, first.scope, first.helped) == ("My own wording.", "src/**", 1)
    assert after.rules[1].status is RuleStatus.DROPPED
    assert after.rules[2].constraint == "Written by hand."


def test_an_update_that_changes_nothing_does_not_write(tmp_path: Path) -> None:
    path = tmp_path / "learned_rules.yaml"
    update_rules(path, lambda rules: rules)
    assert not path.exists()  # no rules, no file: prompts stay as they were
    path.write_text("# my notes\nrules: []\n")
    update_rules(path, lambda rules: rules)
    assert path.read_text() == "# my notes\nrules: []\n"


def test_a_crash_while_writing_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "learned_rules.yaml"
    save_rules(path, RuleSet(rules=(_rule("r-1"),)))
    before = path.read_text()

    def crash(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", crash)  # the disk fails before the rename
    with pytest.raises(OSError):
        update_rules(path, lambda rules: rules.replace(_rule("r-2")))
    monkeypatch.undo()
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "learned_rules.yaml",
        "learned_rules.yaml.lock",
    ]


def test_concurrent_updates_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "learned_rules.yaml"
    save_rules(path, RuleSet(rules=(_rule("r-1"),)))

    def bump() -> None:
        for _ in range(10):
            update_rules(
                path,
                lambda rules: rules.replace(
                    rules.rules[0].model_copy(update={"helped": rules.rules[0].helped + 1})
                ),
            )

    threads = [threading.Thread(target=bump) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert load_rules(path).rules[0].helped == 60


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules:\n  - id: r-1\n    status: maybe\n    constraint: x\n", "rules[0].status"),
        ("rules:\n  - id: r-1\n    constraint: x\n    colour: red\n", "rules[0].colour"),
        ("rules:\n  - id: r-1\n    constraint: ''\n", "rules[0].constraint"),
        ("rules:\n  - id: r-1\n    constraint: x\n    helped: -1\n", "rules[0].helped"),
        ("rules:\n  - {id: a, constraint: x}\n  - {id: a, constraint: y}\n", "rules[1].id"),
        ("rules:\n  - id: r-1\n    constraint: [unclosed\n", "line 4, column 1: not valid YAML"),
        ("- just a list\n", "must be a mapping"),
        ("version: 2\nrules: []\n", "version"),
    ],
)
def test_malformed_files_name_the_field_and_are_never_overwritten(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "learned_rules.yaml"
    path.write_text(text)
    with pytest.raises(RulesFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_rules(path)
    with pytest.raises(RulesFileError):
        update_rules(path, lambda rules: rules.replace(_rule("r-9")))
    assert path.read_text() == text


def test_approve_pins_and_drop_keeps_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "learned_rules.yaml"
    save_rules(path, RuleSet(rules=(_rule("r-1"), _rule("r-2", status=RuleStatus.ACTIVE))))
    approved = approve_rule(path, "r-1")
    assert (approved.status, approved.pinned) == (RuleStatus.ACTIVE, True)
    dropped = drop_rule(path, "r-2")
    assert dropped.status is RuleStatus.DROPPED
    assert [(r.id, r.status) for r in load_rules(path).rules] == [
        ("r-1", RuleStatus.ACTIVE),
        ("r-2", RuleStatus.DROPPED),
    ]
    with pytest.raises(UnknownRuleError, match=r"no rule 'r-3'.*r-1, r-2"):
        drop_rule(path, "r-3")


def test_observations_append_and_load(tmp_path: Path) -> None:
    path = tmp_path / "rule_observations.jsonl"
    assert load_observations(path) == []
    append_observation(path, _obs("a"))
    append_observation(path, _obs("b"))
    assert [o.phase_id for o in load_observations(path)] == ["a", "b"]
    assert path.read_text().count("\n") == 2


def test_a_torn_last_line_is_ignored_and_the_next_append_starts_fresh(tmp_path: Path) -> None:
    path = tmp_path / "rule_observations.jsonl"
    append_observation(path, _obs("a"))
    with open(path, "a") as handle:
        handle.write('{"run_id": "r", "phase_id": "cut-sh')  # a crash mid-append
    assert [o.phase_id for o in load_observations(path)] == ["a"]
    append_observation(path, _obs("b"))
    with pytest.raises(RulesFileError, match="line 2"):
        load_observations(path)  # the torn line is now in the middle: reported, not guessed


def test_a_bad_line_names_its_number(tmp_path: Path) -> None:
    path = tmp_path / "rule_observations.jsonl"
    append_observation(path, _obs("a"))
    with open(path, "a") as handle:
        handle.write('{"run_id": "r"}\n')
    with pytest.raises(RulesFileError, match=r"line 2: phase_id: Field required"):
        load_observations(path)
