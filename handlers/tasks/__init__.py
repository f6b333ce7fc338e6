"""The work listeners hand on after the ack, as data: a task name and JSON arguments, run by `run_task`.

Because a task is only a name and JSON, it can be stored and run by another process. Names are stable: never
rename one, add a new name. This package imports nothing of Bolt or asyncio, so a worker process can import it
alone. `base` holds the machinery; each other module registers one family's tasks when imported (here).
"""

from handlers.tasks import access, keys, spend, team
from handlers.tasks import home as home_tasks
from handlers.tasks.base import JSON, TASKS, FollowedReply, Task, TaskError, resumable, run_task, task
from handlers.tasks.spend import chart_args, chart_from_args

__all__ = [
    "JSON",
    "TASKS",
    "FollowedReply",
    "Task",
    "TaskError",
    "access",
    "chart_args",
    "chart_from_args",
    "home_tasks",
    "keys",
    "resumable",
    "run_task",
    "spend",
    "task",
    "team",
]
