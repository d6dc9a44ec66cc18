"""Conversations as data. Every category flow, in menu order, and the shared start."""

from flows import bansos, bpjs, dokumen, kekerasan, lainnya, onbehalf, perkawinan_anak
from flows.common import SAFETY
from flows.model import MENU as MENU_ROLE
from flows.model import Choice, Flow, Option, Step

CATEGORIES: tuple[Flow, ...] = tuple(
    m.FLOW for m in (kekerasan, bansos, bpjs, perkawinan_anak, dokumen, lainnya)
)

MENU = Step(
    "menu",
    "ask.menu",
    Choice(tuple(Option(f.name, f.title, f.words + f.intents) for f in CATEGORIES)),
    role=MENU_ROLE,
)

# Safety, consent and the menu: every report starts here, then moves into a category flow.
START = Flow(name="start", title="cat.start", steps=(*SAFETY, MENU))
# A KK member reporting for a resident (WARGA, the console's "Laporan baru") starts here instead.
ON_BEHALF = onbehalf.start(MENU)

FLOWS: dict[str, Flow] = {f.name: f for f in (START, ON_BEHALF, *CATEGORIES)}
