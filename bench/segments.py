"""What a resident's phone receives for a complete report in each flow, on each channel and in
each language: the replies (one message per message sent) and the notices that follow (accepted,
closed: bot.domain.duty.tell_resident), their SMS segments (GSM-7: 160 characters in one segment,
153 per part; one other character makes them UCS-2: 70, 67 per part) and any text that is not
GSM-7. WhatsApp messages are counted the same way, as if they went by SMS.

    .venv/bin/python -m bench.segments
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bench.scripts import REPORTS
from bot.domain.engine import ENGINE, Context, Conv, Inbound, Say
from bot.domain.i18n import LOCALES, render
from flows.places import Place
from flows.reading import gsm7, sms_segments

CODE = "PRE-7K3QX"
NOTICES = ("resident.accepted", "resident.closed")  # to a resident who chose messages
# SMS segments of a complete Kekerasan report: 12 in issue 11; 13 since the disability question
# (monev), which cannot share a message there: each of the flow's five numbered questions already
# carries its one optional question, and the danger question is a yes/no asked before we know
# who it happened to.
TARGET = 13
CHANNELS = ("sms", "whatsapp")
PLACES = (Place(1, "Lompoe", "Bacukiki"), Place(2, "Lemoe", "Bacukiki"), Place(3, "Lakessi", "Soreang"))


@dataclass
class Walk:
    flow: str
    channel: str
    locale: str
    replies: list[str]
    notices: list[str]

    @property
    def segments(self) -> int:
        return sum(map(sms_segments, self.replies))

    @property
    def notice_segments(self) -> int:
        return sum(map(sms_segments, self.notices))

    @property
    def not_gsm7(self) -> list[str]:
        return [text for text in self.replies + self.notices if not gsm7(text)]


def walk(flow: str, channel: str, locale: str) -> Walk:
    """Replay the flow's script; fails if it no longer reaches a submitted report."""
    conv, ctx = Conv(locale=locale), Context(datetime.now(UTC), PLACES, channel=channel)
    replies = []
    for text in REPORTS[flow][channel]:
        outcome = ENGINE.step(conv, Inbound(text), ctx)
        says = [Say(s.key, {"code": CODE, **s.params}, s.options) for s in outcome.replies]
        replies.append(render(says, conv.locale))
    submitted = [e.report for e in outcome.effects if hasattr(e, "report")]
    assert CODE in replies[-1] and submitted, f"{flow} ({channel}, {locale}): no report at the end"
    assert submitted[0]["category"] == flow, submitted[0]
    chose_messages = submitted[0]["contact_method"] == "message"
    notices = [render([Say(key, {"code": CODE})], locale) for key in NOTICES] if chose_messages else []
    return Walk(flow, channel, locale, replies, notices)


def walks() -> list[Walk]:
    return [walk(f, c, loc) for f in REPORTS for c in CHANNELS for loc in LOCALES]


def run() -> list[dict]:
    """Rows for `python -m bench`: the Kekerasan report on SMS against its target, the rest as
    figures beside it."""
    rows = []
    for w in walks():
        name = w.flow.replace("_", " ").capitalize()
        where = f"({w.channel}, {w.locale})"
        target = w.flow == "kekerasan" and w.channel == "sms"
        rows.append(
            {
                "what": f"SMS segments, complete {name} report {where}",
                "value": w.segments,
                "unit": "segments",
                "target": f"<= {TARGET}" if target else "-",
                "met": w.segments <= TARGET if target else None,
            }
        )
        rows.append(
            {
                "what": f"  notices after it (accepted, closed) {where}",
                "value": w.notice_segments,
                "unit": "segments",
                "target": "-",
                "met": None,
            }
        )
        rows.append(
            {
                "what": f"  texts not in GSM-7 {where}",
                "value": len(w.not_gsm7),
                "unit": "texts",
                "target": "0",
                "met": not w.not_gsm7,
            }
        )
    return rows


def main() -> None:
    print(f"{'flow':<16} {'channel':<9} {'loc':<4} {'replies':>7} {'segments':>8} {'notices':>7}  target")
    for w in walks():
        target = f"<= {TARGET}" if w.flow == "kekerasan" and w.channel == "sms" else ""
        print(
            f"{w.flow:<16} {w.channel:<9} {w.locale:<4} {len(w.replies):>7} {w.segments:>8} "
            f"{w.notice_segments:>7}  {target}"
        )
        for text in w.not_gsm7:
            print(f"    not GSM-7: {text!r}")
        for n, text in enumerate(w.replies):
            if sms_segments(text) > 1:
                print(f"    reply {n + 1} takes {sms_segments(text)} segments: {text!r}")


if __name__ == "__main__":
    main()
