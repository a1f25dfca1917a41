"""Schedules: `lrsearch.nn.schedules.schedule_rates` and `train(...).lrs`
against the closed forms in tests/naive.py (warm-up in front of each), plus
reduce-on-plateau recomputed from the run's own losses with torch's rule."""

from __future__ import annotations

import numpy as np
import pytest

try:
    from . import naive as nv
except ImportError:
    import naive as nv

import lrsearch.nn as core
from lrsearch.exceptions import ConfigError
from lrsearch.nn.schedules import make_schedule, schedule_rates

SPE, EPOCHS, LR = 5, 8, 0.1  # steps per epoch, epochs, base rate

SCHEDULE_PARAMS = [
    ("constant", {}),
    ("linear", {}),
    ("linear", {"start_factor": 0.5, "end_factor": 0.1, "total_iters": 4}),
    ("exponential", {}),
    ("exponential", {"gamma": 0.8}),
    ("inverse_time", {}),
    ("inverse_time", {"decay_rate": 0.5}),
    ("step", {}),
    ("step", {"step_size": 3, "gamma": 0.3}),
    ("cosine", {}),
    ("cosine", {"T_max": 5, "eta_min": 0.01}),
    ("one_cycle", {}),
    ("one_cycle", {"pct_start": 0.4, "div_factor": 10.0, "final_div_factor": 100.0}),
]
# (interval, warmup, warmup_start_factor); interval None = not passed (the default)
WARMUPS = [
    (None, 0, 0.0),
    ("epoch", 0, 0.0),
    ("step", 0, 0.0),
    ("epoch", 2, 0.1),
    ("epoch", 3, 0.25),
    ("step", 3, 0.05),
    ("step", 7, 0.5),
]


def _id(value):
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "defaults"
    return str(value)


def _extra(interval, warmup, start):
    extra = {}
    if interval is not None:
        extra["interval"] = interval
    if warmup:
        extra["warmup"] = warmup
        extra["warmup_start_factor"] = start
    return extra


@pytest.mark.parametrize("interval,warmup,start", WARMUPS, ids=_id)
@pytest.mark.parametrize("name,params", SCHEDULE_PARAMS, ids=_id)
def test_schedule_rates_match_closed_form(name, params, interval, warmup, start):
    extra = _extra(interval, warmup, start)
    if name == "one_cycle" and warmup:  # its first phase is its warm-up
        with pytest.raises(ConfigError, match="one_cycle' warms up on its own"):
            schedule_rates(name, LR, steps_per_epoch=SPE, epochs=EPOCHS, **params, **extra)
        return
    got = np.asarray(schedule_rates(name, LR, steps_per_epoch=SPE, epochs=EPOCHS,
                                    **params, **extra), dtype=np.float64)
    expected = nv.schedule_rates(name, LR, steps_per_epoch=SPE, epochs=EPOCHS, **params,
                                 **extra)
    assert got.shape == (SPE * EPOCHS,)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)

    effective = interval or ("step" if name == "one_cycle" else "epoch")
    per_epoch = got.reshape(EPOCHS, SPE)
    if effective == "epoch":
        assert np.all(per_epoch == per_epoch[:, :1]), "rate must be constant within an epoch"
    if warmup:
        unit = got[::SPE] if effective == "epoch" else got
        assert unit[0] == pytest.approx(LR * start, abs=1e-15)


def test_closed_forms_are_not_constant():
    """Guard against a degenerate test grid: each non-constant schedule varies."""
    for name, params in SCHEDULE_PARAMS:
        if name == "constant":
            continue
        for interval in ("epoch", "step"):
            rates = nv.schedule_rates(name, LR, steps_per_epoch=SPE, epochs=EPOCHS,
                                      interval=interval, **params)
            if name == "step" and not params and interval == "epoch":
                continue  # step_size=10 > 8 epochs: constant by design
            assert np.ptp(rates) > 1e-3 * LR, (name, params, interval)


