"""The curated public surface of autopack.edits."""

import autopack.edits as edits


def test_all_names_exist_and_are_sorted_sensibly():
    for name in edits.__all__:
        assert hasattr(edits, name), name
    assert {"apply_answer", "apply_to_directory", "parse_answer", "EditError"} <= set(edits.__all__)


def test_exception_tree():
    assert issubclass(edits.EditError, edits.EditsError)
    assert issubclass(edits.AnswerRejectedError, edits.EditsError)
    assert [s.name for s in edits.STRATEGIES] == [
        "exact",
        "whitespace",
        "indentation",
        "blank_lines",
        "fuzzy_context",
    ]
