"""Every optimizer and option of `lrsearch.nn.train` against the naive
torch.optim algorithms in tests/naive.py, over several steps so that the
optimizer state (momentum buffers, accumulators, step counters) matters."""

from __future__ import annotations

import numpy as np
import pytest

try:
    from . import naive as nv
except ImportError:
    import naive as nv

import lrsearch.nn as core

N_ROWS, N_FEATURES, BATCH, EPOCHS = 37, 5, 8, 3  # 5 steps per epoch, the last of 5 rows
STEPS = EPOCHS * -(-N_ROWS // BATCH)

LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.1, "rmsprop": 0.01,
      "adam": 0.01, "adamw": 0.01}

# (optimizer, optimizer_params): each option of the contract on its own, and a few together
CASES = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.7}),
    ("sgd", {"momentum": 0.7, "dampening": 0.4}),
    ("sgd", {"momentum": 0.7, "nesterov": True}),
    ("sgd", {"weight_decay": 0.1}),
    ("momentum", {}),
    ("momentum", {"momentum": 0.5}),
    ("momentum", {"dampening": 0.3}),
    ("momentum", {"weight_decay": 0.1}),
    ("nesterov", {}),
    ("nesterov", {"momentum": 0.6}),
    ("nesterov", {"weight_decay": 0.1}),
    ("adagrad", {}),
    ("adagrad", {"lr_decay": 0.2}),
    ("adagrad", {"initial_accumulator_value": 0.3}),
    ("adagrad", {"eps": 1e-2}),
    ("adagrad", {"weight_decay": 0.1}),
    ("adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-3,
                 "weight_decay": 0.05}),
    ("rmsprop", {}),
    ("rmsprop", {"alpha": 0.8}),
    ("rmsprop", {"eps": 1e-2}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"momentum": 0.6}),
    ("rmsprop", {"weight_decay": 0.1}),
    ("rmsprop", {"alpha": 0.9, "eps": 1e-3, "centered": True, "momentum": 0.6,
                 "weight_decay": 0.05}),
    ("adam", {}),
    ("adam", {"betas": (0.7, 0.9)}),
    ("adam", {"eps": 1e-2}),
    ("adam", {"weight_decay": 0.1}),
    ("adam", {"amsgrad": True, "betas": (0.9, 0.9)}),
    ("adamw", {}),
    ("adamw", {"weight_decay": 0.3}),
    ("adamw", {"weight_decay": 0.0}),
    ("adamw", {"betas": (0.7, 0.9), "eps": 1e-3}),
    ("adamw", {"amsgrad": True, "betas": (0.9, 0.9), "weight_decay": 0.1}),
]

# (task, outputs, hidden, activation)
PROBLEMS = {
    "clf": ("classification", 3, (6, 5), "relu"),
    "reg": ("regression", 2, (7,), "tanh"),
}


def _case_id(case):
    name, params = case
    return name + "".join(f"-{k}={v}" for k, v in params.items())


def _setup(problem, seed=0):
    task, k, hidden, activation = PROBLEMS[problem]
    X, y = nv.make_data(task, n_rows=N_ROWS, n_features=N_FEATURES, n_outputs=k, seed=seed)
    coefs, intercepts = nv.init_params((N_FEATURES, *hidden, k), seed=seed + 7)
    return task, k, hidden, activation, X, y, coefs, intercepts


def _core_train(problem, name, params, dtype="float64", lr=None, **extra):
    task, k, hidden, activation, X, y, coefs, intercepts = _setup(problem)
    init = nv.copy_params(coefs, intercepts)
    result = core.train(X, y, task=task, hidden=hidden, activation=activation, optimizer=name,
                        lr=LR[name] if lr is None else lr, optimizer_params=dict(params),
                        epochs=EPOCHS, batch_size=BATCH, shuffle=False, dtype=dtype,
                        init=init, **extra)
    return result


def _naive_train(problem, name, params, lrs, **extra):
    task, k, hidden, activation, X, y, coefs, intercepts = _setup(problem)
    return nv.naive_train(X, y, coefs, intercepts, task=task, activation=activation,
                          optimizer=name, lr_per_step=lrs, optimizer_params=dict(params),
                          batch_size=BATCH, epochs=EPOCHS,
                          n_classes=k if task == "classification" else None, **extra)


