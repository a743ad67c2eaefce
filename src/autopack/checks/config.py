"""Checks configuration: CI profiles and runner limits, packaged defaults + project override.

The packaged ``config/checks.yaml`` documents every key. A project overrides any of them in
``<data_dir>/checks.yaml`` (:func:`checks_override_path`); mappings merge key by key, lists
and scalars replace.

Profile model: ``normal`` deselects the markers it lists (``e2e`` by default) with
``-m "not (...)"``; ``strict`` deselects nothing and may add arguments and paths. Both decide
what pytest's "no tests collected" (exit 5) means: ``pass`` or ``fail``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from autopack.checks.errors import ChecksConfigError
from autopack.checks.process import DEFAULT_PASSTHROUGH
from autopack.config.loader import load_config
from autopack.spec.models import RelPath

__all__ = ["ChecksConfig", "ProfileConfig", "ProfileName", "checks_override_path"]

ProfileName = Literal["normal", "strict"]
MarkerName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProfileConfig(_Strict):
    """What one CI profile adds to a pytest command."""

    deselect_markers: list[MarkerName] = Field(
        default_factory=list,
        description="pytest markers this profile does not run (-m 'not (a or b)').",
    )
    extra_args: list[str] = Field(
        default_factory=list, description="Arguments added before the phase's ci.args."
    )
    extra_paths: list[RelPath] = Field(
        default_factory=list,
        description="Test paths added when the phase names ci.paths (missing ones are left out).",
    )
    no_tests: Literal["pass", "fail"] = Field(
        default="pass", description="What pytest exit code 5 (no tests collected) means."
    )

    def marker_args(self) -> list[str]:
        """``["-m", "not (e2e or slow)"]``, or nothing when no marker is deselected."""
        if not self.deselect_markers:
            return []
        return ["-m", f"not ({' or '.join(self.deselect_markers)})"]


class ChecksConfig(_Strict):
    """The whole ``checks.yaml``."""

    version: Literal[1] = 1
    profiles: dict[ProfileName, ProfileConfig] = Field(
        default_factory=lambda: {
            "normal": ProfileConfig(deselect_markers=["e2e"]),
            "strict": ProfileConfig(no_tests="fail"),
        }
    )
    kill_grace_seconds: float = Field(default=5.0, ge=0, le=300)
    output_head_bytes: int = Field(default=1024, ge=0, le=1_000_000)
    output_tail_bytes: int = Field(default=3072, ge=0, le=1_000_000)
    max_log_bytes: int = Field(default=50 * 1024 * 1024, ge=1024, le=10 * 1024**3)
    """A check writing more output than this is stopped (its process group killed)."""
    env_passthrough: list[str] = Field(default_factory=lambda: list(DEFAULT_PASSTHROUGH))

    def profile(self, name: ProfileName) -> ProfileConfig:
        """The named profile (an unconfigured one adds nothing)."""
        return self.profiles.get(name, ProfileConfig())

    @classmethod
    def load(cls, override_path: Path | None = None) -> ChecksConfig:
        """Packaged defaults, merged with a project override file when given."""
        return load_config(cls, "checks.yaml", override_path, error=ChecksConfigError)


def checks_override_path(data_dir: Path) -> Path | None:
    """``<data_dir>/checks.yaml`` when the project has one."""
    candidate = Path(data_dir) / "checks.yaml"
    return candidate if candidate.is_file() else None
