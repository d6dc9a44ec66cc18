"""The engine runs any flow: a small flow set whose steps, flows and flags are all named
differently from the shipped ones goes through every path that depends on a step's role."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

from bot.domain import engine as engine_module
from bot.domain.engine import Consented, Context, Conv, Engine, Inbound, Outcome, Submit
from flows import FLOWS
from flows.model import (
    CONTACT,
    EMERGENCY,
    FIRST,
    MENU,
    NAME,
    SUMMARY,
    Choice,
    Flow,
    Option,
    Place,
    PlacePick,
    Step,
    Text,
    YesNo,
    when,
)
from flows.places import Place as Area

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PLACES = (Area(7, "Kampung Baru", "Tengah", ("kp baru",)),)

TAIL = (
    Step("lokasi", "x.lokasi", Place(), skip=True, skip_to="hubungi", role=EMERGENCY),
    Step("lokasi_ok", "x.lokasi_ok", PlacePick(), next="hubungi"),
    Step(
        "hubungi",
        "x.hubungi",
        Choice((Option("call", "x.call"), Option("message", "x.msg"), Option("none", "x.none"))),
        rules=(when("none", goto="panggilan"),),
        role=CONTACT,
    ),
    Step("panggilan", "x.panggilan", Text(limit=50), skip=True, role=NAME),
    Step(
        "periksa",
        "x.periksa",
        Choice((Option("send", "x.send"), Option("change", "x.change"), Option("cancel", "x.cancel"))),
        rules=(when("change", goto=FIRST), when("cancel", end="cancelled"), when("send", end="submitted")),
        role=SUMMARY,
    ),
)
KELUHAN = Flow(
    name="keluhan",
    title="x.keluhan",
    intents=("dipalak",),
    steps=(
        Step("bahaya", "x.bahaya", YesNo(), rules=(when("yes", urgent=True, flag="gawat"),)),
        Step(
            "cerita",
            "x.cerita",
            Choice((Option("pukul", "x.pukul"), Option("ejek", "x.ejek"))),
            rules=(when("ejek", flag="bendera", advice="x.nasihat"),),
        ),
        *TAIL,
    ),
)
UMUM = Flow(name="umum", title="x.umum", steps=(Step("apa", "x.apa", Text()), *TAIL), catch_all=True)
MULAI = Flow(
    name="mulai",
    title="x.mulai",
    steps=(
        Step("aman", "x.aman", YesNo(), rules=(when("no", end="unsafe"),)),
        Step(
            "setuju", "x.setuju", YesNo(), rules=(when("no", end="declined"), when("yes", consent="v-test"))
        ),
        Step(
            "pilih",
            "x.pilih",
            Choice((Option("keluhan", "x.keluhan"), Option("umum", "x.umum"))),
            role=MENU,
        ),
    ),
)
ENGINE = Engine(MULAI, (KELUHAN, UMUM))


class Chat:
    def __init__(self) -> None:
        self.conv = Conv(flow="mulai")
        self.out = Outcome()

    def says(self, text: str) -> list[str]:
        self.out = ENGINE.step(self.conv, Inbound(text), Context(NOW, PLACES))
        return [say.key for say in self.out.replies]

    def submitted(self) -> dict:
        return next(e.report for e in self.out.effects if isinstance(e, Submit))


def consented(first: str = "halo") -> Chat:
    chat = Chat()
    assert chat.says(first)[-1] == "x.aman"
    assert chat.says("ya") == ["x.setuju"]
    chat.says("iya")
    assert any(isinstance(e, Consented) and e.version == "v-test" for e in chat.out.effects)
    return chat


def test_a_whole_report_reads_its_roles_from_the_flow() -> None:
    chat = consented()
    assert chat.says("1") == ["x.bahaya"]
    assert chat.says("tidak") == ["x.cerita"]
    assert chat.says("2") == ["x.lokasi"]
    assert chat.says("kampung bru") == ["x.lokasi_ok"]  # a near match is confirmed
    assert chat.says("1") == ["x.hubungi"]
    assert chat.says("2") == ["x.panggilan"]
    assert chat.says("Ani") == ["summary", "x.periksa"]  # SUMMARY: the report read back first
    summary = chat.out.replies[0].params
    assert summary["contact"].key == "x.msg" and summary["name"] == "Ani"
    keys = chat.says("1")
    report = chat.submitted()
    assert report["category"] == "keluhan" and report["area_id"] == 7
    assert report["answers"] == {
        "bahaya": "no",
        "cerita": "ejek",
        "lokasi": "kampung bru",
        CONTACT: "message",  # kept under its role, whatever the step is called
        NAME: "Ani",
    }
    assert report["contact_ok"] and report["name"] == "Ani" and report["flags"] == ["bendera"]
    assert keys == ["submitted", "submitted.message", "x.nasihat"]  # the flag's advice, once
    assert chat.conv.state == engine_module.IDLE


def test_darurat_jumps_to_the_emergency_step() -> None:
    chat = consented()
    chat.says("1")
    keys = chat.says("DARURAT")
    assert chat.conv.flow == "keluhan" and chat.conv.state == "lokasi"
    assert keys[-1] == "x.lokasi" and chat.conv.data["urgent"] and "darurat" in chat.conv.data["flags"]


def test_a_hand_off_before_the_menu_files_under_the_catch_all() -> None:
    chat = consented()
    for _ in range(3):
        chat.says("qwerty")
    chat.says("ya")  # yes, let a person help
    report = chat.submitted()
    assert report["category"] == "umum" and report["answers"] == {CONTACT: "message"}
    assert "handoff" in report["flags"] and report["contact_ok"]


def test_an_intent_skips_the_menu_and_menu_goes_back_to_it() -> None:
    chat = consented("sy dipalak preman")
    assert chat.conv.flow == "keluhan" and chat.conv.state == "bahaya"
    assert chat.says("MENU")[-1] == "x.pilih"
    assert chat.conv.flow == "mulai" and chat.conv.state == "pilih"


def test_change_at_the_summary_goes_to_the_first_question_and_nobody_is_contacted() -> None:
    chat = consented()
    for text in ("1", "ya", "1", "LEWATI", "3", "LEWATI"):
        chat.says(text)
    assert chat.conv.state == "periksa"
    assert chat.says("2") == ["x.bahaya"]  # FIRST: the flow's own first question
    for text in ("tidak", "1", "LEWATI", "3", "LEWATI"):
        chat.says(text)
    chat.says("1")
    report = chat.submitted()
    assert report["contact_method"] == "none" and not report["contact_ok"]
    assert report["urgent"] and "gawat" in report["flags"]  # danger said once stays said


def test_the_start_flow_has_no_darurat_jump_and_a_flow_set_needs_its_roles() -> None:
    assert "hurry" not in ENGINE.machines["mulai"].events
    assert "hurry" in ENGINE.machines["keluhan"].events
    try:
        Engine(MULAI, (KELUHAN,))  # no catch_all
    except ValueError as exc:
        assert "catch_all" in str(exc)
    else:
        raise AssertionError("an engine without a catch-all flow was built")


def _literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_the_engine_source_names_no_step_flow_or_flag_of_the_shipped_flows() -> None:
    names = set(FLOWS)
    for flow in FLOWS.values():
        for step in flow.steps:
            names.add(step.name)
            names.update(rule.flag for rule in step.rules if rule.flag)
    # The engine's own keys in a conversation's data and the summary message's placeholders,
    # which shipped steps happen to share as names.
    own = {"consent", "name", "urgent", "area", "contact"}
    found = _literals(Path(engine_module.__file__)) & names - own
    assert found == set()
