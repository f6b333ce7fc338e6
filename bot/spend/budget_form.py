"""A budget alert's Change budget: the button's and the modal's payloads, what the modal shows (`change_form`),
the modal, and reading what was typed.

The click carries the budget's scope key only (never a workspace name: names are typed by anyone with Console
access); the modal's amounts are read from the database when it opens, for an admin only, and its submission
goes through the same service as `/claude-key budget set` (the `budget.change` task in handlers/tasks/spend.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from slack_sdk.models.blocks import ButtonElement, InputBlock, PlainTextInputElement, PlainTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.core.errors import UserError
from bot.deps import Deps
from bot.slack.ids import Action, Callback
from bot.slack.reply import Reply
from bot.slack.text import clip
from bot.spend.budgets import BudgetSyntaxError, admin_for_budgets, parse_amount, parse_thresholds
from bot.spend.model import ORG_SCOPE, BudgetView, ThresholdsSaved
from bot.spend.positions import budget_for_scope, thresholds
from storage.db import session_scope

AMOUNT_BLOCK = "budget_amount"
AMOUNT_INPUT = "amount_input"
THRESHOLDS_BLOCK = "budget_thresholds"
THRESHOLDS_INPUT = "thresholds_input"
TITLE = "Change budget"
FORM_NOT_OPENED = (
    "I couldn't open the budget form; click Change budget again, or use `/claude-key budget set &lt;usd&gt;`."
)
AMOUNT_ERROR = "Enter a positive amount in dollars and cents, e.g. 5000 or 1,250.50."
THRESHOLDS_ERROR = "Enter whole percentages from 1 to 1000, separated by commas, e.g. 50,75,90,100 (at most 10)."


class ChangeBudgetPayload(BaseModel):
    """The Change budget button's value: which budget ("org" or "workspace:<id>")."""

    s: str


class BudgetFormMeta(BaseModel):
    """The modal's private_metadata: which budget, and the channel the alert was in (the answer goes there)."""

    s: str
    c: str | None = None


@dataclass(frozen=True)
class BudgetForm:
    """What the modal shows: the budget as it is now, and the alert thresholds (they apply to every budget)."""

    budget: BudgetView
    thresholds: tuple[int, ...]


@dataclass(frozen=True)
class BudgetFormInput:
    """A valid submission: the new amount, and the thresholds typed (None: left empty)."""

    amount: Decimal
    thresholds: tuple[int, ...] | None


def change_form(deps: Deps, slack_user_id: str, scope_key: str) -> BudgetForm:
    """What the modal shows an admin (role checked within the last minute, as `budget set` does); others get
    the command's refusal."""
    admin_for_budgets(deps, slack_user_id)
    with session_scope(deps.engine) as session:
        budget = budget_for_scope(session, deps.settings, scope_key)
        marks = thresholds(session, deps.settings)
    if budget is None:
        raise UserError("That budget no longer exists; set it again with `/claude-key budget set`.")
    return BudgetForm(budget, marks)


def change_budget_button(budget: BudgetView) -> ButtonElement:
    """Change budget (admins; anyone may click, the modal then says who may change budgets)."""
    value = ChangeBudgetPayload(s=budget.scope_key).model_dump_json()
    return ButtonElement(text=TITLE, action_id=Action.BUDGET_CHANGE, value=value)


def _label(budget: BudgetView) -> str:
    if budget.workspace_id is None:
        return "the org"
    return f"workspace {budget.workspace_name or budget.workspace_id}"


def loading_modal() -> View:
    """Opened at once (a trigger id lives 3 seconds), then replaced by the form or the refusal."""
    return View(
        type="modal",
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Cancel"),
        blocks=[SectionBlock(text=PlainTextObject(text="Checking your role and the current budget…"))],
    )


def budget_modal(form: BudgetForm, meta: BudgetFormMeta) -> View:
    """The form: the monthly amount, prefilled with the current budget, and the alert thresholds."""
    budget = form.budget
    marks = ",".join(str(m) for m in form.thresholds)
    return View(
        type="modal",
        callback_id=Callback.BUDGET_MODAL,
        title=PlainTextObject(text=TITLE),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=meta.model_dump_json(),
        blocks=[
            InputBlock(
                block_id=AMOUNT_BLOCK,
                label=PlainTextObject(text=clip(f"Monthly budget for {_label(budget)} (USD)", 2000)),
                element=PlainTextInputElement(action_id=AMOUNT_INPUT, initial_value=f"{budget.amount:,.2f}"),
                hint=PlainTextObject(
                    text="Dollars and cents, e.g. 5000 or 1,250.50. A new amount re-arms this month's alerts."
                ),
            ),
            InputBlock(
                block_id=THRESHOLDS_BLOCK,
                optional=True,
                label=PlainTextObject(text="Alert thresholds (% of each budget)"),
                element=PlainTextInputElement(action_id=THRESHOLDS_INPUT, initial_value=marks),
                hint=PlainTextObject(text="They apply to every budget, e.g. 50,75,90,100."),
            ),
        ],
    )


def refusal_modal(sentence: str) -> View:
    """What replaces the loading view when the form can't be shown: the command's refusal, or why not."""
    return View(
        type="modal",
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=clip(sentence, 3000))],  # the services' sentences are mrkdwn, escaped
    )


def _typed(view: dict[str, Any], block: str, action: str) -> str:
    values = (view.get("state") or {}).get("values") or {}
    return str(((values.get(block) or {}).get(action) or {}).get("value") or "").strip()


def read_budget_form(view: dict[str, Any]) -> BudgetFormInput | dict[str, str]:
    """The submission, or field errors (block id → sentence) for Slack to show under the fields."""
    errors: dict[str, str] = {}
    amount: Decimal | None = None
    marks: tuple[int, ...] | None = None
    try:
        amount = parse_amount(_typed(view, AMOUNT_BLOCK, AMOUNT_INPUT))
    except BudgetSyntaxError:
        errors[AMOUNT_BLOCK] = AMOUNT_ERROR
    typed_marks = _typed(view, THRESHOLDS_BLOCK, THRESHOLDS_INPUT)
    if typed_marks:
        try:
            marks = parse_thresholds(typed_marks)
        except BudgetSyntaxError:
            errors[THRESHOLDS_BLOCK] = THRESHOLDS_ERROR
    if errors or amount is None:
        return errors or {AMOUNT_BLOCK: AMOUNT_ERROR}
    return BudgetFormInput(amount, marks)


def workspace_of(scope_key: str) -> str | None:
    """The workspace id of a budget's scope key (None: the org's); a key of neither form is a stale form."""
    if scope_key == ORG_SCOPE:
        return None
    workspace_id = scope_key.removeprefix("workspace:")
    if workspace_id == scope_key or not workspace_id:
        raise UserError(
            "That form is no longer valid; use `/claude-key budget set &lt;usd&gt; [workspace &lt;name&gt;]`."
        )
    return workspace_id


def change_saved(saved: Reply, marks: ThresholdsSaved | None) -> Reply:
    """The answer to the form: `budget set`'s, and the new thresholds when they changed."""
    if marks is None:
        return saved
    line = f"Alert thresholds are now {', '.join(f'{m}%' for m in marks.thresholds)}; they apply to every budget."
    return Reply(f"{saved.text} {line}", [*(saved.blocks or []), SectionBlock(text=line)])
