"""Invalid plans: every problem is reported, located in the original document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autopack.spec import SpecError, load_spec, load_spec_data
from spec.spec_helpers import FIXTURES, issues_of, lines_of

HGH = "'hgh' is not one of low, medium, high (did you mean 'high'?)"


def _phase(pid: str, index: int, **extra: object) -> dict[str, object]:
    return {"phase_id": pid, "phase_index": index, "name": pid, **extra}


def test_nested_location_and_allowed_values() -> None:
    text = json.dumps(
        {
            "run_id": "r",
            "tiers": [
                {
                    "tier_index": 0,
                    "phases": [_phase("a", 0), _phase("b", 1), _phase("c", 2, complexity="hgh")],
                }
            ],
        }
    )
    assert lines_of(text) == [f"tiers[0].phases[2].complexity: {HGH}"]


def test_flat_location_is_the_phase_in_the_top_level_list() -> None:
    data = {
        "run": {"run_id": "r"},
        "tiers": [
            {"tier_id": "A", "tier_index": 0, "name": "a"},
            {"tier_id": "B", "tier_index": 1, "name": "b"},
        ],
        "phases": [
            {**_phase("p0", 0), "tier_id": "A"},
            {**_phase("p1", 0), "tier_id": "B"},
            {**_phase("p2", 1), "tier_id": "A"},
            {**_phase("p3", 1), "tier_id": "B"},
            {**_phase("p4", 2, complexity="hgh"), "tier_id": "A"},
        ],
    }
    with pytest.raises(SpecError) as info:
        load_spec_data(data)
    assert [str(i) for i in info.value.issues] == [f"phases[4].complexity: {HGH}"]


def test_all_errors_are_collected_with_lines() -> None:
    issues = issues_of(
        "run_id: r\n"
        "token_cap: -5\n"
        "phases:\n"
        "  - id: a\n"
        "    complexity: hgh\n"
        "  - id: a\n"
        "    task_category: Not A Category\n"
        "    complexty: low\n"
    )
    assert [(i.loc, i.line) for i in issues] == [
        ("token_cap", 2),
        ("phases[0].complexity", 5),
        ("phases[1].id", 6),
        ("phases[1].task_category", 7),
        ("phases[1].complexty", 8),
    ]
    assert issues[0].message == "must be greater than 0, got -5"
    assert issues[2].message == "duplicate phase id 'a' (also used by phases[0])"
    assert issues[4].message == "unknown field 'complexty' (did you mean 'complexity'?)"
    assert issues[4].code == "unknown_field"


def test_each_duplicate_is_its_own_issue() -> None:
    issues = issues_of((FIXTURES / "duplicates.yaml").read_text())
    assert [str(i) for i in issues] == [
        "phases[2].id: duplicate phase id 'setup' (also used by phases[0])",
        "phases[2].phase_index: duplicate phase index 1 in tier 'main' (also used by phases[1])",
        "phases[3].id: duplicate phase id 'build' (also used by phases[1])",
    ]
    assert {i.code for i in issues} == {"duplicate"}


def test_same_phase_index_in_different_tiers_is_fine() -> None:
    data = {
        "run_id": "r",
        "tiers": [
            {"tier_index": 0, "phases": [_phase("a", 0)]},
            {"tier_index": 1, "phases": [_phase("b", 0)]},
        ],
    }
    assert len(load_spec_data(data).spec.phases()) == 2


def test_duplicate_tier_ids_and_indices() -> None:
    data = {
        "run_id": "r",
        "tiers": [
            {"tier_id": "t", "tier_index": 0, "phases": [_phase("a", 0)]},
            {"tier_id": "t", "tier_index": 0, "phases": [_phase("b", 0)]},
        ],
    }
    with pytest.raises(SpecError) as info:
        load_spec_data(data)
    assert [str(i) for i in info.value.issues] == [
        "tiers[1].tier_id: duplicate tier id 't' (also used by tiers[0])",
        "tiers[1].tier_index: duplicate tier index 0 (also used by tiers[0])",
    ]


def test_filled_in_index_is_named_in_the_duplicate_message() -> None:
    data = {"run_id": "r", "phases": [{"id": "a"}, {"id": "b", "phase_index": 0}]}
    with pytest.raises(SpecError) as info:
        load_spec_data(data)
    (issue,) = info.value.issues
    assert issue.loc == "phases[1].phase_index"
    assert "the phase_index of phases[0] was not given and comes from its position" in issue.message


def test_unknown_tier_id_suggests_the_closest() -> None:
    data = {
        "run": {"run_id": "r"},
        "tiers": [{"tier_id": "build", "tier_index": 0}, {"tier_id": "docs", "tier_index": 1}],
        "phases": [{**_phase("a", 0), "tier_id": "biuld"}, {**_phase("b", 0), "tier_id": "docs"}],
    }
    with pytest.raises(SpecError) as info:
        load_spec_data(data)
    assert [str(i) for i in info.value.issues] == [
        "phases[0].tier_id: 'biuld' names no tier; known tiers: build, docs (did you mean 'build'?)"
    ]


def test_flat_phase_without_tier_id_among_several_tiers() -> None:
    data = {
        "run": {"run_id": "r"},
        "tiers": [{"tier_id": "a", "tier_index": 0}, {"tier_id": "b", "tier_index": 1}],
        "phases": [{**_phase("p", 0), "tier_id": "a"}, _phase("q", 0)],
    }
    with pytest.raises(SpecError) as info:
        load_spec_data(data)
    messages = [str(i) for i in info.value.issues]
    assert "phases[1]: missing 'tier_id': the plan has several tiers (a, b)" in messages


def test_flat_tier_without_phases_is_located_at_the_tier() -> None:
    data = {
        "run": {"run_id": "r"},
        "tiers": [{"tier_id": "a", "tier_index": 0}, {"tier_id": "b", "tier_index": 1}],
        "phases": [{**_phase("p", 0), "tier_id": "a"}],
    }
    with pytest.raises(SpecError) as info:
        load_spec_data(data)
    assert [str(i) for i in info.value.issues] == ["tiers[1]: a tier needs at least one phase"]


def test_flat_unknown_top_level_keys() -> None:
    data = {"run": {"run_id": "r"}, "token_cap": 5, "phase": [], "phases": [{"id": "a"}]}
    with pytest.raises(SpecError) as info:
        load_spec_data(data)
    assert [str(i) for i in info.value.issues] == [
        "token_cap: unknown field 'token_cap' (run fields belong inside 'run')",
        "phase: unknown field 'phase' (did you mean 'phases'?)",
    ]


def test_unknown_field_without_close_match_lists_the_allowed_ones() -> None:
    (line,) = lines_of('{"run_id": "r", "phases": [{"id": "a", "zzz": 1}]}')
    assert line.startswith("phases[0].zzz: unknown field 'zzz'; allowed: phase_id, phase_index")


def test_conflicting_spellings() -> None:
    assert lines_of("run_id: r\nphases: [{id: a, phase_id: b}]\n") == [
        "phases[0].id: 'id' and 'phase_id' are the same field with different values; keep one"
    ]


def test_max_phases_is_a_budget() -> None:
    assert lines_of("run_id: r\nmax_phases: 1\nphases: [{id: a}, {id: b}]\n") == [
        "max_phases: the plan has 2 phases, more than max_phases (1)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "<document>: the document is empty"),
        ("# only a comment\n", "<document>: the document is empty"),
        ("42\n", "<document>: expected a mapping (the run), got int 42"),
        ("run_id: r\n", "<document>: cannot tell the plan's shape"),
        ("run_id: r\ntiers: nope\n", "tiers: expected a list (tiers), got a string"),
        ("run_id: r\ntiers: [3]\n", "tiers[0]: expected a mapping (a tier), got int 3"),
        ("run_id: r\nphases: {a: 1}\n", "phases: expected a list (phases), got a mapping"),
        ("run_id: r\nphases: []\n", "phases: a tier needs at least one phase"),
        ("run_id: r\ntiers: []\n", "tiers: no tiers given"),
        ("run_id: 'bad id!'\nphases: [{id: a}]\n", "run_id: 'bad id!' is not a valid id"),
        ("phases: [{id: a}]\n", "run_id: required field is missing"),
        ("run_id: r\nphases: [{name: x}]\n", "phases[0].phase_id: required field is missing"),
        ("run_id: r\n1: x\nphases: [{id: a}]\n", "<document>: keys must be strings, got 1"),
    ],
)
def test_structural_problems(text: str, expected: str) -> None:
    lines = lines_of(text)
    assert any(line.startswith(expected) for line in lines), lines


def test_yaml_syntax_error_has_line_and_column() -> None:
    (issue,) = issues_of((FIXTURES / "syntax-error.yaml").read_text(), "yaml")
    assert (issue.code, issue.line, issue.column) == ("syntax", 6, 1)
    assert issue.loc == "line 6, column 1"
    assert issue.message.startswith("invalid YAML: while parsing a flow mapping")


def test_json_syntax_error_has_line_and_column() -> None:
    (issue,) = issues_of((FIXTURES / "syntax-error.json").read_text(), "json")
    assert (issue.line, issue.column) == (4, 22)
    assert issue.message == "invalid JSON: Expecting property name enclosed in double quotes"


def test_duplicate_yaml_keys_are_errors() -> None:
    (issue,) = issues_of("run_id: a\nphases: [{id: x}]\nrun_id: b\n")
    assert str(issue) == (
        "run_id: duplicate key 'run_id' (first given on line 1); the later value would silently win"
    )
    assert issue.line == 3


def test_duplicate_json_keys_are_errors() -> None:
    (issue,) = issues_of('{"run_id": "a", "phases": [{"id": "x", "id": "y"}]}')
    assert issue.loc == "phases[0].id"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bad-complexity-nested.yaml", [f"tiers[0].phases[2].complexity: {HGH}"]),
        (
            "bad-flat.json",
            [
                "tiers[1].tier_id: duplicate tier id 'T1' (also used by tiers[0])",
                "phases[3].tier_id: 'T9' names no tier; known tiers: T1",
                f"phases[4].complexity: {HGH}",
            ],
        ),
        (
            "escaping-paths.yaml",
            [
                "phases[0].scope.paths[0]: path '/etc/passwd' must be relative to the "
                "workspace, not absolute",
                "phases[0].scope.paths[1]: path 'src/../../secrets' must not contain '..'",
                "phases[0].scope.paths[2]: path 'C:\\\\Windows' must be relative to the "
                "workspace, not absolute",
                "phases[0].scope.read_only_context[0].path: path '../outside' must not "
                "contain '..'",
                "phases[0].scope.protected_paths[0]: path '~/.ssh' must be relative to the "
                "workspace, not absolute",
            ],
        ),
        (
            "unknown-fields.json",
            [
                "goall: unknown field 'goall' (did you mean 'goal'?)",
                "tiers[0].phases[0].complexty: unknown field 'complexty' "
                "(did you mean 'complexity'?)",
                "tiers[0].phases[0].scope.path: unknown field 'path' (did you mean 'paths'?)",
                "tiers[0].phases[0].scope.ci.tpye: unknown field 'tpye' (did you mean 'type'?)",
            ],
        ),
        (
            "wrong-types.yaml",
            [
                "token_cap: expected an integer, got 'lots'",
                "max_phases: must be greater than 0, got -1",
                "safety_profile: 'reckless' is not one of normal, safety_critical",
                "tiers[0].tier_index: expected an integer, got 'first'",
                "tiers[0].phases[0].approval_required: expected true or false, got 'maybe'",
                "tiers[0].phases[0].max_attempts: must be at most 20, got 99",
                "tiers[0].phases[0].scope.paths: expected a list, got 'src/'",
                "tiers[0].phases[0].scope.deliverables.code: expected a string or a list of "
                "strings, got int 5",
            ],
        ),
        ("empty.yaml", ["<document>: the document is empty"]),
        (
            "top-level-list.yaml",
            [
                "<document>: expected a mapping at the top level, got a list (a bare list of "
                "phases? put it under 'phases' next to a 'run_id')"
            ],
        ),
    ],
)
def test_malformed_fixtures(name: str, expected: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(FIXTURES / name)
    assert [str(i) for i in info.value.issues] == expected
    assert info.value.source == str(FIXTURES / name)
    assert all(i.line is not None for i in info.value.issues if i.loc != "<document>")


def test_every_fixture_is_malformed() -> None:
    for path in FIXTURES.iterdir():
        with pytest.raises(SpecError):
            load_spec(path)


def test_unreadable_files_are_spec_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as missing:
        load_spec(tmp_path / "nope.yaml")
    assert str(missing.value.issues[0]) == "<file>: cannot read: No such file or directory"
    with pytest.raises(SpecError) as directory:
        load_spec(tmp_path)
    assert directory.value.issues[0].code == "io"
    binary = tmp_path / "plan.yaml"
    binary.write_bytes(b"run_id: \xff\xfe\n")
    with pytest.raises(SpecError) as undecodable:
        load_spec(binary)
    assert str(undecodable.value.issues[0]) == "<file>: not UTF-8 text (byte 8)"


def test_spec_error_message_lists_every_issue() -> None:
    with pytest.raises(SpecError) as info:
        load_spec(FIXTURES / "bad-flat.json")
    text = str(info.value)
    assert text.splitlines()[0].endswith("bad-flat.json: invalid run specification (3 problems)")
    assert "  phases[3].tier_id: 'T9' names no tier; known tiers: T1" in text.splitlines()
