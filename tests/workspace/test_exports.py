"""The curated public surface of autopack.workspace."""

import autopack.workspace as workspace
from autopack.workspace import integration


def test_all_names_exist() -> None:
    for name in workspace.__all__:
        assert hasattr(workspace, name), name
    assert {"Git", "GitError", "IntegrationWorkspace", "WorkspaceError", "cleanup_runs"} <= set(
        workspace.__all__
    )


def test_interface_module_paths() -> None:
    assert integration.BRANCH_PREFIX == "autonomous/"
    assert integration.cleanup_runs is workspace.cleanup_runs
    assert integration.IntegrationWorkspace is workspace.IntegrationWorkspace


def test_exception_tree() -> None:
    assert issubclass(workspace.GitError, workspace.WorkspaceError)
    err = workspace.WorkspaceError("m", code="invalid_id")
    assert (err.code, str(err)) == ("invalid_id", "m")
    assert workspace.WorkspaceError("m").code == "workspace_error"
