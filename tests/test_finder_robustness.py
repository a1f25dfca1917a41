"""find_lr and recommend on data other than the bundled sets: odd shapes, odd targets, odd arguments."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lrsearch.exceptions import ConfigError
from lrsearch.finder import RangeTestCurve, _pool, find_lr, find_lr_all, range_test
from lrsearch.nn import Trainer

FAST = dict(hidden=(8,), num_iter=40, repeats=1, probes=0)


pytestmark = pytest.mark.usefixtures("quiet_logs")


def _xy(n=120, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(np.int64)


def _assert_consistent(res):
    """The result's fields agree with each other, whatever the data."""
    assert res.lrs.size == res.losses.size == res.smoothed.size == res.stop_index + 1
    if res.mode == "exp":
        n = res.num_iter
        ladder = [res.start_lr * (res.end_lr / res.start_lr) ** (k / (n - 1)) for k in range(n)]
        assert res.lrs.tolist() == ladder[: res.lrs.size]
    assert res.spread_decades >= 0
    if math.isfinite(res.lr):
        assert res.lr > 0
        assert res.lr <= res.end_lr
        if res.lr < res.start_lr:
            assert any("below start_lr" in w for w in res.warnings)
        lo, hi = res.lr_range
        assert 0 < lo < hi and 0 < res.one_cycle_range[0] < res.one_cycle_range[1]
        assert 0 < res.search_bounds[0] < res.lr < res.search_bounds[1]
    else:
        assert res.warnings and res.warnings[-1].startswith("no rate could be suggested")


def _cases():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    yield "tiny", X[:7], (X[:7, 0] > 0).astype(int), {}
    yield "fewer rows than a batch", X[:26], np.arange(26) % 2, dict(batch_size=64)
    yield "one feature", X[:, :1], (X[:, 0] > 0).astype(int), {}
    yield "wide", rng.normal(size=(40, 2000)), np.arange(40) % 2, {}
    yield "100 classes", rng.normal(size=(300, 4)), np.arange(300) % 100, dict(task="classification")
    yield "1% positives", X, (np.arange(200) < 2).astype(int), {}
    yield "constant feature", np.c_[X, np.ones(200)], (X[:, 0] > 0).astype(int), {}
    yield "duplicated rows", np.repeat(X[:10], 20, axis=0), np.repeat(np.arange(10) % 2, 20), {}
    yield "separable", X * [10, 1, 1], (X[:, 0] > 0).astype(int), {}
    yield "noise labels", X, rng.integers(0, 2, 200), {}
    yield "constant target", X, np.full(200, 3.5), dict(task="regression")
    yield "multi-output", X, np.c_[X[:, 0], -2 * X[:, 1]], {}
    yield "float64", X, X[:, 0], dict(dtype="float64")
    yield "full batch", X, X[:, 0], dict(batch_size=200)
    yield "num_iter=2", X, X[:, 0], dict(num_iter=2)
    yield "narrow range", X, X[:, 0], dict(start_lr=1e-3, end_lr=1.01e-3)
    yield "linear", X, X[:, 0], dict(mode="linear")
    yield "validation", X, (X[:, 0] > 0).astype(int), dict(validation=True, probes=2, probe_steps=20)
    yield "never diverges", X, X[:, 0], dict(start_lr=1e-9, end_lr=1e-7)
    yield "diverges at once", X, X[:, 0] * 100, dict(start_lr=1e3, end_lr=1e6, optimizer="sgd")
    yield "repeats=5 probes=6", X, X[:, 0], dict(repeats=5, probes=6, probe_steps=10)
    for opt in ("adagrad", "rmsprop", "adamw", "nesterov"):
        yield opt, X, (X[:, 0] > 0).astype(int), dict(optimizer=opt, probes=1, probe_steps=10)
    for rule in ("valley", "steepest", "min/10", "edge", "probe"):
        yield f"rule {rule}", X, X[:, 0], dict(rule=rule, num_iter=60, probes=2, probe_steps=10)


