"""What the person who typed the command or clicked the button sees (`Reply`: fallback text and blocks)."""

from __future__ import annotations

from datetime import datetime

from bot.access.blocks.message import build_request_list, what_plain
from bot.access.blocks.notices import where_posted
from bot.access.model import AuditExport, Filed, Invited, RequestList
from bot.core.format import plural, role_name
from bot.slack.reply import Reply
from bot.slack.text import escape, when
from storage.models import AccessRequest


def filed(filed: Filed) -> Reply:
    """The receipt for a new request."""
    request = filed.request
    return Reply(f":inbox_tray: Request #{request.id} sent to the admins: {what_plain(request)}.{where_posted(filed)}")


def invited(invited: Invited) -> Reply:
    """An admin's invite went out."""
    return Reply(
        f":email: Invited {escape(invited.email)} as {role_name(invited.role)}. The invite expires "
        f"{when(invited.expires_at, invited.tz, 'date')}; Anthropic emails them the link."
    )


def invite_answer(result: Filed | Invited) -> Reply:
    """`invite`: an admin's invite went out, anyone else's became a request."""
    return invited(result) if isinstance(result, Invited) else filed(result)


def request_list(listed: RequestList) -> Reply:
    """`requests mine` (with Cancel buttons) or `requests pending`."""
    title = "Pending requests" if listed.which == "pending" else "Your open requests"
    blocks = build_request_list(listed.requests, links=listed.links, cancellable=listed.which != "pending")
    return Reply(f"{title}: {len(listed.requests)}", blocks)


def cancelled(request: AccessRequest) -> Reply:
    """The requester's cancel went through."""
    return Reply(f"Request #{request.id} cancelled.")


def audit_upload(export: AuditExport, now: datetime) -> tuple[str, str, str]:
    """The audit CSV's (filename, title, comment in the DM)."""
    days = export.days
    return (
        f"claude-key-bot-audit-{now:%Y-%m-%d}-{days}d.csv",
        f"Audit log, last {days} days",
        f"The audit log for the last {plural(days, 'day')}: {plural(export.rows, 'row')}.",
    )


def audit_sent(export: AuditExport) -> Reply:
    """The audit log is in the admin's DM."""
    return Reply(f":page_facing_up: I've sent you the audit log ({export.rows} rows, last {export.days} days) in a DM.")
