"""Block Kit and text for access requests, pure functions of the data the services return.

`message` is the admin-channel root message and the request lists, `forms` the request and deny modals,
`notices` what the bot posts on its own (thread replies, DMs), `replies` what the person who typed the
command or clicked the button sees.
"""
