"""The site's mechanism, written down for the SK Lurah annex (`hotline mechanism`).

Every part is generated from what runs, so the signed paper says what the hotline does: the
roster from the database (storage.roster.site_roster), deadlines from the configuration, the
referral list and the residents' words from flows/, the case steps from storage.casestate, the
diagrams from the flow definitions (bot.render.flowdoc). The prose around them is in the
catalogs ("mechanism.*"), Bahasa Indonesia first. The document is built once as sections of
plain blocks; `to_markdown` and `to_html` only lay them out. Member phone numbers never appear:
the roster carries none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from babel.numbers import format_decimal

from bot.domain import duty, followup, i18n, service
from bot.domain.engine import IDLE_LIMIT
from bot.domain.service import RELAY_WINDOW
from bot.render import flowdoc
from bot.render.diagram import Edge, Node, merged, svg
from flows import FLOWS, reading
from flows import members as member_words
from flows.common import CONSENT_VERSION, CONTACT_WINDOWS
from flows.model import DONE, Choice, Flow, YesNo
from sitefiles.members import ROLES, format_shifts, format_time
from storage import casestate, sitetime
from storage.roster import SiteRoster

# ----------------------------------------------------------------------------- the blocks


@dataclass(frozen=True)
class Para:
    text: str
    quote: bool = False  # what the resident or member reads, word for word from the catalogs


@dataclass(frozen=True)
class Table:
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Picture:
    key: str  # unique in the document: the SVG's ids
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    mermaid: str  # the same graph as Mermaid text, for Markdown


@dataclass(frozen=True)
class Part:
    """A subsection."""

    heading: str
    blocks: tuple[Para | Table | Picture, ...]


Block = Para | Table | Picture | Part


@dataclass(frozen=True)
class Section:
    name: str  # roles, roster, ...: the HTML anchor
    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Settings:
    """The deadlines in force, from the configuration with the code's defaults."""

    offer_minutes: float
    offer_minutes_urgent: float
    resume_minutes: float
    follow_up_days: Mapping[str, int] = field(default_factory=lambda: dict(followup.DEFAULT_DAYS))


@dataclass(frozen=True)
class Mechanism:
    roster: SiteRoster
    settings: Settings
    made_at: datetime  # aware; shown in the site's zone


@dataclass(frozen=True)
class Document:
    locale: str
    title: str
    intro: tuple[str, ...]
    sections: tuple[Section, ...]
    signature: tuple[str, ...]


def settings(config: Mapping[str, Any]) -> Settings:
    """Read by the same functions as the hotline reads them (an unset key is the default)."""
    return Settings(
        offer_minutes=duty.offer_minutes(config, urgent=False),
        offer_minutes_urgent=duty.offer_minutes(config, urgent=True),
        resume_minutes=service.pause(config).total_seconds() / 60,
        follow_up_days=followup.configured_days(config),
    )


# ----------------------------------------------------------------------------- texts

# The catalog keys this module asks for, "mechanism.<key>" (extraction and `flows check`).
LABEL_KEYS = (
    *("title", "subtitle", "made", "numbers", "numbers_none", "timezone", "contents"),
    *(f"h.{name}" for name in ("roles", "roster", "deadlines", "referrals", "steps", "rights", "flows")),
    *("roles.intro", "roles.backup", "roles.commands", "col.role", "col.duty", "col.count"),
    *(f"role.{role}" for role in ROLES),
    *(f"role_name.{role}" for role in ROLES),
    *("roster.intro", "roster.whole_site", "roster.none", "roster.no_shifts", "roster.backup"),
    *("col.kecamatan", "col.area", "col.name", "col.shifts"),
    *("deadlines.intro", "col.item", "col.rule"),
    *("offer", "offer.rule", "offer_urgent", "offer_urgent.rule", "ladder", "ladder.rule"),
    *("safe_time", "safe_time.rule", "safe_time.window", "safe_time.any"),
    *("pause", "pause.rule", "idle", "idle.rule", "relay", "relay.rule"),
    *("follow_up", "follow_up.rule", "follow_up.category", "follow_up.category.rule"),
    *("follow_up_alert", "follow_up_alert.rule"),
    *("referrals.intro", "col.institution", "col.typed"),
    *("steps.intake", "steps.intro", "steps.moves", "col.step", "col.kind", "steps.open", "steps.finished"),
    *("col.action", "col.from", "col.to", "steps.same", "steps.picture", "flows.picture"),
    *("rights.intro", "rights.also", "rights.says", "right.consent.head", "right.consent"),
    *("right.contact.head", "right.contact", "right.codeword.head", "right.codeword"),
    *(f"right.{word}" for word in ("HAPUS", "BERHENTI", "STATUS", "DARURAT", "TELEPON", "BATAL")),
    *("flows.intro", "flows.not_it", "flows.not_asked", "flows.end", "flows.source", "col.question"),
    *("sign.place", "sign.role", "sign.name"),
)


