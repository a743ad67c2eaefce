"""The run specification: what a user asks Autopack to do, and how plans are read.

Public API::

    from autopack.spec import load_spec, SpecError

    loaded = load_spec("plan.yaml")      # LoadedSpec(spec, shape, source, format)
    for phase in loaded.spec.phases(): ...

Loading raises only :class:`SpecError`, which lists every :class:`SpecIssue` found, each
located in the original document (``tiers[0].phases[2].complexity``).
"""

from autopack.spec._normaliser import SpecShape
from autopack.spec.errors import SpecError, SpecIssue
from autopack.spec.loader import LoadedSpec, load_spec, load_spec_data, load_spec_text
from autopack.spec.models import (
    COMPLEXITY_ALIASES,
    CiSpec,
    Complexity,
    ContextRef,
    Deliverable,
    DeliverableKind,
    PhaseSpec,
    RunSpec,
    SafetyProfile,
    Scope,
    TierSpec,
    normalize_rel_path,
)
from autopack.spec.schema import run_spec_schema, run_spec_schema_json

__all__ = [
    "COMPLEXITY_ALIASES",
    "CiSpec",
    "Complexity",
    "ContextRef",
    "Deliverable",
    "DeliverableKind",
    "LoadedSpec",
    "PhaseSpec",
    "RunSpec",
    "SafetyProfile",
    "Scope",
    "SpecError",
    "SpecIssue",
    "SpecShape",
    "TierSpec",
    "load_spec",
    "load_spec_data",
    "load_spec_text",
    "normalize_rel_path",
    "run_spec_schema",
    "run_spec_schema_json",
]
