"""The objective's NumPy validation metrics equal lrsearch.metrics (scikit-learn)."""

from __future__ import annotations

import numpy as np
import pytest

from lrsearch.data import load
from lrsearch.evaluation import score_split
from lrsearch.nn import train
from lrsearch.search.objective import val_metrics


@pytest.mark.parametrize(("name", "epochs", "lr"), [("iris", 1, 1e-4), ("wine", 5, 1e-2), ("digits", 1, 1e-5),
                                                    ("diabetes", 3, 1e-2), ("linnerud", 2, 1e-2)])  # fmt: skip
def test_val_metrics_match_scikit_learn(name, epochs, lr):
    ds = load(name, seed=1)
    res = train(ds.X_train, ds.y_train, task=ds.task, n_classes=ds.n_classes, hidden=(8,), epochs=epochs, lr=lr,
                compute_metrics=False)  # fmt: skip
    fast, ref = val_metrics(ds, res), score_split(ds, res, "val")
    assert fast.keys() == ref.keys()
    for key in ref:
        assert fast[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-12), key


def test_classes_never_predicted_count_as_zero_like_scikit_learn():
    ds = load("iris", seed=0)
    res = train(ds.X_train, ds.y_train, n_classes=3, hidden=(), epochs=1, lr=1e-9, compute_metrics=False)
    # a nearly untrained linear model predicts (almost) one class: precision is 0 for the others
    fast, ref = val_metrics(ds, res), score_split(ds, res, "val")
    assert fast["precision"] == pytest.approx(ref["precision"]) and fast["f1"] == pytest.approx(ref["f1"])
    assert np.isfinite(fast["cross_entropy"])
