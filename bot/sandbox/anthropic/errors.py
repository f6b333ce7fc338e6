"""The Admin API's error answers: ``{"type": "error", "error": {...}, "request_id": ...}``."""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    """Raised by handlers; rendered as the documented error body."""

    def __init__(self, status: int, error_type: str, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.error_code = error_code


def bad(message: str, code: str | None = None) -> ApiError:
    """A 400 invalid_request_error, with an optional error code."""
    return ApiError(400, "invalid_request_error", message, code)


def not_found(kind: str, ident: str) -> ApiError:
    """A 404 not_found_error for ``kind`` ``ident``."""
    return ApiError(404, "not_found_error", f"{kind} not found: {ident}")


def error_payload(err: ApiError, request_id: str) -> bytes:
    """The JSON body of an error answer."""
    error: dict[str, Any] = {"type": err.error_type, "message": err.message}
    if err.error_code:
        error["details"] = {"error_code": err.error_code}
    return json.dumps({"type": "error", "error": error, "request_id": request_id}).encode()
