"""The LR range test: ladder, smoothing, stopping, every rule by hand, state restored, repeats, warnings."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

import lrsearch._finder_rules as R
from lrsearch.exceptions import ConfigError
from lrsearch.finder import (
    RULES,
    RangeTestResult,
    find_lr,
    find_lr_all,
    lr_ladder,
    range_test,
    suggest_min_div10,
    suggest_probe,
    suggest_steepest,
    suggest_valley,
)
from lrsearch.nn import Trainer


def _data(n=160, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)
    return X, y


FAST = dict(hidden=(8,), repeats=1, probes=0)


# --------------------------------------------------------------------------- ladder and smoothing


def test_exp_ladder_is_exactly_the_formula():
    start, end, n = 1e-7, 10.0, 100
    expected = [start * (end / start) ** (k / (n - 1)) for k in range(n)]
    got = lr_ladder(start, end, n)
    assert got.tolist() == expected  # bit for bit
    assert got[0] == start and math.isclose(got[-1], end, rel_tol=1e-15)
    ratios = got[1:] / got[:-1]
    np.testing.assert_allclose(ratios, (end / start) ** (1 / (n - 1)), rtol=1e-12)


def test_linear_ladder_is_exactly_the_formula():
    start, end, n = 0.001, 0.5, 7
    assert lr_ladder(start, end, n, "linear").tolist() == [start + (end - start) * (k / (n - 1)) for k in range(n)]


def test_result_uses_the_ladder():
    X, y = _data()
    res = find_lr(X, y, start_lr=1e-5, end_lr=1.0, num_iter=40, **FAST)
    assert res.lrs.tolist() == lr_ladder(1e-5, 1.0, 40)[: res.stop_index + 1].tolist()
    assert res.losses.size == res.smoothed.size == res.stop_index + 1


def _naive_ema(x, beta):
    out, avg = [], 0.0
    for k, v in enumerate(x):
        avg = beta * avg + (1 - beta) * v
        out.append(avg / (1 - beta ** (k + 1)))
    return out


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.98])
def test_ema_is_bias_corrected(beta):
    x = np.random.default_rng(1).normal(3.0, 1.0, size=60)
    np.testing.assert_allclose(R.ema(x, beta), _naive_ema(x, beta), rtol=1e-12)
    # bias correction: the first value is the first loss, not (1-beta)*x0
    assert math.isclose(R.ema(x, beta)[0], x[0], rel_tol=1e-12)


def test_ema_stops_at_the_first_non_finite_value():
    out = R.ema([1.0, 2.0, np.nan, 3.0], 0.9)
    assert np.isfinite(out[:2]).all() and np.isnan(out[2:]).all()


def test_ema_noise_factor_matches_the_weights():
    beta, k = 0.9, 7
    w = beta ** np.arange(k, -1, -1.0)
    w /= w.sum()
    assert math.isclose(R.ema_noise_factor(beta, k), math.sqrt((w**2).sum()), rel_tol=1e-12)


# --------------------------------------------------------------------------- stopping


def _v_curve(n=100, seed=0, noise=0.02):
    """Flat at 2, down to 1 over steps 30-60, then up steeply to 8; mild noise."""
    k = np.arange(n)
    x = np.where(k < 30, 2.0, np.where(k < 60, 2.0 - (k - 30) / 30, 1.0 + 7.0 * ((k - 60) / 40) ** 2))
    return x + np.random.default_rng(seed).normal(0, noise, n)


@pytest.mark.parametrize("a,b", [(1.0, 0.0), (1e6, -3e7), (1e-6, -5.0), (3.0, 100.0)])
def test_stop_rule_is_the_same_for_any_scale_and_sign(a, b):
    raw = _v_curve()
    ref = R.find_stop(raw, R.ema(raw, 0.9), 0.9, 1.0)
    moved = a * raw + b
    assert R.find_stop(moved, R.ema(moved, 0.9), 0.9, 1.0) == ref
    assert ref[1] == "diverged" and 60 < ref[0] < 100


def test_stop_rule_fires_where_the_rise_passes_the_descent():
    raw = _v_curve(noise=0.0)
    sm = R.ema(raw, 0.0)
    k, reason = R.find_stop(raw, sm, 0.0, 1.0)
    # without smoothing: best 1.0 (step 60), descent 1.0 -> the first step whose last persistence(0) = 4
    # losses have a median above 2.0 (a monotone rise: between the first step above 2.0 and 3 steps later)
    assert R.persistence(0.0) == 4
    expected = next(j for j in range(61, 100) if np.median(raw[j - 3 : j + 1]) > 2.0)
    first_above = int(np.argmax((np.arange(100) > 60) & (raw > 2.0)))
    assert (k, reason) == (expected, "diverged") and first_above <= k <= first_above + 3
    assert R.find_stop(raw, sm, 0.0, 3.0)[0] > k  # a larger threshold stops later


def test_without_smoothing_one_bad_batch_after_a_lucky_one_is_not_a_divergence():
    """smoothing=0: a single spike (even right after a lucky low batch) must not stop the test; a rise that holds
    does."""
    rng = np.random.default_rng(0)
    raw = 1.0 + 0.05 * rng.normal(size=100)
    raw[30], raw[31] = 0.5, 3.0  # a lucky batch, then a bad one
    assert R.find_stop(raw, R.ema(raw, 0.0), 0.0, 1.0) == (99, "completed")
    raw[60:] = 3.0 + np.arange(40)  # a real divergence: it holds
    assert R.find_stop(raw, R.ema(raw, 0.0), 0.0, 1.0) == (61, "diverged")  # median of 4: two of them up
    swing = raw.copy()
    swing[60:] = np.where(np.arange(40) % 2, 0.9, 4.0 + np.arange(40))  # a divergence that swings back each step
    k, reason = R.find_stop(swing, R.ema(swing, 0.0), 0.0, 1.0)
    assert reason == "diverged" and k <= 63


def test_validation_mode_measures_the_noise_on_the_batch_losses():
    """A validation-mode curve is smooth (a fixed subsample): a rise of 1e-6 at the first rates is not a
    divergence. Its batch losses measure the noise; without them the rule stops at step 10."""
    rng = np.random.default_rng(0)
    val = 0.7 + 1e-6 * np.arange(100) / 10  # rises smoothly by 1e-6 over the first 10 steps
    batch = 0.7 + 0.1 * rng.normal(size=100)
    assert R.find_stop(val, R.ema(val, 0.98), 0.98, 1.0)[0] == 10  # the trap
    assert R.find_stop(val, R.ema(val, 0.98), 0.98, 1.0, noise=batch) == (99, "completed")
    X = rng.normal(size=(40, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    for seed in range(6):
        res = find_lr(X, y, hidden=(8,), validation=True, seed=seed, probes=0)
        assert all(c.stop_index > 30 for c in res.curves), [c.stop_index for c in res.curves]
        assert all(c.batch_losses is not None and c.batch_losses.size == c.losses.size for c in res.curves)


def test_negative_losses_defeat_a_ratio_rule_but_not_this_one():
    raw = _v_curve() - 10.0  # every loss negative: "4 x best" would fire at once
    k, reason = R.find_stop(raw, R.ema(raw, 0.9), 0.9, 1.0)
    assert reason == "diverged" and k > 60


def test_flat_noisy_curve_does_not_stop():
    raw = 5.0 + np.random.default_rng(3).normal(0, 1.0, 100)
    assert R.find_stop(raw, R.ema(raw, 0.98), 0.98, 1.0) == (99, "completed")


def test_stop_at_first_non_finite_loss():
    raw = np.r_[np.linspace(2, 1, 30), [np.inf]]
    assert R.find_stop(raw, R.ema(raw, 0.9), 0.9, 1.0) == (29, "non-finite loss")


# --------------------------------------------------------------------------- rules by hand


def _view(smoothed, losses=None, num_iter=None):
    s = np.asarray(smoothed, dtype=np.float64)
    n = s.size
    return SimpleNamespace(lrs=lr_ladder(1e-4, 1.0, n), smoothed=s, losses=s if losses is None else losses,
                           num_iter=n if num_iter is None else num_iter, probes=None)  # fmt: skip


def _fastai_valley(lrs, losses):
    """fastai's code, transcribed as it is (callback/schedule.py)."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx])


