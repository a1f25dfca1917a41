"""partial_fit of MLPClassifier / MLPRegressor (scikit-learn's semantics: one epoch per call).

References: a NumPy re-implementation of the same stream of minibatch steps
with one optimizer carried across calls (``tests/naive.py``), ``fit`` with as
many epochs where the two are exactly comparable (constant rate, no shuffle),
and the errors scikit-learn's own ``partial_fit`` raises.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from lrsearch.exceptions import ConfigError, DataError
from lrsearch.nn.estimator import MLPClassifier, MLPRegressor
from tests import naive

pytestmark = [
    pytest.mark.usefixtures("quiet_logs"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),  # fit's "epochs ran out"
]


def _data(n=36, seed=0):
    X, y = naive.make_data("classification", n_rows=n, n_features=4, n_outputs=3, seed=seed)
    labels = np.array(["ant", "bee", "cat"])[y]
    return X, labels, np.c_[np.tanh(X[:, 0] - X[:, 1]), X[:, 2] * X[:, 3]]


def _same_model(a, b):
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(p, q)


# --------------------------------------------------------------------------- against independent references


@pytest.mark.parametrize("optimizer", ["adam", "momentum", "adagrad"])
def test_a_stream_of_calls_matches_numpy_with_the_optimizer_carried_over(optimizer):
    """Chunks of 12 rows, batches of 4: the calls' steps are one NumPy optimizer's steps, state and step count
    carried across calls (a restarted Adam would redo its bias correction; momentum would lose its buffer)."""
    X, labels, Y = _data(36)
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=36)
    chunks = [slice(0, 12), slice(12, 24), slice(0, 12), slice(24, 36)]
    for est, target, task in ((MLPClassifier, labels, "classification"), (MLPRegressor, Y, "regression")):
        model = est(hidden_layer_sizes=(5,), optimizer=optimizer, lr=0.03, batch_size=4, shuffle=False,
                    activation="tanh", dtype="float64", random_state=0)  # fmt: skip
        codes = np.searchsorted(["ant", "bee", "cat"], target) if task == "classification" else target
        # the starting point: the weights the estimator draws (the same random_state draws the same), read
        # from a twin after one call at lr=1e-300, which leaves them as drawn
        kw = {"classes": ["ant", "bee", "cat"]} if task == "classification" else {}
        twin = est(**{**model.get_params(), "lr": 1e-300}).partial_fit(X[:4], target[:4], **kw)
        coefs, intercepts = twin.coefs_, twin.intercepts_
        opt, losses = None, []
        for i, sl in enumerate(chunks):
            model.partial_fit(X[sl], target[sl], sample_weight=w[sl], **(kw if i == 0 else {}))
            coefs, intercepts, epoch_loss, opt = naive.naive_train_weighted(
                X[sl], codes[sl], w[sl], coefs, intercepts, task=task, activation="tanh", optimizer=optimizer,
                lr=0.03, batch_size=4, epochs=1, opt=opt)  # fmt: skip
            losses += epoch_loss.tolist()
        for p, q in zip(model.coefs_ + model.intercepts_, coefs + intercepts):
            np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12)
        scale = 0.5 if task == "regression" else 1.0  # the regressor reports scikit-learn's half MSE (session 8)
        np.testing.assert_allclose(model.loss_curve_, scale * np.asarray(losses), rtol=1e-10)
        assert model.n_iter_ == 4 and model.t_ == 48 and len(model.loss_curve_) == 4


@pytest.mark.parametrize("optimizer", ["adam", "nesterov"])
def test_k_calls_on_the_same_rows_are_fit_with_k_epochs(optimizer):
    X, labels, Y = _data(30)
    for est, target, kw in ((MLPClassifier, labels, {"classes": np.unique(labels)}), (MLPRegressor, Y, {})):
        params = {"hidden_layer_sizes": (6,), "optimizer": optimizer, "lr": 0.02, "batch_size": 7, "shuffle": False,
                  "tol": 0.0, "n_iter_no_change": 100, "random_state": 5}  # fmt: skip
        fitted = est(epochs=5, **params).fit(X, target)
        streamed = est(**params)
        for _ in range(5):
            streamed.partial_fit(X, target, **kw)
        _same_model(streamed, fitted)
        assert streamed.loss_curve_ == fitted.loss_curve_
        assert streamed.n_iter_ == fitted.n_iter_ == 5 and streamed.t_ == fitted.t_ == 150
        # and after a fit: fit(3 epochs) + 2 calls == fit(5 epochs)
        resumed = est(epochs=3, **params).fit(X, target)
        resumed.partial_fit(X, target).partial_fit(X, target)
        _same_model(resumed, fitted)
        assert resumed.loss_curve_ == fitted.loss_curve_ and resumed.n_iter_ == 5 and resumed.t_ == 150


def test_weighted_calls_are_weighted_fit_epochs():
    X, labels, _ = _data(30)
    w = np.random.default_rng(3).integers(0, 4, size=30).astype(float)
    params = {"hidden_layer_sizes": (6,), "lr": 0.02, "batch_size": 8, "shuffle": False, "tol": 0.0,
              "n_iter_no_change": 100, "random_state": 2}  # fmt: skip
    fitted = MLPClassifier(epochs=3, **params).fit(X, labels, sample_weight=w)
    streamed = MLPClassifier(**params)
    for _ in range(3):
        streamed.partial_fit(X, labels, classes=["ant", "bee", "cat"], sample_weight=w)
    _same_model(streamed, fitted)
    assert streamed.t_ == fitted.t_ == 3 * int((w > 0).sum())  # rows of weight 0 are not trained on


# --------------------------------------------------------------------------- classes


def test_the_first_call_needs_classes():
    X, labels, _ = _data()
    clf = MLPClassifier()
    with pytest.raises(ConfigError, match=r"classes= on its first call.*np\.unique\(y_all\)"):
        clf.partial_fit(X, labels)
    assert not hasattr(clf, "classes_") and not hasattr(clf, "n_features_in_")
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_labels_outside_classes_are_refused_and_change_nothing():
    X, labels, _ = _data()
    clf = MLPClassifier(hidden_layer_sizes=(4,), random_state=0)
    with pytest.raises(DataError, match=r"not in classes \['ant', 'bee'\]: \['cat'\]"):
        clf.partial_fit(X, labels, classes=["ant", "bee"])
    assert not hasattr(clf, "coefs_")
    clf.partial_fit(X[labels != "cat"], labels[labels != "cat"], classes=["ant", "bee"])
    before = [c.copy() for c in clf.coefs_], clf.n_iter_, list(clf.loss_curve_)
    with pytest.raises(DataError, match=r"\['cat'\].*classes=np\.unique\(y_all\)"):
        clf.partial_fit(X, labels)
    for p, q in zip(clf.coefs_, before[0]):
        np.testing.assert_array_equal(p, q)
    assert (clf.n_iter_, clf.loss_curve_) == before[1:] and clf.classes_.tolist() == ["ant", "bee"]


def test_later_classes_must_be_the_same_and_y_need_not_hold_them_all():
    X, labels, _ = _data()
    clf = MLPClassifier(hidden_layer_sizes=(4,), random_state=0)
    only_two = labels != "cat"
    clf.partial_fit(X[only_two], labels[only_two], classes=["cat", "ant", "bee", "ant"])
    assert clf.classes_.tolist() == ["ant", "bee", "cat"] and clf.predict_proba(X).shape == (len(X), 3)
    clf.partial_fit(X, labels, classes=np.array(["bee", "ant", "cat"]))  # the same set: fine
    with pytest.raises(ConfigError, match=r"classes=\['ant', 'bee'\] is not the classes of the first call"):
        clf.partial_fit(X, labels, classes=["ant", "bee"])
    # after fit, the classes are fit's
    fitted = MLPClassifier(hidden_layer_sizes=(4,), epochs=2).fit(X, labels)
    fitted.partial_fit(X[:5], labels[:5])
    assert fitted.classes_.tolist() == ["ant", "bee", "cat"] and fitted.n_iter_ == 3


# --------------------------------------------------------------------------- shapes and settings


def test_shapes_are_checked_against_the_fitted_model():
    X, labels, Y = _data()
    clf = MLPClassifier(hidden_layer_sizes=(4,)).partial_fit(X, labels, classes=np.unique(labels))
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4 features"):
        clf.partial_fit(X[:, :3], labels)
    clf.set_params(hidden_layer_sizes=(5,))
    with pytest.raises(ConfigError, match=r"layer sizes \[4, 4, 3\].*\[4, 5, 3\].*call fit to start afresh"):
        clf.partial_fit(X, labels)
    reg = MLPRegressor(hidden_layer_sizes=(4,)).partial_fit(X, Y)
    with pytest.raises(DataError, match=r"has 2 output\(s\); y has 1: pass targets shaped as in the first fit"):
        reg.partial_fit(X, Y[:, 0])
    assert reg.predict(X).shape == (len(X), 2) and reg.n_iter_ == 1


def test_early_stopping_is_refused_and_a_schedule_is_not_applied():
    X, labels, Y = _data()
    with pytest.raises(ConfigError, match="holds none out.*set early_stopping=False"):
        MLPRegressor(early_stopping=True).partial_fit(X, Y)
    clf = MLPClassifier(hidden_layer_sizes=(4,), lr=0.05, schedule="cosine", batch_size=8)
    with pytest.warns(UserWarning, match=r"constant rate lr=0\.05: schedule='cosine'.*set_params\(lr=\.\.\.\)"):
        clf.partial_fit(X, labels, classes=np.unique(labels))
    assert np.all(clf.result_.lrs == 0.05) and len(clf.result_.lrs) == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a constant rate: no warning
        MLPClassifier(hidden_layer_sizes=(4,)).partial_fit(X, labels, classes=np.unique(labels))
    clf.set_params(lr=0.01)  # decaying by hand between calls
    with pytest.warns(UserWarning):
        clf.partial_fit(X, labels)
    assert np.all(clf.result_.lrs == 0.01)


def test_a_diverging_call_changes_nothing_but_the_status():
    X, _, Y = _data()
    reg = MLPRegressor(hidden_layer_sizes=(4,), optimizer="momentum", lr=0.01, random_state=0).partial_fit(X, Y)
    before = [c.copy() for c in reg.coefs_], reg.n_iter_, reg.t_, list(reg.loss_curve_), reg.loss_
    state = reg._optimizer_state.state.copy()
    reg.set_params(lr=1e30)
    with pytest.warns(ConvergenceWarning, match="kept the weights and optimizer state from before this call"):
        reg.partial_fit(X, Y)
    assert reg.status_ == "diverged"
    for p, q in zip(reg.coefs_, before[0]):
        np.testing.assert_array_equal(p, q)
    assert (reg.n_iter_, reg.t_, reg.loss_curve_, reg.loss_) == before[1:]
    np.testing.assert_array_equal(reg._optimizer_state.state, state)
    reg.set_params(lr=0.01)
    reg.partial_fit(X, Y)
    assert reg.status_ == "completed" and reg.n_iter_ == 2


def test_another_optimizer_starts_its_state_afresh_from_the_weights():
    """Adam's moments cannot drive momentum SGD: its buffer starts empty, so the call is one NumPy epoch of a
    fresh momentum SGD from the fitted weights."""
    X, labels, _ = _data(24)
    codes = np.searchsorted(["ant", "bee", "cat"], labels)
    clf = MLPClassifier(hidden_layer_sizes=(5,), batch_size=6, shuffle=False, dtype="float64", random_state=0)
    clf.partial_fit(X, labels, classes=["ant", "bee", "cat"])  # adam
    start = [c.copy() for c in clf.coefs_], [b.copy() for b in clf.intercepts_]
    clf.set_params(optimizer="momentum", lr=0.1).partial_fit(X, labels)
    rc, rb, _, _ = naive.naive_train_weighted(X, codes, None, *start, task="classification", activation="relu",
                                              optimizer="momentum", lr=0.1, batch_size=6, epochs=1)  # fmt: skip
    for p, q in zip(clf.coefs_ + clf.intercepts_, rc + rb):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-13)
