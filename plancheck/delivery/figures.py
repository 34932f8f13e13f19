"""The page of one delivery comparison (header, MU densities, difference, gamma map and histogram, summary).

Figures are built with ``matplotlib.figure.Figure`` directly, never through
pyplot's global state, so a batch of pages neither leaks memory nor needs a display.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast
from collections.abc import Iterable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.ticker import FuncFormatter, NullLocator
from matplotlib.figure import Figure

from plancheck.delivery.comparison import Comparison

# the text width of an A4 portrait page with 14 mm margins (the chart-check PDF): the page prints at 100 %,
# so the sizes below are the sizes on paper
PAGE_WIDTH_IN = 182 / 25.4
PAGE_SIZE_IN = (PAGE_WIDTH_IN, 9.4)
TICK_PT, LABEL_PT, TITLE_PT = 8.5, 9.0, 10.0  # never under 8 pt on paper
_MARGIN_MM = 10.0  # shown around the region either map delivers to
FILES_CHARS = 100  # the file names that fit on one line of the header at LABEL_PT


def comparison_figure(c: Comparison) -> Figure:
    """One page at the chart-check PDF's text width: header, planned and delivered MU density, difference, gamma map and histogram."""
    fig = Figure(figsize=PAGE_SIZE_IN)  # fixed layout: a layout engine costs seconds per page
    _header(fig, c)
    grid = fig.add_gridspec(3, 2, left=0.1, right=0.93, bottom=0.06, top=0.86, wspace=0.45, hspace=0.42)
    window = _window(c)
    top = max(float(np.max(c.planned)), float(np.max(c.delivered)), 1e-12)
    maps = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])]
    _map(fig, maps[0], c, c.planned, window, "Planned MU density", "viridis", 0.0, top, None)
    _map(fig, maps[1], c, c.delivered, window, "Delivered MU density", "viridis", 0.0, top, None)
    fig.colorbar(maps[1].images[0], ax=maps, label="MU", shrink=0.85, fraction=0.05, pad=0.03)  # one scale, one bar
    difference = c.delivered - c.planned
    limit = max(float(np.max(np.abs(difference))), 1e-6)
    _map(fig, fig.add_subplot(grid[1, 0]), c, difference, window, "Delivered − planned", "RdBu_r", -limit, limit, "MU")
    _gamma_map(fig, fig.add_subplot(grid[1, 1]), c, window)
    _histogram(fig.add_subplot(grid[2, 0]), c)
    _summary(fig.add_subplot(grid[2, 1]), c, difference)
    for ax in fig.axes:  # colour bars included
        ax.tick_params(labelsize=TICK_PT)
        ax.xaxis.label.set_fontsize(LABEL_PT)
        ax.yaxis.label.set_fontsize(LABEL_PT)
    return fig


