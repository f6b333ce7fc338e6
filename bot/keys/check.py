"""`/claude-key check <key-id | hint>`: why does a key fail? Inactive, archived, expired, its workspace archived,
a spend limit reached, or busy minutes that reach the real rate limits of its workspace and model group."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from bot.anthropic_admin import (
    AdminAPIError,
    ApiKey,
    FeatureUnavailable,
    NotFound,
    RateLimitGroup,
    UsageRow,
)
from bot.anthropic_admin import rate_limit_rules as rate_limits
from bot.core import periods
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, confirm_role, resolve_actor
from bot.keys import messages as msg
from bot.keys.activity import floor
from bot.keys.common import EXPIRY_WARNING_DAYS, get_key, is_key_id, key_view, local_today, member_id, owns
from bot.keys.model import Diagnosis, Finding, FindingKind, KeyView, Severity
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AuditEvent

# The Admin API reports no 429s, so the key's busiest minutes against its real limits are the visible sign; at
# this share of a limit the diagnosis warns.
NEAR_RATE_LIMIT = 0.8
_SECRET = re.compile(r"^sk-ant-[a-z]+\d*-[A-Za-z0-9_-]{20,}$")


def _hint_core(text: str) -> str:
    return re.sub(r"(\.\.\.|…)", "", text.strip()).removeprefix("sk-ant-api03-").removeprefix("sk-ant-")


def _find_key(deps: Deps, actor: Actor, query: str) -> ApiKey:
    if is_key_id(query):
        return get_key(deps, query)
    if _SECRET.match(query):
        raise UserError(msg.WHOLE_SECRET)
    core = _hint_core(query)
    if len(core) < 4:
        raise UserError(msg.HINT_TOO_SHORT)
    keys = (
        deps.admin.iter_api_keys() if actor.is_admin else deps.admin.list_api_keys(created_by_user_id=member_id(actor))
    )
    matches = [k for k in keys if k.partial_key_hint and core in k.partial_key_hint]
    if not matches:
        raise UserError(msg.no_hint_match(query, among_own=not actor.is_admin))
    if len(matches) > 1:
        raise UserError(msg.many_hint_matches(query, [k.id for k in matches]))
    return matches[0]


def check(deps: Deps, *, slack_user_id: str, query: str) -> Diagnosis:
    """Why does a key fail? Inactive, archived, expired, its workspace archived, a spend limit reached, or
    minutes that reach its rate limits; what was found, for the builder to say in plain words."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    if actor.is_admin:
        actor = confirm_role(deps, actor)  # others' keys: a role checked just now
    key = _find_key(deps, actor, query)
    if not (actor.is_admin or owns(actor, key)):
        raise UserError(msg.someone_elses_check(key.id))
    with session_scope(deps.engine) as session:
        revoked = repo.last_revocation(session=session, key_id=key.id)
    findings: list[Finding] = []
    try:
        workspace = deps.admin.get_workspace(key.workspace_id) if key.workspace_id else None
    except NotFound:
        workspace = None
    view = key_view(key, deps, now, workspaces={workspace.id: workspace.name} if workspace else {})
    findings += _status_findings(deps, view, now, revoked)
    if workspace is not None and workspace.archived_at is not None:
        on = workspace.archived_at.astimezone(deps.settings.tz).date()
        findings.append(Finding("fail", "workspace_archived", name=workspace.name, on=on))
    as_of: list[datetime] = []
    for what, look in (("spend limits", _spend_findings), ("rate limits", _rate_limit_findings)):
        try:
            findings += look(deps, key, now, as_of)
        except AdminAPIError as exc:  # one check failing must not hide what the others found
            findings.append(Finding("info", "lookup_failed", name=what, note=exc.user_message))
    if not any(f.severity == "fail" for f in findings):
        findings.append(Finding("info", "how_to_send"))
    oldest = min(as_of, default=None)
    local = oldest.astimezone(deps.settings.tz) if oldest else None  # date tokens' fallback in TIMEZONE
    return Diagnosis(view, findings, as_of=local, console_url=deps.settings.console_url)


def _status_findings(deps: Deps, view: KeyView, now: datetime, revoked: AuditEvent | None) -> list[Finding]:
    if view.status == "archived":
        return [Finding("fail", "archived")]
    if view.status == "expired":
        return [Finding("fail", "expired", on=view.expires)]
    if view.status == "inactive":
        if revoked is None:
            return [Finding("fail", "deactivated")]
        on = revoked.at.astimezone(deps.settings.tz).date()
        return [Finding("fail", "deactivated", by=revoked.actor_slack_id, on=on, note=revoked.detail or "")]
    findings = [Finding("ok", "active")]
    if view.expires is not None:
        left = (view.expires - local_today(deps, now)).days
        if left <= EXPIRY_WARNING_DAYS:
            findings.append(Finding("warn", "expires_soon", days=left, on=view.expires))
    if view.days_to_rotation <= 0:
        findings.append(Finding("warn", "rotation_overdue", key_id=view.id))
    return findings


