"""Team management: `/claude-key role|offboard|members`, and their buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Worker
from bot.slack.commands import COMMAND, USAGE, Parsed, Sub
from bot.slack.ids import Action
from bot.slack.text import escape
from bot.team import blocks as team_blocks
from bot.team.members_model import InviteRef, MembersPageRef, parse_members
from bot.team.model import REASON_LIMIT, OffboardRef, RoleRef
from handlers.common import answer_later
from handlers.middleware import button
from handlers.router import Router
from handlers.tasks import JSON, Task


def _usage(sub: Sub) -> str:
    return f"Usage: `{COMMAND} {escape(USAGE[sub][0])}`"


def register(app: AsyncApp, worker: Worker, router: Router) -> None:
    """Register the team commands and buttons."""

    async def on_role(ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any) -> None:
        if len(parsed.args) != 2:
            await ack(text=_usage(Sub.ROLE), response_type="ephemeral")
            return
        target, role = parsed.args
        args = {"slack_user_id": command["user_id"], "target": target, "role": role, "usage": _usage(Sub.ROLE)}
        await answer_later(worker, respond, ack=ack, task=Task("team.role.propose", args))

    async def on_offboard(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any
    ) -> None:
        if not parsed.args:
            await ack(text=_usage(Sub.OFFBOARD), response_type="ephemeral")
            return
        reason = " ".join(parsed.args[1:])[:REASON_LIMIT]
        args = {"slack_user_id": command["user_id"], "target": parsed.args[0], "reason": reason}
        await answer_later(
            worker, respond, ack=ack, task=Task("team.offboard.propose", {**args, "usage": _usage(Sub.OFFBOARD)})
        )

    router.add(Sub.ROLE, on_role)
    router.add(Sub.OFFBOARD, on_offboard)

    @app.action(Action.ROLE_CONFIRM, middleware=[button(RoleRef, acks=False)])
    async def on_role_confirm(ack: AsyncAck, ref: RoleRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("team.role.change", {"slack_user_id": clicker, "email": ref.e, "old": ref.o, "new": ref.n})
        await answer_later(worker, respond, ack=ack, working=None, task=task)

    @app.action(Action.OFFBOARD_CONFIRM, middleware=[button(OffboardRef, acks=False)])
    async def on_offboard_confirm(ack: AsyncAck, ref: OffboardRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("team.offboard.run", {"slack_user_id": clicker, "email": ref.e, "reason": ref.r})
        await answer_later(worker, respond, ack=ack, working=None, task=task)

    @app.action(Action.ROLE_CANCEL)
    async def on_role_cancel(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text=team_blocks.ROLE_CANCELLED, response_type="ephemeral", replace_original=True)

    @app.action(Action.OFFBOARD_CANCEL)
    async def on_offboard_cancel(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text=team_blocks.OFFBOARD_CANCELLED, response_type="ephemeral", replace_original=True)

    # -- members and invites (`/claude-key members`) ---------------------------------------------------------

    async def on_members(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any
    ) -> None:
        wanted = parse_members(parsed.args)
        if wanted is None:
            await ack(text=_usage(Sub.MEMBERS), response_type="ephemeral")
            return
        which, workspace = wanted
        args = {"slack_user_id": command["user_id"], "which": which, "workspace": workspace}
        await answer_later(worker, respond, ack=ack, task=Task("team.members.list", args))

    router.add(Sub.MEMBERS, on_members)

    async def on_members_page(ref: MembersPageRef, clicker: str, respond: AsyncRespond) -> None:
        args: dict[str, JSON] = {"slack_user_id": clicker, "which": ref.f, "workspace": ref.w, "page": ref.p}
        await answer_later(worker, respond, Task("team.members.list", args))

    app.action(Action.MEMBERS_PREV, middleware=[button(MembersPageRef)])(on_members_page)
    app.action(Action.MEMBERS_NEXT, middleware=[button(MembersPageRef)])(on_members_page)

    @app.action(Action.INVITE_WITHDRAW, middleware=[button(InviteRef, acks=False)])
    async def on_invite_withdraw(ack: AsyncAck, ref: InviteRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("team.invite.withdraw", {"slack_user_id": clicker, "invite_id": ref.i, "email": ref.e})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    @app.action(Action.INVITE_REINVITE, middleware=[button(InviteRef, acks=False)])
    async def on_invite_reinvite(ack: AsyncAck, ref: InviteRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("team.invite.reinvite", {"slack_user_id": clicker, "invite_id": ref.i, "email": ref.e})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)
