"""MLPClassifier / MLPRegressor on odd data and odd call sequences: scikit-learn conventions hold."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from lrsearch.exceptions import ConfigError
from lrsearch.nn.estimator import MLPClassifier, MLPRegressor
from tests.naive import sklearn_stop_epoch  # the independent reference

SMALL = dict(hidden_layer_sizes=(8,), epochs=4, random_state=0)


pytestmark = pytest.mark.usefixtures("quiet_logs")


def _xy(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, np.array(["b", "a", "c"])[np.arange(n) % 3]


# --------------------------------------------------------------------------- a failed fit changes nothing


def test_a_failed_refit_keeps_classes_and_weights_together():
    """classes_ used to be replaced before the training raised: predict then read the old weights'
    three columns under two new labels, silently."""
    X, y = _xy()
    clf = MLPClassifier(**SMALL).fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(lr=-1.0)
    with pytest.raises(ConfigError, match="lr"):
        clf.fit(X[:, :3], np.where(y == "a", "yes", "no"))
    assert clf.classes_.tolist() == ["a", "b", "c"] and clf.n_features_in_ == 4
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert set(clf.predict(X)) <= {"a", "b", "c"}


def test_a_failed_refit_of_the_regressor_keeps_its_output_shape():
    X, _ = _xy()
    reg = MLPRegressor(warm_start=True, **SMALL).fit(X, X[:, 0])
    with pytest.raises(ConfigError, match="warm_start"):
        reg.fit(X, X[:, :2])  # two outputs: the fitted weights have one
    assert reg.predict(X).shape == (len(X),)


def test_a_failed_first_fit_leaves_it_unfitted():
    X, y = _xy()
    clf = MLPClassifier(optimizer="lion")
    with pytest.raises(ConfigError):
        clf.fit(X, y)
    assert not hasattr(clf, "classes_") and not hasattr(clf, "n_features_in_")
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_the_divergence_warning_comes_after_every_fitted_attribute():
    """With warnings as errors a diverged fit raises; the estimator must still be consistent."""
    X, y = _xy()
    clf = MLPClassifier(**SMALL).fit(X, y)
    clf.set_params(optimizer="sgd", lr=1e6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning):
            clf.fit(X, np.where(y == "a", "p", "q"))
    assert clf.classes_.tolist() == ["p", "q"] and clf.coefs_[-1].shape[1] == 2 and clf.status_ == "diverged"


# --------------------------------------------------------------------------- warm start


def test_warm_start_with_a_new_architecture_says_what_to_do():
    X, y = _xy()
    clf = MLPClassifier(warm_start=True, **SMALL).fit(X, y)
    clf.set_params(hidden_layer_sizes=(5,))
    with pytest.raises(ConfigError, match=r"warm_start=True.*\[4, 8, 3\].*\[4, 5, 3\].*warm_start=False"):
        clf.fit(X, y)
    clf.set_params(warm_start=False)
    assert clf.fit(X, y).coefs_[0].shape == (4, 5)


def test_warm_start_with_unseen_labels_names_them():
    X, y = _xy()
    clf = MLPClassifier(warm_start=True, **SMALL).fit(X, y)
    with pytest.raises(ConfigError, match=r"keeps the classes.*\['z'\]"):
        clf.fit(X, np.where(y == "a", "z", y))
    with pytest.raises(ConfigError, match="keeps the classes"):
        clf.fit(X, np.arange(len(X)) % 3)  # other label types entirely
    # a subset of the known classes is fine, and training continues from the fitted weights
    w0 = clf.coefs_[0].copy()
    clf.fit(X, np.where(y == "c", "a", y))
    assert clf.classes_.tolist() == ["a", "b", "c"] and not np.array_equal(w0, clf.coefs_[0])


# --------------------------------------------------------------------------- conventions on odd data


@pytest.mark.parametrize(
    "X,y",
    [
        (np.random.default_rng(0).normal(size=(5, 3)), np.array(["x", "y", "x", "y", "x"])),  # fewer rows than a batch
        (np.random.default_rng(1).normal(size=(40, 1)), np.arange(40) % 2),  # one feature
        (np.random.default_rng(2).normal(size=(20, 2000)), np.arange(20) % 2),  # wide
        (np.random.default_rng(3).normal(size=(200, 3)), np.arange(200) % 100),  # 100 classes, 2 rows each
        (np.random.default_rng(4).normal(size=(100, 3)), (np.arange(100) == 0).astype(int)),  # 1% positives
        (np.repeat(np.eye(3), 10, axis=0), np.repeat([10, -5, 7], 10)),  # duplicated rows, odd integer labels
    ],
)
def test_classifier_probabilities_follow_classes_on_odd_data(X, y):
    clf = MLPClassifier(batch_size=64, **SMALL).fit(X, y)
    assert clf.classes_.tolist() == sorted(set(y.tolist())) and clf.n_features_in_ == X.shape[1]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(clf.classes_)) and np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert 0.0 <= clf.score(X, y) <= 1.0
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), proba)


def test_regressor_constant_and_multi_output_targets():
    X, _ = _xy()
    reg = MLPRegressor(**SMALL).fit(X, np.full(len(X), 3.0))
    assert np.all(np.isfinite(reg.predict(X)))
    Y = np.c_[X[:, 0], -X[:, 1]]
    for dtype in ("float32", "float64"):
        reg = MLPRegressor(dtype=dtype, **SMALL).fit(X.astype(np.float32), Y)
        assert reg.predict(X).shape == (len(X), 2) and reg.coefs_[0].dtype == np.dtype(dtype)
        assert np.isfinite(reg.score(X, Y))


def test_feature_names_wrong_width_and_unfitted_errors():
    pd = pytest.importorskip("pandas")
    X, y = _xy()
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = MLPClassifier(**SMALL).fit(df, y)
    assert clf.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="feature"):
        clf.predict(df[["a", "b", "c"]])
    with pytest.raises(ValueError, match="has 3 features"):
        MLPClassifier(**SMALL).fit(X, y).predict(X[:, :3])
    for est in (MLPClassifier(), MLPRegressor()):
        with pytest.raises(NotFittedError):
            est.predict(X)
    with pytest.raises(NotFittedError):
        MLPClassifier().predict_proba(X)


def test_clone_get_set_params_and_determinism():
    X, y = _xy()
    clf = MLPClassifier(optimizer="adamw", optimizer_params={"weight_decay": 0.1}, **SMALL)
    c2 = clone(clf).set_params(lr=0.02)
    assert c2.get_params()["optimizer_params"] == {"weight_decay": 0.1} and c2.lr == 0.02 and clf.lr == 1e-3
    a, b = clone(clf).fit(X, y), clone(clf).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert clf.optimizer_params == {"weight_decay": 0.1}  # fit never writes to the caller's dict


def _shut_down_a_study_executor():
    """Stop the loky executor an earlier ``run_study(n_jobs > 1)`` in this process left behind.

    lrsearch/search/workers.py starts its workers with loky's ``get_reusable_executor``, the same
    process-wide singleton joblib reuses, but without joblib's ``_temp_folder_manager``: a later
    ``joblib.Parallel`` (GridSearchCV with n_jobs) then fails with an AttributeError. That is
    tested (xfail) below; here it must not make the estimator's own test depend on test order.
    """
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor
    if executor is not None and not hasattr(executor, "_temp_folder_manager"):
        executor.shutdown(wait=True)


def _grid(n_jobs=2):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), MLPClassifier(**SMALL))
    return GridSearchCV(pipe, {"mlpclassifier__lr": [1e-3, 1e-2]}, cv=2, n_jobs=n_jobs)


def test_grid_search_after_a_parallel_study():
    from lrsearch.search.workers import worker_executor

    X, y = _xy(n=90)
    try:
        worker_executor(3).submit(int, 1).result()  # what run_study(n_jobs=3) leaves in the process
        _grid().fit(X, y)
    finally:
        _shut_down_a_study_executor()


def test_grid_search_in_a_pipeline_with_two_jobs():
    _shut_down_a_study_executor()
    X, y = _xy(n=90)
    grid = _grid().fit(X, y)
    assert grid.best_estimator_[-1].classes_.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(grid.predict_proba(X).sum(axis=1), 1.0)


def test_early_stopping_holds_out_rows_and_keeps_the_best_epoch():
    from lrsearch import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = np.where(X[:, 0] + rng.normal(size=200) > 0, "yes", "no")
    clf = MLPClassifier(hidden_layer_sizes=(32,), lr=0.05, epochs=300, early_stopping=True, n_iter_no_change=4,
                        random_state=0, dtype="float64").fit(X, y)  # fmt: skip
    assert clf.status_ == "early_stopped" and clf.n_iter_ < 300
    assert clf.best_epoch_ == int(np.argmin(clf.validation_loss_curve_)) + 1
    assert clf.best_validation_loss_ == pytest.approx(min(clf.validation_loss_curve_))
    assert len(clf.loss_curve_) == len(clf.validation_loss_curve_) == clf.n_iter_
    # the kept weights are the best epoch's: the validation loss of the returned model is the best one
    from sklearn.model_selection import train_test_split

    seed = int(np.random.RandomState(0).randint(0, 2**31 - 1))
    codes = (y == "yes").astype(int)
    _, X_va, _, y_va = train_test_split(X, codes, test_size=20, random_state=seed, stratify=codes)
    proba = clf.predict_proba(X_va)
    ce = -np.mean(np.log(proba[np.arange(len(y_va)), y_va]))
    assert ce == pytest.approx(clf.best_validation_loss_, rel=1e-9)
    off = MLPClassifier(hidden_layer_sizes=(8,), epochs=3).fit(X, y)
    assert off.validation_loss_curve_ is None and off.best_epoch_ is None and off.n_iter_ == 3
    reg = MLPRegressor(hidden_layer_sizes=(8,), epochs=5, early_stopping=True).fit(X, X[:, 0])
    assert len(reg.validation_loss_curve_) == reg.n_iter_
    with pytest.raises(ConfigError, match="validation_fraction"):
        MLPClassifier(early_stopping=True, validation_fraction=1.5).fit(X, y)


def test_early_stopping_stops_when_scikit_learns_mlp_would():
    """scikit-learn's MLP counts epochs without a gain of ``tol`` and stops once the count exceeds
    ``n_iter_no_change`` (``_fit_stochastic``), i.e. after n_iter_no_change + 1 such epochs in a row."""
    from lrsearch import MLPClassifier

    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    for n_iter_no_change, tol in ((2, 0.0), (4, 1e-3)):
        clf = MLPClassifier(hidden_layer_sizes=(32,), lr=0.05, epochs=300, early_stopping=True,
                            n_iter_no_change=n_iter_no_change, tol=tol, random_state=0, dtype="float64").fit(X, y)
        best, count, stop = np.inf, 0, None
        for epoch, v in enumerate(clf.validation_loss_curve_, start=1):
            if v < best - tol:
                best, count = v, 0
            else:
                count += 1
            if count > n_iter_no_change:
                stop = epoch
                break
        assert stop is not None and clf.status_ == "early_stopped" and clf.n_iter_ == stop


def test_early_stopping_needs_two_validation_rows():
    from lrsearch import MLPClassifier

    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ConfigError, match="at least 2 to validate on.*1 for validation"):
        MLPClassifier(early_stopping=True, validation_fraction=0.05).fit(X, y)
    MLPClassifier(hidden_layer_sizes=(4,), epochs=2, early_stopping=True, validation_fraction=0.1).fit(X, y)


def test_sparse_input_from_a_one_hot_pipeline_fits_and_predicts_as_dense():
    """A OneHotEncoder's default sparse output in a Pipeline (what scikit-learn's MLP accepts): same model as the
    dense input, bit for bit."""
    import scipy.sparse as sp
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from lrsearch import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(0)
    cats = rng.choice(list("abcdefghij"), size=(120, 2))
    y = (cats[:, 0] < "e").astype(int)
    pipe = make_pipeline(make_column_transformer((OneHotEncoder(), [0, 1])),
                         MLPClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0)).fit(cats, y)  # fmt: skip
    Xs = pipe[0].transform(cats)
    assert sp.issparse(Xs)
    dense = MLPClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(Xs.toarray(), y)
    np.testing.assert_array_equal(pipe.predict_proba(cats), dense.predict_proba(Xs.toarray()))
    reg = MLPRegressor(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(sp.csr_matrix(Xs), y.astype(float))
    assert reg.predict(sp.csc_matrix(Xs)).shape == (120,)


def test_a_sparse_matrix_too_large_to_densify_is_refused_clearly(monkeypatch):
    import scipy.sparse as sp

    import lrsearch.data as data
    from lrsearch import MLPClassifier
    from lrsearch.exceptions import DataError

    monkeypatch.setattr(data, "MAX_DENSE_CELLS", 1000)  # one guard for the estimators and load
    X = sp.random(100, 20, density=0.1, format="csr", random_state=0)
    with pytest.raises(DataError, match="sparse matrix of shape .100, 20.*TruncatedSVD"):
        MLPClassifier(epochs=1).fit(X, np.arange(100) % 2)


# -- session 6 review: what a scikit-learn user relies on -------------------------------------------------------------


def test_a_training_loss_plateau_stops_the_fit_as_in_scikit_learn():
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=300, tol=0.05, n_iter_no_change=3, random_state=0).fit(X, y)
    full = MLPClassifier(hidden_layer_sizes=(8,), epochs=300, tol=0.0, n_iter_no_change=300, random_state=0)
    with pytest.warns(ConvergenceWarning, match="epochs=300 ran out"):
        full.fit(X, y)
    expected = sklearn_stop_epoch(full.loss_curve_, 0.05, 3)  # the same run, read by the reference rule
    assert expected is not None and clf.n_iter_ == expected and clf.status_ == "converged"
    np.testing.assert_allclose(clf.loss_curve_, full.loss_curve_[:expected])
    assert clf.best_loss_ == min(clf.loss_curve_) and clf.out_activation_ == "softmax"


def test_warm_start_adds_up_epochs_samples_and_the_curve():
    X, y = make_regression(n_samples=120, n_features=4, random_state=1)
    y = y / y.std()
    reg = MLPRegressor(hidden_layer_sizes=(8,), epochs=5, tol=0.0, n_iter_no_change=99, warm_start=True,
                       random_state=0)  # fmt: skip
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    first = list(reg.loss_curve_)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    # as scikit-learn's: the curve and the samples seen add up, n_iter_ counts this fit's epochs
    assert reg.n_iter_ == 5 and reg.t_ == 10 * 120 and reg.loss_curve_[:5] == first and len(reg.loss_curve_) == 10
    assert reg.out_activation_ == "identity"


def test_early_stopping_keeps_scikit_learns_score_attributes():
    X, y = make_classification(n_samples=300, n_features=6, random_state=2)
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=40, early_stopping=True, random_state=0).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ and clf.best_loss_ is None
    # the score of the epoch whose weights are kept (scikit-learn keeps its best score's weights)
    assert clf.best_validation_score_ == clf.validation_scores_[clf.best_epoch_ - 1]
    assert clf.best_validation_score_ == pytest.approx(clf.score(*_held_out(clf, X, y)))


def _held_out(clf, X, y):
    """The rows early stopping held out (the same seeded split the estimator made)."""
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state

    seed = int(check_random_state(clf.random_state).randint(0, 2**31 - 1))
    n_val = int(np.ceil(clf.validation_fraction * len(X)))
    _, X_va, _, y_va = train_test_split(X, y, test_size=n_val, random_state=seed, stratify=y)
    return X_va, y_va


def test_a_schedule_runs_its_course_without_the_plateau_stop():
    """The plateau stop cut cosine and one-cycle short and left schedule='plateau' no epoch to lower the rate."""
    X, y = make_classification(n_samples=200, n_features=6, random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a schedule that ran its course is not 'unconverged'
        for schedule in ("cosine", "plateau"):
            clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=120, schedule=schedule, tol=0.05, n_iter_no_change=2,
                                random_state=0).fit(X, y)  # fmt: skip
            assert clf.n_iter_ == 120 and clf.status_ == "completed", schedule
    const = MLPClassifier(hidden_layer_sizes=(8,), epochs=120, tol=0.05, n_iter_no_change=2, random_state=0).fit(X, y)
    assert const.status_ == "converged" and const.n_iter_ < 120 and "tol=0.05" in const.result_.reason


def test_logistic_is_sigmoid_and_multilabel_targets_are_explained():
    X, y = make_classification(n_samples=100, n_features=5, random_state=3)
    a = MLPClassifier(hidden_layer_sizes=(6,), activation="logistic", epochs=3, random_state=0).fit(X, y)
    b = MLPClassifier(hidden_layer_sizes=(6,), activation="sigmoid", epochs=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    with pytest.raises(ValueError, match=r"multilabel .*MultiOutputClassifier"):
        MLPClassifier(epochs=2).fit(X, np.c_[y, 1 - y, y])