def save_png(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write one page as an RGB PNG: no alpha channel (the page is opaque), so a PDF embeds it without a
    soft mask; fast zlib level (the page is mostly flat colour: a few % larger, 0.1-0.2 s sooner)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB").save(path, format="png", compress_level=1)
    return path


def _header(fig: Figure, c: Comparison) -> None:
    who = f"Patient {c.patient or '—'}   ·   Plan {c.plan or '—'}\nBeam {c.beam or '—'}   ·   Delivered {c.delivered_at or '—'}"
    verdict = f"γ pass rate {c.pass_rate:.1f} %   max γ {c.max_gamma:.2f}   ({c.criteria})"
    # cut to the page's width rather than wrapped by matplotlib (which measures the text word by word)
    fig.text(0.015, 0.99, f"{who}\n{verdict}\nFiles: {_file_list(c.files, limit=FILES_CHARS)}", ha="left", va="top", fontsize=LABEL_PT, linespacing=1.6)


def _file_list(files: Iterable[str], limit: int = 150) -> str:
    names = [Path(f).name for f in files] or ["—"]
    text = ", ".join(names)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _window(c: Comparison) -> tuple[slice, slice]:
    """Rows and columns around everything either map delivers to, with a margin."""
    x, y = c.axes["mlc"], c.axes["jaw"]
    top = max(float(np.max(c.planned)), float(np.max(c.delivered)))
    rows, cols = np.nonzero((c.planned > 0.01 * top) | (c.delivered > 0.01 * top)) if top > 0 else (np.array([]), np.array([]))
    if len(rows) == 0:
        return slice(0, len(y)), slice(0, len(x))
    pad_rows = int(np.ceil(_MARGIN_MM / abs(y[1] - y[0]))) if len(y) > 1 else 0
    pad_cols = int(np.ceil(_MARGIN_MM / abs(x[1] - x[0]))) if len(x) > 1 else 0
    return (slice(max(rows.min() - pad_rows, 0), min(rows.max() + pad_rows + 1, len(y))),
            slice(max(cols.min() - pad_cols, 0), min(cols.max() + pad_cols + 1, len(x))))


def _extent(c: Comparison, window: tuple[slice, slice]) -> tuple[float, float, float, float]:
    """imshow extent of the window: leaf direction across, jaw direction down (as pymedphys displays it)."""
    x, y = c.axes["mlc"][window[1]], c.axes["jaw"][window[0]]
    hx = (x[1] - x[0]) / 2 if len(x) > 1 else 0.5
    hy = (y[1] - y[0]) / 2 if len(y) > 1 else 0.5
    return (x[0] - hx, x[-1] + hx, y[-1] + hy, y[0] - hy)


def _map(fig: Figure, ax: Axes, c: Comparison, values: np.ndarray, window: tuple[slice, slice], title: str, cmap: str, vmin: float, vmax: float,
         unit: str | None) -> None:
    """One map; with a unit, its own colour bar."""
    image = ax.imshow(values[window], extent=_extent(c, window), origin="upper", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    _label(ax, title)
    if unit is not None:
        fig.colorbar(image, ax=ax, label=unit, shrink=0.85)


def _gamma_map(fig: Figure, ax: Axes, c: Comparison, window: tuple[slice, slice]) -> None:
    upper = max(2.0, c.max_gamma)
    norm = TwoSlopeNorm(vmin=0.0, vcenter=1.0, vmax=upper)
    cmap = _cmap_with_background("coolwarm")
    image = ax.imshow(np.ma.masked_invalid(c.gamma[window]), extent=_extent(c, window), origin="upper", cmap=cmap, norm=norm, interpolation="nearest")
    failing = np.count_nonzero(np.nan_to_num(c.gamma) >= 1)
    _label(ax, f"Gamma map: {failing} points ≥ 1")
    fig.colorbar(image, ax=ax, label="γ (grey: below cutoff)", shrink=0.85)


def _cmap_with_background(name: str):  # type: ignore[no-untyped-def]
    from matplotlib import colormaps

    return colormaps[name].with_extremes(bad="#e6e6e6")


def _histogram(ax: Axes, c: Comparison) -> None:
    values = c.gamma[~np.isnan(c.gamma)]
    upper = max(2.0, c.max_gamma)
    bins = [float(b) for b in np.linspace(0.0, upper, round(upper / 0.05) + 1)]
    _, edges, patches = ax.hist(np.clip(values, 0, upper), bins=bins, color="#4c72b0", edgecolor="white", linewidth=0.4)
    for left, patch in zip(edges[:-1], cast("list[Any]", patches), strict=False):
        if left >= 1.0 - 1e-9:
            patch.set_facecolor("#c44e52")
    ax.axvline(1.0, color="black", linewidth=1.0, linestyle="--")
    ax.set_yscale("log")  # the few failing points stay visible beside thousands at zero
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # 1, 10, 100: plain text, not mathtext
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlim(0.0, upper)
    ax.set_xlabel("γ")
    ax.set_ylabel("points (log scale)")
    _title(ax, f"Gamma histogram: pass {c.pass_rate:.1f} %, max γ {c.max_gamma:.2f}")


def _summary(ax: Axes, c: Comparison, difference: np.ndarray) -> None:
    """The numbers behind the page, as a small table."""
    values = c.gamma[~np.isnan(c.gamma)]
    planned_max = float(np.max(c.planned))
    worst = float(np.max(np.abs(difference)))
    rows = [
        ("Criteria", c.criteria.replace(", cutoff", "\ncutoff")),
        ("Points evaluated", f"{len(values)}"),
        ("Pass rate (γ < 1)", f"{c.pass_rate:.2f} %"),
        ("Failing points", f"{np.count_nonzero(values >= 1)}"),
        ("Max γ", f"{c.max_gamma:.2f}"),
        ("Planned max", f"{planned_max:.1f} MU"),
        ("Delivered max", f"{float(np.max(c.delivered)):.1f} MU"),
        ("Max |difference|", f"{worst:.2f} MU" + (f"\n{100 * worst / planned_max:.1f} % of planned max" if planned_max > 0 else "")),
        ("Grid", f"{abs(c.axes['mlc'][1] - c.axes['mlc'][0]):g} mm"),
    ]
    ax.axis("off")
    _title(ax, "Summary")
    y = 0.97
    for label, value in rows:
        ax.text(0.0, y, label, transform=ax.transAxes, va="top", fontsize=TICK_PT, color="#555555")
        ax.text(0.5, y, value, transform=ax.transAxes, va="top", fontsize=TICK_PT, linespacing=1.3)
        y -= 0.085 * (value.count("\n") + 1) + 0.02


def _title(ax: Axes, title: str) -> None:
    """A title at a fixed height: matplotlib's automatic placement measures every tick label of the axes (0.1 s a page)."""
    ax.set_title(title, fontsize=TITLE_PT, y=1.0)


def _label(ax: Axes, title: str) -> None:
    _title(ax, title)
    ax.set_xlabel("MLC direction (mm)")
    ax.set_ylabel("Jaw direction (mm)")
