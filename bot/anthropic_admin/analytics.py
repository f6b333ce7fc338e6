"""Analytics calls: cost and token-usage reports for a time range, every page read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from anthropic import Omit, omit
from anthropic.pagination import SyncReportPageCursor

from bot.anthropic_admin import convert
from bot.anthropic_admin.transport import PAGE_SIZE, Transport
from bot.anthropic_admin.types import (
    BucketWidth,
    CostGroupBy,
    CostReport,
    UsageGroupBy,
    UsageOrderBy,
    UsageReport,
)

_Item = TypeVar("_Item")


_Row = TypeVar("_Row")


class AnalyticsCalls(Transport):
    """Cost and usage reports; a beta the org hasn't been switched on for reads as FeatureUnavailable."""

    def cost_report(
        self,
        *,
        starting_at: datetime,
        ending_at: datetime,
        group_by: Sequence[CostGroupBy] = (),
        bucket_width: BucketWidth | None = None,
        api_key_ids: Sequence[str] | None = None,
        workspace_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        actor_ids: Sequence[str] | None = None,
    ) -> CostReport:
        """Cost in USD for [starting_at, ending_at), all pages, amounts exact to the fraction of a cent."""
        rows, refreshed = self._report(
            "analytics.cost.list",
            self._org.analytics.cost.list,
            convert.cost_row,
            starting_at=starting_at,
            ending_at=ending_at,
            group_by=group_by,
            bucket_width=bucket_width,
            api_key_ids=api_key_ids,
            workspace_ids=workspace_ids,
            models=models,
            actor_ids=actor_ids,
        )
        return CostReport(rows=rows, data_refreshed_at=refreshed)

    def usage_report(
        self,
        *,
        starting_at: datetime,
        ending_at: datetime,
        group_by: Sequence[UsageGroupBy] = (),
        bucket_width: BucketWidth | None = None,
        api_key_ids: Sequence[str] | None = None,
        workspace_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        actor_ids: Sequence[str] | None = None,
    ) -> UsageReport:
        """Token usage for [starting_at, ending_at), all pages."""
        rows, refreshed = self._report(
            "analytics.usage.list",
            self._org.analytics.usage.list,
            convert.usage_row,
            starting_at=starting_at,
            ending_at=ending_at,
            group_by=group_by,
            bucket_width=bucket_width,
            api_key_ids=api_key_ids,
            workspace_ids=workspace_ids,
            models=models,
            actor_ids=actor_ids,
        )
        return UsageReport(rows=rows, data_refreshed_at=refreshed)

    def top_usage_buckets(
        self,
        *,
        starting_at: datetime,
        ending_at: datetime,
        bucket_width: BucketWidth,
        order_by: UsageOrderBy,
        limit: int,
        workspace_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
    ) -> UsageReport:
        """The `limit` busiest buckets by `order_by` (one page, no grouping: each row is a bucket's total)."""
        _check_range(starting_at, ending_at)
        if not 1 <= limit <= PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {PAGE_SIZE}")
        page = self._call(
            "analytics.usage.list",
            lambda: self._org.analytics.usage.list(
                starting_at=starting_at,
                ending_at=ending_at,
                limit=limit,
                time_bucket_width=bucket_width,
                order_by=order_by,
                order="desc",
                workspace_ids=_listed(workspace_ids),
                models=_listed(models),
            ),
            feature_404=True,
        )
        return UsageReport(
            rows=tuple(convert.usage_row(item) for item in page.data), data_refreshed_at=page.data_refreshed_at
        )

    def _report(
        self,
        endpoint: str,
        list_page: Callable[..., SyncReportPageCursor[_Item]],
        convert_item: Callable[[_Item], _Row],
        *,
        starting_at: datetime,
        ending_at: datetime,
        group_by: Sequence[str],
        bucket_width: BucketWidth | None,
        api_key_ids: Sequence[str] | None,
        workspace_ids: Sequence[str] | None,
        models: Sequence[str] | None,
        actor_ids: Sequence[str] | None,
    ) -> tuple[tuple[_Row, ...], datetime | None]:
        """Every row of one report and its oldest "data as of" time (usage data can lag hours behind)."""
        _check_range(starting_at, ending_at)
        filters = {
            "api_key_ids": _listed(api_key_ids),
            "workspace_ids": _listed(workspace_ids),
            "models": _listed(models),
            "actor_ids": _listed(actor_ids),
        }
        first = lambda: list_page(  # noqa: E731
            starting_at=starting_at,
            ending_at=ending_at,
            limit=PAGE_SIZE,
            group_by=list(group_by) if group_by else omit,
            time_bucket_width=bucket_width if bucket_width is not None else omit,
            **filters,
        )
        rows: list[_Row] = []
        refreshed: list[datetime] = []
        for page in self._pages(endpoint, first, feature_404=True):
            rows.extend(convert_item(item) for item in page.data)
            if page.data_refreshed_at is not None:
                refreshed.append(page.data_refreshed_at)
        return tuple(rows), min(refreshed, default=None)


def _check_range(starting_at: datetime, ending_at: datetime) -> None:
    _require_aware(starting_at=starting_at, ending_at=ending_at)
    if ending_at <= starting_at:
        raise ValueError("ending_at must be after starting_at")


def _require_aware(**values: datetime | None) -> None:
    for name, value in values.items():
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"{name} must be a timezone-aware datetime (the API needs RFC 3339 with an offset)")


def _listed(values: Sequence[str] | None) -> list[str] | Omit:
    # The SDK drops an empty list from the query string, which the API reads as "no filter": the whole org.
    # A caller with nothing to ask about must skip the call. (An empty *entry*, [""], means key-less usage.)
    if values is None:
        return omit
    if not values:
        raise ValueError("an empty analytics filter would mean the whole organization; skip the call instead")
    return list(values)
