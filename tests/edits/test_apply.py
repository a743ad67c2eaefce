"""Applying edits to contents: strategies, refusals, newline/encoding preservation."""

from __future__ import annotations

import pytest

from autopack.edits import AnswerRejectedError, ErrorCode, apply_answer, apply_answer_or_raise

FILE = "def f():\n    a = 1\n    b = 2\n    return a + b\n\n\ndef g():\n    return 0\n"


def _sr(search: str, replace: str, path: str = "m.py") -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def _apply(answer: str, files: dict | None = None):
    return apply_answer(files if files is not None else {"m.py": FILE}, answer)


def test_exact():
    r = _apply(_sr("    b = 2", "    b = 3"))
    assert r.ok and r.files["m.py"] == FILE.replace("b = 2", "b = 3")
    assert r.edits[0].strategies == ("exact",)


def test_trailing_whitespace_and_crlf():
    crlf = FILE.replace("\n", "\r\n").encode()
    r = _apply(_sr("    a = 1   \n    b = 2", "    a = 1\n    b = 5"), {"m.py": crlf})
    assert r.ok, r.for_model()
    assert r.files["m.py"] == FILE.replace("b = 2", "b = 5").replace("\n", "\r\n")
    assert r.edits[0].strategies == ("whitespace",)


def test_lost_indentation_is_reindented():
    r = _apply(_sr("a = 1\nb = 2", "a = 1\nif a:\n    b = 2"))
    assert r.ok, r.for_model()
    assert "    a = 1\n    if a:\n        b = 2\n" in r.files["m.py"]
    assert r.edits[0].strategies == ("indentation",)


def test_blank_lines_missing_in_context():
    diff = (
        "--- a/m.py\n+++ b/m.py\n@@ @@\n     return a + b\n def g():\n"
        "-    return 0\n+    return 9\n"
    )
    r = _apply(diff)
    assert r.ok, r.for_model()
    assert r.files["m.py"] == FILE.replace("return 0", "return 9")
    assert r.edits[0].strategies == ("blank_lines",)


def test_blank_line_next_to_insertion_is_refused_not_guessed():
    diff = "--- a/m.py\n+++ b/m.py\n@@ @@\n     return a + b\n+# new\n def g():\n"
    r = _apply(diff)
    assert not r.ok


def test_fuzzy_context_but_never_fuzzy_removed_lines():
    text = "".join(f"line number {i}\n" for i in range(20))
    diff = (
        "--- a/t.txt\n+++ b/t.txt\n@@ @@\n line number 4\n line number 5\n line numbr 6\n"
        " line number 7\n-line number 8\n+changed\n line number 9\n"
    )
    r = apply_answer({"t.txt": text}, diff)
    assert r.ok, r.for_model()
    assert r.files["t.txt"] == text.replace("line number 8\n", "changed\n")
    assert r.edits[0].strategies == ("fuzzy_context",)
    bad = diff.replace("-line number 8", "-line numbr 8")
    assert apply_answer({"t.txt": text}, bad).errors[0].code is ErrorCode.NO_MATCH


def test_ambiguous_is_refused_with_places():
    text = "x = 1\ny = 2\nx = 1\n"
    r = apply_answer({"t.py": text}, _sr("x = 1", "x = 3", "t.py"))
    assert not r.ok and r.files == {}
    err = r.errors[0]
    assert err.code is ErrorCode.AMBIGUOUS_MATCH and "lines 1, 3" in err.reason


def test_no_match_has_did_you_mean():
    r = _apply(_sr("    b = 22\n    return a + b", "    pass"))
    err = r.errors[0]
    assert err.code is ErrorCode.NO_MATCH and err.block == 1 and err.path == "m.py"
    assert any("b = 2" in line for line in err.did_you_mean)
    assert "Did you mean" in err.for_model()


def test_all_or_nothing_and_message_for_model():
    answer = _sr("    a = 1", "    a = 10") + "\n" + _sr("nope", "x")
    r = _apply(answer)
    assert not r.ok and r.files == {}
    msg = r.for_model()
    assert "NOT applied" in msg and "would apply: 1 (m.py)" in msg and "block 2" in msg
    with pytest.raises(AnswerRejectedError) as info:
        apply_answer_or_raise({"m.py": FILE}, answer)
    assert info.value.for_model() == msg


def test_sequential_edits_on_one_file_and_create_delete_rename():
    answer = (
        _sr("    a = 1", "    a = 10")
        + _sr("    a = 10", "    a = 11")
        + _sr("", "new = True", "pkg/new.py")
        + "DELETE old.py\nRENAME r.py -> s.py\n"
    )
    r = apply_answer({"m.py": FILE, "old.py": "x\n", "r.py": "r\n"}, answer)
    assert r.ok, r.for_model()
    assert "a = 11" in r.files["m.py"]
    assert r.files["pkg/new.py"] == "new = True\n"
    assert r.files["old.py"] is None and r.files["r.py"] is None and r.files["s.py"] == "r\n"


def test_final_newline_and_bom_preserved():
    r = apply_answer({"t.py": "\ufeffa\nb"}, _sr("b", "c", "t.py"))
    assert r.files["t.py"] == "\ufeffa\nc"


def test_refusals():
    files = {"m.py": FILE, "bin.dat": b"\x00\x01", "latin.txt": "é".encode("latin-1")}
    cases = {
        _sr("x", "y", "/etc/passwd"): ErrorCode.UNSAFE_PATH,
        _sr("x", "y", "../up.py"): ErrorCode.UNSAFE_PATH,
        _sr("x", "y", "bin.dat"): ErrorCode.BINARY_FILE,
        _sr("x", "y", "latin.txt"): ErrorCode.BINARY_FILE,
        _sr("x", "y", "missing.py"): ErrorCode.FILE_NOT_FOUND,
        _sr("", "y", "m.py"): ErrorCode.FILE_EXISTS,
        "RENAME m.py -> m.py\n": ErrorCode.FILE_EXISTS,
        "no edits here": ErrorCode.NO_EDITS,
    }
    for answer, code in cases.items():
        r = apply_answer(files, answer)
        assert not r.ok and r.errors[0].code is code, (answer, r.errors)


def test_allowed_predicate_hook():
    r = apply_answer(
        {"m.py": FILE}, _sr("    a = 1", "    a = 2"), allowed=lambda p: p.startswith("src/")
    )
    assert r.errors[0].code is ErrorCode.UNSAFE_PATH


def test_result_is_json_serialisable():
    import json

    r = _apply(_sr("nope", "x"))
    data = json.loads(json.dumps(r.to_dict()))
    assert data["edits"][0]["status"] == "failed"
