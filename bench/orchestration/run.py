"""Orchestration overhead: Autopack's milliseconds per phase against the bare git work.

For each plan size N (default 10, 50, 200), in each repeat (sizes interleaved):

1. a fresh git repository is written in a temporary directory: a small Python package with
   N modules (``pkg/mod_0000.py`` ...; ``--modules M``: max(N, M) modules, to keep the
   repository the same size for every N), a README and a pyproject, in one commit on
   ``main``;
2. **Autopack**: a plan of N phases (one tier; ``--tiers K`` spreads them over K tiers),
   each scoped to its own module (``scope.paths`` and ``deliverables``), category
   ``feature_scaffolding``, complexity ``low`` (no approval, a single audit), checked by a
   trivial custom CI command (``<this python> -c pass``; ``--ci`` changes it). The scripted
   model answers each Builder call with a SEARCH/REPLACE block on the phase's module (keyed
   by role and phase) and every Auditor call with an approval. The run goes through the real
   engine in-process (``Store.open`` on the default SQLite file, ``Engine``,
   ``store.create_run``, ``execute_run``); only ``execute_run`` is timed. It must end
   ``DONE_SUCCESS`` with one commit per phase on ``autonomous/<run_id>`` (found by their
   ``Autopack-Phase`` trailers; other commits, such as the build-history entry, are counted
   and shown);
3. **bare git**: on an identical fresh repository ``bare_git.sh`` does what the run needs
   and nothing else, per phase: ``git apply`` of the same edit as a patch, the same CI
   command, ``git add -A && git commit``. The whole script is timed.

The table gives per N the median over repeats of the wall ms/phase of both, the overhead
(Autopack minus bare git) and the ratio; ``flat`` divides ms/phase at N by ms/phase at the
smallest N (1.00 = flat); ``cpu`` is CPU time per phase (user + system, children included:
less sensitive to other load on the machine than wall time); ``early``/``late`` are
Autopack's median phase time over the first and the last tenth of one run (from the time
each "phase ..." notification arrives; the first phase, which also computes the CI
baseline, and the last, which runs to the end of the run, are left out): growth inside one
run, free of per-run costs; ``sql/ph`` counts the SQL statements and ``kB wr/ph`` the bytes
the engine's process wrote (``/proc/self/io``) per phase.

``--profile`` adds one cProfile'd run at N=50 (``--profile-n``) and prints its top 15
functions by cumulative time; ``--growth`` profiles a run at the smallest and at the
largest N and lists the functions whose time per phase grows most between them. Profiled
runs are extra runs: they never count in the table.

Usage::

    .venv/bin/python bench/orchestration/run.py [--phases 10,50,200] [--repeat 3]
        [--tiers 1] [--modules M] [--ci "python -c pass"] [--profile [--profile-n 50]]
        [--growth]
    make bench-orchestration

Git runs with an empty global configuration and no system one; ``DATABASE_URL`` and the
``AUTOPACK_*`` variables that would change the work (data dir, skip CI, override files,
memory) are removed from the environment, so the store is the default SQLite file in
``<repo>/.autopack``. Prints figures; asserts only that every run did its work.
"""

from __future__ import annotations

import argparse
import cProfile
import difflib
import io
import itertools
import json
import os
import pstats
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml
from sqlalchemy import event

