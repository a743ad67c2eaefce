"""The curated surface of autopack.agents, its exception tree, and the packaged templates."""

from __future__ import annotations

import re
from importlib import resources

import pytest

import autopack.agents as agents
from autopack.agents.prompts import TEMPLATE_NAMES, render_template


def test_all_names_exist() -> None:
    for name in agents.__all__:
        assert hasattr(agents, name), name
    assert agents.__all__ == sorted(agents.__all__)


def test_exception_tree_has_codes() -> None:
    classes = [agents.MalformedAnswerError, agents.PromptTemplateError]
    assert all(issubclass(c, agents.AgentError) for c in classes)
    assert len({c.code for c in classes}) == len(classes)
    err = agents.MalformedAnswerError("bad", parse_error="p", raw="r")
    assert str(err) == "bad [malformed_answer]"
    assert agents.AgentError("x", code="custom").code == "custom"


def test_every_template_is_packaged() -> None:
    folder = resources.files("autopack.agents.prompts")
    shipped = sorted(p.name for p in folder.iterdir() if p.name.endswith(".j2"))
    assert shipped == sorted(f"{n}.j2" for n in TEMPLATE_NAMES)


def test_templates_carry_no_clock_randomness_or_environment() -> None:
    folder = resources.files("autopack.agents.prompts")
    for name in TEMPLATE_NAMES:
        text = folder.joinpath(f"{name}.j2").read_text()
        assert not re.search(r"now\(|datetime|uuid|random|os\.environ|getenv|\{\{[^}]*env", text), (
            name
        )


def test_undefined_variables_are_errors() -> None:
    with pytest.raises(agents.PromptTemplateError, match=r"builder_system.*undefined"):
        render_template("builder_system")
    with pytest.raises(agents.PromptTemplateError, match="not packaged"):
        render_template("nope")


def test_judge_template_renders_without_variables() -> None:
    assert render_template("judge").startswith("You are the Judge")
