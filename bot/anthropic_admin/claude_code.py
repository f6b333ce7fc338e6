"""Claude Code Analytics: `GET /v1/organizations/usage_report/claude_code`, one UTC day per call, every page read.

The endpoint is not in the SDK, so it goes through the SDK client's generic `get` (same auth headers, same
`anthropic-version`, same errors), through `Transport._call` and `_pages` (the same bounded retries and paging
guards as every other call), and is read with strict models of our own.

What the public docs say (https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_claude_code.md and
https://platform.claude.com/docs/en/build-with-claude/claude-code-analytics-api, checked 2026-12):
- Query: `starting_at` (required, a UTC date `YYYY-MM-DD`: metrics for that single day only), `limit` (records
  a page, 1-1000, default 20), `page` (the opaque `next_page` of the previous answer). No `ending_at`, no
  filters: a range is one call per day, and a person is found by their email in the day's records.
- Answer: `{data: [...], has_more, next_page}`; one record per actor and day: `actor` (`user_actor` with
  `email_address`, or `api_actor` with `api_key_name`), `core_metrics` (`num_sessions`, `lines_of_code`
  {added, removed}, `commits_by_claude_code`, `pull_requests_by_claude_code`), `tool_actions` (`edit_tool`,
  `multi_edit_tool`, `notebook_edit_tool`, `write_tool`, each {accepted, rejected}), `model_breakdown`
  ([{model, tokens {input, output, cache_read, cache_creation}, estimated_cost {amount, currency}}], amount in
  minor units: cents for USD), `customer_type` (`api` | `subscription`), `terminal_type`, `organization_id`,
  `subscription_type` (subscription customers only), `date` (the docs' example shows `2025-08-08T00:00:00Z`,
  the field text says `YYYY-MM-DD`: both are read).
- The org-wide split of spend into API and Claude Code is the analytics cost report's `product` dimension
  (`group_by[]=product`; values include `claude_code`, `messages_api`, `message_batches_api`, …): see
  bot/spend/analytics.py, not this module.

Models ignore fields they don't know (the API adds fields; an unknown one must not break the report) but are
strict about the types of the ones they read: a string where a count belongs is a malformed answer.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from bot.anthropic_admin.errors import Unavailable
from bot.anthropic_admin.transport import PAGE_SIZE, Transport
from bot.anthropic_admin.types import ClaudeCodeDay, ClaudeCodeModelUse, ClaudeCodeRecord

PATH = "/v1/organizations/usage_report/claude_code"
ENDPOINT = "usage_report.claude_code"
TOOLS = ("edit_tool", "multi_edit_tool", "notebook_edit_tool", "write_tool")

_MALFORMED = "The Anthropic Admin API sent a Claude Code report the bot couldn't read; please try again later."


# The answer is read by one pydantic-core pass over the body (JSON parsed, types and bounds checked, unknown
# fields skipped) into plain dicts: typed dicts, not models, since an org's month is tens of thousands of records
# and building model instances for them cost three times the parse (bench/usage_latency.py).
_STRICT = ConfigDict(strict=True, extra="ignore")
_Count = Annotated[int, Field(ge=0)]


@with_config(_STRICT)
class _UserActor(TypedDict):
    type: Literal["user_actor"]
    email_address: str


@with_config(_STRICT)
class _ApiActor(TypedDict):
    type: Literal["api_actor"]
    api_key_name: str


@with_config(_STRICT)
class _Lines(TypedDict):
    added: _Count
    removed: _Count


@with_config(_STRICT)
class _CoreMetrics(TypedDict):
    num_sessions: _Count
    lines_of_code: _Lines
    commits_by_claude_code: _Count
    pull_requests_by_claude_code: _Count


@with_config(_STRICT)
class _ToolAction(TypedDict):
    accepted: _Count
    rejected: _Count


@with_config(_STRICT)
class _Tokens(TypedDict):
    input: _Count
    output: _Count
    cache_read: _Count
    cache_creation: _Count


@with_config(_STRICT)
class _Cost(TypedDict):
    amount: int | Decimal  # minor units (cents for USD); JSON numbers are read as Decimal, never float
    currency: str


@with_config(_STRICT)
class _ModelUse(TypedDict):
    model: str
    tokens: _Tokens
    estimated_cost: _Cost


@with_config(_STRICT)
class _Record(TypedDict):
    date: str
    actor: Annotated[_UserActor | _ApiActor, Field(discriminator="type")]
    core_metrics: _CoreMetrics
    tool_actions: NotRequired[dict[str, _ToolAction]]
    model_breakdown: NotRequired[list[_ModelUse]]
    customer_type: str
    terminal_type: NotRequired[str | None]


@with_config(_STRICT)
class _Report(TypedDict):
    data: list[_Record]
    has_more: bool
    next_page: NotRequired[str | None]


_REPORT: TypeAdapter[_Report] = TypeAdapter(_Report)


def _day_of(raw: str) -> date:
    """`2025-08-08` or `2025-08-08T00:00:00Z` (the docs show both) as a date."""
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else datetime.fromisoformat(raw).date()
    except ValueError:
        raise Unavailable(_MALFORMED, retryable=False) from None


def _minor_to_usd(amount: int | Decimal) -> Decimal:
    value = Decimal(amount)
    if not value.is_finite() or value < 0:
        raise Unavailable(_MALFORMED, retryable=False)
    return value / 100


def _model_use(m: _ModelUse) -> ClaudeCodeModelUse:
    tokens, cost = m["tokens"], m["estimated_cost"]
    return ClaudeCodeModelUse(
        model=m["model"],
        cost_usd=_minor_to_usd(cost["amount"]),
        currency=cost["currency"],
        input_tokens=tokens["input"],
        output_tokens=tokens["output"],
        cache_read_tokens=tokens["cache_read"],
        cache_creation_tokens=tokens["cache_creation"],
    )


def _record(r: _Record, day: date) -> ClaudeCodeRecord:
    accepted = rejected = 0
    for name, action in r.get("tool_actions", {}).items():
        if name in TOOLS:
            accepted += action["accepted"]
            rejected += action["rejected"]
    actor, core = r["actor"], r["core_metrics"]
    lines = core["lines_of_code"]
    is_user = actor["type"] == "user_actor"
    return ClaudeCodeRecord(
        day=day,
        actor_kind="user" if is_user else "api_key",
        email=actor["email_address"].strip().lower() if actor["type"] == "user_actor" else None,
        api_key_name=actor["api_key_name"] if actor["type"] == "api_actor" else None,
        sessions=core["num_sessions"],
        lines_added=lines["added"],
        lines_removed=lines["removed"],
        commits=core["commits_by_claude_code"],
        pull_requests=core["pull_requests_by_claude_code"],
        tool_accepted=accepted,
        tool_rejected=rejected,
        models=tuple(map(_model_use, r.get("model_breakdown", ()))),
        customer_type=r["customer_type"],
        terminal_type=r.get("terminal_type"),
    )


class _Cursor:
    """What `Transport._pages` compares to spot a server handing out the same cursor twice."""

    def __init__(self, page: str) -> None:
        self.page = page


class _Page:
    """One answer, with the paging protocol `Transport._pages` drives (`has_next_page`, `get_next_page`, …)."""

    def __init__(self, calls: ClaudeCodeCalls, day: date, report: _Report) -> None:
        self._calls, self._day, self.report = calls, day, report

    def has_next_page(self) -> bool:
        return self.report["has_more"] and bool(self.report.get("next_page"))

    def next_page_info(self) -> _Cursor | None:
        cursor = self.report.get("next_page")
        return _Cursor(cursor) if cursor else None

    def get_next_page(self) -> _Page:
        return self._calls._claude_code_page(self._day, self.report.get("next_page"))


class ClaudeCodeCalls(Transport):
    """The Claude Code Analytics report, one day at a time (a beta the org lacks reads as FeatureUnavailable)."""

    def claude_code_day(self, day: date) -> ClaudeCodeDay:
        """Every actor's Claude Code record for one UTC day, all pages."""
        if not isinstance(day, date) or isinstance(day, datetime):
            raise TypeError("day must be a date (the report is per UTC day)")
        records: list[ClaudeCodeRecord] = []
        days_seen: set[str] = set()
        for page in self._pages(ENDPOINT, lambda: self._claude_code_page(day, None), feature_404=True):
            for r in page.report["data"]:
                if r["date"] not in days_seen:
                    if _day_of(r["date"]) != day:  # a record of another day than asked for: the answer is wrong
                        raise Unavailable(_MALFORMED, retryable=False)
                    days_seen.add(r["date"])
                records.append(_record(r, day))
        return ClaudeCodeDay(day=day, records=tuple(records))

    def _claude_code_page(self, day: date, cursor: str | None) -> _Page:
        params: dict[str, Any] = {"starting_at": day.isoformat(), "limit": PAGE_SIZE}
        if cursor is not None:
            params["page"] = cursor
        text = self._client.get(PATH, cast_to=str, options={"params": params})
        try:
            # Parsed and checked in one pass by pydantic-core (an org's month is tens of thousands of records);
            # amounts stay exact: a JSON number read into a Decimal field keeps its digits, never a float.
            report = _REPORT.validate_json(text)
        except (ValueError, ValidationError) as exc:
            raise Unavailable(_MALFORMED, retryable=False) from exc
        return _Page(self, day, report)
