"""The git wrapper: argument lists, isolation from user config, errors and timeouts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from autopack.workspace import Git, GitError
from autopack.workspace.errors import redact
from autopack.workspace.git import git_environment
from support.gitrepo import write


def test_head_rev_parse_and_clean(repo: Path) -> None:
    g = Git(repo)
    head = g.head()
    assert len(head) == 40
    assert g.rev_parse("main") == head
    assert g.try_rev_parse("no-such-branch") is None
    assert g.is_clean()


def test_changed_paths_include_untracked_but_not_ignored(repo: Path) -> None:
    g = Git(repo)
    write(repo, "README.md", "changed\n")
    write(repo, "new dir/new file.txt", "x\n")
    write(repo, "debug.log", "ignored\n")
    (repo / "src" / "app.py").unlink()
    write(repo, "staged.txt", "s\n")
    g.run("add", "staged.txt")
    assert g.changed_paths() == ["README.md", "new dir/new file.txt", "src/app.py", "staged.txt"]
    assert not g.is_clean()


def test_changed_paths_since_an_older_commit(repo: Path) -> None:
    g = Git(repo)
    first = g.rev_parse("HEAD~1")
    assert g.changed_paths(first) == ["docs/note2.md"]


def test_failure_carries_argv_returncode_and_stderr(repo: Path) -> None:
    with pytest.raises(GitError) as info:
        Git(repo).run("rev-parse", "--verify", "no-such-ref")
    err = info.value
    assert err.code == "git_failed"
    assert err.argv == ("git", "rev-parse", "--verify", "no-such-ref")
    assert err.returncode != 0
    assert "no-such-ref" in err.stderr or "Needed a single revision" in err.stderr
    assert "rev-parse" in str(err)


def test_check_false_returns_the_failure(repo: Path) -> None:
    proc = Git(repo).run("rev-parse", "--verify", "nope", check=False)
    assert proc.returncode != 0


def test_timeout_kills_the_process_group(repo: Path) -> None:
    marker = repo.parent / "survived"
    started = time.monotonic()
    with pytest.raises(GitError) as info:
        Git(repo).run("-c", f"alias.slow=!sleep 1.5 && touch {marker}", "slow", timeout=0.3)
    assert info.value.code == "git_timeout"
    assert info.value.returncode is None
    assert time.monotonic() - started < 1.2
    time.sleep(1.7)
    assert not marker.exists(), "the shell the alias started outlived the timeout"


def test_missing_directory_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError) as info:
        Git(tmp_path / "nope").head()
    assert info.value.code == "git_failed"


def test_environment_drops_redirecting_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_DIR", "/elsewhere")
    monkeypatch.setenv("GIT_INDEX_FILE", "/elsewhere/index")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/tmp/cfg")
    env = git_environment()
    assert "GIT_DIR" not in env and "GIT_INDEX_FILE" not in env
    assert env["GIT_CONFIG_GLOBAL"] == "/tmp/cfg"
    assert env["GIT_TERMINAL_PROMPT"] == "0" and env["LC_ALL"] == "C"
    assert git_environment({"GIT_INDEX_FILE": "x"})["GIT_INDEX_FILE"] == "x"


def test_inherited_git_dir_does_not_redirect(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setenv("GIT_DIR", str(repo.parent / "elsewhere"))
        assert Git(repo).is_clean()


def test_hooks_and_signing_from_user_config_are_disabled(
    repo: Path, git_env: dict[str, str]
) -> None:
    hooks = repo.parent / "hooks"
    write(hooks, "pre-commit", "#!/bin/sh\nexit 1\n").chmod(0o755)
    Path(git_env["GIT_CONFIG_GLOBAL"]).write_text(
        f"[core]\n\thooksPath = {hooks}\n\tautocrlf = true\n"
        "[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = /bin/false\n"
    )
    write(repo, "crlf.txt", "a\r\nb\r\n")
    g = Git(repo)
    g.run("add", "crlf.txt")
    g.run("commit", "-q", "-m", "through")
    assert g.run("show", "HEAD:crlf.txt").stdout.encode() == b"a\r\nb\r\n"


def test_redact_hides_url_credentials() -> None:
    text = "fatal: unable to access 'https://user:s3cret@example.com/x.git/'"
    assert "s3cret" not in redact(text)
    assert "https://***@example.com" in redact(text)
    err = GitError(["git", "fetch", "https://tok@example.com/r"], 128, text)
    assert "s3cret" not in str(err) and "tok" not in " ".join(err.argv)