def test_valley_by_hand():
    # 30 points, fastai's window drops the first 30//10 = 3 and the last 5: points 3..24.
    # Strictly decreasing from 3 to 20 (18 points), then rising: in window coordinates
    # lds[17] = 18, max_end = 17, max_start = 17 - 18 = -1, sections = 18/3 = 6,
    # idx = -1 + 6 + 3 = 8 -> point 3 + 8 = 11.
    s = np.r_[[9.0, 9.5, 9.2], np.linspace(8.0, 1.0, 18), np.linspace(1.5, 5.0, 9)]
    view = _view(s)
    got = suggest_valley(view)
    assert got.index == 11 and got.lr == view.lrs[11] and got.loss == s[11]


@pytest.mark.parametrize("seed", range(5))
def test_valley_matches_fastai_code(seed):
    rng = np.random.default_rng(seed)
    s = np.cumsum(rng.normal(-0.05, 0.3, 60)) + 5
    view = _view(s)
    window = slice(6, 55)
    assert suggest_valley(view).lr == _fastai_valley(view.lrs[window], s[window])


def test_steepest_by_hand():
    k = np.arange(80)
    s = 1.0 - np.tanh((k - 37) / 6.0)  # steepest descent at k = 37
    got = suggest_steepest(_view(s))
    assert got.index == 37 and got.rule == "steepest"


