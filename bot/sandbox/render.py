"""Block Kit and mrkdwn as a person sees them in Slack, as plain text (the demo's printout and the README sample).

- mrkdwn: bold/italic/strike/code markers removed, links as ``text (url)`` (or the url alone), ``&amp;``/``&lt;``/
  ``&gt;`` decoded, emoji names kept (``:gear:``), mentions as ``@Name`` (from a :class:`Names` directory),
  channel mentions as ``#name``, user groups and ``@here`` as Slack shows them, date tokens
  (``<!date^…|fallback>``) as their fallback, block quotes as ``▎ …``;
- blocks: headers, sections (text, fields two to a row, the accessory at the end of the first line), context
  lines, dividers, images, inputs and rich text laid out line by line; buttons as ``[Label]``, select menus as
  ``[Label ▾]``, overflow menus as ``[⋯ ▾ Option · Option]``.

Whatever it is given (any JSON, any string), it returns lines and never raises: a message the bot sends is
printed even when it is malformed, and Slack's stand-in is where malformed blocks fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

ZWJ = "\u200d"
DIVIDER = "────────"
_MAX_PASSES = 8  # nested markers: *_bold italic_* takes two passes
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
_ANGLE = re.compile(r"<([^<>\n]*)>")
_FENCE = re.compile(r"```(.*?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_MARKERS = [
    re.compile(rf"(?<![\w{m}]){m}(?![\s{m}])([^{m}\n]*?[^\s{m}]){m}(?![\w{m}])")
    for m in (re.escape("*"), "_", re.escape("~"))
]
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")


class Names(Protocol):
    """Who and what the ids in a message are (the Slack stand-in answers these)."""

    def user_display_name(self, user_id: str) -> str | None: ...

    def channel_name(self, channel_id: str) -> str | None: ...


class NoNames:
    """A directory that knows nobody: mentions show their labels, or their ids."""

    def user_display_name(self, user_id: str) -> str | None:
        return None

    def channel_name(self, channel_id: str) -> str | None:
        return None


def decode_entities(text: str) -> str:
    """Slack's three entities, ampersand last (so ``&amp;lt;`` reads ``&lt;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _lookup(lookup: Callable[[str], str | None], key: str) -> str | None:
    try:
        found = lookup(key)
    except Exception:
        return None
    return found if isinstance(found, str) and found else None


