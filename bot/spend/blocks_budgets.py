"""Block Kit for budgets: the list, the "saved" answer with its Mirror offer, the Mirror outcome, the alerts.

Pure: data from `bot.spend.model` in, `Reply` (fallback text and blocks) out. Money is rounded to cents here.
"""

from __future__ import annotations

from datetime import tzinfo
from decimal import Decimal

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.format import calendar_day, duration, last_day, percent, plural, usd
from bot.slack.ids import Action
from bot.slack.reply import Reply
from bot.slack.text import clip, confirm_text, escape_clip, when
from bot.spend.blocks_drivers import driver_blocks, planned_button
from bot.spend.budget_form import change_budget_button
from bot.spend.model import (
    AlertKind,
    BudgetAlert,
    BudgetList,
    BudgetPosition,
    BudgetSaved,
    BudgetView,
    Contacts,
    MirrorOutcome,
    MirrorPayload,
    ThresholdsSaved,
    ViewUsagePayload,
)

MAX_LISTED = 40


def budget_label(budget: BudgetView) -> str:
    """`org` or `workspace <name>` (escaped mrkdwn)."""
    if budget.workspace_id is None:
        return "org"
    return f"workspace {escape_clip(budget.workspace_name or budget.workspace_id or '', 200)}"


def plain_budget_label(budget: BudgetView) -> str:
    """`org` or `workspace <name>` as plain text (for confirm dialogs, which show text unformatted)."""
    if budget.workspace_id is None:
        return "org"
    return f"workspace {clip(budget.workspace_name or budget.workspace_id or '', 200)}"


def month(position: BudgetPosition, tz: tzinfo) -> str:
    """The budget period's name, e.g. `November 2026`."""
    return f"{position.period_start.astimezone(tz):%B %Y}"


def forecast_text(position: BudgetPosition) -> str:
    """The forecast, or that there is none yet (never a phrase that reads like a figure)."""
    if position.forecast is not None:
        return usd(position.forecast)
    return f"none yet (needs {duration(position.forecast_min_days)} of data)"


def scope_title(budget: BudgetView) -> str:
    """`Org budget` or `Workspace research budget` (escaped mrkdwn): how an alert's first sentence starts."""
    if budget.workspace_id is None:
        return "Org budget"
    return f"Workspace {escape_clip(budget.workspace_name or budget.workspace_id or '', 200)} budget"


def contacts_text(contacts: Contacts) -> str:
    """Who to talk to about a budget, by name (the job never names the channel the alert is posted in)."""
    if contacts.set_by_slack_id:
        return f"<@{contacts.set_by_slack_id}> (set this budget)"
    if contacts.admin_slack_ids:
        return ", ".join(f"<@{a}>" for a in contacts.admin_slack_ids)
    if contacts.admin_channel_id:
        return f"the admins in <#{contacts.admin_channel_id}>"
    return "your Anthropic org admins"


def _facts(position: BudgetPosition, tz: tzinfo) -> str:
    return (
        f"*Spent:* {usd(position.spent)} · *Budget:* {usd(position.amount)} · "
        f"*Used:* {percent(position.spent, position.amount)} · *Forecast:* {forecast_text(position)}\n"
        f"*Period:* {month(position, tz)}, ends {last_day(position.period_end, tz)} · "
        f"*Data as of:* {when(position.data_as_of, tz)}"
    )


def _alert_lines(alert: BudgetAlert) -> tuple[str, str]:
    """(headline, fallback text) of one alert."""
    position, tz = alert.position, alert.tz
    label = budget_label(position.budget)
    amount = usd(position.amount)
    if alert.kind is AlertKind.THRESHOLD:
        # One sentence whose figures are the body's own: the used share is computed once, from spent and budget.
        sentence = (
            f"{scope_title(position.budget)}: {percent(position.spent, position.amount)} used — "
            f"{usd(position.spent)} of {amount} for {month(position, tz)}; crossed the {alert.threshold}% alert."
        )
        return f":warning: *{sentence}*", sentence
    if alert.kind is AlertKind.FORECAST:
        projected = usd(position.forecast or Decimal(0))
        sentence = (
            f"Forecast alert — {scope_title(position.budget)}: on track to spend {projected} of {amount} by "
            f"{last_day(position.period_end, tz)}; {percent(position.spent, position.amount)} used so far."
        )
        return f":chart_with_upwards_trend: *{sentence}*", sentence
    if alert.kind is AlertKind.SPIKE:
        spike = alert.spike
        assert spike is not None
        shown = calendar_day(spike.day)
        headline = (
            f":zap: *Spend spike in {label}:* {usd(spike.spend)} on {shown}, more than {spike.factor}x the "
            f"daily average of {usd(spike.mean)} over the {plural(spike.trailing_days, 'day')} before."
        )
        return headline, f"Spend spike: {label} spent {usd(spike.spend)} on {shown}."
    headline = (
        f":white_check_mark: *Back under budget: new period started for {label}.* The last period went "
        f"over budget; {month(position, tz)} starts again: {usd(position.spent)} of {amount} so far."
    )
    return headline, f"Back under budget: new period started for {label}."


def budget_alert(alert: BudgetAlert) -> Reply:
    """One budget alert: what happened, the numbers, and who to talk to."""
    headline, text = _alert_lines(alert)
    talk_to = contacts_text(alert.contacts)
    blocks: list[Block] = [
        SectionBlock(text=headline),
        SectionBlock(text=_facts(alert.position, alert.tz)),
    ]
    if alert.kind is not AlertKind.NEW_PERIOD:
        blocks += driver_blocks(alert.drivers, alert.tz)
    if alert.kind is AlertKind.SPIKE and alert.spike is not None:
        budget = alert.position.budget
        blocks.append(planned_button(budget.scope_key, plain_budget_label(budget), alert.spike.day))
    blocks.append(view_usage_button(alert.position.budget))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Questions about this budget? Talk to {talk_to}.")]))
    return Reply(text, blocks)