def test_steepest_skips_the_first_points_like_torch_lr_finder():
    s = np.r_[[10.0, 1.0], np.linspace(1.0, 0.5, 40)]  # the big drop at step 1 is skipped
    assert suggest_steepest(_view(s)).index >= 10


def test_min_div10_by_hand():
    s = np.r_[[0.1], np.linspace(5, 2, 30), [1.0], np.linspace(2, 9, 19)]  # 51 points; step 0 is outside the window
    view = _view(s)
    got = suggest_min_div10(view)
    assert got.index == 31 and math.isclose(got.lr, view.lrs[31] / 10)


def _naive_edge(x):
    n = len(x)
    w = max(5, 2 * int(round(n / 16)) + 1)
    h = w // 2
    t = [sum(x[max(0, i - h) : i + h + 1]) / len(x[max(0, i - h) : i + h + 1]) for i in range(n)]
    i = min(range(n), key=lambda j: t[j])
    descent = float(np.median(x[:w])) - t[i]
    d = np.diff(x)
    noise = 1.4826 * float(np.median(np.abs(d))) / math.sqrt(2)
    rise = max(0.5 * descent, noise)
    # the first point from which the trend stays above t[i] + rise to the end (the last point if none)
    last_low = max(j for j in range(i, n) if t[j] <= t[i] + rise)
    j = min(last_low + 1, n - 1)
    return i, j


@pytest.mark.parametrize("a,b", [(1.0, 0.0), (1e6, -1e7)])
def test_edge_rule_by_hand_and_scale_free(a, b):
    raw = a * _v_curve() + b
    view = _view(raw, losses=raw)
    i, j = _naive_edge(list(raw))
    got = R.suggest_edge(view)
    assert got.index == j and math.isclose(got.lr, view.lrs[j] / R.EDGE_DIVISOR)
    assert 60 < j < 80 and 50 < i < 70


def test_edge_of_a_flat_curve_is_where_it_blows_up():
    rng = np.random.default_rng(4)
    raw = np.r_[0.69 + 0.05 * rng.normal(size=80), 0.69 + np.geomspace(0.1, 10, 20)]
    i, j, descent = R.edge_point(raw)
    assert j >= 80 - 6 and descent < 0.05  # the centred trend sees the blow-up half a window early


def test_edge_ignores_a_rise_that_falls_back():
    # a bump of +0.5 over steps 65-75 (after the minimum at 1.0, descent 1.0) that falls back, then the real
    # blow-up from step 85: a first-crossing rule takes the bump, the edge is the blow-up
    k = np.arange(100)
    x = np.where(k < 30, 2.0, np.where(k < 60, 2.0 - (k - 30) / 30, 1.0))
    x = x + 0.8 * ((k >= 65) & (k < 75)) + np.where(k >= 85, 0.5 * (k - 84), 0.0)
    i, j, _ = R.edge_point(x)
    assert 80 <= j <= 90 and (i, j) == _naive_edge(list(x))
    t = R.trend(x, R.trend_window(100))
    assert (t[60:80] > t[i] + 0.5).any()  # the bump does cross the threshold


