"""Block Kit for `/claude-key members`: a page of members or invites with Previous/Next, the invite buttons
(each behind a confirm dialog), what everyone else is shown (the admins), and the answers to the clicks.

Names, emails and workspace names come from the Anthropic org (anyone with Console access types them): escaped,
then cut, so every message stays within Slack's limits whatever they hold."""

from __future__ import annotations

from datetime import datetime, tzinfo

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

from bot.core.format import calendar_day, day, plural, role_name
from bot.identity import BotRole
from bot.slack.ids import Action
from bot.slack.reply import Reply
from bot.slack.text import clip, confirm_text, escape, escape_clip, when
from bot.team.members_model import (
    AdminsOnly,
    InviteOutcome,
    InvitePage,
    InviteRef,
    InviteView,
    MemberPage,
    MembersPageRef,
    MemberView,
)

MAX_BLOCKS = 50
NAME_SHOWN = 80
EMAIL_SHOWN = 120
WORKSPACE_SHOWN = 40
WORKSPACES_LISTED = 4
ADMINS_LISTED = 30
BUTTON_VALUE = 2000  # Slack's limit on a button's value
ROLE_LABEL = {BotRole.ADMIN: "Admin", BotRole.DEVELOPER: "Developer", BotRole.VIEWER: "Viewer"}
HEADINGS = {"all": "Org members", "admins": "Admins", "developers": "Developers", "viewers": "Viewers"}


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, 3000))])


def _plural(n: int, word: str) -> str:
    return plural(n, word, "matches" if word == "match" else None)


def _nav(nav: MembersPageRef, page: int, pages: int) -> list[Block]:
    buttons = []
    if page > 0:
        value = nav.model_copy(update={"p": page - 1}).model_dump_json()
        buttons.append(ButtonElement(text="◂ Previous", action_id=Action.MEMBERS_PREV, value=value))
    if page + 1 < pages:
        value = nav.model_copy(update={"p": page + 1}).model_dump_json()
        buttons.append(ButtonElement(text="Next ▸", action_id=Action.MEMBERS_NEXT, value=value))
    return [ActionsBlock(elements=buttons)] if buttons else []


# -- members -------------------------------------------------------------------------------------------------


def _who(view: MemberView) -> str:
    name = f"*{escape_clip(view.name, NAME_SHOWN)}*" if view.name.strip() else "*(no name)*"
    slack = f"<@{view.slack_id}>" if view.slack_id else "_no Slack account matched_"
    return f"{name} {slack} · {escape_clip(view.email, EMAIL_SHOWN)}"


def _workspaces(view: MemberView) -> str:
    if not view.workspaces:
        return "no workspaces"
    shown = [
        f"{escape_clip(name, WORKSPACE_SHOWN)} ({escape(role.removeprefix('workspace_'))})"
        for name, role in view.workspaces[:WORKSPACES_LISTED]
    ]
    more = len(view.workspaces) - WORKSPACES_LISTED
    return "workspaces: " + ", ".join(shown) + (f" +{more} more" if more > 0 else "")


def _last_use(view: MemberView, window_days: int) -> str:
    if not view.active_keys:
        return "no active keys"
    keys = _plural(view.active_keys, "active key")
    if not view.usage_known:
        return f"{keys}, last use unknown"
    if view.last_used is None:
        return f"{keys}, unused in the last {window_days} days"
    return f"{keys}, last used {calendar_day(view.last_used)}"


def member_line(view: MemberView, window_days: int) -> str:
    """One member: who, org role and the bot role it means, workspaces, keys and last use."""
    role = f"{escape_clip(role_name(view.org_role), 40)} → {ROLE_LABEL.get(view.bot_role, 'not a member')}"
    return f"{_who(view)}\n{role} · {_workspaces(view)} · {_last_use(view, window_days)}"


def _counts(listing: MemberPage) -> str:
    everyone = sum(listing.counts.values())
    parts = [plural(listing.counts.get(role, 0), label.lower()) for role, label in ROLE_LABEL.items()]
    text = f"{_plural(everyone, 'member')}: " + " · ".join(parts)
    if listing.pending_invites:
        text += f" · {_plural(listing.pending_invites, 'pending invite')} (`/claude-key members invites`)"
    return text


def _heading(listing: MemberPage) -> str:
    if listing.filter == "workspace":
        return f"Members of {listing.workspace or 'the workspace'}"
    return HEADINGS.get(listing.filter, "Org members")


def build_member_page(listing: MemberPage, tz: tzinfo) -> list[Block]:
    """Counts at the top, one section per member, when the data was read, Previous/Next."""
    blocks: list[Block] = [HeaderBlock(text=clip(_heading(listing), 150)), _context(_counts(listing))]
    if not listing.views:
        blocks.append(SectionBlock(text="Nobody matches."))
    for view in listing.views:
        blocks.append(SectionBlock(text=clip(member_line(view, listing.window_days), 3000)))
    notes = [f"{_plural(listing.total, 'match')}" if listing.filter != "all" else ""]
    if listing.pages > 1:
        notes.append(f"page {listing.page + 1} of {listing.pages}")
    notes.append(f"members as of {when(listing.read_at, tz)}")
    notes.append(f"key usage data as of {when(listing.usage_as_of, tz)}" if listing.usage_as_of else "")
    if not listing.directory_known:
        notes.append("Slack accounts unknown until the `slack-directory` job has run")
    blocks.append(_context(" · ".join(n for n in notes if n)))
    blocks += _nav(listing.nav, listing.page, listing.pages)
    return blocks[:MAX_BLOCKS]


