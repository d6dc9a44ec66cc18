"""Flows as data: reachable, translated, short enough for one SMS, run on shared Machines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.domain import engine, i18n
from bot.domain.engine import ENGINE, Context, Conv, Inbound, Say
from bot.render.flowdoc import check_flows, mermaid
from flows import FLOWS
from flows.model import Choice
from flows.reading import sms_segments


def test_flows_check_finds_nothing() -> None:
    assert check_flows() == []


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_question_with_its_options_fits_one_sms(locale: str) -> None:
    for flow in FLOWS.values():
        for step in flow.steps:
            options = (
                tuple(engine.Key(o.label) for o in step.answer.options)
                if isinstance(step.answer, Choice)
                else ()
            )
            text = i18n.render([Say(step.prompt, options=options)], locale)
            assert sms_segments(text) == 1, (flow.name, step.name, text)


def test_messages_attach_to_the_shared_machine_and_leave_it() -> None:
    conv, ctx = Conv(), Context(datetime.now(UTC))
    for text in ("halo", "ya", "ya", "1", "tidak"):
        ENGINE.step(conv, Inbound(text), ctx)
    assert (conv.flow, conv.state) == ("kekerasan", "who")
    assert all(not m.models for m in engine.MACHINES.values())  # remove_model ran
    reloaded = Conv(conv.flow, conv.state, conv.data)  # as if loaded from the database
    ENGINE.step(reloaded, Inbound("anak"), ctx)
    assert reloaded.state == "age"  # add_model(initial=state) kept its place


def test_graph_is_generated_from_the_definitions(tmp_path) -> None:
    text = mermaid(FLOWS["kekerasan"])
    assert "danger --> area: yes" in text and "confirm --> [*]: send" in text
    result = CliRunner().invoke(main, ["flows", "graph", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.stem for p in tmp_path.iterdir()) == sorted(FLOWS)
