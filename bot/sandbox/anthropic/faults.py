"""Injected faults: queued per method and path pattern, consumed first come first served."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.sandbox.anthropic.errors import ApiError, error_payload
from bot.sandbox.anthropic.vocab import STATUS_ERROR_TYPES


@dataclass(slots=True)
class Fault:
    """A queued fault: which requests it matches, what it answers, how many times."""

    method: str
    pattern: re.Pattern[str]
    status: int | None
    headers: dict[str, str]
    error_type: str | None
    error_code: str | None
    delay: float
    times: int
    reset_connection: bool
    malformed_json: bool
    content_type: str | None
    repeat_cursor: bool = False
    applied: bool = False  # serve the request first (a write takes effect), then answer with the fault


def take_fault(faults: list[Fault], method: str, path: str) -> Fault | None:
    """The first queued fault for this request (consumed once its ``times`` run out)."""
    for fault in faults:
        if fault.method in (method, "*") and fault.pattern.search(path):
            fault.times -= 1
            if fault.times <= 0:
                faults.remove(fault)
            return fault
    return None


def fault_body(fault: Fault, status: int, request_id: str) -> bytes:
    """The body of a fault that answers with ``status``: truncated JSON, or the documented error shape."""
    if fault.malformed_json:
        return b'{"type": "error", "error": {"type": "api_er'
    error_type = fault.error_type or STATUS_ERROR_TYPES.get(status, "api_error")
    err = ApiError(status, error_type, f"Injected fault ({status})", fault.error_code)
    return error_payload(err, request_id)
