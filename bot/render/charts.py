"""Charts drawn on the server as inline SVG: no library, no script, no network, so the console
and a saved report work offline. Each label sits above its bar, which keeps long kelurahan names
whole and stays readable on a phone (the drawing is 360 units wide and scales to 100%).

Presentation attributes only, never `style=`: the console's Content-Security-Policy allows no
inline style, so the page's style sheet sizes the chart (class `bar-chart`)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

# Okabe-Ito, without its yellow: distinguishable with colour-blindness, dark enough on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
WIDTH = 360
PAD = 8
TITLE_HEIGHT = 30
ROW_HEIGHT = 40  # label line + bar
BAR_HEIGHT = 14
VALUE_SPACE = 64  # right of the longest bar
LABEL_CHARS = 48  # longer labels are shortened on the chart; the full text is in the tooltip
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
_ATTR = {'"': "&quot;", "'": "&apos;"}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bar_chart(items: Sequence[tuple[str, float]], title: str, unit: str = "") -> str:
    """A horizontal bar chart of (label, value) pairs, in the order given, as an SVG element.

    Labels, title and unit may come from data: every one of them is escaped."""
    top = max((value for _, value in items), default=0) or 1
    span = WIDTH - 2 * PAD - VALUE_SPACE
    height = TITLE_HEIGHT + ROW_HEIGHT * max(len(items), 1) + PAD
    suffix = f" {unit}" if unit else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title, _ATTR)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'class="bar-chart" font-family="{FONT}" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<text x="{PAD}" y="20" font-size="15" font-weight="bold" fill="#222">{escape(title)}</text>',
    ]
    if not items:
        parts.append(f'<text x="{PAD}" y="{TITLE_HEIGHT + 18}" fill="#555">–</text>')
    for i, (label, value) in enumerate(items):
        y = TITLE_HEIGHT + i * ROW_HEIGHT
        length = max(span * value / top, 1.0) if value > 0 else 0.0
        shown = f"{_number(value)}{suffix}"
        parts.append(
            f"<g><title>{escape(f'{label}: {shown}')}</title>"
            f'<text x="{PAD}" y="{y + 13}" fill="#222">{escape(_short(label))}</text>'
            f'<rect x="{PAD}" y="{y + 19}" width="{length:.1f}" height="{BAR_HEIGHT}" rx="2" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{PAD + length + 6:.1f}" y="{y + 31}" fill="#222">{escape(shown)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
