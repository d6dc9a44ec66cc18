"""Flows as data: reachable, translated, short enough for one SMS, run on shared Machines."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from bot.cli import main
from bot.domain import engine, i18n
from bot.domain.engine import ENGINE, Context, Conv, Inbound, Say
from bot.render import catalogs
from bot.render.flowdoc import check_flows, mermaid
from flows import FLOWS
from flows.members import INSTITUTIONS, VERBS
from flows.model import Choice
from flows.reading import GLOBAL_WORDS, sms_segments


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


def test_the_shared_machine_keeps_one_model_per_thread_and_no_conversation() -> None:
    conv, ctx = Conv(), Context(datetime.now(UTC))
    for text in ("halo", "ya", "ya", "1", "tidak"):
        ENGINE.step(conv, Inbound(text), ctx)
    assert (conv.flow, conv.state) == ("kekerasan", "who")
    before = {name: len(m.models) for name, m in engine.MACHINES.items()}
    reloaded = Conv(conv.flow, conv.state, conv.data)  # as if loaded from the database
    ENGINE.step(reloaded, Inbound("anak"), ctx)
    assert reloaded.state == "age"  # set_state put the thread's model where the conversation was
    assert {name: len(m.models) for name, m in engine.MACHINES.items()} == before  # nothing added


def test_threads_step_their_own_conversations_at_once() -> None:
    """gunicorn's threads share the Machines: each moves its own conversation, none another's;
    threads that come and go (a dev server's, a spool replay's) leave no model behind."""
    ctx, results = Context(datetime.now(UTC)), {}
    before = {name: len(m.models) for name, m in engine.MACHINES.items()}
    start = threading.Barrier(4)

    def walk(n: int) -> None:
        conv = Conv()
        start.wait()
        for _ in range(20):
            conv = Conv()
            for text in ("halo", "ya", "ya", "1", "tidak", "anak"):
                ENGINE.step(conv, Inbound(text), ctx)
        results[n] = (conv.flow, conv.state)

    threads = [threading.Thread(target=walk, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results.values()) == {("kekerasan", "age")}
    for _ in range(3):  # new threads, one after another: models are reused, not added
        thread = threading.Thread(target=walk, args=(9,))
        start = threading.Barrier(1)
        thread.start()
        thread.join()
    assert all(len(m.models) <= before[name] + 4 for name, m in engine.MACHINES.items())


def test_graph_is_generated_from_the_definitions(tmp_path) -> None:
    text = mermaid(FLOWS["kekerasan"])
    assert "danger --> area: yes" in text and "confirm --> [*]: send" in text
    result = CliRunner().invoke(main, ["flows", "graph", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.stem for p in tmp_path.iterdir()) == sorted(FLOWS)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words of one language only: one of them in the other catalog is a text left untranslated.
# Loanwords both use (status, media, chat, online, hotline) are not listed.
ENGLISH = _words(
    "the and of to is are you your with for please not this that will if we our stop yes "
    "anonymous report call message send cancel name thank sorry agree reply other none"
)
INDONESIAN = _words(
    "dan yang untuk tidak ada dengan anonim saya anda kami atau ini itu akan sudah belum bila "
    "kalau jika laporan kasus warga mohon silakan sendiri umur berapa siapa tolong lagi ketik "
    "tulis kirim hapus batal dari pada juga saja bisa boleh perlu punya keduanya lainnya kartu "
    "keluarga"
)
# The same in both: command words as typed (LEWATI, STATUS, HAPUS, TERIMA ...), names of
# institutions, programmes and documents (UPTD PPA, DTSEN, SAPA, WA, BPJS, PKH, KTP, KK, NIK, PEP,
# visum), and the institutions a member types after RUJUK ("lainnya" among them).
COMMANDS = frozenset({*GLOBAL_WORDS, *VERBS, "HALO", "TELEPON"})
NAMES = re.compile(
    "|".join(rf"\b{re.escape(n)}\b" for n in sorted(INSTITUTIONS, key=len, reverse=True)), re.I
)


def foreign_words(text: str, other: frozenset[str]) -> set[str]:
    text = NAMES.sub(" ", re.sub(r"\{[^}]*\}", " ", text))
    tokens = re.findall(r"[^\W\d_]+", text)
    return {t for t in tokens if t not in COMMANDS and t.lower() in other}


@pytest.mark.parametrize(("locale", "other"), [("id", ENGLISH), ("en", INDONESIAN)])
def test_no_text_is_in_the_other_language(locale: str, other: frozenset[str]) -> None:
    found = {}
    for key in catalogs.all_keys():
        text = i18n.translations(locale).gettext(key)
        if text != key and (words := foreign_words(text, other)):
            found[key] = sorted(words)
    assert found == {}


def test_no_english_text_equals_its_key() -> None:
    """An English text spelled as its key reads as untranslated and is said in Indonesian
    ("Name: anonim" when the text of "anonymous" was "anonymous")."""
    with i18n.po_path("en").open("rb") as f:
        same = [m.id for m in read_po(f, locale="en") if m.id and m.string == m.id]
    assert same == []
