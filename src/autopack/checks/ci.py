"""The CI runner: run a phase's ``CiSpec`` in a worktree and judge the result.

pytest (the default, also when ``ci`` is ``None``) runs as::

    <python> -m pytest -q -p no:cacheprovider --continue-on-collection-errors
        --junitxml=<artifacts>/<label>-<n>.junit.xml <profile args> <ci.args> <ci.paths>

with ``cwd = worktree / ci.workdir``. ``<python>`` is the ``python`` given to the runner,
else ``<worktree>/.venv/bin/python`` when it exists, else the interpreter running Autopack.
``--continue-on-collection-errors`` makes a test file that cannot be imported a failing test
(with its id) instead of stopping the session, so a collection error on the base commit is a
pre-existing failure like any other.

pytest exit codes: 0 → PASSED; 1 → FAILED (or PASSED when every failing test is in the
baseline); 5 "no tests collected" → the profile's ``no_tests`` (``normal``: PASSED with a
warning, ``strict``: FAILED); 2, 3, 4 and anything else (a signal) → ERROR.

A custom check runs ``ci.command + ci.args``; its exit status decides (0 PASSED, else
FAILED). If it writes JUnit XML to ``$AUTOPACK_JUNIT_XML``, the counts and failing ids are
read from it and a non-zero exit whose failing tests all fail on the base commit is PASSED.
Without JUnit a non-zero exit is always FAILED (a baseline cannot tell old from new).

Logs go to ``<artifacts_dir>/<label>-<n>.log`` (n = 1, 2, ... never overwritten).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from autopack.checks.baseline import Baseline
from autopack.checks.config import (
    ChecksConfig,
    ProfileConfig,
    ProfileName,
    checks_override_path,
)
from autopack.checks.errors import JUnitError, ProcessStartError, UnsafePathError
from autopack.checks.junit import JUnitResult, parse_junit_file
from autopack.checks.process import ProcessResult, build_child_env, redact_text, run_process
from autopack.checks.report import CheckReport, CheckStatus
from autopack.spec.models import CiSpec

if TYPE_CHECKING:
    from autopack.settings import Settings

__all__ = ["JUNIT_ENV", "SKIP_ALL_REASON", "CiRunner"]

JUNIT_ENV = "AUTOPACK_JUNIT_XML"
"""Environment variable naming where a custom check may write JUnit XML."""
SKIP_ALL_REASON = "AUTOPACK_SKIP_CI is set"
_PYTEST_ERRORS = {2: "interrupted", 3: "internal error", 4: "usage error"}
_DEFAULT_CI = CiSpec()


@dataclass(frozen=True)
class _Verdict:
    status: CheckStatus
    new: list[str]
    old: list[str]
    warnings: list[str]


class CiRunner:
    """Runs checks for one run; every report's log lands in ``artifacts_dir``."""

    def __init__(
        self,
        *,
        artifacts_dir: Path,
        config: ChecksConfig,
        skip_all: bool = False,
        python: str | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.artifacts_dir = Path(artifacts_dir).resolve()  # the child runs elsewhere
        self.config = config
        self.skip_all = skip_all
        self.python = python
        self.redact = redact
        """Applied to the log, the JUnit file and the output tail (secrets of files a test
        printed, which the environment's redaction cannot know)."""

    @classmethod
    def from_settings(
        cls, settings: Settings, *, artifacts_dir: Path, python: str | None = None
    ) -> CiRunner:
        """A runner with the project's ``checks.yaml`` and ``AUTOPACK_SKIP_CI`` applied."""
        config = ChecksConfig.load(checks_override_path(settings.data_dir))
        return cls(
            artifacts_dir=artifacts_dir, config=config, skip_all=settings.skip_ci, python=python
        )

    # -- public -------------------------------------------------------------------------

    def run(
        self,
        worktree: Path,
        ci: CiSpec | None,
        *,
        profile: ProfileName = "normal",
        baseline: Baseline | None = None,
        label: str = "ci",
    ) -> CheckReport:
        """Run the phase's checks in ``worktree`` and judge them against ``baseline``.

        Raises :class:`UnsafePathError` when ``ci.workdir`` leaves the worktree; every other
        outcome (failures, crashes, timeouts, a missing command) is a report.
        """
        spec = ci or _DEFAULT_CI
        base = {"profile": profile, "kind": spec.type}
        if self.skip_all:
            return CheckReport(status=CheckStatus.SKIPPED, skip_reason=SKIP_ALL_REASON, **base)
        if spec.skip:
            reason = f"ci.skip: {spec.reason}" if spec.reason else "ci.skip"
            return CheckReport(status=CheckStatus.SKIPPED, skip_reason=reason, **base)

        worktree = Path(worktree).resolve()
        cwd = self._workdir(worktree, spec)
        log_path, junit_path = self._allocate(label)
        prof = self.config.profile(profile)
        if spec.type == "custom":
            argv = [*(spec.command or []), *spec.args]
        else:
            argv = self._pytest_argv(worktree, cwd, spec, prof, junit_path)
        if not cwd.is_dir():
            message = f"working directory {spec.workdir or str(cwd)!r} does not exist"
            log_path.write_text(f"{message}\n", encoding="utf-8")
            return CheckReport(
                status=CheckStatus.ERROR,
                command=argv,
                cwd=str(cwd),
                output_tail=message,
                log_path=str(log_path),
                warnings=[message],
                **base,
            )
        # A private, empty HOME: code under test must not read ~/.aws, ~/.netrc, ~/.pypirc…
        home = self.artifacts_dir / "home"
        home.mkdir(parents=True, exist_ok=True)
        env = build_child_env(
            {"HOME": str(home), **spec.env, JUNIT_ENV: str(junit_path)},
            passthrough=self.config.env_passthrough,
        )
        warnings = [f"ci.env: secret-looking variable {n} was not passed" for n in env.dropped]
        try:
            result = run_process(
                argv,
                cwd=cwd,
                env=env,
                log_path=log_path,
                timeout_s=spec.timeout_seconds,
                kill_grace_s=self.config.kill_grace_seconds,
                head_bytes=self.config.output_head_bytes,
                tail_bytes=self.config.output_tail_bytes,
                max_log_bytes=self.config.max_log_bytes,
            )
        except ProcessStartError as exc:
            log_path.write_text(f"{exc.message}\n", encoding="utf-8")
            return CheckReport(
                status=CheckStatus.ERROR,
                command=[redact_text(a, env.redact) for a in argv],
                cwd=str(cwd),
                output_tail=exc.message,
                log_path=str(log_path),
                warnings=[*warnings, exc.message],
                **base,
            )
        if self.redact is not None:
            for path in (log_path, junit_path):
                if path.is_file():
                    text = path.read_text(encoding="utf-8", errors="replace")
                    path.write_text(self.redact(text), encoding="utf-8")
            result = replace(result, output_tail=self.redact(result.output_tail))
        junit, junit_warning = self._read_junit(junit_path, roots=(cwd, worktree))
        if junit_warning:
            warnings.append(junit_warning)
        verdict = _judge(spec.type, result, junit, prof, baseline)
        if baseline is not None and not baseline.trusted:
            warnings.append(
                f"baseline run ended {baseline.status.value}: every failure counts as new"
            )
        result = replace(result, argv=tuple(redact_text(a, env.redact) for a in result.argv))
        return self._report(
            spec,
            profile,
            result,
            cwd,
            junit,
            junit_path,
            verdict,
            baseline,
            [*warnings, *verdict.warnings],
        )

    # -- helpers ------------------------------------------------------------------------

    def _workdir(self, worktree: Path, spec: CiSpec) -> Path:
        if not spec.workdir:
            return worktree
        cwd = (worktree / spec.workdir).resolve()
        if cwd != worktree and worktree not in cwd.parents:
            raise UnsafePathError(f"ci.workdir {spec.workdir!r} leaves the worktree")
        return cwd

    def _python(self, worktree: Path) -> str:
        if self.python:
            return self.python
        venv = worktree / ".venv" / "bin" / "python"
        return str(venv) if venv.exists() else sys.executable

    def _pytest_argv(
        self, worktree: Path, cwd: Path, spec: CiSpec, prof: ProfileConfig, junit: Path
    ) -> list[str]:
        paths = list(spec.paths)
        if paths:
            paths += [p for p in prof.extra_paths if p not in paths and (cwd / p).exists()]
        return [
            self._python(worktree),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--continue-on-collection-errors",
            f"--junitxml={junit}",
            *prof.marker_args(),
            *prof.extra_args,
            *spec.args,
            *paths,
        ]

    def _allocate(self, label: str) -> tuple[Path, Path]:
        """``<label>-<n>.log`` with the first free n, created atomically (no overwrite)."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "ci"
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        n = 1
        while True:
            log = self.artifacts_dir / f"{safe}-{n}.log"
            try:
                log.touch(exist_ok=False)
            except FileExistsError:
                n += 1
                continue
            return log, self.artifacts_dir / f"{safe}-{n}.junit.xml"

    @staticmethod
    def _read_junit(path: Path, roots: tuple[Path, ...]) -> tuple[JUnitResult | None, str]:
        if not path.is_file():
            return None, ""
        try:
            return parse_junit_file(path, roots=roots), ""
        except JUnitError as exc:
            return None, f"JUnit report ignored: {exc.message}"

    def _report(
        self,
        spec: CiSpec,
        profile: str,
        result: ProcessResult,
        cwd: Path,
        junit: JUnitResult | None,
        junit_path: Path,
        verdict: _Verdict,
        baseline: Baseline | None,
        warnings: list[str],
    ) -> CheckReport:
        counts = junit or JUnitResult()
        details = {t: d for t in verdict.new if (d := counts.detail(t))}
        return CheckReport(
            status=verdict.status,
            profile=profile,
            kind=spec.type,
            command=list(result.argv),
            cwd=str(cwd),
            returncode=result.returncode,
            duration_s=result.duration_s,
            passed=counts.passed,
            failed=counts.failed,
            errored=counts.errored,
            skipped=counts.skipped,
            failing=counts.failing,
            new_failures=verdict.new,
            preexisting_failures=verdict.old,
            failure_details=details,
            output_tail=result.output_tail,
            log_path=str(result.log_path),
            junit_path=str(junit_path) if junit is not None else None,
            baseline_commit=baseline.commit if baseline is not None else None,
            warnings=warnings,
        )


def _judge(
    kind: str,
    result: ProcessResult,
    junit: JUnitResult | None,
    prof: ProfileConfig,
    baseline: Baseline | None,
) -> _Verdict:
    """Status from the exit code, the JUnit failing ids and the baseline (see module doc)."""
    failing = junit.failing if junit is not None else []
    new, old = (baseline or Baseline()).classify(failing)
    rc = result.returncode
    if result.timed_out:
        return _Verdict(CheckStatus.TIMEOUT, new, old, [])
    if result.overflowed:
        note = "the check wrote more output than the log cap and was stopped"
        return _Verdict(CheckStatus.ERROR, new, old, [note])
    if rc == 0:
        return _Verdict(CheckStatus.PASSED, new, old, [])
    if kind == "pytest" and rc == 5:
        status = CheckStatus.PASSED if prof.no_tests == "pass" else CheckStatus.FAILED
        return _Verdict(status, new, old, ["pytest collected no tests (exit 5)"])
    if kind == "pytest" and rc != 1:
        what = _PYTEST_ERRORS.get(rc or 0, "killed by a signal" if (rc or 0) < 0 else "crash")
        return _Verdict(CheckStatus.ERROR, new, old, [f"pytest exit {rc}: {what}"])
    if junit is None:
        note = "no JUnit report: failing tests unknown, baseline not applied"
        return _Verdict(CheckStatus.FAILED, [], [], [note])
    if not failing:
        return _Verdict(CheckStatus.FAILED, [], [], [f"exit {rc} without a failing test"])
    if not new:
        note = f"all {len(old)} failing test(s) also fail on the base commit"
        return _Verdict(CheckStatus.PASSED, new, old, [note])
    return _Verdict(CheckStatus.FAILED, new, old, [])
