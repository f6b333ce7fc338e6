"""SDK model -> gateway type, and exact conversions between the API's minor units (cents) and dollars."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from anthropic.types.beta import BetaOrganization
from anthropic.types.beta.organization import (
    BetaAnalyticsActor,
    BetaAnalyticsReportUserActor,
    BetaAPIKey,
    BetaAPIKeyWorkspaceScope,
    BetaOrganizationInvite,
    BetaOrganizationRateLimit,
    BetaOrganizationRateLimitModelGroup,
    BetaOrganizationUser,
    BetaSpendLimit,
    BetaSpendLimitUserActor,
    BetaSpendLimitUserScope,
    BetaSpendLimitWorkspaceScope,
    BetaWorkspace,
    BetaWorkspaceMember,
)
from anthropic.types.beta.organization.analytics import BetaAnalyticsCostItem, BetaAnalyticsUsageItem
from anthropic.types.beta.organization.spend_limits import (
    BetaSpendLimitIncreaseRequest,
    IncreaseRequestApproveResponse,
)
from anthropic.types.beta.organization.workspaces import BetaWorkspaceRateLimit

from bot.anthropic_admin.errors import InvalidAmount, Unavailable
from bot.anthropic_admin.types import (
    ApiKey,
    CostRow,
    IncreaseRequest,
    Invite,
    Organization,
    OrgUser,
    RateLimitGroup,
    RateLimitValue,
    SpendLimit,
    UsageRow,
    Workspace,
    WorkspaceMember,
)


def minor_units_to_usd(value: str) -> Decimal:
    """A decimal string in (fractional) cents -> dollars, exactly: "1234.567" -> Decimal("12.34567")."""
    try:
        cents = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise Unavailable(
            "The Anthropic Admin API sent an amount the bot couldn't read; please try again later.",
            retryable=False,
        ) from exc
    if not cents.is_finite():
        raise Unavailable(
            "The Anthropic Admin API sent an amount the bot couldn't read; please try again later.",
            retryable=False,
        )
    return cents / 100


def usd_to_minor_units(amount_usd: Decimal) -> str:
    """Dollars -> an integer string of cents ("500.00" -> "50000"); fractions of a cent are refused."""
    if not isinstance(amount_usd, Decimal):
        raise TypeError("amount_usd must be a Decimal, not a float, so that cents stay exact")
    if not amount_usd.is_finite() or amount_usd < 0:
        raise InvalidAmount()
    cents = amount_usd.scaleb(2)
    if cents != cents.to_integral_value():
        raise InvalidAmount("Spend amounts must be whole cents; fractions of a cent can't be set.")
    return str(int(cents))


def organization(o: BetaOrganization) -> Organization:
    """An SDK organization as an `Organization`."""
    return Organization(id=o.id, name=o.name)


def user(u: BetaOrganizationUser) -> OrgUser:
    """An SDK organization user as an `OrgUser`."""
    return OrgUser(id=u.id, email=u.email, name=u.name, role=u.role, added_at=u.added_at)


def invite(i: BetaOrganizationInvite) -> Invite:
    """An SDK invite as an `Invite`."""
    return Invite(
        id=i.id,
        email=i.email,
        role=i.role,
        status=i.status,
        invited_at=i.invited_at,
        expires_at=i.expires_at,
        accepted_at=i.accepted_at,
    )


def workspace(w: BetaWorkspace) -> Workspace:
    """An SDK workspace as a `Workspace`."""
    return Workspace(id=w.id, name=w.name, archived_at=w.archived_at, created_at=w.created_at)


def member(m: BetaWorkspaceMember) -> WorkspaceMember:
    """An SDK workspace member as a `WorkspaceMember`."""
    return WorkspaceMember(workspace_id=m.workspace_id, user_id=m.user_id, workspace_role=m.workspace_role)


def api_key(k: BetaAPIKey) -> ApiKey:
    """An SDK API key as an `ApiKey` (workspace only for workspace-scoped keys, creator only if a user)."""
    # Naming mismatch in the API: `created_by.type` is "user" while `principal.type` is "user_actor".
    created_by = k.created_by.id if k.created_by is not None and k.created_by.type == "user" else None
    workspace_id = k.scope.workspace_id if isinstance(k.scope, BetaAPIKeyWorkspaceScope) else None
    return ApiKey(
        id=k.id,
        name=k.name,
        status=k.status,
        workspace_id=workspace_id,
        created_at=k.created_at,
        expires_at=k.expires_at,
        created_by_user_id=created_by,
        partial_key_hint=k.partial_key_hint,
    )


def _actor_user_id(actor: BetaAnalyticsActor | None) -> str | None:
    return actor.user_id if isinstance(actor, BetaAnalyticsReportUserActor) else None


def cost_row(item: BetaAnalyticsCostItem) -> CostRow:
    """One analytics cost item as a `CostRow`, amounts in exact dollars."""
    g = item.group
    return CostRow(
        starting_at=item.starting_at,
        ending_at=item.ending_at,
        amount_usd=minor_units_to_usd(item.cost.amount),
        list_amount_usd=minor_units_to_usd(item.cost.list_amount),
        currency=item.cost.currency,
        model=g.model,
        workspace_id=g.workspace_id,
        api_key_id=g.api_key_id,
        actor_user_id=_actor_user_id(g.actor),
        token_type=g.token_type,
        cost_type=g.cost_type,
        product=g.product,
    )


def usage_row(item: BetaAnalyticsUsageItem) -> UsageRow:
    """One analytics usage item as a `UsageRow` (both cache-creation durations summed)."""
    g, u = item.group, item.usage
    return UsageRow(
        starting_at=item.starting_at,
        ending_at=item.ending_at,
        uncached_input_tokens=u.uncached_input_tokens,
        cache_read_input_tokens=u.cache_read_input_tokens,
        cache_creation_tokens=u.cache_creation.ephemeral_1h_input_tokens + u.cache_creation.ephemeral_5m_input_tokens,
        output_tokens=u.output_tokens,
        total_tokens=u.total_tokens,
        requests=u.requests,
        model=g.model,
        workspace_id=g.workspace_id,
        api_key_id=g.api_key_id,
        actor_user_id=_actor_user_id(g.actor),
    )


def spend_limit(s: BetaSpendLimit) -> SpendLimit:
    """An SDK spend limit as a `SpendLimit`, amount in exact dollars."""
    return SpendLimit(
        id=s.id,
        scope_type=s.scope.type,
        workspace_id=s.scope.workspace_id if isinstance(s.scope, BetaSpendLimitWorkspaceScope) else None,
        user_id=s.scope.user_id if isinstance(s.scope, BetaSpendLimitUserScope) else None,
        amount_usd=minor_units_to_usd(s.amount) if s.amount is not None else None,
        currency=s.currency,
        period=s.period,
        is_enabled=s.is_enabled,
    )


def increase_request(r: BetaSpendLimitIncreaseRequest | IncreaseRequestApproveResponse) -> IncreaseRequest:
    """An SDK increase request (or the answer to an approve) as an `IncreaseRequest`."""
    person = r.actor if isinstance(r.actor, BetaSpendLimitUserActor) else None
    summary = r.spend_summary
    return IncreaseRequest(
        id=r.id,
        status=r.status,
        period=r.period,
        created_at=r.created_at,
        requester_user_id=person.user_id if person else None,
        requester_email=person.email_address if person else None,
        requester_name=person.name if person else None,
        current_limit_usd=minor_units_to_usd(summary.amount) if summary and summary.amount is not None else None,
        period_to_date_spend_usd=minor_units_to_usd(summary.period_to_date_spend) if summary else None,
        resolved_at=r.resolved_at,
        currency=summary.currency if summary else None,
    )


def rate_limit_group(entry: BetaOrganizationRateLimit | BetaWorkspaceRateLimit) -> RateLimitGroup:
    """An org or workspace rate-limit entry as a `RateLimitGroup` (a workspace's values say whether overridden)."""
    group = entry.group
    name = group.display_name if isinstance(group, BetaOrganizationRateLimitModelGroup) else group.type
    if isinstance(entry, BetaWorkspaceRateLimit):
        values = tuple(
            RateLimitValue(type=v.type, value=v.value, org_limit=v.org_limit, override=v.source.type == "workspace")
            for v in entry.limits
        )
        return RateLimitGroup(
            rate_limit_id=entry.rate_limit_id,
            group_id=group.id,
            group_type=group.type,
            name=name,
            models=tuple(entry.models or ()),
            limits=values,
            workspace_id=entry.workspace_id,
        )
    return RateLimitGroup(
        rate_limit_id=entry.id,
        group_id=group.id,
        group_type=group.type,
        name=name,
        models=tuple(entry.models or ()),
        limits=tuple(RateLimitValue(type=v.type, value=v.value, org_limit=v.value) for v in entry.limits),
    )
