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
    assert data["ok"] is False
    assert data["errors"][0]["code"] == "no_match"
    assert data["errors"][0]["did_you_mean"]
    assert (root / "src" / "app.py").read_text() == 'def greet():\n    return "hi"\n'


def test_usage_errors_exit_2(tmp_path):
    assert runner.invoke(app, ["apply", "--root", str(tmp_path / "nope"), "-"]).exit_code == 2
    result = runner.invoke(app, ["apply", "--root", str(tmp_path), str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert runner.invoke(app, ["apply", "--bogus"]).exit_code == 2
