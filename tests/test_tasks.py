"""After-ack work as data (handlers/tasks.py): every task is a registered name plus JSON arguments, survives a
trip through JSON, and an unknown name or a closure never reaches the worker pool as work."""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_bolt.async_app import AsyncRespond

from bot.core.errors import SORRY
from bot.deps import Deps, Worker
from bot.slack.reply import Reply
from bot.spend.model import ChartRequest
from handlers import common, durable
from handlers.common import answer_later, run_for_reply, tell_later
from handlers.tasks import TASKS, Task, TaskError, chart_args, chart_from_args, run_task
from tests.botserver import command_body, post_slack

CHART = ChartRequest(
    slack_user_id="U0DEV",
    title="Spend per day",
    comment="November so far",
    filename="spend.png",
    daily={date(2026, 11, 1): {"ml-platform": Decimal("12.50")}, date(2026, 11, 2): {"ml-platform": Decimal("0")}},
    start=date(2026, 11, 1),
    end=date(2026, 11, 2),
)

# One example of every registered task, with arguments of the shape its listener builds.
EXAMPLES: dict[str, dict[str, Any]] = {
    "request.file": {"slack_user_id": "U0DEV", "args": ["ml-platform", "for", "7d", "a", "demo"]},
    "request.file_form": {
        "slack_user_id": "U0DEV",
        "workspace_id": "wrkspc_1",
        "role": "workspace_developer",
        "days": None,
        "reason": "a demo",
    },
    "request.list": {"slack_user_id": "U0DEV", "which": "pending"},
    "request.invite": {"slack_user_id": "U0ADMIN", "args": ["pat@example.com", "developer"]},
    "request.approve": {"slack_user_id": "U0ADMIN", "request_id": 7},
    "request.retry": {"slack_user_id": "U0ADMIN", "request_id": 7},
    "request.cancel": {"slack_user_id": "U0DEV", "request_id": 7},
    "request.deny": {"slack_user_id": "U0ADMIN", "request_id": 7, "reason": "not now"},
    "audit.export": {"slack_user_id": "U0ADMIN", "days": 30},
    "budget.answer": {"slack_user_id": "U0ADMIN", "args": ["set", "5000"]},
    "budget.mirror": {"slack_user_id": "U0ADMIN", "scope_key": "org"},
    "spend_limit.approve": {"slack_user_id": "U0ADMIN", "request_id": "slr_1", "amount": "1250.50"},
    "spend_limit.deny": {"slack_user_id": "U0ADMIN", "request_id": "slr_1"},
    "usage.answer": {"slack_user_id": "U0DEV", "args": ["all", "last-month"]},
    "home.publish": {"slack_user_id": "U0DEV"},
    # the App Home tab's buttons
    "home.act": {"slack_user_id": "U0ADMIN", "name": "request.approve", "args": {"request_id": 1}},
    "usage.chart": chart_args(CHART),
    "claude_code.answer": {"slack_user_id": "U0ADMIN", "args": ["org", "30d"]},  # Claude Code analytics
    "keys.list": {"slack_user_id": "U0ADMIN", "scope": "user", "target": "U0DEV", "page": 2},
    "keys.revoke.start": {"slack_user_id": "U0DEV", "key_id": "apikey_1", "reason": "leaked"},
    "keys.revoke.confirm": {"slack_user_id": "U0DEV", "key_id": "apikey_1", "reason": ""},
    "keys.rotate": {"slack_user_id": "U0DEV", "key_id": "apikey_1"},
    "keys.rotation.deactivate_old": {"slack_user_id": "U0DEV", "rotation_id": 3},
    "keys.check": {"slack_user_id": "U0DEV", "query": "sk-ant-api03-…"},
    "team.role.propose": {"slack_user_id": "U0ADMIN", "target": "<@U0DEV>", "role": "billing", "usage": "Usage: …"},
    "team.role.change": {"slack_user_id": "U0ADMIN", "email": "dev@example.com", "old": "developer", "new": "user"},
    "team.offboard.propose": {"slack_user_id": "U0ADMIN", "target": "lee@example.com", "reason": "left", "usage": "…"},
    "team.offboard.run": {"slack_user_id": "U0ADMIN", "email": "lee@example.com", "reason": "left"},
    # members and invites
    "team.members.list": {"slack_user_id": "U0ADMIN", "which": "workspace", "workspace": "wrkspc_1", "page": 1},
    "team.invite.withdraw": {"slack_user_id": "U0ADMIN", "invite_id": "invite_1", "email": "new@example.com"},
    "team.invite.reinvite": {"slack_user_id": "U0ADMIN", "invite_id": "invite_1", "email": "new@example.com"},
    # leaver-sweep
    "team.leaver.check": {"slack_user_id": "U0LEE"},
    "team.leaver.offboard": {"slack_user_id": "U0ADMIN", "case_id": 1},
    "team.leaver.not_a_leaver": {"slack_user_id": "U0ADMIN", "case_id": 1},
    # rate limits
    "limits.answer": {"slack_user_id": "U0ADMIN", "args": ["workspace", "R&D"]},
    "keys.stale.deactivate": {
        "slack_user_id": "U0ADMIN",
        "key_id": "apikey_1",
        "channel": "C0ADMIN",
        "ts": "1700000000.000100",
        "blocks": [{"type": "section", "block_id": "k1", "text": {"type": "mrkdwn", "text": "*key*"}}],
    },
    # spend alerts that explain themselves
    "budget.spike_planned": {
        "slack_user_id": "U0ADMIN",
        "scope_key": "org",
        "day": "2026-10-17",
        "channel": "C0ADMIN",
        "ts": "1700000000.000100",
        "blocks": [{"type": "actions", "block_id": "spike_planned", "elements": []}],
    },
    # a button at every next step
    "keys.reminder.snooze": {"slack_user_id": "U0DEV", "key_id": "apikey_1"},
    "budget.view_usage": {"slack_user_id": "U0ADMIN", "workspace_id": "wrkspc_1"},
    "budget.change": {"slack_user_id": "U0ADMIN", "scope_key": "org", "amount": "1250.50", "thresholds": [50, 90]},
    "keys.stale.still_in_use": {"slack_user_id": "U0DEV", "key_id": "apikey_1", "week": "2026-W45"},
}


