"""Repositories per aggregate: keyword-only functions that flush; the service commits once.

`from storage import repositories as repo` gives every function by its plain name.
"""

from storage.repositories.audit import (
    append_audit,
    audit_since,
)
from storage.repositories.claude_code import (
    claude_code_days,
    store_claude_code_day,
)
from storage.repositories.directory import (
    directory_size,
    save_slack_users,
    slack_ids_by_email,
)
from storage.repositories.events import (
    mark_event_processed,
    prune_processed_events,
)
from storage.repositories.jobs import (
    database_now,
    last_job_runs,
    ledger_done,
    ledger_has,
    ledger_record,
    ledger_record_all,
    ledger_since,
    prune_job_runs,
    release_lease,
    renew_lease,
    start_job_run,
    try_acquire_lease,
)
from storage.repositories.keys import (
    add_report_root,
    add_rotation,
    complete_rotation,
    get_rotation,
    last_revocation,
    linked_slack_ids,
    open_rotations,
    record_replacement,
    report_root,
    set_rotation_notice,
    unfinished_rotations,
)
from storage.repositories.requests import (
    add_request,
    find_requests,
    get_request,
    open_duplicate,
    requests_of,
    waiting,
)
from storage.repositories.spend import (
    get_budget_row,
    list_budget_rows,
    spend_requests_in,
)
from storage.repositories.transitions import (
    transition,
)
from storage.repositories.work import (
    claim_work,
    enqueue_many,
    enqueue_work,
    extend_claim,
    finish_work,
    give_up_work,
    insert_items_postgres,
    insert_items_sqlite,
    open_work_of,
    pending_work,
    prune_work,
    retry_work,
)
from storage.repositories.writes import (
    begin_write,
    finish_write,
    pending_writes,
    writes_for,
    writes_of_item,
)

__all__ = [
    "add_report_root",
    "add_request",
    "add_rotation",
    "append_audit",
    "audit_since",
    "begin_write",
    "claim_work",
    "claude_code_days",
    "complete_rotation",
    "database_now",
    "directory_size",
    "enqueue_many",
    "enqueue_work",
    "extend_claim",
    "find_requests",
    "finish_work",
    "finish_write",
    "get_budget_row",
    "get_request",
    "get_rotation",
    "give_up_work",
    "insert_items_postgres",
    "insert_items_sqlite",
    "last_job_runs",
    "last_revocation",
    "ledger_done",
    "ledger_has",
    "ledger_record",
    "ledger_record_all",
    "ledger_since",
    "linked_slack_ids",
    "list_budget_rows",
    "mark_event_processed",
    "open_duplicate",
    "open_rotations",
    "open_work_of",
    "pending_work",
    "pending_writes",
    "prune_job_runs",
    "prune_processed_events",
    "prune_work",
    "record_replacement",
    "release_lease",
    "renew_lease",
    "report_root",
    "requests_of",
    "retry_work",
    "save_slack_users",
    "set_rotation_notice",
    "slack_ids_by_email",
    "spend_requests_in",
    "start_job_run",
    "store_claude_code_day",
    "transition",
    "try_acquire_lease",
    "unfinished_rotations",
    "waiting",
    "writes_for",
    "writes_of_item",
]
