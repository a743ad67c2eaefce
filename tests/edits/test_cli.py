"""``autopack patch apply`` through Typer's CliRunner (the sub-app, before it is mounted)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from autopack.cli.patch_cmd import app

runner = CliRunner()

ANSWER = """Here is the fix.

src/app.py
```python
<<<<<<< SEARCH
def greet():
    return "hi"
=======
def greet(name):
    return f"hi {name}"
>>>>>>> REPLACE
```
"""


def _repo(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text('def greet():\n    return "hi"\n')
    return tmp_path


def test_apply_writes_and_exits_0(tmp_path):
    root = _repo(tmp_path)
    answer = tmp_path / "answer.md"
    answer.write_text(ANSWER)
    result = runner.invoke(app, ["apply", "--root", str(root), str(answer)])
    assert result.exit_code == 0, result.output
    assert "greet(name)" in (root / "src" / "app.py").read_text()


def test_check_does_not_write(tmp_path):
    root = _repo(tmp_path)
    answer = tmp_path / "answer.md"
    answer.write_text(ANSWER)
    result = runner.invoke(app, ["apply", "--root", str(root), "--check", str(answer)])
    assert result.exit_code == 0
    assert "would apply" in result.output
    assert (root / "src" / "app.py").read_text() == 'def greet():\n    return "hi"\n'


def test_stdin_and_json_failure_exit_1(tmp_path):
    root = _repo(tmp_path)
    bad = ANSWER.replace('return "hi"\n=', 'return "hello"\n=')
    result = runner.invoke(app, ["apply", "--root", str(root), "--json", "-"], input=bad)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["outcome"] == "refused_edits"
    assert data["edits"]["errors"][0]["code"] == "no_match"
    assert data["edits"]["errors"][0]["did_you_mean"]
    assert (root / "src" / "app.py").read_text() == 'def greet():\n    return "hi"\n'


def test_usage_errors_exit_2(tmp_path):
    assert runner.invoke(app, ["apply", "--root", str(tmp_path / "nope"), "-"]).exit_code == 2
    result = runner.invoke(app, ["apply", "--root", str(tmp_path), str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert runner.invoke(app, ["apply", "--bogus"]).exit_code == 2


def test_scope_and_protect_refuse_with_the_rule_named(tmp_path):
    root = _repo(tmp_path)
    answer = tmp_path / "answer.md"
    answer.write_text(ANSWER)
    before = (root / "src" / "app.py").read_text()
    out_of_scope = runner.invoke(
        app, ["apply", "--root", str(root), "--scope", "docs/", str(answer)]
    )
    assert out_of_scope.exit_code == 1
    assert "scope.outside" in out_of_scope.stderr
    protected = runner.invoke(
        app, ["apply", "--root", str(root), "--protect", "src/*.py", "--json", str(answer)]
    )
    assert protected.exit_code == 1
    data = json.loads(protected.stdout)
    assert data["outcome"] == "refused_policy"
    assert data["governance"][0]["rule"] == "protected.deny"
    assert (root / "src" / "app.py").read_text() == before
    ok = runner.invoke(app, ["apply", "--root", str(root), "--scope", "src/", str(answer)])
    assert ok.exit_code == 0, ok.stderr


def test_default_protections_and_approval_exit_3(tmp_path):
    root = _repo(tmp_path)
    env = "Writing secrets.\n\n.env\n```\nTOKEN=x\n```\n"
    refused = runner.invoke(app, ["apply", "--root", str(root), "-"], input=env)
    assert refused.exit_code == 1 and "protected.deny" in refused.stderr
    assert not (root / ".env").exists()
    workflow = ".github/workflows/ci.yml\n```\non: push\n```\n"
    waiting = runner.invoke(app, ["apply", "--root", str(root), "-"], input=workflow)
    assert waiting.exit_code == 3 and "--approve" in waiting.stderr
    assert not (root / ".github").exists()
    approved = runner.invoke(app, ["apply", "--root", str(root), "--approve", "-"], input=workflow)
    assert approved.exit_code == 0
    assert (root / ".github" / "workflows" / "ci.yml").read_text() == "on: push\n"