def _date_fallback(spec: str) -> str:
    """``date^<ts>^<format>[^<link>]``'s text when there is no ``|fallback``: the time in UTC."""
    parts = spec.split("^")
    try:
        return datetime.fromtimestamp(int(parts[1]), UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (IndexError, ValueError, OverflowError, OSError):
        return "(a date)"


def _angle(inner: str, names: Names) -> str:
    """One ``<…>`` token as Slack shows it."""
    target, _, label = inner.partition("|")
    label = decode_entities(label)
    if target.startswith("@"):
        user_id = target[1:]
        name = _lookup(names.user_display_name, user_id) if _USER_ID.match(user_id) else None
        return "@" + (name or label.lstrip("@") or user_id or "unknown")
    if target.startswith("#"):
        channel_id = target[1:]
        name = _lookup(names.channel_name, channel_id) if channel_id else None
        return "#" + (name or label.lstrip("#") or channel_id or "unknown-channel")
    if target.startswith("!"):
        command = target[1:]
        if command in ("here", "channel", "everyone"):
            return "@" + command
        if command.startswith("subteam^"):
            return "@" + (label.lstrip("@") or command.removeprefix("subteam^") or "group")
        if command.startswith("date^"):
            return label or _date_fallback(command)
        return label
    url = decode_entities(target)
    if url.startswith(("mailto:", "tel:")):
        return _format(label) or url.partition(":")[2]
    if not label or label == url:
        return url
    return f"{_format(label)} ({url})"


def _format(text: str) -> str:
    """Remove bold, italic and strike markers (nested ones too)."""
    for _ in range(_MAX_PASSES):
        before = text
        for marker in _MARKERS:
            text = marker.sub(r"\1", text)
        if text == before:
            break
    return text


def mrkdwn(text: Any, names: Names | None = None) -> str:
    """A mrkdwn string as the reader sees it."""
    if not isinstance(text, str):
        return ""
    names = names or NoNames()
    kept: list[str] = []

    def keep(value: str) -> str:
        kept.append(value)
        return f"\ue000{len(kept) - 1}\ue001"

    # Placeholders: private-use characters a message never carries (stripped first, to be sure).
    text = text.replace("\ue000", "").replace("\ue001", "").replace(ZWJ, "")

    # Code is shown as typed (no bold inside it), without its backticks.
    def code(span: str) -> str:
        return keep(decode_entities(_ANGLE.sub(lambda a: _angle(a[1], names), span)))

    text = _FENCE.sub(lambda m: code(m[1].strip("\n")), text)
    text = _INLINE_CODE.sub(lambda m: code(m[1]), text)
    text = _ANGLE.sub(lambda m: keep(_angle(m[1], names)), text)
    text = decode_entities(_format(text))
    lines = [("▎ " + line[1:].lstrip()) if line.startswith(">") else line for line in text.split("\n")]
    text = "\n".join(lines)
    for _ in range(_MAX_PASSES):  # a kept piece may hold another's placeholder (code inside nothing else)
        if not _PLACEHOLDER.search(text):
            break
        text = _PLACEHOLDER.sub(lambda m: kept[int(m[1])] if int(m[1]) < len(kept) else "", text)
    return _PLACEHOLDER.sub("", text)


def text_object(obj: Any, names: Names | None = None) -> str:
    """A text object (``plain_text`` shown as is, ``mrkdwn`` rendered), or a bare string as mrkdwn."""
    if isinstance(obj, str):
        return mrkdwn(obj, names)
    if not isinstance(obj, dict):
        return ""
    text = obj.get("text")
    if not isinstance(text, str):
        return ""
    if obj.get("type") == "plain_text":
        return text.replace(ZWJ, "")
    return mrkdwn(text, names)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _options(element: dict[str, Any], names: Names) -> list[str]:
    options = element.get("options")
    labels: list[str] = []
    for option in options if isinstance(options, list) else []:
        if isinstance(option, dict):
            labels.append(_one_line(text_object(option.get("text"), names)))
    groups = element.get("option_groups")
    for group in groups if isinstance(groups, list) else []:
        if isinstance(group, dict):
            labels.extend(_options(group, names))
    return labels


def element(obj: Any, names: Names | None = None) -> str:
    """An interactive element (or an image) as one line: ``[Label]``, ``[Label ▾]``, ``[⋯ ▾ A · B]``."""
    names = names or NoNames()
    if not isinstance(obj, dict):
        return ""
    kind = obj.get("type")
    label = _one_line(text_object(obj.get("text"), names))
    if kind in ("button", "workflow_button"):
        return f"[{label or 'Button'}]"
    if kind == "overflow":
        shown = " · ".join(o for o in _options(obj, names) if o)
        return f"[⋯ ▾ {shown}]" if shown else "[⋯ ▾]"
    if kind == "image":
        alt = obj.get("alt_text")
        return f"[image: {alt}]" if isinstance(alt, str) and alt else "[image]"
    if kind in ("checkboxes", "radio_buttons"):
        return " ".join(f"( ) {o}" if kind == "radio_buttons" else f"[ ] {o}" for o in _options(obj, names))
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_text_input", "rich_text_input"):
        value = obj.get("initial_value")
        typed = value if isinstance(value, str) and value else _one_line(text_object(obj.get("placeholder"), names))
        return f"[{typed or '…'}]"
    if isinstance(kind, str) and (kind.endswith("_select") or kind in ("datepicker", "timepicker", "datetimepicker")):
        initial = obj.get("initial_option")
        shown = _one_line(text_object(initial.get("text"), names)) if isinstance(initial, dict) else ""
        for key in ("initial_date", "initial_time", "initial_user", "initial_channel", "initial_conversation"):
            value = obj.get(key)
            if not shown and isinstance(value, str | int) and value != "":
                shown = str(value)
        shown = shown or _one_line(text_object(obj.get("placeholder"), names)) or "Choose"
        return f"[{shown} ▾]"
    return f"[{label}]" if label else ""


def _rich_text(obj: Any, names: Names) -> str:
    """A rich_text block's words (sections, lists, quotes, preformatted) as plain text."""
    if isinstance(obj, list):
        return "".join(_rich_text(item, names) for item in obj)
    if not isinstance(obj, dict):
        return ""
    kind = obj.get("type")
    if kind == "text":
        return str(obj.get("text") or "")
    if kind == "link":
        url, text = str(obj.get("url") or ""), str(obj.get("text") or "")
        return f"{text} ({url})" if text and text != url else url
    if kind == "user":
        return "@" + (_lookup(names.user_display_name, str(obj.get("user_id") or "")) or str(obj.get("user_id") or ""))
    if kind == "channel":
        channel = str(obj.get("channel_id") or "")
        return "#" + (_lookup(names.channel_name, channel) or channel)
    if kind == "emoji":
        return f":{obj.get('name') or ''}:"
    if kind == "broadcast":
        return "@" + str(obj.get("range") or "here")
    if kind == "date":
        return str(obj.get("fallback") or _date_fallback(f"date^{obj.get('timestamp')}"))
    inner = _rich_text(obj.get("elements"), names)
    if kind == "rich_text_list":
        items = obj.get("elements")
        return "".join(f"• {_rich_text(item, names)}\n" for item in (items if isinstance(items, list) else []))
    if kind == "rich_text_quote":
        return "\n".join("▎ " + line for line in inner.split("\n")) + "\n"
    if kind in ("rich_text_section", "rich_text_preformatted"):
        return inner + ("\n" if kind == "rich_text_preformatted" else "")
    return inner


def _fields(fields: list[Any], names: Names) -> list[str]:
    """Section fields, two to a row as Slack lays them out (a multi-line field takes its own rows)."""
    rendered = [text_object(f, names) for f in fields]
    lines: list[str] = []
    for n in range(0, len(rendered), 2):
        pair = [r for r in rendered[n : n + 2] if r]
        if len(pair) == 2 and "\n" not in pair[0] + pair[1]:
            lines.append(f"{pair[0]:<30}  {pair[1]}".rstrip())
        else:
            for field in pair:
                lines.extend(field.split("\n"))
    return lines


def block(obj: Any, names: Names | None = None) -> list[str]:
    """One block's lines."""
    names = names or NoNames()
    if not isinstance(obj, dict):
        return []
    kind = obj.get("type")
    if kind == "header":
        title = _one_line(text_object(obj.get("text"), names))
        return [title] if title else []
    if kind == "section":
        lines = text_object(obj.get("text"), names).split("\n") if obj.get("text") else []
        fields = obj.get("fields")
        lines.extend(_fields(fields if isinstance(fields, list) else [], names))
        accessory = element(obj.get("accessory"), names)
        if accessory:
            if lines and lines[0]:
                lines[0] = f"{lines[0]}   {accessory}"
            else:
                lines = [accessory, *lines]
        return lines
    if kind == "context":
        elements = obj.get("elements")
        shown = [
            _one_line(text_object(e, names))
            for e in (elements if isinstance(elements, list) else [])
            if isinstance(e, dict) and e.get("type") in ("mrkdwn", "plain_text")
        ]
        line = "  ".join(s for s in shown if s)
        return [line] if line else []
    if kind == "actions":
        elements = obj.get("elements")
        line = "  ".join(s for s in (element(e, names) for e in (elements if isinstance(elements, list) else [])) if s)
        return [line] if line else []
    if kind == "divider":
        return [DIVIDER]
    if kind == "image":
        title = _one_line(text_object(obj.get("title"), names))
        return [element({**obj, "type": "image"}, names) + (f" {title}" if title else "")]
    if kind == "input":
        label = _one_line(text_object(obj.get("label"), names))
        hint = _one_line(text_object(obj.get("hint"), names))
        lines = [f"{label}: {element(obj.get('element'), names)}".strip()]
        return [*lines, hint] if hint else lines
    if kind == "rich_text":
        return _rich_text(obj.get("elements"), names).rstrip("\n").split("\n")
    if kind == "video":
        return [f"[video: {_one_line(text_object(obj.get('title'), names))}]"]
    if kind == "file":
        return ["[file]"]
    return []


def blocks(value: Any, names: Names | None = None) -> list[str]:
    """A list of blocks, line by line."""
    names = names or NoNames()
    lines: list[str] = []
    for item in value if isinstance(value, list) else []:
        lines.extend(block(item, names))
    return lines


def message(body: Any, names: Names | None = None) -> list[str]:
    """A message (``text``, ``blocks``, ``attachments``) as Slack shows it: the blocks when there are any (the
    text is then only the notification's fallback), else the text; then each attachment."""
    names = names or NoNames()
    if not isinstance(body, dict):
        return []
    lines = blocks(body.get("blocks"), names) if body.get("blocks") else []
    if not lines:
        lines = mrkdwn(body.get("text"), names).split("\n") if isinstance(body.get("text"), str) else []
    attachments = body.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if isinstance(attachment, dict):
            inner = blocks(attachment.get("blocks"), names) or mrkdwn(
                attachment.get("text") or attachment.get("fallback"), names
            ).split("\n")
            lines.extend("┃ " + line for line in inner if line)
    return lines
