"""Review, session 8: MLPRegressor reports scikit-learn's loss (half the MSE) and applies tol to it, so its
loss curve and its plateau stop are scikit-learn's (the network still trains on torch's MSELoss)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from lrsearch import MLPRegressor


def _same_start(n=30, outputs=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = np.tanh(X @ rng.normal(size=(4, outputs))) + 0.1 * rng.normal(size=(n, outputs))
    coefs = [rng.normal(scale=0.5, size=(4, 5)), rng.normal(scale=0.5, size=(5, outputs))]
    intercepts = [rng.normal(scale=0.1, size=5), rng.normal(scale=0.1, size=outputs)]
    return X, (y[:, 0] if outputs == 1 else y), coefs, intercepts


def _sklearn(X, y, coefs, intercepts, lr, **kw):
    """scikit-learn's SGD from the given weights (a 1-epoch partial_fit makes the attributes, then replaced)."""
    sk = SkMLPRegressor(hidden_layer_sizes=(5,), activation="tanh", solver="sgd", learning_rate_init=lr,
                        momentum=0.0, nesterovs_momentum=False, alpha=0.0, batch_size=len(X), shuffle=False,
                        max_iter=1, **kw)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.partial_fit(X, y)
        sk.set_params(warm_start=True, max_iter=300)
        sk.coefs_, sk.intercepts_ = [c.copy() for c in coefs], [b.copy() for b in intercepts]
        sk.loss_curve_, sk.best_loss_, sk._no_improvement_count, sk.n_iter_, sk.t_ = [], np.inf, 0, 0, 0
        sk.fit(X, y)
    return sk


def _ours(X, y, coefs, intercepts, lr, **kw):
    est = MLPRegressor(hidden_layer_sizes=(5,), activation="tanh", optimizer="sgd", lr=lr, batch_size=len(X),
                       shuffle=False, epochs=300, dtype="float64", warm_start=True, **kw)  # fmt: skip
    est.coefs_, est.intercepts_ = [c.copy() for c in coefs], [b.copy() for b in intercepts]
    est.n_features_in_, est.n_outputs_ = X.shape[1], coefs[-1].shape[1]
    return est.fit(X, y)


@pytest.mark.parametrize("outputs, lr", [(1, 0.05), (2, 0.1)])  # the same steps: lr * 2 / outputs = sklearn's
def test_the_loss_curve_and_the_plateau_stop_are_scikit_learns(outputs, lr):
    """The loss curve was exactly twice scikit-learn's (MSE against half the squared error), and tol was applied
    to it, so the same trajectory stopped 3 epochs later (tol=2e-3, n_iter_no_change=3)."""
    X, y, coefs, intercepts = _same_start(outputs=outputs)
    sk = _sklearn(X, y, coefs, intercepts, 0.1, tol=2e-3, n_iter_no_change=3)
    ours = _ours(X, y, coefs, intercepts, lr, tol=2e-3, n_iter_no_change=3)
    assert len(ours.loss_curve_) == len(sk.loss_curve_)  # the same epoch stops both
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-9)
    assert ours.loss_ == pytest.approx(sk.loss_, rel=1e-9) and ours.best_loss_ == pytest.approx(sk.best_loss_)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-8, atol=1e-10)
    # the core's own result keeps torch's MSE: twice the reported loss
    np.testing.assert_allclose(ours.result_.train_loss, 2 * np.asarray(ours.loss_curve_), rtol=1e-12)


def test_early_stopping_reports_and_watches_half_the_validation_mse():
    X, y, coefs, intercepts = _same_start(n=80, seed=1)
    est = _ours(X, y, coefs, intercepts, 0.05, early_stopping=True, n_iter_no_change=5, tol=1e-3)
    np.testing.assert_allclose(est.validation_loss_curve_, 0.5 * est.result_.val_loss, rtol=1e-12)
    assert est.best_validation_loss_ == pytest.approx(0.5 * est.result_.best_val_loss)
    if est.result_.status == "early_stopped":  # the reason in the estimator's units too
        assert f"tol={est.tol}" in est.result_.reason and f"({est.best_validation_loss_:.4g}," in est.result_.reason
