"""Loading a packaged YAML default merged with a project's override file, validated.

Strategy, governance and checks configuration all follow one pattern: the packaged
``autopack/config/<name>`` is the default, a project file (under the data directory or named
by a setting) is merged over it, and the result is validated by a pydantic model. Errors name
the file and the key, and are raised as the caller's own exception type.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
Merge = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value in ``override`` replaces the base's."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def read_mapping(text: str, source: str, error: type[Exception]) -> dict[str, Any]:
    """Parse YAML whose top level must be a mapping (empty text is an empty mapping)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{source}: the top level must be a mapping")
    return data


def load_config(
    model: type[M],
    name: str,
    override_path: Path | None,
    *,
    error: type[Exception],
    merge: Merge = deep_merge,
) -> M:
    """The packaged ``name`` merged with ``override_path`` (when given), validated."""
    source = f"{name} (packaged)"
    packaged = resources.files("autopack.config").joinpath(name).read_text()
    data = read_mapping(packaged, source, error)
    if override_path is not None:
        try:
            text = Path(override_path).read_text(encoding="utf-8")
        except OSError as exc:
            raise error(f"{override_path}: cannot read: {exc.strerror}") from exc
        source = str(override_path)
        data = merge(data, read_mapping(text, source, error))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{source}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        ]
        raise error("\n".join(lines)) from exc