def test_a_lucky_first_batch_does_not_stop_the_test():
    # flat noisy losses whose first batch is 4 sigma low: the EMA's first point is that one batch, and
    # a best taken from it reads as a divergence at step 10; the best counts from settle_index on
    rng = np.random.default_rng(5)
    raw = 1.2 + 0.1 * rng.standard_normal(100)
    raw[0] = 0.8
    assert R.settle_index(0.98) == 4
    assert R.find_stop(raw, R.ema(raw, 0.98), 0.98, 1.0) == (99, "completed")


def test_probe_rule_by_hand():
    # held-out loss is a parabola in log10(rate) with its vertex at 0.3: the fit recovers 0.3 exactly;
    # 50-step probes for an 800-step training: (800/50)**(1/4) = 2, so the suggestion is 0.15.
    rates = R.probe_ladder(0.2, [-1.5, -0.5, 0.5, 1.5])
    losses = (np.log10(rates) - math.log10(0.3)) ** 2 + 1.0
    view = _view(_v_curve(), losses=_v_curve())
    view.lrs = lr_ladder(1e-3, 1e3, 100)  # edge near 10: the cap (edge / 2) does not bind
    view.probes = SimpleNamespace(lrs=rates, losses=losses, steps=50, train_steps=800)
    got = suggest_probe(view)
    assert math.isclose(got.lr, 0.15, rel_tol=1e-9) and got.rule == "probe"
    view.probes.train_steps = 50  # a training as short as the probes: the probe's best as is
    assert math.isclose(suggest_probe(view).lr, 0.3, rel_tol=1e-9)


def test_probe_rule_never_goes_past_half_the_edge():
    view = _view(_v_curve(), losses=_v_curve())
    view.probes = SimpleNamespace(lrs=np.array([0.1, 1.0, 10.0]), losses=np.array([3.0, 2.0, 1.0]), steps=50,
                                  train_steps=50)  # fmt: skip
    _, j, _ = R.edge_point(view.losses)
    assert math.isclose(suggest_probe(view).lr, view.lrs[j] / R.EDGE_CAP) and view.lrs[j] / 2 < 10.0


def test_probe_rule_ignores_diverged_probes_and_falls_back_to_edge():
    view = _view(_v_curve(), losses=_v_curve())
    view.lrs = lr_ladder(1e-3, 1e3, 100)
    view.probes = SimpleNamespace(lrs=np.array([0.01, 0.1, 1.0]), losses=np.array([2.0, 1.0, np.inf]), steps=50,
                                  train_steps=50)  # fmt: skip
    assert math.isclose(suggest_probe(view).lr, 0.1)  # best at the end of the finite row: no parabola
    view.probes = SimpleNamespace(lrs=np.array([0.1]), losses=np.array([np.inf]), steps=50, train_steps=50)
    assert suggest_probe(view).rule == "edge"


def test_diverged_probes_are_an_edge():
    # the curve's edge is near 10 (ladder 1e-3..1e3), but a probe at 0.5 diverged: the answer stays below 0.25
    view = _view(_v_curve(), losses=_v_curve())
    view.lrs = lr_ladder(1e-3, 1e3, 100)
    view.probes = SimpleNamespace(lrs=np.array([0.05, 0.16, 0.5]), losses=np.array([2.0, 1.0, np.inf]), steps=50,
                                  train_steps=50)  # fmt: skip
    assert math.isclose(suggest_probe(view).lr, 0.16)  # the best probe, below the cap 0.25
    view.probes.losses = np.array([3.0, 2.0, 1.0])  # same rates, none diverged: the best end probe as is
    view.probes.lrs = np.array([0.05, 0.16, 5.0])
    assert math.isclose(suggest_probe(view).lr, 5.0)
    view.probes.losses = np.array([3.0, 2.0, np.inf])  # the 5.0 probe diverged: at most 2.5
    assert math.isclose(suggest_probe(view).lr, 0.16)
    view.probes = SimpleNamespace(lrs=np.array([0.6, 2.0, 6.0]), losses=np.full(3, np.inf), steps=50, train_steps=50)
    got = suggest_probe(view)  # every probe diverged: a tenth of the lowest, below the curve's edge/10
    assert got.rule == "edge" and math.isclose(got.lr, 0.06) and got.lr < R.suggest_edge(view).lr


def test_horizon_factor():
    assert R.horizon_factor(16 * 50, 50) == 2.0 and R.horizon_factor(50, 50) == 1.0
    assert R.horizon_factor(1e9, 50) == 4.0 and R.horizon_factor(1, 50) == 0.5  # clipped


