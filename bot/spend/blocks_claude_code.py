"""Block Kit for `/claude-key claude-code` and the digest's Claude Code section (pure: data in, a `Reply` out).

Emails and API key names are Console text (anyone with access types them): escaped, then cut. A person is a
Slack mention only where the stored directory matched their email. Costs are the report's estimates, exact
`Decimal` rounded to cents here, once.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.core.format import calendar_day, money, percent_value
from bot.slack.reply import Reply
from bot.slack.text import escape_clip, fit_lines, when
from bot.spend.claude_code import Activity, CCPeriod, DigestSection, OrgReport, PersonReport, Ranked

NAME_SHOWN = 60
MODEL_LINES = 8
SECTION_LIMIT = 2900  # a section's text may be 3,000 characters

PERIOD_LABELS = {CCPeriod.D7: "the last 7 days", CCPeriod.D30: "the last 30 days", CCPeriod.MTD: "this month"}


def _period_label(days: list[date]) -> str:
    if not days:
        return "no days"
    return f"{_day(days[0])} to {_day(days[-1])}"


def _day(d: date) -> str:
    return calendar_day(d)


def _rate(activity: Activity) -> str:
    rate = activity.acceptance
    if rate is None:
        return "no edit decisions"
    decided = activity.tool_accepted + activity.tool_rejected
    return f"{percent_value(rate * 100)} of edits accepted ({activity.tool_accepted:,} of {decided:,})"


def _counts(a: Activity) -> str:
    return (
        f"{a.sessions:,} sessions · +{a.lines_added:,} / -{a.lines_removed:,} lines · "
        f"{a.commits:,} commits · {a.pull_requests:,} pull requests"
    )


def _models(activity: Activity, currency: str) -> str | None:
    ranked = sorted(activity.cost_by_model.items(), key=lambda m: (-m[1], m[0]))
    if not ranked:
        return None
    lines = [f"`{escape_clip(model, NAME_SHOWN)}` {money(cost, currency)}" for model, cost in ranked[:MODEL_LINES]]
    if len(ranked) > MODEL_LINES:
        rest = sum((c for _, c in ranked[MODEL_LINES:]), Decimal(0))
        lines.append(f"{len(ranked) - MODEL_LINES} more models: {money(rest, currency)}")
    return "*Estimated cost by model*\n" + "\n".join(lines)


def person_label(ranked: Ranked) -> str:
    """`<@U…>` where the directory matched, else the escaped email; API keys by their escaped name."""
    if ranked.slack_user_id:
        return f"<@{ranked.slack_user_id}>"
    if ranked.email is not None:
        return escape_clip(ranked.email, NAME_SHOWN)
    return f"API key {escape_clip(ranked.api_key_name or '', NAME_SHOWN)}"


def _footer(report_as_of: datetime, tz: tzinfo, other_currency: bool, currency: str) -> ContextBlock:
    notes = [
        f"Data as of {when(report_as_of, tz)}; days are UTC days, and Claude Code data can lag an hour or more.",
        "Costs are Anthropic's estimates.",
    ]
    if other_currency:
        notes.append(f"Costs in a currency other than {currency} are left out of the sums.")
    return ContextBlock(elements=[MarkdownTextObject(text=" ".join(notes))])


def person_reply(report: PersonReport, period: CCPeriod, tz: tzinfo) -> Reply:
    """One person's Claude Code activity: totals, cost by model, and each day of the period."""
    who = f"<@{report.who_slack_id}>" if report.who_slack_id else "you"
    total, currency = report.total, report.currency
    title = f"Claude Code for {who}, {PERIOD_LABELS[period]} ({_period_label(report.days)})"
    text = f"{title}: {money(total.cost, currency)} estimated, {total.sessions:,} sessions."
    blocks: list[Block] = []
    if report.note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=report.note)]))
    if not total.active:
        blocks.append(SectionBlock(text=f"*{title}*\nNo Claude Code activity in this period."))
        blocks.append(_footer(report.data_as_of, tz, report.other_currency, currency))
        return Reply(f"{title}: no Claude Code activity.", blocks)
    blocks.append(
        SectionBlock(
            text=f"*{title}*\n*{money(total.cost, currency)}* estimated · {_counts(total)}\nTools: {_rate(total)}"
        )
    )
    models = _models(total, currency)
    if models:
        blocks.append(SectionBlock(text=models))
    lines = []
    for d in report.days:
        a = report.per_day.get(d) or Activity()
        if not a.active:
            lines.append(f"`{_day(d)}` no activity")
            continue
        lines.append(
            f"`{_day(d)}` {money(a.cost, currency)} · {a.sessions:,} sessions · +{a.lines_added:,} / "
            f"-{a.lines_removed:,} · {a.commits:,} commits · {a.pull_requests:,} PRs"
        )
    blocks.append(SectionBlock(text="*Per day*\n" + fit_lines(lines, SECTION_LIMIT - 20)))
    blocks.append(_footer(report.data_as_of, tz, report.other_currency, currency))
    return Reply(text, blocks)