def test_warmup_then_schedule_by_hand():
    """One case written out: 2 epochs of warm-up from 0.5*lr, then exponential."""
    got = np.asarray(schedule_rates("exponential", 1.0, steps_per_epoch=2, epochs=5,
                                    gamma=0.5, warmup=2, warmup_start_factor=0.5))
    expected = np.repeat([0.5, 0.75, 1.0, 0.5, 0.25], 2)
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_linear_and_cosine_horizon_is_rest_of_run_after_warmup():
    # linear: N = 8 - 2 = 6 epochs; rates lr*(1 - t/6) for t = 0..5
    got = np.asarray(schedule_rates("linear", 1.0, steps_per_epoch=1, epochs=8, warmup=2))
    np.testing.assert_allclose(got[2:], 1.0 - np.arange(6) / 6.0, rtol=1e-14, atol=1e-15)
    got = np.asarray(schedule_rates("cosine", 1.0, steps_per_epoch=1, epochs=8, warmup=2))
    np.testing.assert_allclose(got[2:], (1 + np.cos(np.pi * np.arange(6) / 6.0)) / 2,
                               rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("interval", ["step", "epoch"])
@pytest.mark.parametrize("params", [{}, {"pct_start": 0.25, "div_factor": 10.0,
                                         "final_div_factor": 100.0}], ids=_id)
def test_one_cycle_matches_torch(params, interval):
    torch = pytest.importorskip("torch")
    spe, epochs, max_lr = 7, 9, 0.3
    total = spe * epochs if interval == "step" else epochs
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=max_lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=total,
                                                anneal_strategy="cos", three_phase=False,
                                                cycle_momentum=False, **params)
    torch_rates = []
    for _ in range(total):
        torch_rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    if interval == "epoch":
        torch_rates = np.repeat(torch_rates, spe)
    got = schedule_rates("one_cycle", max_lr, steps_per_epoch=spe, epochs=epochs,
                         interval=interval, **params)
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), torch_rates, rtol=1e-12)


# ---------------------------------------------------------------------------
# train(...).lrs
# ---------------------------------------------------------------------------


def _tiny(task="classification", seed=0, n_rows=37):
    return nv.make_data(task, n_rows=n_rows, n_features=5, n_outputs=3, seed=seed)


TRAIN_CASES = [
    ("constant", {}),
    ("linear", {"end_factor": 0.2}),
    ("exponential", {"gamma": 0.7, "warmup": 1, "warmup_start_factor": 0.1}),
    ("inverse_time", {"decay_rate": 0.5, "interval": "step"}),
    ("step", {"step_size": 2, "gamma": 0.5, "warmup": 2}),
    ("cosine", {"interval": "step", "warmup": 4, "warmup_start_factor": 0.2}),
    ("one_cycle", {}),
    ("one_cycle", {"interval": "epoch", "pct_start": 0.5}),
]


@pytest.mark.parametrize("name,params", TRAIN_CASES, ids=_id)
def test_train_lrs_equal_closed_form(name, params):
    X, y = _tiny()
    result = core.train(X, y, hidden=(7,), optimizer="sgd", lr=0.05, schedule=name,
                        schedule_params=dict(params), epochs=6, batch_size=8, shuffle=False)
    assert result.status == "completed", result.reason
    expected = nv.schedule_rates(name, 0.05, steps_per_epoch=5, epochs=6, **params)
    np.testing.assert_allclose(np.asarray(result.lrs, dtype=np.float64), expected, rtol=1e-12)


def test_train_lrs_are_before_layer_multipliers_and_adagrad_decay():
    X, y = _tiny()
    result = core.train(X, y, hidden=(7,), optimizer="adagrad", lr=0.05,
                        optimizer_params={"lr_decay": 0.3}, layer_lrs=[0.5, 3.0],
                        schedule="exponential", schedule_params={"gamma": 0.9},
                        epochs=4, batch_size=8, shuffle=False)
    expected = nv.schedule_rates("exponential", 0.05, steps_per_epoch=5, epochs=4, gamma=0.9)
    np.testing.assert_allclose(np.asarray(result.lrs, dtype=np.float64), expected, rtol=1e-12)


