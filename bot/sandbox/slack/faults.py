"""Injected failures of the Slack stand-in and the HTTP answers they turn into."""

from __future__ import annotations

from dataclasses import dataclass

from bot.sandbox.slack.transport import Answer

#: Status for an ``error`` injected on a response_url (Slack's webhook status codes).
RESPONSE_ERROR_STATUS = {
    "action_prohibited": 403,
    "channel_not_found": 404,
    "no_service": 404,
    "expired_url": 404,
    "used_url": 404,
    "channel_is_archived": 410,
    "rollup_error": 500,
}


@dataclass
class Fault:
    """A queued failure for one method (see :meth:`SlackStandIn.inject`)."""

    status: int | None = None
    retry_after: int | None = None
    error: str | None = None
    delay: float = 0.0
    body: str | None = None


def fault_answer(fault: Fault, *, plain: bool = False) -> Answer:
    """The HTTP answer for an injected fault (``plain``: a webhook-style text body)."""
    status = fault.status
    if status is None:  # an error without a status: only reaches here for the sinks
        status = RESPONSE_ERROR_STATUS.get(fault.error or "", 400)
        return Answer.text(status, fault.body or fault.error or "invalid_payload")
    if status == 429:
        headers = {"Retry-After": str(fault.retry_after if fault.retry_after is not None else 1)}
        if plain:
            answer = Answer.text(429, fault.body or "rate_limited")
            answer.headers = headers
            return answer
        return Answer.json(429, {"ok": False, "error": "ratelimited"}, headers)
    if status >= 500 and fault.body is None:
        reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")
        page = f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
        return Answer.text(status, page, content_type="text/html; charset=utf-8")
    if fault.body is not None:
        return Answer.text(status, fault.body)
    if plain:
        return Answer.text(status, fault.error or f"http_{status}")
    return Answer.json(status, {"ok": False, "error": fault.error or f"http_{status}"})
