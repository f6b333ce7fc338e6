"""Rate limits as numbers: which limit applies to a model, and a minute's use against it (no SDK needed, so the
acking process and the builders can import it). The Admin API calls that read the limits are `rate_limits`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.anthropic_admin.types import RateLimitGroup, RateLimitValue, UsageRow

REQUESTS = "requests_per_minute"
INPUT = "input_tokens_per_minute"
INPUT_CACHE_AWARE = "input_tokens_per_minute_cache_aware"
OUTPUT = "output_tokens_per_minute"
TOKENS = "tokens_per_minute"

# What a limiter counts, from one usage row. `input_tokens_per_minute` counts every input token, cache reads
# included; the cache-aware one (usual for an org's input limit on current models) leaves cache reads out.
MEASURES: dict[str, Callable[[UsageRow], int]] = {
    REQUESTS: lambda r: r.requests or 0,
    INPUT_CACHE_AWARE: lambda r: r.uncached_input_tokens + r.cache_creation_tokens,
    INPUT: lambda r: r.uncached_input_tokens + r.cache_creation_tokens + r.cache_read_input_tokens,
    OUTPUT: lambda r: r.output_tokens,
    TOKENS: lambda r: r.total_tokens,
}
# The limiters `limits`, `check` and the headroom job compare with usage, in the order they are shown.
SHOWN = (REQUESTS, INPUT_CACHE_AWARE, INPUT, OUTPUT, TOKENS)
LABELS = {
    REQUESTS: "requests/min",
    INPUT_CACHE_AWARE: "input tokens/min",
    INPUT: "input tokens/min (cache reads count)",
    OUTPUT: "output tokens/min",
    TOKENS: "tokens/min",
}


# -- what counts toward a limit ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limit:
    """One limiter of a group as it applies to a scope: the org's value, a workspace override, the lower of the two
    (what is enforced)."""

    type: str
    org: int | None
    workspace: int | None = None  # a workspace-level override, if one is stored

    @property
    def enforced(self) -> int | None:
        """The value that applies: the lower of the workspace override and the org's limit."""
        values = [v for v in (self.org, self.workspace) if v is not None]
        return min(values) if values else None


@dataclass(frozen=True, slots=True)
class Peak:
    """The busiest minute of one limiter: how much was used then, and when (None: no usage)."""

    used: int = 0
    at: datetime | None = None


def limits_of(org: RateLimitGroup, workspace: RateLimitGroup | None = None) -> list[Limit]:
    """The shown limiters of a group for the org, or for a workspace with its overrides."""
    overrides: dict[str, RateLimitValue] = {v.type: v for v in workspace.limits if v.override} if workspace else {}
    org_values = {v.type: v.value for v in org.limits}
    out = []
    for kind in SHOWN:
        if kind not in org_values and kind not in overrides:
            continue
        override = overrides.get(kind)
        out.append(Limit(kind, org_values.get(kind), override.value if override is not None else None))
    return out


def group_for_model(model: str | None, groups: Iterable[RateLimitGroup]) -> RateLimitGroup | None:
    """The model group a usage row's model belongs to: an exact name or alias, else the longest alias the dated
    name starts with (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`)."""
    if not model:
        return None
    best: tuple[int, RateLimitGroup] | None = None
    for group in groups:
        for name in group.models:
            if name == model:
                return group
            if model.startswith(name + "-") and (best is None or len(name) > best[0]):
                best = (len(name), group)
    return best[1] if best else None


def minute_peaks(rows: Iterable[UsageRow], kinds: Iterable[str]) -> dict[str, Peak]:
    """The busiest minute of each limiter over `1m` usage rows (rows of one minute summed: models, keys)."""
    per_minute: dict[datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    wanted = [k for k in kinds if k in MEASURES]
    for row in rows:
        minute = per_minute[row.starting_at]
        for kind in wanted:
            minute[kind] += MEASURES[kind](row)
    peaks: dict[str, Peak] = {}
    for kind in wanted:
        best = Peak()
        for at in sorted(per_minute):
            used = per_minute[at][kind]
            if used > best.used:
                best = Peak(used, at)
        peaks[kind] = best
    return peaks


def share(used: int, limit: int | None) -> float | None:
    """`used` as a fraction of `limit` (None without a positive limit)."""
    return used / limit if limit else None