from autopack.engine import Engine, EngineOptions, execute_run
from autopack.policy.states import RunState
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
BARE_GIT = HERE / "bare_git.sh"
APPROVE = json.dumps({"approved": True, "issues": [], "summary": "looks right"})
IDENTITY = {
    "GIT_AUTHOR_NAME": "Bench User",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench User",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}
_IGNORED_ENV = (
    "DATABASE_URL",
    "DATABASE_URL_FILE",
    "AUTOPACK_DATA_DIR",
    "AUTOPACK_SKIP_CI",
    "AUTOPACK_STRATEGY_FILE",
    "AUTOPACK_MODELS_FILE",
    "AUTOPACK_GOVERNANCE_FILE",
    "AUTOPACK_ENABLE_MEMORY",
    "AUTOPACK_WORKSPACE",
)


# --- the project, its plan, its answers --------------------------------------------------


def module_path(i: int, n: int) -> str:
    return f"pkg/mod_{i:04d}.py"


def phase_id(i: int, n: int) -> str:
    return f"p{i:04d}"


def module_text(i: int) -> str:
    return (
        f'"""Module {i} of the benchmark package."""\n\n\n'
        f"def value():\n    return {i}\n\n\n"
        f'def describe():\n    return "module {i}"\n'
    )


_SEARCH = "def value():\n    return {i}\n"
_REPLACE = 'def value():\n    """The number of this module."""\n    return {i}\n'


def edited_text(i: int) -> str:
    return module_text(i).replace(_SEARCH.format(i=i), _REPLACE.format(i=i))


def builder_answer(i: int, n: int) -> str:
    """The phase's edit as the Builder writes it: one SEARCH/REPLACE block."""
    search, replace = _SEARCH.format(i=i), _REPLACE.format(i=i)
    return f"{module_path(i, n)}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


def patch_text(i: int, n: int) -> str:
    """The same edit as a unified diff for ``git apply``."""
    rel = module_path(i, n)
    return "".join(
        difflib.unified_diff(
            module_text(i).splitlines(keepends=True),
            edited_text(i).splitlines(keepends=True),
            f"a/{rel}",
            f"b/{rel}",
        )
    )


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **IDENTITY},
    ).stdout


def make_repo(path: Path, n: int) -> Path:
    """A package of ``n`` modules, a README and a pyproject, committed once on ``main``."""
    (path / "pkg").mkdir(parents=True)
    (path / "pkg" / "__init__.py").write_text('"""The benchmark package."""\n')
    for i in range(n):
        (path / module_path(i, n)).write_text(module_text(i))
    (path / "README.md").write_text(f"# bench\n\nA package of {n} modules.\n")
    (path / "pyproject.toml").write_text('[project]\nname = "bench-pkg"\nversion = "0.1.0"\n')
    _git(path, "init", "-q", "-b", "main")
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", "initial version")
    return path


