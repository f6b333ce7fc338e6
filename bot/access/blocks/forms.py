"""The request modal (workspace, role, duration, reason) and the deny modal (a reason)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.access.model import REASON_LIMIT, WORKSPACE_ROLES, DenyMeta, RequestFormMeta
from bot.slack.ids import Callback
from bot.slack.text import clip, escape

DURATIONS: dict[str, str] = {"0": "Permanent", "1": "1 day", "7": "7 days", "30": "30 days"}
FORM_NOT_OPENED = (
    "I couldn't open the form; try again, or use `/claude-key request &lt;workspace&gt; [for 7d] &lt;reason&gt;`."
)
DENY_FORM_NOT_OPENED = "I couldn't open the deny form; please click Deny again."
# Slack shows at most 100 options in a static select: beyond that the picker loads matches as people type.
STATIC_OPTIONS_MAX = 100
WORKSPACE_BLOCK = "workspace"


def workspace_options(workspaces: list[tuple[str, str]], query: str) -> list[Option]:
    """Up to 100 workspaces whose name contains `query` (any case), for the typeahead picker."""
    needle = query.strip().casefold()
    matches = [(wid, name) for wid, name in workspaces if needle in name.casefold()]
    return [Option(text=clip(name, 75), value=wid) for wid, name in matches[:STATIC_OPTIONS_MAX]]


def _workspace_picker(workspaces: list[tuple[str, str]]) -> StaticSelectElement | ExternalDataSelectElement:
    if len(workspaces) > STATIC_OPTIONS_MAX:
        return ExternalDataSelectElement(
            action_id="value", placeholder="Type part of a workspace name", min_query_length=0
        )
    options = [Option(text=clip(name, 75), value=wid) for wid, name in workspaces]
    return StaticSelectElement(action_id="value", placeholder="Choose a workspace", options=options)


def build_request_modal(
    workspaces: list[tuple[str, str]] | None, *, meta: RequestFormMeta, error: str | None = None
) -> View:
    """The request form; `workspaces` None while the live list loads."""
    blocks: list[Block] = []
    if error:
        blocks.append(SectionBlock(text=f":warning: {escape(error)}"))
    elif workspaces is None:
        blocks.append(SectionBlock(text=":hourglass_flowing_sand: Loading the organization's workspaces…"))
    elif not workspaces:
        blocks.append(SectionBlock(text="The organization has no workspaces yet; ask an admin to create one."))
    else:
        blocks.append(InputBlock(block_id=WORKSPACE_BLOCK, label="Workspace", element=_workspace_picker(workspaces)))
        blocks.append(
            InputBlock(
                block_id="role",
                label="Role in the workspace",
                element=StaticSelectElement(
                    action_id="value",
                    options=[Option(text=label, value=role) for role, label in WORKSPACE_ROLES.items()],
                    initial_option=Option(text=WORKSPACE_ROLES["workspace_developer"], value="workspace_developer"),
                ),
            )
        )
        blocks.append(
            InputBlock(
                block_id="duration",
                label="For how long",
                element=StaticSelectElement(
                    action_id="value",
                    options=[Option(text=label, value=days) for days, label in DURATIONS.items()],
                    initial_option=Option(text=DURATIONS["0"], value="0"),
                ),
            )
        )
        blocks.append(
            InputBlock(
                block_id="reason",
                label="Why do you need it?",
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=REASON_LIMIT),
            )
        )
    ready = bool(workspaces) and not error
    return View(
        type="modal",
        callback_id=Callback.REQUEST_MODAL,
        title="Request Claude access",
        submit="Send request" if ready else None,
        close="Cancel",
        private_metadata=meta.model_dump_json(),
        blocks=blocks,
    )


def build_deny_modal(request_id: int, *, home: bool = False) -> View:
    """Ask the admin for a reason before denying (`home`: Deny was clicked on the App Home tab)."""
    return View(
        type="modal",
        callback_id=Callback.DENY_MODAL,
        title=f"Deny request #{request_id}"[:24],
        submit="Deny",
        close="Cancel",
        private_metadata=DenyMeta(r=request_id, home=home).model_dump_json(exclude_defaults=True),
        blocks=[
            InputBlock(
                block_id="reason",
                label="Reason (the requester sees it)",
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=REASON_LIMIT),
            )
        ],
    )
