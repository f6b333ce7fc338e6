"""Budget mirroring through an intent row, and how the reconciler checks a mirror whose outcome was never
recorded."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from bot.anthropic_admin import SpendLimit
from bot.deps import Deps
from bot.identity import Actor
from bot.jobs.context import JobContext
from bot.slack.text import escape
from bot.writes import Check, Intent, Verdict, perform
from storage import repositories as repo
from storage.models import AdminWrite, Budget

MIRROR = "budget.mirror"


def _record_mirror(session: Session, payload: dict[str, Any], limit_id: str, at: datetime, detail: str | None) -> None:
    scope_key = payload["scope_key"]
    row = repo.get_budget_row(session=session, scope_key=scope_key)
    if row is None:
        row = Budget(scope_key=scope_key, amount_usd=Decimal(payload["amount_usd"]), created_at=at)
    row.mirrored_limit_id = limit_id
    row.updated_at = at
    session.add(row)
    repo.append_audit(
        session=session,
        action="budget.mirrored",
        subject_type="budget",
        subject_id=scope_key,
        actor_slack_id=payload.get("actor_slack_id"),
        actor_anthropic_id=payload.get("actor_anthropic_id"),
        after={"spend_limit_id": limit_id, "amount_usd": payload["amount_usd"]},
        detail=detail,
        at=at,
    )


def mirror(deps: Deps, actor: Actor, *, scope_key: str, label: str, amount: Decimal, workspace_id: str | None) -> str:
    """Set `amount` as the Anthropic spend limit of the scope through an intent row; the limit's id."""
    payload = {
        "scope_key": scope_key,
        "workspace_id": workspace_id,
        "amount_usd": str(amount),
        "actor_slack_id": actor.slack_user_id,
        "actor_anthropic_id": actor.anthropic_user_id,
    }
    intent = Intent(
        MIRROR, scope_key, f"set ${amount} as the spend limit of {escape(label)}", payload, actor.slack_user_id
    )
    now = deps.clock()

    def record(session: Session, limit: SpendLimit) -> str:
        _record_mirror(session, payload, limit.id, now, None)
        return limit.id

    def call() -> SpendLimit:
        return deps.admin.set_spend_limit(
            amount_usd=amount, scope_type="workspace" if workspace_id else "organization", workspace_id=workspace_id
        )

    return perform(deps, intent, call, record)


def check_mirror(ctx: JobContext, write: AdminWrite, payload: dict[str, Any]) -> Verdict:
    """An interrupted mirror: a monthly limit on the scope at the amount means it was set."""
    workspace_id, amount = payload.get("workspace_id"), Decimal(payload["amount_usd"])
    scope = "workspace" if workspace_id else "organization"
    for limit in ctx.deps.admin.list_spend_limits():
        if limit.scope_type == scope and limit.workspace_id == workspace_id and limit.amount_usd == amount:
            _record_mirror(ctx.session, payload, limit.id, ctx.now, "recorded by the reconciler")
            return Verdict(True, f"the {scope} spend limit is ${amount} at Anthropic; recorded now.")
    return Verdict(False, f"the {scope} spend limit at Anthropic is not ${amount}: the mirror didn't happen.")


CHECKS: dict[str, Check] = {MIRROR: check_mirror}
