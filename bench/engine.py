"""Per-message cost of the engine: the shared Machine per flow (what runs) against building a
transitions Machine for every message (what DESIGN.md warns against).

    .venv/bin/python -m bench.engine
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bench.scripts import KEKERASAN
from bot.domain import engine
from bot.domain.engine import ENGINE, Context, Conv, Inbound
from flows import FLOWS
from flows.places import Place

PLACES = [Place(1, "Lompoe", "Bacukiki"), Place(2, "Lemoe", "Bacukiki"), Place(3, "Lakessi", "Soreang")]
ROUNDS = 300


def replay() -> int:
    conv, ctx = Conv(), Context(datetime.now(UTC), PLACES)
    for text in KEKERASAN:
        ENGINE.step(conv, Inbound(text), ctx)
    return len(KEKERASAN)


def per_message(label: str) -> float:
    messages, start = 0, time.perf_counter()
    for _ in range(ROUNDS):
        messages += replay()
    seconds = (time.perf_counter() - start) / messages
    print(f"{label:<44} {seconds * 1e6:8.1f} us/message")
    return seconds


def main() -> None:
    shared = per_message("engine step, shared Machine per flow")
    shared_machines = engine.ENGINE.machines

    class Rebuilding(dict):  # a fresh Machine on every lookup, i.e. every message
        def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
            return engine.build_machine(FLOWS[name])

    engine.ENGINE.machines = Rebuilding()
    try:
        rebuilt = per_message("engine step, Machine built per message")
    finally:
        engine.ENGINE.machines = shared_machines
    start = time.perf_counter()
    for _ in range(ROUNDS):
        engine.build_machine(FLOWS["kekerasan"])
    build = (time.perf_counter() - start) / ROUNDS
    print(f"{'building the Kekerasan Machine once':<44} {build * 1e6:8.1f} us")
    print(f"per-message Machine costs {rebuilt / shared:.1f}x the shared one")


if __name__ == "__main__":
    main()
