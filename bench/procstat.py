"""Process figures from /proc (Linux): CPU time, RSS and children of a process, for the benchmarks."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on; None when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def child_pids(pid: int) -> list[int]:
    """Direct children, from /proc/<pid>/task/*/children, else by scanning every process's parent."""
    found: list[int] = []
    tasks = list(Path(f"/proc/{pid}/task").glob("*/children"))
    if tasks:
        for path in tasks:
            with contextlib.suppress(OSError):
                found.extend(int(x) for x in path.read_text().split())
        return sorted(set(found))
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(int(stat.parent.name))
        if fields is not None and int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    out, todo = [], child_pids(pid)
    while todo:
        child = todo.pop(0)
        out.append(child)
        todo.extend(child_pids(child))
    return out


def tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process and its living descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, any_alive = 0, False
    for p in [pid, *descendants(pid)]:
        fields = _stat_fields(p)
        if fields is not None:
            any_alive = True
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks if any_alive else None


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of the process itself (its children not counted)."""
    fields = _stat_fields(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """User + system CPU of every PostgreSQL server process on this machine (backends, autovacuum, WAL writer):
    the database the bot's requests and workers make work for, on the same cores."""
    total = 0.0
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() in ("postgres", "postmaster"):
                total += process_cpu_seconds(int(comm.parent.name)) or 0.0
    return total


def rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def command_line(pid: int) -> str:
    """A process's program and arguments (no environment: that holds the secrets), the program as its name."""
    with contextlib.suppress(OSError):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        argv = [a for a in argv if a]
        if len(argv) >= 2 and Path(argv[0]).name.startswith("python"):
            argv = argv[1:]  # the venv's console script runs under python
        return " ".join([Path(argv[0]).name, *argv[1:]])[:120] if argv else "?"
    return "?"


def process_memory(pid: int) -> dict[str, Any]:
    """RSS of the process and of each descendant; a descendant whose command names `worker` is a worker."""
    kids = [
        {"pid": p, "command": command_line(p), "rss_mb": rss_mb(p)} for p in descendants(pid) if rss_mb(p) is not None
    ]
    return {
        "rss_mb": rss_mb(pid),
        "workers": [k for k in kids if " worker" in f" {k['command']}"],
        "other_children": [k for k in kids if " worker" not in f" {k['command']}"],
    }
