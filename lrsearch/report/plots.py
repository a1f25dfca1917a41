"""Report figures (matplotlib). Every function takes ``ax=None`` and returns the Axes it drew on;
none shows or saves anything. Without ``ax`` a new figure is made through pyplot, on the
Agg backend when there is no display.

Studies are read through :func:`lrsearch.report.tables.study_view`, so a ``StudyResult``
and an ``optuna.Study`` both work.

>>> import numpy as np
>>> from types import SimpleNamespace
>>> r = SimpleNamespace(train_loss=np.array([1.0, 0.5]), val_loss=np.array([1.1, 0.6]), lrs=np.ones(4))
>>> len(plot_training(r).lines)
2
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from lrsearch.report.tables import _get, study_view

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = [
    "optimizer_colors",
    "plot_curves",
    "plot_history",
    "plot_importances",
    "plot_lr_schedule",
    "plot_lr_vs_value",
    "plot_optimizer_values",
    "plot_range_test",
    "plot_training",
]

log = logging.getLogger(__name__)

#: a fixed colour per known optimizer, so every figure of a report agrees
_KNOWN_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
            "#17becf")  # fmt: skip
_DIVERGED = "#d62728"
_FADED = "#9a9a9a"
#: line styles of the best trials' curves by rank (colour is the optimizer's)
_RANK_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 2)), (0, (3, 1, 3, 1, 1, 1)))


def _axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 4.0)) -> Axes:
    """``ax``, or the Axes of a new pyplot figure (Agg when headless)."""
    if ax is not None:
        return ax
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        headless = sys.platform.startswith("linux") and not display
        if headless:
            import matplotlib

            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def optimizer_colors(names: Any) -> dict[str, str]:
    """A stable colour for each optimizer name (known optimizers keep theirs in every report).

    >>> optimizer_colors(["adam", "sgd"])["sgd"]
    '#1f77b4'
    """
    out: dict[str, str] = {}
    extra = 0
    for n in dict.fromkeys(map(str, names)):
        if n in _KNOWN_OPTIMIZERS:
            out[n] = _PALETTE[_KNOWN_OPTIMIZERS.index(n)]
        else:
            out[n] = _PALETTE[(len(_KNOWN_OPTIMIZERS) + extra) % len(_PALETTE)]
            extra += 1
    return out


def _empty(ax: Axes, message: str) -> Axes:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#555555", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def _integer_locator() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _maybe_log_y(ax: Axes, values: np.ndarray) -> None:
    """Log y when every value is positive and they span more than two decades."""
    v = values[np.isfinite(values)]
    if v.size and v.min() > 0 and v.max() / v.min() > 100:
        ax.set_yscale("log")


def plot_history(study: Any, ax: Axes | None = None) -> Axes:
    """Optimization history: each complete trial's value against its number, and the
    best-so-far line (the one line on the Axes).
    """
    ax = _axes(ax)
    view = study_view(study)
    done = view.complete.sort_values("number")
    ax.set_title("Optimization history")
    if done.empty:
        return _empty(ax, "no complete trial")
    x = done["number"].to_numpy(dtype=float)
    y = done["value"].to_numpy(dtype=float)
    best = np.maximum.accumulate(y) if view.maximize else np.minimum.accumulate(y)
    ax.scatter(x, y, s=18, color="#1f77b4", alpha=0.6, label="complete trial")
    numbers = view.trials["number"].to_numpy(dtype=float)
    last = float(np.nanmax(numbers)) if numbers.size else x.max()
    # the line runs to the last trial: pruned and failed trials are counted on the axis, not drawn
    if last > x.max():
        x, best = np.append(x, last), np.append(best, best[-1])
    ax.step(x, best, where="post", color="#d62728", lw=2, label="best so far")
    _maybe_log_y(ax, y)
    ax.set_xlim(-0.5, x.max() + 0.5)
    ax.xaxis.set_major_locator(_integer_locator())
    ax.set_xlabel("trial number (pruned and failed trials not drawn)")
    ax.set_ylabel(view.objective)
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_curves(study: Any, top_k: int = 5, ax: Axes | None = None) -> Axes:
    """Validation curves (the values each trial reported per epoch): the ``top_k`` best
    complete trials in their optimizer's colour (a line style per rank, so that trials of one
    optimizer stay apart), pruned trials faded grey behind them. One line per trial.
    """
    ax = _axes(ax)
    view = study_view(study)
    t = view.trials
    pruned = t[(t["state"] == "PRUNED") & (t["curve"].map(len) > 0)]
    done = view.ranked
    done = done[done["curve"].map(len) > 0].head(top_k)  # the trials table's order: ties by trial number
    ax.set_title(f"Validation curves: top {len(done) or top_k} trials, pruned faded")
    if done.empty and pruned.empty:
        return _empty(ax, "no trial reported a validation curve")
    all_values = []
    for _, row in pruned.iterrows():
        x, c = _curve_xy(row)
        all_values.append(c)
        ax.plot(x, c, color=_FADED, alpha=0.35, lw=1, marker="." if len(c) == 1 else None)
    colors = optimizer_colors(done.get("param_optimizer", []))
    for rank, (_, row) in enumerate(done.iterrows()):
        x, c = _curve_xy(row)
        all_values.append(c)
        opt = str(row.get("param_optimizer", ""))
        lr = row.get("param_lr", math.nan)
        label = f"#{row['number']} {opt}" + (f" lr={lr:.2g}" if _finite_number(lr) else "")
        ax.plot(x, c, lw=2.2 if rank == 0 else 1.4, color=colors.get(opt), alpha=1.0 if rank == 0 else 0.8,
                ls=_RANK_STYLES[rank % len(_RANK_STYLES)], label=label,
                marker="." if len(c) == 1 else None)  # fmt: skip
    # the scale and the limits follow the top trials: pruned curves that run far off leave the axes
    framed = [np.asarray(c, dtype=float) for c in done["curve"]] if len(done) else all_values
    _frame_y(ax, _framed_values(framed))
    ax.xaxis.set_major_locator(_integer_locator())
    ax.set_xlabel("epoch (report step)")
    ax.set_ylabel(view.objective)
    if len(done):
        ax.legend(loc="best", fontsize="x-small")
    ax.grid(alpha=0.3)
    return ax


def _framed_values(curves: list[np.ndarray]) -> np.ndarray:
    """The values of ``curves`` a figure must keep in view: all of them, unless a brief spike (above
    twice the larger of the 90th percentile and every curve's first and last value) would flatten
    the rest; then the values up to that level (the spike runs off the top)."""
    values = np.concatenate(curves) if curves else np.empty(0)
    values = values[np.isfinite(values)]
    if values.size < 10:
        return values
    ends = [float(v) for c in curves for v in (c[np.isfinite(c)][:1].tolist() + c[np.isfinite(c)][-1:].tolist())]
    level = max([float(np.percentile(values, 90)), *ends])
    return values if values.max() <= 2 * level or level <= 0 else values[values <= level]


def _frame_y(ax: Axes, values: np.ndarray, pad: float = 0.08) -> None:
    """Scale (log when every value is positive and they span more than two decades) and y limits
    that frame ``values`` with a margin; whatever else is drawn may run off the axes."""
    v = values[np.isfinite(values)]
    if not v.size:
        return
    lo, hi = float(v.min()), float(v.max())
    if lo > 0 and hi / lo > 100:
        ax.set_yscale("log")
        span = math.log10(hi / lo)
        ax.set_ylim(lo / 10 ** (pad * span), hi * 10 ** (pad * span))
        return
    margin = pad * (hi - lo or abs(hi) or 1.0)
    ax.set_ylim(lo - margin, hi + margin)


def _curve_xy(row: Any) -> tuple[np.ndarray, np.ndarray]:
    """A trial's reported values and their epochs (``curve_epochs`` when recorded, else 1, 2, ...)."""
    c = np.asarray(row["curve"], dtype=float)
    epochs = row.get("curve_epochs")
    if isinstance(epochs, (list, tuple, np.ndarray)) and len(epochs) == len(c):
        return np.asarray(epochs, dtype=float), c
    return np.arange(1, len(c) + 1, dtype=float), c


def _finite_number(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


#: height (axes fraction) of the strip along the worst edge where diverged trials are marked
_STRIP = 0.1


def plot_lr_vs_value(study: Any, ax: Axes | None = None) -> Axes:
    """Learning rate (log axis) against value, one scatter per optimizer. Trials that diverged have
    no value: they are crosses (in their optimizer's colour, one collection labelled ``diverged``)
    at their rate inside a shaded strip labelled "diverged" along the worst edge (the top when the
    study minimises, the bottom when it maximises), which the values' axis range leaves free. When
    no trial has a value the value axis has no tick labels.
    """
    ax = _axes(ax)
    view = study_view(study)
    ax.set_title("Learning rate vs. value")
    if not view.has_rates:
        return _empty(ax, "the study sampled no numeric 'lr' parameter")
    import pandas as pd

    t = view.trials.copy()  # a plain study's 'lr' may be a categorical of any values: the numbers are plotted
    t["param_lr"] = pd.to_numeric(t["param_lr"], errors="coerce").astype(float)
    t = t[np.isfinite(t["param_lr"])]
    view = dataclasses.replace(view, trials=t)
    ax.set_xscale("log")
    done = view.complete
    opt_col = "param_optimizer" if "param_optimizer" in t.columns else None
    div = t[t["diverged_reason"].notna() & ~t.index.isin(done.index) & (t["param_lr"].astype(float) > 0)]
    names = list(dict.fromkeys(
        [*done[opt_col].astype(str), *div[opt_col].astype(str)] if opt_col else ["all"]))  # fmt: skip
    colors = optimizer_colors(sorted(names))
    groups = done.groupby(done[opt_col].astype(str)) if opt_col else [("all", done)]
    for name, g in groups:
        ax.scatter(g["param_lr"].astype(float), g["value"], s=22, alpha=0.75, color=colors[str(name)], label=str(name))
    lrs = np.concatenate([done["param_lr"].to_numpy(dtype=float), div["param_lr"].to_numpy(dtype=float)])
    lrs = lrs[np.isfinite(lrs) & (lrs > 0)]
    if lrs.size:  # blended transforms do not autoscale: set the rate axis from every plotted rate
        lo, hi = np.log10(lrs.min()), np.log10(lrs.max())
        pad = max(0.1, 0.05 * (hi - lo))
        ax.set_xlim(10 ** (lo - pad), 10 ** (hi + pad))
    values = done["value"].to_numpy(dtype=float)
    _maybe_log_y(ax, values)
    if len(div):
        _diverged_strip(ax, div, colors, opt_col, top=not view.maximize, values=values)
        if opt_col:  # an optimizer whose trials all diverged still needs its colour in the legend
            for name in sorted(set(div[opt_col].astype(str)) - set(done[opt_col].astype(str))):
                ax.scatter([], [], s=22, color=colors[name], label=name)
    if not np.isfinite(values).any():  # nothing has a value: no value scale to read
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no trial finished with a value", ha="center", va="center", transform=ax.transAxes,
                color="#555555")  # fmt: skip
        ax.set_ylabel("")
    else:
        ax.set_ylabel(view.objective)
    ax.set_xlabel("learning rate")
    handles, labels = ax.get_legend_handles_labels()
    if "diverged" in labels:  # the crosses take their optimizer's colour; the legend's cross is neutral
        from matplotlib.lines import Line2D

        i = labels.index("diverged")
        handles[i] = Line2D([], [], marker="x", ls="", color="#333333")
        labels[i] = "diverged (no value)"
    ax.legend(handles, labels, loc="best", fontsize="x-small")
    ax.grid(alpha=0.3)
    return ax


def _diverged_strip(ax: Axes, div: pd.DataFrame, colors: dict[str, str], opt_col: str | None, *, top: bool,
                    values: np.ndarray) -> None:  # fmt: skip
    """Mark ``div`` (trials without a value) as crosses in a shaded, labelled strip along one edge of
    ``ax`` and set the value axis so that no value falls into the strip."""
    import matplotlib.transforms as mtransforms
    from matplotlib.patches import Rectangle

    v = values[np.isfinite(values)]
    if v.size:  # leave the strip free: the values take the rest of the height
        log = ax.get_yscale() == "log"
        lo, hi = (np.log10(v.min()), np.log10(v.max())) if log else (float(v.min()), float(v.max()))
        span = (hi - lo) or (abs(hi) if not log and hi else 1.0)
        lo, hi = lo - 0.08 * span, hi + 0.08 * span
        extra = (hi - lo) * _STRIP / (1 - _STRIP)
        lo, hi = (lo, hi + extra) if top else (lo - extra, hi)
        ax.set_ylim(*((10**lo, 10**hi) if log else (lo, hi)))
        # value ticks only beside the values: none in the strip, whose height means nothing
        edge = hi - extra if top else lo + extra
        edge = 10**edge if log else edge
        ax.set_yticks([y for y in ax.get_yticks() if (y <= edge if top else y >= edge)])
        ax.set_ylim(*((10**lo, 10**hi) if log else (lo, hi)))
    y0 = 1 - _STRIP if top else 0.0
    ax.add_patch(Rectangle((0, y0), 1, _STRIP, transform=ax.transAxes, color="#eeeeee", zorder=0, lw=0))
    ax.text(0.01, y0 + _STRIP / 2, "diverged", transform=ax.transAxes, ha="left", va="center", fontsize="x-small",
            color="#555555")  # fmt: skip
    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    point_colors = [colors[str(o)] for o in div[opt_col]] if opt_col else [colors["all"]] * len(div)
    y = 1 - _STRIP * 0.3 if top else _STRIP * 0.3
    ax.scatter(div["param_lr"].astype(float), np.full(len(div), y), marker="x", s=36, c=point_colors,
               transform=trans, label="diverged", clip_on=False, zorder=3)  # fmt: skip


def plot_optimizer_values(study: Any, ax: Axes | None = None) -> Axes:
    """Per-optimizer box plot of the complete trials' values, with every trial as a
    jittered point (one scatter collection per optimizer).
    """
    ax = _axes(ax)
    view = study_view(study)
    ax.set_title("Value by optimizer")
    done = view.complete
    if done.empty:
        return _empty(ax, "no complete trial")
    if "param_optimizer" not in done.columns or done["param_optimizer"].isna().all():
        return _empty(ax, "no complete trial has an 'optimizer' parameter")
    done = done[done["param_optimizer"].notna()]
    groups = {str(k): g["value"].to_numpy(dtype=float) for k, g in done.groupby(done["param_optimizer"].astype(str))}
    order = sorted(groups, key=lambda k: -np.median(groups[k]) if view.maximize else np.median(groups[k]))
    colors = optimizer_colors(order)
    ax.boxplot([groups[k] for k in order], positions=range(1, len(order) + 1), widths=0.5, showfliers=False,
               medianprops={"color": "black"})  # fmt: skip
    rng = np.random.default_rng(0)
    for i, k in enumerate(order, start=1):
        v = groups[k]
        ax.scatter(i + rng.uniform(-0.15, 0.15, v.size), v, s=14, alpha=0.7, color=colors[k], zorder=3)
    ax.set_xticks(range(1, len(order) + 1), [f"{k}\n(n={groups[k].size})" for k in order])
    _maybe_log_y(ax, done["value"].to_numpy(dtype=float))
    ax.set_ylabel(view.objective)
    ax.grid(alpha=0.3, axis="y")
    return ax


def plot_importances(importances: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Horizontal bars of hyperparameter importances (a frame from ``param_importances``)."""
    ax = _axes(ax)
    ax.set_title("Hyperparameter importance")
    if importances is None or len(importances) == 0:
        return _empty(ax, "no importances")
    df = importances.sort_values("importance")
    ax.barh(df["parameter"].astype(str), df["importance"], color="#1f77b4")
    ax.set_xlabel("importance (sums to 1)")
    ax.grid(alpha=0.3, axis="x")
    return ax


def plot_training(train_result: Any, ax: Axes | None = None) -> Axes:
    """A run's per-epoch training and validation loss (two lines; validation omitted when all NaN)."""
    ax = _axes(ax)
    tl = np.asarray(_get(train_result, "train_loss", []), dtype=float)
    vl = np.asarray(_get(train_result, "val_loss", []), dtype=float)
    ax.set_title("Best run: loss per epoch")
    if tl.size == 0:
        return _empty(ax, "the run completed no epoch")
    epochs = np.arange(1, tl.size + 1)
    ax.xaxis.set_major_locator(_integer_locator())
    ax.plot(epochs, tl, marker="o", ms=3, label="train loss")
    if vl.size and np.isfinite(vl).any():
        ax.plot(np.arange(1, vl.size + 1), vl, marker="o", ms=3, label="validation loss")
    _maybe_log_y(ax, np.concatenate([tl, vl]))
    status = _get(train_result, "status")
    if status == "diverged":
        ax.text(0.02, 0.04, f"diverged: {_get(train_result, 'reason', '')}", transform=ax.transAxes,
                color=_DIVERGED, fontsize="small")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (MSE)" if _get(train_result, "task", None) == "regression" else "loss (cross-entropy)")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_lr_schedule(train_result: Any, ax: Axes | None = None) -> Axes:
    """A run's base learning rate at every optimizer step (one line)."""
    ax = _axes(ax)
    lrs = np.asarray(_get(train_result, "lrs", []), dtype=float)
    ax.set_title("Best run: learning rate per step")
    if lrs.size == 0:
        return _empty(ax, "no step was taken")
    ax.plot(np.arange(lrs.size), lrs, color="#2ca02c", lw=1.6)
    positive = lrs[lrs > 0]
    if positive.size and positive.max() / positive.min() > 100:
        ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3)
    return ax


def plot_range_test(result: Any, ax: Axes | None = None) -> Axes:
    """The LR range test's plot: :func:`lrsearch.report.plot_finder.plot_range_test`,
    imported on first use (re-exported here so every report figure is in one place).
    """
    from lrsearch.report.plot_finder import plot_range_test as plot

    return plot(result, ax=ax)
