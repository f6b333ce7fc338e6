"""What the bot posts on its own: replies in a request's thread, and the requester's status card's sentences
(`*_dm`: the card's status; the ones a step needs acted on also go into the card's thread) in mrkdwn."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from bot.access.blocks.message import key_name_hint
from bot.access.model import (
    AddedToWorkspace,
    AlreadyMember,
    ExpiryPlan,
    Filed,
    GrantStep,
    RoleRaised,
    WorkspaceRoleChanged,
)
from bot.core.format import plural, role_name
from bot.slack.text import escape, when
from storage.models import AccessRequest

CANCELLED = "Cancelled by the requester."
RESUMING = "Resuming this approval after an interruption."
NUDGE = "Still waiting for an admin to approve or deny."


NOT_POSTED = " I couldn't post it to the admin channel yet; I'll keep trying and the admins will see it."


def where_posted(filed: Filed) -> str:
    """The receipt's last sentence: where to follow it (the admin thread only for people in the admin channel), or
    that the post is still to come."""
    if not filed.posted:
        return NOT_POSTED
    where = f" or <{filed.link}|in the admin channel>" if filed.link else ""
    return f" I'll keep you posted in a DM{where}."


def filed_dm(filed: Filed) -> str:
    """Card: sent, waiting for a decision."""
    waiting = "Sent to the admins; waiting for one of them to approve or deny."
    return waiting + (NOT_POSTED if not filed.posted else "")


def approved_dm(mention: str) -> str:
    """Card: approved, being set up."""
    return f"Approved by {mention}; I'm setting up your access."


def cancelled_dm() -> str:
    """Card: the requester cancelled."""
    return "You cancelled this request."


def approved(mention: str) -> str:
    """Thread: who approved."""
    return f"Approved by {mention}."


def retried(mention: str) -> str:
    """Thread: who pressed Retry."""
    return f"Retry by {mention}."


def denied(mention: str, reason: str) -> str:
    """Thread: who denied, and why."""
    return f"Denied by {mention}: {escape(reason)}"


def denied_dm(request: AccessRequest, mention: str, reason: str) -> str:
    """Card (and its thread): denied, by whom and why."""
    return f"{mention} denied this request: {escape(reason)}"


def expired_undecided(days: int) -> str:
    """Thread: nobody decided in time."""
    return f"Expired: no decision in {days} days."


def expired_undecided_dm(request: AccessRequest, days: int) -> str:
    """Card (and its thread): nobody decided in time."""
    return f"Expired after {days} days without a decision. File it again if you still need access."


def invite_lapsed(email: str | None, status: str) -> str:
    """Thread: the invite expired or was deleted before it was accepted."""
    return f"The invite to {escape(email or '?')} {status} unused."


def invite_lapsed_dm(request: AccessRequest, status: str) -> str:
    """Card (and its thread): the invite expired or was deleted before it was accepted."""
    return f"The invite {status} before it was accepted. File a new request if you still need access."


def invite_unaccepted(email: str | None, days: int) -> str:
    """Thread: the invite has waited long enough for an admin to look."""
    return f"The invite to {escape(email or '?')} is still not accepted after {plural(days, 'day')}."


def invite_reminder_dm(request: AccessRequest, email: str | None, expires_at: datetime, tz: tzinfo = UTC) -> str:
    """Card's thread: accept the invite before it expires."""
    return f"Reminder: accept the Anthropic invite sent to {escape(email or '?')}; it expires {when(expires_at, tz)}."


def escalation(request: AccessRequest, link: str | None) -> str:
    """Channel (not thread, where it is easy to miss after a day): the request still waits for a decision."""
    where = f" <{link}|Open the request>." if link else ""
    return (
        f":rotating_light: Request #{request.id} from <@{request.requester_slack_id}> has waited over a day "
        f"for a decision.{where}"
    )


def invite_sent(email: str, org_role: str) -> str:
    """Thread: the Admin API sent the invite."""
    return f"Invite sent to {escape(email)} (role {escape(role_name(org_role))})."


def invite_sent_dm(request: AccessRequest, email: str, *, for_invitee: bool) -> str:
    """Card (and, for the requester's own invite, its thread): the approval became an invite."""
    if for_invitee:
        return f"Approved: {escape(email)} has been invited and will get an email from Anthropic."
    return (
        f"Approved. Next step: accept the invitation Anthropic emailed to "
        f"{escape(email)}. Once you have, I'll add you to *{escape(request.workspace_name or '?')}* and tell you "
        "how to create your key."
    )


def _step(step: GrantStep) -> str:
    if isinstance(step, RoleRaised):
        return f"Org role raised from {role_name(step.from_role)} to {role_name(step.to_role)}."
    if isinstance(step, AddedToWorkspace):
        return f"Added to {escape(step.workspace)} as {role_name(step.role)}."
    if isinstance(step, WorkspaceRoleChanged):
        return f"Workspace role changed from {role_name(step.from_role)} to {role_name(step.to_role)}."
    assert isinstance(step, AlreadyMember)
    return f"Already {role_name(step.role)} in {escape(step.workspace)}."


ALREADY_THERE = "The access was already there, so nothing will be taken away when the time is up."


