"""Generate the edit benchmark corpus from real code changes found on this machine.

Sources: consecutive versions of the same file in the CPython standard libraries installed
under pyenv (3.6 → 3.7 → ... → 3.13) and in the bundled pip/setuptools versions. Each real
change (A → B) is rendered as the protocol's forms with the damage models do, plus negative
cases that must be refused. Output: ``bench/edits/corpus.jsonl.gz`` (blobs deduplicated).

Run once (needs the pyenv trees, not the network): ``.venv/bin/python bench/edits/generate.py``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import itertools
import json
import random
import re
from collections import defaultdict
from pathlib import Path

from autopack.edits.model import Hunk
from autopack.edits.render import (
    diff_hunks,
    format_search_replace,
    format_unified_diff,
    format_whole_file,
)

PYENV = Path("/root/.pyenv/versions")
STDLIB = ["3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"]
SITE_PKGS = [  # (package, version, directory), consecutive versions
    ("pip", "23.0.1", PYENV / "3.10.13/lib/python3.10/site-packages/pip"),
    ("pip", "23.2.1", PYENV / "3.11.7/lib/python3.11/site-packages/pip"),
    ("pip", "24.2", PYENV / "3.13.0/lib/python3.13/site-packages/pip"),
    ("setuptools", "56.0.0", PYENV / "3.8.18/lib/python3.8/site-packages/setuptools"),
    ("setuptools", "58.1.0", PYENV / "3.9.18/lib/python3.9/site-packages/setuptools"),
    ("setuptools", "65.5.0", PYENV / "3.10.13/lib/python3.10/site-packages/setuptools"),
]
OUT = Path(__file__).with_name("corpus.jsonl.gz")

DIFF_DAMAGES = [
    "none",
    "wrong_numbers",
    "missing_numbers",
    "missing_headers",
    "trailing_ws",
    "lost_indent",
    "dropped_blank_context",
    "prose_fences",
    "crlf_file",
    "no_final_newline",
    "wrong_numbers+missing_headers+prose_fences",
    "lost_indent+trailing_ws",
    "crlf_file+missing_numbers",
    "dropped_blank_context+wrong_numbers",
]
SR_DAMAGES = [
    "none",
    "trailing_ws",
    "lost_indent",
    "dropped_blank_context",
    "prose_fences",
    "crlf_file",
    "no_final_newline",
    "lost_indent+trailing_ws+prose_fences",
    "crlf_file+prose_fences",
]
WHOLE_DAMAGES = ["none", "prose_fences", "crlf_file", "no_final_newline"]
PER_KIND = 14
PROSE_BEFORE = "I looked at the code and here is the fix.\n\nThe change:\n\n"
PROSE_AFTER = "\n\nThis keeps the behaviour the same otherwise. Let me know if tests fail.\n"


def _pairs() -> list[tuple[str, str, str, str, Path, Path]]:
    """(package, from, to, relative file, path A, path B) for files that changed."""
    out = []
    for old, new in itertools.pairwise(STDLIB):
        da = PYENV / old / "lib" / f"python{old.rsplit('.', 1)[0]}"
        db = PYENV / new / "lib" / f"python{new.rsplit('.', 1)[0]}"
        for fa in sorted(da.glob("*.py")) + sorted(da.glob("json/*.py")):
            rel = fa.relative_to(da).as_posix()
            out.append(("cpython-stdlib", old, new, rel, fa, db / rel))
    groups: dict[str, list[tuple[str, Path]]] = defaultdict(list)
    for pkg, ver, d in SITE_PKGS:
        groups[pkg].append((ver, d))
    for pkg, versions in groups.items():
        for (va, da), (vb, db) in itertools.pairwise(versions):
            for fa in sorted(da.rglob("*.py")):
                rel = fa.relative_to(da).as_posix()
                if "_vendor" in rel:
                    continue
                out.append((pkg, va, vb, f"{pkg}/{rel}", fa, db / rel))
    return out


def _changes(rng: random.Random) -> list[dict]:
    changes = []
    for pkg, va, vb, rel, fa, fb in _pairs():
        if not fb.exists() or fa.stat().st_size > 40_000 or fa.stat().st_size < 800:
            continue
        try:
            a, b = fa.read_text("utf-8"), fb.read_text("utf-8")
        except UnicodeDecodeError:
            continue
        if a == b or "\r" in a or "\r" in b or "\t" in a:
            continue
        la, lb = a.splitlines(), b.splitlines()
        hunks = diff_hunks(la, lb)
        changed = sum(1 for h in hunks for t, _ in h.ops if t != " ")
        if not 1 <= len(hunks) <= 3 or not 1 <= changed <= 30:
            continue
        if any(len(h.ops) > 40 for h in hunks):
            continue
        changes.append({"package": pkg, "from": va, "to": vb, "file": rel, "a": la, "b": lb})
    rng.shuffle(changes)
    return changes


def _min_indent(hunk: Hunk) -> int:
    widths = [len(t) - len(t.lstrip()) for _, t in hunk.ops if t.strip()]
    return min(widths) if widths else 0


def _drop_blank_context(hunk: Hunk) -> Hunk:
    """Drop runs of blank context lines, except between a change and more context where
    the file's blank line would then sit next to added lines: its place relative to them
    is unknowable, so the applier refuses such hunks by design (see README)."""
    ops = list(hunk.ops)
    keep = [True] * len(ops)
    i = 0
    while i < len(ops):
        if ops[i][0] == " " and not ops[i][1].strip():
            j = i
            while j < len(ops) and ops[j][0] == " " and not ops[j][1].strip():
                j += 1
            edge = i == 0 or j == len(ops)
            if edge or (ops[i - 1][0] != "+" and ops[j][0] != "+"):
                for k in range(i, j):
                    keep[k] = False
            i = j
        else:
            i += 1
    kept = tuple(op for op, k in zip(ops, keep, strict=True) if k)
    return Hunk(kept, hunk.old_start) if any(t != " " or s.strip() for t, s in kept) else hunk


def _damage_hunks(hunks: list[Hunk], damage: str, rng: random.Random) -> list[Hunk] | None:
    out = list(hunks)
    if "lost_indent" in damage:
        if not any(_min_indent(h) > 0 for h in out):
            return None
        out = [
            Hunk(tuple((t, s[_min_indent(h) :] if s.strip() else s) for t, s in h.ops), h.old_start)
            for h in out
        ]
    if "dropped_blank_context" in damage:
        dropped = [_drop_blank_context(h) for h in out]
        if all(d == h for d, h in zip(dropped, out, strict=True)):
            return None
        out = dropped
    if "trailing_ws" in damage:
        new = []
        for h in out:
            ops = [
                (t, s + "  " if t != "+" and s.strip() and rng.random() < 0.6 else s)
                for t, s in h.ops
            ]
            new.append(Hunk(tuple(ops), h.old_start))
        out = new
    if "wrong_numbers" in damage:
        out = [
            Hunk(h.ops, max(1, (h.old_start or 1) + rng.choice([-1, 1]) * rng.randint(3, 40)))
            for h in out
        ]
    return out


def _convert(lines: list[str], crlf: bool, final: bool) -> str:
    nl = "\r\n" if crlf else "\n"
    return nl.join(lines) + (nl if final else "")


def _wrap(answer: str, damage: str, lang: str) -> str:
    if "prose_fences" not in damage:
        return answer
    return f"{PROSE_BEFORE}```{lang}\n{answer.rstrip()}\n```{PROSE_AFTER}"


def _positive(change: dict, form: str, damage: str, rng: random.Random) -> dict | None:
    path, a, b = change["file"], change["a"], change["b"]
    crlf, final = "crlf_file" in damage, "no_final_newline" not in damage
    hunks = diff_hunks(a, b)
    damaged = _damage_hunks(hunks, damage, rng)
    if damaged is None:
        return None
    tool_patch = None
    if form == "unified_diff":
        answer = format_unified_diff(
            path,
            damaged,
            git_header="missing_headers" not in damage,
            numbers="missing_numbers" not in damage,
            old_total=len(a),
            new_total=len(b),
            old_final_newline=final,
            new_final_newline=final,
        )
        if "missing_headers" not in damage:
            answer = answer.replace("\n---", "\nindex 1a2b3c4..5d6e7f8 100644\n---", 1)
        answer = _wrap(answer, damage, "diff")
        tool_patch = answer
    elif form == "search_replace":
        answer = _wrap(format_search_replace(path, damaged), damage, "python")
    else:
        answer = format_whole_file(path, b, lang="python")
        if "prose_fences" in damage:
            answer = PROSE_BEFORE + answer + PROSE_AFTER
    return {
        "form": form,
        "damage": damage,
        "expect": "apply",
        "before": {path: _convert(a, crlf, final)},
        "after": {path: _convert(b, crlf, final)},
        "answer": answer,
        "tool_patch": tool_patch,
    }


def _file_ops(change: dict, rng: random.Random) -> list[dict]:
    path, a = change["file"], change["a"]
    text = _convert(a, False, True)
    new = (
        path.rsplit("/", 1)[0] + "/renamed_" + path.rsplit("/", 1)[-1]
        if "/" in path
        else ("renamed_" + path)
    )
    del_diff = format_unified_diff(path, [Hunk(tuple(("-", s) for s in a), 1)], delete=True)
    add_diff = format_unified_diff(path, [Hunk(tuple(("+", s) for s in a), 0)], create=True)
    rename_diff = (
        f"diff --git a/{path} b/{new}\nsimilarity index 100%\nrename from {path}\nrename to {new}\n"
    )
    return [
        {
            "form": "file_ops",
            "damage": "delete",
            "expect": "apply",
            "before": {path: text},
            "after": {path: None},
            "answer": f"Removing it.\n\nDELETE {path}\n",
            "tool_patch": None,
        },
        {
            "form": "file_ops",
            "damage": "rename",
            "expect": "apply",
            "before": {path: text},
            "after": {path: None, new: text},
            "answer": f"RENAME {path} -> {new}\n",
            "tool_patch": None,
        },
        {
            "form": "unified_diff",
            "damage": "delete",
            "expect": "apply",
            "before": {path: text},
            "after": {path: None},
            "answer": del_diff,
            "tool_patch": del_diff,
        },
        {
            "form": "unified_diff",
            "damage": "create",
            "expect": "apply",
            "before": {},
            "after": {path: text},
            "answer": add_diff,
            "tool_patch": add_diff,
        },
        {
            "form": "unified_diff",
            "damage": "rename",
            "expect": "apply",
            "before": {path: text},
            "after": {path: None, new: text},
            "answer": rename_diff,
            "tool_patch": rename_diff,
        },
    ]


def _mutate(line: str) -> str:
    words = re.findall(r"[A-Za-z_]{3,}", line)
    if words:
        w = words[len(words) // 2]
        return line.replace(w, w[::-1] + "_x", 1)
    return line + "  # changed"


def _negatives(change: dict, rng: random.Random) -> list[dict]:
    path, a = change["file"], change["a"]
    text = _convert(a, False, True)
    base = {"expect": "refuse", "before": {path: text}, "after": {path: text}}
    out = []
    hunks = diff_hunks(a, change["b"])
    h = hunks[0]
    removed = [i for i, (t, s) in enumerate(h.ops) if t == "-" and s.strip()]
    if removed:
        # SEARCH text absent: one line to replace differs from the file.
        ops = list(h.ops)
        k = rng.choice(removed)
        ops[k] = ("-", _mutate(ops[k][1]))
        if ops[k][1] not in a:
            bad = Hunk(tuple(ops), h.old_start)
            out.append(
                {
                    **base,
                    "form": "search_replace",
                    "damage": "neg_search_absent",
                    "answer": format_search_replace(path, [bad]),
                    "tool_patch": None,
                }
            )
            d = format_unified_diff(path, [bad])
            out.append(
                {
                    **base,
                    "form": "unified_diff",
                    "damage": "neg_diff_conflict",
                    "answer": d,
                    "tool_patch": d,
                }
            )
    ctx = [i for i, (t, s) in enumerate(h.ops) if t == " " and s.strip()]
    if len(ctx) >= 2:
        # Context that conflicts: most context lines come from another version of the code.
        ops = list(h.ops)
        for k in ctx[: max(2, (len(ctx) + 1) // 2 + 1)]:
            ops[k] = (" ", _mutate(ops[k][1]) + " or other_value")
        bad = Hunk(tuple(ops), h.old_start)
        d = format_unified_diff(path, [bad])
        out.append(
            {
                **base,
                "form": "unified_diff",
                "damage": "neg_context_conflict",
                "answer": d,
                "tool_patch": d,
            }
        )
    counts: dict[str, list[int]] = defaultdict(list)
    for i, line in enumerate(a):
        if len(line.strip()) > 8:
            counts[line].append(i)
    repeated = [line for line, idx in counts.items() if len(idx) >= 2]
    if repeated:
        line = rng.choice(sorted(repeated))
        answer = format_search_replace(path, [Hunk((("-", line), ("+", line + "  # edited")))])
        out.append(
            {
                **base,
                "form": "search_replace",
                "damage": "neg_search_ambiguous",
                "answer": answer,
                "tool_patch": None,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--out", type=Path, default=OUT, help="where to write (another seed = held-out set)"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    changes = _changes(rng)
    plan = [("unified_diff", d) for d in DIFF_DAMAGES]
    plan += [("search_replace", d) for d in SR_DAMAGES]
    plan += [("whole_file", d) for d in WHOLE_DAMAGES]
    cases: list[tuple[dict, dict]] = []
    for k, (form, damage) in enumerate(plan):
        made = 0
        for change in changes[k % len(changes) :] + changes[: k % len(changes)]:
            case = _positive(change, form, damage, rng)
            if case is not None:
                cases.append((change, case))
                made += 1
            if made >= PER_KIND:
                break
    for change in changes[:12]:
        cases.extend((change, c) for c in _file_ops(change, rng))
    negs = defaultdict(int)
    for change in changes:
        for c in _negatives(change, rng):
            if negs[c["damage"]] < 20:
                negs[c["damage"]] += 1
                cases.append((change, c))
    blobs: dict[str, str] = {}

    def blob(text: str | None) -> str | None:
        if text is None:
            return None
        key = hashlib.sha1(text.encode()).hexdigest()[:16]
        blobs[key] = text
        return key

    records = []
    for n, (change, c) in enumerate(cases, start=1):
        records.append(
            {
                "id": f"{n:04d}-{c['form']}-{c['damage']}",
                "form": c["form"],
                "damage": c["damage"],
                "expect": c["expect"],
                "provenance": {k: change[k] for k in ("package", "from", "to", "file")},
                "before": {p: blob(t) for p, t in c["before"].items()},
                "after": {p: blob(t) for p, t in c["after"].items()},
                "answer": c["answer"],
                "tool_patch": c["tool_patch"],
            }
        )
    # mtime=0: the same sources give byte-identical output.
    with io.TextIOWrapper(gzip.GzipFile(args.out, "wb", mtime=0), encoding="utf-8") as fh:
        for key, text in sorted(blobs.items()):
            fh.write(json.dumps({"blob": key, "text": text}) + "\n")
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
    pos = sum(1 for r in records if r["expect"] == "apply")
    print(
        f"{len(changes)} real changes; {len(records)} cases ({pos} positive, "
        f"{len(records) - pos} negative); {args.out} {args.out.stat().st_size // 1024} KiB"
    )


if __name__ == "__main__":
    main()
