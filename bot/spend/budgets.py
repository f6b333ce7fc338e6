"""Budget commands: `/claude-key budget show | set | thresholds` and the Mirror button (a budget set as a
real Anthropic spend limit). What a budget is and where it stands: `bot/spend/positions.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from bot.anthropic_admin import AdminAPIError, FeatureUnavailable
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, resolve_actor, resolve_admin
from bot.slack.text import escape
from bot.spend import analytics
from bot.spend.model import (
    ORG_SCOPE,
    BudgetCommand,
    BudgetList,
    BudgetSaved,
    BudgetView,
    MirrorOutcome,
    ThresholdsSaved,
)
from bot.spend.positions import budget_for_scope, list_budgets, position, settle, thresholds
from bot.spend.writes import mirror
from storage import repositories as repo
from storage.db import session_scope
from storage.models import Budget

logger = logging.getLogger(__name__)

MAX_BUDGET_USD = Decimal("100000000")

BUDGET_SET_USAGE = (
    "Usage: `/claude-key budget set &lt;usd&gt; [workspace &lt;name&gt;]`, e.g. `/claude-key budget set 5000`."
)
THRESHOLDS_USAGE = "Usage: `/claude-key budget thresholds 50,75,90,100` (whole percentages from 1 to 1000)."
BUDGET_USAGE = "Usage: `/claude-key budget [show | set &lt;usd&gt; [workspace &lt;name&gt;] | thresholds 50,75,90,100]`"

# --------------------------------------------------------------------------------------------------
# Parsing (pure; runs before the ack)
# --------------------------------------------------------------------------------------------------


class BudgetSyntaxError(ValueError):
    """Malformed budget arguments; the message says how to write them."""


def parse_amount(text: str) -> Decimal:
    """`5000`, `$1,250.50` → Decimal dollars; refuses fractions of a cent, zero, negatives and floats' junk."""
    cleaned = text.strip().lstrip("$").replace(",", "").replace("_", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise BudgetSyntaxError(f"`{escape(text[:40])}` isn't an amount. {BUDGET_SET_USAGE}") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_BUDGET_USD:
        raise BudgetSyntaxError(f"A budget must be a positive amount in dollars. {BUDGET_SET_USAGE}")
    if amount != amount.quantize(Decimal("0.01")):
        raise BudgetSyntaxError(f"Budgets are in dollars and cents (at most two decimals). {BUDGET_SET_USAGE}")
    return amount.quantize(Decimal("0.01"))


def parse_thresholds(text: str) -> tuple[int, ...]:
    """`50,75,90,100` → (50, 75, 90, 100), sorted and unique."""
    try:
        values = sorted({int(part.strip().rstrip("%")) for part in text.split(",") if part.strip()})
    except ValueError:
        raise BudgetSyntaxError(THRESHOLDS_USAGE) from None
    if not values or any(v < 1 or v > 1000 for v in values) or len(values) > 10:
        raise BudgetSyntaxError(THRESHOLDS_USAGE)
    return tuple(values)


def parse_budget(args: Sequence[str]) -> BudgetCommand:
    """Parse `budget` arguments."""
    words = list(args)
    if not words or (words[0].lower() == "show" and len(words) == 1):
        return BudgetCommand("show")
    verb = words[0].lower()
    if verb == "set":
        if len(words) < 2:
            raise BudgetSyntaxError(BUDGET_SET_USAGE)
        amount = parse_amount(words[1])
        rest = words[2:]
        if not rest:
            return BudgetCommand("set", amount=amount)
        if rest[0].lower() != "workspace" or len(rest) < 2:
            raise BudgetSyntaxError(BUDGET_SET_USAGE)
        return BudgetCommand("set", amount=amount, workspace=" ".join(rest[1:]))
    if verb == "thresholds":
        if len(words) < 2:
            raise BudgetSyntaxError(THRESHOLDS_USAGE)
        return BudgetCommand("thresholds", thresholds=parse_thresholds("".join(words[1:])))
    raise BudgetSyntaxError(BUDGET_USAGE)


# --------------------------------------------------------------------------------------------------
# Commands (after the ack)
# --------------------------------------------------------------------------------------------------


def admin_for_budgets(deps: Deps, slack_user_id: str) -> Actor:
    """The admin changing budgets (role checked within the last minute), or the refusal every budget change gives."""
    return resolve_admin(deps, slack_user_id, "Only admins can change budgets. `/claude-key budget show` shows them.")


def show_budgets(deps: Deps, slack_user_id: str) -> BudgetList:
    """`/claude-key budget show`: every budget with spent, %, forecast, thresholds and the alert channel."""
    now, tz = deps.clock(), deps.settings.tz
    with session_scope(deps.engine) as session:
        resolve_actor(deps, slack_user_id)  # members and non-members alike may look
        budgets = list_budgets(session, deps.settings)
        marks = thresholds(session, deps.settings)
    spends = analytics.fan_out(deps, *[(lambda b=b: _spend_or_none(deps, b, now)) for b in budgets]) if budgets else []
    standings = [
        (budget, position(budget, spent[0], now, tz, spent[1]) if spent is not None else None)
        for budget, spent in zip(budgets, spends, strict=True)
    ]
    return BudgetList(standings, marks, deps.settings.alert_channel, tz)


def _spend_or_none(deps: Deps, budget: BudgetView, now: datetime) -> tuple[Decimal, datetime | None] | None:
    try:
        return analytics.period_spend(deps, budget.who, now)
    except AdminAPIError as exc:
        logger.info("spend for %s unavailable: %s", budget.scope_key, type(exc).__name__)
        return None


def set_budget(
    deps: Deps, slack_user_id: str, amount: Decimal, workspace: str | None = None, *, workspace_id: str | None = None
) -> BudgetSaved:
    """`/claude-key budget set`: store the amount, settle the alert thresholds, offer a real spend limit.
    `workspace` is what was typed (a name or id); `workspace_id` an id only (a budget alert's Change budget)."""
    now = deps.clock()
    actor = admin_for_budgets(deps, slack_user_id)
    ws = analytics.find_workspace(deps, workspace) if workspace else None
    if workspace_id is not None:
        ws = next((w for w in deps.workspaces() if w.id == workspace_id), None)
        if ws is None:
            raise UserError("That workspace is no longer active in the Anthropic organization, so its budget stays.")
    scope_key = f"workspace:{ws.id}" if ws is not None else ORG_SCOPE
    with session_scope(deps.engine) as session:
        row = repo.get_budget_row(session=session, scope_key=scope_key)
        if row is None:
            row = Budget(
                scope_key=scope_key,
                workspace_id=ws.id if ws else None,
                workspace_name=ws.name if ws else None,
                created_at=now,
            )
        # The amount in force until now: the row's, or MONTHLY_BUDGET_USD for the org.
        previous = (
            Decimal(row.amount_usd)
            if row.amount_usd is not None
            else (deps.settings.monthly_budget_usd if scope_key == ORG_SCOPE else None)
        )
        before = str(previous) if previous is not None else None
        if previous is not None and previous != amount:
            row.revision += 1  # re-arms the thresholds (see `settle`)
        row.amount_usd = amount
        row.updated_by_slack_id = actor.slack_user_id
        row.updated_at = now
        if ws is not None:
            row.workspace_name = ws.name
        session.add(row)
        session.flush()
        repo.append_audit(
            session=session,
            action="budget.set",
            subject_type="budget",
            subject_id=scope_key,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            before={"amount_usd": before},
            after={"amount_usd": str(amount), "revision": row.revision},
            at=now,
        )
        view = BudgetView(
            scope_key,
            amount,
            thresholds(session, deps.settings),
            row.revision,
            workspace_id=row.workspace_id,
            workspace_name=row.workspace_name,
        )
    try:
        spent, as_of = analytics.period_spend(deps, view.who, now, use_cache=False)
    except AdminAPIError:
        spent, as_of = None, None  # the alert job settles the thresholds on its next run
    if spent is not None:
        with session_scope(deps.engine) as session:
            settle(session, view, spent, now, deps.settings.tz)
    return BudgetSaved(
        budget=view,
        position=position(view, spent, now, deps.settings.tz, as_of) if spent is not None else None,
        offer_mirror=spend_limit_writes(deps) != WRITES_OFF,
        console_url=deps.settings.console_url,
        tz=deps.settings.tz,
    )


def set_thresholds(deps: Deps, slack_user_id: str, marks: tuple[int, ...]) -> ThresholdsSaved:
    """`/claude-key budget thresholds 50,75,90,100`: applies to every budget."""
    now = deps.clock()
    with session_scope(deps.engine) as session:
        actor = admin_for_budgets(deps, slack_user_id)
        row = repo.get_budget_row(session=session, scope_key=ORG_SCOPE)
        if row is None:
            row = Budget(scope_key=ORG_SCOPE, created_at=now)
        before = row.thresholds
        row.thresholds = ",".join(str(m) for m in marks)
        row.updated_at = now
        session.add(row)
        session.flush()
        repo.append_audit(
            session=session,
            action="budget.thresholds",
            subject_type="budget",
            subject_id=ORG_SCOPE,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            before={"thresholds": before},
            after={"thresholds": row.thresholds},
            at=now,
        )
    return ThresholdsSaved(marks)


# -- mirroring a budget as a real Anthropic spend limit (early access) --------------------------------

_WRITES_KEY = ("spend-limit-writes",)
WRITES_UNKNOWN, WRITES_OFF = "unknown", "off"


def spend_limit_writes(deps: Deps) -> str:
    """ "off" when the org surely lacks spend-limit API access (listing or a write was refused), else "unknown"."""
    known = deps.cache.peek(_WRITES_KEY, deps.clock())
    if known is not None:
        return str(known)
    try:
        deps.admin.list_spend_limits()  # listing is early access too: refused means writes are
        verdict = WRITES_UNKNOWN
    except FeatureUnavailable:
        verdict = WRITES_OFF
    except AdminAPIError:
        verdict = WRITES_UNKNOWN
    deps.cache.put(_WRITES_KEY, verdict, deps.clock(), ttl=timedelta(hours=1))
    return verdict


def mirror_budget(deps: Deps, slack_user_id: str, scope_key: str) -> MirrorOutcome:
    """Set the stored budget as an Anthropic spend limit (the Mirror button); says plainly when not enabled."""
    now = deps.clock()
    with session_scope(deps.engine) as session:
        actor = admin_for_budgets(deps, slack_user_id)
        budget = budget_for_scope(session, deps.settings, scope_key)
    if budget is None:
        raise UserError("That budget no longer exists; set it again with `/claude-key budget set`.")
    console = deps.settings.console_url
    try:
        limit_id = mirror(
            deps,
            actor,
            scope_key=scope_key,
            label=budget.workspace_name or budget.workspace_id or "the organization",
            amount=budget.amount,
            workspace_id=budget.workspace_id,
        )
    except FeatureUnavailable as exc:
        deps.cache.put(_WRITES_KEY, WRITES_OFF, now, ttl=timedelta(hours=1))
        return MirrorOutcome(budget, limit_id=None, refusal=exc.user_message, console_url=console)
    return MirrorOutcome(budget, limit_id=limit_id, refusal=None, console_url=console)
