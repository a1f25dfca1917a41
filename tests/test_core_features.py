"""Gradient transforms, layer-wise rates, determinism, divergence, callbacks
and plain learning, each checked against tests/naive.py or real data."""

from __future__ import annotations

import numpy as np
import pytest

try:
    from . import naive as nv
except ImportError:
    import naive as nv

import lrsearch.nn as core

BATCH, EPOCHS = 8, 3
STEPS = EPOCHS * 5  # 37 rows


def _flat(arrays):
    return np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])


def _problem(task="classification", hidden=(6, 5), seed=0):
    k = 3 if task == "classification" else 2
    X, y = nv.make_data(task, n_rows=37, n_features=5, n_outputs=k, seed=seed)
    coefs, intercepts = nv.init_params((5, *hidden, k), seed=seed + 5)
    return X, y, coefs, intercepts


def _both(optimizer, lr, *, task="classification", hidden=(6, 5), activation="tanh",
          optimizer_params=None, **features):
    """Run the core (float64, fixed init, no shuffle) and naive on the same problem."""
    X, y, coefs, intercepts = _problem(task, hidden)
    result = core.train(X, y, task=task, hidden=hidden, activation=activation,
                        optimizer=optimizer, lr=lr, optimizer_params=optimizer_params,
                        epochs=EPOCHS, batch_size=BATCH, shuffle=False, dtype="float64",
                        init=nv.copy_params(coefs, intercepts), **features)
    assert result.status == "completed", result.reason
    lrs = np.asarray(result.lrs, dtype=np.float64)
    np.testing.assert_array_equal(lrs, np.full(STEPS, lr))
    ref = nv.naive_train(X, y, coefs, intercepts, task=task, activation=activation,
                         optimizer=optimizer, lr_per_step=lrs, optimizer_params=optimizer_params,
                         batch_size=BATCH, epochs=EPOCHS, **features)
    plain = nv.naive_train(X, y, coefs, intercepts, task=task, activation=activation,
                           optimizer=optimizer, lr_per_step=lrs,
                           optimizer_params=optimizer_params, batch_size=BATCH, epochs=EPOCHS)
    return result, ref, plain


def _assert_same(result, ref, plain):
    core_flat = _flat(result.coefs + result.intercepts)
    ref_flat = _flat(ref.coefs + ref.intercepts)
    np.testing.assert_allclose(core_flat, ref_flat, rtol=1e-9, atol=1e-12)
    # the feature made a difference the test can see
    assert not np.allclose(ref_flat, _flat(plain.coefs + plain.intercepts), rtol=1e-6,
                           atol=1e-9)


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.5), ("adam", 0.01)])
def test_clip_value(optimizer, lr):
    result, ref, plain = _both(optimizer, lr, clip_value=0.02)
    assert all(ref.clip_value_active), "clip_value should bite at every step here"
    _assert_same(result, ref, plain)


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.5), ("momentum", 0.1), ("rmsprop", 0.01)])
def test_clip_norm_active(optimizer, lr):
    result, ref, plain = _both(optimizer, lr, clip_norm=0.1)
    assert min(ref.grad_norms) > 0.1 + 1e-6 and all(ref.clip_norm_active)
    _assert_same(result, ref, plain)


def test_clip_norm_inactive_when_large():
    X, y, coefs, intercepts = _problem()
    result = core.train(X, y, hidden=(6, 5), activation="tanh", optimizer="sgd", lr=0.5,
                        epochs=EPOCHS, batch_size=BATCH, shuffle=False, dtype="float64",
                        init=nv.copy_params(coefs, intercepts), clip_norm=1e3)
    ref = nv.naive_train(X, y, coefs, intercepts, task="classification", activation="tanh",
                         optimizer="sgd", lr_per_step=np.full(STEPS, 0.5), batch_size=BATCH,
                         epochs=EPOCHS)  # no clipping at all
    np.testing.assert_allclose(_flat(result.coefs), _flat(ref.coefs), rtol=1e-9, atol=1e-12)


def test_clip_norm_partially_active():
    """A threshold between the smallest and largest gradient norm: some steps clip."""
    X, y, coefs, intercepts = _problem("regression")
    probe = nv.naive_train(X, y, coefs, intercepts, task="regression", activation="tanh",
                           optimizer="sgd", lr_per_step=np.full(STEPS, 0.1), batch_size=BATCH,
                           epochs=EPOCHS)
    threshold = float(np.median(probe.grad_norms))
    result, ref, plain = _both("sgd", 0.1, task="regression", clip_norm=threshold)
    assert any(ref.clip_norm_active) and not all(ref.clip_norm_active)
    _assert_same(result, ref, plain)


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.1), ("nesterov", 0.05), ("adagrad", 0.1)])
def test_normalize_grad(optimizer, lr):
    result, ref, plain = _both(optimizer, lr, normalize_grad=True)
    _assert_same(result, ref, plain)


@pytest.mark.parametrize("optimizer,lr,params", [
    ("sgd", 0.1, None),
    ("momentum", 0.05, {"weight_decay": 0.1}),
    ("adagrad", 0.1, {"lr_decay": 0.2}),
    ("rmsprop", 0.01, {"centered": True}),
    ("adamw", 0.01, {"weight_decay": 0.5}),
])
def test_layer_lrs(optimizer, lr, params):
    result, ref, plain = _both(optimizer, lr, optimizer_params=params, hidden=(6, 5),
                               layer_lrs=[0.5, 2.0, 0.25])
    _assert_same(result, ref, plain)