def granted(steps: list[GrantStep], *, already_there: bool = False) -> str:
    """Thread: what the grant changed, step by step (and, for a time-bound one that changed nothing, that)."""
    return " ".join([*(_step(step) for step in steps), *([ALREADY_THERE] if already_there else [])])


def granted_dm(
    request: AccessRequest,
    *,
    expires: datetime | None,
    console_url: str,
    already_there: bool = False,
    tz: tzinfo = UTC,
) -> str:
    """Card (and its thread): access is there (and until when, or that it was there already); how to create the key."""
    workspace = f"*{escape(request.workspace_name or '?')}*"
    until = f" until {when(expires, tz)}" if expires else ""
    lead = f"You now have access to {workspace}{until}."
    if already_there:
        lead = (
            f"You already had access to {workspace}, so nothing will be taken away when the time you asked for is up."
        )
    return (
        f"{lead} Next step: create your API key "
        f"at {console_url}/settings/keys in that workspace, named "
        f"{key_name_hint(request.requester_handle, None)}. I'll confirm here when I see it. "
        "Never paste the key itself into Slack."
    )


def member_now(email: str) -> str:
    """Thread: the invitee joined the organization."""
    return f"{escape(email)} is a member of the organization now."


def member_now_dm(request: AccessRequest, email: str) -> str:
    """Card: the invitee accepted."""
    return f"{escape(email)} accepted the invite and is in the organization now."


def failed(error_message: str) -> str:
    """Thread: the Admin API's sentence, and what to do about it."""
    return f":warning: That didn't work: {escape(error_message)} An admin can press Retry."


def _key(name: str, hint: str | None) -> str:
    return f"`{escape(name)}`" + (f" …{escape(hint)}" if hint else "")


def key_seen(name: str, hint: str | None) -> str:
    """Thread: the requester's key exists; the request is done."""
    return f"Key {_key(name, hint)} created. Request fulfilled."


def key_seen_dm(request: AccessRequest, name: str, hint: str | None) -> str:
    """Card: the new key was seen."""
    return f"I see your new key {_key(name, hint)} in *{escape(request.workspace_name or '?')}*. You're all set."


def _keys(keys: list[tuple[str, str | None]]) -> str:
    return ", ".join(_key(name, hint) for name, hint in keys)


def _undone(request: AccessRequest, plan: ExpiryPlan) -> list[str]:
    """What the expiry undid, sentence by sentence."""
    workspace = f"*{escape(request.workspace_name or '?')}*"
    done = [(k.name, k.hint) for k in plan.keys if k.active]
    inactive = [(k.name, k.hint) for k in plan.keys if not k.active]
    parts = [f"Deactivated: {_keys(done)}."] if done else []
    if inactive:
        parts.append(f"Already inactive: {_keys(inactive)}.")
    if plan.remove_membership:
        parts.append(f"Removed from {workspace}.")
    if plan.workspace_role_to:
        parts.append(f"Role in {workspace} restored to {role_name(plan.workspace_role_to)}.")
    if plan.org_role_to:
        parts.append(f"Org role restored to {role_name(plan.org_role_to)}.")
    return parts + plan.kept


def _to_undo(request: AccessRequest, plan: ExpiryPlan) -> list[str]:
    """What the expiry will undo, as things stand now."""
    workspace = f"*{escape(request.workspace_name or '?')}*"
    active = [(k.name, k.hint) for k in plan.keys if k.active]
    parts = [f"These keys will be deactivated: {_keys(active)}."] if active else []
    if plan.remove_membership:
        parts.append(f"You will be removed from {workspace}; keys you create there before then are deactivated too.")
    if plan.workspace_role_to:
        parts.append(f"Your role in {workspace} goes back to {role_name(plan.workspace_role_to)}.")
    if plan.org_role_to:
        parts.append(f"Your org role goes back to {role_name(plan.org_role_to)}.")
    return parts + plan.kept


def ended_summary(request: AccessRequest, plan: ExpiryPlan) -> str:
    """The audit row's detail: what the ended grant undid and kept (plain text)."""
    return " ".join(["time-bound grant ended.", *_undone(request, plan)]).replace("*", "")


def grant_ended(request: AccessRequest, plan: ExpiryPlan) -> str:
    """Thread: a time-bound grant ended, and exactly what was undone and kept."""
    return " ".join(["Time-bound access ended.", *(_undone(request, plan) or ["Nothing needed undoing."])])


def grant_ended_dm(request: AccessRequest, plan: ExpiryPlan) -> str:
    """Card: a time-bound grant ended, and what that changed."""
    head = f"Your access to *{escape(request.workspace_name or '?')}* has ended."
    return " ".join([head, *(_undone(request, plan) or ["Nothing needed undoing."])])


def grant_ending_dm(request: AccessRequest, ends: datetime, plan: ExpiryPlan, tz: tzinfo = UTC) -> str:
    """Card's thread: a time-bound grant ends soon, and exactly what will happen then."""
    head = f"Your access to *{escape(request.workspace_name or '?')}* ends {when(ends, tz)}."
    plan_parts = _to_undo(request, plan) or ["Nothing will be taken away."]
    return " ".join([head, *plan_parts, "File a new request if you need longer."])


def grant_plan(request: AccessRequest, plan: ExpiryPlan) -> str:
    """A dry run's line: what ending the grant would do (plain text)."""
    return " ".join(_to_undo(request, plan) or ["nothing to undo"]).replace("*", "")