def t(key: str, locale: str, **params: object) -> str:
    return i18n.text(f"mechanism.{key}", locale, **params)


def _number(value: float, locale: str) -> str:
    return format_decimal(value, "#,##0.#", locale=locale)


def _prompt(key: str, locale: str) -> str:
    """A question as the resident reads it; a placeholder filled at run time shows as '...'."""
    return re.sub(r"\{[a-z_]+\}", "...", " ".join(i18n.text(key, locale).split()))


# ----------------------------------------------------------------------------- the sections


def _roles(doc: Mechanism, locale: str) -> Section:
    count = {role: sum(m.role == role for m in doc.roster.members) for role in ROLES}
    rows = tuple((t(f"role_name.{r}", locale), t(f"role.{r}", locale), str(count[r])) for r in ROLES)
    return Section(
        "roles",
        t("h.roles", locale),
        (
            Para(t("roles.intro", locale)),
            Table((t("col.role", locale), t("col.duty", locale), t("col.count", locale)), rows),
            Para(t("roles.backup", locale)),
            Para(t("roles.commands", locale)),
            Para(i18n.text("member.help", locale), quote=True),
        ),
    )


def _role_cell(role: str, backup: bool, locale: str) -> str:
    name = t(f"role_name.{role}", locale) if role in ROLES else role
    return f"{name}, {t('roster.backup', locale)}" if backup else name


def _roster(doc: Mechanism, locale: str) -> Section:
    """Whole-site members first, then every active area in the sites file's order, with its
    members (koordinator, ketua, pendamping) or a line saying it has none yet."""
    roster = doc.roster
    groups = [("", t("roster.whole_site", locale), None)]
    groups += [(a.kecamatan, a.name, a.name) for a in roster.areas]
    rows = []
    for kecamatan, shown, area in groups:
        people = [m for m in roster.members if m.area == area]
        if not people and area is not None:
            rows.append((kecamatan, shown, t("roster.none", locale), "", ""))
        for m in people:
            shifts = ", ".join(format_shifts(m.shifts)) or t("roster.no_shifts", locale)
            rows.append((kecamatan, shown, m.name, _role_cell(m.role, m.backup, locale), shifts))
    head = tuple(t(f"col.{c}", locale) for c in ("kecamatan", "area", "name", "role", "shifts"))
    return Section(
        "roster",
        t("h.roster", locale),
        (Para(t("roster.intro", locale, tz=_zone(doc))), Table(head, tuple(rows))),
    )


def _offer_rows(doc: Mechanism, locale: str) -> list[tuple[str, str]]:
    s = doc.settings
    return [
        (t("offer", locale), t("offer.rule", locale, minutes=_number(s.offer_minutes, locale))),
        (
            t("offer_urgent", locale),
            t("offer_urgent.rule", locale, minutes=_number(s.offer_minutes_urgent, locale)),
        ),
        (t("ladder", locale), t("ladder.rule", locale)),
    ]


def _safe_time_rows(doc: Mechanism, locale: str) -> list[tuple[str, str]]:
    windows = [
        t("safe_time.window", locale, name=i18n.text(f"opt.time.{name}", locale), start=format_time(a * 60),
          end=format_time(b * 60))
        for name, (a, b) in CONTACT_WINDOWS.items()
    ]  # fmt: skip
    windows.append(t("safe_time.any", locale, name=i18n.text("opt.time.any", locale)))
    return [(t("safe_time", locale), t("safe_time.rule", locale, windows="; ".join(windows)))]


