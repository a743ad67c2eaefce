"""Property-based: whatever the input, loading gives a RunSpec or a SpecError — nothing else."""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autopack.spec import (
    CiSpec,
    ContextRef,
    Deliverable,
    LoadedSpec,
    PhaseSpec,
    RunSpec,
    Scope,
    SpecError,
    TierSpec,
    load_spec_data,
    load_spec_text,
)
from spec.spec_helpers import example_files

# Field names of every level plus legacy keys: random documents then often look almost right.
_MODELS = (RunSpec, TierSpec, PhaseSpec, Scope, CiSpec, ContextRef, Deliverable)
FIELDS = sorted(
    {name for model in _MODELS for name in model.model_fields}
    | {"run", "id", "task_name", "tier_name", "code", "tests", "docs"}
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(
        ["low", "hgh", "simple", "custom", "pytest", "src/", "/etc", "../x", "T1", "a"]
    ),
)
KEYS = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8))
DOCS = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(KEYS, children, max_size=6),
    ),
    max_leaves=30,
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(run: Any) -> None:
    try:
        result = run()
    except SpecError as err:
        assert err.issues
        assert all(isinstance(i.loc, str) and i.loc and i.message for i in err.issues)
        return
    assert isinstance(result, LoadedSpec)
    assert result.spec.phases()


@FAST
@given(DOCS)
def test_random_documents(doc: Any) -> None:
    _check(lambda: load_spec_data(doc))


@FAST
@given(st.dictionaries(st.sampled_from(["run", "run_id", "tiers", "phases", "goal"]), DOCS))
def test_random_documents_with_shape_keys(doc: dict[str, Any]) -> None:
    _check(lambda: load_spec_data(doc))


@FAST
@given(DOCS)
def test_random_documents_as_json_and_yaml_text(doc: Any) -> None:
    _check(lambda: load_spec_text(json.dumps(doc), fmt="json"))
    _check(lambda: load_spec_text(yaml.safe_dump(doc)))


@FAST
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    _check(lambda: load_spec_text(text))
    _check(lambda: load_spec_text(text, fmt="json"))


def _example_data() -> list[Any]:
    out = []
    for path in example_files():
        text = path.read_text(encoding="utf-8")
        out.append(json.loads(text) if path.suffix == ".json" else yaml.safe_load(text))
    return out


EXAMPLES = _example_data()


def _containers(node: Any, acc: list[Any]) -> list[Any]:
    if isinstance(node, dict | list):
        acc.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            _containers(child, acc)
    return acc


@st.composite
def mutated_examples(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        targets = _containers(doc, [])
        node = draw(st.sampled_from(targets))
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            action = draw(st.sampled_from(["replace", "delete", "rename", "nest"]))
            if action == "replace":
                node[key] = draw(DOCS)
            elif action == "delete":
                del node[key]
            elif action == "rename":
                node[draw(KEYS)] = node.pop(key)
            else:
                node[key] = {key: node[key]}
        elif isinstance(node, list) and node:
            i = draw(st.integers(min_value=0, max_value=len(node) - 1))
            action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
            if action == "replace":
                node[i] = draw(DOCS)
            elif action == "delete":
                del node[i]
            else:
                node.append(copy.deepcopy(node[i]))
    return doc


@FAST
@given(mutated_examples())
def test_mutated_examples(doc: Any) -> None:
    _check(lambda: load_spec_data(doc))
    _check(lambda: load_spec_text(yaml.safe_dump(doc, allow_unicode=True)))


def test_self_referencing_yaml_is_an_error_not_a_crash() -> None:
    _check(lambda: load_spec_text("run_id: r\nphases: &p [*p]\n"))
    _check(lambda: load_spec_text("&a {run_id: r, phases: [{id: x, scope: *a}]}\n"))


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    _check(lambda: load_spec_text("[" * 5000 + "]" * 5000, fmt="json"))
    _check(lambda: load_spec_text("run_id: r\nphases: " + "[" * 5000 + "]" * 5000))
