"""Mark as planned, the spike alert's button: that day sends no (more) spike alerts for the budget's scope and
leaves the baseline of later spike checks (`bot/spend/alerts.py` reads the ledger key `planned:<scope>:<day>`).

Admins only, re-checked on the click; recorded in the `budget-alerts` ledger and, with who and when, in the
audit log. The alert message then shows who marked it instead of the button.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import resolve_admin
from bot.slack.notifier import Posted
from bot.spend import blocks_drivers
from bot.spend.blocks_budgets import plain_budget_label
from bot.spend.driver_model import PlannedOutcome
from bot.spend.positions import JOB, budget_for_scope, planned_key, spike_key
from storage import repositories as repo
from storage.db import session_scope

logger = logging.getLogger(__name__)

REFUSAL = "Only admins can mark a spend spike as planned."
AUDIT_ACTION = "budget.spike_planned"
# A spike is about yesterday; a button older than this is from an alert nobody needs to silence any more.
MAX_AGE = timedelta(days=60)


def parse_day(text: str) -> date:
    """The button's ISO day; UserError for anything else (a forged value)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError("That button is no longer valid.") from None


def mark_planned(
    deps: Deps,
    *,
    slack_user_id: str,
    scope_key: str,
    day: date,
    channel: str | None = None,
    ts: str | None = None,
    blocks: Sequence[dict[str, Any]] = (),
) -> PlannedOutcome:
    """Mark one scope's spike day as planned (once), audit it, and show it on the alert message."""
    now = deps.clock()
    actor = resolve_admin(deps, slack_user_id, REFUSAL)
    today = now.astimezone(deps.settings.tz).date()
    if day >= today or today - day > MAX_AGE:
        raise UserError(f"Only a past day within {MAX_AGE.days} days can be marked as planned.")
    with session_scope(deps.engine) as session:
        budget = budget_for_scope(session, deps.settings, scope_key)
        if budget is None:
            raise UserError("That budget no longer exists, so there are no more spike alerts for it anyway.")
        fresh = repo.ledger_record(session=session, job=JOB, key=planned_key(scope_key, day), at=now)
        if fresh:
            # No spike alert for that day from now on, even if later data makes it one again.
            repo.ledger_record(session=session, job=JOB, key=spike_key(scope_key, day), at=now)
            repo.append_audit(
                session=session,
                action=AUDIT_ACTION,
                subject_type="budget",
                subject_id=scope_key,
                actor_slack_id=actor.slack_user_id,
                actor_anthropic_id=actor.anthropic_user_id,
                after={"planned_day": day.isoformat()},
                at=now,
            )
        label = plain_budget_label(budget)
    outcome = PlannedOutcome(label, day, actor.slack_user_id, now, already=not fresh)
    if channel and ts and blocks and fresh:
        try:
            edit = blocks_drivers.planned_edit(blocks, outcome, deps.settings.tz)
            deps.notifier.update(Posted(channel, ts), edit.text, edit.blocks)
        except SlackApiError as exc:
            logger.info("could not edit the spike alert: %s", exc.response.get("error"))
    return outcome
