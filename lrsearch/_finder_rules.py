"""Pure functions over an LR range-test curve: the ladder, smoothing, stopping and suggestion rules.

Nothing here trains or draws: every function takes plain arrays (or any object
with ``lrs``, ``losses`` and ``smoothed`` arrays, such as
:class:`lrsearch.finder.RangeTestResult`) and returns numbers. The finder and
the benchmark both call them, so the rules measured are the rules shipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_RULE",
    "RULES",
    "Suggestion",
    "ema",
    "lr_ladder",
    "find_stop",
    "noise_scale",
    "suggest",
    "suggest_min_div10",
    "suggest_steepest",
    "suggest_valley",
]


@dataclass(frozen=True)
class Suggestion:
    """A rule's answer: the rate to use, and the point of the curve to mark on the plot.

    ``index`` and ``loss`` locate the mark on the curve the rule read (``lrs[index]``
    and its smoothed loss); ``lr`` may differ from ``lrs[index]`` (minimum/10
    marks the minimum but suggests a tenth of it). ``lr`` is NaN when the curve
    is too short for the rule.
    """

    rule: str
    lr: float
    index: int
    loss: float


def lr_ladder(start_lr: float, end_lr: float, num_iter: int, mode: str = "exp") -> np.ndarray:
    """The rates of a range test: ``start*(end/start)**(k/(N-1))`` (exp) or evenly spaced (linear).

    Computed element by element with Python floats, so the values are exactly the formula's.

    >>> lr_ladder(1e-3, 1e-1, 3).tolist()
    [0.001, 0.01, 0.1]
    >>> lr_ladder(0.0, 1.0, 5, "linear").tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    n, start, end = int(num_iter), float(start_lr), float(end_lr)
    if mode == "exp":
        ratio = end / start
        return np.array([start * ratio ** (k / (n - 1)) for k in range(n)], dtype=np.float64)
    return np.array([start + (end - start) * (k / (n - 1)) for k in range(n)], dtype=np.float64)


def ema(values: Any, beta: float) -> np.ndarray:
    """Bias-corrected exponential moving average (fastai's smoothed loss).

    ``avg_k = beta*avg_{k-1} + (1-beta)*x_k`` from ``avg_{-1} = 0``; the value at
    ``k`` is ``avg_k / (1 - beta**(k+1))``. ``beta = 0`` returns the input. Values
    after the first non-finite one are NaN.

    >>> ema([1.0, 3.0], 0.5).tolist()   # (0.5*3 + 0.25*1) / 0.75
    [1.0, 2.3333333333333335]
    """
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    avg, weight = 0.0, 1.0
    for k, v in enumerate(x):
        if not math.isfinite(v):
            break
        avg = beta * avg + (1.0 - beta) * v
        weight *= beta
        out[k] = avg / (1.0 - weight) if weight < 1.0 else v
    return out


