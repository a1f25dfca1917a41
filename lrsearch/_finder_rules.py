"""Pure functions over an LR range-test curve: the ladder, smoothing, stopping and suggestion rules.

Nothing here trains or draws: every function takes plain arrays (or any object
with ``lrs``, ``losses`` and ``smoothed`` arrays, such as
:class:`lrsearch.finder.RangeTestResult`) and returns numbers. The finder and
the benchmark both call them, so the rules measured are the rules shipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_RULE",
    "EDGE_CAP",
    "EDGE_DIVISOR",
    "HORIZON_EXPONENT",
    "PROBE_CENTER",
    "PROBE_SPACING",
    "RULES",
    "Suggestion",
    "best_probe",
    "edge_point",
    "ema",
    "ema_noise_factor",
    "persistence",
    "settle_index",
    "find_stop",
    "horizon_factor",
    "lr_ladder",
    "noise_scale",
    "next_probe",
    "probe_ladder",
    "suggest",
    "suggest_edge",
    "suggest_min_div10",
    "suggest_probe",
    "suggest_steepest",
    "suggest_valley",
    "trend",
    "trend_window",
    "valley_index",
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


def find_stop(losses: Any, smoothed: Any, beta: float, threshold: float, min_steps: int = 10,
              noise: Any = None) -> tuple[int, str]:  # fmt: skip
    """Where a range test stops and why: ``(last index kept, reason)``.

    Reasons: ``"non-finite loss"`` at the first NaN/inf, ``"diverged"`` at the first
    step ``k >= min_steps`` where the smoothed loss ``s_k`` exceeds its best so far
    ``b_k`` (counted from :func:`settle_index` on, once the EMA averages a few batches)
    by more than ``threshold`` times a scale, and ``"completed"`` otherwise.
    The scale is the descent achieved so far (the highest smoothed loss before
    the best minus the best), or, when the curve has hardly descended, four
    standard deviations of the difference ``s_k - b_k`` under noise alone
    (:func:`noise_scale` of the raw losses so far, times the root sum of squares
    of :func:`ema_noise_factor` at ``k`` and at the best's step). Both are differences of
    losses, so the rule gives the same answer for ``a*loss + b`` with any ``a > 0``
    and any ``b``: it works for losses of any scale and sign.

    ``noise``: the series to measure that noise on, when ``losses`` have none of
    their own (a validation-mode test records a fixed subsample's loss, smooth
    from step to step: its batch losses, same units, measure the noise instead;
    without them a rise of 1e-6 at the first rates read as a divergence).
    A smoothing too light to average :func:`persistence` batches (``beta`` below
    about 0.6; none at 0) reads the rise as the median of that many last steps,
    so that one bad batch after a lucky one is not a divergence while a loss that
    swings up and down as it diverges still is.

    >>> raw = np.r_[np.linspace(2.0, 1.0, 20), np.linspace(1.0, 9.0, 10)]
    >>> find_stop(raw, ema(raw, 0.5), 0.5, 1.0)
    (23, 'diverged')
    """
    x = np.asarray(losses, dtype=np.float64)
    s = np.asarray(smoothed, dtype=np.float64)
    noisy = x if noise is None else np.asarray(noise, dtype=np.float64)
    finite = np.isfinite(x) & np.isfinite(s)
    n = int(np.argmin(finite)) if not finite.all() else x.size
    best, best_at, peak_before_best, peak = math.inf, 0, -math.inf, -math.inf
    settled = settle_index(beta)
    # a smoothing too light to average a few batches: the curve is read through the median of its last
    # `hold` steps (the EMA itself when it averages enough), for the best as for the rise
    hold = persistence(beta)
    m = s if hold == 1 else np.array([np.median(s[max(0, k - hold + 1) : k + 1]) for k in range(n)])
    settled = max(settled, hold - 1)  # the best counts once the window is full
    for k in range(n):
        peak = max(peak, m[k])
        if k == settled and settled > 0:  # the first points are a batch or two: too noisy to be the best
            best, best_at, peak_before_best = m[k], k, peak
        elif m[k] < best and (k >= settled or k == 0):
            best, best_at, peak_before_best = m[k], k, peak
        if k < min_steps:
            continue
        spread = math.hypot(ema_noise_factor(beta, k), ema_noise_factor(beta, best_at))
        floor = 4.0 * spread * noise_scale(noisy[: k + 1])
        scale = max(peak_before_best - best, floor)
        if scale > 0 and m[k] - best > threshold * scale:
            return k, "diverged"
    if n < x.size:
        return max(n - 1, 0), "non-finite loss"
    return max(n - 1, 0), "completed"


def persistence(beta: float, batches: int = 4) -> int:
    """How many last steps :func:`find_stop` reads a rise over (their median).

    1 when :func:`ema` averages at least ``batches`` batches in the long run
    (its noise factor ``sqrt((1 - beta) / (1 + beta))`` at most ``1/sqrt(batches)``),
    else as many steps as it takes to see that many batches' worth of rise.

    >>> persistence(0.98), persistence(0.5), persistence(0.0)
    (1, 2, 4)
    """
    return max(1, math.ceil(batches * (1.0 - beta) / (1.0 + beta) - 1e-12))


def settle_index(beta: float, factor: float = 0.5) -> int:
    """The first step at which :func:`ema`'s noise is at most ``factor`` times a single batch's.

    Before it the bias-corrected EMA averages fewer than ``1/factor**2`` (4) batches,
    (or, for a light smoothing that never averages that many, until its noise is
    within 5% of its long-run value), so :func:`find_stop` does not let those
    steps set the best loss a rise is measured from: one lucky first batch would
    otherwise read as a divergence a few steps later (seen on the benchmark's
    spirals). 4 for ``beta = 0.98``, 0 for ``beta = 0``.

    >>> settle_index(0.98), settle_index(0.0)
    (4, 0)
    """
    floor = 1.05 * math.sqrt((1.0 - beta) / (1.0 + beta))  # the EMA's noise after many steps
    k = 0
    while ema_noise_factor(beta, k) > max(factor, floor) and k < 10_000:
        k += 1
    return k


def ema_noise_factor(beta: float, k: int) -> float:
    """Standard deviation of :func:`ema` at step ``k`` over that of white noise it smooths.

    The weights ``beta**(k-j)`` normalised to sum 1 give ``sqrt(sum w^2)`` =
    ``sqrt((1-beta)/(1+beta) * (1+beta**(k+1))/(1-beta**(k+1)))`` (1 for ``beta = 0``).

    >>> ema_noise_factor(0.0, 5), round(ema_noise_factor(0.5, 0), 6)
    (1.0, 1.0)
    """
    if beta <= 0.0:
        return 1.0
    b = beta ** (k + 1)
    return math.sqrt((1.0 - beta) / (1.0 + beta) * (1.0 + b) / (1.0 - b))


def trend(values: Any, window: int) -> np.ndarray:
    """Lag-free smoothing: a centred moving average over ``window`` points (shrinking at the ends).

    Unlike the EMA it does not shift the curve to the right, so a minimum or an
    upturn stays at the rate where it happened. Only the finite prefix is used.

    >>> trend([0.0, 3.0, 0.0, 3.0, 0.0], 3).tolist()
    [1.5, 1.0, 2.0, 1.0, 1.5]
    """
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    finite = np.isfinite(x)
    n = int(np.argmin(finite)) if not finite.all() else x.size
    if n == 0:
        return out
    half = max(int(window), 1) // 2
    csum = np.concatenate([[0.0], np.cumsum(x[:n])])
    lo = np.maximum(np.arange(n) - half, 0)
    hi = np.minimum(np.arange(n) + half + 1, n)
    out[:n] = (csum[hi] - csum[lo]) / (hi - lo)
    return out


def trend_window(n_points: int) -> int:
    """The window of :func:`trend` for a curve of ``n_points``: about 1/8 of it, odd, at least 5.

    With the default 100-step ladder over 8 decades that is 13 points, about one decade.
    """
    return max(5, 2 * int(round(n_points / 16)) + 1)


# --------------------------------------------------------------------------- anchor rules


def _curve(result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lrs = np.asarray(result.lrs, dtype=np.float64)
    raw = np.asarray(result.losses, dtype=np.float64)
    sm = np.asarray(result.smoothed, dtype=np.float64)
    return lrs, raw, sm


def _nan(rule: str) -> Suggestion:
    return Suggestion(rule, math.nan, -1, math.nan)


def _fastai_window(n: int, num_iter: int) -> slice:
    """fastai's lr_find drops the first ``num_it // 10`` and the last 5 points before suggesting."""
    return slice(num_iter // 10, max(n - 5, 0))


def valley_index(losses: Any) -> int:
    """fastai's ``valley`` index over ``losses`` (identical to its double loop).

    ``lds[i]`` is the length of the longest strictly decreasing subsequence ending
    at ``i``; ``max_end`` is the first index of the largest ``lds``;
    ``max_start = max_end - lds[max_end]`` (fastai's formula: one before the
    valley's first point); the answer is ``max_start + int(sections) +
    int(sections / 2)`` with ``sections = (max_end - max_start) / 3``. One
    deliberate difference: when the longest valley is two points ending at index
    1, fastai's index is -1, which Python reads as the *last* point of its window
    (the highest rate, usually past the divergence); this returns 0 there, the
    valley's start. It does not occur on 100-step curves of the benchmark.

    >>> valley_index([6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 2.0, 3.0])   # lds 1..6, max_end 5, start -1
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
            lds[i] = int(lds[:i][higher].max()) + 1
    max_end = int(np.argmax(lds))
    max_start = max_end - int(lds[max_end])
    sections = (max_end - max_start) / 3
    return max(max_start + int(sections) + int(sections / 2), 0)


def suggest_valley(result: Any) -> Suggestion:
    """fastai's ``valley``: :func:`valley_index` of the smoothed losses over fastai's window.

    fastai drops the first ``num_it // 10`` and the last 5 recorded points
    (its recorded losses are the bias-corrected EMA with beta 0.98, lrsearch's
    default ``smoothing``) and suggests the rate at the valley index.
    """
    lrs, _, sm = _curve(result)
    window = _fastai_window(lrs.size, int(getattr(result, "num_iter", lrs.size)))
    ss = sm[window]
    if ss.size < 1 or not np.isfinite(ss).all():  # one point: fastai answers with it, and so does this
        return _nan("valley")
    i = valley_index(ss) + window.start
    return Suggestion("valley", float(lrs[i]), i, float(sm[i]))


def suggest_steepest(result: Any, skip_start: int = 10, skip_end: int = 5) -> Suggestion:
    """torch-lr-finder's suggestion: the steepest descent of the smoothed loss.

    ``argmin(np.gradient(losses))`` over the points left after dropping the first
    ``skip_start`` and the last ``skip_end`` (its ``plot`` defaults). On an
    exponential ladder the step index is proportional to log-rate, so this is the
    steepest descent on log-rate.
    """
    lrs, _, sm = _curve(result)
    lo, hi = skip_start, lrs.size - skip_end
    if hi - lo < 2 or not np.isfinite(sm[lo:hi]).all():
        return _nan("steepest")
    i = int(np.argmin(np.gradient(sm[lo:hi]))) + lo
    return Suggestion("steepest", float(lrs[i]), i, float(sm[i]))


def suggest_min_div10(result: Any) -> Suggestion:
    """fastai's ``minimum``: a tenth of the rate at the lowest smoothed loss (fastai's window).

    The mark is the minimum itself, as fastai plots it.
    """
    lrs, _, sm = _curve(result)
    window = _fastai_window(lrs.size, int(getattr(result, "num_iter", lrs.size)))
    ss = sm[window]
    if ss.size < 1 or not np.isfinite(ss).any():
        return _nan("min/10")
    i = int(np.nanargmin(ss)) + window.start
    return Suggestion("min/10", float(lrs[i]) / 10.0, i, float(sm[i]))


# --------------------------------------------------------------------------- lrsearch's rules

#: the edge rule's answer is this many times below the instability edge
EDGE_DIVISOR = 10.0
#: the best constant rate for a training of T steps scales like T**-HORIZON_EXPONENT
HORIZON_EXPONENT = 0.25
#: probes are centred on this many times the edge rule's answer (a short run's best is above a long one's)
PROBE_CENTER = 2.0
#: probes sit this many decades apart
PROBE_SPACING = 0.5
#: the default rule never suggests more than the instability edge divided by this
EDGE_CAP = 2.0


def edge_point(losses: Any) -> tuple[int, int, float]:
    """``(minimum index, edge index, descent)`` of a raw loss curve, read from its lag-free trend.

    The trend is :func:`trend` with :func:`trend_window`. The descent is the median
    of the first ``window`` raw losses minus the trend's minimum. The edge is the
    first point after the minimum from which the trend *stays* climbed back (to the
    end of the curve) by half the descent, or by one standard deviation of the
    batch noise (:func:`noise_scale`, about 3.6 standard errors of the trend) if
    that is larger: divergence in a range test does not recover (the rate only
    grows), so a rise that falls back is a wiggle, and a curve which hardly
    descended finds its edge where it blows up; the last point when it never
    does. Every
    quantity is a difference of losses, so the answer is the same for
    ``a*loss + b`` (``a > 0``): scale- and sign-free.

    >>> x = np.r_[np.full(20, 2.0), np.linspace(2.0, 1.0, 30), np.linspace(1.0, 4.0, 20)]
    >>> edge_point(x)[:2]
    (47, 54)
    """
    x = np.asarray(losses, dtype=np.float64)
    finite = np.isfinite(x)
    n = int(np.argmin(finite)) if not finite.all() else x.size
    if n < 3:
        return -1, -1, math.nan
    x = x[:n]
    w = trend_window(n)
    t = trend(x, w)
    i = int(np.argmin(t))
    start = float(np.median(x[: min(w, n)]))
    descent = start - float(t[i])
    rise = max(0.5 * descent, noise_scale(x))
    below = np.nonzero(t[i:] <= t[i] + rise)[0]  # never empty: t[i] itself
    j = min(i + int(below[-1]) + 1, n - 1)
    return i, j, descent


def suggest_edge(result: Any) -> Suggestion:
    """lrsearch's range-test rule: a tenth of the instability edge found by :func:`edge_point`.

    Reads the raw losses (not the EMA, whose lag moves every feature to higher
    rates), so it does not depend on ``smoothing``. The mark is the edge.
    """
    lrs, raw, _ = _curve(result)
    i, j, _ = edge_point(raw)
    if j < 0:
        return _nan("edge")
    t = trend(raw, trend_window(int(np.isfinite(raw).sum())))
    return Suggestion("edge", float(lrs[j]) / EDGE_DIVISOR, j, float(t[j]))


def probe_ladder(center: float, steps: Any, spacing: float = PROBE_SPACING) -> np.ndarray:
    """The rates ``steps`` (ladder positions, see :func:`next_probe`) of a ladder ``spacing`` decades apart from ``center``.

    >>> probe_ladder(1.0, [-1.5, -0.5, 0.5, 1.5]).round(4).tolist()
    [0.1778, 0.5623, 1.7783, 5.6234]
    """
    return float(center) * 10.0 ** (spacing * np.asarray(steps, dtype=np.float64))


def next_probe(tried: Mapping[float, float]) -> float:
    """Where the next probe goes, in steps of :data:`PROBE_SPACING` decades from the centre (``k = 0``).

    ``tried`` maps the steps probed so far to their held-out losses (``inf`` for
    a probe that diverged). The first two probes sit at ``0`` and ``-1`` (a
    long training's best rate is below a short one's); then each probe extends
    the row past whichever end holds the lowest loss (ties, diverged probes
    included, favour the low end), so the best rate gets a worse neighbour on
    both sides; once it has them, the larger gap next to the best is halved.
    A sequential search: on the benchmark, a fixed row of three (edge/1.6,
    edge/5, edge/16) left Adam's best rate below all of them in half its cases.

    >>> next_probe({}), next_probe({0.0: 1.0}), next_probe({0.0: 1.0, -1.0: 0.5})
    (0.0, -1.0, -2.0)
    >>> next_probe({0.0: 1.0, -1.0: 2.0}), next_probe({0.0: 1.0, -1.0: 2.0, 1.0: 1.5})
    (1.0, -0.5)
    """
    ks = sorted(tried)
    if not ks:
        return 0.0
    if len(ks) == 1:
        return ks[0] - 1.0
    best = min(ks, key=lambda k: (tried[k], k))
    if best == ks[0]:
        return ks[0] - 1.0
    if best == ks[-1]:
        return ks[-1] + 1.0
    i = ks.index(best)
    lo, hi = ks[i - 1], ks[i + 1]
    return (best + lo) / 2.0 if best - lo >= hi - best else (best + hi) / 2.0


def best_probe(lrs: Any, losses: Any) -> tuple[float, int]:
    """``(rate, index)``: the probe with the lowest held-out loss, refined by a parabola.

    The parabola goes through the best probe and its two neighbours in
    (log10 rate, loss); its vertex, kept between the neighbours, is the rate.
    A best probe at either end of the row is taken as is. Non-finite losses
    (a probe that diverged) never win.

    >>> round(best_probe([0.1, 1.0, 10.0], [2.0, 1.0, 2.0])[0], 6)
    1.0
    """
    r = np.asarray(lrs, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    y = np.where(np.isfinite(y), y, np.inf)
    if r.size == 0 or not np.isfinite(y).any():
        return math.nan, -1
    j = int(np.argmin(y))
    x = np.log10(r)
    pick = x[j]
    if 0 < j < r.size - 1 and np.isfinite(y[j - 1]) and np.isfinite(y[j + 1]):
        a, b, _ = np.polyfit(x[j - 1 : j + 2], y[j - 1 : j + 2], 2)
        if a > 0:
            pick = float(np.clip(-b / (2.0 * a), x[j - 1], x[j + 1]))
    return float(10.0**pick), j


def horizon_factor(train_steps: float, probe_steps: float) -> float:
    """How many times a ``probe_steps`` run's best constant rate exceeds a ``train_steps`` run's.

    ``(train_steps / probe_steps) ** HORIZON_EXPONENT``, kept within [1/2, 4]. The
    exponent 1/4 is the measured slope of log(best rate) against log(steps) on the
    benchmark tasks (median -0.28 over budgets of 50 steps to 20 epochs; theory for
    noisy gradients gives 0 to 1/2).

    >>> horizon_factor(800, 50), horizon_factor(50, 50)
    (2.0, 1.0)
    """
    if not (train_steps > 0 and probe_steps > 0):
        return 1.0
    return float(min(max((train_steps / probe_steps) ** HORIZON_EXPONENT, 0.5), 4.0))


def suggest_probe(result: Any) -> Suggestion:
    """lrsearch's default rule: the best short constant-rate probe, moved to the training's length.

    The probes (``result.probes``: rates and held-out losses after ``steps`` steps
    of training at each constant rate from the test's starting point) walk a
    ladder :data:`PROBE_SPACING` decades apart from :data:`PROBE_CENTER` times the edge
    rule's answer. The best one, refined by :func:`best_probe`, is the best rate
    for a run as short as a probe; it is divided by :func:`horizon_factor` of the
    training the rate is for (``probes.train_steps``), and kept below half the
    instability edge: the range test's, or the lowest probe that diverged if that
    is lower (a diverged probe measures the edge directly). Without probes this
    is :func:`suggest_edge` (and says so in ``rule``); when every probe diverged
    it is the lower of :func:`suggest_edge` and a tenth of the lowest diverged
    probe (the edge rule applied to the measured edge).
    """
    probes = getattr(result, "probes", None)
    if probes is None or len(probes.lrs) == 0:
        return suggest_edge(result)
    p_lrs = np.asarray(probes.lrs, dtype=np.float64)
    failed = p_lrs[~np.isfinite(np.asarray(probes.losses, dtype=np.float64))]
    # a probe that diverged is an instability edge measured directly, at a constant rate
    probe_edge = float(failed.min()) if failed.size else math.inf
    rate, _ = best_probe(probes.lrs, probes.losses)
    if not math.isfinite(rate):
        fallback = suggest_edge(result)
        if math.isfinite(probe_edge):
            lr = probe_edge / EDGE_DIVISOR
            if not lr >= fallback.lr:  # the lower of the two edges' answers (NaN-safe)
                return Suggestion("edge", lr, fallback.index, fallback.loss)
        return fallback
    lr = rate / horizon_factor(getattr(probes, "train_steps", 0), probes.steps)
    lrs, raw, _ = _curve(result)
    _, j, _ = edge_point(raw)
    if EDGE_CAP and j >= 0:
        lr = min(lr, float(lrs[j]) / EDGE_CAP)
    if EDGE_CAP:
        lr = min(lr, probe_edge / EDGE_CAP)
    n = int(np.isfinite(raw).sum())
    if n == 0:
        return Suggestion("probe", lr, -1, math.nan)
    i = int(np.argmin(np.abs(np.log(lrs[:n]) - math.log(lr)))) if np.all(lrs[:n] > 0) else 0
    t = trend(raw, trend_window(n))
    return Suggestion("probe", lr, i, float(t[i]))


RULES = {
    "probe": suggest_probe,
    "edge": suggest_edge,
    "valley": suggest_valley,
    "steepest": suggest_steepest,
    "min/10": suggest_min_div10,
}
"""Every suggestion rule by name; each takes a result (or curve) and returns a :class:`Suggestion`."""

DEFAULT_RULE = "probe"


def suggest(result: Any, rule: str = "default") -> Suggestion:
    """Apply the rule named ``rule`` (``"default"`` is :data:`DEFAULT_RULE`) to ``result``."""
    name = DEFAULT_RULE if rule == "default" else rule
    return RULES[name](result)
