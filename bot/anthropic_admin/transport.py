"""The one place an HTTP attempt to the Admin API happens: the SDK client, bounded retries and paging.

Retries live here, not in the SDK: the SDK honours `retry-after` with no cap, which could park a worker
for hours, so the client is built with `max_retries=0` and `Transport._call` makes every HTTP attempt
itself, with a bounded wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol, Self, TypeVar

import anthropic
from pydantic import SecretStr

from bot.anthropic_admin.defaults import DEFAULT_BASE_URL
from bot.anthropic_admin.errors import AdminAPIError, ListingIncomplete, RateLimited, retry_after_seconds
from bot.anthropic_admin.sdk_errors import SDK_FAILURES, failure_kind, is_transient, to_domain_error
from bot.anthropic_admin.types import OrgType, OrgTypeSetting

# One logger for the whole gateway package, whichever module makes the call.
log = logging.getLogger("bot.anthropic_admin")

PAGE_SIZE = 1000  # the API's maximum page size for ID-cursor lists and analytics reports
# Pages one listing may fetch: 20,000 keys at PAGE_SIZE a page are 20 pages, so this is far beyond any real
# org; a listing that gets here is a server handing out cursors that never end.
MAX_PAGES = 200
LIST_DEADLINE = 120.0  # seconds one listing (all of its pages, retries included) may take

_T = TypeVar("_T")
_P = TypeVar("_P", bound="_Page")


class _Page(Protocol):
    def has_next_page(self) -> bool: ...

    def get_next_page(self: _P) -> _P: ...

    def next_page_info(self) -> object: ...


class Transport:
    """The SDK client with bounded retries, explicit paging and domain errors; the resource calls build on it."""

    def __init__(
        self,
        *,
        api_key: SecretStr,
        base_url: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 2,
        max_retry_wait: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        strict_validation: bool = False,
        on_call: Callable[[str, int | str], None] | None = None,
        list_deadline: float = LIST_DEADLINE,
        max_pages: int = MAX_PAGES,
        monotonic: Callable[[], float] = time.monotonic,
        org_type: OrgTypeSetting = "auto",
    ) -> None:
        """Build the SDK client with the admin key passed explicitly, so no credential env var is read."""
        if org_type not in ("auto", "console", "enterprise"):
            raise ValueError("org_type must be auto, console or enterprise")
        # "console" or "enterprise" once known: set, or detected from the API on first need (OrgTypeCalls).
        self._org_type: OrgType | None = None if org_type == "auto" else org_type
        self._org_type_lock = threading.Lock()
        if max_retries < 0 or max_retry_wait < 0 or timeout <= 0 or list_deadline <= 0 or max_pages < 1:
            raise ValueError(
                "timeout, list_deadline and max_pages must be positive; max_retries and max_retry_wait must not be"
                " negative"
            )
        self._api_key = api_key
        # An explicit base_url too: with None the SDK would read ANTHROPIC_BASE_URL itself, and Settings
        # is the only place that reads the environment.
        self._base_url = base_url or DEFAULT_BASE_URL
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._on_call = on_call
        self._list_deadline = list_deadline
        self._max_pages = max_pages
        self._monotonic = monotonic
        self._client = anthropic.Anthropic(
            api_key=api_key.get_secret_value(),
            base_url=self._base_url,
            max_retries=0,  # retries are ours, bounded (module docstring)
            # `anthropic.Timeout` is the SDK's own httpx2.Timeout, the type its client accepts.
            timeout=anthropic.Timeout(timeout, connect=min(5.0, timeout)),
            _strict_response_validation=strict_validation,
        )
        self._org = self._client.beta.organization

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._base_url!r}, api_key=SecretStr('**********'), "
            f"timeout={self._timeout!r}, max_retries={self._max_retries!r})"
        )

    def close(self) -> None:
        """Close the underlying HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the one place an HTTP attempt happens -----------------------------------------------------

    def _observe(self, endpoint: str, outcome: int | str) -> None:
        if self._on_call is None:
            return
        try:
            self._on_call(endpoint, outcome)
        except Exception:  # a broken metrics hook must not break admin work
            log.exception("on_call hook failed for %s", endpoint)

    def _call(
        self,
        endpoint: str,
        fn: Callable[[], _T],
        *,
        resend: bool = True,
        feature_404: bool = False,
        recover: Callable[[AdminAPIError], _T | None] | None = None,
    ) -> _T:
        """Run one SDK call with bounded retries; every HTTP attempt happens here and is reported to `on_call`.

        `resend=False` is for calls that must never be sent twice (e.g. `workspaces.create`, which
        this gateway doesn't offer). `recover` is consulted only when the final error came after a retry,
        when it may mean that a lost earlier attempt already did the work.
        """
        attempt = 0
        while True:
            try:
                result = fn()
            except AdminAPIError:
                # Raised by a conversion inside `fn` (e.g. an unreadable amount) after the HTTP answer came.
                self._observe(endpoint, "malformed_response")
                raise
            except SDK_FAILURES as exc:
                status = exc.status_code if isinstance(exc, anthropic.APIStatusError) else None
                headers = exc.response.headers if isinstance(exc, anthropic.APIStatusError) else {}
                self._observe(endpoint, status if status is not None else failure_kind(exc))
                retry_after = retry_after_seconds(headers)
                if resend and is_transient(exc):
                    if retry_after is not None and retry_after > self._max_retry_wait:
                        # Don't park a worker for as long as the server asks; tell the user when to come back.
                        raise RateLimited(
                            retry_after=retry_after,
                            status=status,
                            error_code=getattr(exc, "error_code", None),
                            request_id=getattr(exc, "request_id", None),
                        ) from exc
                    if attempt < self._max_retries:
                        wait = retry_after if retry_after is not None and retry_after > 0 else self._backoff(attempt)
                        log.warning(
                            "Admin API %s failed (%s, request_id=%s); retry %d/%d in %.2fs",
                            endpoint,
                            status or failure_kind(exc),
                            getattr(exc, "request_id", None),
                            attempt + 1,
                            self._max_retries,
                            wait,
                        )
                        self._sleep(wait)
                        attempt += 1
                        continue
                error = to_domain_error(
                    exc, secret=self._api_key.get_secret_value(), feature_404=feature_404, retry_after=retry_after
                )
                if attempt > 0 and recover is not None:
                    recovered = recover(error)
                    if recovered is not None:
                        log.info("Admin API %s: %s after a retry treated as success", endpoint, type(error).__name__)
                        return recovered
                log.info(
                    "Admin API %s failed: %s status=%s error_code=%s request_id=%s",
                    endpoint,
                    type(error).__name__,
                    error.status,
                    error.error_code,
                    error.request_id,
                )
                raise error from exc
            self._observe(endpoint, 200)  # the Admin API answers 200 on success
            return result

    def _backoff(self, attempt: int) -> float:
        return float(min(0.5 * 2**attempt, self._max_retry_wait))

    def _pages(self, endpoint: str, first: Callable[[], _P], *, feature_404: bool = False) -> Iterator[_P]:
        """Yield every page, each fetch going through `_call` (the SDK's auto-paging would bypass it).

        Bounded three ways, each raising `ListingIncomplete`: a cursor the server already handed out (it would
        loop forever), more than `max_pages` pages, and more than `list_deadline` seconds for the whole listing.
        """
        deadline = self._monotonic() + self._list_deadline
        page = self._call(endpoint, first, feature_404=feature_404)
        yield page
        seen: set[str] = set()
        fetched = 1
        while page.has_next_page():
            info = page.next_page_info()
            if info is None:
                break
            cursor = repr(vars(info))
            if cursor in seen:
                raise self._incomplete(endpoint, fetched, "the API handed out the same page cursor twice")
            seen.add(cursor)
            if fetched >= self._max_pages:
                raise self._incomplete(endpoint, fetched, f"more than {self._max_pages} pages")
            if self._monotonic() > deadline:
                raise self._incomplete(endpoint, fetched, f"over {self._list_deadline:.0f}s")
            page = self._call(endpoint, page.get_next_page, feature_404=feature_404)
            fetched += 1
            yield page

    def _incomplete(self, endpoint: str, pages: int, reason: str) -> ListingIncomplete:
        log.warning("Admin API %s listing stopped after %d pages: %s", endpoint, pages, reason)
        return ListingIncomplete(
            f"The Anthropic Admin API listing of {endpoint} didn't finish ({reason}); try again later."
        )
