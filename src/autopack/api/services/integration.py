"""A run's integration branch as the API shows it: read from git, never changed.

Reads go through :class:`autopack.workspace.review.RunBranch`, which repairs nothing and
rolls nothing back (unlike opening the workspace for work), so it is safe while a worker
executes the run. Ahead/behind compare the branch with a ref of the user's repository
(``HEAD`` unless the caller names another), by commit ids only.

A run on a git remote is read in this server's mirror of the remote, fetched first
(:func:`autopack.workspace.locate_run.find_run_branch`), and ``base`` names a ref of the
remote (``HEAD``: its default branch; a branch name; a commit id).
"""

from __future__ import annotations

from autopack.api.context import ApiContext
from autopack.api.errors import ApiError
from autopack.api.schemas import CommitOut, IntegrationStatus, PhaseCommitOut
from autopack.workspace import BRANCH_PREFIX, Git, WorkspaceError
from autopack.workspace.locate_run import find_run_branch, run_remote


def _bad_base(ref: str, where: str) -> ApiError:
    return ApiError(
        422,
        "bad_base_ref",
        f"{ref!r} does not name a commit in {where}",
        details={"issues": [{"loc": "query.base", "message": "not a commit"}]},
    )


def _resolve(ctx: ApiContext, spec: dict[str, object], ref: str) -> str:
    """``ref``'s commit in the run's repository: the workspace, or the run's remote."""
    remote = run_remote(ctx.settings, spec)
    if remote is None:
        sha = Git(ctx.settings.workspace).try_rev_parse(f"{ref}^{{commit}}")
        if sha is None:
            raise _bad_base(ref, "the workspace repository")
        return sha
    remote.fetch()  # once per request: find_run_branch below reads what this fetched
    try:
        return remote.resolve(ref)
    except WorkspaceError as exc:
        if exc.code != "bad_ref":
            raise
        raise _bad_base(ref, remote.url) from None


def integration_status(ctx: ApiContext, run_id: str, *, base_ref: str) -> IntegrationStatus:
    """Branch, base, head, commits per phase and ahead/behind ``base_ref``."""
    run = ctx.store.get_run(run_id)  # 404 for an unknown run
    settings = ctx.settings
    spec = ctx.store.run_spec(run_id)
    base_ref_commit = _resolve(ctx, spec, base_ref)
    try:
        branch = find_run_branch(settings, spec, run_id, fetch=False)
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
