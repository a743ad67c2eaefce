"""The Builder's prompt: protocol, rules, scope, task, errors, hints, budget, determinism."""

from __future__ import annotations

from autopack.agents import ContextAssembler, ContextConfig, ContextInputs, build_messages
from autopack.agents.builder import acceptance_criteria
from autopack.checks.report import CheckReport, CheckStatus
from autopack.llm.base import estimate_tokens

GREET = 'def greet():\n    return "hello world"\n'


def check_failure() -> str:
    report = CheckReport(
        status=CheckStatus.FAILED,
        command=["pytest", "-q"],
        failed=1,
        failing=["tests/test_greet.py::test_name"],
        new_failures=["tests/test_greet.py::test_name"],
        failure_details={"tests/test_greet.py::test_name": "TypeError: greet() takes 0 args"},
    )
    return report.for_model()


def test_builder_prompt_has_protocol_rules_task_and_errors(
    workspace, phase_factory, write_tree, no_redaction
) -> None:
    write_tree(workspace, {"src/app/greet.py": GREET})
    phase = phase_factory(
        scope={
            "paths": ["src/app/", "tests/test_greet.py"],
            "protected_paths": ["src/app/vendored/"],
            "deliverables": {"code": ["src/app/greet.py"], "docs": "explain the name argument"},
            "read_only_context": [{"path": "README.md", "reason": "style guide"}],
            "ci": {"type": "pytest", "paths": ["tests/test_greet.py"]},
        }
    )
    write_tree(workspace, {"README.md": "Use f-strings.\n"})
    inputs = ContextInputs(
        phase=phase,
        run_goal="Personalised greetings",
        previous_errors=(check_failure(),),
        doctor_hints=("Add a default value so old callers keep working.",),
    )
    prompt = build_messages(ContextAssembler(workspace, deny=[]), inputs, redactor=no_redaction)
    system, task = prompt.messages
    assert (system.role, task.role) == ("system", "user")
    for needle in ("SEARCH", "REPLACE", "Unified diff", "Whole file", "DELETE", "RENAME"):
        assert needle in system.content
    assert "  - src/app/\n  - tests/test_greet.py" in system.content
    assert "src/app/vendored/" in system.content and ".env" in system.content
    assert "Personalised greetings" in task.content
    assert "Phase p1: Make greet take a name" in task.content
    assert "- [code] src/app/greet.py" in task.content
    assert "- [docs] explain the name argument" in task.content
    assert "`pytest tests/test_greet.py` passes with no new failures" in task.content
    assert "Not existing yet (create them if the phase needs them): tests/test_greet.py" in (
        task.content
    )
    assert GREET.strip() in task.content
    assert "### README.md (read-only, full; style guide)" in task.content
    assert "tests/test_greet.py::test_name" in task.content
    assert "TypeError: greet() takes 0 args" in task.content
    assert "Add a default value" in task.content
    # Errors come after the files, right before the final instruction.
    assert task.content.index("## Files in scope") < task.content.index("## What went wrong")
    assert prompt.estimated_tokens == sum(estimate_tokens(m.content) for m in prompt.messages)
    assert prompt.dropped == ()


def test_builder_prompt_is_deterministic(workspace, phase, write_tree, no_redaction) -> None:
    write_tree(workspace, {"src/app/greet.py": GREET})
    inputs = ContextInputs(phase=phase, run_goal="g")
    one = build_messages(ContextAssembler(workspace, deny=[]), inputs, redactor=no_redaction)
    two = build_messages(ContextAssembler(workspace, deny=[]), inputs, redactor=no_redaction)
    assert one.messages == two.messages


def test_builder_prompt_stays_within_budget(workspace, phase, write_tree, no_redaction) -> None:
    files = {f"src/app/m{i}.py": f"def f{i}():\n" + "    return 1\n" * 80 for i in range(30)}
    write_tree(workspace, files)
    config = ContextConfig(budget_tokens=6_000, small_file_tokens=800)
    inputs = ContextInputs(phase=phase, previous_errors=("boom " * 200,))
    prompt = build_messages(
        ContextAssembler(workspace, config, deny=[]), inputs, redactor=no_redaction
    )
    assert 5_000 < prompt.estimated_tokens <= 6_000
    assert prompt.dropped and all(d.kind == "scope_file" for d in prompt.dropped)
    assert "## Other files (maps only" in prompt.messages[1].content


def test_acceptance_criteria_from_ci(phase_factory) -> None:
    custom = phase_factory(scope={"paths": ["x/"], "ci": {"type": "custom", "command": "make t"}})
    assert "the command `make t` exits with status 0" in acceptance_criteria(custom)
    skipped = phase_factory(scope={"paths": ["x/"], "ci": {"skip": True, "reason": "docs only"}})
    assert "automatic checks are skipped for this phase (docs only)" in acceptance_criteria(skipped)
    default = phase_factory(scope={"paths": ["x/"]})
    assert acceptance_criteria(default)[0].startswith("the project's test suite")
