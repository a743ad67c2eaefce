"""A realistic memory of many past runs: errors, their fixes, Doctor hints, run summaries.

Written like the notes :class:`autopack.engine.learn_memory.MemoryLearner` records, across
categories, with near misses on purpose (a missing ``requests`` beside a missing ``yaml``,
``mul()`` missing an argument beside ``parse()`` missing one), so a ranking test cannot pass
by matching one common word. :func:`corpus` returns more than 250 notes.
"""

from __future__ import annotations

from autopack.memory.notes import Note

# (import name, package to install, file that imported it, category)
MODULES = [
    ("yaml", "PyYAML", "src/app/config.py", "feature_scaffolding"),
    ("requests", "requests", "src/app/client.py", "feature_scaffolding"),
    ("numpy", "numpy", "src/app/stats.py", "feature_scaffolding"),
    ("toml", "toml", "src/app/settings.py", "debt_cleanup"),
    ("jinja2", "Jinja2", "src/app/render.py", "feature_scaffolding"),
    ("httpx", "httpx", "src/app/api.py", "feature_scaffolding"),
    ("dateutil", "python-dateutil", "src/app/dates.py", "debt_cleanup"),
    ("lxml", "lxml", "src/app/xmlio.py", "feature_scaffolding"),
    ("psycopg", "psycopg[binary]", "src/app/db.py", "schema_contract_change"),
    ("redis", "redis", "src/app/cache.py", "feature_scaffolding"),
    ("boto3", "boto3", "src/app/storage.py", "feature_scaffolding"),
    ("click", "click", "src/app/cli.py", "feature_scaffolding"),
    ("attr", "attrs", "src/app/models.py", "debt_cleanup"),
    ("PIL", "Pillow", "src/app/images.py", "feature_scaffolding"),
    ("sklearn", "scikit-learn", "src/app/learn.py", "feature_scaffolding"),
    ("bs4", "beautifulsoup4", "src/app/scrape.py", "feature_scaffolding"),
]

# (function, missing argument, file, the fix)
SIGNATURES = [
    ("mul", "b", "calc.py", "gave mul's second argument a default: def mul(a, b=1)"),
    ("parse", "strict", "src/app/parser.py", "passed strict=False from the CLI wrapper"),
    ("render", "context", "src/app/render.py", "render() now builds an empty context if none"),
    ("connect", "timeout", "src/app/db.py", "connect() reads timeout from settings"),
    ("send", "headers", "src/app/client.py", "send() merges default headers"),
    ("load", "path", "src/app/config.py", "load() defaults to the project's config path"),
    ("resize", "height", "src/app/images.py", "resize() keeps the aspect ratio when one is given"),
    ("schedule", "when", "src/app/jobs.py", "schedule() takes when=None for 'now'"),
    ("export", "fmt", "src/app/export.py", "export() infers fmt from the file suffix"),
    ("retry", "attempts", "src/app/net.py", "retry() has attempts=3 by default"),
]