def test_epochs_move_the_suggestion():
    X, y = _data()
    short = find_lr(X, y, hidden=(8,), repeats=1, epochs=40)  # 200 steps: 2x the 100-step probes
    long = find_lr(X, y, hidden=(8,), repeats=1, epochs=640)  # 3200 steps: 32x
    assert np.array_equal(short.probes.losses, long.probes.losses)  # same measurements
    assert math.isclose(short.lr / long.lr, (640 / 40) ** 0.25, rel_tol=1e-9)


def _walk(loss_of_k, count):
    tried = {}
    while len(tried) < count:
        k = R.next_probe(tried)
        assert k not in tried  # never probes the same rate twice
        tried[k] = loss_of_k(k)
    return tried


@pytest.mark.parametrize("vertex", [-4.3, -2.6, -1.2, -0.5, 0.0, 0.4, 1.7, 3.1])
def test_probe_walk_brackets_the_best_rate(vertex):
    # a unimodal held-out loss over the ladder: with enough probes the best is bracketed (a worse probe on each
    # side), and the best probe is the grid point nearest the vertex among those tried
    tried = _walk(lambda k: (k - vertex) ** 2, 8)
    ks = sorted(tried)
    best = min(ks, key=tried.get)
    assert ks[0] < best < ks[-1]
    assert abs(best - vertex) <= 0.5  # halving the gaps next to the best lands within half a ladder step
    assert all(b - a > 0 for a, b in zip(ks, ks[1:]))


def test_probe_walk_goes_down_past_diverged_probes():
    # everything at or above k = -2 diverges, below it the loss falls towards lower rates until k = -4
    tried = _walk(lambda k: math.inf if k > -2.5 else abs(k + 4.0), 6)
    ks = sorted(tried)
    assert ks[:4] == [-5.0, -4.0, -3.0, -2.0] and min(ks, key=tried.get) == -4.0


def test_probe_search_in_find_lr_uses_the_walk():
    X, y = _data()
    res = find_lr(X, y, hidden=(8,), repeats=1, probes=4, probe_steps=20)
    k = np.log10(res.probes.lrs / res.probes.lrs.max())
    steps = np.round(k / R.PROBE_SPACING * 2) / 2  # every probe sits on the half-step ladder
    np.testing.assert_allclose(k, steps * R.PROBE_SPACING, atol=1e-9)
    assert res.probes.lrs.size == 4 and res.steps <= 100 + 4 * 20
    # replaying the walk on the recorded losses reproduces the rates tried
    centre = res.suggestions["edge"].lr * R.PROBE_CENTER
    ladder = {round(float(np.log10(r / centre)) / R.PROBE_SPACING, 6): float(loss)
              for r, loss in zip(res.probes.lrs, res.probes.losses)}  # fmt: skip
    assert set(_walk(lambda q: ladder[round(q, 6)], 4)) == set(ladder)


def test_probe_ladder_is_centred_and_evenly_spaced():
    r = R.probe_ladder(0.01, [-1.5, -0.5, 0.5, 1.5], 0.5)
    np.testing.assert_allclose(np.diff(np.log10(r)), 0.5)
    assert math.isclose(math.sqrt(r[1] * r[2]), 0.01)


# --------------------------------------------------------------------------- the finder end to end


def test_find_lr_result_fields():
    X, y = _data()
    res = find_lr(X, y, hidden=(8,), repeats=2, probes=3, probe_steps=20)
    assert isinstance(res, RangeTestResult) and res.optimizer == "adam"
    assert set(res.suggestions) == set(RULES)
    assert res.rule == "probe" and res.lr == res.suggestions["probe"].lr
    base, top = res.lr_range
    assert math.isclose(top / base, 4.0) and base < res.lr <= top
    assert math.isclose(res.one_cycle_range[1] / res.one_cycle_range[0], 25.0)
    assert res.search_bounds[0] < res.lr < res.search_bounds[1]
    assert res.steps <= 2 * 100 + 3 * 20 and len(res.repeats) == 2 and res.probes.lrs.size == 3
    assert res.stop_reason in {"completed", "diverged", "non-finite loss", "loss exploded"}


