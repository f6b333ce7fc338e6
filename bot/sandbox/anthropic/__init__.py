"""A stateful stand-in of the Anthropic organization Admin API, served over real HTTP on loopback.

The real ``anthropic.Anthropic(api_key=..., base_url=standin.base_url, _strict_response_validation=True)``
client talks to it; nothing in the SDK is mocked. Shapes, paths, pagination and error bodies follow the
Admin API's documentation and the SDK 2.13.0 models (tests/sandbox/test_anthropic_contract.py checks them).

Quick use::

    with AnthropicStandIn() as standin:
        standin.seed_basic()
        client = anthropic.Anthropic(api_key=standin.admin_key, base_url=standin.base_url)
        client.beta.organization.users.list()

Public API: ``start()``/``stop()``/context manager, ``base_url``, ``port``, ``admin_key``; records
(``requests``, ``matching``, ``count``, ``wait_for``, ``reset_requests``); faults (``inject``, ``clear_faults``,
``latency``); knobs (``org_type``, ``allowed_email_domains``, ``member_limit``, ``workspace_member_limit``,
``org_api_key_limit``, ``workspace_api_key_limit``, ``spend_limit_writes_enabled``, ``usage_tier_amount``,
``data_refreshed_at``, ``clock_now``, ``currency``, ``org_name``; ``default_workspace_id``); seeding
(``add_user``, ``add_invite``, ``accept_invite``,
``add_workspace``, ``add_member``, ``add_api_key``, ``add_cost``, ``add_usage``, ``add_spend_limit``,
``add_increase_request``, ``set_period_spend``, ``add_claude_code``, ``seed_basic``, ``seed_scale``), each
returning API JSON.
CLI: ``python -m bot.sandbox.anthropic --port 0 [--latency S] [--seed-scale U,W,K]`` prints
``READY <base_url>`` and serves until SIGTERM/SIGINT.

Behaviour worth knowing (the real API does not document all of it; choices here are marked):

* Auth: only ``Authorization: Bearer <admin_key>`` is accepted; anything else is 401 authentication_error.
* Every request is recorded (``requests``, ``count``, ``wait_for``), including unauthenticated and faulted ones.
* Ordering (stand-in choice, stable): every ID-cursor list (users, invites, workspaces, workspace members,
  api_keys) is ascending by ID, which is creation order (IDs are monotonic). Workspace members are keyed and
  ordered by ``user_id``. ``after_id``/``before_id`` are mutually exclusive (400 if both).
  spend_limits: Console newest first (created_at, then ID); Enterprise grouped organization, seat_tier,
  rbac_group, organization_service, user. Increase requests newest first. Effective rows by user ID.
  Analytics rows by the ``order_by`` metric (default amount / total_tokens, desc), ties by time then group.
* Computed statuses: a ``pending`` invite or an ``active`` key whose ``expires_at`` has passed reads
  ``expired``.
* The Default Workspace (``default_workspace_id``, name "Default") exists from the start; ``workspaces.list``
  leaves it out unless ``include_default=true``, while keys and analytics rows carry its real id. It can't be
  archived or renamed.
* Archiving a workspace archives its keys (inferred). Removing a user drops their workspace memberships and
  hides their increase requests from the list; their keys are untouched.
* Spend limits: ``org_type`` decides the scopes (Console: organization/workspace, monthly, amount required;
  Enterprise: user). retrieve/set/delete need ``spend_limit_writes_enabled`` (default True) else 403
  ``spend_limits_admin_api_writes_not_enabled``. A Console org lists a read-only ``usage_tier`` limit
  (``usage_tier_amount``; None hides it). Setting a scope the org type lacks is a 400
  ``organization_type_not_supported``. Amounts are in ``currency`` (the org's billing currency, default USD).
* Org type (``org_type``, "console" by default, or "enterprise"): each accepts only its own roles for invites
  and role updates (Console: user, developer, billing, claude_code_user; Enterprise: user, managed) and as
  ``roles[]`` filters, else 400 naming the role. Increase requests exist only for Enterprise orgs: a Console org
  answers every increase-request route with 400 ``organization_type_not_supported``.
* Analytics: needs ``anthropic-beta: analytics-usage-cost-2026-08-24`` (else 400). ``starting_at`` must be
  tz-aware, >= 2026-01-01 and within 365 days of ``clock_now`` (the real time when None). Rows are attributed to
  buckets by their ``starting_at``. ``order_by=time`` without a bucket width is a 400 (stand-in choice).
  ``actor`` groups are a ``user_actor`` when the row has ``actor_user_id``, else an ``api_actor`` when it has
  ``api_key_id``. cost_type/token_type do not count toward the 5 group_by dimensions.
* Claude Code Analytics (``GET /usage_report/claude_code``, module ``claude_code``): one UTC day a call
  (``starting_at=YYYY-MM-DD``), ``limit``/``page`` paging, any other parameter a 400; records in the docs' format.
* Faults: ``inject()`` queues faults matched by method + ``re.search`` on the path; the first matching fault
  is consumed. ``status=None`` makes a pass-through fault (delay only, then the real handler runs).

Modules: ``standin`` (lifecycle, recorded requests, faults to inject, dispatch) on the seeding mixins
``seed`` and ``seed_analytics``, on ``state`` (knobs, records, one lock); ``routes`` maps paths to the
handlers per resource in ``users`` (and invites), ``workspaces`` (and members), ``api_keys``,
``spend_limits`` (and effective spend), ``increase_requests`` and ``analytics``; ``render`` (the JSON of
each record), ``paging``, ``request``, ``errors``, ``faults``, ``vocab``, ``convert``, ``records``;
``transport`` (the HTTP server); ``cli`` (``python -m bot.sandbox.anthropic``).
"""

from bot.sandbox.anthropic.cli import main
from bot.sandbox.anthropic.records import AdminRequest
from bot.sandbox.anthropic.standin import AnthropicStandIn
from bot.sandbox.anthropic.vocab import ANALYTICS_BETA, DEFAULT_ADMIN_KEY, SPEND_LIMIT_READS_BETA

__all__ = ["ANALYTICS_BETA", "DEFAULT_ADMIN_KEY", "SPEND_LIMIT_READS_BETA", "AdminRequest", "AnthropicStandIn", "main"]
