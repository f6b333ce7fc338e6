"""Keeping loopback traffic off proxies: the stand-ins listen on 127.0.0.1 and a proxy must never see it."""

from __future__ import annotations

#: Proxy variables to remove. slack_sdk's sync client honours NO_PROXY (through urllib), but AsyncWebClient and
#: AsyncWebhookClient read HTTPS_PROXY themselves and hand it to aiohttp explicitly, which then ignores NO_PROXY,
#: so loopback calls would go to the proxy.
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def with_loopback(no_proxy: str | None) -> str:
    """A NO_PROXY value that keeps the hosts in ``no_proxy`` and adds 127.0.0.1 and localhost."""
    hosts = [h.strip() for h in (no_proxy or "").split(",") if h.strip()]
    return ",".join([*hosts, *(h for h in ("127.0.0.1", "localhost") if h not in hosts)])