def test_scheduled_training_matches_naive_updates():
    """The scheduled rates are the ones actually used by the optimizer steps."""
    X, y = _tiny("regression")
    coefs, intercepts = nv.init_params((5, 7, 3), seed=4)
    kwargs = dict(task="regression", activation="tanh", optimizer="momentum")
    result = core.train(X, y, hidden=(7,), lr=0.05, schedule="one_cycle", epochs=3,
                        batch_size=8, shuffle=False, dtype="float64",
                        init=nv.copy_params(coefs, intercepts), **kwargs)
    expected = nv.schedule_rates("one_cycle", 0.05, steps_per_epoch=5, epochs=3)
    ref = nv.naive_train(X, y, coefs, intercepts, lr_per_step=expected, batch_size=8,
                         epochs=3, **kwargs)
    flat = lambda a: np.concatenate([np.ravel(x) for x in a])  # noqa: E731
    np.testing.assert_allclose(flat(result.coefs), flat(ref.coefs), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("params", [{}, {"pct_start": 0.4, "base_momentum": 0.8, "max_momentum": 0.99}], ids=_id)
def test_one_cycle_momentum_is_torchs_closed_form(params):
    spe, epochs = 5, 4
    got = make_schedule("one_cycle", {"cycle_momentum": True, **params}).momenta(spe, epochs)
    expected = [nv.one_cycle_momentum(t, spe * epochs, **params) for t in range(spe * epochs)]
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    assert make_schedule("one_cycle", params).momenta(spe, epochs) is None  # off by default
    assert make_schedule("cosine").momenta(spe, epochs) is None


@pytest.mark.parametrize("optimizer,opt_params", [("momentum", None), ("sgd", None), ("nesterov", None),
                                                  ("rmsprop", {"momentum": 0.5}), ("adam", None), ("adamw", None)])
def test_cycled_momentum_training_matches_naive_updates(optimizer, opt_params):
    """Each step uses the scheduled momentum / beta1 (torch's OneCycleLR with cycle_momentum=True)."""
    X, y = _tiny("regression")
    coefs, intercepts = nv.init_params((5, 7, 3), seed=4)
    lr = 0.05 if optimizer in ("momentum", "sgd", "nesterov") else 0.01
    kwargs = dict(task="regression", activation="tanh", optimizer=optimizer, optimizer_params=opt_params)
    sp = {"cycle_momentum": True, "base_momentum": 0.7, "max_momentum": 0.95}
    result = core.train(X, y, hidden=(7,), lr=lr, schedule="one_cycle", schedule_params=sp, epochs=3,
                        batch_size=8, shuffle=False, dtype="float64", init=nv.copy_params(coefs, intercepts), **kwargs)
    rates = nv.schedule_rates("one_cycle", lr, steps_per_epoch=5, epochs=3)
    moms = [nv.one_cycle_momentum(t, 15, base_momentum=0.7, max_momentum=0.95) for t in range(15)]
    ref = nv.naive_train(X, y, coefs, intercepts, lr_per_step=rates, batch_size=8, epochs=3,
                         momentum_per_step=moms, **kwargs)
    plain = nv.naive_train(X, y, coefs, intercepts, lr_per_step=rates, batch_size=8, epochs=3, **kwargs)
    flat = lambda a: np.concatenate([np.ravel(x) for x in a])  # noqa: E731
    np.testing.assert_allclose(flat(result.coefs), flat(ref.coefs), rtol=1e-9, atol=1e-12)
    assert not np.allclose(flat(ref.coefs), flat(plain.coefs), rtol=1e-6)  # cycling made a difference


def test_cycled_momentum_with_adagrad_is_refused_as_torch_does():
    X, y = _tiny("regression")
    with pytest.raises(ConfigError, match="adagrad"):
        core.train(X, y, task="regression", hidden=(4,), optimizer="adagrad", lr=0.1, schedule="one_cycle",
                   schedule_params={"cycle_momentum": True}, epochs=1)
    with pytest.raises(ConfigError, match="base_momentum"):
        make_schedule("one_cycle", {"base_momentum": 0.96})


def test_cycled_momentum_matches_torch_training():
    """The whole run against torch: SGD(momentum) and Adam with OneCycleLR(cycle_momentum=True)."""
    torch = pytest.importorskip("torch")
    X, y = _tiny("regression")
    coefs, intercepts = nv.init_params((5, 7, 3), seed=4)
    for optimizer, lr in (("momentum", 0.05), ("adam", 0.01)):
        result = core.train(X, y, task="regression", activation="tanh", hidden=(7,), optimizer=optimizer, lr=lr,
                            schedule="one_cycle", schedule_params={"cycle_momentum": True}, epochs=3, batch_size=8,
                            shuffle=False, dtype="float64", init=nv.copy_params(coefs, intercepts))
        torch.manual_seed(0)
        params = []
        for W, b in zip(coefs, intercepts):
            params += [torch.nn.Parameter(torch.tensor(W, dtype=torch.float64)),
                       torch.nn.Parameter(torch.tensor(b, dtype=torch.float64))]
        opt = (torch.optim.SGD(params, lr=lr, momentum=0.9) if optimizer == "momentum"
               else torch.optim.Adam(params, lr=lr))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=15, cycle_momentum=True)
        Xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        for _ in range(3):
            for s in range(0, len(X), 8):
                out = torch.tanh(Xt[s:s + 8] @ params[0] + params[1]) @ params[2] + params[3]
                loss = ((out - yt[s:s + 8]) ** 2).mean()  # the core's squared error: mean over every element
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        got = np.concatenate([np.ravel(c) for c in result.coefs])
        ref = np.concatenate([p.detach().numpy().ravel() for p in params[0::2]])
        np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-10)