# (category, paths, error text, fix text, doctor hint or "")
FAMILIES = [
    (
        "debt_cleanup",
        "src/app/db.py",
        "sqlite3.OperationalError: database is locked\nin test_concurrent_writes",
        "Opened SQLite in WAL mode with a busy timeout (PRAGMA journal_mode=WAL; busy_timeout "
        "10000) and a connection per thread.",
        "two writers share one connection; use WAL",
    ),
    (
        "schema_contract_change",
        "migrations/versions",
        "alembic.util.exc.CommandError: Multiple head revisions are present for given argument "
        "'head'",
        "Merged the two alembic heads with `alembic merge heads` and chained the new "
        "revision on the merge.",
        "two migrations branched from the same parent",
    ),
    (
        "schema_contract_change",
        "src/app/db.py",
        'psycopg.errors.UndefinedTable: relation "users" does not exist',
        "The test database is migrated in the fixture before the test runs.",
        "",
    ),
    (
        "schema_contract_change",
        "src/app/models.py",
        "sqlite3.IntegrityError: UNIQUE constraint failed: users.email",
        "Upsert on email instead of insert; the seed ran twice.",
        "",
    ),
    (
        "feature_scaffolding",
        "calc.py",
        "patch_apply_error: SEARCH block 1 did not match calc.py exactly\nDid you mean: def "
        "mul(a, b):",
        "Copied the SEARCH text exactly from the file shown (parameter names a, b, not x, y).",
        "re-read calc.py and copy the lines verbatim",
    ),
    (
        "feature_scaffolding",
        "src/app/api.py",
        "patch_apply_error: SEARCH block 2 matched 3 places in src/app/api.py (ambiguous)",
        "Added two more context lines so the SEARCH block is unique.",
        "make SEARCH unique",
    ),
    (
        "docs",
        "README.md",
        "patch_apply_error: whole-file block for README.md was cut off (no closing fence)",
        "Sent a SEARCH/REPLACE block for the one section instead of the whole file.",
        "",
    ),
    (
        "feature_scaffolding",
        "src/app/parser.py",
        "SyntaxError: invalid syntax (parser.py, line 88)\n    if token == '(' \n"
        "                 ^",
        "A missing colon after the if condition.",
        "",
    ),
    (
        "feature_scaffolding",
        "src/app/views.py",
        "IndentationError: unexpected indent (views.py, line 12)",
        "Mixed tabs and spaces; re-indented the block with four spaces.",
        "",
    ),
    (
        "tests",
        "tests/test_calc.py",
        "pytest: no tests ran (exit code 5): collected 0 items",
        "Test functions must start with test_; renamed check_add to test_add.",
        "",
    ),
    (
        "tests",
        "tests/test_api.py",
        "E   fixture 'client' not found\n>       available fixtures: cache, capsys, tmp_path",
        "Added the client fixture to tests/conftest.py.",
        "the fixture lives in conftest.py",
    ),
    (
        "tests",
        "tests/test_dates.py",
        "AssertionError: assert datetime(2024, 3, 31, 23, 0) == datetime(2024, 4, 1, 0, 0)",
        "Compared aware datetimes in UTC; the test ran in a DST zone.",
        "",
    ),
    (
        "security_auth_change",
        "src/app/auth.py",
        "policy_violation: write to .env denied (protected path)",
        "Read the secret from the environment in settings.py instead of writing .env.",
        "",
    ),
    (
        "security_auth_change",
        "src/app/auth.py",
        "auditor_reject: tokens compared with == (timing attack)",
        "Used hmac.compare_digest for token comparison.",
        "constant-time comparison",
    ),
    (
        "cross_cutting_refactor",
        "src/app",
        "ImportError: cannot import name 'Settings' from partially initialized module "
        "'app.config' (most likely due to a circular import)",
        "Moved the Settings import into the function that needs it; app.config no longer "
        "imports app.db.",
        "break the import cycle",
    ),
    (
        "feature_scaffolding",
        "src/app/render.py",
        "UnicodeDecodeError: 'ascii' codec can't decode byte 0xc3 in position 17",
        "Opened templates with encoding='utf-8' explicitly.",
        "",
    ),
    (
        "feature_scaffolding",
        "scripts/build.sh",
        "PermissionError: [Errno 13] Permission denied: 'scripts/build.sh'",
        "Run the script with bash scripts/build.sh instead of relying on the executable bit.",
        "",
    ),
    (
        "tests",
        "tests/test_net.py",
        "Failed: Timeout >30.0s in test_download_retries",
        "The retry loop slept for real; injected a fake clock.",
        "tests must not sleep",
    ),
    (
        "feature_scaffolding",
        "web/package.json",
        "Error: Cannot find module 'left-pad'\nRequire stack: web/src/index.js",
        "Added left-pad to package.json dependencies and ran npm install.",
        "",
    ),
    (
        "feature_scaffolding",
        "web/src/app.ts",
        "TS2345: Argument of type 'string' is not assignable to parameter of type 'number'",
        "Parsed the query parameter with Number() before calling paginate().",
        "",
    ),
    (
        "debt_cleanup",
        "src/app/cache.py",
        "ruff: F401 'os' imported but unused",
        "Removed the unused import.",
        "",
    ),
    (
        "debt_cleanup",
        "src/app/stats.py",
        'mypy: error: Incompatible return value type (got "float | None", expected "float")',
        "Returned 0.0 for an empty sample and documented it.",
        "",
    ),
    (
        "docs",
        "docs/usage.md",
        "deliverables_missing: docs/usage.md does not exist",
        "Created docs/usage.md (the phase's deliverable) instead of editing README.md.",
        "",
    ),
    (
        "feature_scaffolding",
        "src/app/export.py",
        "auditor_reject: the new export() has no test",
        "Added tests/test_export.py covering csv and json.",
        "add a test for every new function",
    ),
    (
        "index_registry_change",
        "src/app/registry.py",
        "KeyError: 'exporter.csv' while loading plugins from the registry",
        "Registered the csv exporter under its entry-point name in registry.py.",
        "",
    ),
    (
        "bulk_multi_file_operation",
        "src/app",
        "truncated_answer: the answer was cut off at the output limit",
        "Split the rename into SEARCH/REPLACE blocks per file, no whole files.",
        "shorter answer",
    ),
    (
        "feature_scaffolding",
        "src/app/jobs.py",
        "RecursionError: maximum recursion depth exceeded while calling a Python object",
        "schedule() re-queued itself; replaced the recursion with a loop.",
        "",
    ),
    (
        "feature_scaffolding",
        "src/app/client.py",
        "httpx.ConnectError: [Errno 111] Connection refused (localhost:8000)",
        "The test now starts the app with an ASGI transport instead of a real port.",
        "",
    ),
    (
        "tests",
        "tests/test_models.py",
        "AttributeError: 'NoneType' object has no attribute 'email'",
        "get_user() returned None for unknown ids; the test creates the user first.",
        "",
    ),
    (
        "debt_cleanup",
        "setup.cfg",
        "ValueError: invalid literal for int() with base 10: '3.11'",
        "python_requires parsing: compare versions with packaging.version.",
        "",
    ),
]

