"""sample_weight in the core (loss_and_grad, train, Trainer) and in the estimators.

scikit-learn 1.9's MLP: the loss of a minibatch is the weighted mean
sum_i w_i l_i / sum_i w_i of its rows' losses, and its gradient that mean's.
Every test compares with an independent reference: the NumPy weighted loss
and gradient of ``tests/naive.py`` (a weighted sum of per-row gradients),
central finite differences, scikit-learn's own weighted metrics, or the data
the weights stand for (repeated or dropped rows).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, r2_score

from lrsearch.exceptions import DataError
from lrsearch.nn import evaluate_output, loss_and_grad, predict_output, train
from lrsearch.nn.estimator import MLPClassifier, MLPRegressor
from tests import naive

pytestmark = [
    pytest.mark.usefixtures("quiet_logs"),
    # the estimators' ConvergenceWarning (epochs ran out) is beside the point here
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

CASES = [("classification", "relu", 3), ("classification", "tanh", 2), ("regression", "sigmoid", 1),
         ("regression", "identity", 2)]  # fmt: skip


def _weights(n, seed=0, zeros=True):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.1, 3.0, size=n)
    if zeros:
        w[[1, 4]] = 0.0
    return w


def _problem(task, n_out, n_rows=23, seed=0):
    X, y = naive.make_data(task, n_rows=n_rows, n_features=4, n_outputs=n_out, seed=seed)
    coefs, intercepts = naive.init_params([4, 5, n_out], seed=seed + 1)
    return X, y, coefs, intercepts


# --------------------------------------------------------------------------- the weighted loss and gradient


@pytest.mark.parametrize(("task", "activation", "n_out"), CASES)
def test_weighted_loss_and_gradient_match_the_numpy_reference(task, activation, n_out):
    X, y, coefs, intercepts = _problem(task, n_out)
    w = _weights(len(X))
    loss, gc, gb = loss_and_grad(X, y, coefs, intercepts, task=task, activation=activation, sample_weight=w)
    ref, rc, rb = naive.weighted_loss_and_grad(X, y, w, coefs, intercepts, task=task, activation=activation)
    assert loss == pytest.approx(ref, rel=1e-12)
    for a, b in zip(gc + gb, rc + rb):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-13)
    # and the weights matter: the unweighted gradient is another one
    _, uc, _ = loss_and_grad(X, y, coefs, intercepts, task=task, activation=activation)
    assert not np.allclose(uc[0], gc[0], rtol=1e-3)


@pytest.mark.parametrize(("task", "activation", "n_out"), CASES)
def test_weighted_gradient_matches_central_finite_differences(task, activation, n_out):
    X, y, coefs, intercepts = _problem(task, n_out, n_rows=9)
    w = _weights(len(X), seed=3)
    _, gc, gb = loss_and_grad(X, y, coefs, intercepts, task=task, activation=activation, sample_weight=w)
    nc, nb = naive.numerical_grad(
        lambda c, b: naive.weighted_loss(X, y, w, c, b, task=task, activation=activation), coefs, intercepts)
    for a, b in zip(gc + gb, nc + nb):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)


def test_weighted_validation_loss_and_score_match_numpy_and_scikit_learn():
    for task, n_out in (("classification", 3), ("regression", 2)):
        X, y, coefs, intercepts = _problem(task, n_out, n_rows=40, seed=5)
        w = _weights(len(X), seed=6)
        loss, _ = evaluate_output(X, y, coefs, intercepts, task=task, activation="tanh", batch_size=7,
                                    sample_weight=w)  # fmt: skip
        assert loss == pytest.approx(naive.weighted_loss(X, y, w, coefs, intercepts, task=task, activation="tanh"),
                                     rel=1e-12)  # fmt: skip
        # train's validation loss and score after its one epoch: of the parameters it returns, weighted
        res = train(X[:20], y[:20], task=task, hidden=(5,), activation="tanh", init=(coefs, intercepts),
                    optimizer="sgd", lr=0.1, epochs=1, dtype="float64", X_val=X, y_val=y, sample_weight_val=w,
                    n_classes=n_out if task == "classification" else None, compute_metrics=False)  # fmt: skip
        pred = predict_output(X, res.coefs, res.intercepts, task=task, activation="tanh")
        assert res.val_loss[0] == pytest.approx(
            naive.weighted_loss(X, y, w, res.coefs, res.intercepts, task=task, activation="tanh"), rel=1e-10)
        expected = (accuracy_score(y, pred.argmax(axis=1), sample_weight=w) if task == "classification"
                    else r2_score(y, pred, sample_weight=w))  # fmt: skip
        assert res.val_score[0] == pytest.approx(expected, rel=1e-10)


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize(("task", "optimizer"), [("classification", "adam"), ("regression", "momentum")])
def test_weighted_minibatch_training_matches_the_numpy_reference(task, optimizer):
    X, y, coefs, intercepts = _problem(task, 2, n_rows=23)
    w = _weights(len(X), zeros=False)  # (zeros: see the test that drops them)
    res = train(X, y, task=task, hidden=(5,), activation="tanh", optimizer=optimizer, lr=0.05, epochs=4,
                batch_size=5, shuffle=False, dtype="float64", init=(coefs, intercepts), sample_weight=w)  # fmt: skip
    rc, rb, losses, _ = naive.naive_train_weighted(X, y, w, coefs, intercepts, task=task, activation="tanh",
                                                   optimizer=optimizer, lr=0.05, batch_size=5, epochs=4)  # fmt: skip
    for a, b in zip(res.coefs + res.intercepts, rc + rb):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.train_loss, losses, rtol=1e-10)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_integer_weights_are_repeated_rows_in_full_batch_training(task):
    X, y, coefs, intercepts = _problem(task, 3, n_rows=17)
    k = np.random.default_rng(2).integers(1, 4, size=len(X))
    common = {"task": task, "hidden": (5,), "activation": "relu", "optimizer": "adam", "lr": 0.01, "epochs": 15,
              "shuffle": False, "dtype": "float64", "init": (coefs, intercepts)}  # fmt: skip
    weighted = train(X, y, batch_size=len(X), sample_weight=k, **common)
    repeated = train(np.repeat(X, k, axis=0), np.repeat(y, k, axis=0), batch_size=int(k.sum()), **common)
    for a, b in zip(weighted.coefs + weighted.intercepts, repeated.coefs + repeated.intercepts):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(weighted.train_loss, repeated.train_loss, rtol=1e-11)


def test_the_estimators_weight_2_is_a_duplicated_row():
    X, y, _, _ = _problem("classification", 3, n_rows=20, seed=4)
    w = np.where(np.arange(20) % 3 == 0, 2.0, 1.0)
    dup = np.repeat(np.arange(20), w.astype(int))
    for est, target in ((MLPClassifier, y), (MLPRegressor, X[:, 0] - X[:, 1])):
        kw = {"hidden_layer_sizes": (6,), "lr": 0.01, "epochs": 12, "batch_size": 64, "dtype": "float64",
              "random_state": 0}  # fmt: skip
        a = est(**kw).fit(X, target, sample_weight=w)  # one batch each, shuffled: only the sums' order differs
        b = est(**kw).fit(X[dup], target[dup])
        for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
            np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-11)


def test_zero_weights_are_dropped_rows_exactly_with_shuffled_minibatches_and_early_stopping():
    X, y, _, _ = _problem("classification", 3, n_rows=60, seed=7)
    w = _weights(60, seed=8)
    w[[10, 11, 30, 59]] = 0.0
    keep = w > 0
    for est, target in ((MLPClassifier, y), (MLPRegressor, np.c_[X[:, 0], X[:, 1] * X[:, 2]])):
        for early in (False, True):
            kw = {"hidden_layer_sizes": (6,), "lr": 0.01, "epochs": 8, "batch_size": 8, "early_stopping": early,
                  "random_state": 3}  # fmt: skip
            a = est(**kw).fit(X, target, sample_weight=w)
            b = est(**kw).fit(X[keep], target[keep], sample_weight=w[keep])
            for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
                np.testing.assert_array_equal(p, q)
            assert a.loss_curve_ == b.loss_curve_ and a.t_ == b.t_ == 8 * (keep.sum() - early * 6)
    # the core itself: a zero-weight row is left out of train's batches
    a = train(X, y, hidden=(4,), epochs=3, batch_size=8, sample_weight=(w > 0) * 1.0, seed=1)
    b = train(X[keep], y[keep], hidden=(4,), epochs=3, batch_size=8, seed=1)
    np.testing.assert_array_equal(a.coefs[0], b.coefs[0])


def test_uniform_weights_are_no_weights_bit_for_bit():
    X, y, _, _ = _problem("classification", 3, n_rows=50, seed=9)
    for est, target in ((MLPClassifier, y), (MLPRegressor, X[:, 0])):
        for early in (False, True):
            kw = {"hidden_layer_sizes": (6,), "epochs": 6, "batch_size": 8, "early_stopping": early, "random_state": 0}
            a = est(**kw).fit(X, target, sample_weight=np.full(50, 3.7))
            b = est(**kw).fit(X, target)
            for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
                np.testing.assert_array_equal(p, q)
            assert a.loss_curve_ == b.loss_curve_ and a.validation_scores_ == b.validation_scores_


def test_early_stopping_weighs_the_held_out_rows_with_their_weights():
    """The weights split with their rows (as scikit-learn's): the held-out rows' weights weigh the
    validation loss and score early stopping watches."""
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state

    X, y, _, _ = _problem("classification", 3, n_rows=80, seed=11)
    w = _weights(80, seed=12, zeros=False)
    clf = MLPClassifier(hidden_layer_sizes=(6,), lr=0.01, epochs=6, batch_size=16, early_stopping=True,
                        validation_fraction=0.25, dtype="float64", random_state=4)  # fmt: skip
    clf.fit(X, y, sample_weight=w)
    seed = int(check_random_state(4).randint(0, 2**31 - 1))  # the estimator's split, redone
    _, X_va, _, y_va, _, w_va = train_test_split(X, y, w, test_size=20, random_state=seed, stratify=y)
    kept = naive.weighted_loss(X_va, y_va, w_va, clf.coefs_, clf.intercepts_, task="classification",
                               activation="relu")  # fmt: skip
    assert clf.best_validation_loss_ == pytest.approx(kept, rel=1e-10)
    assert clf.best_validation_score_ == pytest.approx(accuracy_score(y_va, clf.predict(X_va), sample_weight=w_va))
    unweighted = naive.loss(X_va, y_va, clf.coefs_, clf.intercepts_, task="classification", activation="relu")
    assert abs(unweighted - kept) > 1e-4  # (the weights do change it)


def test_weights_count_relative_to_each_other_and_leave_weight_decay_alone():
    """scikit-learn divides its L2 term by the batch's weight sum, so scaling every weight changes its fit;
    here weight decay is the optimizer's (torch's), and only the weights' ratios matter."""
    X, y, _, _ = _problem("regression", 1, n_rows=30, seed=10)
    w = _weights(30, zeros=False)
    kw = {"task": "regression", "hidden": (5,), "optimizer": "sgd", "optimizer_params": {"weight_decay": 0.1},
          "lr": 0.05, "epochs": 5, "batch_size": 7, "dtype": "float64"}  # fmt: skip
    a, b = train(X, y, sample_weight=w, **kw), train(X, y, sample_weight=1000.0 * w, **kw)
    huge = train(X, y, sample_weight=1e307 * w, **kw)  # (their sums would overflow: they count relative to the max)
    for p, q, r in zip(a.coefs, b.coefs, huge.coefs):
        np.testing.assert_allclose(p, q, rtol=1e-12)
        np.testing.assert_allclose(p, r, rtol=1e-12)
    # the reference with the decay on the gradient, unscaled
    coefs, intercepts = [c.copy() for c in a.coefs], [c.copy() for c in a.intercepts]
    one = train(X, y, sample_weight=w, init=(coefs, intercepts), **{**kw, "epochs": 1, "batch_size": 30})
    rc, rb, _, _ = naive.naive_train_weighted(X, y, w, coefs, intercepts, task="regression", activation="relu",
                                              optimizer="sgd", optimizer_params={"weight_decay": 0.1}, lr=0.05,
                                              batch_size=30, epochs=1)  # fmt: skip
    for p, q in zip(one.coefs + one.intercepts, rc + rb):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-13)


