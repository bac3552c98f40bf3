"""Charts as SVG text for server-rendered pages: no JavaScript, no fonts or images fetched, every text escaped.

Each chart is an image with a title and a description (role="img", aria-labelledby); the page shows the same
numbers as a table beside it, which is what a screen reader user reads. A value that is hidden (a suppressed
count) has no bar, only its text ("<5").
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from html import escape
from typing import Optional, Sequence

# GOV.UK Frontend colours: blue for the measure, dark grey for the comparison, black text (contrast above 4.5:1).
BLUE = "#1d70b8"
GREY = "#505a5f"
TEXT = "#0b0c0c"
RULE = "#b1b4b6"
SERIES_COLOURS = (BLUE, GREY, "#00703c", "#d4351c")

ROW = 28
BAR = 18
LABEL_WIDTH = 230
VALUE_WIDTH = 110
PAD = 8
LINE = 16
LABEL_CHARACTERS = 28  # about what fits in LABEL_WIDTH at 14 px


@dataclass(frozen=True)
class Bar:
    label: str
    value: Optional[float]  # None: no bar is drawn (e.g. a suppressed count)
    text: str  # written after the bar: "12", "46.7%", "<5"


@dataclass(frozen=True)
class Series:
    name: str  # in the legend, e.g. "Bristol IAG" or "Population (Census 2021)"
    bars: tuple[Bar, ...]  # one per category, in the categories' order


def horizontal_bar_chart(chart_id: str, title: str, description: str, bars: Sequence[Bar], *,
                         width: int = 640, maximum: Optional[float] = None) -> str:
    """One bar per row, longest to scale (e.g. the recruitment funnel)."""
    scale = _scale(maximum if maximum is not None else max((b.value or 0 for b in bars), default=0), width)
    height = PAD * 2 + ROW * len(bars)
    parts = []
    for i, bar in enumerate(bars):
        y = PAD + i * ROW
        parts.append(_label(bar.label, y))
        parts.append(_bar(bar, y, scale, BLUE))
    return _svg(chart_id, title, description, width, height, parts)


def grouped_bar_chart(chart_id: str, title: str, description: str, categories: Sequence[str],
                      series: Sequence[Series], *, width: int = 640, maximum: float = 100.0) -> str:
    """Per category, one bar for each series (e.g. a group's share beside the population's), with a legend."""
    scale = _scale(maximum, width)
    legend_height = ROW * len(series)
    block = ROW * len(series) + PAD
    height = PAD * 2 + legend_height + block * len(categories)
    parts = []
    for n, one in enumerate(series):  # one line each: names can be long
        colour, y = SERIES_COLOURS[n % len(SERIES_COLOURS)], PAD + n * ROW
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="14" height="14" fill="{colour}"/>'
                     f'<text x="{LABEL_WIDTH + 20}" y="{y + 16}" fill="{TEXT}" font-size="14">'
                     f'{escape(one.name)}</text>')
    for i, category in enumerate(categories):
        top = PAD + legend_height + i * block
        parts.append(_label(category, top + (ROW * len(series) - ROW) / 2))
        for n, one in enumerate(series):
            parts.append(_bar(one.bars[i], top + n * ROW, scale, SERIES_COLOURS[n % len(SERIES_COLOURS)]))
        parts.append(f'<line x1="{LABEL_WIDTH}" x2="{width - PAD}" y1="{top + block - PAD / 2}" '
                     f'y2="{top + block - PAD / 2}" stroke="{RULE}" stroke-width="1"/>')
    return _svg(chart_id, title, description, width, height, parts)


def _scale(maximum: float, width: int) -> float:
    room = width - LABEL_WIDTH - VALUE_WIDTH
    return room / maximum if maximum > 0 else 0.0


def _label(text: str, y: float) -> str:
    """Right-aligned before the bars, wrapped onto a second line rather than cut off."""
    lines = textwrap.wrap(text, LABEL_CHARACTERS) or [""]
    first = y + BAR - 4 - (len(lines) - 1) * LINE / 2
    spans = "".join(f'<tspan x="{LABEL_WIDTH - PAD}" y="{first + n * LINE}">{escape(line)}</tspan>'
                    for n, line in enumerate(lines))
    return f'<text text-anchor="end" fill="{TEXT}" font-size="14">{spans}</text>'



def _bar(bar: Bar, y: float, scale: float, colour: str) -> str:
    length = round(max(bar.value, 0) * scale, 1) if bar.value is not None else 0
    drawn = (f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR}" fill="{colour}"/>'
             if bar.value is not None and length > 0 else "")
    return drawn + (f'<text x="{LABEL_WIDTH + length + 6}" y="{y + BAR - 4}" fill="{TEXT}" '
                    f'font-size="14">{escape(bar.text)}</text>')


def _svg(chart_id: str, title: str, description: str, width: int, height: float, parts: list[str]) -> str:
    safe_id = escape(chart_id)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{round(height)}" '
            f'viewBox="0 0 {width} {round(height)}" aria-labelledby="{safe_id}-title {safe_id}-desc" '
            f'class="iag-chart" font-family="arial, sans-serif" style="max-width: 100%; height: auto">'
            f'<title id="{safe_id}-title">{escape(title)}</title><desc id="{safe_id}-desc">{escape(description)}</desc>'
            + "".join(parts) + "</svg>")