def _through_json(task: Task) -> Task:
    return Task.from_json(json.dumps(json.loads(task.to_json())))


def test_the_examples_cover_every_registered_task() -> None:
    assert set(EXAMPLES) == set(TASKS)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_registered_task_round_trips_through_json(name: str) -> None:
    task = Task(name, EXAMPLES[name])
    again = _through_json(task)
    assert again == task
    # The stored arguments still fit the function they will be handed to.
    inspect.signature(TASKS[name]).bind(object(), **again.args)


def test_a_chart_request_survives_json_as_task_arguments() -> None:
    again = _through_json(Task("usage.chart", chart_args(CHART)))
    assert chart_from_args(again.args) == CHART


@pytest.mark.parametrize(
    "bad",
    [Decimal("1.5"), 1.5, ("a", "b"), date(2026, 11, 1), {1: "x"}, [{"ok": {"s"}}], object()],
    ids=["decimal", "float", "tuple", "date", "int-key", "nested-set", "object"],
)
def test_a_task_refuses_an_argument_json_cannot_hold(bad: Any) -> None:
    with pytest.raises(TaskError, match=re.escape("task 'keys.check'")):
        Task("keys.check", {"slack_user_id": "U0DEV", "query": bad})


def test_a_task_needs_a_name_and_dict_arguments() -> None:
    with pytest.raises(TaskError):
        Task("", {})
    with pytest.raises(TaskError):
        Task("keys.check", ["U0DEV"])  # type: ignore[arg-type]


