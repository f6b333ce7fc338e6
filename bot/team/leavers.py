"""`leaver-sweep`: people deactivated in Slack who still have something in the Anthropic org get one proposal each
in the admin channel (Offboard / Not a leaver), and org members no Slack account stands behind a weekly list.

The whole-org run reads the stored Slack directory (the `slack-directory` job; never one `users.lookupByEmail` per
person) and lists org members, active keys and pending invites once each (pages of 1,000); workspace members are
listed only when a new proposal names a member. A `user_change` event checks that one person at once (a stored
task, `check_person`). Each proposal is a `leaver_case` row whose `open_key` is unique while the Slack account
stays deactivated: a rerun, a second replica or the event's check never opens a second one, and a later
deactivation (after Slack showed the account active) opens a new one. "Not a leaver" silences the open case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.anthropic_admin import OrgUser
from bot.core.errors import UserError
from bot.deps import Deps
from bot.directory import is_rate_limited
from bot.identity import resolve_admin
from bot.jobs.context import JobContext, JobResult
from bot.keys.common import effective_status, iso_week
from bot.slack.notifier import Posted
from bot.slack.reply import Reply
from bot.slack.text import escape
from bot.team import offboard
from bot.team.blocks import offboard_done
from bot.team.leaver_blocks import (
    leaver_decided,
    leaver_proposal,
    no_slack_list,
    not_a_leaver_outcome,
    offboarded_outcome,
)
from bot.team.leaver_model import Leaver, NoSlackMember
from bot.team.offboard import KeyToStop, OffboardPlan
from storage import repositories as repo
from storage.db import session_scope
from storage.models import LeaverCase, LeaverState, SlackUser
from storage.repositories import leavers as lrepo

logger = logging.getLogger(__name__)

JOB = "leaver-sweep"
REASON = "Slack account deactivated (leaver-sweep)"
ONLY_ADMINS_DECIDE = "Only admins can decide who is a leaver."
# A claimed case whose proposal was never recorded (the run stopped) is proposed again after this long.
POSTING_STALE = timedelta(minutes=10)


class _Stop(Exception):
    """Slack rate-limited a post: the run stops; the next one proposes the rest."""


def _needs_proposal(case: LeaverCase | None, now: datetime) -> bool:
    return case is None or (case.state == LeaverState.POSTING and case.updated_at < now - POSTING_STALE)


def _has_something(plan: OffboardPlan) -> bool:
    """Still an org member, owns active keys or has a pending invite (open requests alone are no reason)."""
    return bool(plan.member or plan.keys or plan.invites)


def _propose(
    deps: Deps,
    session: Session,
    leaver: Leaver,
    case: LeaverCase | None,
    *,
    now: datetime,
    dry_run: bool,
    out: Callable[[str], None],
    check: Callable[[], None],
    result: JobResult,
) -> None:
    """Claim the person's case (a conditional insert), post the proposal, record where it went."""
    channel = deps.settings.admin_channel_id
    if not channel:
        result.skipped += 1
        return
    if dry_run:
        out(f"would post to {channel}: {leaver_proposal(leaver, 0).text}")
        result.sent += 1
        return
    if case is None:
        case = lrepo.claim_leaver_case(
            session=session, slack_user_id=leaver.slack_user_id, email=leaver.plan.email, at=now
        )
    elif not lrepo.reclaim_leaver_case(session=session, case_id=case.id or 0, stale_before=now - POSTING_STALE, at=now):
        case = None
    session.commit()
    if case is None or case.id is None:  # another run has this person
        result.skipped += 1
        return
    check()
    message = leaver_proposal(leaver, case.id)
    try:
        posted = deps.notifier.post(channel, message.text, message.blocks)
    except SlackApiError as exc:  # refused, so nothing was posted: forget the claim, the next run proposes again
        lrepo.drop_leaver_case(session=session, case_id=case.id)
        session.commit()
        result.errors.append(f"proposal for {leaver.plan.email}: Slack {exc.response.get('error')}")
        if is_rate_limited(exc):
            raise _Stop from exc
        return
    lrepo.leaver_case_posted(session=session, case_id=case.id, channel=posted.channel, ts=posted.ts, at=now)
    session.commit()
    result.sent += 1


def leaver_sweep(ctx: JobContext) -> JobResult:
    """Daily: one proposal per new leaver (deactivated in Slack, still a member, key owner or invitee), and once
    per ISO week the list of org members with no Slack account."""
    deps, session, now = ctx.deps, ctx.session, ctx.now
    result = JobResult()
    if repo.directory_size(session=session) == 0:
        result.notes.append("the Slack directory is not stored yet (the slack-directory job): nothing to compare")
        return result
    if not ctx.dry_run:
        closed = lrepo.close_reactivated_leaver_cases(session=session, at=now)
        session.commit()
        if closed:
            result.notes.append(f"{closed} person(s) active in Slack again")
    members = deps.admin.list_users()
    people = lrepo.deactivated_slack_users(session=session)
    leavers = _find_leavers(ctx, people, members)
    result.notes.append(f"{len(leavers)} new leaver(s) to propose")
    cases = lrepo.open_leaver_cases(session=session)
    try:
        for leaver in leavers:
            try:
                _propose(
                    deps,
                    session,
                    leaver,
                    cases.get(leaver.slack_user_id),
                    now=now,
                    dry_run=ctx.dry_run,
                    out=ctx.out,
                    check=ctx.check_lease,
                    result=result,
                )
            except _Stop:
                raise
            except Exception as exc:  # one person's failure never stops the others
                ctx.item_failed(result, f"proposal for {leaver.plan.email}", exc)
    except _Stop:
        result.errors.append("Slack is rate-limiting the bot: stopped; the next run proposes the rest")
        return result
    _weekly_no_slack(ctx, result, members)
    return result


