"""Reading edits out of answers: every variant of the protocol, prose and fences around."""

from __future__ import annotations

from autopack.edits import (
    DeleteFile,
    ErrorCode,
    RenameFile,
    SearchReplace,
    UnifiedDiff,
    WholeFile,
    parse_answer,
)


def test_search_replace_with_path_before_fence_and_prose():
    answer = (
        "Sure!\n\n**`src/a.py`**\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n"
        ">>>>>>> REPLACE\n```\nThat's it."
    )
    parsed = parse_answer(answer)
    assert parsed.errors == ()
    (edit,) = parsed.edits
    assert isinstance(edit, SearchReplace)
    assert (edit.path, edit.search, edit.replace, edit.block) == (
        "src/a.py",
        ("x = 1",),
        ("x = 2",),
        1,
    )


def test_dunder_file_names_keep_their_underscores():
    answer = "__init__.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n"
    assert parse_answer(answer).edits[0].path == "__init__.py"


def test_second_block_without_path_reuses_previous():
    answer = (
        "a.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n\n<<<<<<< SEARCH\nc\n"
        "=======\nd\n>>>>>>> REPLACE\n"
    )
    edits = parse_answer(answer).edits
    assert [e.path for e in edits] == ["a.py", "a.py"]
    assert [e.block for e in edits] == [1, 2]


def test_missing_replace_marker_is_an_error_not_dropped():
    answer = (
        "a.py\n<<<<<<< SEARCH\na\n=======\nb\n\nb.py\n<<<<<<< SEARCH\nc\n=======\nd\n"
        ">>>>>>> REPLACE\n"
    )
    parsed = parse_answer(answer)
    assert [e.code for e in parsed.errors] == [ErrorCode.MALFORMED_BLOCK]
    assert parsed.errors[0].block == 1
    assert "REPLACE" in parsed.errors[0].reason
    assert [e.path for e in parsed.edits] == ["b.py"]


def test_block_without_any_path_is_an_error():
    parsed = parse_answer("<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n")
    assert parsed.edits == ()
    assert parsed.errors[0].code is ErrorCode.MALFORMED_BLOCK


def test_diff_variants():
    answer = """Prose.
```diff
--- src/x.py
+++ src/x.py
@@ ... @@
 a
-b
+c

 d
@@ @@
 e
+f
```
diff --git a/y.py b/y.py
index 123..456 100644
--- a/y.py\t2024-01-01
+++ b/y.py
@@ -10,2 +10,2 @@ def g():
-old
+new
\\ No newline at end of file
"""
    parsed = parse_answer(answer)
    assert parsed.errors == ()
    x, y = parsed.edits
    assert isinstance(x, UnifiedDiff) and x.path == "src/x.py" and len(x.hunks) == 2
    assert x.hunks[0].ops == ((" ", "a"), ("-", "b"), ("+", "c"), (" ", ""), (" ", "d"))
    assert isinstance(y, UnifiedDiff) and y.path == "y.py" and y.hunks[0].old_start == 10
    assert y.hunks[0].ops == (("-", "old"), ("+", "new"))


def test_diff_create_delete_rename_and_hunk_after_path_line():
    answer = """--- /dev/null
+++ b/new.py
@@ -0,0 +1 @@
+x
--- a/old.py
+++ /dev/null
@@ -1 +0,0 @@
-y
diff --git a/p.py b/q.py
similarity index 100%
rename from p.py
rename to q.py

src/z.py
@@
-1
+2
"""
    new, old, ren, z = parse_answer(answer).edits
    assert new.create and new.path == "new.py"
    assert old.delete and old.path == "old.py"
    assert ren.path == "p.py" and ren.new_path == "q.py" and not ren.hunks
    assert z.path == "src/z.py" and z.hunks[0].ops == (("-", "1"), ("+", "2"))


def test_context_line_without_prefix_is_an_error():
    answer = "--- a/x.py\n+++ b/x.py\n@@ @@\n a\nb\n-c\n+d\n"
    parsed = parse_answer(answer)
    assert parsed.errors and parsed.errors[0].code is ErrorCode.MALFORMED_BLOCK


def test_whole_file_delete_rename():
    answer = """New file:

pkg/util.py
```python
def f():
    return 1
```

Plain example that is not an edit:
```
print("hi")
```
DELETE `old/thing.py`
RENAME a.py -> b/a.py
"""
    parsed = parse_answer(answer)
    assert parsed.errors == ()
    whole, delete, rename = parsed.edits
    assert isinstance(whole, WholeFile) and whole.content == ("def f():", "    return 1")
    assert isinstance(delete, DeleteFile) and delete.path == "old/thing.py"
    assert isinstance(rename, RenameFile) and rename.new_path == "b/a.py"


def test_unclosed_whole_file_fence_is_an_error():
    parsed = parse_answer("pkg/util.py\n```python\ndef f():\n")
    assert parsed.errors[0].code is ErrorCode.MALFORMED_BLOCK


def test_prose_sentence_is_not_a_path():
    assert parse_answer("Here is the updated file:\n```python\nx = 1\n```\n").edits == ()


def test_dotfiles_are_whole_file_paths_but_dots_alone_are_not():
    parsed = parse_answer(".gitignore\n```\n*.pyc\n```\n\n...\n```\nnot a file\n```\n")
    assert [e.path for e in parsed.edits] == [".gitignore"]
    assert isinstance(parsed.edits[0], WholeFile) and parsed.edits[0].content == ("*.pyc",)
