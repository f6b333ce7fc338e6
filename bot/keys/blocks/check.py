"""`/claude-key check`: the diagnosis, failures first, each finding with what to do."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock, SectionBlock

from bot.core.format import calendar_day, money, plural
from bot.keys.blocks.common import MAX_BLOCKS, context, key_line
from bot.keys.model import Diagnosis, Finding
from bot.slack.commands import COMMAND
from bot.slack.reply import Reply
from bot.slack.text import clip, escape, escape_clip, when

_SEVERITY = {"fail": ":x:", "warn": ":warning:", "ok": ":white_check_mark:", "info": ":information_source:"}
_ORDER = {"fail": 0, "warn": 1, "info": 2, "ok": 3}
_HOW_TO_SEND = (
    "Copy the whole key (it starts with `sk-ant-api03-` and its hint must match), send it in the "
    "`x-api-key` header to https://api.anthropic.com, and read the error type: `authentication_error` "
    "means a wrong or inactive key, `permission_error` a model or feature the key's workspace can't use, "
    "`rate_limit_error` too much at once (honour `retry-after`), `overloaded_error` try again shortly."
)


def _money(f: Finding) -> str:
    return f"({money(f.spent, f.currency)} of {money(f.limit, f.currency)})"


def _deactivated(f: Finding) -> str:
    who = f" by <@{f.by}>" if f.by else ""
    who += f" on {calendar_day(f.on)}" if f.on else ""
    who += f" ({escape(f.note)})" if f.note else ""
    return f"it was deactivated{who}."


def finding_text(f: Finding, *, console_url: str) -> tuple[str, str]:
    """A finding's sentence and what to do about it ('' when there is nothing to do)."""
    whose = "its workspace" if f.scope == "workspace" else "the organization"
    if f.kind == "archived":
        return "it is archived.", (
            f"Archived keys are off for good. Create a new key in the Claude Console ({console_url}) and use that "
            "instead."
        )
    if f.kind == "expired":
        on = f" on {calendar_day(f.on)}" if f.on else ""
        return f"it expired{on}.", (
            f"Expiry can't be extended. Create a new key in the Claude Console ({console_url}), then deactivate "
            "this one."
        )
    if f.kind == "deactivated":
        return _deactivated(f), (
            "An inactive key is refused. If that was a mistake, an admin can reactivate it in the "
            "Claude Console; otherwise create a new key."
        )
    if f.kind == "active":
        return "The key is active.", ""
    if f.kind == "expires_soon":
        on = f", on {calendar_day(f.on)}" if f.on else ""
        return (
            f"It expires in {plural(f.days or 0, 'day')}{on}.",
            "Create its replacement now: expiry can't be extended.",
        )
    if f.kind == "rotation_overdue":
        return "It is past its rotation date.", f"Rotate it with `{COMMAND} rotate {f.key_id}`."
    if f.kind == "workspace_archived":
        return f"its workspace *{escape(f.name)}* was archived{f' on {calendar_day(f.on)}' if f.on else ''}.", (
            f"Keys of archived workspaces stop working. Ask for access to another workspace with `{COMMAND} "
            "request` and create a key there."
        )
    if f.kind == "spend_limits_unreadable":
        return "I can't read spend limits through the API for this organization.", (
            "If calls fail with a spend-limit error, an admin can check Console → Settings → Limits."
        )
    if f.kind == "spend_limit_reached":
        return f"{whose} has reached its monthly spend limit {_money(f)}.", (
            "Calls are refused until the limit is raised or the month ends. Ask an admin "
            f"(`{COMMAND} budget`) to raise it in the Console."
        )
    if f.kind == "spend_limit_other_currency":
        return f"{whose.capitalize()} has a monthly spend limit of {money(f.limit, f.currency)}.", (
            "Spend reports come in another currency, so I can't tell how close it is; the Console shows it."
        )
    if f.kind == "spend_limit_near":
        share = f.spent / f.limit
        return f"{whose.capitalize()} has used {share:.0%} of its monthly spend limit {_money(f)}.", ""
    if f.kind in ("rate_limit_hit", "rate_limit_near"):
        whose_limit = "its workspace" if f.override else "the organization"
        limit = f"{whose_limit}'s {f.note} limit for {escape_clip(f.name, 80)}"
        at = when(f.at) if f.at else "unknown"
        busiest = f"its busiest minute in the last 24 hours ({at}) used {f.used:,} of {f.cap:,}"
        if f.kind == "rate_limit_hit":
            return f"it hit {limit}: {busiest}.", (
                "Calls over a per-minute limit get `429 rate_limit_error`; the limit is shared by every key in "
                "the workspace. Spread the calls over the minute and retry after the `retry-after` header, send "
                f"bulk work through the Message Batches API, or ask an admin (`{COMMAND} limits`) for a higher "
                "limit."
            )
        near = f.used / f.cap if f.cap else 0.0
        return f"It came close to {limit}: {busiest} ({near:.0%}).", (
            "Spread the calls out before they reach the limit; the limit is shared by every key in the workspace."
        )
    if f.kind == "lookup_failed":
        return f"I couldn't check {f.name}: {f.note}", ""
    return "If calls still fail, check how the key is sent.", _HOW_TO_SEND


def check_reply(diagnosis: Diagnosis) -> Reply:
    """The diagnosis: what is wrong with the key (failures first) and what to do."""
    view = diagnosis.key
    lines = [(f, *finding_text(f, console_url=diagnosis.console_url)) for f in diagnosis.findings]
    failures = [title for f, title, _ in lines if f.severity == "fail"]
    if failures:
        verdict = (
            f":x: *This key fails because {failures[0]}*"
            if len(failures) == 1
            else (f":x: *This key fails for {len(failures)} reasons.*")
        )
    else:
        verdict = ":white_check_mark: *Nothing the Admin API can see stops this key.*"
    blocks: list[Block] = [SectionBlock(text=f"{verdict}\n{key_line(view)}"), DividerBlock()]
    for f, title, fix in sorted(lines, key=lambda line: _ORDER[line[0].severity])[: MAX_BLOCKS - 4]:
        todo = f"\n{fix}" if fix else ""
        blocks.append(SectionBlock(text=f"{_SEVERITY[f.severity]} {title}{todo}"))
    if diagnosis.as_of is not None:
        blocks.append(context(f"Usage and spend data as of {when(diagnosis.as_of)} (it can lag a few hours)."))
    text = f"Key check for {escape(view.name)}: " + (failures[0] if failures else "no problem found")
    return Reply(clip(text, 300), blocks)
