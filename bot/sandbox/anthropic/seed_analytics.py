"""Seeding analytics: cost and usage rows that /analytics/cost and /analytics/usage aggregate."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.sandbox.anthropic.analytics import cost_metrics, dim_key, dim_value, usage_metrics
from bot.sandbox.anthropic.convert import as_utc, rfc3339
from bot.sandbox.anthropic.records import CostRow, UsageRow
from bot.sandbox.anthropic.state import AdminState
from bot.sandbox.anthropic.vocab import COST_DIMS, TOKEN_TYPES, USAGE_DIMS


class AnalyticsSeed(AdminState):
    """Cost and usage rows (amounts are decimal strings of cents, as the API serves them)."""

    @staticmethod
    def _row_dims(
        model: str | None,
        workspace_id: str | None,
        api_key_id: str | None,
        actor_user_id: str | None,
        dims: dict[str, Any] | None,
    ) -> dict[str, Any]:
        out = {"model": model, "workspace_id": workspace_id, "api_key_id": api_key_id, "actor_user_id": actor_user_id}
        out.update(dims or {})
        return out

    def add_cost(
        self,
        *,
        starting_at: datetime | str,
        ending_at: datetime | str,
        amount_cents: str,
        model: str | None = None,
        workspace_id: str | None = None,
        api_key_id: str | None = None,
        actor_user_id: str | None = None,
        token_type: str | None = None,
        list_amount_cents: str | None = None,
        requests: int | None = None,
        cost_type: str = "tokens",
        dims: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store one cost row. Amounts are decimal strings of (fractional) cents, e.g. "1234.567"."""
        try:
            amount = Decimal(amount_cents)
            list_amount = Decimal(list_amount_cents) if list_amount_cents is not None else amount
        except InvalidOperation:
            raise ValueError(f"amount must be a decimal string, got {amount_cents!r}") from None
        if not amount.is_finite() or not list_amount.is_finite():
            raise ValueError("amount must be finite")
        if token_type is not None and token_type not in TOKEN_TYPES:
            raise ValueError(f"unknown token_type {token_type!r}")
        row = CostRow(
            starting_at=as_utc(starting_at),
            ending_at=as_utc(ending_at),
            amount=amount,
            list_amount=list_amount,
            requests=requests,
            dims={
                **self._row_dims(model, workspace_id, api_key_id, actor_user_id, dims),
                "token_type": token_type,
                "cost_type": cost_type,
            },
        )
        with self._lock:
            self._costs.append(row)
            return self._seed_row_json(row, "cost")

    def add_usage(
        self,
        *,
        starting_at: datetime | str,
        ending_at: datetime | str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read: int = 0,
        model: str | None = None,
        workspace_id: str | None = None,
        api_key_id: str | None = None,
        actor_user_id: str | None = None,
        requests: int | None = None,
        cache_creation_5m: int = 0,
        cache_creation_1h: int = 0,
        web_search_requests: int = 0,
        dims: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store one usage row (``input_tokens`` are uncached input tokens)."""
        row = UsageRow(
            starting_at=as_utc(starting_at),
            ending_at=as_utc(ending_at),
            uncached=input_tokens,
            output=output_tokens,
            cache_read=cache_read,
            cache_5m=cache_creation_5m,
            cache_1h=cache_creation_1h,
            web_search=web_search_requests,
            requests=requests,
            dims=self._row_dims(model, workspace_id, api_key_id, actor_user_id, dims),
        )
        with self._lock:
            self._usage.append(row)
            return self._seed_row_json(row, "usage")

    def _seed_row_json(self, row: Any, kind: str) -> dict[str, Any]:
        dims = COST_DIMS if kind == "cost" else USAGE_DIMS
        group = {d: dim_value(self, row, d) for d in dims if dim_key(row, d) is not None}
        metrics = cost_metrics([row], []) if kind == "cost" else usage_metrics([row])
        return {
            "starting_at": rfc3339(row.starting_at),
            "ending_at": rfc3339(row.ending_at),
            "group": group,
            kind: metrics,
        }
