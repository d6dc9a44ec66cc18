"""Follow-up reminders through the signed webhook, on a fixed clock: a held case with no news for
N days reminds its holder, no news in as long again alerts the koordinator; news in between, a
closed case or a night hour change that (bot.domain.followup)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app import ConfigError, create_app
from bot.domain import followup
from bot.render import mechanism
from tests.conftest import Resident, work
from tests.test_duty import KOORD, A, B, events, report, roster, to  # noqa: F401  (roster: a fixture)

WITA = ZoneInfo("Asia/Makassar")  # Parepare's zone (sites.toml)
REMINDER = "belum ada kabar"


def _set(clock, day: int, hour: int, minute: int = 0) -> datetime:
    """The clock at a site-local time in March 2027: ahead of the real clock, as rq schedules
    delayed jobs by the real one and `work` runs those due by the test's clock."""
    clock.now = datetime(2027, 3, day, hour, minute, tzinfo=WITA).astimezone(UTC)
    return clock.now


def _taken(app, client, redis, console) -> tuple[str, str, Resident]:
    """A Kekerasan report from Lompoe, taken by the member it was offered to."""
    code = report(client)
    short = code.split("-")[1]
    work(app, redis)
    [number] = [n for n in (A, B) if any(f"TERIMA {short}" in m for m in to(console, n))]
    holder = Resident(client, number)
    assert "Anda tangani" in holder.says(f"TERIMA {short}")
    return code, short, holder


def _reminders(console, number: str) -> list[str]:
    return [m for m in to(console, number) if REMINDER in m]


def _at(app, redis, clock, day: int, hour: int, minute: int = 0) -> None:
    _set(clock, day, hour, minute)
    work(app, redis)


def test_no_news_reminds_the_holder_then_alerts_the_koordinator(
    app, client, hotline, redis, console, roster, clock
):
    _set(clock, 2, 10)
    code, short, holder = _taken(app, client, redis, console)
    _at(app, redis, clock, 9, 9, 59)  # a minute short of 7 days
    assert _reminders(console, holder.number) == []
    _at(app, redis, clock, 9, 10, 1)
    [reminder] = _reminders(console, holder.number)
    assert reminder.startswith(f"Kasus {short}: belum ada kabar 7 hari") and "CATAT" in reminder
    assert reminder.isascii() and len(reminder) <= 160  # one GSM-7 segment
    assert _reminders(console, KOORD) == []
    _at(app, redis, clock, 16, 10, 2)  # as long again, no answer
    [alert] = _reminders(console, KOORD)
    assert code in alert and "pengingat tidak dijawab" in alert
    _at(app, redis, clock, 30, 11)  # told once: nothing more until there is news
    assert len(_reminders(console, holder.number)) == 1 and len(_reminders(console, KOORD)) == 1
    kinds = events(hotline, code)
    assert kinds.count("follow_up_reminder") == 1 and kinds.count("follow_up_alert") == 1


def test_news_in_between_moves_the_reminder_and_the_alert(app, client, redis, console, roster, clock):
    _set(clock, 2, 10)
    _code, short, holder = _taken(app, client, redis, console)
    _at(app, redis, clock, 5, 10)
    holder.says(f"CATAT {short} sudah ditelepon, ibunya aman")
    _at(app, redis, clock, 9, 12)  # 7 days after acceptance: there was news since
    assert _reminders(console, holder.number) == []
    _at(app, redis, clock, 12, 10, 1)  # 7 days after the note
    assert len(_reminders(console, holder.number)) == 1
    _at(app, redis, clock, 14, 10)
    holder.says(f"CEK {short} ada")  # the reminder answered: the koordinator hears nothing
    _at(app, redis, clock, 19, 10, 5)
    assert _reminders(console, KOORD) == []
    _at(app, redis, clock, 21, 10, 1)  # 7 days after the check: reminded again
    assert len(_reminders(console, holder.number)) == 2


def test_a_closed_case_is_not_followed_up(app, client, redis, console, roster, clock):
    _set(clock, 2, 10)
    _code, short, holder = _taken(app, client, redis, console)
    _at(app, redis, clock, 4, 10)
    assert "ditutup" in holder.says(f"SELESAI {short}").lower()
    _at(app, redis, clock, 25, 10)
    assert _reminders(console, holder.number) == [] and _reminders(console, KOORD) == []