def test_default_find_costs_at_most_five_range_tests():
    X, y = _data()
    res = find_lr(X, y, hidden=(8,))
    assert res.steps <= 5 * 100
    # the measured default: two 100-step range tests and three 100-step probes
    assert len(res.curves) == 2 and res.probes.lrs.size == 3 and res.probes.steps == 100


def test_any_rule_can_be_chosen():
    X, y = _data()
    for rule in ("edge", "valley", "steepest", "min/10"):
        res = find_lr(X, y, rule=rule, **FAST)
        assert res.rule == rule and res.lr == res.suggestions[rule].lr


def test_find_lr_is_deterministic():
    X, y = _data()
    a, b = find_lr(X, y, hidden=(8,), repeats=2), find_lr(X, y, hidden=(8,), repeats=2)
    assert a.lr == b.lr and np.array_equal(a.losses, b.losses)


def test_init_weights_are_never_changed():
    X, y = _data()
    rng = np.random.default_rng(5)
    coefs = [rng.normal(size=(4, 8)).astype(np.float32), rng.normal(size=(8, 3)).astype(np.float32)]
    intercepts = [np.zeros(8, np.float32), np.zeros(3, np.float32)]
    before = [a.copy() for a in coefs + intercepts]
    res = find_lr(X, y, hidden=(8,), init=(coefs, intercepts), repeats=2, probes=2, probe_steps=10)
    for a, b in zip(coefs + intercepts, before):
        np.testing.assert_array_equal(a, b)
    # the init was used: every repeat starts from the same first loss (only the shuffle differs)
    first = [c.losses[0] for c in res.curves]
    tr = Trainer(X, y, hidden=(8,), init=(coefs, intercepts), n_classes=3)
    assert math.isclose(first[0], tr.run_steps(np.arange(160)[np.random.default_rng(0).permutation(160)][:32],
                                               np.array([1e-7])).losses[0], rel_tol=1e-5)  # fmt: skip


def test_range_test_restores_the_trainer():
    X, y = _data()
    tr = Trainer(X, y, hidden=(8,), optimizer="adam", n_classes=3)
    tr.run_steps(np.arange(64), np.full(2, 1e-2))  # a trainer part-way through training
    snap = tr.snapshot()
    curve = range_test(tr, num_iter=50)
    assert curve.steps > 0
    np.testing.assert_array_equal(tr.theta, snap["theta"])
    np.testing.assert_array_equal(tr.state, snap["state"])
    assert tr.step == snap["step"]
    # and the test did train: the same steps without the restore move the weights
    tr.run_steps(np.arange(64), np.full(2, 1e-2))
    assert not np.array_equal(tr.theta, snap["theta"])


def test_range_test_restores_the_trainer_on_error(monkeypatch):
    X, y = _data()
    tr = Trainer(X, y, hidden=(8,), n_classes=3)
    theta = tr.theta.copy()
    calls = []
    evaluate = tr.evaluate

    def failing(*args):
        calls.append(1)
        if len(calls) == 6:  # after 5 steps were taken
            raise KeyboardInterrupt
        return evaluate(*args)

    monkeypatch.setattr(tr, "evaluate", failing)
    with pytest.raises(KeyboardInterrupt):
        range_test(tr, num_iter=20, end_lr=1.0, X_val=X[:20], y_val=y[:20])
    assert tr.step == 0
    np.testing.assert_array_equal(tr.theta, theta)


def test_repeats_give_a_spread():
    X, y = _data(n=120)
    res = find_lr(X, y, hidden=(8,), repeats=6, probes=0, batch_size=8)
    lrs = np.log10([s.lr for s in res.repeats])
    assert len(res.repeats) == 6 and len({s.lr for s in res.repeats}) > 1
    p10, p90 = np.percentile(lrs, [10, 90])
    assert math.isclose(res.spread_decades, p90 - p10) and res.spread_decades > 0
    assert len({c.seed for c in res.curves}) == 6


def test_warning_when_it_never_diverges_and_never_decreases():
    X, y = _data()
    res = find_lr(X, y, start_lr=1e-9, end_lr=1e-7, **FAST)
    text = " ".join(res.warnings)
    assert res.stop_reason == "completed" and "never diverged" in text and "raise end_lr" in text
    assert "never clearly decreased" in text


def test_warning_when_it_diverges_at_once():
    X, y = _data()
    res = find_lr(X, y, optimizer="sgd", start_lr=50.0, end_lr=1e4, num_iter=50, **FAST)
    assert any("lower start_lr" in w for w in res.warnings)


