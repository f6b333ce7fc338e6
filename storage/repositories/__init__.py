"""Repositories per aggregate: keyword-only functions that flush; the service commits once.

`from storage import repositories as repo` gives every function by its plain name.
"""

from storage.repositories.audit import append_audit, audit_since
from storage.repositories.events import mark_event_processed
from storage.repositories.jobs import (
    last_job_runs,
    ledger_has,
    ledger_record,
    release_lease,
    start_job_run,
    try_acquire_lease,
)
from storage.repositories.requests import add_request, find_requests, get_request, open_duplicate
from storage.repositories.spend import get_budget_row, list_budget_rows, spend_requests_in
from storage.repositories.transitions import transition

__all__ = [
    "add_request",
    "append_audit",
    "audit_since",
    "find_requests",
    "get_budget_row",
    "get_request",
    "last_job_runs",
    "ledger_has",
    "ledger_record",
    "list_budget_rows",
    "mark_event_processed",
    "open_duplicate",
    "release_lease",
    "spend_requests_in",
    "start_job_run",
    "transition",
    "try_acquire_lease",
]
