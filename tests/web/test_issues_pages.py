"""The issues pages of the dashboard, on the real app: the project backlog with its status
filter (a GET form: no JavaScript needed), one issue with every occurrence, a run's index on
the run page, the attempt failure groups; escaping of what agents report."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

from api.api_helpers import Api
from web.a11y import problems
from web.ui_helpers import Ui

RUN = "calc-run"  # tiers core (mul-default, readme) and api (div)
KEY = "checks:tests/test_calc.py::test_div"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def record(api: Api, *, run: str = RUN, phase: str = "mul-default", **fields: Any) -> None:
    body = {"severity": "minor", "category": "lint", "title": "unused import os", **fields}
    response = api.client.post(
        f"/runs/{run}/phases/{phase}/record_issue", json=body, headers=api.key("builder")
    )
    assert response.status_code == 201, response.text


def rows(html: str) -> list[str]:
    """The backlog table's rows (tr elements of its body)."""
    table = re.search(r'<table class="grid" id="backlog">(.*?)</table>', html, re.S)
    return re.findall(r"<tr data-status=.*?</tr>", table.group(1), re.S) if table else []


def test_the_backlog_lists_issues_with_aging_and_a_needs_cleanup_badge(ui: Ui) -> None:
    for n in range(3):
        ui.api.create_run(f"run-{n}")
        record(ui.api, run=f"run-{n}", issue_key="lint:F401:calc.py", file="calc.py")
    record(
        ui.api,
        run="run-2",
        phase="div",
        issue_key=KEY,
        severity="major",
        category="tests",
        title="div by zero is not tested",
        source="auditor",
    )
    ui.login("viewer")
    response = ui.page("/ui/issues")
    assert response.status_code == 200
    html = response.text
    assert problems(html) == []
    listed = rows(html)
    assert len(listed) == 2
    cleanup = next(r for r in listed if "lint:F401:calc.py" in r)
    assert 'data-status="needs_cleanup"' in cleanup
    assert '<span class="badge badge-warn">needs_cleanup</span>' in cleanup
    assert '<span class="badge badge-idle">minor</span>' in cleanup
    assert '<td class="num">3</td>' in cleanup  # three runs old, three times seen
    assert 'href="/ui/issues/lint%3AF401%3Acalc.py">unused import os</a>' in cleanup
    major = next(r for r in listed if "div by zero" in r)
    assert '<span class="badge badge-bad">major</span>' in major and "auditor" in major
    assert '<span class="badge badge-wait">open</span>' in major
    assert "tests" in major and "UTC" in major  # category, last seen
    summary = re.search(r'<dl class="facts" id="backlog-summary">.*?</dl>', html, re.S)
    assert summary and "<dt>Needs cleanup</dt><dd>1</dd>" in summary.group(0)
    # The attempt failures stay, as a second section.
    assert '<h2 id="issues-failures">Attempt failures</h2>' in html
    assert html.count("None recorded.") == 2


def test_the_status_filter_is_a_get_form_and_validated(ui: Ui) -> None:
    for n in range(3):
        ui.api.create_run(f"run-{n}")
        record(ui.api, run=f"run-{n}", issue_key="old")
    record(ui.api, run="run-0", issue_key="new", severity="major")
    ui.login("viewer")
    html = ui.page("/ui/issues").text
    form = re.search(
        r'<form method="get" action="/ui/issues" class="filter">.*?</form>', html, re.S
    )
    assert form and '<label for="status">Status</label>' in form.group(0)
    assert '<select id="status" name="status">' in form.group(0)
    assert '<option value="" selected>open and needs cleanup</option>' in form.group(0)

    cleanup = ui.page("/ui/issues?status=needs_cleanup").text
    assert '<option value="needs_cleanup" selected>' in cleanup
    assert [r.count('data-status="needs_cleanup"') for r in rows(cleanup)] == [1]
    assert "/ui/issues/old" in cleanup and "/ui/issues/new" not in cleanup
    opened = ui.page("/ui/issues?status=open").text
    assert "/ui/issues/new" in opened and "/ui/issues/old" not in opened
    assert len(rows(ui.page("/ui/issues?status=all").text)) == 2
    resolved = ui.page("/ui/issues?status=resolved").text
    assert rows(resolved) == [] and "No issue with status resolved" in resolved
    for query in ("status=closed", "status=%3Cb%3E", "page=0", "page=x"):
        bad = ui.page(f"/ui/issues?{query}")
        assert bad.status_code == 400, query
        assert bad.headers["content-type"].startswith("text/html")
        assert "<b>" not in bad.text


