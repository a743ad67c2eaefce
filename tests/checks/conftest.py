"""Fixtures for the checks tests: a runner writing into a temporary artifacts directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.checks import ChecksConfig, CiRunner
from support.sample_project import write_sample_project


@pytest.fixture
def checks_config() -> ChecksConfig:
    """The packaged defaults with a short kill grace, so timeout tests stay fast."""
    return ChecksConfig.load().model_copy(update={"kill_grace_seconds": 0.5})


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    return tmp_path / "artifacts"


@pytest.fixture
def runner(artifacts: Path, checks_config: ChecksConfig) -> CiRunner:
    return CiRunner(artifacts_dir=artifacts, config=checks_config)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The sample project (one broken test, one e2e test), not a git repository."""
    return write_sample_project(tmp_path / "project")
