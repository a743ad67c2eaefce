"""Jinja2 rendering of the dashboard's pages, with the headers every page carries.

Templates live in ``autopack/web/templates`` (packaged); autoescaping is on for all of them
and an undefined variable is an error, not an empty string. Templates only lay out what the
view models (:mod:`autopack.web.views`) computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.responses import HTMLResponse

from autopack import __version__
from autopack.web import format as fmt
from autopack.web.security import UI_CSP

__all__ = ["PAGE_HEADERS", "Renderer"]

PAGE_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": UI_CSP,
    "Cache-Control": "no-store",
    "Vary": "Cookie",
}
"""Pages show runs, diffs and who is logged in: never cached, the dashboard's own CSP."""


class Renderer:
    """The template environment (built once per app)."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("autopack.web", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            money=fmt.money,
            tokens=fmt.tokens,
            when=fmt.when,
            duration=fmt.duration,
            kind=fmt.state_kind,
        )
        self.env.globals["version"] = __version__

    def render(self, name: str, **context: Any) -> str:
        """One template as text."""
        return self.env.get_template(name).render(**context)

    def response(
        self,
        name: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """A page or fragment with :data:`PAGE_HEADERS`."""
        return HTMLResponse(
            self.render(name, **context),
            status_code=status,
            headers={**PAGE_HEADERS, **(headers or {})},
        )
