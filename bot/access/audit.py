"""`/claude-key audit [days]`: the append-only audit log as a CSV file, DM'd to an Admin."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import timedelta

from bot.access.blocks.replies import audit_upload
from bot.access.model import AuditExport
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import resolve_admin
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AuditEvent

USAGE_AUDIT = "Usage: `/claude-key audit [days]` (1 to 365, default 30)"
COLUMNS = (
    "at",
    "actor_slack_id",
    "actor_anthropic_id",
    "action",
    "subject_type",
    "subject_id",
    "before",
    "after",
    "detail",
)
MAX_ROWS = 100_000


def parse_days(args: Sequence[str]) -> int:
    """`[days]` → 1..365, default 30."""
    if not args:
        return 30
    if len(args) > 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= 365:
        raise UserError(USAGE_AUDIT)
    return int(args[0])


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to spreadsheet apps: quote it so it stays text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def audit_csv(rows: Sequence[AuditEvent]) -> str:
    """The rows as CSV text, oldest first, safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.at.isoformat() if c == "at" else getattr(row, c)) for c in COLUMNS])
    return buffer.getvalue()


def export_audit(deps: Deps, *, slack_user_id: str, days: int) -> AuditExport:
    """Admins only: upload the last `days` of the audit log to the admin's DM."""
    now = deps.clock()
    actor = resolve_admin(deps, slack_user_id, "Only admins can export the audit log.")
    with session_scope(deps.engine) as session:
        rows = repo.audit_since(session=session, since=now - timedelta(days=days), limit=MAX_ROWS)
        repo.append_audit(
            session=session,
            action="audit.exported",
            subject_type="audit",
            subject_id=f"{days}d",
            actor_slack_id=slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            after={"rows": len(rows)},
            at=now,
        )
    export = AuditExport(days=days, rows=len(rows))
    filename, title, comment = audit_upload(export, now)
    channel = deps.slack.conversations_open(users=slack_user_id)["channel"]["id"]
    deps.slack.files_upload_v2(
        channel=channel, content=audit_csv(rows), filename=filename, title=title, initial_comment=comment
    )
    return export