@pytest.mark.parametrize("name,X,y,kw", list(_cases()), ids=[c[0] for c in _cases()])
def test_fields_are_consistent_on_odd_data(name, X, y, kw):
    X0, y0 = X.copy(), y.copy()
    res = find_lr(X, y, **{**FAST, **kw})
    _assert_consistent(res)
    assert np.array_equal(X, X0) and np.array_equal(y, y0)  # the caller's arrays are untouched


# --------------------------------------------------------------------------- the ladder's arguments


@pytest.mark.parametrize("kw", [dict(end_lr=math.inf), dict(start_lr=1e-320), dict(start_lr=1e-300, end_lr=1e10)])
def test_a_ladder_that_is_not_finite_is_refused(kw):
    """end_lr=inf, or end/start overflowing, used to give a NaN ladder and lr=NaN instead of an error."""
    X, y = _xy()
    with pytest.raises(ConfigError, match="end_lr"):
        find_lr(X, y, **{**FAST, **kw})
    tr = Trainer(X, y, hidden=(4,))
    with pytest.raises(ConfigError, match="end_lr"):
        range_test(tr, **kw)


def test_range_test_checks_its_seed_and_validation_pair():
    X, y = _xy()
    tr = Trainer(X, y, hidden=(4,))
    with pytest.raises(ConfigError, match="seed"):
        range_test(tr, num_iter=10, seed=-1)
    with pytest.raises(ConfigError, match="X_val and y_val together"):
        range_test(tr, num_iter=10, X_val=X[:10])


# --------------------------------------------------------------------------- curves that fail at once


