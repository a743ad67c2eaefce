"""A run's integration branch as the API shows it: read from git, never changed.

Reads go through :class:`autopack.workspace.review.RunBranch`, which repairs nothing and
rolls nothing back (unlike opening the workspace for work), so it is safe while a worker
executes the run. Ahead/behind compare the branch with a ref of the user's repository
(``HEAD`` unless the caller names another), by commit ids only.
"""

from __future__ import annotations

from autopack.api.context import ApiContext
from autopack.api.errors import ApiError
from autopack.api.schemas import CommitOut, IntegrationStatus, PhaseCommitOut
from autopack.workspace import BRANCH_PREFIX, Git, WorkspaceError
from autopack.workspace.review import RunBranch


def _resolve(git: Git, ref: str) -> str:
    sha = git.try_rev_parse(f"{ref}^{{commit}}")
    if sha is None:
        raise ApiError(
            422,
            "bad_base_ref",
            f"{ref!r} does not name a commit in the workspace repository",
            details={"issues": [{"loc": "query.base", "message": "not a commit"}]},
        )
    return sha


def integration_status(ctx: ApiContext, run_id: str, *, base_ref: str) -> IntegrationStatus:
    """Branch, base, head, commits per phase and ahead/behind ``base_ref``."""
    run = ctx.store.get_run(run_id)  # 404 for an unknown run
    settings = ctx.settings
    git = Git(settings.workspace)
    base_ref_commit = _resolve(git, base_ref)
    try:
        branch = RunBranch.find(settings.workspace, settings.data_dir, run_id)
    except WorkspaceError as exc:
        if exc.code != "run_not_found":
            raise
        return IntegrationStatus(
            run_id=run_id,
            branch=BRANCH_PREFIX + run_id,
            exists=False,
            base_commit=None,
            head=None,
            base_ref=base_ref,
            base_ref_commit=base_ref_commit,
            ahead=None,
            behind=None,
            phases=[
                PhaseCommitOut(phase_id=p.phase_id, state=p.state, commit=None) for p in run.phases
            ],
            commits=[],
        )
    counts = branch.git.output(
        "rev-list", "--left-right", "--count", f"{base_ref_commit}...{branch.head}"
    ).split()
    behind, ahead = int(counts[0]), int(counts[1])
    shas = branch.phase_shas()
    commits = [
        CommitOut(
            sha=c["sha"],
            subject=c["subject"],
            phase_id=c["phase_id"],
            attempt=c["attempt"],
            model=c["model"],
            tokens=c["tokens"],
        )
        for c in branch.phase_commits()
    ]
    return IntegrationStatus(
        run_id=run_id,
        branch=branch.branch,
        exists=True,
        base_commit=branch.base,
        head=branch.head,
        base_ref=base_ref,
        base_ref_commit=base_ref_commit,
        ahead=ahead,
        behind=behind,
        phases=[
            PhaseCommitOut(phase_id=p.phase_id, state=p.state, commit=shas.get(p.phase_id))
            for p in run.phases
        ],
        commits=commits,
    )
