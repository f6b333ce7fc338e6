"""Access requests: `/claude-key request|requests|invite|audit`, the approval thread and its jobs.

`parse` reads arguments and forms, `intake` files and lists requests, `decide` approves, denies, cancels,
retries and expires them, `fulfil` makes approvals real through the Admin API, `state` is the one way a
request changes state, `card` keeps the admin-channel message and thread, `jobs` runs the scheduled
follow-ups, `audit` exports the audit log, `model` holds the value types and `blocks/` renders all of it.
"""
