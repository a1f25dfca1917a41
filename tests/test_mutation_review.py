"""Four bugs a hand mutation review (session 6) showed no test would catch, each checked against an independent
reference: a stable NumPy softmax, Optuna's recorded distribution, the training rows' own statistics, and a
NumPy training replayed epoch by epoch on its permutations."""
from __future__ import annotations

import naive as nv
import numpy as np
import optuna
import pandas as pd
import pytest

import lrsearch.nn as core
from lrsearch.data import load
from lrsearch.search import default_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


# K10: softmax / log-sum-exp without max subtraction
def test_cross_entropy_is_finite_and_exact_for_huge_logits():
    """Logits of +-800 and +-1600 overflow exp() unless the row max is subtracted."""
    X = np.array([[1.0], [2.0]])
    coefs, intercepts = [np.array([[800.0, -800.0]])], [np.array([0.0, 0.0])]
    y = np.array([0, 1])
    value, gc, gb = core.loss_and_grad(X, y, coefs, intercepts, task="classification",
                                       activation="relu", n_classes=2)
    ref_value, ref_c, ref_b = nv.loss_and_grad(X, y, coefs, intercepts, task="classification",
                                               activation="relu")
    assert np.isfinite(value) and value == pytest.approx(ref_value, rel=1e-12)  # (0 + 3200) / 2
    np.testing.assert_allclose(np.r_[gc[0].ravel(), gb[0]], np.r_[ref_c[0].ravel(), ref_b[0]],
                               rtol=1e-12, atol=1e-15)
    loss, proba = core.evaluate_output(X, y, coefs, intercepts, task="classification",
                                       activation="relu")
    assert loss == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(proba, nv.softmax(X @ coefs[0] + intercepts[0]), atol=1e-15)


# P1: the base rate is searched log-uniformly
def test_lr_is_sampled_log_uniformly():
    space = default_space(30, optimizers=["sgd"], schedules=["constant"])  # lr in [1e-3, 1]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    lrs = []
    for _ in range(400):
        trial = study.ask()
        lrs.append(space.sample(trial)["lr"])
        assert trial.distributions["lr_sgd"].log
        study.tell(trial, 0.0)
    # log-uniform on [1e-3, 1]: half the draws below the geometric mean 10**-1.5 (linear: ~3%)
    frac = np.mean(np.asarray(lrs) < 10 ** -1.5)
    assert 0.4 < frac < 0.6, frac


# D2: the categorical path's scaler is fitted on the training rows only
def test_scaler_with_categorical_columns_is_fitted_on_training_rows_only():
    n = 200
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"id": np.arange(n, dtype=np.float64), "v": rng.normal(5.0, 3.0, n),
                      "colour": rng.choice(["red", "green", "blue"], n)})
    y = np.arange(n) % 2
    ds = load((X, y))
    num = ds.x_scaler.named_transformers_["num"]
    # recover the training rows' ids from the unscaled id column
    train_ids = np.rint(ds.X_train[:, 0] * num.scale_[0] + num.mean_[0]).astype(int)
    assert len(set(train_ids)) == ds.X_train.shape[0]
    np.testing.assert_allclose(num.mean_, X[["id", "v"]].to_numpy()[train_ids].mean(axis=0))
    np.testing.assert_allclose(ds.X_train[:, :2].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.X_train[:, :2].std(axis=0), 1.0, atol=1e-4)


# T1: shuffle draws a new permutation every epoch from one default_rng(seed) stream
def test_shuffle_permutes_each_epoch_from_one_generator():
    X, y = nv.make_data("classification", n_rows=37, n_features=5, n_outputs=3, seed=0)
    coefs, intercepts = nv.init_params((5, 6, 3), seed=5)
    epochs, lr, seed = 3, 0.3, 4
    result = core.train(X, y, hidden=(6,), activation="tanh", optimizer="sgd", lr=lr, epochs=epochs,
                        batch_size=8, shuffle=True, seed=seed, dtype="float64",
                        init=nv.copy_params(coefs, intercepts))
    # plain SGD has no state, so epoch-by-epoch naive runs on the permuted rows chain exactly
    rng = np.random.default_rng(seed)
    c, b = coefs, intercepts
    for _ in range(epochs):
        perm = rng.permutation(len(X))
        ref = nv.naive_train(X[perm], y[perm], c, b, task="classification", activation="tanh",
                             optimizer="sgd", lr_per_step=np.full(5, lr), batch_size=8, epochs=1,
                             n_classes=3)
        c, b = ref.coefs, ref.intercepts
    np.testing.assert_allclose(np.concatenate([np.ravel(a) for a in result.coefs]),
                               np.concatenate([np.ravel(a) for a in c]), rtol=1e-9, atol=1e-12)
