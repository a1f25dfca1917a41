"""Review, session 7: the estimators' batch clipping warns as scikit-learn's does, and their parameters are
checked as scikit-learn's ``_parameter_constraints`` check them (``batch_size='auto'`` included)."""

from __future__ import annotations

import logging
import math
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from lrsearch import ConfigError, MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_CLIPPED = r"Got `batch_size` larger than sample size\. It is going to be clipped"


def _xy(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)


def _only_clipping_is_an_error() -> None:
    """Inside ``warnings.catch_warnings()``: the clipping UserWarning raises (ConvergenceWarning, a UserWarning
    too, stays ignored)."""
    warnings.simplefilter("error", UserWarning)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)


def _same_fit(a, b) -> None:
    for p, q in zip([*a.coefs_, *a.intercepts_], [*b.coefs_, *b.intercepts_]):
        np.testing.assert_array_equal(p, q)
    assert a.loss_curve_ == b.loss_curve_


# ----------------------------------------------------------------------------- A. the clipping is a UserWarning


def test_a_batch_larger_than_the_rows_is_a_user_warning_not_a_log_line(caplog):
    X, y = _xy(23)  # a pair (batch_size, rows) no other test uses: the core would log it once per process
    with caplog.at_level(logging.DEBUG, logger="lrsearch"), pytest.warns(UserWarning, match=_CLIPPED) as said:
        clf = MLPClassifier(hidden_layer_sizes=(4,), epochs=2, batch_size=977, random_state=0).fit(X, y)
    assert not [r for r in caplog.records if "977" in r.getMessage()]  # no stderr line warnings cannot silence
    ours = [w for w in said if "It is going to be clipped" in str(w.message)]
    assert len(ours) == 1 and ours[0].filename == __file__  # points at the caller's fit
    assert "batch_size=977" in str(ours[0].message) and "23 rows" in str(ours[0].message)
    _same_fit(clf, MLPClassifier(hidden_layer_sizes=(4,), epochs=2, batch_size=23, random_state=0).fit(X, y))


def test_the_clipping_warning_can_be_silenced_and_partial_fit_and_the_regressor_give_it_too(caplog, capsys):
    X, y = _xy(19)
    with caplog.at_level(logging.DEBUG, logger="lrsearch"), warnings.catch_warnings():
        _only_clipping_is_an_error()
        warnings.filterwarnings("ignore", message="Got `batch_size`", category=UserWarning)
        MLPRegressor(hidden_layer_sizes=(3,), epochs=1, batch_size=983).fit(X, y.astype(float))
    assert not [r for r in caplog.records if "983" in r.getMessage()] and "983" not in capsys.readouterr().err
    with pytest.warns(UserWarning, match=_CLIPPED):
        MLPClassifier(hidden_layer_sizes=(3,), batch_size=981).partial_fit(X, y, classes=[0, 1])
    with pytest.warns(UserWarning, match=_CLIPPED):
        MLPRegressor(hidden_layer_sizes=(3,), epochs=1, batch_size=979).partial_fit(X, y.astype(float))


def test_early_stopping_clips_to_the_rows_it_trains_on():
    X, y = _xy(30)  # 3 rows held out: 27 train
    with pytest.warns(UserWarning, match="27 rows"):
        MLPClassifier(hidden_layer_sizes=(3,), epochs=2, batch_size=28, early_stopping=True).fit(X, y)
    with warnings.catch_warnings():
        _only_clipping_is_an_error()  # 27 fit exactly: nothing to say
        MLPClassifier(hidden_layer_sizes=(3,), epochs=2, batch_size=27, early_stopping=True).fit(X, y)


# ----------------------------------------------------------------------------- B. batch_size='auto'


def test_batch_size_auto_is_min_200_n_samples_as_in_scikit_learn():
    assert MLPClassifier().batch_size == 32 and MLPRegressor().get_params()["batch_size"] == 32  # default kept
    X, y = _xy(250)
    kw = {"hidden_layer_sizes": (3,), "epochs": 2, "random_state": 0, "shuffle": False}
    _same_fit(MLPClassifier(batch_size="auto", **kw).fit(X, y), MLPClassifier(batch_size=200, **kw).fit(X, y))
    with warnings.catch_warnings():
        _only_clipping_is_an_error()  # 'auto' never needs clipping
        small = MLPRegressor(batch_size="auto", **kw).fit(X[:40], y[:40].astype(float))
    _same_fit(small, MLPRegressor(batch_size=40, **kw).fit(X[:40], y[:40].astype(float)))


# ----------------------------------------------------------------------------- B. parameters checked at fit

