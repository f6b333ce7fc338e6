"""chat.postMessage, chat.update, chat.postEphemeral and reactions.add."""

from __future__ import annotations

from bot.sandbox.slack.args import opt_str, truthy
from bot.sandbox.slack.blockkit import message_problems
from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.records import Json, StoredEphemeral, StoredMessage
from bot.sandbox.slack.render import message_json
from bot.sandbox.slack.state import SlackState

#: Slack cuts a message's top-level text here rather than refusing it.
MAX_TEXT = 40_000

# Each handler runs with the stand-in's lock held, after auth, scope and required-argument checks (api.py).


def invalid_blocks(problems: list[str]) -> SlackError:
    """Slack's answer to blocks it refuses: every problem, with its json-pointer."""
    return SlackError(
        "invalid_blocks",
        errors=[p.removeprefix("[ERROR] ") for p in problems],
        response_metadata={"messages": problems},
    )


def message_content(args: Json) -> Json:
    """text/blocks/attachments of a message call, Block Kit checked; no_text when none is given."""
    content: Json = {}
    if opt_str(args.get("text")) is not None:
        content["text"] = str(args["text"])[:MAX_TEXT]
    elif opt_str(args.get("markdown_text")) is not None:
        content["text"] = str(args["markdown_text"])[:MAX_TEXT]
    for key, error in (("blocks", "invalid_blocks_format"), ("attachments", "invalid_attachments")):
        value = args.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, list):
            raise SlackError(error)
        content[key] = value
    problems = message_problems(content["blocks"]) if "blocks" in content else []
    if problems:
        raise invalid_blocks(problems)
    if not (content.get("text") or content.get("blocks") or content.get("attachments")):
        raise SlackError("no_text")
    return content


def chat_post_message(s: SlackState, args: Json) -> Json:
    """chat.postMessage (a user id as channel opens the bot's DM with them)."""
    channel = s._postable_channel(str(args["channel"]))
    content = message_content(args)
    message = StoredMessage(
        channel=channel.id,
        ts=s._next_ts(),
        user=s.bot_user_id,
        bot_id=s.bot_id,
        thread_ts=opt_str(args.get("thread_ts")),
        reply_broadcast=truthy(args.get("reply_broadcast")),
        metadata=args.get("metadata"),
        **content,
    )
    s._messages.append(message)
    return {"channel": channel.id, "ts": message.ts, "message": message_json(s, message)}


def chat_update(s: SlackState, args: Json) -> Json:
    """chat.update: the bot's own messages only; keeps blocks/attachments the update leaves out."""
    channel = s._find_channel(str(args["channel"]))
    ts = str(args["ts"])
    if any(e.channel == channel.id and e.message_ts == ts for e in s._ephemerals):
        raise SlackError("cant_update_message")
    message = s._find_message(channel.id, ts)
    if message is None:
        raise SlackError("message_not_found")
    if message.user != s.bot_user_id:
        raise SlackError("cant_update_message")
    content = message_content(args)
    message.edits.append({"text": message.text, "blocks": message.blocks, "attachments": message.attachments})
    # Slack keeps blocks/attachments that the update leaves out; an empty list removes them.
    message.text = content.get("text", message.text)
    for key in ("blocks", "attachments"):
        if key in args and args[key] is not None:
            setattr(message, key, content.get(key) or None)
    return {
        "channel": channel.id,
        "ts": ts,
        "text": message.text or "",
        "message": message_json(s, message),
    }


def chat_post_ephemeral(s: SlackState, args: Json) -> Json:
    """chat.postEphemeral to a member of the channel."""
    channel = s._postable_channel(str(args["channel"]))
    user = str(args["user"])
    if user not in s._members(channel):
        raise SlackError("user_not_in_channel")
    content = message_content(args)
    ephemeral = StoredEphemeral(
        channel=channel.id,
        user=user,
        message_ts=s._next_ts(),
        thread_ts=opt_str(args.get("thread_ts")),
        **content,
    )
    s._ephemerals.append(ephemeral)
    return {"message_ts": ephemeral.message_ts}


def reactions_add(s: SlackState, args: Json) -> Json:
    """reactions.add as the bot."""
    name = str(args["name"])
    if ":" in name or not name.strip() or " " in name:
        raise SlackError("invalid_name")
    channel = s._find_channel(str(args["channel"]))
    message = s._find_message(channel.id, str(args["timestamp"]))
    if message is None:
        raise SlackError("message_not_found")
    users = message.reactions.setdefault(name, [])
    if s.bot_user_id in users:
        raise SlackError("already_reacted")
    users.append(s.bot_user_id)
    return {}
