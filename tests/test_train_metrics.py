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
