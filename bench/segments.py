"""SMS segments a resident's phone receives for a complete Kekerasan report (GSM-7: 160 chars
in one segment, 153 per part when longer).

    .venv/bin/python -m bench.segments
"""

from __future__ import annotations

from datetime import UTC, datetime

from bench.scripts import KEKERASAN
from bot.domain.engine import ENGINE, Context, Conv, Inbound
from bot.domain.i18n import render
from flows.places import Place
from flows.reading import gsm7, sms_segments


def main() -> None:
    conv = Conv()
    ctx = Context(datetime.now(UTC), [Place(1, "Lompoe", "Bacukiki")])
    for locale in ("id", "en"):
        conv, total = Conv(locale=locale), 0
        print(f"\n{locale}: message sent -> reply chars, segments")
        for text in KEKERASAN:
            reply = render(ENGINE.step(conv, Inbound(text), ctx).replies, conv.locale)
            reply = reply.replace("{code}", "PRE-7K3QX")
            n = sms_segments(reply)
            total += n
            print(f"  {text[:28]:<30} {len(reply):4d} chars {n} seg{'' if gsm7(reply) else ' (UCS-2!)'}")
        assert "PRE-7K3QX" in reply, "the script no longer reaches a submitted report"
        print(f"{locale}: {len(KEKERASAN)} replies, {total} SMS segments in all (target: one each)")


if __name__ == "__main__":
    main()
