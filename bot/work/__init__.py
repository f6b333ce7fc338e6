"""Durable after-ack work: items stored at the ack (`enqueue`), run by worker threads (`WorkRunner`) in this or
another process, each once, answered through the response_url or by DM."""

from bot.work.queue import enqueue
from bot.work.runner import Execute, Retry, WorkRunner, backoff, deliver
from bot.work.wakeup import Wakeup, wakeup_for

__all__ = ["Execute", "Retry", "Wakeup", "WorkRunner", "backoff", "deliver", "enqueue", "wakeup_for"]