def _flat(arrays):
    return np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])


def _assert_params_close(result, ref, rtol=1e-9, atol=1e-12):
    assert len(result.coefs) == len(ref.coefs)
    for c, r in zip(result.coefs, ref.coefs):
        assert np.shape(c) == r.shape
    np.testing.assert_allclose(_flat(result.coefs), _flat(ref.coefs), rtol=rtol, atol=atol)
    np.testing.assert_allclose(_flat(result.intercepts), _flat(ref.intercepts), rtol=rtol,
                               atol=atol)


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_optimizer_matches_naive(case, problem):
    name, params = case
    result = _core_train(problem, name, params)
    assert result.status == "completed", result.reason
    assert result.steps_run == STEPS and result.epochs_run == EPOCHS
    lrs = np.asarray(result.lrs, dtype=np.float64)
    np.testing.assert_array_equal(lrs, np.full(STEPS, LR[name]))  # constant schedule
    for c in result.coefs:
        assert np.asarray(c).dtype == np.float64

    ref = _naive_train(problem, name, params, lrs)
    _assert_params_close(result, ref)

    # the test can tell every option apart from its default
    for key in params:
        without = {k: v for k, v in params.items() if k != key}
        other = _naive_train(problem, name, without, lrs)
        assert not np.allclose(_flat(ref.coefs), _flat(other.coefs), rtol=1e-7, atol=1e-10), key


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_train_loss_is_row_weighted_mean_of_batch_losses(problem):
    """Contract: train_loss is the per-epoch mean of the batch losses (each measured
    before its update) over rows, i.e. each batch weighted by its size; the last,
    partial batch (5 of 37 rows) makes the weighting visible."""
    result = _core_train(problem, "momentum", {})
    ref = _naive_train(problem, "momentum", {}, np.asarray(result.lrs, dtype=np.float64))
    assert len(ref.batch_losses) == STEPS
    np.testing.assert_allclose(result.train_loss, ref.train_loss, rtol=1e-9)
    unweighted = np.reshape(ref.batch_losses, (EPOCHS, -1)).mean(axis=1)
    assert not np.allclose(ref.train_loss, unweighted, rtol=1e-6)


def test_optimizer_defaults_are_torch_defaults():
    """Spelling out torch's defaults changes nothing (names and values of the contract)."""
    explicit = {
        "sgd": {"momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
        "momentum": {"momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
        "nesterov": {"momentum": 0.9, "weight_decay": 0.0},
        "adagrad": {"lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0,
                    "eps": 1e-10},
        "rmsprop": {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                    "centered": False},
        "adam": {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
        "adamw": {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False},
    }
    for name, params in explicit.items():
        a = _core_train("reg", name, {})
        b = _core_train("reg", name, params)
        np.testing.assert_array_equal(_flat(a.coefs), _flat(b.coefs), err_msg=name)


def test_nesterov_equals_sgd_with_nesterov_flag():
    a = _core_train("clf", "nesterov", {"momentum": 0.8}, lr=0.05)
    b = _core_train("clf", "sgd", {"momentum": 0.8, "nesterov": True}, lr=0.05)
    np.testing.assert_allclose(_flat(a.coefs), _flat(b.coefs), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam", "adamw"])
def test_float32_close_to_float64(name):
    params = {"momentum": 0.9} if name == "rmsprop" else {}
    r64 = _core_train("reg", name, params, dtype="float64", lr=LR[name] / 10)
    r32 = _core_train("reg", name, params, dtype="float32", lr=LR[name] / 10)
    assert r32.status == "completed", r32.reason
    for c in r32.coefs:
        assert np.asarray(c).dtype == np.float32
    np.testing.assert_allclose(_flat(r32.coefs), _flat(r64.coefs), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(_flat(r32.intercepts), _flat(r64.intercepts), rtol=1e-3,
                               atol=1e-4)
    np.testing.assert_allclose(r32.train_loss, r64.train_loss, rtol=1e-4)
    # and the float32 run really moved the parameters (not a no-op)
    _, _, _, _, _, _, coefs, _ = _setup("reg")
    assert not np.allclose(_flat(r32.coefs), _flat(coefs), rtol=0, atol=1e-4)