def _spend_findings(deps: Deps, key: ApiKey, now: datetime, as_of: list[datetime]) -> list[Finding]:
    """Org or workspace at its monthly spend limit (the limits API is early access; say so when it's off)."""
    try:
        limits = [
            s
            for s in deps.admin.list_spend_limits()
            if s.period == "monthly"
            and s.is_enabled
            and s.amount_usd is not None
            and s.scope_type in {"organization", "usage_tier", "workspace"}
        ]
    except FeatureUnavailable:
        return [Finding("info", "spend_limits_unreadable")]
    relevant = [s for s in limits if s.scope_type != "workspace" or s.workspace_id == key.workspace_id]
    if not relevant:
        return []
    report = deps.admin.cost_report(
        starting_at=max(periods.month_start(now, deps.settings.tz), floor(now)),
        ending_at=now,
        group_by=["workspace_id"],
    )
    if report.data_refreshed_at is not None:
        as_of.append(report.data_refreshed_at)
    org_total = sum((r.amount_usd for r in report.rows), Decimal(0))
    reported = {r.currency.upper() for r in report.rows} or {"USD"}  # analytics cost: USD today
    findings: list[Finding] = []
    for limit in relevant:
        assert limit.amount_usd is not None
        workspace = limit.scope_type == "workspace"
        scope: Literal["workspace", "organization"] = "workspace" if workspace else "organization"
        if reported != {limit.currency.upper()}:  # never compare amounts across currencies
            findings.append(
                Finding(
                    "info", "spend_limit_other_currency", scope=scope, limit=limit.amount_usd, currency=limit.currency
                )
            )
            continue
        spent = (
            sum((r.amount_usd for r in report.rows if r.workspace_id == key.workspace_id), Decimal(0))
            if workspace
            else org_total
        )
        kind: FindingKind | None = (
            "spend_limit_reached"
            if spent >= limit.amount_usd
            else "spend_limit_near"
            if spent >= limit.amount_usd * 9 / 10
            else None
        )
        if kind is not None:
            severity: Severity = "fail" if kind == "spend_limit_reached" else "warn"
            findings.append(
                Finding(severity, kind, scope=scope, spent=spent, limit=limit.amount_usd, currency=limit.currency)
            )
    return findings


def _rate_limit_findings(deps: Deps, key: ApiKey, now: datetime, as_of: list[datetime]) -> list[Finding]:
    """The key's busiest minute of the last 24 hours per model group against the limits of its workspace and model
    group (the lower of a workspace override and the org's limit applies); a finding for each limit reached."""
    start = max(now - timedelta(hours=24), floor(now))
    report = deps.admin.usage_report(
        starting_at=start, ending_at=now, bucket_width="1m", group_by=["api_key_id", "model"], api_key_ids=[key.id]
    )
    if report.data_refreshed_at is not None:
        as_of.append(report.data_refreshed_at)
    rows = [r for r in report.rows if r.api_key_id == key.id]
    if not rows:
        return []
    org_groups = deps.admin.list_rate_limits()
    overrides: dict[str, RateLimitGroup] = {}
    if key.workspace_id:
        try:
            overrides = {g.rate_limit_id: g for g in deps.admin.list_workspace_rate_limits(key.workspace_id)}
        except NotFound:  # an archived or deleted workspace: the org's limits still say something
            overrides = {}
    by_group: dict[str, list[UsageRow]] = {}
    for row in rows:
        group = rate_limits.group_for_model(row.model, org_groups)
        if group is not None:
            by_group.setdefault(group.rate_limit_id, []).append(row)
    findings: list[Finding] = []
    for group in org_groups:
        group_rows = by_group.get(group.rate_limit_id)
        if not group_rows:
            continue
        limits = rate_limits.limits_of(group, overrides.get(group.rate_limit_id))
        peaks = rate_limits.minute_peaks(group_rows, [limit.type for limit in limits])
        for limit in limits:
            peak, cap = peaks[limit.type], limit.enforced
            fraction = rate_limits.share(peak.used, cap)
            if fraction is None or fraction < NEAR_RATE_LIMIT or cap is None or peak.at is None:
                continue
            findings.append(
                Finding(
                    "fail" if fraction >= 1 else "warn",
                    "rate_limit_hit" if fraction >= 1 else "rate_limit_near",
                    name=group.name,
                    note=rate_limits.LABELS.get(limit.type, limit.type),
                    at=peak.at.astimezone(deps.settings.tz),
                    used=peak.used,
                    cap=cap,
                    scope="workspace" if limit.workspace is not None else "organization",
                    override=limit.workspace is not None and limit.workspace == cap,
                )
            )
    return findings
