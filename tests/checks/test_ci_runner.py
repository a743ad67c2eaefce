"""The CI runner on the sample project: pytest and custom checks, profiles, skips, errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from autopack.checks import (
    SKIP_ALL_REASON,
    ChecksConfig,
    CheckStatus,
    CiRunner,
    UnsafePathError,
)
from autopack.spec.models import CiSpec
from support.sample_project import E2E_TEST, FAILING_TEST_CALC, write_sample_project


def test_default_pytest_run_reports_the_broken_test(project: Path, runner: CiRunner):
    report = runner.run(project, None)
    assert report.status is CheckStatus.FAILED
    assert report.kind == "pytest" and report.profile == "normal"
    assert report.command[:3] == [sys.executable, "-m", "pytest"]
    assert "--continue-on-collection-errors" in report.command
    assert (report.passed, report.failed, report.errored) == (3, 1, 0)
    assert report.skipped == 0  # the e2e test is deselected, not skipped
    assert report.failing == [FAILING_TEST_CALC]
    assert report.new_failures == [FAILING_TEST_CALC]  # no baseline: every failure is new
    assert "known bug" in report.failure_details[FAILING_TEST_CALC]
    assert report.returncode == 1
    assert Path(report.log_path or "").name == "ci-1.log"
    assert Path(report.junit_path or "").name == "ci-1.junit.xml"
    assert "1 failed" in Path(report.log_path or "").read_text()
    assert "test_broken" in report.output_tail
    text = report.for_model()
    assert FAILING_TEST_CALC in text and "fix these" in text
    assert not list(project.rglob("__pycache__"))
    assert not (project / ".pytest_cache").exists()


def test_strict_profile_runs_e2e_tests(tmp_path: Path, runner: CiRunner):
    root = write_sample_project(tmp_path / "p", broken=False)
    normal = runner.run(root, None, profile="normal")
    strict = runner.run(root, None, profile="strict")
    assert normal.status is CheckStatus.PASSED and strict.status is CheckStatus.PASSED
    assert (normal.passed, strict.passed) == (3, 4)
    assert "not (e2e)" in normal.command
    assert "-m" not in strict.command[3:]
    # A failing e2e test only matters in strict.
    (root / "tests" / "test_e2e.py").write_text(
        "import pytest\n\n@pytest.mark.e2e\ndef test_end_to_end():\n    assert False\n"
    )
    assert runner.run(root, None, profile="normal").status is CheckStatus.PASSED
    failed = runner.run(root, None, profile="strict")
    assert failed.status is CheckStatus.FAILED
    assert failed.new_failures == [E2E_TEST]
    logs = sorted(p.name for p in (tmp_path / "artifacts").glob("*.log"))
    assert logs == ["ci-1.log", "ci-2.log", "ci-3.log", "ci-4.log"]


def test_no_tests_collected_passes_in_normal_fails_in_strict(project: Path, runner: CiRunner):
    ci = CiSpec(paths=["tests/test_e2e.py"])
    normal = runner.run(project, ci, profile="normal")
    assert normal.status is CheckStatus.PASSED
    assert any("no tests" in w for w in normal.warnings)
    nothing = CiSpec(paths=["tests/test_e2e.py"], args=["-k", "no_such_test"])
    strict = runner.run(project, nothing, profile="strict")
    assert strict.status is CheckStatus.FAILED
    assert strict.returncode == 5


def test_strict_extra_paths_and_args(project: Path, artifacts: Path):
    config = ChecksConfig.model_validate(
        {
            "profiles": {
                "normal": {},
                "strict": {"extra_paths": ["tests/test_e2e.py", "missing/"], "extra_args": ["-x"]},
            }
        }
    )
    runner = CiRunner(artifacts_dir=artifacts, config=config)
    report = runner.run(
        project, CiSpec(paths=["tests/test_calc.py"], args=["-k", "not broken"]), profile="strict"
    )
    assert report.status is CheckStatus.PASSED
    assert report.passed == 4
    assert report.command[-2:] == ["tests/test_calc.py", "tests/test_e2e.py"]
    assert "-x" in report.command and "missing/" not in report.command


def test_collection_error_counts_as_failure_with_its_id(project: Path, runner: CiRunner):
    (project / "tests" / "test_import.py").write_text("import no_such_module\n")
    report = runner.run(project, None)
    assert report.status is CheckStatus.FAILED
    assert "tests/test_import.py" in report.failing
    assert report.passed == 3  # the other tests still ran
    assert report.errored == 1


def test_usage_error_is_error(project: Path, runner: CiRunner):
    report = runner.run(project, CiSpec(args=["--no-such-option"]))
    assert report.status is CheckStatus.ERROR
    assert report.returncode == 4
    assert "usage error" in " ".join(report.warnings)
    missing = runner.run(project, CiSpec(paths=["tests/test_nope.py"]))
    assert missing.status is CheckStatus.ERROR


def test_skip_and_skip_all(project: Path, artifacts: Path, checks_config: ChecksConfig):
    runner = CiRunner(artifacts_dir=artifacts, config=checks_config)
    report = runner.run(project, CiSpec(skip=True, reason="docs only"))
    assert report.status is CheckStatus.SKIPPED
    assert report.skip_reason == "ci.skip: docs only"
    assert report.ok
    everything = CiRunner(artifacts_dir=artifacts, config=checks_config, skip_all=True)
    skipped = everything.run(project, CiSpec(type="custom", command=["false"]))
    assert skipped.status is CheckStatus.SKIPPED
    assert skipped.skip_reason == SKIP_ALL_REASON
    assert "AUTOPACK_SKIP_CI is set" in skipped.summary()
    assert "SKIPPED" in skipped.for_model()
    assert not artifacts.exists()  # nothing ran


def test_from_settings_reads_skip_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from autopack.settings import load_settings

    monkeypatch.setenv("AUTOPACK_SKIP_CI", "1")
    settings = load_settings(workspace=tmp_path)
    settings.ensure_data_dir()
    (settings.data_dir / "checks.yaml").write_text("kill_grace_seconds: 1\n")
    runner = CiRunner.from_settings(settings, artifacts_dir=tmp_path / "a")
    assert runner.skip_all
    assert runner.config.kill_grace_seconds == 1
    assert runner.run(tmp_path, None).skip_reason == SKIP_ALL_REASON


def test_custom_command_pass_and_fail(tmp_path: Path, runner: CiRunner):
    ok = runner.run(tmp_path, CiSpec(type="custom", command=[sys.executable, "-c", "print('hi')"]))
    assert ok.status is CheckStatus.PASSED
    assert ok.kind == "custom"
    assert "hi" in ok.output_tail
    bad = runner.run(
        tmp_path,
        CiSpec(type="custom", command=[sys.executable, "-c", "import sys; sys.exit(3)"]),
    )
    assert bad.status is CheckStatus.FAILED
    assert bad.returncode == 3
    assert bad.junit_path is None
    assert any("no JUnit report" in w for w in bad.warnings)


CUSTOM_JUNIT = """
import os, sys
open(os.environ["AUTOPACK_JUNIT_XML"], "w").write(
    "<testsuite><testcase classname='suite' name='old'><failure/></testcase>"
    "<testcase classname='suite' name='ok'/></testsuite>")