def noise_scale(values: Any) -> float:
    """Robust standard deviation of batch-to-batch noise: 1.4826 * median|diff| / sqrt(2).

    Scale-equivariant and shift-invariant, and hardly moved by a trend or by a
    few outliers, so it measures the noise of a loss of any scale and sign.

    >>> round(noise_scale([0.0, 1.0, 0.0, 1.0, 0.0]), 3)
    1.048
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size < 3:
        return 0.0
    return float(1.4826 * np.median(np.abs(np.diff(x))) / math.sqrt(2.0))


def find_stop(losses: Any, smoothed: Any, beta: float, threshold: float, min_steps: int = 10) -> tuple[int, str]:
    """Where a range test stops and why: ``(last index kept, reason)``.

    Reasons: ``"non-finite loss"`` at the first NaN/inf, ``"diverged"`` at the first
    step ``k >= min_steps`` where the smoothed loss ``s_k`` exceeds its best so far
    ``b_k`` by more than ``threshold`` times a scale, and ``"completed"`` otherwise.
    The scale is the descent achieved so far (the highest smoothed loss before
    the best minus the best), or, when the curve has hardly descended, four
    standard deviations of the smoothed noise (:func:`noise_scale` of the raw
    losses so far, times ``sqrt((1-beta)/(1+beta))``). Both are differences of
    losses, so the rule gives the same answer for ``a*loss + b`` with any ``a > 0``
    and any ``b``: it works for losses of any scale and sign.

    >>> raw = np.r_[np.linspace(2.0, 1.0, 20), np.linspace(1.0, 9.0, 10)]
    >>> find_stop(raw, ema(raw, 0.5), 0.5, 1.0)
    (24, 'diverged')
    """
    x = np.asarray(losses, dtype=np.float64)
    s = np.asarray(smoothed, dtype=np.float64)
    finite = np.isfinite(x) & np.isfinite(s)
    n = int(np.argmin(finite)) if not finite.all() else x.size
    noise_factor = 4.0 * math.sqrt((1.0 - beta) / (1.0 + beta))
    best, best_at, peak_before_best, peak = math.inf, 0, -math.inf, -math.inf
    for k in range(n):
        peak = max(peak, s[k])
        if s[k] < best:
            best, best_at, peak_before_best = s[k], k, peak
        if k < min_steps:
            continue
        scale = max(peak_before_best - best, noise_factor * noise_scale(x[: k + 1]))
        if scale > 0 and s[k] - best > threshold * scale:
            return k, "diverged"
    if n < x.size:
        return max(n - 1, 0), "non-finite loss"
    return max(n - 1, 0), "completed"


# --------------------------------------------------------------------------- anchor rules


def _curve(result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lrs = np.asarray(result.lrs, dtype=np.float64)
    raw = np.asarray(result.losses, dtype=np.float64)
    sm = np.asarray(result.smoothed, dtype=np.float64)
    return lrs, raw, sm


def _nan(rule: str) -> Suggestion:
    return Suggestion(rule, math.nan, -1, math.nan)


def _fastai_window(n: int, num_iter: int) -> slice:
    """fastai's lr_find drops the first num_it//10 and the last 5 points before suggesting."""
    return slice(num_iter // 10, max(n - 5, 0))


def valley_index(losses: Any) -> int:
    """fastai's ``valley``: 2/3 of the way... precisely, its index formula over the longest valley.

    The "valley" is the longest strictly decreasing subsequence of ``losses``
    (``lds[i]`` = length of the longest one ending at ``i``), ending at the first
    index of maximal length ``max_end``, with ``max_start = max_end - lds[max_end]``;
    the answer is ``max_start + int(sections) + int(sections / 2)`` where
    ``sections = (max_end - max_start) / 3``. Identical to fastai's double loop.

    >>> valley_index([5.0, 4.0, 3.0, 2.0, 1.0, 2.0])   # lds ends at 4 with 5 -> start -1
    2
    """
    x = np.asarray(losses, dtype=np.float64)
    n = x.size
    if n == 0:
        return -1
    lds = np.ones(n, dtype=np.int64)
    for i in range(1, n):
        higher = x[:i] > x[i]
        if higher.any():
            lds[i] = max(1, int(lds[:i][higher].max()) + 1)
    max_end = int(np.argmax(lds))
    max_start = max_end - int(lds[max_end])
    sections = (max_end - max_start) / 3
    return max_start + int(sections) + int(sections / 2)


def suggest_valley(result: Any) -> Suggestion:
    """fastai's ``valley`` rule on the smoothed losses, over fastai's window.

    fastai drops the first ``num_it // 10`` and the last 5 recorded points and
    applies :func:`valley_index` to the rest (its Recorder's losses are the
    bias-corrected EMA with beta 0.98, lrsearch's default ``smoothing``).
    """
    lrs, _, sm = _curve(result)
    window = _fastai_window(lrs.size, int(getattr(result, "num_iter", lrs.size)))
    ls, ss = lrs[window], sm[window]
    if ss.size < 2:
        return _nan("valley")
    i = valley_index(ss) + window.start
    return Suggestion("valley", float(lrs[i]), i, float(sm[i]))


def suggest_steepest(result: Any, skip_start: int = 10, skip_end: int = 5) -> Suggestion:
    """torch-lr-finder's suggestion: the point of steepest descent of the smoothed loss.

    ``argmin(np.gradient(losses))`` over the points left after dropping the first
    ``skip_start`` and last ``skip_end`` (its plot's defaults). On an exponential
    ladder the step index is proportional to log-rate, so this is the steepest
    descent on log-rate.
    """
    lrs, _, sm = _curve(result)
    lo, hi = skip_start, lrs.size - skip_end if skip_end else lrs.size
    if hi - lo < 2:
        return _nan("steepest")
    i = int(np.argmin(np.gradient(sm[lo:hi]))) + lo
    return Suggestion("steepest", float(lrs[i]), i, float(sm[i]))


def suggest_min_div10(result: Any) -> Suggestion:
    """fastai's ``minimum``: a tenth of the rate at the lowest smoothed loss (over fastai's window)."""
    lrs, _, sm = _curve(result)
    window = _fastai_window(lrs.size, int(getattr(result, "num_iter", lrs.size)))
    ss = sm[window]
    if ss.size < 1 or not np.isfinite(ss).any():
        return _nan("min/10")
    i = int(np.nanargmin(ss)) + window.start
    return Suggestion("min/10", float(lrs[i]) / 10.0, i, float(sm[i]))
