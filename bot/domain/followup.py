"""Follow-up reminders (pemantauan): a held case with no news for N days reminds its holder;
no news in as long again alerts the site's koordinator(s), as an unanswered offer does.

One chain of delayed checks per case, through the outbox: accepting a case starts it, and each
check schedules the next. A check re-reads the case, so it is stale-safe: a case no longer held
(closed, cancelled, handed to someone else and not yet accepted) ends the chain; news since (any
case event but the reminders themselves: a note, a check, a referral, an outcome, an acceptance)
only moves the next check to N days after that news. Each news gets one reminder and one alert at
most. Checks fall in the site's local daytime: one due between 21:00 and 07:00 waits till 07:00.

N comes from HOTLINE_FOLLOW_UP_DAYS, e.g. "urgent=1,default=7,kekerasan=3": a category's own
number or the default, and for an urgent case the smaller of that and the urgent number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.domain import duty
from bot.domain.engine import Say
from bot.runtime import Hotline
from flows import CATEGORIES
from storage import assignments, roster, sitetime
from storage import followup as store
from storage.cases import add_event
from storage.casestate import HELD
from storage.followup import CONFIG_KEY, days_for
from storage.followup import DEFAULT_DAYS as DEFAULT_DAYS  # the mechanism document shows them
from storage.models import Case, Member, Site
from storage.outbox import add_job

CATEGORY_NAMES = tuple(flow.name for flow in CATEGORIES)
DAY_STARTS, NIGHT_STARTS = 7, 21  # site-local hours: no reminder at night
SLACK = timedelta(seconds=5)  # the queue's clock and ours may differ a little
KEYS = ("member.follow_up", "member.follow_up_alert")  # the catalog keys this module says
EVENT_KINDS = store.KINDS


def parse_days(value: Any) -> dict[str, int]:
    """storage.followup.parse_days for the flows' categories: "urgent=1,default=7,kekerasan=3"."""
    return store.parse_days(value, CATEGORY_NAMES)


def configured_days(config: Mapping[str, Any]) -> dict[str, int]:
    """The days per rule in force (HOTLINE_FOLLOW_UP_DAYS), for the reminders and the monev
    figures' overdue follow-ups alike."""
    return parse_days(config.get(CONFIG_KEY))


def daytime(moment: datetime, tz: str) -> datetime:
    """`moment`, or 07:00 site time when it falls at night (21:00 to 07:00)."""
    return sitetime.next_within(moment, tz, DAY_STARTS, NIGHT_STARTS) or moment


def _schedule(session: Session, case: Case, at: datetime, now: datetime) -> None:
    """The next check at `at` (by day), unless one is coming by then: that one decides, so two
    chains (a case turned urgent) merge into one."""
    at = daytime(at, session.get_one(Site, case.site_id).timezone)
    if not store.check_waiting(session, case.id, after=now, until=at):
        add_job(session, store.CHECK_JOB, {"case_id": case.id}, now, run_at=at)


def _span(hotline: Hotline, case: Case) -> timedelta:
    days_of = configured_days(hotline.config)
    return timedelta(days=days_for(days_of, case.category, case.urgent))


def start(session: Session, hotline: Hotline, case: Case, now: datetime) -> None:
    """A member took the case, or it turned urgent: its checks begin, or come sooner."""
    if case.status in HELD:
        _schedule(session, case, now + _span(hotline, case), now)


def backfill(session: Session, now: datetime) -> list[int]:
    """Start the chain of every held case that has none (cases taken before this release): a
    check now for each, which reminds at once when the case has been quiet long enough, else
    schedules itself for the right day. The cases it started."""
    started = store.held_without_checks(session)  # none has a check waiting: no need to look again
    for case in started:
        at = daytime(now, session.get_one(Site, case.site_id).timezone)  # by day, as every check
        add_job(session, store.CHECK_JOB, {"case_id": case.id}, now, run_at=at)
    return [case.id for case in started]


def assign_case(session: Session, hotline: Hotline, now: datetime, case_id: int, reason: str) -> None:
    """duty.assign_case (the job), and a held case turned urgent gets the urgent days at once."""
    duty.assign_case(session, hotline, now, case_id, reason)
    case = session.get(Case, case_id)
    if reason in duty.URGENT_REASONS and case is not None and case.member_id is not None:
        start(session, hotline, case, now)


def check(session: Session, hotline: Hotline, now: datetime, case_id: int) -> None:
    """The job: remind, alert, or wait for the next date; nothing once the case is not held."""
    case = assignments.lock_case(session, case_id)
    if case is None or case.status not in HELD or case.member_id is None:
        return
    news = store.last_news(session, case.id)
    if news is None:
        return
    span = _span(hotline, case)
    sent = store.sent_since(session, case.id, news)
    reminded = next((e for e in sent if e.kind == store.REMINDED), None)
    alerted = any(e.kind == store.ALERTED for e in sent)
    holder = session.get_one(Member, case.member_id)
    if reminded is None and holder.active:
        if now < news.created_at + span - SLACK:
            return _schedule(session, case, news.created_at + span, now)
        _remind(session, case, holder, span, now)
    elif not alerted:
        since = reminded.created_at if reminded is not None else news.created_at
        if now < since + span - SLACK:
            return _schedule(session, case, since + span, now)
        _alert(session, case, holder, now - news.created_at, now)
    _schedule(session, case, now + span, now)  # after the alert: waits for news, says nothing


def _remind(session: Session, case: Case, holder: Member, span: timedelta, now: datetime) -> None:
    params = {"short": duty.short(case), "days": span.days}
    duty.tell_member(session, case, holder, Say("member.follow_up", params), now)
    add_event(session, case, store.REMINDED, now, member_id=holder.id, member=holder.name, days=span.days)


def _alert(session: Session, case: Case, holder: Member, quiet: timedelta, now: datetime) -> None:
    people = [
        m
        for m in roster.coordinators(session, case.site_id)
        if m.active and not m.unreachable and m.id != holder.id
    ]
    params = {"code": case.code, "short": duty.short(case), "name": holder.name, "days": quiet.days}
    for coordinator in people:
        duty.tell_member(session, case, coordinator, Say("member.follow_up_alert", params), now)
    add_event(
        session, case, store.ALERTED, now, member_id=holder.id, member=holder.name, days=quiet.days,
        to=[m.name for m in people],
    )  # fmt: skip