def member_page_reply(listing: MemberPage, tz: tzinfo) -> Reply:
    """The answer to `members` for admins and billing viewers."""
    text = f"{_heading(listing)}: {listing.total} (page {listing.page + 1} of {listing.pages})"
    return Reply(escape(text), build_member_page(listing, tz))


def admins_only_reply(admins: AdminsOnly) -> Reply:
    """What everyone else is told: who the admins are."""
    names = []
    for name, slack_id in admins.admins[:ADMINS_LISTED]:
        shown = escape_clip(name, NAME_SHOWN) if name.strip() else ""
        if slack_id:
            names.append(f"<@{slack_id}>" + (f" ({shown})" if shown else ""))
        elif shown:
            names.append(shown)
    if len(admins.admins) > ADMINS_LISTED:
        names.append(f"…and {len(admins.admins) - ADMINS_LISTED} more")
    who = ", ".join(names) or "none I can see"
    text = f"Only admins and billing viewers can see the member list. The admins are: {who}."
    return Reply(text, [SectionBlock(text=clip(text, 3000))])


# -- invites -------------------------------------------------------------------------------------------------


def expires_phrase(expires_at: datetime, now: datetime) -> str:
    """'expires in 3 days' / 'expires today' / 'expired 2 days ago'."""
    if expires_at <= now:
        ago = (now - expires_at).days
        return "expired today" if ago == 0 else f"expired {_plural(ago, 'day')} ago"
    left = (expires_at - now).days
    return "expires today" if left == 0 else f"expires in {_plural(left, 'day')}"


def invite_line(view: InviteView, now: datetime, tz: tzinfo) -> str:
    """One invite: email, role, sent date and age, expiry."""
    status = ":hourglass_flowing_sand: pending" if view.status == "pending" else ":x: expired"
    return (
        f"*{escape_clip(view.email, EMAIL_SHOWN)}* · {escape_clip(role_name(view.role), 40)} · {status}\n"
        f"sent {day(view.invited_at, tz)} ({_plural(view.age_days, 'day')} ago) · "
        f"{expires_phrase(view.expires_at, now)} ({day(view.expires_at, tz)})"
    )


def _invite_buttons(view: InviteView) -> list[ButtonElement]:
    value = InviteRef(i=view.id, e=view.email).model_dump_json()
    if len(value) > BUTTON_VALUE:  # an email JSON-escaping can't fit: the click finds the invite by id alone
        value = InviteRef(i=view.id, e="").model_dump_json()
    buttons = []
    if view.status == "pending":
        confirm = ConfirmObject(
            title="Withdraw this invite?",
            text=confirm_text(f"Withdraw the invite for {view.email}? The link in their email stops working."),
            confirm="Withdraw",
            deny="Cancel",
        )
        buttons.append(
            ButtonElement(
                text="Withdraw", action_id=Action.INVITE_WITHDRAW, value=value, style="danger", confirm=confirm
            )
        )
    if view.can_reinvite:
        again = "withdrawn and a new one sent" if view.status == "pending" else "sent again"
        confirm = ConfirmObject(
            title="Send a new invite?",
            text=confirm_text(
                f"Re-invite {view.email} as {role_name(view.role)}? The invite is {again} (there is no resend)."
            ),
            confirm="Re-invite",
            deny="Cancel",
        )
        buttons.append(ButtonElement(text="Re-invite", action_id=Action.INVITE_REINVITE, value=value, confirm=confirm))
    return buttons


def build_invite_page(invites: InvitePage, tz: tzinfo) -> list[Block]:
    """Counts, each invite with Withdraw / Re-invite (admins), when it was read, Previous/Next."""
    counts = f"{invites.pending} pending · {invites.expired} expired"
    blocks: list[Block] = [HeaderBlock(text="Org invites"), _context(counts)]
    if not invites.views:
        blocks.append(SectionBlock(text="No pending or expired invites."))
    for view in invites.views:
        blocks.append(SectionBlock(text=invite_line(view, invites.read_at, tz)))
        buttons = _invite_buttons(view) if invites.actions else []
        if buttons:
            blocks.append(ActionsBlock(elements=buttons))
    notes = [f"page {invites.page + 1} of {invites.pages}"] if invites.pages > 1 else []
    notes.append(f"invites as of {when(invites.read_at, tz)}")
    if not invites.actions:
        notes.append("only admins can withdraw or re-send invites")
    blocks.append(_context(" · ".join(notes)))
    blocks += _nav(invites.nav, invites.page, invites.pages)
    return blocks[:MAX_BLOCKS]


def invite_page_reply(invites: InvitePage, tz: tzinfo) -> Reply:
    """The answer to `members invites`."""
    text = f"Org invites: {invites.pending} pending, {invites.expired} expired"
    return Reply(text, build_invite_page(invites, tz))


def withdrawn_reply(outcome: InviteOutcome) -> Reply:
    """The answer to a confirmed Withdraw."""
    notes = "".join(f" {escape(n)}" for n in outcome.notes)
    return Reply(f"Withdrawn: the invite for {escape(outcome.email)} ({role_name(outcome.role)}).{notes}")


def reinvited_reply(outcome: InviteOutcome, tz: tzinfo) -> Reply:
    """The answer to a confirmed Re-invite."""
    old = "the old invite was withdrawn and " if outcome.withdrawn else ""
    expires = f"; it expires {day(outcome.new_expires_at, tz)}" if outcome.new_expires_at else ""
    notes = "".join(f" {escape(n)}" for n in outcome.notes)
    return Reply(
        f"Re-invited {escape(outcome.email)} as {role_name(outcome.role)}: {old}a new invite is on its way"
        f"{expires}.{notes}"
    )
