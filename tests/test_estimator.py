"""scikit-learn conventions of MLPClassifier / MLPRegressor."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from lrsearch.nn.estimator import MLPClassifier, MLPRegressor
from tests.naive import forward as naive_forward  # independent forward pass


def test_classifier_fits_string_labels_and_matches_naive_forward():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier(hidden_layer_sizes=(16,), lr=1e-2, epochs=40, random_state=0, dtype="float64").fit(X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert clf.n_iter_ == 40 and len(clf.loss_curve_) == 40 and clf.coefs_[0].shape == (4, 16)
    proba = clf.predict_proba(X)
    ref = naive_forward(X, clf.coefs_, clf.intercepts_, activation="relu", task="classification")
    np.testing.assert_allclose(proba, ref, rtol=1e-9, atol=1e-12)
    assert clf.score(X, names) > 0.9
    assert set(clf.predict(X)) <= set(names)


def test_unfitted_raises_and_clone_keeps_params():
    clf = MLPClassifier(lr=0.3, optimizer="sgd")
    with pytest.raises(NotFittedError):
        clf.predict(np.zeros((2, 3)))
    c2 = clone(clf)
    assert c2.get_params()["lr"] == 0.3 and c2.get_params()["optimizer"] == "sgd"


def test_regressor_in_pipeline_and_cross_val():
    X, y = make_regression(n_samples=120, n_features=5, noise=5.0, random_state=0)
    y = (y - y.mean()) / y.std()
    pipe = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(16,), lr=1e-2, epochs=40, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert np.all(scores > 0.8)


def test_same_random_state_is_deterministic():
    X, y = load_iris(return_X_y=True)
    a = MLPClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=3).fit(X, y)
    b = MLPClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=3).fit(X, y)
    for wa, wb in zip(a.coefs_, b.coefs_):
        assert np.array_equal(wa, wb)


@pytest.mark.slow
def test_check_estimator():
    from sklearn.utils.estimator_checks import check_estimator

    logging.disable(logging.WARNING)
    try:
        for est in (MLPClassifier(epochs=30), MLPRegressor(epochs=30)):
            results = check_estimator(est, on_fail=None)
            failed = [r["check_name"] for r in results if r["status"] == "failed"]
            assert failed == [], failed
    finally:
        logging.disable(logging.NOTSET)
