"""Charts for the overview page, drawn on the server as SVG (no chart library, nothing fetched)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from api.ui_text import SDG_COLOURS, sdg_names, translate
from kb.filters import Filters
from kb.store import Store

BAR = "#2b6cb0"


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str
    table: list[tuple[str, int]]  # the same numbers as text, for screen readers and for copying


def bars(rows: list[tuple[str, int, str, str]], width: int = 640) -> str:
    """Horizontal bars: (label, value, colour, link). Each bar links to the search it counts."""
    if not rows:
        return ""
    top = max(v for _, v, _, _ in rows) or 1
    label_w, row_h = 320, 26
    parts = [f'<svg viewBox="0 0 {width} {row_h * len(rows) + 4}" role="img" class="chart" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value, colour, link) in enumerate(rows):
        y = i * row_h + 2
        w = max(2, int((width - label_w - 50) * value / top))
        parts.append(
            f'<a href="{escape(link)}"><text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="13">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row_h - 8}" fill="{colour}" rx="2"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{label_w + w + 6}" y="{y + 17}" font-size="13">{value}</text></a>'
        )
    parts.append("</svg>")
    return "".join(parts)


def columns(rows: list[tuple[str, int]], width: int = 560, height: int = 180) -> str:
    """Vertical bars for a series over years."""
    if not rows:
        return ""
    top = max(v for _, v in rows) or 1
    step = width / len(rows)
    parts = [f'<svg viewBox="0 0 {width} {height + 24}" role="img" class="chart" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(rows):
        h = max(1, int(height * value / top))
        x = i * step
        parts.append(f'<rect x="{x + 1:.1f}" y="{height - h}" width="{max(step - 2, 1):.1f}" height="{h}" fill="{BAR}"><title>{escape(label)}: {value}</title></rect>')
        if len(rows) <= 12 or i % max(1, len(rows) // 10) == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{height + 16}" text-anchor="middle" font-size="11">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def share(part: int, total: int, label: str) -> str:
    """One stacked bar: the share of records with a gender perspective."""
    ratio = part / total if total else 0
    return (f'<svg viewBox="0 0 560 56" role="img" class="chart" xmlns="http://www.w3.org/2000/svg">'
            f'<rect x="0" y="8" width="560" height="28" fill="#e2e8f0" rx="3"/>'
            f'<rect x="0" y="8" width="{int(560 * ratio)}" height="28" fill="#7b2cbf" rx="3"><title>{escape(label)}: {part} / {total}</title></rect>'
            f'<text x="8" y="27" font-size="14" fill="#fff">{ratio:.0%}</text></svg>')


def overview_charts(store: Store, ui: str) -> list[Chart]:
    curated = Filters(curated_only=True)
    practices = store.facets(Filters(kind="practice", curated_only=True))
    regions = sorted(practices["region"].items(), key=lambda kv: -kv[1])
    sdgs = store.facets(curated)["sdg"]
    names = sdg_names()[ui]
    years = store.count_by_year()
    total = store.count(curated)
    gender = store.count(Filters(gender=True, curated_only=True))
    link = lambda **params: "/?" + urlencode(params)  # noqa: E731
    return [
        Chart(translate("by_region", ui), bars([(r, n, BAR, link(kind="practice", region=r)) for r, n in regions]), regions),
        Chart(translate("by_sdg", ui),
              bars([(f"{g}. {names[g]}", sdgs.get(str(g), 0), SDG_COLOURS[g], link(sdg=g)) for g in range(1, 18)]),
              [(f"{g}. {names[g]}", sdgs.get(str(g), 0)) for g in range(1, 18)]),
        Chart(translate("by_year", ui), columns([(str(y), n) for y, n in years]), [(str(y), n) for y, n in years]),
        Chart(translate("gender_share", ui), share(gender, total, translate("gender_share", ui)),
              [(translate("yes", ui), gender), (translate("no", ui), total - gender)]),
    ]