def test_the_backlog_pages(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui()
    ui.api.create_run(RUN)
    for n in range(27):
        record(ui.api, issue_key=f"style:rule-{n:02d}")
    ui.login("viewer")
    first = ui.page("/ui/issues").text
    assert len(rows(first)) == 25
    assert 'href="/ui/issues?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = ui.page("/ui/issues?page=2").text
    assert len(rows(second)) == 2 and 'href="/ui/issues" rel="prev"' in second
    keys = set(re.findall(r"style:rule-\d\d", "".join(rows(first) + rows(second))))
    assert len(keys) == 27
    filtered = ui.page("/ui/issues?status=all").text
    assert 'href="/ui/issues?status=all&amp;page=2" rel="next"' in filtered


def test_the_issue_page_shows_every_occurrence_and_escapes_the_evidence(ui: Ui) -> None:
    ui.api.create_run(RUN)
    ui.api.create_run("other-run")
    record(ui.api, issue_key=KEY, title=f"title {HOSTILE}", evidence=f"Traceback\n  {HOSTILE}")
    record(ui.api, issue_key=KEY, phase="div", evidence="second & last")
    record(ui.api, run="other-run", phase="readme", issue_key=KEY)
    ui.login("viewer")
    backlog = ui.page("/ui/issues").text
    [href] = re.findall(r'href="(/ui/issues/[^"]+)"', backlog)
    assert href == "/ui/issues/checks%3Atests%2Ftest_calc.py%3A%3Atest_div"
    response = ui.page(unescape(href))
    assert response.status_code == 200, response.text
    html = response.text
    assert problems(html) == []
    assert "<script>alert" not in html and "<img src=x" not in html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    )
    assert '<pre class="log">Traceback\n  &lt;script&gt;' in html
    assert '<pre class="log">second &amp; last</pre>' in html
    assert f"<code>{KEY}</code>" in html and 'data-status="needs_cleanup"' in html  # 3 tiers
    occurrences = re.findall(r'<th scope="row"><a href="/ui/runs/([^"]+)">', html)
    assert sorted(occurrences) == [RUN, RUN, "other-run"]
    for phase_url in (
        f"/ui/runs/{RUN}/phases/mul-default",
        f"/ui/runs/{RUN}/phases/div",
        "/ui/runs/other-run/phases/readme",
    ):
        assert f'href="{phase_url}"' in html
    assert "<td>core</td>" in html and "<td>api</td>" in html  # tiers
    assert ui.page(f"/ui/issues/{KEY}").status_code == 200  # unescaped slashes work too


def test_unknown_or_impossible_keys_are_404_pages(ui: Ui) -> None:
    ui.login("viewer")
    for path in (
        "/ui/issues/nope",
        "/ui/issues/a/b:c",
        "/ui/issues/%00",
        "/ui/issues/" + "k" * 300,
    ):
        response = ui.page(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "no issue" in response.text and problems(response.text, nav=False) == []


def test_the_run_page_shows_the_run_issue_index(ui: Ui) -> None:
    ui.api.create_run(RUN)
    ui.api.create_run("quiet-run")
    record(ui.api, issue_key=KEY, title="div untested <b>", severity="major")
    record(ui.api, phase="div", issue_key=KEY, title="div untested <b>", severity="major")
    ui.login("viewer")
    html = ui.page(f"/ui/runs/{RUN}").text
    assert problems(html) == []
    section = re.search(r'<section aria-labelledby="run-issue-index">.*?</section>', html, re.S)
    assert section, "no issue index on the run page"
    index = section.group(0)
    assert f'href="/ui/issues/{KEY.replace(":", "%3A").replace("/", "%2F")}"' in index
    assert "div untested &lt;b&gt;" in index and "<b>" not in index
    assert "mul-default, div" in index or "div, mul-default" in index
    assert '<span class="badge badge-bad">major</span>' in index
    quiet = ui.page("/ui/runs/quiet-run").text
    assert "No issue was recorded in this run" in quiet


def test_anonymous_readers_see_the_pages_when_allowed(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui(anonymous_read=True)
    ui.api.create_run(RUN)
    record(ui.api, issue_key=KEY)
    assert ui.page("/ui/issues").status_code == 200
    assert ui.page(f"/ui/issues/{KEY}").status_code == 200
    closed = make_ui()
    login = closed.page("/ui/issues?status=all")
    assert login.status_code == 303
    assert login.headers["location"] == "/ui/login?next=/ui/issues%3Fstatus%3Dall"