def _find_leavers(ctx: JobContext, people: list[SlackUser], members: list[OrgUser]) -> list[Leaver]:
    """The deactivated people who still have something and no open case yet: one scan of active keys and one of
    pending invites; workspace members listed only if a new proposal names an org member."""
    deps, session, now = ctx.deps, ctx.session, ctx.now
    if not people:
        return []
    cases = lrepo.open_leaver_cases(session=session)
    active = repo.slack_ids_by_email(session=session)  # someone with a second, active account hasn't left
    people = [p for p in people if _needs_proposal(cases.get(p.slack_user_id), now) and p.email not in active]
    if not people:
        return []
    by_email = {m.email.lower(): m for m in members}
    known = lrepo.known_anthropic_ids(session=session, emails=[p.email or "" for p in people])
    keys: dict[str, list[KeyToStop]] = {}
    for key in deps.admin.iter_api_keys(status="active"):
        if key.created_by_user_id and effective_status(key, now) == "active":
            keys.setdefault(key.created_by_user_id, []).append(KeyToStop(key.id, key.name, key.partial_key_hint))
    invites: dict[str, list[str]] = {}
    for invite in deps.admin.list_invites(statuses=["pending"]):
        invites.setdefault(invite.email.lower(), []).append(invite.id)
    found: list[tuple[SlackUser, OrgUser | None, str | None]] = []
    for person in people:
        email = (person.email or "").lower()
        member = by_email.get(email)
        user_id = member.id if member is not None else known.get(email)
        if member is not None or keys.get(user_id or "") or invites.get(email):
            found.append((person, member, user_id))
    spaces: dict[str, list[tuple[str, str]]] = {}
    if any(member is not None for _, member, _ in found):
        for workspace in deps.workspaces():
            for membership in deps.admin.list_workspace_members(workspace.id):
                spaces.setdefault(membership.user_id, []).append((workspace.id, workspace.name))
    leavers = []
    for person, member, user_id in found:
        email = (person.email or "").lower()
        plan = OffboardPlan(
            email=email,
            user_id=user_id,
            member=member,
            keys=keys.get(user_id or "", []),
            workspaces=spaces.get(member.id, []) if member is not None else [],
            invites=invites.get(email, []),
            requests=offboard.open_requests(deps, email),
        )
        leavers.append(Leaver(person.slack_user_id, person.name, plan))
    return leavers


def _weekly_no_slack(ctx: JobContext, result: JobResult, members: list[OrgUser]) -> None:
    """Once per ISO week: org members whose email no Slack account (active or deactivated) has."""
    deps = ctx.deps
    channel = deps.settings.admin_channel_id
    week = iso_week(deps, ctx.now)
    ledger_key = f"no-slack:{week}"
    if not channel or ctx.already_done(ledger_key):
        return
    known = lrepo.directory_emails(session=ctx.session)
    missing = sorted(
        (NoSlackMember(m.email.lower(), m.name, m.role) for m in members if m.email.lower() not in known),
        key=lambda m: m.email,
    )
    result.notes.append(f"{len(missing)} org member(s) without a Slack account")
    if not missing:
        return
    message = no_slack_list(missing, week=week, as_of=ctx.now, tz=deps.settings.tz)
    if ctx.dry_run:
        ctx.out(f"would post to {channel}: {message.text}")
        result.sent += 1
        return
    try:
        deps.notifier.post(channel, message.text, message.blocks)
    except SlackApiError as exc:
        result.errors.append(f"no-Slack list: Slack {exc.response.get('error')}")
        return
    ctx.mark_done(ledger_key)
    result.sent += 1


def check_person(deps: Deps, *, slack_user_id: str) -> None:
    """A `user_change` event, once the directory row is stored: an account active again closes its case; a
    deactivated one that still has something is proposed now (per-person calls: one person, not the org)."""
    now = deps.clock()
    result = JobResult()
    with session_scope(deps.engine) as session:
        closed = lrepo.close_reactivated_leaver_cases(session=session, at=now, slack_user_id=slack_user_id)
        session.commit()
        people = lrepo.deactivated_slack_users(session=session, slack_user_id=slack_user_id)
        if closed or not people:
            return
        person = people[0]
        if repo.slack_ids_by_email(session=session, emails=[person.email or ""]):
            return  # the same email has an active Slack account: not a leaver
        case = lrepo.open_leaver_cases(session=session).get(slack_user_id)
        if not _needs_proposal(case, now):
            return
        plan = offboard.plan(deps, person.email or "")
        if not _has_something(plan):
            return
        try:
            leaver = Leaver(slack_user_id, person.name, plan)
            _propose(
                deps,
                session,
                leaver,
                case,
                now=now,
                dry_run=False,
                out=lambda _: None,
                check=lambda: None,
                result=result,
            )
        except _Stop:
            pass
    if result.errors:
        logger.warning("leaver check of %s: %s", slack_user_id, "; ".join(result.errors))


