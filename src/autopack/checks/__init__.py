"""What proves a phase: the CI command, JUnit parsing, the baseline, deliverables.

:class:`CiRunner` runs a phase's :class:`~autopack.spec.models.CiSpec` (pytest by default, or
a custom argument list) in a directory the caller provides, in its own process group, with a
timeout, without secrets in its environment, and returns a :class:`CheckReport`. A
:class:`Baseline` (:func:`compute_baseline`, run on a checkout of the base commit) separates
new failures from pre-existing ones. :func:`check_deliverables` checks the paths a phase must
produce. Profiles and limits come from :class:`ChecksConfig` (packaged ``checks.yaml`` +
``<data_dir>/checks.yaml``). This package never calls git.

Exceptions (one tree; test outcomes are report values, not exceptions)::

    ChecksError               root; every error has a stable ``code``
    ├── ChecksConfigError     checks.yaml unreadable or malformed
    ├── UnsafePathError       ci.workdir (or a path) leaves the worktree
    ├── JUnitError            JUnit XML unreadable, malformed, too large, DOCTYPE/ENTITY
    └── ProcessStartError     a command cannot be started (the runner reports ERROR)
"""

from autopack.checks.baseline import Baseline, compute_baseline
from autopack.checks.ci import JUNIT_ENV, SKIP_ALL_REASON, CiRunner
from autopack.checks.config import ChecksConfig, ProfileConfig, ProfileName, checks_override_path
from autopack.checks.deliverables import (
    DeliverableCheck,
    DeliverablesReport,
    DeliverableStatus,
    check_deliverables,
)
from autopack.checks.errors import (
    ChecksConfigError,
    ChecksError,
    JUnitError,
    ProcessStartError,
    UnsafePathError,
)
from autopack.checks.junit import (
    JUnitResult,
    Outcome,
    TestCaseResult,
    parse_junit_bytes,
    parse_junit_file,
    parse_junit_files,
)
from autopack.checks.process import build_child_env, is_secret_name
from autopack.checks.report import CheckReport, CheckStatus

__all__ = [
    "JUNIT_ENV",
    "SKIP_ALL_REASON",
    "Baseline",
    "CheckReport",
    "CheckStatus",
    "ChecksConfig",
    "ChecksConfigError",
    "ChecksError",
    "CiRunner",
    "DeliverableCheck",
    "DeliverableStatus",
    "DeliverablesReport",
    "JUnitError",
    "JUnitResult",
    "Outcome",
    "ProcessStartError",
    "ProfileConfig",
    "ProfileName",
    "TestCaseResult",
    "UnsafePathError",
    "build_child_env",
    "check_deliverables",
    "checks_override_path",
    "compute_baseline",
    "is_secret_name",
    "parse_junit_bytes",
    "parse_junit_file",
    "parse_junit_files",
]