def test_repeats_whose_first_loss_is_not_finite_give_an_aligned_curve_and_the_right_warning():
    """Every repeat's loss before the first update overflowed: the pooled curve was empty (lrs one point longer
    than losses), its stop 'completed' and the warning 'never diverged: raise end_lr'."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = X[:, 0]
    tr = Trainer(X, y, task="regression", hidden=(8,))
    init = ([w * 1e19 for w in tr.coefs()], tr.intercepts())  # float32 squared error overflows
    for repeats in (1, 2, 3):
        res = find_lr(X, y, init=init, hidden=(8,), repeats=repeats, num_iter=20)
        assert res.lrs.size == res.losses.size == 1 and not np.isfinite(res.losses).any()
        assert res.stop_reason == "non-finite loss" and math.isnan(res.lr)
        assert not any("never diverged" in w for w in res.warnings)
        assert any("not finite before the first update" in w for w in res.warnings[:-1])
        assert res.warnings[-1].startswith("no rate could be suggested: the loss was not finite")


def test_pool_of_curves_without_a_finite_point():
    def curve(values, reason):
        v = np.asarray(values, dtype=np.float64)
        return RangeTestCurve(np.arange(v.size) + 1.0, v, v, max(v.size - 1, 0), reason, 6, 0)

    pooled, reason = _pool([curve([np.inf], "non-finite loss"), curve([np.nan], "non-finite loss")])
    assert pooled.size == 1 and not np.isfinite(pooled).any() and reason == "non-finite loss"
    # one of two repeats has no finite loss: no majority runs at step 0 either
    pooled, reason = _pool([curve([np.inf], "non-finite loss"), curve([3.0, 2.0, 1.0], "completed")])
    assert pooled.size == 1 and not np.isfinite(pooled[0]) and reason == "non-finite loss"


def test_no_rate_after_an_immediate_divergence_says_lower_start_lr():
    X, y = _xy()
    res = find_lr(X, y * 1.0 * 100, task="regression", optimizer="sgd", start_lr=1e3, end_lr=1e6, **FAST)
    assert math.isnan(res.lr)
    last = res.warnings[-1]
    assert last.startswith("no rate could be suggested: the loss diverged within") and "lower start_lr" in last
    assert "raise num_iter" not in last


def test_a_rate_below_start_lr_is_warned_about():
    X, y = _xy()
    res = find_lr(X, y, start_lr=1e-3, end_lr=1.01e-3, **FAST)
    assert res.lr < res.start_lr
    assert any("below start_lr" in w and "lower start_lr" in w for w in res.warnings)
    ordinary = find_lr(X, y, **FAST)
    assert ordinary.lr >= ordinary.start_lr and not any("below start_lr" in w for w in ordinary.warnings)


# --------------------------------------------------------------------------- targets


def test_a_constant_regression_target_is_named_not_called_unscaled():
    X, _ = _xy()
    res = find_lr(X, np.zeros(len(X)), task="regression", **FAST)
    assert any("target is constant" in w for w in res.warnings)
    assert not any("unit scale" in w for w in res.warnings)  # 'standardise y' cannot fix a zero spread
    two = find_lr(X, np.c_[X[:, 0], np.full(len(X), 2.0)], **FAST)
    assert any("column(s) 1 are constant" in w for w in two.warnings)


def test_integer_labels_inferred_as_regression_say_how_to_override():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    res = find_lr(X, np.arange(200) % 50, **FAST)
    assert res.task == "regression"
    assert any("task='classification'" in w for w in res.warnings)
    res = find_lr(X, X[:, 0], **FAST)  # a real quantity: no such note
    assert not any("task inferred" in w for w in res.warnings)


# --------------------------------------------------------------------------- other arguments


@pytest.mark.parametrize(
    "options,fragment",
    [({"batch_size": 8}, "find_lr's own argument"), ({"seed": 1}, "find_lr's own argument"),
     ({"clipnorm": 1.0}, "unknown key"), ([("clip_norm", 1.0)], "must be a dict")],
)  # fmt: skip
def test_trainer_options_are_checked(options, fragment):
    """A key find_lr sets itself used to raise a bare TypeError ('got multiple values for keyword argument')."""
    X, y = _xy()
    with pytest.raises(ConfigError, match=fragment):
        find_lr(X, y, trainer_options=options, **FAST)
    with pytest.raises(ConfigError):
        find_lr_all(X, y, optimizers=["sgd"], trainer_options=options, **FAST)
    res = find_lr(X, y, trainer_options={"clip_norm": 1.0, "diverge_factor": 1e4}, **FAST)
    assert math.isfinite(res.lr)


def test_find_lr_all_refuses_a_string_or_no_optimizers():
    X, y = _xy()
    with pytest.raises(ConfigError, match="list of optimizer names"):
        find_lr_all(X, y, optimizers="adam", **FAST)
    with pytest.raises(ConfigError, match="empty"):
        find_lr_all(X, y, optimizers=[], **FAST)


def test_asking_for_the_probe_rule_without_probes_says_so():
    X, y = _xy()
    res = find_lr(X, y, rule="probe", **FAST)
    assert res.rule == "edge" and any("rule='probe' needs probes" in w for w in res.warnings)
    assert not any("needs probes" in w for w in find_lr(X, y, **FAST).warnings)  # the default falls back quietly


def test_seeded_results_are_deterministic_on_odd_data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 2))
    y = rng.integers(0, 2, 30)
    kw = dict(hidden=(8,), num_iter=30, repeats=2, probes=2, probe_steps=10, batch_size=64)
    a, b = find_lr(X, y, **kw), find_lr(X, y, **kw)
    assert a.lr == b.lr and np.array_equal(a.losses, b.losses)


# --------------------------------------------------------------------------- recommend


def _tiny_dataset():
    from lrsearch.data import load

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    return load((X, (X[:, 0] > 0).astype(int)), seed=0)


def test_recommend_skips_an_optimizer_whose_range_test_gave_no_rate(monkeypatch):
    """A NaN rate used to reach train() and stop recommend with "The 'lr' parameter of train ... Got nan"."""
    from lrsearch import finder
    from lrsearch.recommend import recommend

    real = finder.find_lr

    def fake(ds, optimizer, **kw):
        rt = real(ds, optimizer=optimizer, **kw)
        if optimizer == "sgd":
            return dataclasses.replace(rt, lr=math.nan, warnings=("no rate could be suggested: test",))
        return rt

    monkeypatch.setattr(finder, "find_lr", fake)
    ds = _tiny_dataset()
    rec = recommend(ds, optimizers=["sgd", "adam"], epochs=3, hidden=(8,), repeats=1)
    assert rec.optimizer == "adam" and math.isfinite(rec.lr)
    assert {c.optimizer for c in rec.candidates} == {"adam"}
    assert any("sgd" in e and "no rate" in e for e in rec.evidence)
    monkeypatch.setattr(finder, "find_lr", lambda ds, optimizer, **kw: dataclasses.replace(
        real(ds, optimizer=optimizer, **kw), lr=math.nan, warnings=("no rate could be suggested: test",)))  # fmt: skip
    with pytest.raises(ConfigError, match="no range test gave a learning rate"):
        recommend(ds, optimizers=["sgd"], epochs=3, hidden=(8,), repeats=1)


def test_rows_to_hold_out_match_the_documented_25():
    """Arrays of fewer than 25 rows hold none out (no probes: the edge rule answers, and says why); 25 do."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(25, 3))
    y = (X[:, 0] > 0).astype(int)
    for n in (23, 24):
        res = find_lr(X[:n], y[:n], hidden=(4,), repeats=1, rule="probe")
        assert res.probes is None and res.rule == "edge"
        assert any(f"{n} rows of arrays, under 25" in w for w in res.warnings)
    assert find_lr(X, y, hidden=(4,), repeats=1).probes is not None