def test_a_reminder_due_at_night_goes_at_seven(app, client, redis, console, roster, clock):
    _set(clock, 2, 22, 30)
    _code, _short, holder = _taken(app, client, redis, console)
    _at(app, redis, clock, 9, 22, 31)  # due now, but it is night in Parepare
    _at(app, redis, clock, 10, 6, 59)
    assert _reminders(console, holder.number) == []
    _at(app, redis, clock, 10, 7, 0)
    assert len(_reminders(console, holder.number)) == 1


def test_days_per_category_and_urgency_from_configuration(
    app, client, hotline, redis, console, roster, clock
):
    hotline.config[followup.CONFIG_KEY] = "kekerasan=3"
    _set(clock, 2, 10)
    _code, _short, holder = _taken(app, client, redis, console)
    _at(app, redis, clock, 5, 10, 1)
    assert len(_reminders(console, holder.number)) == 1
    assert "3 hari" in _reminders(console, holder.number)[0]
    hotline.config[followup.CONFIG_KEY] = None  # the defaults: an urgent case waits 1 day
    _set(clock, 6, 10)
    _code, short, holder = _taken(app, client, redis, console)
    assert "darurat" in Resident(client, "+6281234567890").says("DARURAT").lower()
    work(app, redis)
    _at(app, redis, clock, 7, 10, 1)
    assert any(short in m and "1 hari" in m for m in _reminders(console, holder.number))


def test_the_setting_is_read_and_checked() -> None:
    assert followup.parse_days(None) == {"urgent": 1, "default": 7}
    assert followup.parse_days(" urgent=2, default=10,kekerasan=3 ") == {
        "urgent": 2,
        "default": 10,
        "kekerasan": 3,
    }
    assert followup.parse_days({"bansos": 14})["bansos"] == 14
    assert followup.days_for({"urgent": 1, "default": 7, "kekerasan": 3}, "kekerasan", False) == 3
    assert followup.days_for({"urgent": 1, "default": 7, "kekerasan": 3}, "kekerasan", True) == 1
    for wrong, says in (("urgent=0", "whole number"), ("narkoba=3", "not one of"), ("7", "name=days")):
        with pytest.raises(ValueError, match=says):
            followup.parse_days(wrong)
    with pytest.raises(ConfigError, match="HOTLINE_FOLLOW_UP_DAYS"):
        create_app({"TESTING": True, "HOTLINE_FOLLOW_UP_DAYS": "default=1.5"})


def test_daytime_moves_night_hours_to_seven() -> None:
    tz = "Asia/Makassar"
    day = datetime(2026, 3, 2, 12, tzinfo=WITA)
    assert followup.daytime(day, tz) == day
    assert followup.daytime(day.replace(hour=21), tz) == datetime(2026, 3, 3, 7, tzinfo=WITA)
    assert followup.daytime(day.replace(hour=3), tz) == datetime(2026, 3, 2, 7, tzinfo=WITA)
    assert followup.daytime(day.replace(hour=20, minute=59), tz) == day.replace(hour=20, minute=59)


def test_the_mechanism_document_shows_the_configured_days() -> None:
    settings = mechanism.settings({"HOTLINE_FOLLOW_UP_DAYS": "urgent=2,kekerasan=3"})
    doc = mechanism.Mechanism(roster=None, settings=settings, made_at=datetime.now(UTC))  # type: ignore[arg-type]
    rows = mechanism._follow_up_rows(doc, "id")
    text = " ".join(" ".join(r) for r in rows)
    assert "7 hari" in text and "2 hari" in text and "Kekerasan" in text and "3 hari" in text
    assert "21.00" in text or "21:00" in text
    assert len(rows) == 3


def test_cases_held_before_the_reminders_get_them_from_followup_start(
    app, client, hotline, redis, console, roster, clock
):
    """A case taken before this release has no chain: `hotline followup start` gives it one (a
    check at once, then by day), and running it again starts nothing twice."""
    from sqlalchemy import update

    from bot.cli import main
    from storage.models import Outbox

    _set(clock, 2, 10)
    _, _, holder = _taken(app, client, redis, console)
    with hotline.db.session() as s:  # as if taken by the release before: no checks waiting
        s.execute(update(Outbox).where(Outbox.job == "follow_up_check").values(done_at=clock.now))
    _set(clock, 20, 23)  # long quiet, at night
    runner = app.test_cli_runner()
    assert "for 1 held cases" in runner.invoke(main, ["followup", "start"]).output
    assert "for 0 held cases" in runner.invoke(main, ["followup", "start"]).output
    _at(app, redis, clock, 20, 23, 30)
    assert _reminders(console, holder.number) == []  # not at night...
    _at(app, redis, clock, 21, 7, 1)
    assert len(_reminders(console, holder.number)) == 1  # ...at seven
