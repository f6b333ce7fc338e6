"""The `budget-alerts` job: threshold, forecast, spike and new-period notices for every budget, each once.

Alerts are idempotent through the job ledger; every key names the scope, the alert and the period, e.g.

    threshold:org:2026-11:75:r2     75 % of revision 2 of the org budget, November 2026
    forecast:org:2026-11            the linear projection passed the budget
    spike:workspace:wrkspc_1:2026-11-06
    exceeded:org:2026-11            spend reached the budget (a new period then says "back under budget")
    new-period:org:2026-12

A key is recorded only after Slack accepted the message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from bot.core import periods
from bot.deps import Deps
from bot.jobs.context import JobContext, JobResult
from bot.spend import analytics, blocks_budgets
from bot.spend.model import AlertKind, BudgetAlert, BudgetView, Contacts, Spike
from bot.spend.positions import crossed, ledger_has, list_budgets, period_key, position, settle, threshold_key

logger = logging.getLogger(__name__)

SPIKE_FACTOR = 3
SPIKE_MIN_USD = Decimal(10)
SPIKE_TRAILING_DAYS = 7
MAX_CONTACTS = 3


def contacts(deps: Deps, budget: BudgetView) -> Contacts:
    """Who to talk to about a budget: whoever set it, else the first admins, else the admin channel."""
    if budget.updated_by_slack_id:
        return Contacts(set_by_slack_id=budget.updated_by_slack_id)
    admins = tuple(deps.settings.admin_slack_user_ids[:MAX_CONTACTS])
    if admins:
        return Contacts(admin_slack_ids=admins)
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
    talk_to = contacts(deps, budget)

    def alert(kind: AlertKind, threshold: int | None = None, spike: Spike | None = None) -> BudgetAlert:
        return BudgetAlert(kind, pos, talk_to, tz, threshold=threshold, spike=spike)

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

    # Spike: yesterday against the 7 days before it, once yesterday's data is complete.
    yesterday_complete = as_of is None or as_of >= periods.local_midnight(today, tz)
    if yesterday_complete:
        day_spend = days.get(yesterday, Decimal(0))
        trailing = [days.get(yesterday - timedelta(days=i), Decimal(0)) for i in range(1, SPIKE_TRAILING_DAYS + 1)]
        mean = sum(trailing, Decimal(0)) / SPIKE_TRAILING_DAYS
        spike_key = f"spike:{scope}:{yesterday.isoformat()}"
        if day_spend > SPIKE_FACTOR * mean and day_spend > SPIKE_MIN_USD and not ctx.already_done(spike_key):
            spike = Spike(yesterday, day_spend, mean, SPIKE_FACTOR, SPIKE_TRAILING_DAYS)
            _send(ctx, channel, alert(AlertKind.SPIKE, spike=spike), [spike_key], result)
