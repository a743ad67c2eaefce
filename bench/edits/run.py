"""Score Autopack's applier against git apply, git apply --3way and GNU patch --fuzz=3.

Each case runs in a fresh temporary directory holding the case's "before" files. Autopack
gets the answer text (through ``apply_to_directory``, as ``autopack patch apply`` does); the
external tools get the case's ``tool_patch`` (the same text for diff-form answers, prose and
fences included) and are ``n/a`` for SEARCH/REPLACE, whole-file and DELETE/RENAME answers.
Outcome per tool: ``ok`` (files exactly as expected; for a negative case: refused with the
files unchanged), ``refused`` (non-zero exit or nothing changed), ``WRONG`` (anything else).

Usage: ``.venv/bin/python bench/edits/run.py [--corpus PATH] [--only autopack] [--limit N]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from autopack.edits import apply_to_directory

CORPUS = Path(__file__).with_name("corpus.jsonl.gz")
TOOLS = ("autopack", "git apply", "git apply --3way", "patch --fuzz=3")
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "b@x",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "b@x",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


def load_cases(path: Path = CORPUS) -> list[dict]:
    """The corpus with blobs resolved: ``before``/``after`` map paths to text (or None)."""
    blobs: dict[str, str] = {}
    cases = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if "blob" in rec:
                blobs[rec["blob"]] = rec["text"]
            else:
                cases.append(rec)
    for case in cases:
        for side in ("before", "after"):
            case[side] = {p: (blobs[k] if k else None) for p, k in case[side].items()}
    return cases


def _write(root: Path, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        if text is not None:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def _expected(case: dict, side: str) -> dict[str, bytes]:
    return {p: t.encode("utf-8") for p, t in case[side].items() if t is not None}


def _run_tool(tool: str, root: Path, patch: str) -> int:
    patch_file = root.parent / "answer.patch"
    patch_file.write_text(patch, encoding="utf-8")
    if tool == "patch --fuzz=3":
        cmd = [
            "patch",
            "-p1",
            "--fuzz=3",
            "--batch",
            "--no-backup-if-mismatch",
            "--reject-file=-",
            "-s",
            "-i",
            str(patch_file),
        ]
    else:
        if tool.endswith("--3way"):
            for args in (
                ["init", "-q"],
                ["add", "-A"],
                ["commit", "-q", "--allow-empty", "-m", "base"],
            ):
                subprocess.run(
                    ["git", *args], cwd=root, env=_GIT_ENV, check=True, capture_output=True
                )
        cmd = ["git", "apply", *(["--3way"] if tool.endswith("--3way") else []), str(patch_file)]
    proc = subprocess.run(
        cmd, cwd=root, env=_GIT_ENV, capture_output=True, timeout=60, stdin=subprocess.DEVNULL
    )
    return proc.returncode


def run_case(case: dict, tool: str) -> str:
    """``ok``, ``refused``, ``WRONG`` or ``n/a`` for one case and one tool."""
    if tool != "autopack" and not case["tool_patch"]:
        return "n/a"
    tmp = Path(tempfile.mkdtemp(prefix="autopack-bench-"))
    try:
        root = tmp / "repo"
        root.mkdir()
        _write(root, case["before"])
        before = _snapshot(root)
        if tool == "autopack":
            rc = 0 if apply_to_directory(root, case["answer"]).ok else 1
        else:
            rc = _run_tool(tool, root, case["tool_patch"])
        after = _snapshot(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if case["expect"] == "refuse":
        return "ok" if after == before else "WRONG"
    if after == _expected(case, "after"):
        return "ok"
    if after == before:
        return "refused"
    return "WRONG" if rc == 0 or after != before else "refused"


def _rows(cases: list[dict], tools: tuple[str, ...]) -> Iterator[tuple[dict, str, str]]:
    for case in cases:
        for tool in tools:
            yield case, tool, run_case(case, tool)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--only", choices=TOOLS)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()
    if shutil.which("patch") is None:
        print("GNU patch is missing: apt-get install -y patch", file=sys.stderr)
        return 2
    cases = load_cases(args.corpus)[: args.limit]
    tools = (args.only,) if args.only else TOOLS
    started = time.monotonic()
    table: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    failures = []
    for case, tool, outcome in _rows(cases, tools):
        for key in (
            case["damage"],
            f"[{case['form']}]",
            "ALL positive" if case["expect"] == "apply" else "ALL negative",
        ):
            table[key][tool][outcome] += 1
        if tool == "autopack" and outcome != "ok":
            failures.append((case["id"], outcome))
    _print(table, tools, cases)
    elapsed = time.monotonic() - started
    print(f"\n{len(cases)} cases, {len(tools)} tools, {elapsed:.1f}s")
    if args.show_failures or len(failures) <= 15:
        for cid, outcome in failures:
            print(f"  autopack {outcome}: {cid}")
    wrong = sum(t["autopack"]["WRONG"] for k, t in table.items() if k.startswith("ALL"))
    return 1 if wrong else 0


def _print(table: dict, tools: tuple[str, ...], cases: list[dict]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for case in cases:
        counts[case["damage"]] += 1
    head = f"{'damage kind':<44}{'n':>4}"
    for tool in tools:
        head += f" | {tool:^22}"
    print(head)
    sub = " " * 48 + "".join(f" | {'ok':>6}{'refused':>8}{'WRONG':>7}" + " " * 1 for _ in tools)
    print(sub)
    print("-" * len(head))
    keys = sorted(k for k in table if not k.startswith(("[", "ALL")))
    keys = [k for k in keys if not k.startswith("neg_")] + [k for k in keys if k.startswith("neg_")]
    keys += [*sorted(k for k in table if k.startswith("[")), "ALL positive", "ALL negative"]
    for key in keys:
        if key not in table:
            continue
        n = counts.get(key) or sum(table[key][tools[0]].values())
        line = f"{key:<44}{n:>4}"
        for tool in tools:
            cell = table[key][tool]
            if cell.get("n/a", 0) == sum(cell.values()):
                line += f" | {'n/a':^22}"
            else:
                line += f" | {cell['ok']:>6}{cell['refused']:>8}{cell['WRONG']:>7} "
        print(line)


if __name__ == "__main__":
    sys.exit(main())