def make_plan(run_id: str, n: int, tiers: int, ci: list[str]) -> dict:
    """``n`` low-complexity phases, each scoped to its own module, over ``tiers`` tiers."""
    tiers = max(1, min(tiers, n))
    per_tier = -(-n // tiers)
    plan_tiers = []
    for t in range(tiers):
        indices = range(t * per_tier, min(n, (t + 1) * per_tier))
        plan_tiers.append(
            {
                "tier_id": f"t{t}",
                "tier_index": t,
                "name": f"tier {t}",
                "phases": [
                    {
                        "phase_id": phase_id(i, n),
                        "phase_index": k,
                        "name": f"document value() of module {i}",
                        "description": f"Give value() in {module_path(i, n)} a docstring.",
                        "task_category": "feature_scaffolding",
                        "complexity": "low",
                        "scope": {
                            "paths": [module_path(i, n)],
                            "deliverables": [module_path(i, n)],
                            "ci": {"type": "custom", "command": ci, "timeout_seconds": 60},
                        },
                    }
                    for k, i in enumerate(indices)
                ],
            }
        )
    return {
        "run_id": run_id,
        "goal": "Document every module's value()",
        "token_cap": 1_000_000_000,
        "tiers": plan_tiers,
    }


def make_script(n: int) -> dict:
    answers = [
        {"role": "builder", "phase": phase_id(i, n), "text": builder_answer(i, n)} for i in range(n)
    ]
    answers.append({"role": "auditor", "text": APPROVE})
    return {"answers": answers}


# --- the two contenders -------------------------------------------------------------------


@dataclass
class AutopackRun:
    seconds: float
    cpu_seconds: float
    """CPU time of this process and of every process it started, during ``execute_run``."""
    phase_ms: list[float]
    """Wall time of each phase, from its notification to the next one (or the end)."""
    statements: int
    written: int | None
    """Bytes this process wrote (``wchar`` of /proc/self/io: SQLite, logs, artifacts)."""
    extra_commits: int
    """Commits on the branch besides the phases' (e.g. the build-history entry)."""
    profile: pstats.Stats | None = None


@dataclass
class BareRun:
    seconds: float
    cpu_seconds: float


@dataclass
class Sizes:
    autopack: list[AutopackRun] = field(default_factory=list)
    bare: list[BareRun] = field(default_factory=list)


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _written() -> int | None:
    try:
        text = Path("/proc/self/io").read_text()
    except OSError:
        return None
    fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    return int(fields["wchar"]) if "wchar" in fields else None


def run_autopack(
    root: Path, n: int, tiers: int, ci: list[str], *, modules: int = 0, profile: bool = False
) -> AutopackRun:
    repo = make_repo(root / "repo", max(n, modules))
    run_id = f"bench-{n}"
    script = root / "script.yaml"
    script.write_text(yaml.safe_dump(make_script(n), sort_keys=False))
    settings = load_settings(workspace=repo, skip_ci=False)
    store = Store.open(settings)
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    try:
        engine = Engine(settings, store, EngineOptions(scripted=script))
        loaded = load_spec_data(make_plan(run_id, n, tiers, ci))
        store.create_run(loaded.spec, engine.strategy.compile_run(loaded.spec), shape=loaded.shape)
        marks: list[float] = []

        def notify(message: str) -> None:
            if message.startswith("phase "):
                marks.append(time.perf_counter())

        event.listen(store.engine, "before_cursor_execute", count)
        profiler = cProfile.Profile() if profile else None
        written, cpu, started = _written(), _cpu(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        outcome = execute_run(engine, run_id, notify=notify)
        if profiler is not None:
            profiler.disable()
        ended, cpu, after = time.perf_counter(), _cpu() - cpu, _written()
        event.remove(store.engine, "before_cursor_execute", count)
    finally:
        store.close()
    if outcome.state != RunState.DONE_SUCCESS:
        raise SystemExit(f"N={n}: the run ended {outcome.state}: {outcome.reason}")
    trailers = _git(
        repo,
        "log",
        "--format=%(trailers:key=Autopack-Phase,valueonly,separator=%x2C)",
        f"main..autonomous/{run_id}",
    ).split()
    expected = {phase_id(i, n) for i in range(n)}
    phase_commits = [t for t in trailers if t in expected]
    if len(phase_commits) != n or set(phase_commits) != expected:
        raise SystemExit(
            f"N={n}: {len(phase_commits)} phase commits on autonomous/{run_id} "
            f"({len(set(phase_commits))} distinct phases), expected one per phase ({n})"
        )
    extra = int(_git(repo, "rev-list", "--count", f"main..autonomous/{run_id}")) - n
    bounds = [*marks, ended]
    phase_ms = [(b - a) * 1000 for a, b in itertools.pairwise(bounds)]
    stats = pstats.Stats(profiler, stream=io.StringIO()) if profiler is not None else None
    wrote = after - written if after is not None and written is not None else None
    return AutopackRun(ended - started, cpu, phase_ms, statements, wrote, extra, stats)


def run_bare(root: Path, n: int, ci: list[str], *, modules: int = 0) -> BareRun:
    repo = make_repo(root / "repo", max(n, modules))
    patches = root / "patches"
    patches.mkdir()
    for i in range(n):
        (patches / f"{i}.patch").write_text(patch_text(i, n))
    argv = ["bash", str(BARE_GIT), str(repo), str(patches), str(n), *ci]
    cpu, started = _cpu(), time.perf_counter()
    subprocess.run(argv, check=True, env={**os.environ, **IDENTITY})
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    commits = int(_git(repo, "rev-list", "--count", "main..bare").strip())
    if commits != n:
        raise SystemExit(f"N={n}: bare git made {commits} commits, expected {n}")
    return BareRun(seconds, cpu)


def _in_tmp(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    root = Path(tempfile.mkdtemp(prefix="autopack-bench-orch-"))
    try:
        return fn(root, *args, **kwargs)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- reporting ----------------------------------------------------------------------------


def _tenths(phase_ms: list[float]) -> tuple[float, float]:
    """Median ms/phase of the first and last tenth of a run (first and last phase excluded)."""
    body = phase_ms[1:-1] or phase_ms
    k = max(1, len(body) // 10)
    return statistics.median(body[:k]), statistics.median(body[-k:])


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(results: dict[int, Sizes]) -> None:
    sizes = sorted(results)

    def row(n: int) -> dict[str, float]:
        r = results[n]
        written = [a.written / n / 1000 for a in r.autopack if a.written is not None]
        return {
            "ap": _median([a.seconds * 1000 / n for a in r.autopack]),
            "ap_best": min(a.seconds * 1000 / n for a in r.autopack),
            "git": _median([b.seconds * 1000 / n for b in r.bare]),
            "git_best": min(b.seconds * 1000 / n for b in r.bare),
            "ap_cpu": _median([a.cpu_seconds * 1000 / n for a in r.autopack]),
            "git_cpu": _median([b.cpu_seconds * 1000 / n for b in r.bare]),
            "early": _median([_tenths(a.phase_ms)[0] for a in r.autopack]),
            "late": _median([_tenths(a.phase_ms)[1] for a in r.autopack]),
            "sql": _median([a.statements / n for a in r.autopack]),
            "kb": _median(written),
        }

    rows = {n: row(n) for n in sizes}
    base = rows[sizes[0]]
    print(
        f"\nms per phase, median of {len(results[sizes[0]].autopack)} run(s) (best: fastest run); "
        f"flat = ms/phase at N / ms/phase at N={sizes[0]} (1.00 = flat)"
    )
    header = (
        f"{'N':>5} | {'autopack':>8} {'best':>6} {'bare git':>8} {'best':>6} {'overhead':>8} "
        f"{'ratio':>5} | {'flat AP':>7} {'flat git':>8} | {'AP cpu':>6} {'git cpu':>7} "
        f"{'flat cpu':>8} | {'early':>6} {'late':>6} | {'sql/ph':>6} {'kB wr/ph':>8}"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        x = rows[n]
        print(
            f"{n:>5} | {x['ap']:>8.1f} {x['ap_best']:>6.1f} {x['git']:>8.1f} "
            f"{x['git_best']:>6.1f} {x['ap'] - x['git']:>8.1f} {x['ap'] / x['git']:>5.1f} | "
            f"{x['ap'] / base['ap']:>7.2f} {x['git'] / base['git']:>8.2f} | "
            f"{x['ap_cpu']:>6.1f} {x['git_cpu']:>7.1f} {x['ap_cpu'] / base['ap_cpu']:>8.2f} | "
            f"{x['early']:>6.1f} {x['late']:>6.1f} | {x['sql']:>6.1f} {x['kb']:>8.0f}"
        )
    print(
        "autopack, bare git: wall ms per phase; AP cpu, git cpu: CPU ms per phase (user + "
        "system, children included;\nsteadier than wall time on a busy machine); early, late: "
        "Autopack's median phase time over the first and\nthe last tenth of one run; sql/ph: "
        "SQL statements per phase; kB wr/ph: bytes the engine's process wrote per phase"
    )


def _key(key: tuple[str, int, str]) -> str:
    file, line, func = key
    short = file.split("site-packages/")[-1].split("/src/")[-1].split("/lib/python3")[-1]
    return f"{short}:{line}({func})"


def print_profile(stats: pstats.Stats, n: int, top: int = 15) -> None:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(top)
    print(f"\ncProfile of one run at N={n}, top {top} by cumulative time:")
    listing = out.getvalue()
    print(listing[listing.index("   ncalls") :].rstrip())
    entries = stats.stats.items()  # type: ignore[attr-defined]
    git_calls = sum(v[1] for k, v in entries if k[0].endswith("workspace/git.py") and k[2] == "run")
    spawned = sum(v[1] for k, v in entries if k[2] == "_execute_child")
    print(f"per phase: {git_calls / n:.1f} git commands, {spawned / n:.1f} processes started")


def print_growth(small: tuple[int, pstats.Stats], large: tuple[int, pstats.Stats]) -> None:
    """Functions whose time per phase grows most from the small N to the large one."""
    (n0, s0), (n1, s1) = small, large
    before = s0.stats  # type: ignore[attr-defined]
    rows = []
    for key, v in s1.stats.items():  # type: ignore[attr-defined]
        w = before.get(key, (0, 0, 0.0, 0.0, None))
        rows.append(
            {
                "self": v[2] * 1000 / n1 - w[2] * 1000 / n0,
                "cum": v[3] * 1000 / n1 - w[3] * 1000 / n0,
                "cum0": w[3] * 1000 / n0,
                "cum1": v[3] * 1000 / n1,
                "calls": f"{w[1] / n0:.1f}->{v[1] / n1:.1f}",
                "key": key,
            }
        )
    print(f"\nGrowth of ms/phase from N={n0} to N={n1} (profiled runs)")
    print(f"top 10 by own time:\n{'+ms/ph':>7} {'calls/phase':>14}  function")
    for r in sorted(rows, key=lambda r: -r["self"])[:10]:
        print(f"{r['self']:>7.2f} {r['calls']:>14}  {_key(r['key'])}")
    print(
        f"top 15 Autopack functions by cumulative time:\n"
        f"{'+ms/ph':>7} {'ms@' + str(n0):>8} {'ms@' + str(n1):>8} {'calls/phase':>14}  function"
    )
    ours = [r for r in rows if "/autopack/" in r["key"][0] and "/bench/" not in r["key"][0]]
    for r in sorted(ours, key=lambda r: -r["cum"])[:15]:
        print(
            f"{r['cum']:>7.2f} {r['cum0']:>8.2f} {r['cum1']:>8.2f} {r['calls']:>14}  "
            f"{_key(r['key'])}"
        )


# --- main -----------------------------------------------------------------------------


def _isolate_environment(config_dir: Path) -> None:
    for name in _IGNORED_ENV:
        os.environ.pop(name, None)
    config = config_dir / "gitconfig"
    config.touch()
    os.environ["GIT_CONFIG_GLOBAL"] = str(config)
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phases", default="10,50,200", help="plan sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median)")
    parser.add_argument("--tiers", type=int, default=1, help="tiers the phases are spread over")
    parser.add_argument(
        "--modules",
        type=int,
        default=0,
        help="modules in the repository (default N; e.g. 200 keeps the repository the same "
        "size for every N, so only the plan grows)",
    )
    parser.add_argument(
        "--ci", default=None, help='trivial CI command (default: "<this python> -c pass")'
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one extra run")
    parser.add_argument("--profile-n", type=int, default=50, help="N of the profiled run")
    parser.add_argument(
        "--growth", action="store_true", help="profile smallest and largest N, list growth"
    )
    args = parser.parse_args(argv)
    sizes = sorted({int(x) for x in args.phases.split(",") if x.strip()})
    if not sizes or min(sizes) < 1 or args.repeat < 1:
        parser.error("--phases needs positive sizes and --repeat at least 1")
    ci = shlex.split(args.ci) if args.ci else [sys.executable, "-c", "pass"]

    config_dir = Path(tempfile.mkdtemp(prefix="autopack-bench-gitconfig-"))
    try:
        _isolate_environment(config_dir)
        print(
            f"orchestration overhead: phases {sizes}, repeat {args.repeat}, tiers {args.tiers}, "
            f"modules {'N' if not args.modules else f'max(N, {args.modules})'}, "
            f"ci {shlex.join(ci)}; git {_git(Path.cwd(), 'version').split()[-1]}, "
            f"python {sys.version.split()[0]}"
        )
        results: dict[int, Sizes] = {n: Sizes() for n in sizes}
        # Sizes are interleaved within each repeat so that a change of machine load
        # affects every size alike instead of skewing the flatness columns.
        for rep in range(args.repeat):
            for n in sizes:
                a = _in_tmp(run_autopack, n, args.tiers, ci, modules=args.modules)
                b = _in_tmp(run_bare, n, ci, modules=args.modules)
                results[n].autopack.append(a)
                results[n].bare.append(b)
                extra = f", +{a.extra_commits} other commit(s)" if a.extra_commits else ""
                print(
                    f"  #{rep + 1} N={n:<4} autopack {a.seconds:7.2f} s "
                    f"({a.seconds * 1000 / n:6.1f} ms/phase{extra}), bare git {b.seconds:6.2f} s "
                    f"({b.seconds * 1000 / n:5.1f} ms/phase)",
                    flush=True,
                )
        print_table(results)
        if args.profile:
            run = _in_tmp(
                run_autopack, args.profile_n, args.tiers, ci, modules=args.modules, profile=True
            )
            assert run.profile is not None
            print_profile(run.profile, args.profile_n)
        if args.growth and len(sizes) > 1:
            lo, hi = (
                _in_tmp(run_autopack, n, args.tiers, ci, modules=args.modules, profile=True)
                for n in (sizes[0], sizes[-1])
            )
            assert lo.profile is not None and hi.profile is not None
            print_growth((sizes[0], lo.profile), (sizes[-1], hi.profile))
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