def test_a_divergence_at_the_rules_first_possible_step_counts_as_early():
    """find_stop cannot call a divergence before step 10, which is the first tenth's end at 100 steps: a stop
    there is 'within the first tenth' (lower start_lr)."""
    from lrsearch._finder_rules import ema, find_stop
    from lrsearch.finder import _diverged_early

    x = np.exp(np.linspace(0, 5, 100))
    k, reason = find_stop(x, ema(x, 0.98), 0.98, 1.0)
    assert (k, reason) == (10, "diverged") and _diverged_early(reason, k, 100)
    assert not _diverged_early("diverged", 11, 100) and not _diverged_early("completed", 5, 100)


def test_a_short_test_warns_that_its_suggestion_is_rough():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    short = find_lr(X, y, hidden=(4,), num_iter=5, repeats=1)
    assert any("num_iter=5 is a short test" in w for w in short.warnings)
    assert not any("short test" in w for w in find_lr(X, y, hidden=(4,), num_iter=30, repeats=1).warnings)


def test_shapes_the_kernels_would_trust_are_refused():
    """A narrower X_val made the compiled kernel read and write past its rows (the process aborted at exit), and
    row indices out of range crashed it (segmentation fault): both are DataErrors now."""
    from lrsearch.exceptions import DataError
    from lrsearch.finder import range_test
    from lrsearch.nn import Trainer

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 10)), rng.integers(0, 3, 60)
    tr = Trainer(X, y, hidden=(8,), seed=0)
    for width in (5, 20):
        with pytest.raises(DataError, match=f"X_val has {width} columns but the network was built for 10"):
            tr.evaluate(rng.normal(size=(7, width)), rng.integers(0, 3, 7))
        with pytest.raises(DataError, match="columns"):
            range_test(tr, num_iter=5, X_val=rng.normal(size=(7, width)), y_val=rng.integers(0, 3, 7))
    for bad in (np.arange(60, 92), np.arange(-32, 0)):
        with pytest.raises(DataError, match="row indices must lie in 0..59"):
            tr.run_steps(bad, np.full(1, 0.1))
    reg = Trainer(X, rng.normal(size=(60, 2)), task="regression", hidden=(8,), seed=0)
    with pytest.raises(DataError, match="y_val has 1 outputs but the network has 2"):
        reg.evaluate(X[:5], np.zeros(5))