@pytest.mark.parametrize("optimizer", ["momentum", "adamw"])
def test_layer_lr_zero_freezes_layer(optimizer):
    """A zero multiplier freezes its layer (AdamW's decoupled decay included)."""
    result, ref, plain = _both(optimizer, 0.05, optimizer_params={"weight_decay": 0.1},
                               layer_lrs=[1.0, 0.0, 1.0])
    _assert_same(result, ref, plain)
    _, _, coefs, intercepts = _problem()
    np.testing.assert_array_equal(np.asarray(result.coefs[1], dtype=np.float64), coefs[1])
    np.testing.assert_array_equal(np.asarray(result.intercepts[1], dtype=np.float64),
                                  intercepts[1])
    assert not np.array_equal(np.asarray(result.coefs[0], dtype=np.float64), coefs[0])


def test_all_transforms_together():
    result, ref, plain = _both("adam", 0.02, optimizer_params={"weight_decay": 0.05},
                               clip_value=0.05, clip_norm=0.08, normalize_grad=True,
                               layer_lrs=[1.5, 0.5, 1.0])
    assert any(ref.clip_value_active) and any(ref.clip_norm_active)
    _assert_same(result, ref, plain)


# ---------------------------------------------------------------------------
# determinism, divergence, callbacks
# ---------------------------------------------------------------------------


def _seeded(seed, **kwargs):
    X, y, _, _ = _problem()
    return core.train(X, y, hidden=(7,), optimizer="adam", lr=0.01, epochs=3, batch_size=8,
                      shuffle=True, seed=seed, **kwargs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_is_bit_identical(dtype):
    a = _seeded(3, dtype=dtype)
    b = _seeded(3, dtype=dtype)
    for x, z in zip(a.coefs + a.intercepts, b.coefs + b.intercepts):
        np.testing.assert_array_equal(x, z)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    c = _seeded(4, dtype=dtype)
    assert not np.array_equal(_flat(a.coefs), _flat(c.coefs))
    assert not np.array_equal(a.train_loss, c.train_loss)


def test_seed_changes_shuffle_alone():
    """With a fixed init the seed still matters through the batch order."""
    X, y, coefs, intercepts = _problem()
    runs = [core.train(X, y, hidden=(6, 5), optimizer="sgd", lr=0.1, epochs=2, batch_size=8,
                       shuffle=True, seed=s, dtype="float64",
                       init=nv.copy_params(coefs, intercepts)) for s in (0, 0, 1)]
    np.testing.assert_array_equal(_flat(runs[0].coefs), _flat(runs[1].coefs))
    assert not np.array_equal(_flat(runs[0].coefs), _flat(runs[2].coefs))


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_absurd_rate_diverges_without_exception(task, dtype):
    X, y, _, _ = _problem(task)
    result = core.train(X, y, task=task, hidden=(7,), optimizer="sgd", lr=1e6, epochs=5,
                        batch_size=8, shuffle=False, dtype=dtype)
    assert result.status == "diverged"
    assert isinstance(result.reason, str) and result.reason
    assert result.diverged_step is not None and 0 <= result.diverged_step < 5 * 5
    assert result.epochs_run < 5
    for a in result.coefs + result.intercepts:
        assert np.all(np.isfinite(a))


@pytest.mark.parametrize("stop_after", [1, 2])
def test_callback_true_stops(stop_after):
    X, y, _, _ = _problem()
    calls = []

    def callback(epoch, result_so_far):
        calls.append(epoch)
        return len(calls) >= stop_after

    result = core.train(X, y, hidden=(7,), optimizer="sgd", lr=0.1, epochs=10, batch_size=8,
                        callback=callback)
    assert result.status == "stopped"
    assert isinstance(result.reason, str) and result.reason
    assert len(calls) == stop_after
    assert result.epochs_run == stop_after and result.steps_run == stop_after * 5
    for a in result.coefs + result.intercepts:
        assert np.all(np.isfinite(a))


def test_callback_false_runs_to_completion():
    X, y, _, _ = _problem()
    calls = []
    result = core.train(X, y, hidden=(7,), optimizer="sgd", lr=0.1, epochs=4, batch_size=8,
                        callback=lambda epoch, r: calls.append(epoch) and False)
    assert result.status == "completed" and result.reason is None
    assert len(calls) == 4 and result.epochs_run == 4 and result.steps_run == 20


# ---------------------------------------------------------------------------
# it learns
# ---------------------------------------------------------------------------


def test_learns_iris():
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    result = core.train(Xtr, ytr, hidden=(32,), optimizer="adam", lr=1e-2, epochs=100, seed=0)
    assert result.status == "completed", result.reason
    assert result.train_loss[-1] < 0.5 * result.train_loss[0]
    pred = nv.predict(Xte, [np.asarray(c, dtype=np.float64) for c in result.coefs],
                      [np.asarray(b, dtype=np.float64) for b in result.intercepts],
                      task="classification", activation="relu")
    assert np.mean(pred == yte) >= 0.9


def test_learns_diabetes():
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    xs = StandardScaler().fit(Xtr)
    mu, sd = ytr.mean(), ytr.std()
    Xtr, Xte = xs.transform(Xtr), xs.transform(Xte)
    ytr, yte = (ytr - mu) / sd, (yte - mu) / sd
    result = core.train(Xtr, ytr, task="regression", hidden=(32,), optimizer="adam", lr=1e-2,
                        epochs=30, seed=0)
    assert result.status == "completed", result.reason
    pred = nv.predict(Xte, [np.asarray(c, dtype=np.float64) for c in result.coefs],
                      [np.asarray(b, dtype=np.float64) for b in result.intercepts],
                      task="regression", activation="relu").ravel()
    mse = np.mean((pred - yte) ** 2)
    baseline = np.mean((ytr.mean() - yte) ** 2)
    assert mse < 0.8 * baseline
