"""Key status writes through intent rows, and how the reconciler checks one that was interrupted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.anthropic_admin import ApiKey, NotFound
from bot.deps import Deps
from bot.identity import Actor
from bot.jobs.context import JobContext
from bot.slack.text import escape
from bot.writes import Check, Intent, Verdict, perform
from storage import repositories as repo
from storage.models import AdminWrite

KEY_STATUS = "key.status"


def _label(name: str, hint: str | None) -> str:
    return f"key `{escape(name)}`" + (f" ({escape(hint)})" if hint else "")


def _audit(session: Session, payload: dict[str, Any], *, at: datetime, detail: str | None) -> None:
    repo.append_audit(
        session=session,
        action=payload["action"],
        subject_type="api_key",
        subject_id=payload["key_id"],
        actor_slack_id=payload.get("actor_slack_id"),
        actor_anthropic_id=payload.get("actor_anthropic_id"),
        before={"status": payload["before"]},
        after={"status": payload["status"]},
        detail=detail,
        at=at,
    )


def set_key_status(
    deps: Deps, key: ApiKey, actor: Actor, now: datetime, *, status: str, action: str, detail: str
) -> None:
    """Set the key's status through an intent row, then write its audit row (no database connection is held
    while the API answers; a refused call leaves no audit row)."""
    payload = {
        "key_id": key.id,
        "name": key.name,
        "hint": key.partial_key_hint,
        "status": status,
        "before": key.status,
        "action": action,
        "detail": detail or None,
        "actor_slack_id": actor.slack_user_id,
        "actor_anthropic_id": actor.anthropic_user_id,
    }
    verb = "deactivate" if status == "inactive" else f"set to {status}"
    intent = Intent(
        KEY_STATUS, key.id, f"{verb} {_label(key.name, key.partial_key_hint)}", payload, actor.slack_user_id
    )
    perform(
        deps,
        intent,
        lambda: deps.admin.update_api_key(key.id, status=status),  # type: ignore[arg-type]
        lambda session, _: _audit(session, payload, at=now, detail=detail or None),
    )


def check_key_status(ctx: JobContext, write: AdminWrite, payload: dict[str, Any]) -> Verdict:
    """An interrupted status change: in effect → the audit row it missed; otherwise nothing changed."""
    label = _label(payload.get("name") or write.target, payload.get("hint"))
    try:
        key = ctx.deps.admin.get_api_key(write.target)
    except NotFound:
        return Verdict(False, f"{label} no longer exists at Anthropic; nothing to record.")
    if key.status != payload.get("status"):
        return Verdict(False, f"{label} is still {key.status} at Anthropic: the change didn't happen.")
    detail = " ".join(filter(None, [payload.get("detail"), "(recorded by the reconciler)"]))
    _audit(ctx.session, payload, at=ctx.now, detail=detail)
    return Verdict(True, f"{label} is {key.status} at Anthropic; recorded in the audit log now.")


CHECKS: dict[str, Check] = {KEY_STATUS: check_key_status}