def test_warning_for_a_wide_spread():
    from lrsearch.finder import _warnings

    calm = _warnings(_v_curve(), "diverged", 80, 100, 10.0, 1e-7, spread=0.2, repeats=3)
    wide = _warnings(_v_curve(), "diverged", 80, 100, 10.0, 1e-7, spread=1.3, repeats=3)
    assert not calm and any("1.3 decades" in w for w in wide)


def test_validation_mode_records_held_out_loss():
    X, y = _data(n=200)
    res = find_lr(X, y, validation=True, num_iter=30, **FAST)
    assert res.validation and res.losses.size >= 2
    # the first point is the initial network's mean loss on the held-out fifth of the rows
    perm = np.random.default_rng([0, 2]).permutation(200)
    held, rest = np.sort(perm[:40]), np.sort(perm[40:])
    tr = Trainer(X[rest], y[rest], hidden=(8,), seed=0, n_classes=3)
    assert math.isclose(res.losses[0], tr.evaluate(X[held], y[held])[0], rel_tol=1e-6)
    plain = find_lr(X, y, num_iter=30, **FAST)
    assert not math.isclose(plain.losses[0], res.losses[0], rel_tol=1e-3)


def test_find_lr_accepts_a_dataset_name():
    res = find_lr("iris", hidden=(8,), repeats=1, probes=2, probe_steps=10)
    assert res.task == "classification" and res.probes.held_out == "validation split"


def test_regression_is_inferred():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    res = find_lr(X, X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=100), **FAST)
    assert res.task == "regression" and math.isfinite(res.lr)


def test_find_lr_all_gives_one_result_per_optimizer():
    X, y = _data()
    out = find_lr_all(X, y, optimizers=["sgd", "adam", "rmsprop"], hidden=(8,), repeats=1, probes=0)
    assert list(out) == ["sgd", "adam", "rmsprop"] and all(r.optimizer == k for k, r in out.items())
    assert out["sgd"].lr != out["adam"].lr  # per optimizer answers


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        (dict(start_lr=1.0, end_lr=0.1), "end_lr must be larger than start_lr"),
        (dict(start_lr=0.0), "positive rate"),
        (dict(end_lr=-1.0), "positive rate"),
        (dict(num_iter=1), "at least 2 steps"),
        (dict(mode="log"), "'exp'"),
        (dict(smoothing=1.0), "weight on the past"),
        (dict(rule="magic"), "'probe'"),
        (dict(repeats=0), "repeats"),
        (dict(optimizer="lion"), "choose one of"),
        (dict(optimizer="all"), "find_lr_all"),
    ],
)
def test_bad_input_raises_config_error_naming_the_fix(kwargs, fragment):
    X, y = _data()
    with pytest.raises(ConfigError, match=None) as info:
        find_lr(X, y, **{**FAST, **kwargs})
    assert fragment in str(info.value)


def test_to_dict_and_curve_table():
    import json

    X, y = _data()
    res = find_lr(X, y, hidden=(8,), repeats=2, probes=2, probe_steps=10)
    d = res.to_dict()
    assert json.loads(json.dumps(d, default=float))["optimizer"] == "adam"
    table = res.curve_table()
    assert len(table["lr"]) == res.lrs.size and "loss_repeat1" in table


# --------------------------------------------------------------------------- plot


def test_plot_range_test_returns_axes_with_the_curves(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from lrsearch.report.plot_finder import plot_range_test, save_range_test_plot

    X, y = _data()
    res = find_lr(X, y, hidden=(8,), repeats=2, probes=2, probe_steps=10)
    ax = plot_range_test(res)
    assert ax.get_xscale() == "log" and len(ax.lines) >= 3
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("probe") for label in labels) and any("valley" in label for label in labels)
    path = save_range_test_plot({"adam": res}, tmp_path / "lr.svg")
    assert "<svg" in path.read_text()[:2000]
    with pytest.raises(ConfigError, match=".png"):
        save_range_test_plot(res, tmp_path / "lr.txt")