_BAD = [
    ("tol", -1, "[0.0, inf)"),
    ("tol", float("nan"), "[0.0, inf)"),
    ("n_iter_no_change", 0, "[1, inf]"),
    ("n_iter_no_change", 2.5, "[1, inf]"),
    ("n_iter_no_change", True, "[1, inf]"),
    ("validation_fraction", 1.0, "[0.0, 1.0)"),
    ("validation_fraction", -0.1, "[0.0, 1.0)"),
    ("epochs", 0, "[1, inf]"),
    ("batch_size", 0, "'auto'"),
    ("batch_size", "big", "'auto'"),
    ("batch_size", 8.0, "'auto'"),
    ("lr", 0.0, "(0.0, inf)"),
    ("early_stopping", "yes", "bool"),
    ("warm_start", 1, "bool"),
    ("shuffle", None, "bool"),
    ("normalize_grad", "no", "bool"),
]


@pytest.mark.parametrize("est", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize(("name", "value", "valid"), _BAD, ids=[f"{n}={v!r}" for n, v, _ in _BAD])
def test_an_invalid_parameter_is_refused_at_fit_naming_it_its_value_and_range(est, name, value, valid):
    X, y = _xy(12)
    model = est(**{"hidden_layer_sizes": (3,), "epochs": 1, "batch_size": 4, name: value})  # __init__ only stores it
    assert model.get_params()[name] is value
    with pytest.raises(ConfigError) as err:
        model.fit(X, y)
    msg = str(err.value)
    assert isinstance(err.value, ValueError) and f"'{name}' parameter of {est.__name__}" in msg
    assert f"Got {value!r} instead" in msg and valid in msg
    assert not hasattr(model, "coefs_") and not hasattr(model, "n_features_in_")


@pytest.mark.parametrize(("optimizer", "params", "valid"), [
    ("sgd", {"momentum": 1.5}, "[0.0, 1.0]"),
    ("rmsprop", {"momentum": -0.1}, "[0.0, 1.0]"),
    ("adam", {"eps": 0.0}, "(0.0, inf)"),
])  # fmt: skip
def test_optimizer_params_follow_scikit_learns_momentum_and_epsilon_ranges(optimizer, params, valid):
    X, y = _xy(12)
    clf = MLPClassifier(hidden_layer_sizes=(3,), epochs=1, batch_size=4, optimizer=optimizer, optimizer_params=params)
    ((key, _),) = params.items()
    with pytest.raises(
        ConfigError, match=rf"'{key}' parameter of MLPClassifier's optimizer_params .*{re.escape(valid)}"
    ):
        clf.fit(X, y)


def test_partial_fit_checks_the_parameters_too():
    X, y = _xy(12)
    with pytest.raises(ConfigError, match=r"'tol' parameter of MLPClassifier"):
        MLPClassifier(hidden_layer_sizes=(3,), tol=-1, batch_size=4).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ConfigError, match=r"'n_iter_no_change' parameter of MLPRegressor"):
        MLPRegressor(hidden_layer_sizes=(3,), n_iter_no_change=0, batch_size=4).partial_fit(X, y.astype(float))


def test_the_edges_scikit_learn_accepts_are_accepted():
    X, y = _xy(20)
    kw = {"hidden_layer_sizes": (3,), "epochs": 2, "batch_size": 5}
    for extra in ({"tol": 0.0}, {"validation_fraction": 0.0}, {"shuffle": np.True_, "warm_start": np.False_},
                  {"batch_size": np.int64(5)}, {"optimizer": "momentum", "optimizer_params": {"momentum": 1.0}},
                  {"n_iter_no_change": np.int32(1)}):  # fmt: skip
        MLPClassifier(**{**kw, **extra}).fit(X, y)


def test_n_iter_no_change_inf_never_stops_and_keeps_the_best_epoch():
    """scikit-learn's ``n_iter_no_change=np.inf``: no plateau stop, with or without early stopping."""
    X, y = _xy(60)
    kw = {"hidden_layer_sizes": (4,), "epochs": 12, "lr": 0.05, "tol": 10.0, "random_state": 0, "batch_size": 16}
    es = MLPClassifier(early_stopping=True, n_iter_no_change=np.inf, **kw)
    with pytest.warns(ConvergenceWarning, match="n_iter_no_change=inf"):
        es.fit(X, y)
    assert es.n_iter_ == 12 and es.status_ == "completed"  # tol=10 would stop it at once otherwise
    # the best moves on gains larger than tol (none here): the first epoch's weights are kept
    assert es.best_epoch_ == 1 and len(es.validation_loss_curve_) == 12
    plain = MLPRegressor(n_iter_no_change=math.inf, **kw).fit(X, y.astype(float))
    assert plain.n_iter_ == 12 and plain.status_ == "completed"
    # the finite stop still works: epoch 1 sets the best, epochs 2-4 do not beat it by tol, 3 > 2 stops
    assert MLPRegressor(n_iter_no_change=2, **kw).fit(X, y.astype(float)).n_iter_ == 4