def test_classes_are_the_labels_that_weigh_something():
    """scikit-learn's check: weights leaving one class must give a model predicting that class (or an error)."""
    rng = np.random.default_rng(0)
    X, y = rng.uniform(size=(10, 10)), np.arange(10) % 2
    clf = MLPClassifier(epochs=3).fit(X, y, sample_weight=y.astype(float))
    assert clf.classes_.tolist() == [1]
    assert clf.predict(rng.uniform(size=(5, 10))).tolist() == [1] * 5


def test_scikit_learns_weight_equivalence_check_passes():
    from sklearn.utils.estimator_checks import check_sample_weight_equivalence_on_dense_data

    check_sample_weight_equivalence_on_dense_data("MLPClassifier", MLPClassifier(epochs=30))
    check_sample_weight_equivalence_on_dense_data("MLPRegressor", MLPRegressor(epochs=30))


# --------------------------------------------------------------------------- refused weights


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([1.0, -2.0, 1.0, 1.0], r"negative value \(-2\) at row 1; weights must be >= 0"),
        ([1.0, 1.0, np.nan, 1.0], r"non-finite value \(nan\) at row 2.*give the row weight 0"),
        ([1.0, np.inf, 1.0, 1.0], r"non-finite value \(inf\) at row 1"),
        ([1.0, 1.0, 1.0], r"has 3 entries for 4 rows; pass one weight per row"),
        (np.ones((4, 2)), r"must be 1-D, one weight per row; got shape \(4, 2\)"),
        ([0.0, 0.0, 0.0, 0.0], r"zero for every row, which leaves no row to train on"),
        (["a", "b", "c", "d"], r"must hold real numbers"),
        ([1 + 1j, 1, 1, 1], r"must hold real numbers"),
    ],
)
def test_bad_weights_are_refused_with_the_fix(weights, message):
    X, y = np.eye(4), np.array([0, 1, 0, 1])
    with pytest.raises(DataError, match=message):
        train(X, y, hidden=(2,), epochs=1, sample_weight=weights)
    with pytest.raises(DataError, match=message):
        loss_and_grad(X, y, [np.zeros((4, 2))], [np.zeros(2)], sample_weight=weights)
    for est in (MLPClassifier(epochs=1), MLPRegressor(epochs=1)):
        with pytest.raises(DataError, match=message):
            est.fit(X, y, sample_weight=weights)
        assert not hasattr(est, "n_features_in_")  # a refused fit leaves it unfitted
    clf = MLPClassifier(epochs=1)
    with pytest.raises(DataError, match=message):
        clf.partial_fit(X, y, classes=[0, 1], sample_weight=weights)
    assert not hasattr(clf, "coefs_")
    with pytest.raises(DataError, match=message.replace("sample_weight", "sample_weight_val")):
        train(X, y, hidden=(2,), epochs=1, X_val=X, y_val=y, sample_weight_val=weights)


def test_the_callers_weights_are_not_changed():
    X, y = np.eye(4), np.array([0, 1, 0, 1])
    w = np.array([3.0, 0.0, 1.0, 2.0])
    MLPClassifier(epochs=2).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(w, [3.0, 0.0, 1.0, 2.0])


def test_weights_too_small_to_count_next_to_the_largest_are_left_out_not_a_divergence():
    """1e-300 next to 1e300 is 0 relative to it: a batch of only such rows must not weigh 0/0 (a false divergence);
    the run is the one on the heavy rows alone."""
    from lrsearch.nn.training import train

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    w = np.r_[np.full(20, 1e300), np.full(20, 1e-300)]
    kw = dict(hidden=(4,), batch_size=20, shuffle=False, epochs=2, dtype="float64", seed=0)
    r = train(X, y, sample_weight=w, **kw)
    assert r.status == "completed", r.reason
    alone = train(X[:20], y[:20], n_classes=2, **kw)
    np.testing.assert_array_equal(r.train_loss, alone.train_loss)