def _top(title: str, rows: list[Ranked], currency: str, *, by_lines: bool) -> str:
    if not rows:
        return f"*{title}*\n—"
    lines = []
    for n, row in enumerate(rows, 1):
        a = row.activity
        figure = (
            f"+{a.lines_added:,} lines · {money(a.cost, currency)}"
            if by_lines
            else f"{money(a.cost, currency)} · +{a.lines_added:,} lines"
        )
        lines.append(f"{n}. {person_label(row)} {figure}")
    return f"*{title}*\n" + fit_lines(lines, SECTION_LIMIT - len(title) - 4)


def org_reply(report: OrgReport, period: CCPeriod, tz: tzinfo) -> Reply:
    """The org's Claude Code activity: totals and the top 10 people by cost and by lines added."""
    total, currency = report.total, report.currency
    title = f"Claude Code for the organization, {PERIOD_LABELS[period]} ({_period_label(report.days)})"
    if not total.active:
        blocks: list[Block] = [
            SectionBlock(text=f"*{title}*\nNo Claude Code activity in this period."),
            _footer(report.data_as_of, tz, report.other_currency, currency),
        ]
        return Reply(f"{title}: no Claude Code activity.", blocks)
    text = f"{title}: {money(total.cost, currency)} estimated, {report.people:,} people."
    actors = f"{report.people:,} people" + (f" and {report.api_keys:,} API keys" if report.api_keys else "")
    blocks = [
        SectionBlock(
            text=f"*{title}*\n*{money(total.cost, currency)}* estimated · {actors}\n{_counts(total)}\n"
            f"Tools: {_rate(total)}"
        )
    ]
    models = _models(total, currency)
    if models:
        blocks.append(SectionBlock(text=models))
    blocks.append(SectionBlock(text=_top("Top 10 by estimated cost", report.top_by_cost, currency, by_lines=False)))
    blocks.append(SectionBlock(text=_top("Top 10 by lines added", report.top_by_lines, currency, by_lines=True)))
    if report.top_keys:
        blocks.append(SectionBlock(text=_top("API keys using Claude Code", report.top_keys, currency, by_lines=False)))
    blocks.append(_footer(report.data_as_of, tz, report.other_currency, currency))
    return Reply(text, blocks)


def digest_blocks(section: DigestSection) -> list[Block]:
    """The weekly digest's Claude Code section: totals and the top 3 people by estimated cost."""
    total, currency = section.total, section.currency
    top = ", ".join(f"{person_label(r)} {money(r.activity.cost, currency)}" for r in section.top) or "—"
    return [
        SectionBlock(
            text=f"*Claude Code:* {money(total.cost, currency)} estimated · {section.people:,} people · "
            f"{_counts(total)} · {_rate(total)}\n*Top:* {top}"
        )
    ]
