"""Remote URLs: which values are remotes, which are accepted, credentials never shown."""

from __future__ import annotations

import pytest

from autopack.settings import load_settings
from autopack.spec.errors import SpecError
from autopack.spec.loader import load_spec_data
from autopack.workspace import WorkspaceError
from autopack.workspace.location import (
    check_remote_url,
    has_credentials,
    is_remote,
    redact_url,
    same_repository,
    slug,
    strip_credentials,
)
from autopack.workspace.remote import remote_for
from support.engine_script import PLAN

SECRET_URL = "https://user:s3cret@127.0.0.1:9/x.git"


@pytest.mark.parametrize(
    "value",
    [
        "https://github.com/org/repo.git",
        "ssh://git@example.com:2222/org/repo.git",
        "git@github.com:org/repo.git",
        "example.com:org/repo.git",
        "file:///srv/git/repo.git",
        "ftp://example.com/repo",
        SECRET_URL,
    ],
)
def test_remotes_are_recognised(value: str) -> None:
    assert is_remote(value)


@pytest.mark.parametrize(
    "value", [".", "../repo", "/abs/repo", "repo/sub:dir", "C:\\work\\repo", "C:/work/repo"]
)
def test_local_paths_are_not_remotes(value: str) -> None:
    assert not is_remote(value)


@pytest.mark.parametrize(
    "value",
    [
        "https://github.com/org/repo.git",
        "ssh://git@example.com:2222/org/repo.git",
        "git@github.com:org/repo.git",
        "file:///srv/git/repo.git",
        "  https://github.com/org/repo.git  ",
    ],
)
def test_accepted_urls(value: str) -> None:
    assert check_remote_url(value) == value.strip()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("http://example.com/repo.git", "unsupported URL scheme 'http'"),
        ("git://example.com/repo.git", "unsupported URL scheme 'git'"),
        ("ftp://example.com/repo", "unsupported URL scheme 'ftp'"),
        ("https:///repo.git", "needs a host"),
        ("https://example.com/", "needs a host and a repository path"),
        ("file://host/srv/repo.git", "absolute path"),
        ("https://example.com:port/x.git", "not a valid URL"),
        ("https://example.com/a b.git", "whitespace"),
        (SECRET_URL, "carries credentials"),
        ("https://ghp_tokenonly@github.com/o/r.git", "carries credentials"),
    ],
)
def test_refused_urls_say_why_without_the_secret(value: str, why: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_remote_url(value)
    assert why in str(caught.value)
    assert "s3cret" not in str(caught.value) and "ghp_tokenonly" not in str(caught.value)


def test_credentials_stripped_and_redacted() -> None:
    assert has_credentials(SECRET_URL)
    assert has_credentials("https://token@github.com/o/r.git")
    assert not has_credentials("ssh://git@example.com/o/r.git")  # a user name is no secret
    assert has_credentials("ssh://git:pw@example.com/o/r.git")
    assert strip_credentials(SECRET_URL) == "https://127.0.0.1:9/x.git"
    assert strip_credentials("ssh://git:pw@example.com/o/r.git") == "ssh://git@example.com/o/r.git"
    assert redact_url(f"fatal: cannot reach {SECRET_URL}") == (
        "fatal: cannot reach https://***@127.0.0.1:9/x.git"
    )
    assert check_remote_url(SECRET_URL, allow_credentials=True) == SECRET_URL


def test_slug_is_readable_stable_and_secret_free() -> None:
    plain = slug("https://127.0.0.1:9/x.git")
    assert slug(SECRET_URL) == plain  # a rotated token keeps the same mirror
    assert "s3cret" not in plain and "user" not in plain
    assert plain.startswith("127.0.0.1-9-x.git-")
    assert slug("git@github.com:org/repo.git").startswith("github.com-org-repo.git-")
    assert slug("https://a.example/x.git") != slug("https://b.example/x.git")
    assert "/" not in slug("file:///srv/git/repo.git")


def test_same_repository_ignores_credentials_and_suffix() -> None:
    assert same_repository(SECRET_URL, "https://127.0.0.1:9/x")
    assert not same_repository(SECRET_URL, "https://127.0.0.1:9/y.git")


def _plan(workspace: str) -> dict:
    return {**PLAN, "workspace": workspace}


def test_run_spec_accepts_a_remote_url() -> None:
    loaded = load_spec_data(_plan("git@github.com:org/repo.git"))
    assert loaded.spec.workspace == "git@github.com:org/repo.git"
    assert load_spec_data(PLAN).spec.workspace == "."


def test_run_spec_refuses_credentials_naming_the_field() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec_data(_plan(SECRET_URL))
    text = str(caught.value)
    assert "workspace:" in text and "carries credentials" in text
    assert "s3cret" not in text and "s3cret" not in repr(caught.value.issues)


def test_run_spec_refuses_an_unsupported_scheme() -> None:
    with pytest.raises(SpecError, match=r"workspace: .*unsupported URL scheme 'ftp'"):
        load_spec_data(_plan("ftp://example.com/repo"))


def test_setting_accepts_credentials_as_a_secret(tmp_path) -> None:
    settings = load_settings(workspace=tmp_path, workspace_url=SECRET_URL)
    assert settings.workspace_url is not None
    assert settings.workspace_url.get_secret_value() == SECRET_URL
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings)


def test_setting_from_file_and_refusal_without_the_secret(tmp_path, monkeypatch) -> None:
    secret_file = tmp_path / "url"
    secret_file.write_text(SECRET_URL + "\n")
    monkeypatch.setenv("AUTOPACK_WORKSPACE_URL_FILE", str(secret_file))
    settings = load_settings(workspace=tmp_path)
    assert settings.workspace_url.get_secret_value() == SECRET_URL
    chosen = remote_for(".", settings.workspace_url.get_secret_value(), tmp_path)
    assert chosen is not None and chosen.url == "https://127.0.0.1:9/x.git"
    secret_file.write_text("ftp://user:s3cret@example.com/x.git\n")
    bad = load_settings(workspace=tmp_path).workspace_url.get_secret_value()
    with pytest.raises(WorkspaceError) as caught:
        remote_for(".", bad, tmp_path)
    assert caught.value.code == "remote_unusable"
    assert str(caught.value).startswith("AUTOPACK_WORKSPACE_URL: ")
    assert "unsupported URL scheme" in str(caught.value)
    assert "s3cret" not in str(caught.value)
