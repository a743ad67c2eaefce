"""Context assembly: budget, dropped report, maps of big files, denied files, symlinks."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.agents import ContextAssembler, ContextConfig, ContextInputs, FileMode
from autopack.agents.context import SEPARATOR
from autopack.agents.files import WorkspaceFiles
from autopack.agents.outline import extract_keywords, file_map, python_definitions
from autopack.llm.base import estimate_tokens

GREET = '''"""Greetings."""


def greet():
    return "hello world"
'''


def big_module(functions: int = 120) -> str:
    parts = ['"""A big module."""\n\nimport os\n\n']
    for i in range(functions):
        parts.append(
            f"def helper_{i}(value: int, *, scale: float = 1.0) -> float:\n"
            f'    """Helper number {i}."""\n'
            f"    total = value * scale + {i}\n"
            f"    return total / 2\n\n\n"
        )
    parts.append("class Greeter(object):\n    def greet_all(self, names):\n        return names\n")
    return "".join(parts)


def test_small_scope_file_is_shown_in_full(workspace, phase, write_tree) -> None:
    write_tree(workspace, {"src/app/greet.py": GREET})
    ctx = ContextAssembler(workspace, deny=[".env"]).assemble(ContextInputs(phase=phase))
    [section] = ctx.of_kind("scope_file")
    assert section.mode is FileMode.FULL
    assert section.path == "src/app/greet.py"
    assert GREET.strip() in section.text
    assert ctx.dropped == ()
    assert ctx.used == section.tokens


def test_big_file_gets_relevant_parts_and_a_map(workspace, phase_factory, write_tree) -> None:
    write_tree(workspace, {"src/app/big.py": big_module()})
    phase = phase_factory(description="Fix `helper_42` so it rounds the total.")
    errors = ('File "/tmp/wt/src/app/big.py", line 726, in greet_all\n  TypeError: boom',)
    config = ContextConfig(small_file_tokens=1_000, excerpt_tokens=800, map_tokens=5_000)
    ctx = ContextAssembler(workspace, config, deny=[]).assemble(
        ContextInputs(phase=phase, previous_errors=errors)
    )
    [section] = ctx.of_kind("scope_file")
    assert section.mode is FileMode.EXCERPT
    # The function the task names and the method the traceback points at are shown whole.
    assert "def helper_42(value: int, *, scale: float = 1.0) -> float:" in section.text
    assert "total = value * scale + 42" in section.text
    assert "def greet_all(self, names):" in section.text
    assert "total = value * scale + 7\n" not in section.text
    # The map lists every definition with its line range and signature.
    assert "L5-8 def helper_0(value: int, *, scale: float=1.0) -> float" in section.text
    assert "class Greeter(object)" in section.text
    assert "    L" in section.text and "def greet_all(self, names)" in section.text
    [dropped] = ctx.dropped
    assert dropped.item == "src/app/big.py"
    assert dropped.action == "summarised"
    assert "small-file limit 1000" in dropped.reason
    assert "2 relevant part(s)" in dropped.reason


def test_long_maps_are_capped() -> None:
    text = big_module(200)
    fmap = file_map("m.py", text, max_tokens=300, estimate=estimate_tokens)
    assert estimate_tokens(fmap) <= 300
    assert "top-level definitions" in fmap
    assert "more definitions not listed" in fmap
    assert "greet_all" not in fmap  # class members go first


def test_non_python_big_file_map_is_head_and_tail(workspace, phase, write_tree) -> None:
    text = "\n".join(f"line {i}" for i in range(1, 501))
    write_tree(workspace, {"src/app/data.txt": text})
    config = ContextConfig(small_file_tokens=200, excerpt_tokens=100, head_lines=5, tail_lines=3)
    ctx = ContextAssembler(workspace, config, deny=[]).assemble(ContextInputs(phase=phase))
    [section] = ctx.of_kind("scope_file")
    assert section.mode is FileMode.EXCERPT
    assert "line 5\n[... 492 lines not shown ...]\nline 498" in section.text


def test_budget_is_respected_and_dropped_is_accurate(workspace, phase, write_tree) -> None:
    files = {f"src/app/mod_{i}.py": f"def f_{i}():\n" + "    x = 1\n" * 60 for i in range(12)}
    write_tree(workspace, files)
    config = ContextConfig(budget_tokens=1_500, small_file_tokens=400)
    ctx = ContextAssembler(workspace, config, deny=[]).assemble(
        ContextInputs(phase=phase, previous_errors=("E" * 300,), memory=("rule " * 50,)),
        reserved=300,
    )
    assert ctx.used <= ctx.budget
    assert ctx.used == 300 + sum(s.tokens for s in ctx.sections)
    assert all(s.tokens == estimate_tokens(s.text + SEPARATOR) for s in ctx.sections)
    full = {s.path for s in ctx.sections if s.mode is FileMode.FULL}
    assert full and len(full) < 12
    # Every file not shown in full is reported, with the reason; nothing else is.
    reported = {d.item for d in ctx.dropped if d.kind == "scope_file"}
    assert reported == set(files) - full
    assert all("budget" in d.reason for d in ctx.dropped if d.kind == "scope_file")
    assert {s.kind for s in ctx.sections} >= {"errors", "scope_file"}
    # The error comes first (highest priority after the task).
    assert ctx.sections[0].kind == "errors"


def test_priority_errors_before_files_before_read_only(workspace, phase_factory, write_tree):
    write_tree(workspace, {"src/app/a.py": "A = 1\n" * 100, "docs/ref.md": "ref\n" * 100})
    phase = phase_factory(scope={"paths": ["src/app/a.py"], "read_only_context": ["docs/ref.md"]})
    a_tokens = estimate_tokens("A = 1\n" * 100)
    config = ContextConfig(budget_tokens=a_tokens + 120, small_file_tokens=10_000)
    ctx = ContextAssembler(workspace, config, deny=[]).assemble(
        ContextInputs(phase=phase, previous_errors=("boom",))
    )
    kinds = [(s.kind, s.mode) for s in ctx.sections]
    assert kinds[0] == ("errors", None)
    assert ("scope_file", FileMode.FULL) in kinds
    assert ("read_only", FileMode.FULL) not in kinds
    ro = [d for d in ctx.dropped if d.item == "docs/ref.md"]
    assert ro and ro[0].kind == "read_only"


def test_long_error_is_trimmed_within_its_share(workspace, phase) -> None:
    config = ContextConfig(budget_tokens=1_000, errors_share=0.4)
    error = "Traceback start\n" + "frame\n" * 2_000 + "Final error line"
    ctx = ContextAssembler(workspace, config, deny=[]).assemble(
        ContextInputs(phase=phase, previous_errors=(error,))
    )
    [section] = ctx.of_kind("errors")
    assert section.tokens <= 400
    assert "Traceback start" in section.text and "Final error line" in section.text
    assert [d.action for d in ctx.dropped] == ["truncated"]


def test_denied_files_are_never_read(workspace, phase_factory, write_tree, monkeypatch) -> None:
    write_tree(
        workspace,
        {
            "src/app/.env": "TOKEN=supersecretvalue",
            "src/app/deploy.pem": "-----BEGIN PRIVATE KEY-----\nabc\n",
            "src/app/credentials.json": '{"k": "v"}',
            "src/app/ok.py": "X = 1\n",
        },
    )
    phase = phase_factory(
        scope={"paths": ["src/app/", "src/app/.env"], "read_only_context": [".env.local"]}
    )
    opened: list[str] = []
    real_read_bytes = Path.read_bytes

    def spy(self: Path) -> bytes:
        opened.append(self.name)
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    ctx = ContextAssembler(workspace).assemble(ContextInputs(phase=phase))
    assert opened == ["ok.py"]
    not_read = {d.item: d.reason for d in ctx.dropped if d.action == "not_read"}
    assert set(not_read) == {"src/app/.env", "src/app/deploy.pem", "src/app/credentials.json"}
    assert "'.env'" in not_read["src/app/.env"]
    assert all("supersecretvalue" not in s.text for s in ctx.sections)


def test_binary_files_are_not_shown(workspace, phase, write_tree) -> None:
    write_tree(workspace, {"src/app/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00", "src/app/a.py": "A=1"})
    ctx = ContextAssembler(workspace, deny=[]).assemble(ContextInputs(phase=phase))
    assert [s.path for s in ctx.sections] == ["src/app/a.py"]
    assert [(d.item, d.reason) for d in ctx.dropped] == [("src/app/logo.png", "binary file")]


def test_symlinks_leaving_the_root_are_not_followed(tmp_path, phase_factory, write_tree):
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    write_tree(outside, {"secret.py": "LEAK = 'outside'\n", "dir/x.py": "LEAK2 = 1\n"})
    write_tree(root, {"src/app/a.py": "A = 1\n", ".env": "K=valuevaluevalue\n"})
    (root / "src/app/link.py").symlink_to(outside / "secret.py")
    (root / "src/linkdir").symlink_to(outside / "dir")
    (root / "src/app/innocent.txt").symlink_to(root / ".env")
    phase = phase_factory(scope={"paths": ["src/app/", "src/linkdir/"]})
    ctx = ContextAssembler(root).assemble(ContextInputs(phase=phase))
    text = "\n".join(s.text for s in ctx.sections)
    assert "LEAK" not in text and "valuevaluevalue" not in text
    reasons = {d.item: d.reason for d in ctx.dropped}
    assert reasons["src/app/link.py"] == "symlink resolves outside the workspace"
    assert reasons["src/linkdir"] == "symlink resolves outside the workspace"
    assert "protected by '.env'" in reasons["src/app/innocent.txt"]


def test_missing_scope_paths_are_reported_for_creation(workspace, phase_factory) -> None:
    phase = phase_factory(scope={"paths": ["src/new_pkg/", "src/new.py"]})
    ctx = ContextAssembler(workspace, deny=[]).assemble(ContextInputs(phase=phase))
    assert ctx.missing == ("src/new_pkg/", "src/new.py")
    assert ctx.sections == ()


def test_files_are_mapped_when_only_maps_fit(workspace, phase_factory, write_tree) -> None:
    write_tree(workspace, {"src/app/big.py": big_module(30)})
    phase = phase_factory(scope={"paths": ["src/app/big.py"]})
    fmap = file_map("src/app/big.py", big_module(30))
    config = ContextConfig(budget_tokens=estimate_tokens(fmap) + 45, small_file_tokens=100)
    ctx = ContextAssembler(workspace, config, deny=[]).assemble(ContextInputs(phase=phase))
    [section] = ctx.sections
    assert (section.kind, section.mode) == ("map", FileMode.MAP)
    assert ctx.used <= ctx.budget
    assert [d.reason for d in ctx.dropped] == ["budget: only the map of definitions"]


def test_injected_estimator_is_used(workspace, phase, write_tree) -> None:
    write_tree(workspace, {"src/app/a.py": "A = 1\n"})
    ctx = ContextAssembler(workspace, deny=[], estimate=lambda text: 7).assemble(
        ContextInputs(phase=phase)
    )
    assert [s.tokens for s in ctx.sections] == [7]


def test_python_definitions_and_keywords() -> None:
    defs = python_definitions(big_module(2))
    assert defs is not None
    assert [d.name for d in defs] == ["helper_0", "helper_1", "Greeter", "Greeter.greet_all"]
    assert python_definitions("def broken(:\n") is None
    kw = extract_keywords(["Fix `helper_42` and parseConfig() in the greet module"])
    assert {"helper_42", "parseConfig"} <= kw.strong
    assert "greet" in kw.weak and "the" not in kw.all


@pytest.mark.parametrize("bad", ["../etc/passwd", "/etc/passwd", "src/../../x"])
def test_invalid_paths_are_refused(workspace, bad) -> None:
    dropped: list[tuple[str, str, str]] = []
    files = WorkspaceFiles(workspace, deny=[])
    assert files.read(bad, lambda *item: dropped.append(item)) is None
    assert dropped[0][1] == "not_read"
    assert "invalid path" in dropped[0][2]


def test_missing_read_only_context_is_reported(workspace, phase_factory) -> None:
    phase = phase_factory(scope={"paths": ["src/"], "read_only_context": ["docs/gone.md"]})
    ctx = ContextAssembler(workspace, deny=[]).assemble(ContextInputs(phase=phase))
    assert [(d.item, d.reason) for d in ctx.dropped] == [("docs/gone.md", "does not exist")]


def test_glob_scope_skips_environments_and_caches(workspace, phase_factory):
    from autopack.agents import ContextAssembler, ContextInputs

    (workspace / "src").mkdir(exist_ok=True)
    (workspace / "src" / "app.py").write_text("def app():\n    return 1\n")
    for i in range(30):
        venv = workspace / ".venv" / "lib" / f"m{i}.py"
        venv.parent.mkdir(parents=True, exist_ok=True)
        venv.write_text("x = 1\n")
    phase = phase_factory(scope={"paths": ["**/*.py"]})
    ctx = ContextAssembler(workspace).assemble(ContextInputs(phase=phase))
    shown = "\n".join(section.text for section in ctx.sections)
    assert "src/app.py" in shown and ".venv" not in shown
