"""GET /analytics/cost and /analytics/usage: filter, bucket, group, order and page the seeded rows."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.sandbox.anthropic.convert import dec_str, rfc3339, utcnow
from bot.sandbox.anthropic.errors import bad
from bot.sandbox.anthropic.paging import cursor_slice
from bot.sandbox.anthropic.records import CostRow, UsageRow
from bot.sandbox.anthropic.render import user_actor
from bot.sandbox.anthropic.request import Req, parse_query_dt
from bot.sandbox.anthropic.state import AdminState
from bot.sandbox.anthropic.vocab import (
    ANALYTICS_BETA,
    ANALYTICS_FLOOR,
    ANALYTICS_LOOKBACK,
    BUCKET_WIDTHS,
    COST_DIMS,
    COST_ORDER_BY,
    FANOUT_DIMS,
    FILTER_DIMS,
    USAGE_DIMS,
    USAGE_ORDER_BY,
)

# Each handler runs under the state lock and returns a JSON-ready object or raises ApiError.

# The filters an index of the rows serves (see _candidates); `api_key_id` and `actor` are the `api_key_ids` and
# `actor_ids` filters.
INDEXED_DIMS = ("workspace_id", "model", "api_key_id", "actor")
MEMO_ENTRIES = 64  # computed answers kept (each query's buckets; its pages and other orders are cut from them)


def analytics_cost(org: AdminState, req: Req) -> dict[str, Any]:
    """GET /analytics/cost."""
    return analytics(org, req, kind="cost")


def analytics_usage(org: AdminState, req: Req) -> dict[str, Any]:
    """GET /analytics/usage."""
    return analytics(org, req, kind="usage")


def analytics(org: AdminState, req: Req, *, kind: str) -> dict[str, Any]:
    """One page of cost or usage rows: validate the query, filter, bucket, group, order and page."""
    if ANALYTICS_BETA not in req.betas():
        raise bad(f"This endpoint requires the anthropic-beta header {ANALYTICS_BETA}")
    dims_allowed = COST_DIMS if kind == "cost" else USAGE_DIMS
    order_allowed = COST_ORDER_BY if kind == "cost" else USAGE_ORDER_BY
    start = parse_query_dt(req, "starting_at")
    if start is None:
        raise bad("starting_at: required")
    end = parse_query_dt(req, "ending_at")
    width_name = req.one("time_bucket_width")
    if width_name is not None and width_name not in BUCKET_WIDTHS:
        raise bad(f"time_bucket_width: must be one of {sorted(BUCKET_WIDTHS)}")
    width = BUCKET_WIDTHS[width_name] if width_name else None
    if width is not None and end is None:
        raise bad("ending_at: required when time_bucket_width is set")
    floor = max(ANALYTICS_FLOOR, (org.clock_now or utcnow()) - ANALYTICS_LOOKBACK)
    if start < floor:
        raise bad(f"starting_at: must be no earlier than {rfc3339(floor)} (2026-01-01 and at most 365 days ago)")
    end = end or min(utcnow(), start + timedelta(days=31))
    if end <= start:
        raise bad("ending_at: must be after starting_at")
    max_range = timedelta(hours=24) if width_name == "1m" else timedelta(days=31)
    if end - start > max_range:
        raise bad(f"The time range may span at most {max_range}")
    group_by = req.many("group_by") or []
    bad_dims = [d for d in group_by if d not in dims_allowed]
    if bad_dims:
        raise bad(f"group_by: unknown dimension(s) {bad_dims}")
    if len(set(group_by)) != len(group_by):
        raise bad("group_by: duplicate dimension")
    if len([d for d in group_by if d not in FANOUT_DIMS]) > 5:
        raise bad("group_by: at most 5 dimensions")
    order_by = req.one("order_by") or ("amount" if kind == "cost" else "total_tokens")
    if order_by not in order_allowed:
        raise bad(f"order_by: must be one of {sorted(order_allowed)}")
    if order_by == "time" and width is None:
        raise bad("order_by=time requires time_bucket_width")
    order = req.one("order") or "desc"
    if order not in {"asc", "desc"}:
        raise bad("order: must be asc or desc")
    limit = req.integer("limit", 20, 1, 1000)
    if req.boolean("exclude_deleted_users") and "actor" not in group_by:
        raise bad("exclude_deleted_users requires grouping by actor")

    source: list[Any] = org._costs if kind == "cost" else org._usage
    # The pages of one query are cut from one computed answer: rows are only ever appended, so the answer stands
    # while no row was added and "data as of" is unchanged (actor objects are rendered from users: not memoized).
    # Answers differing only in their order share the computed buckets (limits asks for one range four ways).
    memo_key = (kind, _query_key(req), len(source), org.data_refreshed_at, start, end)
    memo = org._analytics_memo
    if "actor" in group_by:
        out = _ordered(_answer(org, req, kind, source, start, end, width_name, group_by), kind, order_by, order)
    else:
        entry = memo.get(memo_key)
        if entry is None:
            entry = (_answer(org, req, kind, source, start, end, width_name, group_by), {})
            memo[memo_key] = entry
            while len(memo) > MEMO_ENTRIES:
                memo.popitem(last=False)
        memo.move_to_end(memo_key)
        base, by_order = entry
        if (order_by, order) not in by_order:
            by_order[(order_by, order)] = _ordered(base, kind, order_by, order)
        out = by_order[(order_by, order)]
    page, next_page = cursor_slice(req, out, limit)
    refreshed = org.data_refreshed_at or utcnow().replace(microsecond=0)
    return {
        "data": page,
        "has_more": next_page is not None,
        "next_page": next_page,
        "data_refreshed_at": rfc3339(refreshed),
    }


def _query_key(req: Req) -> tuple[Any, ...]:
    """The path and the query without its paging and ordering parameters: what the computed buckets depend on."""
    skip = {"page", "limit", "order_by", "order"}
    return (req.path, tuple(sorted((k, tuple(v)) for k, v in req.query.items() if k not in skip)))


def _answer(
    org: AdminState,
    req: Req,
    kind: str,
    source: list[Any],
    start: datetime,
    end: datetime,
    width_name: str | None,
    group_by: list[str],
) -> list[dict[str, Any]]:
    """Every item of one query's answer, by time and group (`_ordered` orders them as asked)."""
    width = BUCKET_WIDTHS[width_name] if width_name else None
    filters = _filters(req)
    wanted_keys, wanted_actors = req.many("api_key_ids") or [], req.many("actor_ids") or []
    indexed = {**filters, "api_key_id": wanted_keys, "actor": wanted_actors}
    candidates, served = _candidates(org, kind, source, indexed)
    rest = {dim: wanted for dim, wanted in filters.items() if dim != served}  # what the index did not filter
    api_key_ids = None if served == "api_key_id" else _set_of(wanted_keys)
    actor_ids = None if served == "actor" else _set_of(wanted_actors)
    if rest or api_key_ids or actor_ids:
        rows = [r for r in candidates if start <= r.starting_at < end and _matches(r, rest, api_key_ids, actor_ids)]
    else:
        rows = [r for r in candidates if start <= r.starting_at < end]
    if req.boolean("exclude_deleted_users"):
        rows = [r for r in rows if r.dims.get("actor_user_id") is None or r.dims["actor_user_id"] in org._users]
    buckets: dict[tuple[Any, ...], list[Any]] = {}
    starts: dict[datetime, datetime] = {}  # row start -> its bucket's start (rows share a few starts)
    for row in rows:
        bucket = None
        if width_name:
            bucket = starts.get(row.starting_at)
            if bucket is None:
                bucket = starts[row.starting_at] = bucket_start(row.starting_at, width_name)
        key = (bucket, tuple(dim_key(row, d) for d in group_by))
        buckets.setdefault(key, []).append(row)
    if not buckets and not group_by and width is None:
        buckets[(None, ())] = []
    out = []
    for (bucket, _), members in buckets.items():
        if bucket is None:
            lo, hi = bucket_start(start, "1h"), bucket_start(end, "1h")
        else:
            lo, hi = bucket, bucket + width
        group = {d: dim_value(org, members[0], d) for d in group_by} if members else {}
        metrics = cost_metrics(members, group_by) if kind == "cost" else usage_metrics(members)
        item = {"starting_at": rfc3339(lo), "ending_at": rfc3339(hi), "group": group, kind: metrics}
        out.append(item)
    out.sort(key=lambda i: (i["starting_at"], json.dumps(i["group"], sort_keys=True)))
    return out