def _conversation_rows(doc: Mechanism, locale: str) -> list[tuple[str, str]]:
    hours = {"idle": IDLE_LIMIT.total_seconds() / 3600, "relay": RELAY_WINDOW.total_seconds() / 3600}
    return [
        (t("pause", locale), t("pause.rule", locale, minutes=_number(doc.settings.resume_minutes, locale))),
        (t("idle", locale), t("idle.rule", locale, hours=_number(hours["idle"], locale))),
        (t("relay", locale), t("relay.rule", locale, hours=_number(hours["relay"], locale))),
    ]


def _follow_up_rows(doc: Mechanism, locale: str) -> list[tuple[str, str]]:
    """Follow-up reminders (bot.domain.followup): days without news, the urgent and each
    category's own number when configured, then the koordinator's alert and the quiet night."""
    days = doc.settings.follow_up_days
    rows = [
        (
            t("follow_up", locale),
            t("follow_up.rule", locale, days=days["default"], urgent=days["urgent"]),
        )
    ]
    for name in followup.CATEGORY_NAMES:
        if name in days:
            category = i18n.text(f"cat.{name}", locale)
            rows.append((t("follow_up.category", locale, category=category), t(
                "follow_up.category.rule", locale, days=days[name], urgent=days["urgent"])))  # fmt: skip
    night = {"start": format_time(followup.NIGHT_STARTS * 60), "end": format_time(followup.DAY_STARTS * 60)}
    rows.append((t("follow_up_alert", locale), t("follow_up_alert.rule", locale, **night)))
    return rows


# The deadlines section, in order: add a row provider here, not a table elsewhere.
DEADLINE_ROWS: tuple[Callable[[Mechanism, str], list[tuple[str, str]]], ...] = (
    _offer_rows,
    _safe_time_rows,
    _conversation_rows,
    _follow_up_rows,
)


def _deadlines(doc: Mechanism, locale: str) -> Section:
    rows = tuple(row for provider in DEADLINE_ROWS for row in provider(doc, locale))
    return Section(
        "deadlines",
        t("h.deadlines", locale),
        (Para(t("deadlines.intro", locale)), Table((t("col.item", locale), t("col.rule", locale)), rows)),
    )


def _referrals(doc: Mechanism, locale: str) -> Section:
    rows = tuple(
        (name, ", ".join(w for w in words if w.casefold() != name.casefold()))
        for name, words in member_words.INSTITUTIONS.items()
    )
    return Section(
        "referrals",
        t("h.referrals", locale),
        (
            Para(t("referrals.intro", locale)),
            Table((t("col.institution", locale), t("col.typed", locale)), rows),
        ),
    )


def _status(state: str, locale: str) -> str:
    return i18n.text(casestate.LABELS[state], locale)


def _action(move: str, locale: str) -> str:
    """A move by the timeline label of the event it records (the console shows the same)."""
    return i18n.text(f"console.event.{casestate.EVENTS[move]}", locale)


def case_picture(locale: str) -> Picture:
    """The case's states and the moves between two of them, from storage.casestate's table (a
    move that leaves the state as it is, such as an offer of a referred case, is in the table
    of moves, not drawn)."""
    nodes = tuple(Node(s, _status(s, locale), terminal=s in casestate.FINISHED) for s in casestate.STATES)
    edges = merged(
        [
            Edge(src, dest, _action(move, locale))
            for move, table in casestate.MOVES.items()
            for src, dest in table.items()
            if src != dest
        ]
    )
    lines = ["stateDiagram-v2", *(f'    state "{_status(s, locale)}" as {s}' for s in casestate.STATES)]
    lines.append(f"    [*] --> {casestate.STATES[0]}")
    lines += [f"    {e.src} --> {e.dest}: {e.label}" for e in edges]
    lines += [f"    {s} --> [*]" for s in casestate.FINISHED]
    return Picture("case", t("steps.picture", locale), nodes, tuple(edges), "\n".join(lines) + "\n")


