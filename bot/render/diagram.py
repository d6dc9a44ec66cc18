"""A directed graph drawn as an inline SVG that prints: boxes top to bottom in the order given,
the edge to the next box as a straight arrow down, every other edge as a branch on the right
into its destination's trunk (one vertical line per destination, however many lead there).

Used by the mechanism document for the conversation flows (edges from bot.render.flowdoc) and
the case steps (storage.casestate). No layout library and nothing to fetch: the boxes are in
the order the flow asks its questions, which is how people read a flow anyway. Every text is
escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT, GAP = 320, 44, 36  # a box, and the room below it for the arrow and its label
LEFT, TOP = 10, 30
PORT = 15  # between two lines meeting a box's right side: a label fits above each
LANE = 14  # between two trunks
CHAR = 6  # about the width of a label's character, for the gutter the labels sit in
MAX_GUTTER = 190
SUBTITLE_CHARS = 48


@dataclass(frozen=True)
class Node:
    id: str
    title: str
    subtitle: str = ""
    terminal: bool = False  # drawn rounded: where the graph ends


@dataclass(frozen=True)
class Edge:
    src: str
    dest: str
    label: str = ""


def merged(edges: list[Edge]) -> list[Edge]:
    """One edge per (from, to), its labels joined: 'LEWATI' and '' to the same step are one arrow."""
    labels: dict[tuple[str, str], list[str]] = {}
    for edge in edges:
        found = labels.setdefault((edge.src, edge.dest), [])
        if edge.label and edge.label not in found:
            found.append(edge.label)
    return [Edge(src, dest, " / ".join(found)) for (src, dest), found in labels.items()]


@dataclass(frozen=True)
class _Layout:
    tops: list[int]  # y of each box
    heights: list[int]
    ports: dict[tuple[str, int], int]  # ("out", edge index) or ("in", dest row) -> y on the right side
    lanes: dict[int, int]  # dest row -> lane of its trunk
    gutter: int  # room for the labels between the boxes and the first trunk


def _layout(rows: int, arcs: list[tuple[int, int, str]]) -> _Layout:
    """Where everything goes, given the (from row, to row, label) of the edges drawn on the right."""
    ends: list[list[tuple[str, int]]] = [[] for _ in range(rows)]
    for i, (a, _, _) in enumerate(arcs):
        ends[a].append(("out", i))
    for b in dict.fromkeys(b for _, b, _ in arcs):
        ends[b].append(("in", b))
    heights = [max(HEIGHT, PORT * (len(e) + 1)) for e in ends]
    tops = [TOP + sum(heights[:i]) + GAP * i for i in range(rows)]
    ports = {
        end: tops[row] + heights[row] * (k + 1) // (len(e) + 1)
        for row, e in enumerate(ends)
        for k, end in enumerate(e)
    }
    spans = {b: [b] for _, b, _ in arcs}
    for a, b, _ in arcs:
        spans[b].append(a)
    taken: list[list[tuple[int, int]]] = []
    lanes = {}
    for b, rows_of in sorted(spans.items(), key=lambda s: (max(s[1]) - min(s[1]), s[0])):
        low, high = min(rows_of), max(rows_of)
        lane = next((i for i, t in enumerate(taken) if all(high < s or low > e for s, e in t)), len(taken))
        if lane == len(taken):
            taken.append([])
        taken[lane].append((low, high))
        lanes[b] = lane
    longest = max((len(label) for _, _, label in arcs), default=0)
    gutter = min(MAX_GUTTER, longest * CHAR + 12) if arcs else 0
    return _Layout(tops, heights, ports, lanes, gutter)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUBTITLE_CHARS else text[: SUBTITLE_CHARS - 1].rstrip() + "…"


def _box(node: Node, y: int, height: int) -> list[str]:
    rx = 18 if node.terminal else 4
    title_y = y + 18 if node.subtitle else y + height // 2 + 5
    out = [
        f'<rect x="{LEFT}" y="{y}" width="{WIDTH}" height="{height}" rx="{rx}" class="node'
        f'{" end" if node.terminal else ""}"/>',
        f'<text x="{LEFT + 8}" y="{title_y}" class="title">{escape(node.title)}</text>',
    ]
    if node.subtitle:
        out.append(f'<text x="{LEFT + 8}" y="{y + 35}" class="sub">{escape(_short(node.subtitle))}</text>')
    return out


def _label(x: int, y: int, text: str) -> str:
    return f'<text x="{x}" y="{y}" class="label">{escape(text)}</text>' if text else ""


def _arrow(x1: int, y1: int, x2: int, y2: int, key: str) -> str:
    end = f"url(#{escape(key)}-arrow)"
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" class="edge" marker-end="{end}"/>'


def _trunks(arcs: list[tuple[int, int, str]], at: _Layout, key: str) -> list[str]:
    right = LEFT + WIDTH
    out = []
    for b, lane in at.lanes.items():
        x = right + at.gutter + LANE * (lane + 1)
        ys = [at.ports[("in", b)]] + [at.ports[("out", i)] for i, arc in enumerate(arcs) if arc[1] == b]
        out.append(f'<line x1="{x}" y1="{min(ys)}" x2="{x}" y2="{max(ys)}" class="edge"/>')
        out.append(_arrow(x, at.ports[("in", b)], right, at.ports[("in", b)], key))
    for i, (_, b, label) in enumerate(arcs):
        y, x = at.ports[("out", i)], right + at.gutter + LANE * (at.lanes[b] + 1)
        out += [
            f'<line x1="{right}" y1="{y}" x2="{x}" y2="{y}" class="edge"/>',
            _label(right + 4, y - 3, label),
        ]
    return out


def svg(nodes: list[Node], edges: list[Edge], title: str, key: str = "graph") -> str:
    """The graph as an <svg> element (role img, titled). Edges to unknown nodes are left out.
    `key` makes its ids unique in a page that holds several."""
    row = {n.id: i for i, n in enumerate(nodes)}
    edges = [e for e in merged(edges) if e.src in row and e.dest in row]
    down = [e for e in edges if row[e.dest] == row[e.src] + 1]
    arcs = [(row[e.src], row[e.dest], e.label) for e in edges if e not in down]
    at = _layout(len(nodes), arcs)
    mid = LEFT + WIDTH // 2
    labels = [LEFT + WIDTH + 4 + len(label) * CHAR for _, _, label in arcs]  # a long one passes the trunks
    labels += [mid + 6 + len(e.label) * CHAR for e in down]
    width = max(LEFT + WIDTH + at.gutter + LANE * (len(set(at.lanes.values())) + 1), *labels) + 10
    height = at.tops[-1] + at.heights[-1] + 10 if nodes else TOP
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}"><title>{escape(title)}</title>',
        f'<defs><marker id="{escape(key)}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
        ' markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
        f'<circle cx="{mid}" cy="{TOP - 20}" r="5" class="start"/>',
        _arrow(mid, TOP - 15, mid, TOP, key),
    ]
    for i, node in enumerate(nodes):
        out += _box(node, at.tops[i], at.heights[i])
    for edge in down:
        y = at.tops[row[edge.src]] + at.heights[row[edge.src]]
        out += [_arrow(mid, y, mid, y + GAP, key), _label(mid + 6, y + GAP // 2 + 4, edge.label)]
    out += _trunks(arcs, at, key)
    out.append("</svg>")
    return "\n".join(part for part in out if part)