def test_probes_that_learn_nothing_say_the_suggestion_is_rough():
    """Labels independent of X: the probes' held-out loss is chance level, and the rate they pick is arbitrary."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(400, 5)), rng.integers(0, 2, 400)
    res = find_lr(X, y, hidden=(16,), optimizer="sgd", seed=0)
    assert any("no better than a constant answer's" in w for w in res.warnings)
    signal = find_lr(X, (X[:, 0] > 0).astype(int), hidden=(16,), optimizer="sgd", seed=0)
    assert not any("no better than a constant" in w for w in signal.warnings)


def test_constant_loss_is_the_class_prior_or_the_mean():
    from lrsearch.finder import constant_loss

    y_train, y_held = np.array([0, 0, 0, 1]), np.array([0, 1])
    prior = np.array([4.0, 2.0]) / 6.0  # add-one smoothed counts
    assert constant_loss(y_train, y_held, "classification", 2) == pytest.approx(-np.mean(np.log(prior[y_held])))
    assert constant_loss(np.array([1.0, 3.0]), np.array([0.0, 4.0]), "regression", None) == pytest.approx(4.0)


def test_copies_of_a_row_stay_on_one_side_of_the_probes_hold_out():
    """200 rows repeated 5 times: the held-out fifth held copies of training rows and ranked memorising."""
    from lrsearch.finder import _prepare

    rng = np.random.default_rng(1)
    base_X, base_y = rng.normal(size=(200, 4)), rng.integers(0, 3, 200)
    X, y = np.repeat(base_X, 5, axis=0), np.repeat(base_y, 5)
    data = _prepare(X, y, None, 0, "float64")
    held = {r.tobytes() for r in data.X_held}
    assert held and not held & {r.tobytes() for r in data.X_probe}
    assert abs(len(data.X_held) - 200) <= 5  # about a fifth, whole groups
    distinct = _prepare(base_X, base_y, None, 0, "float64")  # no copies: the plain seeded fifth, as before
    perm = np.random.default_rng([0, 2]).permutation(200)
    np.testing.assert_array_equal(distinct.X_held, base_X[np.sort(perm[:40])])


def test_warnings_for_answers_the_test_did_not_measure(caplog):
    from lrsearch.data import load

    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, 20)  # under 25 rows: no probes, the edge rule
    res = find_lr(X, y, hidden=(4,), optimizer="adam", end_lr=1e-3, seed=0)
    assert res.rule == "edge" and any("set by the ladder's end" in w for w in res.warnings)
    one_class = find_lr(rng.normal(size=(40, 3)), np.full(40, 2.0), hidden=(4,), repeats=1, probes=0, num_iter=30)
    assert any("the targets hold one class" in w for w in one_class.warnings)
    linear = find_lr(X, y, hidden=(4,), mode="linear", end_lr=1e4, repeats=1, probes=0, num_iter=40)
    assert linear.stop_index < 10 and any("lowering start_lr does not help" in w for w in linear.warnings)
    long_run = find_lr("iris", hidden=(8,), optimizer="adam", epochs=2000, seed=0)
    assert any("was measured for 60 to 940 steps" in w for w in long_run.warnings)
    ds = load("iris", val_size=0.02)  # 3 validation rows: too few to rank probes
    tiny = find_lr(ds, hidden=(8,), optimizer="adam", repeats=1)
    assert tiny.rule == "edge" and any("too few to rank the probes" in w for w in tiny.warnings)


def test_one_large_group_of_copies_does_not_empty_the_hold_out():
    """60 of 200 rows copies of one row: the hold-out stopped at that group and held out 0 to 5 rows."""
    from lrsearch.finder import _prepare

    rng = np.random.default_rng(0)
    for seed in range(8):
        X, y = rng.normal(size=(200, 3)), rng.integers(0, 2, 200)
        X[:60], y[:60] = X[0], y[0]
        data = _prepare(X, y, None, seed, "float64")
        assert data.X_held is not None and len(data.X_held) == 40, seed
        assert not {r.tobytes() for r in data.X_held} & {r.tobytes() for r in data.X_probe}
    X = np.repeat(rng.normal(size=(3, 2)), 20, axis=0)  # three distinct rows, 20 copies each: no 12-row fifth fits
    data = _prepare(X, np.repeat([0, 1, 0], 20), None, 0, "float64")
    assert data.X_held is None and "copies of a few distinct ones" in data.no_held