def _moves(locale: str) -> tuple[tuple[str, str, str], ...]:
    """(action, from, to) rows: one per action and target, 'stays' for a move that keeps the state."""
    rows: dict[tuple[str, str], list[str]] = {}
    for move, table in casestate.MOVES.items():
        for src, dest in table.items():
            target = t("steps.same", locale) if src == dest else _status(dest, locale)
            sources = rows.setdefault((_action(move, locale), target), [])
            if _status(src, locale) not in sources:
                sources.append(_status(src, locale))
    return tuple((action, ", ".join(sources), target) for (action, target), sources in rows.items())


def _steps(doc: Mechanism, locale: str) -> Section:
    kinds = {s: t("steps.open", locale) for s in casestate.OPEN}
    kinds.update({s: t("steps.finished", locale) for s in casestate.FINISHED})
    states = tuple((str(i), _status(s, locale), kinds.get(s, "")) for i, s in enumerate(casestate.STATES, 1))
    return Section(
        "steps",
        t("h.steps", locale),
        (
            Para(t("steps.intake", locale)),
            Para(t("steps.intro", locale)),
            Table(("No", t("col.step", locale), t("col.kind", locale)), states),
            Para(t("steps.moves", locale)),
            Table(tuple(t(f"col.{c}", locale) for c in ("action", "from", "to")), _moves(locale)),
            case_picture(locale),
        ),
    )


# A resident's word (flows.reading.GLOBAL_WORDS), and what the hotline answers to it, if a text.
RIGHT_WORDS: tuple[tuple[str, str | None], ...] = (
    ("HAPUS", "erase.ask"),
    ("BERHENTI", "stopped"),
    ("STATUS", None),
    ("DARURAT", "emergency"),
    ("TELEPON", None),
    ("BATAL", None),
)


def _word_part(word: str, answer: str | None, locale: str) -> Part:
    others = [w for w in reading.GLOBAL_WORDS.get(word, ()) if w.casefold() != word.casefold()]
    heading = f"{word} ({t('rights.also', locale, words=', '.join(others))})" if others else word
    blocks: list[Para | Table | Picture] = [Para(t(f"right.{word}", locale))]
    if answer is not None:
        blocks += [Para(t("rights.says", locale)), Para(i18n.text(answer, locale), quote=True)]
    return Part(heading, tuple(blocks))


def _rights(doc: Mechanism, locale: str) -> Section:
    says = Para(t("rights.says", locale))
    parts = [
        Part(
            t("right.consent.head", locale, version=CONSENT_VERSION),
            (Para(t("right.consent", locale)), says, Para(i18n.text("ask.consent", locale), quote=True)),
        ),
        Part(
            t("right.contact.head", locale),
            (Para(t("right.contact", locale)), says, Para(i18n.text("ask.contact", locale), quote=True)),
        ),
        Part(
            t("right.codeword.head", locale),
            (Para(t("right.codeword", locale)), says, Para(i18n.text("ask.codeword", locale), quote=True)),
        ),
        *(_word_part(word, answer, locale) for word, answer in RIGHT_WORDS),
    ]
    return Section("rights", t("h.rights", locale), (Para(t("rights.intro", locale)), *parts))


def _answer_words(flow: Flow, step_name: str, label: str, locale: str) -> str:
    """An edge's label as the resident's answers read: 'yes' as 'ya', an option by its label, a
    category by its title; LEWATI and the like stay as they are."""
    step = flow.step(step_name) if flow.has(step_name) else None
    words: dict[str, str] = {f.name: i18n.text(f.title, locale) for f in FLOWS.values()}
    words.update({flowdoc.NOT_IT: t("flows.not_it", locale), flowdoc.NOT_ASKED: t("flows.not_asked", locale)})
    if step is not None and isinstance(step.answer, YesNo):
        words.update({value: i18n.text(key, locale) for value, key in member_words.YES_NO.items()})
    if step is not None and isinstance(step.answer, Choice):
        words.update({o.value: i18n.text(o.label, locale) for o in step.answer.options})
    return " / ".join(words.get(part, part) for part in label.split(" / ")) if label else ""


