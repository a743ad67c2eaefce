"""The live view of a run: the compact status table above the last progress messages.

:func:`live_run_view` yields the ``notify`` callable the engine reports progress through.
On a terminal it keeps a :class:`rich.live.Live` display: the run's table (re-read from the
store at most every ``refresh`` seconds, on a ``notify`` call) above the last ``lines``
messages. Anywhere else (pipes, CI logs, tests) each message is printed as one plain line,
exactly as given (model text may contain ``[brackets]``), so logs stay readable.

``notify`` is thread-safe: parallel phases may report from several threads at once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from autopack.cli.run_view import read_snapshot, render_snapshot
from autopack.store import Store, StoreError

__all__ = ["Notify", "live_run_view", "plain_notify"]

Notify = Callable[[str], None]


def plain_notify(console: Console) -> Notify:
    """Print each message as one plain line (no markup, no highlighting), thread-safely."""
    lock = threading.Lock()

    def notify(message: str) -> None:
        with lock:
            console.print(message, markup=False, highlight=False, soft_wrap=True)

    return notify


class _LiveRun:
    """State of one live display; every method is called with ``lock`` held."""

    def __init__(self, store: Store, run_id: str, lines: int, refresh: float) -> None:
        self.store, self.run_id, self.refresh = store, run_id, refresh
        self.log: deque[str] = deque(maxlen=lines)
        self.table: RenderableType = Text(f"{run_id}: reading status…", style="dim")
        self.read_at = float("-inf")
        self.lock = threading.Lock()

    def reread(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.read_at < self.refresh:
            return
        self.read_at = now
        try:
            self.table = render_snapshot(read_snapshot(self.store, self.run_id))
        except (StoreError, SQLAlchemyError) as exc:
            # The display must never stop the run; the next notify reads again.
            self.table = Text(f"status unavailable: {exc}", style="yellow")

    def renderable(self) -> RenderableType:
        log = Text(no_wrap=True, overflow="ellipsis")
        for i, message in enumerate(self.log):
            log.append(("\n" if i else "") + " ".join(message.split()))
        if not self.log:
            log.append("waiting for the first message…", style="dim")
        return Group(self.table, Panel(log, title="progress", title_align="left", style="dim"))


@contextmanager
def live_run_view(
    console: Console,
    store: Store,
    run_id: str,
    *,
    lines: int = 10,
    refresh: float = 0.25,
) -> Iterator[Notify]:
    """Show ``run_id`` live while the body runs; yields the ``notify`` callable.

    On a non-terminal console this is :func:`plain_notify` and nothing else is printed.
    """
    if not console.is_terminal:
        yield plain_notify(console)
        return
    view = _LiveRun(store, run_id, lines, refresh)
    with view.lock:
        view.reread(force=True)
    live = Live(view.renderable(), console=console, auto_refresh=False, transient=False)

    def notify(message: str) -> None:
        with view.lock:
            view.log.append(message)
            view.reread()
            live.update(view.renderable(), refresh=True)

    with live:
        try:
            yield notify
        finally:
            with view.lock:
                view.reread(force=True)
                live.update(view.renderable(), refresh=True)
