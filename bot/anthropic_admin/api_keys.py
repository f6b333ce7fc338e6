"""Calls about API keys: list, read, rename, and set active, inactive or archived."""

from __future__ import annotations

from collections.abc import Iterator

from anthropic import omit

from bot.anthropic_admin import convert
from bot.anthropic_admin.transport import PAGE_SIZE, Transport
from bot.anthropic_admin.types import ApiKey, ApiKeyStatus, SettableApiKeyStatus


class ApiKeyCalls(Transport):
    """API keys; the Admin API has no endpoint that creates one."""

    def iter_api_keys(
        self,
        status: ApiKeyStatus | None = None,
        workspace_id: str | None = None,
        created_by_user_id: str | None = None,
    ) -> Iterator[ApiKey]:
        """Every matching API key, fetched a page of 1,000 at a time as you iterate."""
        first = lambda: self._org.api_keys.list(  # noqa: E731
            limit=PAGE_SIZE,
            status=status if status is not None else omit,
            workspace_id=workspace_id if workspace_id is not None else omit,
            created_by_user_id=created_by_user_id if created_by_user_id is not None else omit,
        )
        for page in self._pages("api_keys.list", first):
            for key in page.data:
                yield convert.api_key(key)

    def list_api_keys(
        self,
        status: ApiKeyStatus | None = None,
        workspace_id: str | None = None,
        created_by_user_id: str | None = None,
    ) -> list[ApiKey]:
        """Every matching API key as a list (prefer `iter_api_keys` for whole-org scans)."""
        return list(self.iter_api_keys(status=status, workspace_id=workspace_id, created_by_user_id=created_by_user_id))

    def get_api_key(self, api_key_id: str) -> ApiKey:
        """One API key by id."""
        return convert.api_key(self._call("api_keys.retrieve", lambda: self._org.api_keys.retrieve(api_key_id)))

    def update_api_key(
        self, api_key_id: str, *, status: SettableApiKeyStatus | None = None, name: str | None = None
    ) -> ApiKey:
        """Rename a key and/or set it active, inactive or archived (archived is treated as final)."""
        if status is None and name is None:
            raise ValueError("update_api_key needs a status or a name")
        return convert.api_key(
            self._call(
                "api_keys.update",
                lambda: self._org.api_keys.update(
                    api_key_id,
                    status=status if status is not None else omit,
                    name=name if name is not None else omit,
                ),
            )
        )