# ---------------------------------------------------------------------------
# reduce-on-plateau
# ---------------------------------------------------------------------------

PLATEAU_CASES = [
    {"factor": 0.5, "patience": 1, "threshold": 0.05},
    {"factor": 0.5, "patience": 0, "threshold": 0.1, "cooldown": 2},
    {"factor": 0.3, "patience": 1, "threshold": 0.2, "min_lr": 0.01},
]


def _plateau_run(params, validation=True, epochs=14, lr=0.1, **extra):
    X, y = _tiny(seed=3, n_rows=60)
    Xtr, ytr, Xva, yva = X[:37], y[:37], X[37:], y[37:]
    kwargs = dict(X_val=Xva, y_val=yva) if validation else {}
    result = core.train(Xtr, ytr, hidden=(7,), activation="tanh", optimizer="sgd", lr=lr,
                        schedule="plateau", schedule_params=dict(params, **extra),
                        epochs=epochs, batch_size=8, shuffle=False, seed=0, **kwargs)
    assert result.status == "completed", result.reason
    return result


@pytest.mark.parametrize("params", PLATEAU_CASES, ids=_id)
@pytest.mark.parametrize("validation", [True, False], ids=["val_loss", "train_loss"])
def test_plateau_follows_torch_rule(params, validation):
    result = _plateau_run(params, validation)
    metric = result.val_loss if validation else result.train_loss
    assert np.all(np.isfinite(metric))
    expected = nv.plateau_epoch_rates(0.1, metric, **params)
    assert expected.min() < 0.1, "the test needs at least one reduction"
    got = np.asarray(result.lrs, dtype=np.float64)
    assert got.shape == (14 * 5,)
    np.testing.assert_allclose(got, np.repeat(expected, 5), rtol=1e-12)
    if "min_lr" in params:
        assert got.min() >= params["min_lr"] - 1e-15


def test_plateau_defaults_keep_rate_for_ten_bad_epochs():
    """patience=10 by default: at most one reduction (x0.1) in 14 epochs."""
    result = _plateau_run({})
    expected = nv.plateau_epoch_rates(0.1, result.val_loss)
    np.testing.assert_allclose(np.asarray(result.lrs, dtype=np.float64),
                               np.repeat(expected, 5), rtol=1e-12)


def test_plateau_with_warmup():
    """Warm-up epochs first; then the plateau rule starts from lr, watching the
    losses of the epochs after warm-up."""
    params = {"factor": 0.5, "patience": 1, "threshold": 0.05}
    result = _plateau_run(params, warmup=3, warmup_start_factor=0.1)
    expected = nv.plateau_epoch_rates(0.1, result.val_loss, warmup=3, warmup_start_factor=0.1,
                                      **params)
    assert expected[3:].min() < 0.1
    got = np.asarray(result.lrs, dtype=np.float64)
    np.testing.assert_allclose(got[: 3 * 5], np.repeat(expected[:3], 5), rtol=1e-12)
    np.testing.assert_allclose(got, np.repeat(expected, 5), rtol=1e-12)


