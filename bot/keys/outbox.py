"""Sending for the whole-org key jobs: the ledger read one query per 500 keys, one commit per accepted message,
and a Slack rate limit that stops the run (the next run resumes where it stopped)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.jobs.context import JobContext, JobResult
from bot.keys.model import KeyView, Tally
from bot.slack.notifier import Posted
from bot.slack.reply import Reply
from storage import repositories as repo


def already_done(ctx: JobContext, keys: Iterable[str]) -> set[str]:
    """Which of `keys` this job already recorded (raises when the run lost its lease: a send follows)."""
    ctx.check_lease()
    return repo.ledger_done(session=ctx.session, job=ctx.job, keys=keys)


def mark_all(ctx: JobContext, keys: Sequence[str]) -> None:
    """`ctx.mark_done` for every notice one accepted message carried: one INSERT and one commit, not one
    savepoint per key (at 17,000 notices that was most of the run)."""
    if ctx.dry_run or not keys:
        return
    repo.ledger_record_all(session=ctx.session, job=ctx.job, keys=keys, at=ctx.now)
    ctx.session.commit()


def describe_keys(keys: Sequence[KeyView]) -> str:
    """` (keys: "ci" apikey_01…, …)` for a dry run's line; empty without keys."""
    if not keys:
        return ""
    return " (keys: " + ", ".join(f'"{k.name}" {k.id}' for k in keys) + ")"


def tally(labels: Iterable[str], top: int = 10) -> list[Tally]:
    """The `top` most common labels with their counts."""
    return [Tally(label, count) for label, count in Counter(labels).most_common(top)]


def _is_rate_limited(exc: SlackApiError) -> bool:
    return exc.response.status_code == 429 or exc.response.get("error") == "ratelimited"


@dataclass
class Outbox:
    """Messages of one run, sent in order; a Slack rate limit stops the run (the next run resumes)."""

    ctx: JobContext
    result: JobResult
    stopped: bool = False

    def send(
        self,
        where: str,
        message: Reply,
        ledger_keys: Sequence[str],
        *,
        dm: bool,
        thread_ts: str | None = None,
        about: Sequence[KeyView] = (),
    ) -> Posted | None:
        """Post (or print in a dry run, naming the keys `about`), then record `ledger_keys`; None when nothing
        was sent."""
        if self.stopped:
            return None
        if ledger_keys and not self.ctx.dry_run and set(ledger_keys) <= already_done(self.ctx, ledger_keys):
            # Re-checked per message: a run that outlives its lease (Slack rate limits can stretch a first run
            # over an org) must not repeat what a second run already sent.
            self.result.skipped += 1
            return None
        self.ctx.check_lease()
        if self.ctx.dry_run:
            self.ctx.out(f"would {'DM' if dm else 'post to'} {where}: {message.text}{describe_keys(about)}")
            self.result.sent += 1
            return Posted(where, "dry-run")
        notifier = self.ctx.deps.notifier
        try:
            if dm:
                posted = notifier.direct_message(where, message.text, message.blocks)
            else:
                posted = notifier.post(where, message.text, message.blocks, thread_ts=thread_ts)
        except SlackApiError as exc:
            self.result.errors.append(f"{where}: Slack {exc.response.get('error')}")
            if _is_rate_limited(exc):
                self.stopped = True
                self.result.errors.append("Slack is rate-limiting the bot: stopped; the next run sends the rest")
            return None
        except Exception as exc:  # one message's failure never stops the others
            self.ctx.item_failed(self.result, where, exc)
            return None
        try:
            mark_all(self.ctx, ledger_keys)
        except Exception as exc:  # sent, but not recorded: said in the errors, and the run goes on
            self.ctx.item_failed(self.result, f"{where} (sent, not recorded)", exc)
            return posted
        self.result.sent += 1
        return posted
