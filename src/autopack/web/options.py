"""What the dashboard is configured with, and the per-app state the routes reach."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from autopack.web.render import Renderer
from autopack.web.security import SessionStore

__all__ = ["Dashboard", "DashboardDep", "DashboardOptions", "get_dashboard"]


@dataclass(frozen=True)
class DashboardOptions:
    """Timings and sizes of the dashboard."""

    poll_seconds: float = 0.5
    """How often a live stream reads the run's signature from the store."""
    stream_seconds: float = 25.0
    """After this long a live stream asks the page to renew it (a fresh fragment, a new
    stream): every connection re-checks the session, and none outlives a shutdown for long."""
    linger_seconds: float = 5.0
    """After asking for a renewal (or announcing a change), a stream waits this long at most
    for the page to close it before it ends by itself."""
    retry_ms: int = 1000
    """How long the browser waits before reconnecting a stream."""
    refresh_seconds: int = 5
    """Without JavaScript, a live run page reloads itself this often."""
    page_size: int = 25
    """Runs per page of the runs list."""
    session_idle_seconds: float = 8 * 3600
    """A session unused this long ends."""
    session_lifetime_seconds: float = 24 * 3600
    """A session ends this long after its login, used or not."""


@dataclass
class Dashboard:
    """The dashboard's state in one app: options, sessions, templates."""

    options: DashboardOptions
    sessions: SessionStore
    renderer: Renderer

    @classmethod
    def create(cls, options: DashboardOptions | None = None) -> Dashboard:
        """Fresh state (no sessions)."""
        opts = options or DashboardOptions()
        sessions = SessionStore(
            idle_seconds=opts.session_idle_seconds,
            lifetime_seconds=opts.session_lifetime_seconds,
        )
        return cls(opts, sessions, Renderer())


def get_dashboard(request: Request) -> Dashboard:
    """The app's dashboard state (set by :func:`autopack.web.mount_dashboard`)."""
    return request.app.state.dashboard


DashboardDep = Annotated[Dashboard, Depends(get_dashboard)]
