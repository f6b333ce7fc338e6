"""Thin Slack listeners, one module per family; `handlers.listeners.register` wires them all.

This package's own import is light (no Bolt): a worker process imports `handlers.tasks` and `handlers.durable`
without the listeners.
"""