def test_run_task_refuses_an_unknown_name(deps: Deps) -> None:
    with pytest.raises(TaskError, match=re.escape("no task is registered as 'keys.frobnicate'")):
        run_task(deps, Task("keys.frobnicate", {}))


def test_an_unknown_task_answers_something_went_wrong(deps: Deps, slack_standin: Any) -> None:
    worker = Worker(deps)
    response_url = slack_standin.new_response_url()
    before = len(slack_standin.responses)
    asyncio.run(answer_later(worker, AsyncRespond(response_url=response_url), Task("keys.frobnicate", {"x": 1})))
    answer = slack_standin.wait_for_response(count=before + 1)[before]
    assert answer.body["text"] == SORRY
    assert asyncio.run(run_for_reply(worker, Task("no.such.task"))) == Reply(SORRY)


def test_the_runners_refuse_a_closure(deps: Deps) -> None:
    worker = Worker(deps)
    closure: Any = lambda deps: None  # noqa: E731 - the shape listeners used to pass
    respond = AsyncRespond(response_url="http://127.0.0.1:9/never")
    with pytest.raises(TypeError, match="expected a Task"):
        asyncio.run(answer_later(worker, respond, closure))
    with pytest.raises(TypeError, match="expected a Task"):
        asyncio.run(run_for_reply(worker, closure))
    with pytest.raises(TypeError, match="expected a Task"):
        asyncio.run(tell_later(worker, user="U0DEV", channel=None, task=closure))


def _runner_calls() -> Iterator[tuple[str, int, ast.Call]]:
    for path in sorted(Path("handlers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in {
                "answer_later",
                "tell_later",
                "run_for_reply",
            }:
                yield path.name, node.lineno, node


def test_no_listener_hands_the_runners_a_lambda() -> None:
    calls = list(_runner_calls())
    assert len(calls) >= 20  # every family's listeners were found
    for name, line, call in calls:
        handed = [*call.args[2:], *(k.value for k in call.keywords if k.arg == "task")]
        if getattr(call.func, "id", None) == "run_for_reply":
            handed = [*call.args[1:], *(k.value for k in call.keywords if k.arg == "task")]
        assert handed, f"{name}:{line} hands no task"
        assert not any(isinstance(arg, ast.Lambda) for arg in handed), f"{name}:{line} hands a lambda"
        assert "work" not in {k.arg for k in call.keywords}, f"{name}:{line} still passes work="


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[Task]:
    """Every task the runners store and run, in order (each still runs: after the store, as a worker reads it)."""
    seen: list[Task] = []

    def record(deps: Deps, task: Task) -> Any:
        seen.append(task)
        return run_task(deps, task)

    monkeypatch.setattr(common, "run_task", record)
    monkeypatch.setattr(durable, "run_task", record)
    return seen


COMMANDS = {
    "keys all": "keys.list",
    "check sk-ant-api03-nothing": "keys.check",
    "revoke apikey_01nothing leaked": "keys.revoke.start",
    "rotate apikey_01nothing": "keys.rotate",
    "requests pending": "request.list",
    "request ml-platform for 7d a demo": "request.file",
    "invite pat@example.com developer": "request.invite",
    "audit 7": "audit.export",
    "budget": "budget.answer",
    "usage": "usage.answer",
    "members workspace ml platform": "team.members.list",
}


def test_the_tasks_listeners_build_are_registered_and_round_trip(
    bot_url: str, slack_standin: Any, recorded: list[Task]
) -> None:
    with httpx.Client(timeout=10) as client:
        for text in COMMANDS:
            before = len(slack_standin.responses)
            ack = post_slack(
                client, bot_url, command_body(text, user_id="U0DEV", response_url=slack_standin.new_response_url())
            )
            assert ack.status_code == 200 and "Working on it" in ack.text, (text, ack.text)
            slack_standin.wait_for_response(count=before + 1, timeout=10)
    names = [task.name for task in recorded]
    for expected in COMMANDS.values():
        assert expected in names
    for task in recorded:
        assert task.name in TASKS
        assert _through_json(task) == task