sys.exit(1)
"""


def test_custom_command_with_junit_and_baseline(tmp_path: Path, runner: CiRunner):
    from autopack.checks import Baseline

    ci = CiSpec(type="custom", command=[sys.executable, "-c", CUSTOM_JUNIT])
    plain = runner.run(tmp_path, ci)
    assert plain.status is CheckStatus.FAILED
    assert (plain.passed, plain.failed) == (1, 1)
    assert plain.new_failures == ["suite::old"]
    known = runner.run(tmp_path, ci, baseline=Baseline(failing=frozenset({"suite::old"})))
    assert known.status is CheckStatus.PASSED
    assert known.preexisting_failures == ["suite::old"] and known.new_failures == []


def test_missing_command_is_error(tmp_path: Path, runner: CiRunner):
    report = runner.run(tmp_path, CiSpec(type="custom", command=["no-such-binary-xyz"]))
    assert report.status is CheckStatus.ERROR
    assert "cannot start" in report.output_tail


def test_workdir(tmp_path: Path, runner: CiRunner):
    root = tmp_path / "repo"
    write_sample_project(root / "sub", broken=False)
    report = runner.run(root, CiSpec(workdir="sub"))
    assert report.status is CheckStatus.PASSED
    assert report.cwd == str((root / "sub").resolve())
    missing = runner.run(root, CiSpec(workdir="nope"))
    assert missing.status is CheckStatus.ERROR
    assert "does not exist" in missing.warnings[0]


def test_workdir_escape_is_refused(tmp_path: Path, runner: CiRunner):
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(UnsafePathError, match="leaves the worktree"):
        runner.run(root, CiSpec(type="custom", command=["true"], workdir="link"))
    with pytest.raises(ValueError, match=r"\.\."):
        CiSpec(workdir="../outside")  # the spec itself refuses '..'


def test_relative_artifacts_dir_is_absolute_for_the_child(
    tmp_path: Path, checks_config: ChecksConfig, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    runner = CiRunner(artifacts_dir=Path("art"), config=checks_config)
    work = tmp_path / "work"
    work.mkdir()
    script = "import os; open(os.environ['AUTOPACK_JUNIT_XML'], 'w').write('<testsuite/>')"
    report = runner.run(work, CiSpec(type="custom", command=[sys.executable, "-c", script]))
    assert report.status is CheckStatus.PASSED
    assert report.junit_path == str(tmp_path / "art" / "ci-1.junit.xml")
    assert Path(report.junit_path).is_file()


def test_checks_get_a_private_home(tmp_path):
    from autopack.checks import ChecksConfig, CiRunner
    from autopack.spec.models import CiSpec

    work = tmp_path / "w"
    work.mkdir()
    out = tmp_path / "home.txt"
    runner = CiRunner(artifacts_dir=tmp_path / "art", config=ChecksConfig.load())
    spec = CiSpec(
        type="custom",
        command=["python3", "-c", f"import os; open({str(out)!r}, 'w').write(os.environ['HOME'])"],
    )
    runner.run(work, spec)
    home = out.read_text()
    assert home.startswith(str(tmp_path / "art"))
    assert home != str(Path.home())
