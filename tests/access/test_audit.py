"""`/claude-key audit`: the audit log as a CSV file in an admin's DM, safe to open in a spreadsheet."""
# ruff: noqa: F811  (the `flow` fixture is imported from tests/access/test_requests.py, then requested by name)

from __future__ import annotations

from bot.slack.ids import Action
from storage.models import AuditEvent, RequestState
from tests.access.test_requests import Flow, flow  # noqa: F401 - fixture

S = RequestState


def test_audit_export_is_a_csv_dm_for_admins_only(flow: Flow) -> None:
    flow.command("request default-ws for 7d audit me", user="U0NEW")
    flow.click(Action.APPROVE_REQUEST, 1)
    flow.wait_state(1, S.INVITED)
    assert "Only admins" in flow.command("audit 7", user="U0DEV")
    assert "Usage" in flow.command("audit forever", user="U0ADMIN")
    answer = flow.command("audit 7", user="U0ADMIN")
    assert "sent you the audit log" in answer
    complete = flow.slack.wait_for("files.completeUploadExternal")
    assert complete[-1].body["channel_id"] == flow.slack.dm_channel_id("U0ADMIN")
    upload = next(u for u in flow.slack.uploads.values() if u.filename.endswith(".csv"))
    assert upload.data is not None
    text = upload.data.decode()
    lines = text.splitlines()
    assert lines[0].startswith("at,actor_slack_id,actor_anthropic_id,action")
    assert any(",request.created," in line for line in lines)
    assert any(",request.invited," in line for line in lines)
    assert "sk-ant-" not in text and "xoxb-" not in text


def test_audit_csv_cells_cannot_become_formulas() -> None:
    from datetime import UTC, datetime

    from bot.access.audit import audit_csv

    row = AuditEvent(
        action="x",
        subject_type="request",
        subject_id="1",
        detail='=HYPERLINK("http://evil")',
        at=datetime(2026, 11, 2, tzinfo=UTC),
    )
    assert "'=HYPERLINK" in audit_csv([row])
