"""A report a KK member takes on a resident's behalf: the resident came to the posko or phoned.

It replaces the resident's own start (is it safe to reply, do you agree): the member says how the
report came in (`came_by`), that the resident agreed aloud after hearing the consent text, and
the resident's own number if they have one (`own_phone`; their answers are kept under the roles
CHANNEL and PHONE). The category questions and the closing steps that
follow are the resident's, answered by the member; a resident without a phone is not asked how
to be contacted (flows.common.NO_PHONE). Started by a member's WARGA, and by the console's
"Laporan baru" form, which answers the same questions.
"""

from __future__ import annotations

from flows.common import SPOKEN_CONSENT_VERSION
from flows.model import CHANNEL, PHONE, Choice, Flow, Option, Phone, Step, YesNo, when

POSKO, TELEPON = "posko", "telepon"  # a case's channel, beside the resident's own sms/whatsapp
CHANNELS = (POSKO, TELEPON)


def start(menu: Step) -> Flow:
    """The member's start, ending in the same `menu` as the resident's."""
    return Flow(
        name="onbehalf",
        title="cat.onbehalf",
        steps=(
            Step(
                "came_by",
                "ask.w.channel",
                Choice(
                    (
                        Option(POSKO, "opt.channel.posko", ("datang", "langsung", "tatap muka", "walk in")),
                        Option(TELEPON, "opt.channel.telepon", ("telpon", "tlp", "telp", "call", "phone")),
                    )
                ),
                role=CHANNEL,
            ),
            Step(
                "consent",
                "ask.w.consent",
                YesNo(),
                rules=(
                    when("no", say="w.consent_declined", end="declined"),
                    when("yes", consent=SPOKEN_CONSENT_VERSION),
                ),
            ),
            # "tidak ada" (no phone) is an answer; LEWATI too: the resident is never messaged.
            Step("own_phone", "ask.w.phone", Phone(), skip=True, role=PHONE),
            menu,
        ),
    )
