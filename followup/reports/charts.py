"""Server-side SVG charts (pygal). No JavaScript and nothing loaded from elsewhere: the panel's
CSP forbids both, and the SVGs are shown as ``data:`` images."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

import pygal
from pygal.style import Style

from followup.reports.advisors import AdvisorScore
from followup.reports.trend import TrendPoint

STYLE = Style(background="white", plot_background="white", font_family="Noto Sans CJK SC, sans-serif",
              colors=("#1f5fa8", "#c0392b", "#27ae60"))


#: pygal writes its config into a <script> even with ``js=[]``; an image never needs it
_SCRIPT = re.compile(rb"<script\b.*?</script>", re.S)


def _svg(chart: pygal.graph.graph.Graph) -> bytes:
    return _SCRIPT.sub(b"", bytes(chart.render()))


def _options() -> dict[str, object]:
    return {"js": [], "style": STYLE, "width": 720, "height": 320, "show_legend": False,
            "disable_xml_declaration": False, "explicit_size": True}


def advisor_bars(advisors: Sequence[AdvisorScore], title: str = "") -> bytes:
    """One bar per advisor: their monthly score (0-100)."""
    chart = pygal.Bar(title=title, range=(0, 100), **_options())
    chart.x_labels = [a.code for a in advisors]
    chart.add("score", [a.score for a in advisors])
    return _svg(chart)


def trend_line(points: Sequence[TrendPoint], title: str = "") -> bytes:
    """The store's monthly score over the months given."""
    chart = pygal.Line(title=title, range=(0, 100), **_options())
    chart.x_labels = [p.month for p in points]
    chart.add("score", [p.score for p in points])
    return _svg(chart)


def data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
