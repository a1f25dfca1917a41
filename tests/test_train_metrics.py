"""train()'s final validation metrics describe the parameters it returns."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, log_loss

from lrsearch.nn import train
from tests.naive import forward


def _data(seed=0, n=120):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)
    return X, y


@pytest.mark.parametrize("schedule_params, status", [({"gamma": 1.0}, "completed"), ({"gamma": 1e3}, "diverged")])
def test_val_metrics_match_returned_parameters(schedule_params, status):
    X, y = _data()
    Xv, yv = _data(seed=1, n=60)
    res = train(X, y, X_val=Xv, y_val=yv, hidden=(8,), optimizer="sgd", lr=0.05, schedule="exponential",
                schedule_params=schedule_params, epochs=6, batch_size=16, dtype="float64", n_classes=3)  # fmt: skip
    assert res.status == status
    assert res.epochs_run >= 1
    proba = forward(Xv, res.coefs, res.intercepts, task="classification", activation="relu")
    assert res.val_metrics["accuracy"] == pytest.approx(accuracy_score(yv, proba.argmax(axis=1)))
    assert res.val_metrics["cross_entropy"] == pytest.approx(log_loss(yv, proba, labels=[0, 1, 2]), rel=1e-9)


def test_macro_scores_average_over_the_classes_the_split_holds_or_predicts():
    """A class that neither y_true nor the predictions hold is not scored (scikit-learn's default labels), so a
    perfect prediction of a split holding 2 of 3 classes scores 1, not 2/3; checked against an explicit
    per-class computation on random splits."""
    from lrsearch.metrics import compute_metrics

    perfect = compute_metrics("classification", np.array([0, 0, 1, 1]), np.eye(3)[[0, 0, 1, 1]])
    assert perfect["precision"] == perfect["recall"] == perfect["f1"] == 1.0
    rng = np.random.default_rng(0)
    for _ in range(200):
        k, n = int(rng.integers(2, 6)), int(rng.integers(1, 30))
        y = rng.integers(0, k, size=n)
        out = rng.random((n, k)) ** 4
        pred = out.argmax(axis=1)
        classes = np.union1d(y, pred)
        prec, rec, f1 = [], [], []
        for c in classes:  # the definitions, by hand (0 where a ratio is 0/0)
            tp = np.sum((pred == c) & (y == c))
            p = tp / np.sum(pred == c) if np.any(pred == c) else 0.0
            r = tp / np.sum(y == c) if np.any(y == c) else 0.0
            prec.append(p)
            rec.append(r)
            f1.append(2 * p * r / (p + r) if p + r > 0 else 0.0)
        m = compute_metrics("classification", y, out)
        assert m["precision"] == pytest.approx(np.mean(prec), abs=1e-12)
        assert m["recall"] == pytest.approx(np.mean(rec), abs=1e-12)
        assert m["f1"] == pytest.approx(np.mean(f1), abs=1e-12)


def test_per_epoch_r2_scores_a_constant_column_as_scikit_learn_does():
    """val_score's R² for a constant target column: 1 when predicted exactly, 0 otherwise (r2_score)."""
    from sklearn.metrics import r2_score

    from lrsearch.nn import predict_output

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    for const_bias in (3.0, 2.5):  # the constant column is 3.0: predicted exactly by a zero-weight output, or not
        Y = np.column_stack([X[:, 0], np.full(40, 3.0)])
        coefs = [rng.normal(size=(3, 4)), np.zeros((4, 2))]
        intercepts = [np.zeros(4), np.array([0.0, const_bias])]
        res = train(X, Y, X_val=X, y_val=Y, task="regression", hidden=(4,), optimizer="sgd", lr=1e-300, epochs=1,
                    init=(coefs, intercepts), dtype="float64")  # fmt: skip
        pred = predict_output(X, res.coefs, res.intercepts, task="regression")
        assert res.val_score[-1] == pytest.approx(r2_score(Y, pred), abs=1e-12)
        assert res.val_metrics["r2"] == pytest.approx(r2_score(Y, pred), abs=1e-12)
