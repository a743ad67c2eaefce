"""Pure parts of the dashboard: sessions, redirects, diff lines, chart geometry, formats."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from autopack.store.views import AttemptView
from autopack.web.access import safe_next
from autopack.web.format import duration, error_line, money, state_kind, tokens, when
from autopack.web.security import SessionStore, same_token
from autopack.web.views.charts import columns, rows
from autopack.web.views.common import diff_lines, failure_source


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sessions_expire_when_idle_and_after_their_lifetime() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=10, lifetime_seconds=25, clock=clock)
    session = store.create("apk_key")
    assert "apk_key" not in repr(session) and session.csrf not in repr(session)
    assert session.sid != session.csrf and len(session.sid) >= 40
    clock.now += 9
    assert store.get(session.sid) is session  # use restarts the idle clock
    clock.now += 9
    assert store.get(session.sid) is session
    clock.now += 11
    assert store.get(session.sid) is None  # idle too long
    other = store.create("apk_key")
    for _ in range(3):
        clock.now += 9
        store.get(other.sid)
    assert store.get(other.sid) is None  # 27 s after login: past its lifetime
    assert store.get(None) is None and store.get("") is None


def test_sessions_are_bounded_and_dropped() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=100, lifetime_seconds=100, limit=2, clock=clock)
    first = store.create("a")
    clock.now += 1
    second = store.create("b")
    clock.now += 1
    third = store.create("c")
    assert len(store) == 2 and store.get(first.sid) is None
    store.drop(second.sid)
    assert store.get(second.sid) is None and store.get(third.sid) is third
    third.flash("ok", "done")
    assert third.take_flashes() == [("ok", "done")] and third.take_flashes() == []


def test_token_comparison() -> None:
    assert same_token("abc", "abc")
    assert not same_token("abc", "abd") and not same_token("", "") and not same_token(None, "x")


def test_safe_next() -> None:
    assert safe_next("/ui/runs/a?x=1") == "/ui/runs/a?x=1"
    assert safe_next("/ui?page=2") == "/ui?page=2" and safe_next("/ui") == "/ui"
    for bad in (None, "", "//x", "/uix", "http://x/ui", "/other", "/ui/\\x", "/ui/\n", "ui/"):
        assert safe_next(bad) == "/ui", bad


def test_diff_lines() -> None:
    text = (
        "diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n"
        "-old\n+new\n same\n\\ No newline at end of file\n"
    )
    lines, cut = diff_lines(text)
    assert [line.kind for line in lines] == [
        "file", "meta", "file", "file", "hunk", "del", "add", "ctx", "meta",
    ]  # fmt: skip
    assert [line.sign for line in lines][5:7] == ["removed", "added"] and not cut
    assert diff_lines("+a\n+b\n+c\n", limit=2)[1] is True


def test_charts_scale_to_the_largest_value() -> None:
    chart = rows("c", "T", [("a", 10, "10"), ("b", 5, "5"), ("z", 0, "0")], width=400)
    room = 400 - 190 - 120 - 10
    assert [b.width for b in chart.bars] == [room, room / 2, 0]
    assert chart.description == "a: 10; b: 5; z: 0" and not chart.empty
    assert rows("c", "T", []).empty and columns("d", "T", [("x", 0, "0")]).empty
    cols = columns("d", "T", [(f"{i:02d}", i, str(i)) for i in range(10)], width=240, height=100)
    assert max(b.height for b in cols.bars) == 100 - 30 - 20
    assert all(b.x >= 24 and b.x + b.width <= 240 - 24 for b in cols.bars)
    assert cols.bars[0].height == 0 and cols.bars[1].height > 0
    assert cols.labels[-1].text == "highest: 9 (09)"


def test_formats() -> None:
    assert money(Decimal("0.12345")) == "$0.1234" or money(Decimal("0.12345")) == "$0.1235"
    assert money(None) == "$0.0000" and tokens(1234567) == "1,234,567"
    assert when(None) == "-"
    assert when(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02 03:04:05 UTC"
    assert duration(None) == "-" and duration(850) == "850 ms" and duration(1400) == "1.4 s"
    assert duration(185_000) == "3 min 05 s"
    assert [state_kind(s) for s in ("COMPLETE", "DONE_FAILED_ENVIRONMENT", "GATE", None)] == [
        "ok", "bad", "wait", "idle",
    ]  # fmt: skip
    assert state_kind("EXECUTING") == "active"
    assert failure_source("auditor_reject") == "auditor" and failure_source("ci_fail") == "checks"
    assert failure_source("budget_exhausted") == "budget" and failure_source(None) == "-"
    attempt = AttemptView(
        id=1, attempt_index=1, builder_model=None, auditor_model=None, builder_outcome=None,
        apply_outcome=None, ci_outcome=None, auditor_outcome=None, outcome="ci_fail",
        error_class="ci_fail", error_message="Checks: FAILED\nmore", tokens_in=0, tokens_out=0,
        started_at=datetime.now(UTC), finished_at=None, duration_ms=None,
    )  # fmt: skip
    assert error_line(attempt) == "ci_fail: Checks: FAILED"


def test_exports_and_import_order() -> None:
    import subprocess
    import sys

    import autopack.web

    assert sorted(autopack.web.__all__) == ["DashboardOptions", "mount_dashboard"]
    # A dashboard module imported first imports the API, whose factory imports the dashboard
    # only when it runs: no import cycle, whichever comes first.
    done = subprocess.run(
        [sys.executable, "-c", "import autopack.web.routes.live, autopack.api, autopack.web"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
