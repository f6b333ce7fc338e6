"""Tasks of API keys: listing, revoke, rotation, check, stale-key deactivation."""

from __future__ import annotations

import logging
from typing import Any

from bot.deps import Deps
from bot.keys import check, listing, revoke, rotation, snooze, stale
from bot.keys.blocks import check as check_blocks
from bot.keys.blocks import listing as listing_blocks
from bot.keys.blocks import reminders as reminder_blocks
from bot.keys.blocks import rotation as rotation_blocks
from bot.keys.blocks import stale as stale_blocks
from bot.keys.model import KeyScope
from bot.slack.reply import Reply

# rate limits
from handlers.tasks.base import task

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------------------
# Keys
# ----------------------------------------------------------------------------------------------------------


@task("keys.list")
def keys_list(deps: Deps, *, slack_user_id: str, scope: KeyScope, target: str | None = None, page: int = 0) -> Reply:
    keys = listing.list_keys(deps, slack_user_id=slack_user_id, scope=scope, target_slack_id=target, page=page)
    return listing_blocks.key_list_reply(keys)


@task("keys.revoke.start")
def keys_revoke_start(deps: Deps, *, slack_user_id: str, key_id: str, reason: str) -> Reply:
    started = revoke.start_revoke(deps, slack_user_id=slack_user_id, key_id=key_id, reason=reason)
    return listing_blocks.revoke_confirm_reply(started)


@task("keys.revoke.confirm")
def keys_revoke_confirm(deps: Deps, *, slack_user_id: str, key_id: str, reason: str) -> Reply:
    return listing_blocks.revoked_reply(revoke.revoke(deps, slack_user_id=slack_user_id, key_id=key_id, reason=reason))


@task("keys.rotate")
def keys_rotate(deps: Deps, *, slack_user_id: str, key_id: str) -> Reply:
    return rotation_blocks.rotation_started_reply(rotation.rotate(deps, slack_user_id=slack_user_id, key_id=key_id))


@task("keys.rotation.deactivate_old")
def keys_rotation_deactivate_old(deps: Deps, *, slack_user_id: str, rotation_id: int) -> Reply:
    done = rotation.deactivate_old_key(deps, slack_user_id=slack_user_id, rotation_id=rotation_id)
    return rotation_blocks.rotation_done_reply(done)


@task("keys.check")
def keys_check(deps: Deps, *, slack_user_id: str, query: str) -> Reply:
    return check_blocks.check_reply(check.check(deps, slack_user_id=slack_user_id, query=query))


@task("keys.stale.deactivate")
def keys_stale_deactivate(
    deps: Deps,
    *,
    slack_user_id: str,
    key_id: str,
    channel: str | None,
    ts: str | None,
    blocks: list[dict[str, Any]],
) -> Reply:
    done = stale.deactivate_from_report(
        deps, slack_user_id=slack_user_id, key_id=key_id, channel=channel, ts=ts, blocks=blocks
    )
    return stale_blocks.stale_deactivated_reply(done)


# ----------------------------------------------------------------------------------------------------------
# A button at every next step
# ----------------------------------------------------------------------------------------------------------


@task("keys.reminder.snooze")
def keys_reminder_snooze(deps: Deps, *, slack_user_id: str, key_id: str) -> Reply:
    snoozed = snooze.snooze(deps, slack_user_id=slack_user_id, key_id=key_id)
    return reminder_blocks.snoozed_reply(snoozed, tz=deps.settings.tz)


@task("keys.stale.still_in_use")
def keys_stale_still_in_use(deps: Deps, *, slack_user_id: str, key_id: str, week: str) -> Reply:
    done = stale.still_in_use(deps, slack_user_id=slack_user_id, key_id=key_id, week=week)
    return stale_blocks.still_in_use_reply(done)
