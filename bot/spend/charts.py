"""PNG charts of spend per day (matplotlib, Agg backend, no pyplot: safe on worker threads); for a budget
scope, a burn chart beside them: cumulative spend against the budget line and the forecast to the period's end.

matplotlib is imported when the first chart is drawn, so an idle bot never loads it. Amounts are exact
`Decimal` everywhere else; they become floats here only to be drawn.
"""

from __future__ import annotations

import io
import threading
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bot.spend.model import BurnChart

# Matplotlib's global state (font cache, text layout) is not documented as thread-safe; charts are rare.
_LOCK = threading.Lock()
MAX_SERIES = 6
OTHER = "other"


def _top_series(daily: dict[date, dict[str, Decimal]]) -> list[str]:
    totals: dict[str, Decimal] = {}
    for by_series in daily.values():
        for name, amount in by_series.items():
            totals[name] = totals.get(name, Decimal(0)) + amount
    ranked = sorted(totals, key=lambda n: (-totals[n], n))
    return ranked[:MAX_SERIES]


def _bars(axes: Any, daily: dict[date, dict[str, Decimal]], start: date, end: date, title: str) -> None:
    """Bars of spend per day from `start` to `end` (inclusive), stacked by series, on `axes`."""
    from matplotlib.ticker import FuncFormatter

    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    top = _top_series(daily)
    names = [*top, OTHER] if any(n not in top for d in daily.values() for n in d) else top
    bottoms = [0.0] * len(days)
    for name in names:
        heights = []
        for d in days:
            by_series = daily.get(d, {})
            if name == OTHER:
                amount = sum((v for n, v in by_series.items() if n not in top), Decimal(0))
            else:
                amount = by_series.get(name, Decimal(0))
            heights.append(float(amount))
        axes.bar(range(len(days)), heights, bottom=bottoms, label=name[:60], width=0.8)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    _day_ticks(axes, days)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"${value:,.0f}"))
    axes.set_title(title, fontsize=11)
    axes.set_ylabel("USD per day")
    axes.grid(axis="y", alpha=0.3)
    if names:
        axes.legend(fontsize=8, loc="upper left")


def _day_ticks(axes: Any, days: list[date]) -> None:
    step = max(1, len(days) // 10)
    axes.set_xticks(range(0, len(days), step))
    axes.set_xticklabels([f"{d:%b} {d.day}" for d in days[::step]], fontsize=8)


def _burn(axes: Any, burn: BurnChart, today: date) -> None:
    """Cumulative spend against the budget line, and the forecast to the period's end (AWS Budgets' look)."""
    from matplotlib.ticker import FuncFormatter

    days = [burn.first_day + timedelta(days=i) for i in range((burn.last_day - burn.first_day).days + 1)]
    shown = [d for d in days if d <= today]
    running, cumulative = Decimal(0), []
    for d in shown:
        running += burn.daily.get(d, Decimal(0))
        cumulative.append(float(running))
    xs = list(range(len(shown)))
    axes.fill_between(xs, cumulative, alpha=0.25, color="#1f77b4")
    axes.plot(xs, cumulative, color="#1f77b4", linewidth=2, label="Actual (cumulative)")
    axes.axhline(float(burn.budget), color="#d62728", linestyle="-", linewidth=1.5, label="Budget")
    if burn.forecast is not None and shown:
        axes.plot(
            [len(shown) - 1, len(days) - 1],
            [cumulative[-1], float(burn.forecast)],
            color="#ff7f0e",
            linestyle="--",
            linewidth=2,
            label="Forecast",
        )
    axes.set_xlim(-0.5, len(days) - 0.5)
    _day_ticks(axes, days)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"${value:,.0f}"))
    axes.set_title(f"Budget {burn.first_day:%B %Y}: cumulative spend", fontsize=11)
    axes.set_ylabel("USD this period")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left")


def daily_spend_png(
    daily: dict[date, dict[str, Decimal]], start: date, end: date, *, title: str, burn: BurnChart | None = None
) -> bytes:
    """Bars of spend per day from `start` to `end` (inclusive), stacked by series (model or workspace); for a
    budget scope (`burn`), the burn chart to their left."""
    # Here rather than at the top: loading matplotlib costs the idle bot memory and start-up time.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _LOCK:
        figure = Figure(figsize=(15, 4.6) if burn is not None else (9, 4.2), dpi=100)
        FigureCanvasAgg(figure)
        if burn is not None:
            _burn(figure.add_subplot(1, 2, 1), burn, end)
            _bars(figure.add_subplot(1, 2, 2), daily, start, end, title)
        else:
            _bars(figure.add_subplot(1, 1, 1), daily, start, end, title)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()
