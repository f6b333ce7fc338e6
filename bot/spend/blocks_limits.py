"""Block Kit for `/claude-key limits` and the `rate-limit-headroom` alert."""

from __future__ import annotations

from datetime import tzinfo

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.core.format import percent_value
from bot.slack.reply import Reply
from bot.slack.text import clip, escape_clip, fit_lines, when
from bot.spend.limits import GroupLimits, HeadroomAlert, LimitLine, LimitsReport

MAX_GROUPS = 40  # blocks: header + groups + notes stay under Slack's 50
SECTION = 2900  # under the 3,000-character section limit
NAME = 80


def _number(value: int | None) -> str:
    return f"{value:,}" if value is not None else "no limit"


def limit_line(line: LimitLine, tz: tzinfo, *, workspace: bool) -> str:
    """`requests/min: *100* (workspace override; org 1,000) · busiest minute 80 (80%) at Nov 2, 10:01 UTC`."""
    text = f"{line.label}: *{_number(line.enforced)}*"
    if workspace and line.override is not None:
        text += f" :pushpin: _workspace override_ (org {_number(line.org)})"
    elif workspace:
        text += " (org)"
    if line.peak.at is None:
        return text + " · no use in the last 24 h"
    used = f"{line.peak.used:,}"
    percent = f" ({percent_value(line.share * 100)})" if line.share is not None else ""
    warn = " :warning:" if line.share is not None and line.share >= 0.8 else ""
    return text + f" · busiest minute {used}{percent}{warn} at {when(line.peak.at, tz)}"


def _group_text(group: GroupLimits, tz: tzinfo, *, workspace: bool) -> str:
    head = f"*{escape_clip(group.name, NAME)}*"
    if not group.lines:
        return head + "\nNo per-minute limits listed for this group."
    return fit_lines([head, *(limit_line(line, tz, workspace=workspace) for line in group.lines)], SECTION)


def limits_reply(report: LimitsReport) -> Reply:
    """The limits answer: per model group, what applies, the busiest minute as a share of it, data as of."""
    workspace = report.workspace_id is not None
    title = f"Rate limits: {report.scope}" if workspace else "Rate limits: the organization"
    blocks: list[Block] = [HeaderBlock(text=clip(title, 150))]
    for group in report.groups[:MAX_GROUPS]:
        blocks.append(SectionBlock(text=_group_text(group, report.tz, workspace=workspace)))
    if len(report.groups) > MAX_GROUPS:
        blocks.append(SectionBlock(text=f"{len(report.groups) - MAX_GROUPS} more model groups are in the Console."))
    if not report.groups:
        blocks.append(SectionBlock(text="The Admin API lists no model-group rate limits for this organization."))
    notes = [
        f"Busiest minute since {when(report.since, report.tz)}, from the usage report (data as of "
        f"{when(report.as_of, report.tz)}; it can lag a few hours)."
    ]
    if workspace:
        notes.append("A workspace override applies alongside the org's limit: the lower one is enforced.")
    if report.others:
        models = ", ".join(f"`{escape_clip(m, 40)}`" for m in report.others[:5])
        notes.append(f"Usage of models no rate-limit group lists: {models}.")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=fit_lines(notes, SECTION))]))
    fallback = f"{title}: " + "; ".join(g.name for g in report.groups[:10])
    return Reply(escape_clip(fallback, 3000), blocks)


def headroom_alert(alert: HeadroomAlert, tz: tzinfo) -> Reply:
    """The rate-limit-headroom alert: which limit, how close, the keys that drove it, what to do, data as of."""
    scope = escape_clip(alert.scope, NAME)
    group = escape_clip(alert.group.name, NAME)
    workspace = alert.workspace_id is not None
    head = f":rotating_light: *Rate limits: {scope} reached {alert.percent}% of a {group} limit in the last hour*"
    lines = [limit_line(line, tz, workspace=workspace) for line in alert.group.lines]
    blocks: list[Block] = [SectionBlock(text=fit_lines([head, *lines], SECTION))]
    if alert.keys:
        keys = [
            f"• `{escape_clip(k.name or k.id, NAME)}`"
            + (f" …{escape_clip(k.hint, 20)}" if k.hint else "")
            + f" (`{escape_clip(k.id, 60)}`): {k.used:,}"
            for k in alert.keys
        ]
        blocks.append(SectionBlock(text=fit_lines(["*Keys that drove the busiest minute:*", *keys], SECTION)))
    blocks.append(
        SectionBlock(
            text=(
                "*What to do:* spread requests across the minute and retry a `429` after its `retry-after`; "
                "send bulk work through the Message Batches API; cache long prompts (cache reads don't count "
                "toward the cache-aware input limit); or ask Anthropic for a higher limit (Console → Settings → "
                "Limits)." + (" A workspace override can also be raised in the Console." if workspace else "")
            )
        )
    )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Data as of {when(alert.as_of, tz)}. One alert a day per scope and model group; "
                    f"`/claude-key limits{' workspace ' + scope if workspace else ''}` shows the last 24 hours."
                )
            ]
        )
    )
    fallback = f"Rate limits: {alert.scope} reached {alert.percent}% of a {alert.group.name} limit in the last hour"
    return Reply(escape_clip(fallback, 3000), blocks)
