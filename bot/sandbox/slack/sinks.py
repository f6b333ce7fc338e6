"""The two sinks that are not the Web API: ``/upload/<file_id>`` and ``/response/<id>`` (response_url).

response_url answers follow Slack's webhook endpoints (plain-text bodies); see the package docstring.
"""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.slack.blockkit import message_problems
from bot.sandbox.slack.faults import fault_answer
from bot.sandbox.slack.records import ResponseCall
from bot.sandbox.slack.state import SlackState
from bot.sandbox.slack.transport import Answer


def handle_upload(s: SlackState, file_id: str, data: bytes) -> Answer:
    """Take an upload's bytes."""
    fault = s._take_fault("upload")
    if fault is not None and (fault.status is not None or fault.error is not None):
        return fault_answer(fault, plain=True)
    with s._cond:
        upload = s._uploads.get(file_id)
        if upload is None:
            return Answer.text(404, "file_not_found")
        upload.data = bytes(data)
        s._cond.notify_all()
    return Answer.text(200, f"OK - {len(data)}")


def handle_response_url(s: SlackState, url_id: str, headers: dict[str, str], data: bytes) -> Answer:
    """Answer a response_url post and record it."""
    fault = s._take_fault("response")
    try:
        body = json.loads(data) if data else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if fault is not None and (fault.status is not None or fault.error is not None):
        answer = fault_answer(fault, plain=True)
    else:
        answer = accept_response(s, url_id, body)
    with s._cond:
        s._responses.append(
            ResponseCall(
                url_id,
                body if isinstance(body, dict) else {},
                answer.status,
                str(answer.payload),
                dict(headers),
            )
        )
        s._cond.notify_all()
    return answer


def accept_response(s: SlackState, url_id: str, body: Any) -> Answer:
    """The answer for a post to a response_url, counting the use when accepted."""
    with s._cond:
        state = s._response_urls.get(url_id)
        if state is None:
            return Answer.text(404, "no_service")
        if s.clock() - state.created_at > s.response_url_ttl:
            return Answer.text(404, "expired_url")
        if state.uses >= s.response_url_max_uses:
            return Answer.text(404, "used_url")
        if not isinstance(body, dict):
            return Answer.text(400, "invalid_payload")
        if body.get("blocks") is not None and message_problems(body["blocks"]):
            return Answer.text(400, "invalid_blocks")  # Slack's webhooks answer 400 with the error's name
        state.uses += 1
    return Answer.text(200, "ok")
