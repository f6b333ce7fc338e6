"""Budgets as stored and where each stands this period: amount, spend, forecast, thresholds crossed.

A budget is monthly: the period starts on the 1st at 00:00 TIMEZONE. The org budget is the database row
"org", else MONTHLY_BUDGET_USD; workspaces have rows "workspace:<id>". `revision` bumps when an amount
changes; `settle` then carries the thresholds already below spend over to the new revision without a
message, in the `budget-alerts` job's ledger, and the ones above spend are armed again (`bot/spend/alerts.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from sqlmodel import Session

from bot.config import Settings
from bot.core import periods
from bot.spend.model import ORG_SCOPE, BudgetPosition, BudgetView
from storage import repositories as repo

JOB = "budget-alerts"  # the ledger of alerts sent (and thresholds settled)
# The forecast needs this much of the period behind it.
FORECAST_MIN_DATA = timedelta(days=3)


# --------------------------------------------------------------------------------------------------
# Budgets as stored
# --------------------------------------------------------------------------------------------------


def thresholds(session: Session, settings: Settings) -> tuple[int, ...]:
    """Alert thresholds (percent): set with `/claude-key budget thresholds`, else BUDGET_THRESHOLDS."""
    row = repo.get_budget_row(session=session, scope_key=ORG_SCOPE)
    if row is not None and row.thresholds:
        return tuple(int(v) for v in row.thresholds.split(","))
    return tuple(settings.budget_thresholds)


def list_budgets(session: Session, settings: Settings) -> list[BudgetView]:
    """Every budget: the org's first, then workspaces by name."""
    marks = thresholds(session, settings)
    rows = repo.list_budget_rows(session=session)
    views: list[BudgetView] = []
    org = next((r for r in rows if r.scope_key == ORG_SCOPE), None)
    if org is not None and org.amount_usd is not None:
        views.append(
            BudgetView(
                ORG_SCOPE,
                Decimal(org.amount_usd),
                marks,
                org.revision,
                updated_by_slack_id=org.updated_by_slack_id,
                mirrored_limit_id=org.mirrored_limit_id,
            )
        )
    elif settings.monthly_budget_usd is not None:
        revision = org.revision if org is not None else 1
        views.append(BudgetView(ORG_SCOPE, settings.monthly_budget_usd, marks, revision, from_settings=True))
    workspaces = sorted(
        (r for r in rows if r.scope_key != ORG_SCOPE and r.amount_usd is not None),
        key=lambda r: (r.workspace_name or "").casefold(),
    )
    for row in workspaces:
        views.append(
            BudgetView(
                row.scope_key,
                Decimal(row.amount_usd or 0),
                marks,
                row.revision,
                workspace_id=row.workspace_id,
                workspace_name=row.workspace_name,
                updated_by_slack_id=row.updated_by_slack_id,
                mirrored_limit_id=row.mirrored_limit_id,
            )
        )
    return views


def budget_for_scope(session: Session, settings: Settings, scope_key: str) -> BudgetView | None:
    """The budget covering a usage scope ("org" or "workspace:<id>"), if any."""
    return next((b for b in list_budgets(session, settings) if b.scope_key == scope_key), None)


# --------------------------------------------------------------------------------------------------
# Money over time (pure) and the thresholds' ledger
# --------------------------------------------------------------------------------------------------


def _micros(delta: timedelta) -> Decimal:
    return Decimal(delta // timedelta(microseconds=1))


def forecast(spent: Decimal, start: datetime, end: datetime, as_of: datetime) -> Decimal | None:
    """Linear projection of period spend; None with under 3 days of data."""
    elapsed = as_of - start
    if elapsed < FORECAST_MIN_DATA:
        return None
    return spent * _micros(end - start) / _micros(elapsed)


def position(
    budget: BudgetView, spent: Decimal, now: datetime, tz: tzinfo, data_as_of: datetime | None = None
) -> BudgetPosition:
    """The budget's month-to-date position and forecast."""
    start, end = periods.month_start(now, tz), periods.next_month_start(now, tz)
    as_of = min(now, data_as_of) if data_as_of is not None else now
    return BudgetPosition(
        budget=budget,
        spent=spent,
        forecast=forecast(spent, start, end, as_of),
        forecast_min_days=FORECAST_MIN_DATA.days,
        period_start=start,
        period_end=end,
        data_as_of=data_as_of,
    )


def crossed(spent: Decimal, amount: Decimal, marks: Sequence[int]) -> list[int]:
    """Thresholds (percent) that spend has reached, exactly: spent * 100 >= amount * mark."""
    return [m for m in marks if spent * 100 >= amount * m]


def period_key(now: datetime, tz: tzinfo) -> str:
    """The budget period as text, e.g. "2026-11" (ledger keys carry it)."""
    return now.astimezone(tz).strftime("%Y-%m")


def threshold_key(scope: str, period: str, mark: int, revision: int) -> str:
    """Ledger key of one threshold alert: scope, period, threshold and budget revision."""
    return f"threshold:{scope}:{period}:{mark}:r{revision}"


def planned_key(scope: str, day: date) -> str:
    """Ledger key of a spike day an admin marked as planned: no spike alert for it, and out of later baselines."""
    return f"planned:{scope}:{day.isoformat()}"


def spike_key(scope: str, day: date) -> str:
    """Ledger key of the spike alert about one local day."""
    return f"spike:{scope}:{day.isoformat()}"


def planned_days(session: Session, scope: str, days: Iterable[date]) -> set[date]:
    """Which of `days` were marked as planned for `scope` (one query)."""
    wanted = {planned_key(scope, d): d for d in days}
    return {wanted[k] for k in repo.ledger_done(session=session, job=JOB, keys=wanted)}


def ledger_has(session: Session, key: str) -> bool:
    """True when the `budget-alerts` ledger holds `key`."""
    return repo.ledger_has(session=session, job=JOB, key=key)


def settle(
    session: Session, budget: BudgetView, spent: Decimal, now: datetime, tz: tzinfo, *, dry_run: bool = False
) -> list[int]:
    """After an amount change: carry over thresholds already alerted this period and still crossed.

    Returns the carried thresholds. Idempotent (the settle itself is a ledger key).
    """
    period = period_key(now, tz)
    done_key = f"settled:{budget.scope_key}:{period}:r{budget.revision}"
    if budget.revision <= 1 or ledger_has(session, done_key):
        return []
    carried = []
    for mark in crossed(spent, budget.amount, budget.thresholds):
        earlier = any(
            ledger_has(session, threshold_key(budget.scope_key, period, mark, r)) for r in range(1, budget.revision)
        )
        if earlier:
            carried.append(mark)
            if not dry_run:
                key = threshold_key(budget.scope_key, period, mark, budget.revision)
                repo.ledger_record(session=session, job=JOB, key=key, at=now)
    if not dry_run:
        repo.ledger_record(session=session, job=JOB, key=done_key, at=now)
    return carried
