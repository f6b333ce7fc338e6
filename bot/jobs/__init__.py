"""Scheduled-job machinery: context and result (`context`), spec, the lease-and-ledger runner, the scheduler.

The jobs themselves live in their domains; `bot/registry.py` lists them.
"""
