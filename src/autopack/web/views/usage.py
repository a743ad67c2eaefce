"""The usage page: tokens and cost per model and per day, as tables and SVG charts.

The numbers are the API's own (``GET /dashboard/usage``: one aggregate query over the model
call ledger, :func:`autopack.store.aggregates.usage`); this module only shapes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from autopack.api.context import ApiContext
from autopack.api.services.dashboard_api import usage
from autopack.store.aggregates import ModelUsage
from autopack.web.format import money, tokens
from autopack.web.views.charts import Chart, columns, rows

__all__ = ["DAYS", "DayRow", "UsagePage", "usage_page"]

DAYS = 30


@dataclass(frozen=True)
class DayRow:
    """Model calls of one UTC day (every model)."""

    day: date
    calls: int
    tokens: int
    cost: Decimal


@dataclass(frozen=True)
class UsagePage:
    """Usage over the last :data:`DAYS` days: per model, per day, in total."""

    days: int
    since: date
    models: list[ModelUsage]
    daily: list[DayRow]
    calls: int
    tokens: int
    cost: Decimal
    charts: list[Chart]

    @property
    def active_days(self) -> list[DayRow]:
        return [d for d in self.daily if d.calls]


def _per_day(since: date, days: int, found: dict[date, DayRow]) -> list[DayRow]:
    every = (since + timedelta(days=i) for i in range(days))
    return [found.get(d, DayRow(d, 0, 0, Decimal(0))) for d in every]


def usage_page(ctx: ApiContext) -> UsagePage:
    """Read the usage aggregate and lay it out per model and per day."""
    data = usage(ctx, days=DAYS)
    by_day: dict[date, DayRow] = {}
    for row in data.daily:
        seen = by_day.get(row.day, DayRow(row.day, 0, 0, Decimal(0)))
        by_day[row.day] = DayRow(
            row.day,
            seen.calls + row.calls,
            seen.tokens + row.tokens_in + row.tokens_out,
            seen.cost + row.cost_usd,
        )
    daily = _per_day(data.since, data.days, by_day)
    models = sorted(data.models, key=lambda m: (-m.cost_usd, m.model))
    charts = [
        rows(
            "chart-model-tokens",
            "Tokens per model",
            [
                (m.model, m.tokens_in + m.tokens_out, tokens(m.tokens_in + m.tokens_out))
                for m in models
            ],
        ),
        rows(
            "chart-model-cost",
            "Cost per model (USD)",
            [(m.model, float(m.cost_usd), money(m.cost_usd)) for m in models],
        ),
        columns(
            "chart-day-tokens",
            "Tokens per day (UTC)",
            [(d.day.strftime("%m-%d"), d.tokens, tokens(d.tokens)) for d in daily],
        ),
        columns(
            "chart-day-cost",
            "Cost per day (UTC, USD)",
            [(d.day.strftime("%m-%d"), float(d.cost), money(d.cost)) for d in daily],
        ),
    ]
    return UsagePage(
        days=data.days,
        since=data.since,
        models=models,
        daily=daily,
        calls=data.calls,
        tokens=data.tokens_in + data.tokens_out,
        cost=data.cost_usd,
        charts=charts,
    )
