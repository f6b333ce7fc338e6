"""Calls about spend limits and the increase requests people send when they hit one."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from anthropic import omit

from bot.anthropic_admin import convert
from bot.anthropic_admin.errors import AdminAPIError, BadRequest, Conflict, FeatureUnavailable
from bot.anthropic_admin.org_type import OrgTypeCalls
from bot.anthropic_admin.types import (
    IncreaseRequest,
    IncreaseRequestStatus,
    SettableSpendScopeType,
    SpendLimit,
    SpendPeriod,
)


class SpendCalls(OrgTypeCalls):
    """Spend limits (early access for Console orgs) and spend-limit increase requests."""

    def list_spend_limits(self) -> list[SpendLimit]:
        """Every spend limit (early access for Console orgs: FeatureUnavailable otherwise)."""
        # The page size is left to the server: the API documents no maximum for this cursor list.
        return [
            convert.spend_limit(s)
            for page in self._pages("spend_limits.list", self._org.spend_limits.list, feature_404=True)
            for s in page.data
        ]

    def set_spend_limit(
        self,
        *,
        amount_usd: Decimal,
        scope_type: SettableSpendScopeType,
        workspace_id: str | None = None,
        user_id: str | None = None,
        period: SpendPeriod = "monthly",
        currency: str = "USD",
    ) -> SpendLimit:
        """Create or replace the limit for (scope, period); the amount must be whole cents, in `currency`.

        Console orgs set organization and workspace limits, Enterprise orgs per-person ones: the other kind is
        refused here as FeatureUnavailable, in a sentence, before any call. The API takes amounts in the org's
        billing currency, read from its limits first: an amount in another currency is refused, never converted.
        """
        amount = convert.usd_to_minor_units(amount_usd)
        self._require_spend_scope(scope_type)
        billing = {s.currency.upper() for s in self.list_spend_limits()}
        if billing and billing != {currency.upper()}:
            raise FeatureUnavailable(
                f"This Anthropic organization is billed in {', '.join(sorted(billing))}, and the amount is in "
                f"{currency.upper()}; I never convert amounts, so set that limit in the Console instead."
            )
        scope: dict[str, str]
        if scope_type == "workspace":
            if not workspace_id:
                raise ValueError("a workspace spend limit needs workspace_id")
            scope = {"type": "workspace", "workspace_id": workspace_id}
        elif scope_type == "user":
            if not user_id:
                raise ValueError("a user spend limit needs user_id")
            scope = {"type": "user", "user_id": user_id}
        else:
            scope = {"type": "organization"}
        # An upsert keyed on (scope, period), so a resend after a lost answer is harmless.
        return convert.spend_limit(
            self._call(
                "spend_limits.set",
                lambda: self._org.spend_limits.set(amount=amount, scope=cast(Any, scope), period=period),
                feature_404=True,
            )
        )

    def list_increase_requests(
        self, statuses: Sequence[IncreaseRequestStatus] | None = ("pending",)
    ) -> list[IncreaseRequest]:
        """Spend-limit increase requests, newest first (default: pending only; None: all); Enterprise orgs only."""
        self._require_increase_requests()
        first = lambda: self._org.spend_limits.increase_requests.list(  # noqa: E731
            status=list(statuses) if statuses else omit
        )
        return [
            convert.increase_request(r)
            for page in self._pages("spend_limits.increase_requests.list", first, feature_404=True)
            for r in page.data
        ]

    def approve_increase_request(
        self, request_id: str, *, amount_usd: Decimal, period: SpendPeriod | None = None, notify: bool = True
    ) -> IncreaseRequest:
        """Approve a request by writing the requester's limit at `amount_usd` (whole cents)."""
        amount = convert.usd_to_minor_units(amount_usd)
        self._require_increase_requests()
        increase_requests = self._org.spend_limits.increase_requests

        # Idempotency of approve is not documented: if a retried approve is refused, read the request back
        # and accept it when it is already approved (most likely by our own first attempt).
        def already_approved(error: AdminAPIError) -> IncreaseRequest | None:
            if not isinstance(error, (BadRequest, Conflict)):
                return None
            current = convert.increase_request(
                self._call("spend_limits.increase_requests.retrieve", lambda: increase_requests.retrieve(request_id))
            )
            return current if current.status == "approved" else None

        return self._call(
            "spend_limits.increase_requests.approve",
            lambda: convert.increase_request(
                increase_requests.approve(
                    request_id,
                    amount=amount,
                    period=period if period is not None else omit,
                    suppress_notification=not notify,
                )
            ),
            recover=already_approved,
        )

    def deny_increase_request(self, request_id: str, *, notify: bool = True) -> IncreaseRequest:
        """Deny a request (idempotent on an already denied one)."""
        self._require_increase_requests()
        increase_requests = self._org.spend_limits.increase_requests
        return convert.increase_request(
            self._call(
                "spend_limits.increase_requests.deny",
                lambda: increase_requests.deny(request_id, suppress_notification=not notify),
            )
        )
