"""Plots of LR range tests: loss against rate, every rule's mark, the suggested range shaded.

:func:`plot_range_test` draws one :class:`~lrsearch.finder.RangeTestResult` on
an ``Axes`` and returns it (it never shows or saves); :func:`save_range_test_plot`
writes one panel per result to a PNG/SVG file without pyplot. matplotlib is
imported here only, and pyplot falls back to the Agg backend when there is no
display.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lrsearch.exceptions import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_range_test", "range_test_figure", "save_range_test_plot"]

_MARKERS = {"probe": "*", "edge": "D", "valley": "o", "steepest": "v", "min/10": "s"}
_FORMATS = (".png", ".svg", ".pdf")


def _pyplot() -> Any:
    import matplotlib

    display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    headless = sys.platform.startswith("linux") and not display
    if headless and "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_range_test(result: Any, ax: Axes | None = None) -> Axes:
    """Draw ``result`` (a :class:`~lrsearch.finder.RangeTestResult`) on ``ax`` (a new figure's if None).

    Loss against rate on a log axis: the raw losses (faint; each repeat fainter
    still), the bias-corrected EMA, the lag-free trend the lrsearch rules read,
    a mark at every rule's point (valley, steepest, minimum, edge, ...), a
    vertical line at the suggested rate and the cyclic ``lr_range`` shaded.
    """
    from lrsearch._finder_rules import trend, trend_window

    if ax is None:
        _, ax = _pyplot().subplots(figsize=(7, 4.5))
    lrs = np.asarray(result.lrs, dtype=np.float64)
    raw = np.asarray(result.losses, dtype=np.float64)
    sm = np.asarray(result.smoothed, dtype=np.float64)
    for curve in getattr(result, "curves", ())[1:] if len(getattr(result, "curves", ())) > 1 else ():
        m = min(curve.losses.size, lrs.size)
        ax.plot(lrs[:m], curve.losses[:m], color="0.75", lw=0.6, alpha=0.6)
    pooled = "median of repeats" if len(getattr(result, "curves", ())) > 1 else "raw"
    ax.plot(lrs, raw, color="0.45", lw=0.8, alpha=0.8, label=f"loss ({pooled})")
    smoothing = getattr(result, "smoothing", None)
    known = smoothing is not None and math.isfinite(smoothing)
    ax.plot(lrs, sm, color="C0", lw=1.8, label=f"EMA (smoothing {smoothing:g})" if known else "EMA")
    if raw.size >= 3:
        ax.plot(lrs, trend(raw, trend_window(raw.size)), color="C2", lw=1.2, ls="--", label="trend (centred)")
    for name, s in result.suggestions.items():
        if s.index < 0 or not math.isfinite(s.lr):
            continue
        x = lrs[s.index]
        chosen = name == result.rule
        label = f"{name}: {s.lr:.2g}"
        if abs(math.log10(x / s.lr)) > 0.2:  # min/10 and edge mark the point they divide
            label += f" (mark at {x:.2g})"
        ax.scatter([x], [s.loss], marker=_MARKERS.get(name, "o"), s=110 if chosen else 55, zorder=5,
                   edgecolor="k", linewidth=0.6, label=label + (" (suggested)" if chosen else ""))  # fmt: skip
    if math.isfinite(result.lr):
        ax.axvline(result.lr, color="C3", lw=1.2)
        lo, hi = result.lr_range
        if math.isfinite(lo) and math.isfinite(hi):
            ax.axvspan(lo, hi, color="C3", alpha=0.12, label=f"cyclic range {lo:.2g} to {hi:.2g}")
    mode = getattr(result, "mode", None)  # a saved result without its mode: a ladder of positive rates reads on a log axis
    ax.set_xscale("log" if mode == "exp" or (mode is None and lrs.size and np.nanmin(lrs) > 0) else "linear")
    finite = raw[np.isfinite(raw)]
    if finite.size:
        # the blow-up at the end would flatten everything else: show up to the start level or the 90th percentile
        low, high = float(np.min(finite)), float(np.percentile(finite, 90))
        start = float(np.median(finite[: max(1, min(10, finite.size))]))
        high = max(high, start)
        pad = 0.08 * (high - low) if high > low else max(abs(low), 1.0) * 0.05
        ax.set_ylim(low - pad, high + pad)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("validation loss" if getattr(result, "validation", False) else "training loss (batch)")
    title = f"{result.optimizer}: suggested {result.lr:.2g}" + (f" ({result.rule})" if result.rule else "")
    if getattr(result, "spread_decades", 0.0) > 0:
        title += f", spread {result.spread_decades:.1f} decades"
    ax.set_title(title + (f"; stop: {result.stop_reason}" if result.stop_reason else ""), fontsize=10)
    ax.legend(fontsize=7, loc="best")
    ax.grid(True, which="major", alpha=0.3)
    return ax


def range_test_figure(results: Any) -> Figure:
    """A pyplot-free figure with one :func:`plot_range_test` panel per result.

    ``results`` is one result, a sequence of them, or a mapping name -> result.
    """
    from matplotlib.figure import Figure

    if isinstance(results, Mapping):
        items: Sequence[Any] = list(results.values())
    elif isinstance(results, Sequence):
        items = list(results)
    else:
        items = [results]
    if not items:
        raise ConfigError("range_test_figure needs at least one range-test result.")
    cols = min(len(items), 2)
    rows = math.ceil(len(items) / cols)
    fig = Figure(figsize=(7 * cols, 4.5 * rows), layout="constrained")
    for k, res in enumerate(items):
        plot_range_test(res, fig.add_subplot(rows, cols, k + 1))
    return fig


def save_range_test_plot(results: Any, path: str | Path) -> Path:
    """Write :func:`range_test_figure` of ``results`` to ``path`` (``.png``, ``.svg`` or ``.pdf``)."""
    path = Path(path)
    if path.suffix.lower() not in _FORMATS:
        raise ConfigError(f"plot file {str(path)!r} must end in {', '.join(_FORMATS)}; e.g. --plot lr.png.")
    if not path.parent.exists():
        raise ConfigError(f"the folder of plot file '{path}' does not exist; create it or pick another path.")
    fig = range_test_figure(results)
    fig.savefig(path, dpi=110)
    return path
