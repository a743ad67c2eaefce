"""checks.yaml: packaged defaults, project override, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.checks import ChecksConfig, ChecksConfigError, checks_override_path


def test_packaged_defaults():
    config = ChecksConfig.load()
    assert config.profile("normal").deselect_markers == ["e2e"]
    assert config.profile("normal").marker_args() == ["-m", "not (e2e)"]
    assert config.profile("strict").marker_args() == []
    assert config.profile("strict").no_tests == "fail"
    assert "PATH" in config.env_passthrough
    assert ChecksConfig() == config  # the model defaults match the packaged file


def test_override_merges_key_by_key(tmp_path: Path):
    path = tmp_path / "checks.yaml"
    path.write_text(
        "profiles:\n  normal:\n    deselect_markers: [e2e, slow]\n"
        "  strict:\n    extra_paths: [tests/e2e/]\nkill_grace_seconds: 1\n"
    )
    config = ChecksConfig.load(path)
    assert config.profile("normal").marker_args() == ["-m", "not (e2e or slow)"]
    assert config.profile("normal").no_tests == "pass"  # kept from the defaults
    assert config.profile("strict").extra_paths == ["tests/e2e/"]
    assert config.profile("strict").no_tests == "fail"
    assert config.kill_grace_seconds == 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("profiles: [1, 2", "not valid YAML"),
        ("- a list\n", "top level must be a mapping"),
        ("profiles:\n  normal:\n    deselect_markers: ['e2e or True']\n", "deselect_markers"),
        ("profiles:\n  fast: {}\n", "profiles.fast"),
        ("surprise: 1\n", "surprise"),
        ("profiles:\n  strict:\n    extra_paths: [../up]\n", "extra_paths"),
    ],
)
def test_bad_override(tmp_path: Path, text: str, fragment: str):
    path = tmp_path / "checks.yaml"
    path.write_text(text)
    with pytest.raises(ChecksConfigError) as info:
        ChecksConfig.load(path)
    assert fragment in str(info.value)
    assert info.value.code == "checks_config_invalid"


def test_missing_override_and_override_path(tmp_path: Path):
    with pytest.raises(ChecksConfigError, match="cannot read"):
        ChecksConfig.load(tmp_path / "nope.yaml")
    assert checks_override_path(tmp_path) is None
    (tmp_path / "checks.yaml").write_text("{}\n")
    assert checks_override_path(tmp_path) == tmp_path / "checks.yaml"