def _ordered(items: list[dict[str, Any]], kind: str, order_by: str, order: str) -> list[dict[str, Any]]:
    """The items (by time and group) ordered by ``order_by``; ties keep time and group order."""

    def metric(item: dict[str, Any]) -> Any:
        if order_by == "time":
            return item["starting_at"]
        value = item[kind][order_by]
        return Decimal(value) if kind == "cost" else (value or 0)

    return sorted(items, key=metric, reverse=(order == "desc"))


def _set_of(values: list[str] | None) -> frozenset[str] | None:
    return frozenset(values) if values else None


def _candidates(
    org: AdminState, kind: str, source: list[Any], filters: Mapping[str, Collection[str]]
) -> tuple[list[Any], str | None]:
    """The rows a query's list filters can match, from an index of the rows by workspace, model, API key and actor,
    and the dimension whose filter they already passed (None: every row).

    Rows are only ever appended, so the index grows with them; the other filters still apply (`_matches`)."""
    index = org._analytics_index.get(kind)
    if index is None or index[0] is not source or index[1] > len(source):
        index = (source, 0, {dim: {} for dim in INDEXED_DIMS})
    _, count, by_dim = index
    for row in source[count:]:
        for dim in INDEXED_DIMS:
            by_dim[dim].setdefault(dim_key(row, dim), []).append(row)
    org._analytics_index[kind] = (source, len(source), by_dim)
    best: tuple[list[Any], str | None] = (source, None)
    for dim in INDEXED_DIMS:
        wanted = filters.get(dim)
        if wanted:
            rows = [r for value in dict.fromkeys(wanted) for r in by_dim[dim].get(value, ())]
            if best[1] is None or len(rows) < len(best[0]):
                best = (rows, dim)
    return best


