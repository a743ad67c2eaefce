"""The intention anchor: loading with field-naming errors, rendering within 2 KB by priority."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from autopack.memory.intention import (
    MAX_BYTES,
    TEMPLATE,
    Intention,
    IntentionError,
    load_intention,
    render_for_auditor,
    render_intention,
)

FULL = {
    "goal": "A small calculator library for teaching.",
    "success_criteria": ["Every public function has a test."],
    "must": ["Keep the public API backwards compatible."],
    "must_not": ["Add a runtime dependency.", "Change sub()."],
    "preferences": ["Small functions."],
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "intention.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_and_render_everything_in_priority_order(tmp_path: Path) -> None:
    intention = load_intention(_write(tmp_path, yaml.safe_dump(FULL)))
    text = render_intention(intention)
    assert text.splitlines() == [
        "Project intention (keep every change in line with it):",
        "Goal: A small calculator library for teaching.",
        "Must not:",
        "- Add a runtime dependency.",
        "- Change sub().",
        "Must:",
        "- Keep the public API backwards compatible.",
        "Success criteria:",
        "- Every public function has a test.",
        "Preferences:",
        "- Small functions.",
    ]


def test_the_auditor_gets_the_goal_and_the_must_not_constraints_only() -> None:
    text = render_for_auditor(Intention(**FULL))
    assert "Goal: A small calculator library" in text
    assert "- Add a runtime dependency." in text and "- Change sub()." in text
    for other in ("backwards compatible", "has a test", "Small functions"):
        assert other not in text


def test_the_template_validates_and_injects_nothing_until_filled_in(tmp_path: Path) -> None:
    intention = load_intention(_write(tmp_path, TEMPLATE))
    assert intention.is_empty()
    assert render_intention(intention) == "" and render_for_auditor(intention) == ""
    filled = TEMPLATE.replace('goal: ""', 'goal: "Teach arithmetic."')
    assert render_intention(load_intention(_write(tmp_path, filled))).endswith(
        "Goal: Teach arithmetic."
    )


def test_a_single_string_is_a_one_item_list_and_whitespace_is_collapsed() -> None:
    intention = Intention.model_validate({"must_not": "  touch\n  the   network "})
    assert intention.must_not == ("touch the network",)


def test_over_two_kilobytes_cuts_lowest_priority_first_and_says_so() -> None:
    intention = Intention(
        goal="G" * 100,
        must_not=[f"never {i} " + "n" * 150 for i in range(4)],
        must=[f"always {i} " + "m" * 150 for i in range(4)],
        success_criteria=[f"criterion {i} " + "s" * 150 for i in range(4)],
        preferences=[f"prefer {i} " + "p" * 150 for i in range(4)],
    )
    text = render_intention(intention)
    assert len(text.encode("utf-8")) <= MAX_BYTES
    assert all(f"never {i}" in text for i in range(4))
    assert all(f"always {i}" in text for i in range(4))
    assert "prefer 0" not in text
    assert text.endswith(")") and "(Cut to fit 2048 bytes:" in text
    assert "4 preferences" in text and "success criteri" in text


def test_multibyte_text_is_measured_in_bytes() -> None:
    intention = Intention(goal="目標", must_not=["禁止" * 100 for _ in range(10)])
    text = render_intention(intention)
    assert len(text.encode("utf-8")) <= MAX_BYTES
    assert "must-not constraint" in text.splitlines()[-1]


def test_an_overlong_item_is_shortened_not_dropped() -> None:
    text = render_intention(Intention(goal="g", must_not=["x" * 5_000]))
    assert "- " + "x" * 200 in text and text.endswith("…")
    assert "Cut" not in text


def test_a_tiny_limit_is_still_respected() -> None:
    text = render_intention(Intention(goal="g" * 500, must=["m"]), limit=120)
    assert len(text.encode("utf-8")) <= 120


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("goal: x\ncolour: red\n", "colour: Extra inputs are not permitted"),
        ("goal: x\nmust_not:\n  - ok\n  - ''\n", "must_not: item 1 is empty"),
        ("goal: x\nmust: 3\n", "must"),
        ("goal: x\nmust_not:\n  - [nested]\n", "must_not[0]"),
        ("goal: [unclosed\n", "line 2, column 1: not valid YAML"),
        ("- a list\n", "must be a mapping"),
    ],
)
def test_malformed_files_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(IntentionError) as info:
        load_intention(path)
    assert message in str(info.value) and str(path) in str(info.value)
    assert path.read_text() == text


def test_an_unreadable_file_is_an_intention_error(tmp_path: Path) -> None:
    with pytest.raises(IntentionError, match="cannot read"):
        load_intention(tmp_path / "missing.yaml")