def test_repeats_are_pooled_by_the_median_even_when_one_stops_early():
    from lrsearch.finder import RangeTestCurve, _pool

    def curve(values, reason):
        v = np.asarray(values, dtype=np.float64)
        return RangeTestCurve(np.arange(v.size) + 1.0, v, v, v.size - 1, reason, 6, 0)

    pooled, reason = _pool([curve([3, 2, 1, 9], "loss exploded"), curve([4, 3, 2, 2, 1, 1], "completed"),
                            curve([5, 1, 3, 3, 2, 2], "completed")])  # fmt: skip
    # columns 0-3: median of three; 4-5: two of three still run (a majority): their median
    np.testing.assert_array_equal(pooled, [4, 2, 2, 3, 1.5, 1.5])
    assert reason is None
    pooled, reason = _pool([curve([3, 2], "loss exploded"), curve([4, 3, 2, 2], "non-finite loss"),
                            curve([5, 1, 3], "loss exploded")])  # fmt: skip
    np.testing.assert_array_equal(pooled, [4, 2, 2.5])  # step 3: only one of three still runs
    assert reason == "loss exploded"
    # every repeat stopped at the same step: that is why the pooled curve ends, not a completed sweep
    pooled, reason = _pool([curve([3, 9], "loss exploded"), curve([4, 8], "loss exploded"), curve([5, 7], "diverged")])
    np.testing.assert_array_equal(pooled, [4, 8])
    assert reason == "loss exploded"
    # all the same length, a majority completed: completed
    _, reason = _pool([curve([3, 9], "diverged"), curve([4, 8], "completed"), curve([5, 7], "completed")])
    assert reason is None


def test_repeats_that_all_diverge_at_once_are_reported_as_diverged():
    """With repeats, a sweep that starts past the edge says so (lower start_lr), not 'never diverged'."""
    X, y = _data()
    res = find_lr(X, y, hidden=(8,), repeats=3, probes=0, start_lr=1e3, end_lr=1e8, optimizer="sgd")
    assert res.stop_reason != "completed" and res.stop_index < 5
    assert any("lower start_lr" in w for w in res.warnings)
    assert not any("never diverged" in w for w in res.warnings)


def test_a_tuple_of_arrays_is_the_data():
    """find_lr((X, y)) loads the tuple as lrsearch.data.load (and recommend((X, y))) does: standardised, split."""
    from lrsearch.data import load

    X, y = _data()
    a, b = find_lr((X, y), **FAST), find_lr(load((X, y)), **FAST)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert a.lr == b.lr


def test_string_labels_are_encoded_as_recommend_encodes_them():
    """Text labels with arrays are loaded as recommend(X, y) loads them: load((X, y), scale=False)."""
    from lrsearch.data import load

    X, _ = _data()
    labels = np.array(["a", "b"] * 80)
    a = find_lr(X, labels, task="classification", **FAST)
    b = find_lr(load((X, labels), task="classification", scale=False), **FAST)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert a.task == "classification"


def test_unscaled_regression_targets_and_features_are_warned_about():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=200)
    kw = dict(hidden=(8,), num_iter=30, repeats=1, probes=0)
    assert not any("unit scale" in w for w in find_lr(X, y, **kw).warnings)  # standardised-like: silent
    raw_y = find_lr(X, 5e4 + 1e4 * y, **kw)
    assert any(w.startswith("regression targets are far from unit scale") for w in raw_y.warnings)
    raw_x = find_lr(X * 1e3, y, **kw)
    assert any(w.startswith("features are far from unit scale (column") for w in raw_x.warnings)
    labels = (y > 0).astype(int)  # classification: only the features count
    assert not any("unit scale" in w for w in find_lr(X, labels, **kw).warnings)


def test_valley_on_a_one_point_window_answers_with_that_point_as_fastai_does():
    """fastai's valley on a one-point window: lds=[1], max_start = max_end = 0, index 0 (its loop never runs)."""
    lrs = np.geomspace(1e-5, 1e-1, 7)
    curve = SimpleNamespace(lrs=lrs, losses=np.linspace(2, 1, 7), smoothed=np.linspace(2, 1, 7), num_iter=10)
    s = R.suggest_valley(curve)  # window: from num_iter // 10 = 1 to 7 - 5 = 2, one point
    assert s.index == 1 and s.lr == lrs[1]
    empty = SimpleNamespace(lrs=lrs[:6], losses=np.ones(6), smoothed=np.ones(6), num_iter=10)
    assert math.isnan(R.suggest_valley(empty).lr)  # window 1..1: nothing to read
