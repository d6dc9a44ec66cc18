"""`hotline flows check` and `hotline flows graph`: both read the flow definitions themselves."""

from __future__ import annotations

from bot.domain import i18n
from bot.render import catalogs
from flows import CATEGORIES, FLOWS, reading
from flows.model import DONE, FIRST, MENU, Flow, PlacePick

# Labels of the edges no answer names (the mechanism document says them in its own language).
SKIPPED, NOT_IT, NOT_ASKED = "LEWATI", "bukan", "tidak ditanya"


def _edges(flow: Flow) -> list[tuple[str, str, str]]:
    """(from, to, label) for every way a step can lead on, as the engine's machines run it."""
    edges = []
    for step in flow.steps:
        for rule in step.rules:
            if rule.goto or rule.end:
                dest = DONE if rule.end else flow.first if rule.goto == FIRST else rule.goto
                label = " / ".join(sorted(rule.when)) or (f"< {rule.under}" if rule.under else "")
                edges.append((step.name, dest or DONE, label))
        if step.skip:
            edges.append((step.name, step.skip_to or flow.following(step.name), SKIPPED))
        if isinstance(step.answer, PlacePick):
            edges.append((step.name, flow.steps[flow.steps.index(step) - 1].name, NOT_IT))
        if step.ask_if is not None or step.not_if is not None:
            edges.append((step.name, flow.following(step.name), NOT_ASKED))
        edges.append((step.name, flow.following(step.name), ""))
    return edges


def graph(flow: Flow) -> list[tuple[str, str, str]]:
    """(from, to, label) of the drawing: the steps' edges and, from a start flow's menu, one to
    each category flow (by its name). DONE is where a report ends. The Mermaid text and the
    mechanism document's pictures are both drawn from this."""
    edges = _edges(flow)
    menu = flow.with_role(MENU)
    if menu is not None:
        edges += [(menu.name, c.name, c.name) for c in CATEGORIES]
    return edges


def mermaid(flow: Flow) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {flow.first}"]
    for src, dest, label in graph(flow):
        target = "[*]" if dest == DONE else dest
        lines.append(f"    {src} --> {target}" + (f": {label}" if label else ""))
    return "\n".join(lines) + "\n"


def unreachable(flow: Flow) -> list[str]:
    edges = _edges(flow)
    seen, todo = {flow.first}, [flow.first]
    while todo:
        current = todo.pop()
        for src, dest, _ in edges:
            if src == current and dest != DONE and dest not in seen:
                seen.add(dest)
                todo.append(dest)
    return [s.name for s in flow.steps if s.name not in seen]


def check_flows() -> list[str]:
    problems = []
    for flow in FLOWS.values():
        for step in flow.steps:
            for dest in flow.destinations(step.name):
                if dest != DONE and not flow.has(dest):
                    problems.append(f"{flow.name}.{step.name}: leads to unknown step {dest!r}")
        problems += [f"{flow.name}.{name}: unreachable" for name in unreachable(flow)]
    for locale in i18n.LOCALES:
        problems += [f"{locale}: no translation for {key!r}" for key in catalogs.missing(locale)]
        for key in catalogs.all_keys():
            text = i18n.translations(locale).gettext(key)
            if not reading.gsm7(text):
                problems.append(f"{locale}: {key!r} is not GSM-7 (SMS would cost 70-char parts)")
    return problems
