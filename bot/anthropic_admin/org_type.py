"""Which kind of organization the admin key belongs to, and what that kind accepts.

A Claude Console (API) org and a Claude Enterprise org share the Admin API but not its vocabulary: Console orgs
give `user`, `developer`, `billing` and `claude_code_user`, Enterprise orgs `user` and `managed`; Console orgs set
organization and workspace spend limits, Enterprise orgs only per-person ones and have increase requests.
`GET /me` doesn't say which kind an org is, so `auto` asks once, cheaply, with a question only a Console org
answers: the users listing filtered on the Console-only `developer` role (one user at most). An Enterprise org
refuses that filter with a 400. The answer is kept for the life of the gateway.
"""

from __future__ import annotations

from typing import cast

from bot.anthropic_admin.errors import BadRequest, FeatureUnavailable, RoleNotAssignable
from bot.anthropic_admin.transport import Transport, log
from bot.anthropic_admin.types import ORG_KIND, AssignableOrgRole, OrgType

# The org roles the API gives, per org type (`admin` and the Enterprise owner roles never).
ASSIGNABLE_BY_TYPE: dict[str, tuple[AssignableOrgRole, ...]] = {
    "console": ("developer", "user", "billing", "claude_code_user"),
    "enterprise": ("user", "managed"),
}
# The role a person needs in the org to create API keys in a workspace they belong to.
KEY_CREATING_ROLE: dict[str, AssignableOrgRole] = {"console": "developer", "enterprise": "user"}
_CONSOLE_ONLY_ROLE = "developer"


class OrgTypeCalls(Transport):
    """The org type (set, or detected once) and the roles and spend-limit features it has."""

    def org_type(self) -> OrgType:
        """ "console" or "enterprise": ANTHROPIC_ORG_TYPE, or detected from the API once (AdminAPIError if it
        can't be asked right now; nothing is kept then, so the next call asks again)."""
        if self._org_type is not None:
            return self._org_type
        with self._org_type_lock:
            if self._org_type is None:
                self._org_type = self._detect_org_type()
                log.info("Anthropic organization type detected: %s", self._org_type)
        return self._org_type

    def _detect_org_type(self) -> OrgType:
        try:
            self._call("users.list", lambda: self._org.users.list(limit=1, roles=[_CONSOLE_ONLY_ROLE]))
        except BadRequest:
            return "enterprise"
        return "console"

    def key_creating_role(self) -> AssignableOrgRole:
        """The org role that lets a workspace member create API keys: `developer` (Console) or `user` (Enterprise)."""
        return KEY_CREATING_ROLE[self.org_type()]

    def assignable_org_roles(self) -> tuple[AssignableOrgRole, ...]:
        """The org roles this org accepts for invites and role changes."""
        return ASSIGNABLE_BY_TYPE[self.org_type()]

    def org_role_for(self, role: str) -> AssignableOrgRole:
        """`role` if this org gives it; otherwise RoleNotAssignable in a sentence naming the roles it has."""
        kind = self.org_type()
        accepted = ASSIGNABLE_BY_TYPE[kind]
        if role not in accepted:
            names = ", ".join(f"`{r}`" for r in accepted)
            raise RoleNotAssignable(
                f"This Anthropic organization is a {ORG_KIND[kind]} org, which has no `{role}` role to give; "
                f"the roles it accepts are {names}."
            )
        return cast(AssignableOrgRole, role)

    def _require_spend_scope(self, scope_type: str) -> None:
        """Refuse, in a sentence, a spend-limit scope this org type can't set."""
        kind = self.org_type()
        if kind == "enterprise" and scope_type in ("organization", "workspace"):
            raise FeatureUnavailable(
                f"{scope_type.capitalize()} spend limits aren't available on a Claude Enterprise org: it sets "
                "limits per person. Set them in the Claude admin settings instead."
            )
        if kind == "console" and scope_type == "user":
            raise FeatureUnavailable(
                "Per-person spend limits aren't available on a Claude Console org; it has organization and "
                "workspace limits."
            )

    def _require_increase_requests(self) -> None:
        """Refuse, in a sentence, increase requests on a Console org (they exist only on Enterprise orgs)."""
        if self.org_type() == "console":
            raise FeatureUnavailable(
                "Spend-limit increase requests aren't available on a Claude Console org; they exist only on "
                "Claude Enterprise orgs."
            )
