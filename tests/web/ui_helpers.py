"""Helpers of the dashboard tests: logging in through the form, reading tokens from pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from api.api_helpers import Api

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The first CSRF token of a page's forms."""
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@dataclass
class Ui:
    """The app (with its API helpers) seen through the dashboard."""

    api: Api

    @property
    def client(self) -> Any:
        return self.api.client

    def login(self, role: str | None, *, name: str | None = None) -> Any:
        """Log in with a stored key of ``role`` (the admin key for ``None``); start clean."""
        from api.api_helpers import ADMIN_KEY

        self.client.cookies.clear()
        if role is None:
            key = ADMIN_KEY
        else:
            self.api.key(role, name)
            key = self.api.keys[name or f"{role}-key"]
        form = self.client.get("/ui/login")
        assert form.status_code == 200, form.text
        response = self.client.post(
            "/ui/login",
            data={"api_key": key, "csrf_token": csrf_of(form.text), "next": "/ui"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return response

    def page(self, path: str) -> Any:
        """GET a dashboard page, without following redirects."""
        return self.client.get(path, follow_redirects=False)
