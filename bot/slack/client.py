"""The one place Slack Web API clients are built: base URL from SLACK_API_URL, bounded retries."""

from __future__ import annotations

import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings

# Slack's Retry-After can be minutes on a burst; a worker never sleeps longer than this on one call.
MAX_RETRY_AFTER_SECONDS = 30.0


def _retry_after(response: HttpResponse | None) -> float:
    if response is None:
        return 1.0
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(float(values[0]), 0.0)
            except ValueError:
                return 1.0
    return 1.0


class CappedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Retry a 429 after Retry-After, unless Slack asks for a longer wait than we are willing to block."""

    def __init__(self, max_retry_count: int = 2, max_wait: float = MAX_RETRY_AFTER_SECONDS) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429 and _retry_after(response) <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        time.sleep(min(_retry_after(response), self.max_wait))
        state.increment_current_attempt()


def retry_handlers() -> list[RetryHandler]:
    """Connection resets, 429 (capped) and 500/503 are retried a bounded number of times."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        CappedRateLimitRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=1),
    ]


def make_web_client(settings: Settings, **kwargs: Any) -> WebClient:
    """A sync client for services and jobs (runs on worker threads, never on the event loop)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(
        token=token, base_url=settings.slack_api_url, timeout=10, retry_handlers=retry_handlers(), **kwargs
    )


def make_async_web_client(settings: Settings) -> AsyncWebClient:
    """The client Bolt's AsyncApp uses for acks-adjacent calls (auth.test, views.open)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1), AsyncRateLimitErrorRetryHandler(1)],
    )
