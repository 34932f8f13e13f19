"""``plancheck stats`` as one self-contained HTML file: each table with one matplotlib figure of it,
embedded as a PNG data: URI. Figures are drawn on ``matplotlib.figure.Figure`` with the Agg canvas
(no pyplot, no global state), imported only when a page is written. Values are escaped by the report
views' Jinja2 environment (autoescape), because check ids come from rule files."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plancheck.record.stats import VERDICT_COLUMNS, FindingCounts, Stats, hours_text, tables

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_BARS = 30  # a figure shows the first 30 rows of its table; the table has them all
COLOURS = {"acknowledged": "#4c72b0", "accepted": "#55a868", "to_be_fixed": "#dd8452", "false_alarm": "#c44e52", "none": "#b0b0b0"}

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>plancheck stats</title>
<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0 1em}
td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}td:first-child,th:first-child{text-align:left}img{max-width:100%}</style>
</head><body>
<h1>What the record teaches</h1>
<p>Period: {{ period }}. Made {{ made }}. Findings are counted in the month they were first seen, with their latest disposition.</p>
{% for section in sections %}
<h2>{{ section.table.title }}</h2>
{% if section.table.rows %}
<table><tr>{% for h in section.table.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in section.table.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
<img alt="{{ section.table.title }}" src="{{ section.figure }}">
{% else %}
<p>None in this period.</p>
{% endif %}
{% endfor %}
</body></html>
"""


def _figure(height_in: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> str:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _stacked(rows: Sequence[FindingCounts], title: str, *, horizontal: bool) -> str:
    """Findings per row, stacked by verdict."""
    rows = rows[:MAX_BARS]
    fig = _figure(max(2.5, 0.3 * len(rows) + 1.2) if horizontal else 3.5)
    ax = fig.add_subplot(1, 1, 1)
    labels = [r.key for r in rows]
    base = [0] * len(rows)
    for verdict in VERDICT_COLUMNS:
        counts = [r.verdicts.get(verdict, 0) for r in rows]
        if horizontal:
            ax.barh(labels, counts, left=base, color=COLOURS[verdict], label=verdict)
        else:
            ax.bar(labels, counts, bottom=base, color=COLOURS[verdict], label=verdict)
        base = [b + c for b, c in zip(base, counts, strict=True)]
    if horizontal:
        ax.invert_yaxis()
    _counts_axis(ax.xaxis if horizontal else ax.yaxis, "findings")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return _png(fig)


def _counts_axis(axis: Any, label: str) -> None:
    """Whole-number ticks on an axis of counts."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_label_text(label)


def _silent_figure(stats: Stats) -> str:
    rows = stats.silent[:MAX_BARS]
    fig = _figure(max(2.5, 0.3 * len(rows) + 1.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.barh([c.check_id for c in rows], [c.runs for c in rows], color=COLOURS["accepted"])
    ax.invert_yaxis()
    _counts_axis(ax.xaxis, "runs in which it ran and passed")
    ax.set_title("checks that never fire")
    return _png(fig)


def _kinds_figure(stats: Stats) -> str:
    rows = [k for k in stats.by_kind if k.kind != "all"]
    fig = _figure(3.5)
    ax = fig.add_subplot(1, 1, 1)
    kinds = [k.kind for k in rows]
    ax.bar(kinds, [k.runs for k in rows], color="#c9d6ea", label="runs")
    ax.bar(kinds, [k.signed for k in rows], width=0.5, color="#4c72b0", label="signed")
    for i, k in enumerate(rows):
        if k.median_signoff_s is not None:
            ax.annotate(f"median {hours_text(k.median_signoff_s)}", (i, k.runs), ha="center", va="bottom", fontsize="small")
    _counts_axis(ax.yaxis, "runs")
    ax.margins(y=0.15)
    ax.set_title("runs per kind, and time to sign-off")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return _png(fig)


def _figures(stats: Stats) -> tuple[Callable[[], str], ...]:
    """One drawing per table of :func:`plancheck.record.stats.tables`, in its order."""
    return (
        lambda: _stacked(stats.by_check, "findings per check, by latest disposition", horizontal=True),
        lambda: _stacked(stats.by_month, "findings first seen per month", horizontal=False),
        lambda: _silent_figure(stats),
        lambda: _kinds_figure(stats),
    )


def render_html(stats: Stats) -> str:
    from plancheck.report.html import environment

    period = f"from {stats.since.isoformat()} (00:00 UTC) to now" if stats.since else "the whole record"
    sections = [{"table": t, "figure": draw() if t.rows else ""} for t, draw in zip(tables(stats), _figures(stats), strict=True)]
    return environment().from_string(TEMPLATE).render(period=period, made=stats.made.strftime("%Y-%m-%d %H:%M UTC"), sections=sections)


def write_html(stats: Stats, folder: Path) -> Path:
    """``folder``/stats.html (the folder made when absent)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "stats.html"
    path.write_text(render_html(stats), encoding="utf-8")
    return path