RUN_STATES = ["DONE_SUCCESS", "DONE_FAILED_BUDGET_EXHAUSTED", "DONE_FAILED_REQUIRES_HUMAN_REVIEW"]


def _error(i: int, category: str, path: str, text: str, run: str) -> Note:
    first = text.splitlines()[0]
    return Note(
        id=f"error:{run}:p{i}:1",
        kind="error",
        title=first[:200],
        text=f"Signature: {first}\n{text}\n(in /tmp/pytest-of-ci/pytest-{i}/test0/{path})",
        run_id=run,
        phase_id=f"p{i}",
        category=category,
        paths=(path,),
    )


def _fix(i: int, category: str, path: str, error: str, fix: str, run: str) -> Note:
    first = error.splitlines()[0]
    return Note(
        id=f"fix:{run}:p{i}",
        kind="fix",
        title=f"Fix for {first}"[:200],
        text=f"Errors it fixed:\n- {first}\nWhat fixed it: {fix}\nFiles changed: {path}",
        run_id=run,
        phase_id=f"p{i}",
        category=category,
        paths=(path,),
    )


def corpus() -> list[Note]:
    """Every note of the corpus (more than 250; ids unique)."""
    notes: list[Note] = []
    i = 0
    for module, package, path, category in MODULES:
        i += 1
        err = (
            f"ModuleNotFoundError: No module named '{module}'\n"
            f'  File "{path}", line {10 + i}, in <module>\n    import {module}'
        )
        fix = f"Added {package} to the project dependencies in pyproject.toml (import {module})."
        notes += [
            _error(i, category, path, err, f"run-{i % 7}"),
            _fix(i, category, path, err, fix, f"run-{i % 7}"),
        ]
    for func, arg, path, fix in SIGNATURES:
        i += 1
        err = f"TypeError: {func}() missing 1 required positional argument: '{arg}'"
        notes += [
            _error(i, "feature_scaffolding", path, err, f"run-{i % 7}"),
            _fix(i, "feature_scaffolding", path, err, fix, f"run-{i % 7}"),
        ]
    for category, path, err, fix, hint in FAMILIES:
        i += 1
        run = f"run-{i % 7}"
        notes += [_error(i, category, path, err, run), _fix(i, category, path, err, fix, run)]
        # The same failure seen again in a later run, left unfixed there.
        notes.append(_error(i + 1000, category, path, err, f"run-{(i + 3) % 7}"))
        if hint:
            notes.append(
                Note(
                    id=f"doctor:{run}:p{i}:2",
                    kind="doctor_hint",
                    title=f"Doctor (retry_with_fix): {hint}",
                    text=f"Doctor's action: retry_with_fix\nHint: {hint}\nAfter: {err[:120]}",
                    run_id=run,
                    phase_id=f"p{i}",
                    category=category,
                    paths=(path,),
                )
            )
    for r in range(60):
        phases = "\n".join(
            f"- p{r * 3 + k} ({['scaffold', 'tests', 'docs'][k]}): COMPLETE after {k + 1} "
            "attempt(s)"
            for k in range(3)
        )
        notes.append(
            Note(
                id=f"run:hist-{r}",
                kind="run_summary",
                title=f"Run hist-{r}: {RUN_STATES[r % 3]}",
                text=f"Goal: iteration {r} of the app\nEnded: {RUN_STATES[r % 3]}\nPhases:\n"
                f"{phases}",
                run_id=f"hist-{r}",
            )
        )
    for r in range(20):
        notes.append(
            Note(
                id=f"planning:hist-{r}",
                kind="planning",
                title=f"Plan note {r}: split the {['api', 'cli', 'storage', 'web'][r % 4]} work",
                text="Phases that touch the same module run in one tier; tests come last.",
            )
        )
    return notes