def flow_picture(flow: Flow, locale: str) -> Picture:
    """A flow as bot.render.flowdoc draws it: its steps in order with their questions, the
    category flows the start flow's menu leads to, and the end."""
    steps = [Node(s.name, s.name, _prompt(s.prompt, locale)) for s in flow.steps]
    edges = tuple(
        Edge(src, dest, _answer_words(flow, src, label, locale)) for src, dest, label in flowdoc.graph(flow)
    )
    known = {s.name for s in flow.steps}
    others = [
        Node(f.name, f.name, i18n.text(f.title, locale), terminal=True)
        for f in FLOWS.values()
        if f.name not in known and any(e.dest == f.name for e in edges)
    ]
    end = [Node(DONE, t("flows.end", locale), terminal=True)] if any(e.dest == DONE for e in edges) else []
    title = t("flows.picture", locale, flow=i18n.text(flow.title, locale))
    return Picture(f"flow-{flow.name}", title, (*steps, *others, *end), edges, flowdoc.mermaid(flow))


def _flows(doc: Mechanism, locale: str) -> Section:
    head = (t("col.step", locale), t("col.question", locale))
    parts = tuple(
        Part(
            f"{i18n.text(flow.title, locale)} ({flow.name})",
            (
                flow_picture(flow, locale),
                Table(head, tuple((s.name, _prompt(s.prompt, locale)) for s in flow.steps)),
            ),
        )
        for flow in FLOWS.values()
    )
    return Section("flows", t("h.flows", locale), (Para(t("flows.intro", locale)), *parts))


SECTIONS: tuple[Callable[[Mechanism, str], Section], ...] = (
    _roles,
    _roster,
    _deadlines,
    _referrals,
    _steps,
    _rights,
    _flows,
)


def _numbers(roster: SiteRoster, locale: str) -> str:
    if not roster.numbers:
        return t("numbers_none", locale)
    shown = [
        f"{n.removeprefix('whatsapp:')} (WhatsApp)" if n.startswith("whatsapp:") else f"{n} (SMS)"
        for n in roster.numbers
    ]
    return t("numbers", locale, numbers=", ".join(shown))


def _zone(doc: Mechanism) -> str:
    """The zone as people say it, then its name: WITA, Asia/Makassar."""
    abbreviation = sitetime.local(doc.made_at, doc.roster.timezone).tzname() or ""
    return f"{abbreviation}, {doc.roster.timezone}" if abbreviation.isalpha() else doc.roster.timezone


def document(doc: Mechanism, locale: str) -> Document:
    locale = locale if locale in i18n.LOCALES else i18n.DEFAULT_LOCALE
    roster = doc.roster
    made = i18n.local_datetime(doc.made_at, roster.timezone, locale)
    return Document(
        locale,
        t("title", locale, site=roster.name, prefix=roster.prefix),
        (
            t("subtitle", locale),
            _numbers(roster, locale),
            t("timezone", locale, tz=_zone(doc)),
            t("made", locale, date=made, prefix=roster.prefix),
        ),
        tuple(section(doc, locale) for section in SECTIONS),
        (t("sign.place", locale), t("sign.role", locale), t("sign.name", locale)),
    )


