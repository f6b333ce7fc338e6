"""Seeding analytics: cost and usage rows that /analytics/cost and /analytics/usage aggregate."""

from __future__ import annotations

from datetime import date, datetime
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

    def add_claude_code(
        self,
        *,
        day: date | str,
        email: str | None = None,
        api_key_name: str | None = None,
        sessions: int = 1,
        lines_added: int = 0,
        lines_removed: int = 0,
        commits: int = 0,
        pull_requests: int = 0,
        tools: dict[str, tuple[int, int]] | None = None,
        models: list[tuple[str, int, dict[str, int]]] | None = None,
        customer_type: str = "api",
        terminal_type: str = "vscode",
        subscription_type: str | None = None,
    ) -> dict[str, Any]:
        """Store one Claude Code Analytics record, in the docs' format, for a person (email) or an API key.

        ``tools``: tool name (``edit_tool``, ``multi_edit_tool``, ``notebook_edit_tool``, ``write_tool``) ->
        (accepted, rejected). ``models``: (model, estimated cost in cents, tokens {input, output, cache_read,
        cache_creation}).
        """
        if (email is None) == (api_key_name is None):
            raise ValueError("a Claude Code record has exactly one actor: an email or an API key name")
        if customer_type not in {"api", "subscription"}:
            raise ValueError(f"unknown customer_type {customer_type!r}")
        when = date.fromisoformat(day) if isinstance(day, str) else day
        actor: dict[str, Any] = (
            {"type": "user_actor", "email_address": email}
            if email is not None
            else {"type": "api_actor", "api_key_name": api_key_name}
        )
        record: dict[str, Any] = {
            "actor": actor,
            "core_metrics": {
                "commits_by_claude_code": commits,
                "lines_of_code": {"added": lines_added, "removed": lines_removed},
                "num_sessions": sessions,
                "pull_requests_by_claude_code": pull_requests,
            },
            "customer_type": customer_type,
            "date": when.isoformat() + "T00:00:00Z",
            "model_breakdown": [
                {
                    "estimated_cost": {"amount": cents, "currency": "USD"},
                    "model": model,
                    "tokens": {
                        "cache_creation": tok.get("cache_creation", 0),
                        "cache_read": tok.get("cache_read", 0),
                        "input": tok.get("input", 0),
                        "output": tok.get("output", 0),
                    },
                }
                for model, cents, tok in (models or [])
            ],
            "organization_id": self.org_id,
            "terminal_type": terminal_type,
            "tool_actions": {
                name: {"accepted": accepted, "rejected": rejected}
                for name, (accepted, rejected) in (tools or {}).items()
            },
        }
        if subscription_type is not None:
            record["subscription_type"] = subscription_type
        with self._lock:
            self._claude_code.setdefault(when, []).append(record)
        return record
