"""Per-message cost of the engine against a bare `transitions` step of the same size, in the same
process: the floor any engine built on a shared transitions Machine pays.

    .venv/bin/python -m bench.engine

The bare step is what `Engine.fire` does with nothing around it: a Machine with the Kekerasan
flow's states and the same transitions, a model set to the conversation's state, one trigger.
The engine step also reads the answer (numbers, yes/no, places, local words, two answers in one
SMS), keeps the report's data and chooses the replies. Target: at most 1.5 times the bare step.
Also shown: building a Machine per message, what DESIGN.md warns against.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from transitions import Machine

from bench.scripts import KEKERASAN
from bot.domain import engine
from bot.domain.engine import ENGINE, Context, Conv, Inbound
from flows import FLOWS
from flows.places import Place

PLACES = [Place(1, "Lompoe", "Bacukiki"), Place(2, "Lemoe", "Bacukiki"), Place(3, "Lakessi", "Soreang")]
ROUNDS, REPEATS = 200, 5
TARGET = 1.5


def replay() -> int:
    """A complete Kekerasan report on SMS (its paired questions: the script's answers)."""
    conv, ctx = Conv(), Context(datetime.now(UTC), PLACES, channel="sms")
    for text in KEKERASAN:
        ENGINE.step(conv, Inbound(text), ctx)
    assert conv.state == "idle" and conv.run == 1, "the script no longer completes a report"
    return len(KEKERASAN)


class _Model:
    def __init__(self) -> None:
        self.state = ""


def bare_machine() -> tuple[Machine, list[str]]:
    """The Kekerasan flow's states, each with as many transitions as the flow's machine has."""
    flow_machine = ENGINE.machines["kekerasan"]
    states = list(flow_machine.states)
    machine = Machine(model=None, states=states, initial=states[0], auto_transitions=False, send_event=True)
    for name, ev in flow_machine.events.items():
        for source, transitions in ev.transitions.items():
            for t in transitions:
                machine.add_transition(name, source, t.dest)
    return machine, states


def bare_replay(machine: Machine, states: list[str]) -> Callable[[], int]:
    """One transition per message, the way the engine moves a conversation: a model added to the
    Machine once, set to the conversation's state, one trigger."""
    model = _Model()
    machine.add_model(model, initial=states[0])

    def run() -> int:
        state = states[0]
        for _ in KEKERASAN:
            machine.set_state(state, model=model)
            model.trigger("answer")  # type: ignore[attr-defined]
            state = model.state if model.state != states[-1] else states[0]
        return len(KEKERASAN)

    return run


def per_message(run: Callable[[], int]) -> float:
    """Median over REPEATS of the mean time per message over ROUNDS replays."""
    samples = []
    for _ in range(REPEATS):
        messages, start = 0, time.perf_counter()
        for _ in range(ROUNDS):
            messages += run()
        samples.append((time.perf_counter() - start) / messages)
    return statistics.median(samples)


def run() -> list[dict[str, Any]]:
    machine, states = bare_machine()
    # Interleaved: engine, bare, engine, bare ... so a noisy neighbour hits both alike.
    ratios, ours, bare = [], [], []
    for _ in range(3):
        ours.append(per_message(replay))
        bare.append(per_message(bare_replay(machine, states)))
        ratios.append(ours[-1] / bare[-1])
    ratio = statistics.median(ratios)
    rows = [
        {
            "what": "engine step per message (Kekerasan) / bare transitions step",
            "value": round(statistics.median(ours) * 1e6, 1),
            "unit": "us",
            "reference": round(statistics.median(bare) * 1e6, 1),
            "ratio": round(ratio, 2),
            "target": f"<= {TARGET}x",
            "met": ratio <= TARGET,
        }
    ]
    shared = engine.ENGINE.machines

    class Rebuilding(dict):  # a fresh Machine on every lookup, i.e. every message
        def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
            return engine.build_machine(FLOWS[name])

    engine.ENGINE.machines = Rebuilding()
    try:
        rebuilt = per_message(replay)
    finally:
        engine.ENGINE.machines = shared
    rows.append(
        {
            "what": "engine step with a Machine built per message (what DESIGN.md warns against)",
            "value": round(rebuilt * 1e6, 1),
            "unit": "us",
            "reference": round(statistics.median(ours) * 1e6, 1),
            "ratio": round(rebuilt / statistics.median(ours), 1),
            "target": "(for scale)",
            "met": None,
        }
    )
    return rows


def main() -> None:
    for row in run():
        print(
            f"{row['what']:<76} {row['value']:8.1f} {row['unit']}  reference {row['reference']:8.1f}"
            f"  ratio {row['ratio']}  target {row['target']}"
            + ("" if row["met"] is None else ("  met" if row["met"] else "  NOT MET"))
        )


if __name__ == "__main__":
    main()