# ----------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _md(text: str) -> str:
    """Text as Markdown shows it literally: a name with * or < stays a name."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _md_block(block: Block) -> list[str]:
    if isinstance(block, Para):
        return [f"> {_md(block.text)}" if block.quote else _md(block.text), ""]
    if isinstance(block, Table):
        lines = ["| " + " | ".join(_md(h) for h in block.head) + " |", "|" + " --- |" * len(block.head)]
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in block.rows]
        return [*lines, ""]
    if isinstance(block, Picture):
        return [f"**{_md(block.title)}**", "", "```mermaid", block.mermaid.rstrip("\n"), "```", ""]
    return [f"### {_md(block.heading)}", "", *(line for b in block.blocks for line in _md_block(b))]


def to_markdown(doc: Document) -> str:
    lines = [f"# {_md(doc.title)}", ""]
    for line in doc.intro:
        lines += [_md(line), ""]
    lines += [f"## {_md(t('contents', doc.locale))}", ""]
    lines += [f"{i}. {_md(s.heading)}" for i, s in enumerate(doc.sections, 1)]
    lines.append("")
    for i, section in enumerate(doc.sections, 1):
        lines += [f"## {i}. {_md(section.heading)}", ""]
        for block in section.blocks:
            lines += _md_block(block)
    lines += ["---", "", *(f"{_md(line)}  " for line in doc.signature), ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- HTML

STYLE = """
body { font-family: "Segoe UI", Roboto, Arial, sans-serif; margin: 1.5rem auto; max-width: 52rem;
  color: #111; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .3rem; } h2 { font-size: 1.25rem; margin-top: 2rem;
  border-bottom: 1px solid #999; } h3 { font-size: 1.05rem; margin-top: 1.4rem; }
.intro p { margin: .2rem 0; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; font-size: .92rem; }
th, td { border: 1px solid #bbb; padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #eee; }
blockquote { margin: .4rem 0 .8rem 1rem; padding: .3rem .8rem; border-left: 3px solid #777;
  background: #f6f6f6; }
figure { margin: .8rem 0; } figcaption { font-weight: bold; margin-bottom: .3rem; }
svg.diagram { max-width: 100%; height: auto; }
svg .node { fill: #fff; stroke: #333; } svg .node.end { fill: #eee; }
svg .start, svg marker path { fill: #333; } svg .edge { stroke: #333; stroke-width: 1.2; fill: none; }
svg text { font-family: inherit; fill: #111; } svg .title { font-size: 12px; font-weight: bold; }
svg .sub { font-size: 11px; fill: #333; }
svg .label { font-size: 10px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
details pre { font-size: .8rem; white-space: pre-wrap; }
.signature { margin-top: 3rem; margin-left: 55%; } .signature .name { margin-top: 4rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  @page { size: A4; margin: 18mm 16mm; }
  h2 { break-after: avoid; } h3 { break-after: avoid; }
  tr, figure, blockquote, .signature { break-inside: avoid; }
  #flows { break-before: page; }
  details { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def _html_block(block: Block, locale: str) -> list[str]:
    if isinstance(block, Para):
        text = escape(block.text)
        return [f"<blockquote>{text}</blockquote>" if block.quote else f"<p>{text}</p>"]
    if isinstance(block, Table):
        out = ["<table><thead><tr>", *(f'<th scope="col">{escape(h)}</th>' for h in block.head)]
        out.append("</tr></thead><tbody>")
        out += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in block.rows]
        return [*out, "</tbody></table>"]
    if isinstance(block, Picture):
        return [
            f"<figure><figcaption>{escape(block.title)}</figcaption>",
            svg(list(block.nodes), list(block.edges), block.title, block.key),
            f"<details><summary>{escape(t('flows.source', locale))}</summary>"
            f"<pre>{escape(block.mermaid)}</pre></details></figure>",
        ]
    return [
        f"<h3>{escape(block.heading)}</h3>",
        *(line for b in block.blocks for line in _html_block(b, locale)),
    ]


def to_html(doc: Document) -> str:
    """A whole page that opens offline and prints on A4: inline style, inline SVG, no script."""
    out = [
        f'<!DOCTYPE html>\n<html lang="{escape(doc.locale)}">\n<head>\n<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(doc.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        f"<h1>{escape(doc.title)}</h1>",
        '<div class="intro">', *(f"<p>{escape(line)}</p>" for line in doc.intro), "</div>",
        f"<nav><h2>{escape(t('contents', doc.locale))}</h2><ol>",
        *(f'<li><a href="#{s.name}">{escape(s.heading)}</a></li>' for s in doc.sections),
        "</ol></nav>",
    ]  # fmt: skip
    for i, section in enumerate(doc.sections, 1):
        out.append(f'<section id="{escape(section.name)}"><h2>{i}. {escape(section.heading)}</h2>')
        for block in section.blocks:
            out += _html_block(block, doc.locale)
        out.append("</section>")
    out.append('<div class="signature">')
    place, role, name = doc.signature
    out += [f"<p>{escape(place)}</p>", f"<p>{escape(role)}</p>", f'<p class="name">{escape(name)}</p>']
    out.append("</div>\n</body>\n</html>\n")
    return "\n".join(out)