# --- the buttons --------------------------------------------------------------------------------------------------


def _case(deps: Deps, case_id: int) -> LeaverCase:
    with session_scope(deps.engine) as session:
        case = lrepo.get_leaver_case(session=session, case_id=case_id)
    if case is None:
        raise UserError(
            "That leaver proposal is no longer on record; `/claude-key offboard &lt;email&gt;` still works."
        )
    return case


def _name(deps: Deps, slack_user_id: str) -> str | None:
    with session_scope(deps.engine) as session:
        row = session.get(SlackUser, slack_user_id)
        return row.name if row is not None else None


def _edit(deps: Deps, case: LeaverCase, outcome: str) -> None:
    """The proposal loses its buttons and says what was decided (best effort: the decision stands either way)."""
    if not (case.channel and case.ts):
        return
    message = leaver_decided(case.email, _name(deps, case.slack_user_id), outcome)
    try:
        deps.notifier.update(Posted(case.channel, case.ts), message.text, message.blocks)
    except SlackApiError as exc:
        logger.info("could not edit the leaver proposal: %s", exc.response.get("error"))


def _thread_say(deps: Deps, case: LeaverCase) -> Callable[[str], None]:
    """Replies in the proposal's thread (best effort)."""

    def say(text: str) -> None:
        if not case.channel:
            return
        try:
            deps.notifier.post(case.channel, text, thread_ts=case.ts)
        except Exception as exc:
            logger.warning("could not post in the leaver thread: %s", type(exc).__name__)

    return say


def offboard_leaver(deps: Deps, *, slack_user_id: str, case_id: int) -> Reply:
    """The Offboard click: the clicker re-checked as an admin, then the `/claude-key offboard` sequence (resumable:
    a second click finishes what is left), each step in the proposal's thread."""
    resolve_admin(deps, slack_user_id, offboard.ONLY_ADMINS)  # before anything about the case is shown
    case = _case(deps, case_id)
    if case.state == LeaverState.SILENCED:
        raise UserError(
            f"<@{case.decided_by}> said {escape(case.email)} is not a leaver; "
            f"if they are, `/claude-key offboard {escape(case.email)}`."
        )
    say = _thread_say(deps, case)
    done = offboard.run_offboard(deps, slack_user_id=slack_user_id, email=case.email, reason=REASON, say=say)
    with session_scope(deps.engine) as session:
        first = lrepo.decide_leaver_case(
            session=session,
            case_id=case_id,
            from_states=[LeaverState.PROPOSED, LeaverState.POSTING],
            to=LeaverState.OFFBOARDED,
            by=slack_user_id,
            at=deps.clock(),
        )
    if first:
        _edit(deps, case, offboarded_outcome(slack_user_id))
    return offboard_done(done)


def not_a_leaver(deps: Deps, *, slack_user_id: str, case_id: int) -> Reply:
    """The Not a leaver click: admins only; the case is silenced once (an audit row, a thread reply) until Slack
    shows the account active again."""
    actor = resolve_admin(deps, slack_user_id, ONLY_ADMINS_DECIDE)
    case = _case(deps, case_id)
    if actor.email and actor.email.lower() == case.email.lower():
        raise UserError("You can't decide your own leaver proposal; ask another admin.")
    now = deps.clock()
    with session_scope(deps.engine) as session:
        moved = lrepo.decide_leaver_case(
            session=session,
            case_id=case_id,
            from_states=[LeaverState.PROPOSED, LeaverState.POSTING],
            to=LeaverState.SILENCED,
            by=actor.slack_user_id,
            at=now,
        )
        if moved:
            repo.append_audit(
                session=session,
                action="leaver.not_a_leaver",
                subject_type="slack_user",
                subject_id=case.slack_user_id,
                actor_slack_id=actor.slack_user_id,
                actor_anthropic_id=actor.anthropic_user_id,
                after={"email": case.email, "case": case_id},
                detail="silenced until their Slack account changes again",
                at=now,
            )
    if not moved:
        if case.state == LeaverState.SILENCED:
            return Reply(f"<@{case.decided_by}> already said {escape(case.email)} is not a leaver.")
        return Reply(f"<@{case.decided_by}> already offboarded {escape(case.email)}; nothing changed.")
    outcome = not_a_leaver_outcome(actor.slack_user_id)
    _thread_say(deps, case)(outcome)
    _edit(deps, case, outcome)
    return Reply(f"Noted: {escape(case.email)} is not a leaver. No proposal until their Slack account changes again.")
