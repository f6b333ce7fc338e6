"""PNG charts of spend per day (matplotlib, Agg backend, no pyplot: safe on worker threads).

matplotlib is imported when the first chart is drawn, so an idle bot never loads it. Amounts are exact
`Decimal` everywhere else; they become floats here only to be drawn.
"""

from __future__ import annotations

import io
import threading
from datetime import date, timedelta
from decimal import Decimal

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


def daily_spend_png(daily: dict[date, dict[str, Decimal]], start: date, end: date, *, title: str) -> bytes:
    """Bars of spend per day from `start` to `end` (inclusive), stacked by series (model or workspace)."""
    # Here rather than at the top: loading matplotlib costs the idle bot memory and start-up time.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    top = _top_series(daily)
    names = [*top, OTHER] if any(n not in top for d in daily.values() for n in d) else top
    with _LOCK:
        figure = Figure(figsize=(9, 4.2), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot(1, 1, 1)
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
            axes.bar(range(len(days)), heights, bottom=bottoms, label=name, width=0.8)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        step = max(1, len(days) // 10)
        axes.set_xticks(range(0, len(days), step))
        axes.set_xticklabels([f"{d:%b} {d.day}" for d in days[::step]], fontsize=8)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"${value:,.0f}"))
        axes.set_title(title, fontsize=11)
        axes.set_ylabel("USD per day")
        axes.grid(axis="y", alpha=0.3)
        if names:
            axes.legend(fontsize=8, loc="upper left")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()
