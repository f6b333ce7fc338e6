"""The `budget-alerts` job: threshold, forecast, spike and new-period notices for every budget, each once.

Alerts are idempotent through the job ledger; every key names the scope, the alert and the period, e.g.

    threshold:org:2026-11:75:r2     75 % of revision 2 of the org budget, November 2026
    forecast:org:2026-11            the linear projection passed the budget
    spike:workspace:wrkspc_1:2026-11-06
    planned:workspace:wrkspc_1:2026-11-06  an admin marked that day's spike as planned (Mark as planned)
    exceeded:org:2026-11            spend reached the budget (a new period then says "back under budget")
    new-period:org:2026-12

A key is recorded only after Slack accepted the message. Every threshold, forecast and spike alert names
its drivers (`bot/spend/drivers.py`), fetched only for an alert about to be sent.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session

from bot.anthropic_admin import AdminAPIError
from bot.core import periods
from bot.deps import Deps
from bot.jobs.context import JobContext, JobResult
from bot.spend import analytics, blocks_budgets, drivers
from bot.spend.driver_model import Drivers
from bot.spend.model import AlertKind, BudgetAlert, BudgetView, Contacts, Spike
from bot.spend.positions import (
    crossed,
    ledger_has,
    list_budgets,
    period_key,
    planned_days,
    position,
    settle,
    spike_key,
    threshold_key,
)
from storage import repositories as repo

logger = logging.getLogger(__name__)

SPIKE_FACTOR = 3
SPIKE_MIN_USD = Decimal(10)
SPIKE_TRAILING_DAYS = 7
MAX_CONTACTS = 3


def org_admin_slack_ids(deps: Deps, session: Session) -> tuple[str, ...]:
    """The Slack ids of the first org admins (by the stored Slack directory); none when the Admin API fails."""
    try:
        emails = [u.email.lower() for u in deps.admin.list_users(roles=["admin"])]
    except AdminAPIError as exc:
        logger.info("org admins unavailable for a budget alert: %s", type(exc).__name__)
        return ()
    found = repo.slack_ids_by_email(session=session, emails=emails)
    return tuple(found[e] for e in sorted(emails) if e in found)[:MAX_CONTACTS]


def contacts(
    deps: Deps, budget: BudgetView, posted_in: str | None = None, org_admins: Callable[[], tuple[str, ...]] = tuple
) -> Contacts:
    """Who to talk to about a budget, by name: whoever set it, else ADMIN_SLACK_USER_IDS, else the org's admins
    found in Slack, else the admin channel unless the alert is posted there (telling people in #admins to "talk
    to the admins in #admins" helps nobody)."""
    if budget.updated_by_slack_id:
        return Contacts(set_by_slack_id=budget.updated_by_slack_id)
    admins = tuple(deps.settings.admin_slack_user_ids[:MAX_CONTACTS]) or org_admins()
    if admins:
        return Contacts(admin_slack_ids=admins)
    if deps.settings.admin_channel_id == posted_in:
        return Contacts()
    return Contacts(admin_channel_id=deps.settings.admin_channel_id)


def run_budget_alerts(ctx: JobContext) -> JobResult:
    """Threshold, forecast, spike and new-period notices for every budget, each once."""
    result = JobResult()
    deps = ctx.deps
    channel = deps.settings.alert_channel
    budgets = list_budgets(ctx.session, deps.settings)
    if not budgets:
        result.notes.append("no budgets")
        return result
    if channel is None:
        result.errors.append("no ALERT_CHANNEL_ID or ADMIN_CHANNEL_ID")
        return result
    for budget in budgets:
        try:
            _check_budget(ctx, budget, channel, result)
        except Exception as exc:  # one budget's failure never stops the others
            logger.warning("budget alerts for %s failed: %s", budget.scope_key, type(exc).__name__)
            ctx.item_failed(result, budget.scope_key, exc)
    return result


def _send(ctx: JobContext, channel: str, alert: BudgetAlert, keys: Sequence[str], result: JobResult) -> None:
    """Post once; record every key only after Slack accepted the message."""
    reply = blocks_budgets.budget_alert(alert)
    if ctx.dry_run:
        ctx.out(f"would post to {channel}: {reply.text}")
        result.sent += 1
        return
    ctx.deps.notifier.post(channel, reply.text, reply.blocks)
    for key in keys:
        ctx.mark_done(key)
    result.sent += 1


def _check_budget(ctx: JobContext, budget: BudgetView, channel: str, result: JobResult) -> None:
    deps, now, tz = ctx.deps, ctx.now, ctx.deps.settings.tz
    scope = budget.scope_key
    period = period_key(now, tz)
    start = periods.month_start(now, tz)
    today = now.astimezone(tz).date()
    yesterday = today - timedelta(days=1)
    window_start = min(start, periods.local_midnight(yesterday - timedelta(days=SPIKE_TRAILING_DAYS), tz))
    window_start = max(window_start, analytics.floor(now))
    days, as_of = analytics.daily_spend(deps, budget.who, window_start, now)
    spent = sum((v for d, v in days.items() if d >= start.astimezone(tz).date()), Decimal(0))
    pos = position(budget, spent, now, tz, as_of)

    @functools.cache
    def talk_to() -> Contacts:
        """Who to talk to, looked up once and only for an alert about to be sent."""
        return contacts(deps, budget, channel, lambda: org_admin_slack_ids(deps, ctx.session))

    trailing_days = [yesterday - timedelta(days=i) for i in range(1, SPIKE_TRAILING_DAYS + 1)]
    planned = planned_days(ctx.session, scope, [yesterday, *trailing_days])
    found: dict[AlertKind, Drivers | None] = {}

    def explain(kind: AlertKind) -> Drivers | None:
        """The alert's drivers, fetched only when it is sent; None when the Admin API failed (it goes out anyway)."""
        basis = AlertKind.THRESHOLD if kind is AlertKind.THRESHOLD else AlertKind.SPIKE  # forecast: yesterday too
        if basis not in found:
            try:
                if basis is AlertKind.THRESHOLD:
                    found[basis] = drivers.share_drivers(deps, ctx.session, budget.who, start, now)
                else:
                    found[basis] = drivers.change_drivers(deps, ctx.session, budget.who, yesterday, planned)
            except AdminAPIError as exc:
                logger.info("drivers for %s unavailable: %s", scope, type(exc).__name__)
                found[basis] = None
        return found[basis]

    def alert(kind: AlertKind, threshold: int | None = None, spike: Spike | None = None) -> BudgetAlert:
        explained = explain(kind) if kind is not AlertKind.NEW_PERIOD else None
        return BudgetAlert(kind, pos, talk_to(), tz, threshold=threshold, spike=spike, drivers=explained)

    settle(ctx.session, budget, spent, now, tz, dry_run=ctx.dry_run)

    # A new period: quiet, unless the last one went over budget.
    previous = period_key(start - timedelta(days=1), tz)
    new_period_key = f"new-period:{scope}:{period}"
    if (
        spent < budget.amount
        and ledger_has(ctx.session, f"exceeded:{scope}:{previous}")
        and not ctx.already_done(new_period_key)
    ):
        _send(ctx, channel, alert(AlertKind.NEW_PERIOD), [new_period_key], result)

    # Thresholds: one message naming the highest newly crossed one.
    reached = crossed(spent, budget.amount, budget.thresholds)
    keys = {m: threshold_key(scope, period, m, budget.revision) for m in reached}
    fresh = [m for m in reached if not ctx.already_done(keys[m])]
    if fresh:
        done_before = [m for m in reached if m not in fresh]
        if done_before and max(fresh) < max(done_before):
            # A threshold added below one already announced: nothing new to say.
            for mark in fresh:
                ctx.mark_done(keys[mark])
            result.skipped += len(fresh)
        else:
            _send(ctx, channel, alert(AlertKind.THRESHOLD, threshold=max(fresh)), [keys[m] for m in fresh], result)
    if spent >= budget.amount:
        ctx.mark_done(f"exceeded:{scope}:{period}")

    # Forecast: once per period, with three days of data, while still under budget.
    forecast_key = f"forecast:{scope}:{period}"
    if (
        pos.forecast is not None
        and pos.forecast > budget.amount
        and spent < budget.amount
        and not ctx.already_done(forecast_key)
    ):
        _send(ctx, channel, alert(AlertKind.FORECAST), [forecast_key], result)

    # Spike: yesterday against the 7 days before it, once yesterday's data is complete. A day an admin marked
    # as planned is never a spike and leaves the baseline (the mean is over the days that remain).
    yesterday_complete = as_of is None or as_of >= periods.local_midnight(today, tz)
    baseline = [d for d in trailing_days if d not in planned]
    if yesterday_complete and yesterday not in planned and baseline:
        day_spend = days.get(yesterday, Decimal(0))
        mean = sum((days.get(d, Decimal(0)) for d in baseline), Decimal(0)) / len(baseline)
        key = spike_key(scope, yesterday)
        if day_spend > SPIKE_FACTOR * mean and day_spend > SPIKE_MIN_USD and not ctx.already_done(key):
            spike = Spike(yesterday, day_spend, mean, SPIKE_FACTOR, len(baseline))
            _send(ctx, channel, alert(AlertKind.SPIKE, spike=spike), [key], result)
