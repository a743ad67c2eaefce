"""Property tests: the edit turning A into B, rendered in each form, applied to A, yields B."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autopack.edits import apply_answer
from autopack.edits.render import (
    diff_hunks,
    format_search_replace,
    format_unified_diff,
    format_whole_file,
)

# Small alphabets on purpose: repeated lines make ambiguity (and its refusal) likely.
_LINE = st.sampled_from(
    ["", "x = 1", "y = 2", "    return x", "def f():", "    pass", "# note", "}", "\tz = 3"]
)
_LINES = st.lists(_LINE, min_size=0, max_size=25)
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _text(lines: list[str], newline: str = "\n", final: bool = True) -> str:
    if not lines:
        return ""
    return newline.join(lines) + (newline if final else "")


def _check(a: list[str], b: list[str], answer: str, newline: str, final: bool) -> None:
    # Without a final newline a trailing empty line cannot be represented: skip those.
    assume(final or ((not a or a[-1] != "") and (not b or b[-1] != "")))
    files = {"pkg/mod.py": _text(a, newline, final)}
    result = apply_answer(files, answer)
    assert result.ok, result.for_model()
    # An empty file has no newline style yet: new content gets LF and a final newline.
    # Nor has a one-line file without a final newline: LF then.
    style = newline if (len(a) > 1 or final) else "\n"
    expected = _text(b, style, final) if a else _text(b)
    assert result.files.get("pkg/mod.py", files["pkg/mod.py"]) == expected


@given(_LINES, _LINES, st.sampled_from(["\n", "\r\n"]), st.booleans())
@_SETTINGS
def test_unified_diff_turns_a_into_b(a, b, newline, final):
    hunks = diff_hunks(a, b)
    if not hunks:
        return
    answer = format_unified_diff("pkg/mod.py", hunks, create=not a)
    _check(a, b, answer, newline, final)


@given(_LINES, _LINES, st.sampled_from(["\n", "\r\n"]), st.booleans())
@_SETTINGS
def test_unnumbered_diff_turns_a_into_b(a, b, newline, final):
    hunks = diff_hunks(a, b)
    if not hunks:
        return
    answer = format_unified_diff("pkg/mod.py", hunks, create=not a, numbers=False, git_header=False)
    _check(a, b, answer, newline, final)


@given(_LINES, _LINES, st.sampled_from(["\n", "\r\n"]), st.booleans())
@_SETTINGS
def test_search_replace_turns_a_into_b(a, b, newline, final):
    hunks = diff_hunks(a, b)
    if not hunks:
        return
    answer = "Some prose first.\n\n" + format_search_replace("pkg/mod.py", hunks) + "\nDone.\n"
    _check(a, b, answer, newline, final)


@given(_LINES, _LINES, st.sampled_from(["\n", "\r\n"]), st.booleans())
@_SETTINGS
def test_whole_file_turns_a_into_b(a, b, newline, final):
    answer = "The new file:\n\n" + format_whole_file("pkg/mod.py", b)
    _check(a, b, answer, newline, final)