def _filters(req: Req) -> dict[str, list[str]]:
    """The query's list filters by dimension, read once."""
    return {dim: wanted for param, dim in FILTER_DIMS.items() if (wanted := req.many(param))}


def row_matches(org: AdminState, req: Req, row: Any, filters: dict[str, list[str]] | None = None) -> bool:
    """Whether a seeded row passes the query's list filters."""
    wanted = filters if filters is not None else _filters(req)
    return _matches(row, wanted, _set_of(req.many("api_key_ids")), _set_of(req.many("actor_ids")))


def _matches(
    row: Any, filters: dict[str, list[str]], api_key_ids: frozenset[str] | None, actor_ids: frozenset[str] | None
) -> bool:
    """`row_matches` with the query's filters read once."""
    for dim, wanted in filters.items():
        value = dim_key(row, dim)
        if dim == "inference_geo" and value is None:
            value = "not_available"
        if wanted and value not in wanted:
            return False
    if api_key_ids and (row.dims.get("api_key_id") or "") not in api_key_ids:
        return False
    return not (actor_ids and dim_key(row, "actor") not in actor_ids)


def bucket_start(when: datetime, width_name: str) -> datetime:
    """The start of the ``1d``/``1h``/``1m`` bucket ``when`` falls in."""
    if width_name == "1d":
        return when.replace(hour=0, minute=0, second=0, microsecond=0)
    if width_name == "1h":
        return when.replace(minute=0, second=0, microsecond=0)
    return when.replace(second=0, microsecond=0)


def dim_key(row: Any, dim: str) -> Any:
    """A row's value for a group_by dimension, as compared (``actor`` is a user or API key id)."""
    dims = row.dims
    if dim == "actor":
        return dims.get("actor_user_id") or dims.get("api_key_id")
    if dim == "actor_type":
        if dims.get("actor_user_id"):
            return "user_actor"
        return "api_actor" if dims.get("api_key_id") else None
    return dims.get(dim)


def dim_value(org: AdminState, row: Any, dim: str) -> Any:
    """A row's value for a group_by dimension, as served (``actor`` is an actor object)."""
    if dim == "actor":
        if row.dims.get("actor_user_id"):
            return user_actor(org, row.dims["actor_user_id"])
        if row.dims.get("api_key_id"):
            return {"type": "api_actor", "api_key_id": row.dims["api_key_id"]}
        return None
    return dim_key(row, dim)


def cost_metrics(rows: list[CostRow], group_by: list[str]) -> dict[str, Any]:
    """The summed cost of ``rows`` (no request count when grouped by cost_type or token_type)."""
    amount = sum((r.amount for r in rows), Decimal(0))
    list_amount = sum((r.list_amount for r in rows), Decimal(0))
    requests = None if FANOUT_DIMS & set(group_by) else sum(r.requests or 0 for r in rows)
    return {
        "amount": dec_str(amount),
        "list_amount": dec_str(list_amount),
        "currency": "USD",
        "requests": requests,
    }


def usage_metrics(rows: list[UsageRow]) -> dict[str, Any]:
    """The summed token usage of ``rows``."""
    uncached = output = cache_read = c5m = c1h = web_search = requests = 0
    for r in rows:
        uncached += r.uncached
        output += r.output
        cache_read += r.cache_read
        c5m += r.cache_5m
        c1h += r.cache_1h
        web_search += r.web_search
        requests += r.requests or 0
    return {
        "uncached_input_tokens": uncached,
        "output_tokens": output,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": c5m, "ephemeral_1h_input_tokens": c1h},
        "server_tool_use": {"web_search_requests": web_search},
        "total_tokens": uncached + output + cache_read + c5m + c1h,
        "requests": requests,
    }