def view_usage_button(budget: BudgetView) -> ActionsBlock:
    """View usage: the `usage` answer for the budget's scope, ephemeral, for whoever clicks (they see only what
    they may see); Change budget: the budget form, for admins."""
    value = ViewUsagePayload(w=budget.workspace_id).model_dump_json()
    return ActionsBlock(
        block_id="budget_next_steps",
        elements=[
            ButtonElement(text="View usage", action_id=Action.BUDGET_VIEW_USAGE, value=value),
            change_budget_button(budget),  # admins: a form (others who click are told who may)
        ],
    )


def budget_list(listing: BudgetList) -> Reply:
    """`/claude-key budget show`."""
    tz = listing.tz
    marks = ", ".join(f"{m}%" for m in listing.thresholds)
    channel = f"<#{listing.alert_channel}>" if listing.alert_channel else "no channel (set ALERT_CHANNEL_ID)"
    blocks: list[Block] = [HeaderBlock(text="Budgets")]
    if not listing.budgets:
        blocks.append(
            SectionBlock(
                text="No budget is set, so no budget alerts are sent. Admins: `/claude-key budget set &lt;usd&gt;` "
                "(or set MONTHLY_BUDGET_USD)."
            )
        )
    for budget, pos in listing.budgets[:MAX_LISTED]:
        source = " (from MONTHLY_BUDGET_USD)" if budget.from_settings else ""
        mirrored = " · enforced as an Anthropic spend limit" if budget.mirrored_limit_id else ""
        head = f"*{budget_label(budget)}*: {usd(budget.amount)} a month{source}{mirrored}"
        if pos is None:
            body = f"{head}\nSpend is unavailable right now."
        else:
            body = (
                f"{head}\n"
                f"{month(pos, tz)}: {usd(pos.spent)} spent ({percent(pos.spent, pos.amount)}) · "
                f"forecast {forecast_text(pos)} · data as of {when(pos.data_as_of, tz)}"
            )
        blocks.append(SectionBlock(text=body))
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=f"Alerts at {marks} of each budget go to {channel}.")])
    )
    return Reply(f"{plural(len(listing.budgets), 'budget')}; alerts at {marks} go to {channel}.", blocks)


def budget_saved(saved: BudgetSaved) -> Reply:
    """The answer to `budget set`: saved, where it stands, and the spend-limit offer (or why there is none)."""
    budget, position, tz = saved.budget, saved.position, saved.tz
    label = budget_label(budget)
    text = f"Saved: the monthly budget for {label} is {usd(budget.amount)}."
    lines = [f"*{text}*"]
    if position is not None:
        lines.append(
            f"{month(position, tz)} so far: {usd(position.spent)} ({percent(position.spent, position.amount)}), "
            f"data as of {when(position.data_as_of, tz)}."
        )
    blocks: list[Block] = [SectionBlock(text="\n".join(lines))]
    if not saved.offer_mirror:
        blocks.append(
            SectionBlock(
                text="This budget is the bot's own: it sends alerts but can't stop spend. Setting Anthropic spend "
                "limits through the API isn't enabled for this organization (early access), so to enforce a "
                f"limit set it in the Console: {saved.console_url}/settings/limits"
            )
        )
    else:
        payload = MirrorPayload(scope_key=budget.scope_key).model_dump_json()
        blocks.append(
            SectionBlock(
                text="Anthropic can also enforce this amount as a monthly spend limit (early access: if it isn't "
                "enabled for this organization I'll say so).",
                accessory=ButtonElement(
                    text="Set as Anthropic spend limit",
                    action_id=Action.BUDGET_MIRROR,
                    value=payload,
                    confirm=ConfirmObject(
                        title="Set a spend limit?",
                        text=confirm_text(
                            f"Anthropic will stop API spend for {plain_budget_label(budget)} at "
                            f"{usd(budget.amount)} a month."
                        ),
                        confirm="Set limit",
                        deny="Cancel",
                    ),
                ),
            )
        )
    return Reply(text, blocks)


def thresholds_saved(saved: ThresholdsSaved) -> Reply:
    """The answer to `budget thresholds`."""
    shown = ", ".join(f"{m}%" for m in saved.thresholds)
    return Reply(f"Budget alert thresholds are now {shown}. They apply to every budget.")


def mirror_outcome(outcome: MirrorOutcome) -> Reply:
    """The answer to the Mirror button: the limit Anthropic now enforces, or why it can't."""
    budget = outcome.budget
    if outcome.refusal is not None:
        return Reply(
            f"{outcome.refusal} The budget of {usd(budget.amount)} stays the bot's own: "
            "it alerts, but Anthropic won't stop spend at it. To enforce a limit, set it in the Console: "
            f"{outcome.console_url}/settings/limits"
        )
    return Reply(
        f"Done: Anthropic now enforces a monthly spend limit of {usd(budget.amount)} for "
        f"{budget_label(budget)} (limit `{outcome.limit_id}`)."
    )


def budget_line(position: BudgetPosition, tz: tzinfo) -> str:
    """`*Budget* (org, November 2026): $800.00 of $1,000.00 (80%) · forecast $1,240.00 by Nov 30`."""
    line = (
        f"*Budget* ({budget_label(position.budget)}, {month(position, tz)}): {usd(position.spent)} of "
        f"{usd(position.amount)} ({percent(position.spent, position.amount)})"
    )
    if position.forecast is not None:
        line += f" · forecast {usd(position.forecast)} by {last_day(position.period_end, tz)}"
    return line
