"""Block Kit as Slack checks it: the limits of blocks, elements and composition objects, in Slack's words.

Limits are those of Slack's public Block Kit pages (docs.slack.dev, block-kit section, checked 2026-12-01).
Each problem is one string in Slack's form,
``"[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"``; an empty list means Slack
would take the payload. Slack reports every problem it finds, and so does this.
"""

from __future__ import annotations

from typing import Any

Problems = list[str]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_OBJECT = 3000
MAX_ID = 255
MAX_MARKDOWN_BLOCK = 12_000

BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
SELECTS = frozenset(
    {
        "static_select",
        "multi_static_select",
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
    }
)
INPUTS = frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "checkboxes",
        "radio_buttons",
        "rich_text_input",
        "file_input",
    }
)
ELEMENT_TYPES = SELECTS | INPUTS | {"button", "overflow", "image", "workflow_button"}


class _Checker:
    def __init__(self) -> None:
        self.problems: Problems = []

    def add(self, message: str, pointer: str) -> None:
        self.problems.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def string(self, value: Any, pointer: str, limit: int, *, required: bool = False, minimum: int = 0) -> None:
        if value is None:
            if required:
                self.add("missing required field", pointer)
            return
        if not isinstance(value, str):
            self.add("must be a string", pointer)
        elif len(value) > limit:
            self.add(f"must be less than {limit + 1} characters", pointer)
        elif len(value) < minimum:
            self.add(f"must be at least {minimum} characters", pointer)

    def items(self, value: Any, pointer: str, limit: int, *, minimum: int = 0) -> list[Any]:
        if not isinstance(value, list):
            self.add("must be an array", pointer)
            return []
        if len(value) > limit:
            self.add(f"must be no more than {limit} items", pointer)
        elif len(value) < minimum:
            self.add(f"must provide at least {minimum} items", pointer)
        return value

    def text(self, obj: Any, pointer: str, limit: int = MAX_TEXT_OBJECT, *, plain: bool = False) -> None:
        """A text object; ``plain``: only ``plain_text`` is allowed here."""
        if obj is None:
            self.add("missing required field", pointer)
            return
        if not isinstance(obj, dict):
            self.add("must be an object", pointer)
            return
        kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if obj.get("type") not in kinds:
            self.add(f"must be one of: {', '.join(kinds)}", pointer + "/type")
        self.string(obj.get("text"), pointer + "/text", min(limit, MAX_TEXT_OBJECT), required=True, minimum=1)

    def confirm(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, dict):
            self.add("must be an object", pointer)
            return
        self.text(obj.get("title"), pointer + "/title", 100, plain=True)
        self.text(obj.get("text"), pointer + "/text", 300)
        self.text(obj.get("confirm"), pointer + "/confirm", 30, plain=True)
        self.text(obj.get("deny"), pointer + "/deny", 30, plain=True)

    def option(self, obj: Any, pointer: str, *, plain: bool = False) -> None:
        """An option; ``plain``: in a menu (select, overflow), whose option text is ``plain_text`` only."""
        if not isinstance(obj, dict):
            self.add("must be an object", pointer)
            return
        self.text(obj.get("text"), pointer + "/text", 75, plain=plain)
        self.string(obj.get("value"), pointer + "/value", 150, required=True, minimum=1)
        if "description" in obj:
            self.text(obj["description"], pointer + "/description", 75)
        self.string(obj.get("url"), pointer + "/url", 3000)

    def element(self, obj: Any, pointer: str, allowed: frozenset[str] = ELEMENT_TYPES) -> None:
        if not isinstance(obj, dict):
            self.add("must be an object", pointer)
            return
        kind = obj.get("type")
        if kind not in allowed:
            self.add(f"unsupported type: {kind}", pointer + "/type")
            return
        if kind == "image":
            self.string(obj.get("image_url"), pointer + "/image_url", 3000)
            self.string(obj.get("alt_text"), pointer + "/alt_text", 2000, required=True)
            return
        self.string(obj.get("action_id"), pointer + "/action_id", MAX_ID)
        if "confirm" in obj:
            self.confirm(obj["confirm"], pointer + "/confirm")
        if "placeholder" in obj:
            self.text(obj["placeholder"], pointer + "/placeholder", 150, plain=True)
        if kind == "button":
            self.text(obj.get("text"), pointer + "/text", 75, plain=True)
            self.string(obj.get("value"), pointer + "/value", 2000)
            self.string(obj.get("url"), pointer + "/url", 3000)
            self.string(obj.get("accessibility_label"), pointer + "/accessibility_label", 75)
            if obj.get("style") not in (None, "primary", "danger"):
                self.add("must be one of: primary, danger", pointer + "/style")
        elif kind in ("static_select", "multi_static_select", "checkboxes", "radio_buttons", "overflow"):
            self._options(obj, pointer, kind)
        elif kind == "plain_text_input":
            self.string(obj.get("initial_value"), pointer + "/initial_value", 3000)
            max_length = obj.get("max_length")
            if isinstance(max_length, int) and not 1 <= max_length <= 3000:
                self.add("must be between 1 and 3000", pointer + "/max_length")

    def _options(self, obj: dict[str, Any], pointer: str, kind: str) -> None:
        limit = {"overflow": 5, "checkboxes": 10, "radio_buttons": 10}.get(kind, 100)
        # An overflow menu takes 2 to 5 options (Slack's Block Kit reference); menus show plain text only.
        minimum = 2 if kind == "overflow" else 1
        plain = kind not in ("checkboxes", "radio_buttons")
        if "option_groups" in obj and kind in ("static_select", "multi_static_select"):
            for g, group in enumerate(self.items(obj["option_groups"], pointer + "/option_groups", 100, minimum=1)):
                where = f"{pointer}/option_groups/{g}"
                self.text((group or {}).get("label"), where + "/label", 75, plain=True)
                for o, option in enumerate(self.items((group or {}).get("options"), where + "/options", 100)):
                    self.option(option, f"{where}/options/{o}", plain=plain)
            return
        for o, option in enumerate(self.items(obj.get("options"), pointer + "/options", limit, minimum=minimum)):
            self.option(option, f"{pointer}/options/{o}", plain=plain)
        if "initial_option" in obj:
            self.option(obj["initial_option"], pointer + "/initial_option", plain=plain)

    def block(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, dict):
            self.add("must be an object", pointer)
            return
        kind = obj.get("type")
        if kind not in BLOCK_TYPES:
            self.add(f"unsupported type: {kind}", pointer + "/type")
            return
        self.string(obj.get("block_id"), pointer + "/block_id", MAX_ID)
        if kind == "section":
            self._section(obj, pointer)
        elif kind == "header":
            self.text(obj.get("text"), pointer + "/text", 150, plain=True)
        elif kind == "context":
            for e, element in enumerate(self.items(obj.get("elements"), pointer + "/elements", 10, minimum=1)):
                where = f"{pointer}/elements/{e}"
                if isinstance(element, dict) and element.get("type") == "image":
                    self.element(element, where)
                else:
                    self.text(element, where)
        elif kind == "actions":
            for e, element in enumerate(self.items(obj.get("elements"), pointer + "/elements", 25, minimum=1)):
                self.element(element, f"{pointer}/elements/{e}")
        elif kind == "input":
            self.text(obj.get("label"), pointer + "/label", 2000, plain=True)
            if "hint" in obj:
                self.text(obj["hint"], pointer + "/hint", 2000, plain=True)
            self.element(obj.get("element"), pointer + "/element", SELECTS | INPUTS)
        elif kind == "markdown":
            self.string(obj.get("text"), pointer + "/text", MAX_MARKDOWN_BLOCK, required=True, minimum=1)
        elif kind == "image":
            self.string(obj.get("image_url"), pointer + "/image_url", 3000)
            self.string(obj.get("alt_text"), pointer + "/alt_text", 2000, required=True)
            if "title" in obj:
                self.text(obj["title"], pointer + "/title", 2000, plain=True)

    def _section(self, obj: dict[str, Any], pointer: str) -> None:
        if obj.get("text") is None and obj.get("fields") is None:
            self.add("must provide either text or fields", pointer)
        if obj.get("text") is not None:
            self.text(obj["text"], pointer + "/text", 3000)
        if obj.get("fields") is not None:
            for f, field in enumerate(self.items(obj["fields"], pointer + "/fields", 10, minimum=1)):
                self.text(field, f"{pointer}/fields/{f}", 2000)
        if obj.get("accessory") is not None:
            self.element(obj["accessory"], pointer + "/accessory")

    def blocks(self, value: Any, pointer: str, limit: int) -> None:
        for b, block in enumerate(self.items(value, pointer, limit)):
            self.block(block, f"{pointer}/{b}")


def message_problems(blocks: Any) -> Problems:
    """What Slack refuses in a message's ``blocks`` (chat.*, response_url), as ``invalid_blocks`` messages."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    return checker.problems


def view_problems(view: dict[str, Any]) -> Problems:
    """What Slack refuses in a view (views.*), as ``invalid_arguments`` messages."""
    checker = _Checker()
    checker.blocks(view.get("blocks", []), "/view/blocks", MAX_VIEW_BLOCKS)
    checker.string(view.get("callback_id"), "/view/callback_id", MAX_ID)
    checker.string(view.get("external_id"), "/view/external_id", MAX_ID)
    checker.string(view.get("private_metadata"), "/view/private_metadata", 3000)
    if view.get("type") == "modal":
        checker.text(view.get("title"), "/view/title", 24, plain=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                checker.text(view[key], f"/view/{key}", 24, plain=True)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and view.get("submit") is None:
            checker.add("submit is required when a view has input blocks", "/view/submit")
    return checker.problems