def test_naive_plateau_rule_by_hand():
    """The reference itself on a hand-made metric sequence (torch semantics)."""
    metrics = [1.0, 0.5, 0.6, 0.7, 0.4, 0.45, 0.46, 0.47, 0.48]
    rates = nv.plateau_epoch_rates(1.0, metrics, factor=0.5, patience=1, threshold=0.0)
    # bad epochs after 0.5: 0.6 (1), 0.7 (2 > 1: reduce after epoch 3),
    # 0.4 improves, 0.45 (1), 0.46 (2: reduce after epoch 6), 0.47 (1)
    np.testing.assert_allclose(rates, [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
    # cooldown: bad epochs during cooldown are ignored
    rates = nv.plateau_epoch_rates(1.0, [1.0, 2, 2, 2, 2, 2, 2], factor=0.5, patience=0,
                                   cooldown=2)
    np.testing.assert_allclose(rates, [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
    # min_lr floors the rate
    rates = nv.plateau_epoch_rates(1.0, [1.0, 2, 2, 2], factor=0.1, patience=0, min_lr=0.05)
    np.testing.assert_allclose(rates, [1, 1, 0.1, 0.05])


@pytest.mark.parametrize("params", [{}, {"pct_start": 0.4, "base_momentum": 0.8, "max_momentum": 0.99}], ids=_id)
def test_one_cycle_momentum_per_epoch_runs_on_the_rates_clock(params):
    """interval='epoch': the momentum is torch's closed form over *epochs*, held within each, like the rate."""
    spe, epochs = 5, 6
    spec = make_schedule("one_cycle", {"cycle_momentum": True, "interval": "epoch", **params})
    got = spec.momenta(spe, epochs)
    expected = np.repeat([nv.one_cycle_momentum(t, epochs, **params) for t in range(epochs)], spe)
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    rates = spec.rates(0.1, spe, epochs).reshape(epochs, spe)
    assert np.all(got.reshape(epochs, spe) == got.reshape(epochs, spe)[:, :1])  # constant within an epoch
    assert np.argmin(got[::spe]) == np.argmax(rates[:, 0])  # lowest momentum where the rate peaks


def test_cycled_momentum_per_epoch_matches_torch():
    torch = pytest.importorskip("torch")
    spe, epochs = 5, 6
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs, cycle_momentum=True)
    moms = []
    for _ in range(epochs):
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    got = make_schedule("one_cycle", {"cycle_momentum": True, "interval": "epoch"}).momenta(spe, epochs)
    np.testing.assert_allclose(got, np.repeat(moms, spe), rtol=1e-12)


def test_cosine_eta_min_above_lr_rises_to_it_as_torch():
    """eta_min is an absolute rate: above the base rate the cosine goes *up* to it (torch's formula)."""
    got = np.asarray(schedule_rates("cosine", 0.01, steps_per_epoch=1, epochs=5, eta_min=0.05))
    expected = [nv.main_schedule_rate("cosine", 0.01, t, 5, eta_min=0.05) for t in range(5)]
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    assert np.all(np.diff(got) > 0)


def test_nesterov_preset_refuses_nesterov_false():
    with pytest.raises(ConfigError, match="optimizer 'momentum'"):
        core.train(np.zeros((4, 2)), np.array([0, 1, 0, 1]), hidden=(2,), optimizer="nesterov",
                   optimizer_params={"nesterov": False}, lr=0.1, epochs=1)


def test_a_warmup_as_long_as_the_run_is_refused():
    """A warm-up that never ends would never train at lr (cosine, warmup 50, 3 epochs stayed at 4e-5)."""
    from lrsearch.exceptions import ConfigError
    from lrsearch.nn import train

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    with pytest.raises(ConfigError, match="warmup=3 epochs is not shorter than the run .3 epochs"):
        train(X, y, hidden=(4,), epochs=3, schedule="cosine", schedule_params={"warmup": 3})
    with pytest.raises(ConfigError, match="warmup=20 steps is not shorter than the run .20 steps"):
        train(X, y, hidden=(4,), epochs=2, batch_size=4, schedule="linear",
              schedule_params={"warmup": 20, "interval": "step"})  # fmt: skip
    res = train(X, y, hidden=(4,), epochs=3, schedule="cosine", schedule_params={"warmup": 2}, lr=0.1)
    assert res.lrs.max() == pytest.approx(0.1)  # it does reach lr


def test_a_study_whose_warmup_outlasts_its_epochs_is_refused(tmp_path, capsys):
    from lrsearch.cli import main

    spec = tmp_path / "s.toml"
    spec.write_text('[study]\ndata = "iris"\nepochs = 4\nn_trials = 2\n[space]\noptimizer = ["adam"]\n'
                    'schedule = ["constant"]\nwarmup = [0, 4]\n')  # fmt: skip
    assert main(["study", "--spec", str(spec), "--studies-dir", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "warmup reaches 4 epochs, not shorter than the study's 4 epochs" in err


def test_a_default_warmup_epoch_trains_at_a_third_of_lr():
    """torch's LinearLR starts at start_factor=1/3 (it refuses 0); a one-epoch warm-up stepped per epoch used to
    train its whole epoch at rate 0."""
    rates = make_schedule("cosine", {"warmup": 1}).rates(0.3, 2, 4)
    np.testing.assert_allclose(rates[:2], [0.1, 0.1])
    assert rates[2] == pytest.approx(0.3)
    # the closed form s + (1 - s) t / W with s = 1/3, W = 3
    np.testing.assert_allclose(make_schedule("constant", {"warmup": 3}).rates(0.3, 1, 4),
                               [0.3 / 3, 0.3 * 5 / 9, 0.3 * 7 / 9, 0.3])  # fmt: skip


def test_schedule_factors_outside_torchs_linearlr_ranges_are_refused():
    """torch's LinearLR refuses start_factor <= 0 or > 1 and end_factor outside [0, 1]; a factor of 0 trained a
    whole run (linear, start_factor=0) or a first warm-up epoch at rate 0, and said 'completed'."""
    for params, name in [({"start_factor": 0.0}, "start_factor"), ({"start_factor": 3.0}, "start_factor"),
                         ({"end_factor": 1.5}, "end_factor")]:  # fmt: skip
        with pytest.raises(ConfigError, match=f"{name}.*raise lr instead"):
            make_schedule("linear", params)
    with pytest.raises(ConfigError, match="warmup_start_factor"):
        make_schedule("cosine", {"warmup": 2, "warmup_start_factor": 0.0})
    # the edges of the ranges stay allowed
    rates = make_schedule("linear", {"start_factor": 1.0, "end_factor": 1.0}).rates(0.2, 1, 3)
    np.testing.assert_allclose(rates, [0.2, 0.2, 0.2])
    assert make_schedule("cosine", {"warmup": 2, "warmup_start_factor": 1.0}).rates(0.2, 1, 4)[0] == 0.2


def test_one_cycle_refuses_a_warm_up_on_the_command_line(capsys):
    """A warm-up climbed to lr, then one_cycle dropped the rate to lr/div_factor (a 25-fold cliff)."""
    from lrsearch.cli import main

    assert main(["train", "--data", "iris", "--schedule", "one_cycle", "--warmup", "2", "--epochs", "3"]) == 2
    err = capsys.readouterr().err
    assert "warms up on its own" in err and "pct_start" in err and "Traceback" not in err


def test_run_steps_with_cycled_momenta_keeps_the_optimizers_own():
    """The kernel writes each step's momentum into the trainer's hyperparameters; the optimizer's own value is put
    back, so a later run_steps(moms=None) trains as a fresh trainer does."""
    from lrsearch.nn import Trainer

    X, y = _tiny("regression")
    kw = dict(task="regression", hidden=(4,), optimizer="momentum", batch_size=8, seed=3, dtype="float64")
    a, b = Trainer(X, y, **kw), Trainer(X, y, **kw)
    order = np.arange(len(X))
    snap = a.snapshot()
    a.run_steps(order, np.full(5, 0.05), moms=np.full(5, 0.5))
    a.restore(snap)
    a.run_steps(order, np.full(5, 0.05))
    b.run_steps(order, np.full(5, 0.05))
    np.testing.assert_array_equal(a.theta, b.theta)
