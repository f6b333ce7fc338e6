"""views.open, views.push, views.update and views.publish: modals, their stacks, Home tabs, trigger ids."""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Iterable

from bot.sandbox.slack.args import opt_str
from bot.sandbox.slack.blockkit import MAX_VIEW_BLOCKS, view_problems
from bot.sandbox.slack.errors import SlackError, invalid_arguments
from bot.sandbox.slack.records import EPOCH, Json, Trigger
from bot.sandbox.slack.state import SlackState

_MAX_VIEW_BYTES = 250_000
_MAX_PUSHED_VIEWS = 3


def view_arg(args: Json, allowed_types: Iterable[str]) -> Json:
    """The ``view`` argument, checked against Slack's limits (type, Block Kit, size)."""
    view = args.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError as exc:
            raise invalid_arguments("view must be a JSON object") from exc
    if not isinstance(view, dict):
        raise invalid_arguments("view must be a JSON object")
    allowed = tuple(allowed_types)
    if view.get("type") not in allowed:
        raise invalid_arguments(f"view.type must be one of {', '.join(allowed)} [json-pointer:/view/type]")
    blocks = view.get("blocks", [])
    if not isinstance(blocks, list):
        raise invalid_arguments("view.blocks must be an array [json-pointer:/view/blocks]")
    if len(blocks) > MAX_VIEW_BLOCKS:
        raise invalid_arguments(f"no more than {MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]")
    problems = view_problems(view)
    if problems:
        raise SlackError("invalid_arguments", response_metadata={"messages": problems})
    if len(json.dumps(view)) > _MAX_VIEW_BYTES:
        raise SlackError("view_too_large")
    return view


def exchange_trigger(s: SlackState, trigger_id: str) -> Trigger:
    """Use a trigger id once (invalid, exchanged or expired otherwise)."""
    trigger = s._triggers.get(trigger_id)
    if trigger is None:
        raise SlackError("invalid_trigger_id")
    if trigger.used:
        raise SlackError("exchanged_trigger_id")
    if s.clock() - trigger.minted_at > s.trigger_ttl:
        raise SlackError("expired_trigger_id")
    trigger.used = True
    return trigger


def store_view(
    s: SlackState,
    view: Json,
    *,
    view_id: str | None = None,
    root_view_id: str | None = None,
    previous_view_id: str | None = None,
) -> Json:
    """Store a new view or a new version of ``view_id`` (external ids stay unique)."""
    old = s._views.get(view_id) if view_id else None
    external_id = view.get("external_id") or (old or {}).get("external_id") or ""
    view_id = view_id or s._next_id("V")
    owner = s._view_by_external_id.get(external_id) if external_id else None
    if owner is not None and owner != view_id:
        raise SlackError("duplicate_external_id")
    n = next(s._serial)
    stored: Json = {
        "id": view_id,
        "team_id": s.team_id,
        "type": view["type"],
        "title": copy.deepcopy(view.get("title")),
        "submit": copy.deepcopy(view.get("submit")),
        "close": copy.deepcopy(view.get("close")),
        "blocks": copy.deepcopy(view.get("blocks", [])),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "external_id": external_id,
        "state": {"values": {}},
        "hash": f"{EPOCH + n}.{secrets.token_hex(4)}",
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "root_view_id": root_view_id or view_id,
        "previous_view_id": previous_view_id,
        "app_id": s.app_id,
        "app_installed_team_id": s.team_id,
        "bot_id": s.bot_id,
    }
    s._views[view_id] = stored
    if external_id:
        s._view_by_external_id[external_id] = view_id
    return copy.deepcopy(stored)


# Each handler runs with the stand-in's lock held, after auth, scope and required-argument checks (api.py).


def views_open(s: SlackState, args: Json) -> Json:
    """views.open: a modal, the root of a new stack."""
    trigger_id = opt_str(args.get("trigger_id")) or opt_str(args.get("interactivity_pointer"))
    if trigger_id is None:
        raise invalid_arguments("missing required field: trigger_id")
    view = view_arg(args, ("modal",))
    exchange_trigger(s, trigger_id)
    stored = store_view(s, view)
    s._view_stacks[stored["id"]] = [stored["id"]]
    s._last_root_view = stored["id"]
    return {"view": stored}


def views_push(s: SlackState, args: Json) -> Json:
    """views.push onto the modal the interaction came from (at most three views)."""
    view = view_arg(args, ("modal",))
    trigger = exchange_trigger(s, str(args["trigger_id"]))
    source = s._views.get(trigger.view_id) if trigger.view_id else None
    root = source["root_view_id"] if source else s._last_root_view
    stack = s._view_stacks.get(root) if root else None
    if stack is None:
        raise SlackError("not_found")
    if len(stack) >= _MAX_PUSHED_VIEWS:
        raise SlackError("push_limit_reached")
    stored = store_view(s, view, root_view_id=root, previous_view_id=stack[-1])
    stack.append(stored["id"])
    return {"view": stored}


def views_update(s: SlackState, args: Json) -> Json:
    """views.update by view id or external id (checking the hash when given)."""
    view_id = opt_str(args.get("view_id"))
    external_id = opt_str(args.get("external_id"))
    if view_id is None and external_id is None:
        raise invalid_arguments("either view_id or external_id is required")
    if view_id is None:
        view_id = s._view_by_external_id.get(str(external_id))
    existing = s._views.get(view_id) if view_id else None
    if existing is None or view_id is None:
        raise SlackError("not_found")
    view = view_arg(args, (existing["type"],))
    given_hash = opt_str(args.get("hash"))
    if given_hash is not None and given_hash != existing["hash"]:
        raise SlackError("hash_conflict")
    stored = store_view(
        s,
        view,
        view_id=view_id,
        root_view_id=existing["root_view_id"],
        previous_view_id=existing["previous_view_id"],
    )
    return {"view": stored}


def views_publish(s: SlackState, args: Json) -> Json:
    """views.publish: a user's Home tab."""
    if not s.home_tab_enabled:
        raise SlackError("not_enabled")
    user_id = str(args["user_id"])
    view = view_arg(args, ("home",))
    existing_id = s._home_views.get(user_id)
    given_hash = opt_str(args.get("hash"))
    if given_hash is not None and existing_id and given_hash != s._views[existing_id]["hash"]:
        raise SlackError("hash_conflict")
    stored = store_view(s, view, view_id=existing_id)
    s._home_views[user_id] = stored["id"]
    return {"view": stored}
