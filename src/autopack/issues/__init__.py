"""Three-level issue tracking: what auditors, checks and the Doctor find, across runs.

1. **Phase issues** — each phase records the issues found while it ran (key, severity
   minor|major, source, category, evidence, occurrence count), in the database and in
   ``<data_dir>/runs/<run_id>/issues/<phase_id>.json``.
2. **Run index** — the run's issues de-duplicated by key (``issues/index.json`` and
   ``index.md``).
3. **Project backlog** — every issue across runs with its age in DISTINCT runs and DISTINCT
   (run, tier) pairs, its status (open, needs_cleanup, resolved), and a snapshot
   ``issues/backlog.md`` when a run ends.

The rules: :mod:`.keys` (what makes two findings the same issue), :mod:`.aging` (when an
issue needs cleanup), :mod:`.extract` (what an attempt records), :mod:`.resolution` (when a
run resolves an issue), :mod:`.mirror` (the files). The database side is
:mod:`autopack.store.issues`; the engine side :mod:`autopack.engine.learn_issues`.

A tier ends ``NOT_CLEAN`` when an issue its phases recorded in this run needs cleanup at the
tier's end; a run with ``max_major_issues`` stops once it recorded that many distinct major
issues.
"""

from autopack.issues.aging import PROFILE_THRESHOLDS, Thresholds, status_for
from autopack.issues.keys import issue_key, kind_of
from autopack.issues.resolution import RunEvidence

__all__ = ["PROFILE_THRESHOLDS", "RunEvidence", "Thresholds", "issue_key", "kind_of", "status_for"]
