"""Gradients of the core (`lrsearch.nn.loss_and_grad`) against central finite
differences, and the naive reference's own backward against the same, so the
reference used by the other tests is itself verified."""

from __future__ import annotations

import numpy as np
import pytest

try:
    from . import naive as nv
except ImportError:
    import naive as nv

import lrsearch.nn as core

EPS = 1e-6
RTOL = 1e-6
ATOL = 1e-8

# name -> (task, number of output units)
PROBLEMS = {
    "multiclass": ("classification", 3),
    "binary": ("classification", 2),
    "regression-1": ("regression", 1),
    "regression-3": ("regression", 3),
}
HIDDEN = [(), (7,), (6, 5), (5, 4, 3)]


def _problem(kind, hidden, seed=0):
    task, k = PROBLEMS[kind]
    X, y = nv.make_data(task, n_rows=37, n_features=5, n_outputs=k, seed=seed)
    coefs, intercepts = nv.init_params((5, *hidden, k), seed=seed + 11)
    return task, k, X, y, coefs, intercepts


def _flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


def _core_loss_and_grad(X, y, coefs, intercepts, task, activation, k):
    n_classes = k if task == "classification" else None
    value, gc, gb = core.loss_and_grad(X, y, coefs, intercepts, task=task,
                                       activation=activation, n_classes=n_classes)
    return float(value), gc, gb


# with no hidden layer the activation is unused: one case per problem is enough
CORE_CASES = [
    pytest.param(act, kind, hidden, id=f"{act}-{kind}-hidden{hidden}")
    for act in nv.ACTIVATIONS
    for kind in PROBLEMS
    for hidden in HIDDEN
    if hidden or act == "relu"
]


@pytest.mark.parametrize("activation,kind,hidden", CORE_CASES)
def test_core_gradient_matches_finite_differences(activation, kind, hidden):
    task, k, X, y, coefs, intercepts = _problem(kind, hidden)

    value, gc, gb = _core_loss_and_grad(X, y, coefs, intercepts, task, activation, k)
    assert len(gc) == len(coefs) and len(gb) == len(intercepts)
    for g, c in zip(gc, coefs):
        assert g.shape == c.shape and g.dtype == np.float64
    for g, b in zip(gb, intercepts):
        assert g.shape == b.shape and g.dtype == np.float64

    def f(c, b):
        return _core_loss_and_grad(X, y, c, b, task, activation, k)[0]

    fd_c, fd_b = nv.numerical_grad(f, coefs, intercepts, eps=EPS)
    np.testing.assert_allclose(_flat(gc + gb), _flat(fd_c + fd_b), rtol=RTOL, atol=ATOL)

    # and the same numbers as the independent reference
    ref_value, ref_c, ref_b = nv.loss_and_grad(X, y, coefs, intercepts, task=task,
                                               activation=activation)
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(_flat(gc + gb), _flat(ref_c + ref_b), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("hidden", [(), (7,), (6, 5)], ids=lambda h: f"hidden{h}")
@pytest.mark.parametrize("kind", list(PROBLEMS))
@pytest.mark.parametrize("activation", nv.ACTIVATIONS)
def test_naive_gradient_matches_finite_differences(activation, kind, hidden):
    task, k, X, y, coefs, intercepts = _problem(kind, hidden, seed=1)
    _, gc, gb = nv.loss_and_grad(X, y, coefs, intercepts, task=task, activation=activation)

    def f(c, b):
        return nv.loss(X, y, c, b, task=task, activation=activation)

    fd_c, fd_b = nv.numerical_grad(f, coefs, intercepts, eps=EPS)
    np.testing.assert_allclose(_flat(gc + gb), _flat(fd_c + fd_b), rtol=RTOL, atol=ATOL)


def test_naive_loss_values_by_hand():
    """Pin the two losses on a case small enough to compute by hand."""
    X = np.array([[1.0], [2.0]])
    coefs, intercepts = [np.array([[1.0, -1.0]])], [np.array([0.0, 0.5])]
    # logits: row0 (1, -0.5), row1 (2, -1.5); labels 0 and 1
    z = np.array([[1.0, -0.5], [2.0, -1.5]])
    expected = np.mean([np.log(np.exp(z[0]).sum()) - z[0, 0],
                        np.log(np.exp(z[1]).sum()) - z[1, 1]])
    got = nv.loss(X, np.array([0, 1]), coefs, intercepts, task="classification",
                  activation="relu")
    assert got == pytest.approx(expected, rel=1e-14)
    Y = np.array([[0.0, 0.0], [1.0, 1.0]])
    expected = np.mean((z - Y) ** 2)  # over batch AND outputs
    got = nv.loss(X, Y, coefs, intercepts, task="regression", activation="relu")
    assert got == pytest.approx(expected, rel=1e-14)


def test_core_loss_is_mean_cross_entropy_and_mse():
    """Core loss values equal the naive mean cross-entropy / MSE on a 2-layer net."""
    for task, k in (("classification", 4), ("regression", 2)):
        X, y = nv.make_data(task, n_rows=23, n_features=3, n_outputs=k, seed=5)
        coefs, intercepts = nv.init_params((3, 6, k), seed=6, scale=2.0)
        value, _, _ = _core_loss_and_grad(X, y, coefs, intercepts, task, "tanh", k)
        ref = nv.loss(X, y, coefs, intercepts, task=task, activation="tanh")
        assert value == pytest.approx(ref, rel=1e-12)


def test_core_n_classes_with_absent_class():
    """Labels that never use the last class still give K output units' gradient."""
    X, _ = nv.make_data("classification", n_rows=20, n_features=4, n_outputs=3, seed=2)
    y = np.arange(20) % 2  # classes 0 and 1 only, model has 3 outputs
    coefs, intercepts = nv.init_params((4, 5, 3), seed=3)
    value, gc, gb = _core_loss_and_grad(X, y, coefs, intercepts, "classification", "sigmoid", 3)
    ref_value, ref_c, ref_b = nv.loss_and_grad(X, y, coefs, intercepts,
                                               task="classification", activation="sigmoid")
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(_flat(gc + gb), _flat(ref_c + ref_b), rtol=1e-10, atol=1e-13)


def test_core_float32_follows_coefs_dtype():
    task, k, X, y, coefs, intercepts = _problem("multiclass", (6, 5))
    c32 = [c.astype(np.float32) for c in coefs]
    b32 = [b.astype(np.float32) for b in intercepts]
    value, gc, gb = core.loss_and_grad(X.astype(np.float32), y, c32, b32, task=task,
                                       activation="tanh", n_classes=k)
    for g in gc + gb:
        assert g.dtype == np.float32
    ref_value, ref_c, ref_b = nv.loss_and_grad(X.astype(np.float32), y, c32, b32, task=task,
                                               activation="tanh")
    assert float(value) == pytest.approx(ref_value, rel=1e-5)
    np.testing.assert_allclose(_flat(gc + gb), _flat(ref_c + ref_b), rtol=1e-4, atol=1e-6)
