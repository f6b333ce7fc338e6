"""Admin API writes that are never reported as "nothing changed" once they may have happened."""

from bot.writes.intent import CHECK_WITHIN, Intent, Outcome, explain, note, perform, uncertain, unit_of_work
from bot.writes.reconcile import Check, Verdict, reconcile

__all__ = [
    "CHECK_WITHIN",
    "Check",
    "Intent",
    "Outcome",
    "Verdict",
    "explain",
    "note",
    "perform",
    "reconcile",
    "uncertain",
    "unit_of_work",
]
