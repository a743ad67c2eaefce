"""The dashboard: server-rendered pages at ``/ui`` (Jinja2 + HTMX + server-sent events).

No front-end build step: htmx and its SSE extension are vendored in ``static/`` (with their
licences) and served by the app itself; the Content-Security-Policy allows scripts and
styles from this server only. Every page renders fully on the server and reads without
JavaScript; with it, the run page updates live.

Layout: :mod:`.mount` (wiring into the API app), :mod:`.routes` (thin: parse, call a view
model or an API service, render), :mod:`.views` (view models: what each page shows),
:mod:`.queries` (aggregate reads), :mod:`.access` (who is looking, roles, CSRF),
:mod:`.security` (sessions, cookies, CSP), :mod:`.render` (templates), :mod:`.forms`.
"""

from autopack.web.mount import mount_dashboard
from autopack.web.options import DashboardOptions

__all__ = ["DashboardOptions", "mount_dashboard"]
