"""find_lr takes its data as recommend() does: tuples and names through lrsearch.data.load, arrays of numbers
as given, other arrays (text columns, text labels) loaded as recommend(X, y) loads them, sparse X densified.

Each test compares against an independent reference: the same call on the Dataset that lrsearch.data.load
returns, or on the plain 1-D / dense / integer-coded version of the input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrsearch.data import load
from lrsearch.exceptions import ConfigError, DataError
from lrsearch.finder import find_lr, find_lr_all

pytestmark = pytest.mark.usefixtures("quiet_logs")

#: small and short: one repeat of 30 steps, one 10-step probe (the probes read constant_loss and the hold-out)
FAST = dict(hidden=(8,), repeats=1, num_iter=30, probes=1, probe_steps=10)


def _xy(n=150, seed=0, loc=0.0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc, scale, size=(n, 3))
    z = (X - loc) / scale
    return X, (z[:, 0] + 0.5 * z[:, 1] > 0).astype(np.int64)


def _assert_same(a, b):
    """Two results of the same range test and probes on the same rows."""
    assert a.task == b.task and a.stop_reason == b.stop_reason and a.rule == b.rule
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.smoothed, b.smoothed)
    assert (a.probes is None) == (b.probes is None)
    if a.probes is not None:
        np.testing.assert_array_equal(a.probes.lrs, b.probes.lrs)
        np.testing.assert_array_equal(a.probes.losses, b.probes.losses)
    assert a.lr == b.lr or (math.isnan(a.lr) and math.isnan(b.lr))


def test_a_tuple_goes_through_load_as_recommend_loads_it():
    """Features around 5000 +- 1000: load standardises them; find_lr((X, y)) used them raw (a 5x larger rate)."""
    X, y = _xy(loc=5000.0, scale=1000.0)
    got = find_lr((X, y), **FAST)
    _assert_same(got, find_lr(load((X, y)), **FAST))
    assert got.info["held_out"] == "validation split"
    assert not any("far from unit scale" in w for w in got.warnings)
    for seed in (1, 2):  # find_lr's seed is load's, as recommend passes it
        _assert_same(find_lr((X, y), seed=seed, **FAST), find_lr(load((X, y), seed=seed), seed=seed, **FAST))
    _assert_same(find_lr((X, y), dtype="float64", **FAST), find_lr(load((X, y), dtype="float64"), dtype="float64",
                                                                 **FAST))  # fmt: skip
    # arrays passed as X, y are still used as given (the documented fast path): not standardised, and warned about
    raw = find_lr(X, y, **FAST)
    assert raw.info["held_out"] == "held-out rows"
    assert any("far from unit scale" in w for w in raw.warnings)
    assert not np.array_equal(raw.losses[: got.losses.size], got.losses[: raw.losses.size])


def test_text_labels_in_a_tuple_or_arrays_are_encoded_as_load_encodes_them():
    X, y = _xy()
    words = np.array(["no", "yes"])[y]
    # load encodes the words to the codes 0, 1 (sorted), so the words give the integer labels' result
    _assert_same(find_lr((X, words), **FAST), find_lr((X, y), **FAST))
    _assert_same(find_lr((X, words), **FAST), find_lr(load((X, words)), **FAST))
    # X, y arrays with text labels: as recommend(X, y) loads them, in their own units
    _assert_same(find_lr(X, words, **FAST), find_lr(load((X, words), scale=False), **FAST))
    _assert_same(find_lr(X, words.tolist(), **FAST), find_lr(load((X, words), scale=False), **FAST))


def test_a_dataframe_with_a_text_column_is_loaded_as_recommend_loads_it():
    pd = pytest.importorskip("pandas")
    X, y = _xy()
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "colour": np.where(X[:, 2] > 0, "red", "blue")})
    got = find_lr(df, y, **FAST)  # was: UFuncTypeError "Cannot cast ufunc 'square' input from dtype('O')"
    _assert_same(got, find_lr(load((df, y), scale=False), **FAST))
    assert got.task == "classification" and got.info["held_out"] == "validation split"
    _assert_same(find_lr(df, pd.Series(np.array(["no", "yes"])[y]), **FAST), got)
    # find_lr_all takes its data the same way
    both = find_lr_all(df, y, optimizers=["sgd"], **FAST)
    _assert_same(both["sgd"], find_lr(load((df, y), scale=False), optimizer="sgd", **FAST))


def test_the_range_test_of_recommend_on_a_dataframe_is_find_lrs():
    """recommend(df, y) loads df with load((df, y), scale=False) and runs find_lr on it: the same curve."""
    pd = pytest.importorskip("pandas")
    from lrsearch.recommend import recommend

    X, y = _xy()
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "colour": np.where(X[:, 2] > 0, "red", "blue")})
    rec = recommend(df, y, optimizers=["adam"], hidden=(8,), repeats=1, epochs=2)
    ours = find_lr(df, y, optimizer="adam", hidden=(8,), repeats=1, epochs=2)
    _assert_same(ours, rec.range_tests[0])


def test_a_column_vector_y_is_its_one_target():
    X, y = _xy()
    col = y.reshape(-1, 1)  # was: ValueError "object too deep for desired array" in constant_loss
    _assert_same(find_lr(X, col, **FAST), find_lr(X, y, **FAST))
    _assert_same(find_lr(X, col, task="classification", **FAST), find_lr(X, y, task="classification", **FAST))
    _assert_same(find_lr(X, col.astype(np.float64), **FAST), find_lr(X, y, **FAST))
    t = X @ np.array([1.0, -0.5, 0.25])
    _assert_same(find_lr(X, t[:, None], **FAST), find_lr(X, t, **FAST))
    _assert_same(find_lr((X, col), **FAST), find_lr((X, y), **FAST))
    all_col = find_lr_all(X, col, optimizers=["sgd", "adam"], **FAST)
    all_1d = find_lr_all(X, y, optimizers=["sgd", "adam"], **FAST)
    for name in ("sgd", "adam"):
        _assert_same(all_col[name], all_1d[name])


def test_sparse_X_is_densified_and_a_huge_one_refused():
    sparse = pytest.importorskip("scipy.sparse")
    X, y = _xy()
    X[np.abs(X) < 0.5] = 0.0  # mostly zeros, as a sparse matrix is
    for fmt in ("csr", "csc", "coo"):
        # was: DataError "X must be a 2-D array ... got shape ()"
        _assert_same(find_lr(sparse.csr_matrix(X).asformat(fmt), y, **FAST), find_lr(X, y, **FAST))
    _assert_same(find_lr((sparse.csr_matrix(X), y), **FAST), find_lr((X, y), **FAST))
    huge = sparse.csr_matrix((100_000, 20_000))  # 2e9 cells: 8 GB dense in float32
    with pytest.raises(DataError, match="sparse matrix of shape.*TruncatedSVD"):
        find_lr(huge, np.zeros(100_000, dtype=np.int64), **FAST)


def test_unusable_arrays_are_lrsearch_errors_that_name_the_fix():
    X, y = _xy()
    words = np.array(["no", "yes"])[y]
    with pytest.raises(DataError, match="not numeric.*task='classification'"):
        find_lr(X, words, task="regression", **FAST)  # was: ValueError "could not convert string to float"
    with pytest.raises(DataError, match=r"integer labels.*holds 0\.5.*task='regression'"):
        find_lr(X, np.where(y == 1, 0.5, 1.0), task="classification", **FAST)
    with pytest.raises(DataError, match="one target column.*task='regression'"):
        find_lr(X, np.stack([y, 1 - y], axis=1), task="classification", **FAST)
    with pytest.raises(DataError, match="X cannot be read as an array"):
        find_lr([[1.0, 2.0], [3.0]] * 20, np.zeros(40, dtype=np.int64), **FAST)  # ragged rows
    with pytest.raises(DataError, match="y must be 1-D"):
        find_lr(X, np.zeros((len(X), 1, 1)), **FAST)
    with pytest.raises(ConfigError, match="needs targets"):
        find_lr(X, **FAST)
