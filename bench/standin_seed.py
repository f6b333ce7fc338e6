"""How long the Admin API stand-in takes to seed an org at scale (`seed_scale`) and page through it.

    .venv/bin/python bench/standin_seed.py [--users 2000] [--workspaces 100] [--keys 20000]

A figure, not a test: tests/sandbox/test_anthropic_contract.py checks the paging, never the time.
"""

from __future__ import annotations

import argparse
import time

import anthropic

from bot.sandbox.anthropic import AnthropicStandIn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--workspaces", type=int, default=100)
    parser.add_argument("--keys", type=int, default=20000)
    args = parser.parse_args()
    with AnthropicStandIn() as standin:
        started = time.perf_counter()
        standin.seed_scale(args.users, args.workspaces, args.keys)
        seeded = time.perf_counter() - started
        client = anthropic.Anthropic(api_key=standin.admin_key, base_url=standin.base_url, max_retries=0)
        started = time.perf_counter()
        keys = sum(1 for _ in client.beta.organization.api_keys.list(limit=1000))
        paged = time.perf_counter() - started
        client.close()
    print(f"seed_scale({args.users} users, {args.workspaces} workspaces, {args.keys} keys): {seeded:.2f} s")
    print(f"api_keys.list of {keys} keys in pages of 1,000: {paged:.2f} s")


if __name__ == "__main__":
    main()
