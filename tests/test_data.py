"""Tests of lrsearch.data: loaders, validation messages, splits and scaling."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lrsearch.data import BUILTIN_DATASETS, MAX_INFERRED_CLASSES, Dataset, load
from lrsearch.exceptions import ConfigError, DataError, LRSearchError

EXPECTED = {
    "iris": ("classification", 150, 4, 3),
    "digits": ("classification", 1797, 64, 10),
    "wine": ("classification", 178, 13, 3),
    "breast_cancer": ("classification", 569, 30, 2),
    "diabetes": ("regression", 442, 10, None),
    "linnerud": ("regression", 20, 3, None),
}


def _with_ids(n: int = 200, n_classes: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features whose first column is the row id (recoverable via the scaler), plus labels."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.arange(n, dtype=np.float64), rng.normal(5.0, 3.0, size=(n, 3))])
    return X, np.arange(n) % n_classes


def _row_ids(ds: Dataset, X: np.ndarray) -> np.ndarray:
    return np.rint(ds.x_scaler.inverse_transform(X.astype(np.float64))[:, 0]).astype(int)


# --- bundled data sets -------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN_DATASETS)
def test_builtin_loads_with_right_task_shapes_and_dtypes(name: str) -> None:
    task, n, d, k = EXPECTED[name]
    ds = load(name)
    assert ds.task == task and ds.name == name
    assert len(ds.X_train) + len(ds.X_val) + len(ds.X_test) == n
    for X, y in ((ds.X_train, ds.y_train), (ds.X_val, ds.y_val), (ds.X_test, ds.y_test)):
        assert X.dtype == np.float32 and X.flags.c_contiguous and X.shape[1] == d
        assert len(y) == len(X)
        if task == "classification":
            assert y.dtype == np.int64 and y.min() >= 0 and y.max() < k
        else:
            assert y.dtype == np.float32 and y.ndim == 2
    assert len(ds.feature_names) == d and all(isinstance(f, str) for f in ds.feature_names)
    assert ds.n_classes == k
    if task == "classification":
        assert ds.n_outputs == k and len(ds.classes) == k and ds.y_mean is None and ds.y_scale is None
    else:
        assert ds.classes is None and ds.n_outputs == ds.y_train.shape[1] == len(ds.y_mean)
    summary = ds.summary()
    assert summary["name"] == name and summary["features"] == d and sum(summary["rows"].values()) == n


def test_builtin_name_is_case_insensitive_and_float64_dtype() -> None:
    ds = load("Breast-Cancer", dtype="float64")
    assert ds.name == "breast_cancer" and ds.X_train.dtype == np.float64


# --- splits ------------------------------------------------------------------------------


def test_split_fractions_of_all_rows() -> None:
    assert load("iris").summary()["rows"] == {"train": 90, "val": 30, "test": 30}
    # ceil(0.1 * 178) = 18, ceil(0.3 * 178) = 54
    assert load("wine", val_size=0.1, test_size=0.3).summary()["rows"] == {"train": 106, "val": 18, "test": 54}


def test_split_is_a_seeded_partition() -> None:
    X, y = _with_ids()
    a, b, c = load((X, y), seed=3), load((X, y), seed=3), load((X, y), seed=4)
    ids = [_row_ids(a, part) for part in (a.X_train, a.X_val, a.X_test)]
    assert sorted(np.concatenate(ids).tolist()) == list(range(len(X)))
    for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert set(_row_ids(c, c.X_test)) != set(ids[2])


def test_zero_val_and_test_sizes_give_empty_splits() -> None:
    ds = load("iris", val_size=0.0, test_size=0.0)
    assert ds.X_train.shape == (150, 4) and ds.X_val.shape == (0, 4) and ds.X_test.shape == (0, 4)
    assert ds.y_val.dtype == np.int64


def test_stratification_keeps_class_proportions() -> None:
    X, _ = _with_ids(n=200)
    y = np.where(np.arange(200) < 150, "common", "rare")  # 75% / 25%
    ds = load((X, y), seed=11)
    rare = int(np.flatnonzero(ds.classes == "rare")[0])
    assert [int(np.sum(part == rare)) for part in (ds.y_train, ds.y_val, ds.y_test)] == [30, 10, 10]


def test_stratification_falls_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    X, y = _with_ids(n=30, n_classes=10)  # 6 test rows cannot hold 10 classes
    with caplog.at_level(logging.WARNING, logger="lrsearch.data"):
        ds = load((X, y))
    assert "non-stratified" in caplog.text
    assert sum(ds.summary()["rows"].values()) == 30


# --- scaling and encoding ----------------------------------------------------------------


def test_scaler_is_fitted_on_training_rows_only() -> None:
    X, y = _with_ids()
    ds = load((X, y))
    train_ids = _row_ids(ds, ds.X_train)
    np.testing.assert_allclose(ds.x_scaler.mean_, X[train_ids].mean(axis=0))
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.X_train.std(axis=0), 1.0, atol=1e-4)
    assert not np.allclose(ds.X_test.mean(axis=0), 0.0, atol=1e-3)


def test_constant_column_gives_no_nan() -> None:
    X, y = _with_ids()
    X[:, 2] = 7.0
    ds = load((X, y))
    assert np.isfinite(ds.X_train).all() and np.all(ds.X_train[:, 2] == 0.0)


def test_string_and_bool_columns_are_one_hot_encoded(tmp_path: Path) -> None:
    n = 60
    frame = pd.DataFrame({
        "age": np.linspace(20, 80, n),
        "color": np.array(["red", "green", "blue"])[np.arange(n) % 3],
        "member": np.arange(n) % 2 == 0,
        "label": np.arange(n) % 2,
    })
    frame.to_csv(tmp_path / "people.csv", index=False)
    ds = load(tmp_path / "people.csv")
    assert ds.name == "people" and ds.target_name == "label" and ds.task == "classification"
    assert ds.feature_names == ["age", "color_blue", "color_green", "color_red", "member_False", "member_True"]
    onehot = ds.X_train[:, 1:4]
    assert set(np.unique(onehot)) == {0.0, 1.0} and np.all(onehot.sum(axis=1) == 1)
    new = pd.DataFrame({"age": [30.0], "color": ["purple"], "member": [True]})
    np.testing.assert_array_equal(ds.x_scaler.transform(new)[0, 1:4], [0.0, 0.0, 0.0])


def test_string_labels_are_encoded_and_classes_kept() -> None:
    X, _ = _with_ids(n=90)
    y = np.array(["dog", "cat", "bird"])[np.arange(90) % 3]
    ds = load((X, y))
    assert ds.classes.tolist() == ["bird", "cat", "dog"] and ds.n_classes == 3
    assert set(np.unique(ds.y_train)) == {0, 1, 2}
    np.testing.assert_array_equal(ds.inverse_y(ds.y_test), y[_row_ids(ds, ds.X_test)])


def test_regression_targets_standardised_and_inverse_round_trips() -> None:
    X, _ = _with_ids()
    y = 100.0 + 15.0 * np.sin(X[:, 0]) + X[:, 1]
    ds = load((X, y))
    assert ds.task == "regression" and ds.y_train.shape == (len(ds.X_train), 1)
    np.testing.assert_allclose(ds.y_train.mean(), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.y_train.std(), 1.0, atol=1e-4)
    for Xp, yp in ((ds.X_train, ds.y_train), (ds.X_test, ds.y_test)):
        np.testing.assert_allclose(ds.inverse_y(yp)[:, 0], y[_row_ids(ds, Xp)], rtol=1e-5)


# --- file formats and task inference -----------------------------------------------------


def test_parquet_with_named_target(tmp_path: Path) -> None:
    X, y = _with_ids(n=50)
    frame = pd.DataFrame(X, columns=["id", "a", "b", "c"]).assign(price=X[:, 1] * 2.5)
    frame.insert(0, "kind", y)
    frame.to_parquet(tmp_path / "shop.parquet")
    ds = load(str(tmp_path / "shop.parquet"), target="price")
    assert ds.task == "regression" and ds.target_name == "price" and ds.name == "shop"
    assert ds.feature_names == ["kind", "id", "a", "b", "c"]
    multi = load(tmp_path / "shop.parquet", target=["a", "price"])
    assert multi.n_outputs == 2 and multi.y_train.shape[1] == 2


def test_npz_and_tsv(tmp_path: Path) -> None:
    X, y = _with_ids(n=40)
    np.savez(tmp_path / "arr.npz", X=X, y=y)
    ds = load(tmp_path / "arr.npz")
    assert ds.name == "arr" and ds.feature_names == ["x0", "x1", "x2", "x3"] and ds.n_classes == 2
    pd.DataFrame({"a": X[:, 1], "t": y}).to_csv(tmp_path / "t.tsv", sep="\t", index=False)
    assert load(tmp_path / "t.tsv").feature_names == ["a"]


@pytest.mark.parametrize(
    ("y", "task"),
    [
        (np.arange(100) % 3, "classification"),  # few integer levels
        ((np.arange(100) % 2).astype(float), "classification"),  # integer-valued floats
        (np.arange(100) % 2 == 0, "classification"),  # bools
        (np.arange(100) % (MAX_INFERRED_CLASSES + 1), "regression"),  # many integer levels
        (np.arange(100) % 3 + 0.5, "regression"),  # non-integer values
    ],
)
def test_task_inference(y: np.ndarray, task: str) -> None:
    X, _ = _with_ids(n=100)
    assert load((X, y)).task == task


def test_explicit_task_overrides_inference() -> None:
    X, _ = _with_ids(n=100)
    ds = load((X, (np.arange(100) % 3).astype(float)), task="regression")
    assert ds.task == "regression" and ds.classes is None


def test_float_integer_labels_become_int_classes() -> None:
    X, _ = _with_ids(n=60)
    ds = load((X, (np.arange(60) % 2).astype(float)))
    assert ds.classes.dtype.kind == "i"


def test_loading_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    load("iris")
    assert capsys.readouterr() == ("", "")


# --- bad input ---------------------------------------------------------------------------


def _csv(tmp_path: Path, frame: pd.DataFrame, name: str = "d.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _frame(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame({"age": np.arange(n, dtype=float), "income": np.ones(n) * 3.0, "label": np.arange(n) % 2})


def _raises(match: str, *args: object, **kwargs: object) -> str:
    with pytest.raises(DataError, match=match) as info:
        load(*args, **kwargs)
    return str(info.value)


def test_data_error_hierarchy() -> None:
    assert issubclass(DataError, LRSearchError) and issubclass(DataError, ValueError)
    assert issubclass(ConfigError, LRSearchError) and issubclass(ConfigError, ValueError)


def test_missing_feature_value_names_column_and_row(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[[17, 20, 33], "age"] = np.nan
    msg = _raises(r"column 'age' has 3 missing value\(s\) \(first at row 17\)", _csv(tmp_path, frame))
    assert "fill or drop" in msg


def test_missing_string_value_and_missing_target(tmp_path: Path) -> None:
    X, y = _with_ids(n=30)
    Xs = pd.DataFrame({"city": ["a", "b", None] * 10, "v": X[:, 1]})
    _raises(r"column 'city' has 10 missing value\(s\) \(first at row 2\)", (Xs, y))
    frame = _frame()
    frame.loc[5, "label"] = np.nan
    _raises(r"target column 'label' has 1 missing value\(s\) \(first at row 5\)", _csv(tmp_path, frame))


def test_infinite_values(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[[4, 9], "income"] = np.inf
    msg = _raises(r"column 'income' has 2 infinite value\(s\) \(first at row 4\)", _csv(tmp_path, frame))
    assert "replace or drop" in msg
    X, _ = _with_ids(n=40)
    y = np.linspace(0, 1, 40)
    y[7] = -np.inf
    _raises(r"target column 'y' has 1 infinite value\(s\) \(first at row 7\)", (X, y))


def test_empty_file_and_no_rows(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    _raises(r"file '.*empty\.csv' is empty", tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b,label\n")
    _raises(r"data set 'header' has no rows", tmp_path / "header.csv")
    _raises(r"has no rows", (np.zeros((0, 3)), np.zeros(0)))


def test_missing_file_unknown_name_and_bad_extension(tmp_path: Path) -> None:
    _raises(r"file '.*nope\.csv' does not exist", tmp_path / "nope.csv")
    msg = _raises(r"unknown data set 'irsi'", "irsi")
    assert all(name in msg for name in ("iris", "digits", "wine", "breast_cancer", "diabetes"))
    (tmp_path / "data.xlsx").write_text("x")
    _raises(r"unsupported file extension '\.xlsx'.*\.csv.*\.parquet.*\.npz", tmp_path / "data.xlsx")


def test_unknown_target_column_lists_columns(tmp_path: Path) -> None:
    msg = _raises(r"target column 'price' not found", _csv(tmp_path, _frame()), target="price")
    assert "'age', 'income', 'label'" in msg


def test_single_class(tmp_path: Path) -> None:
    frame = _frame().assign(label="yes")
    _raises(r"target column 'label' has a single class \('yes' in all 40 rows\)", _csv(tmp_path, frame))


def test_too_few_rows_says_how_many_are_needed() -> None:
    msg = _raises(r"only 3 row\(s\)", (np.arange(6.0).reshape(3, 2), np.array([0.1, 0.5, 0.9])))
    assert "at least 4 rows" in msg and "val_size=0.2" in msg


def test_too_few_rows_of_a_class(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[0, "label"] = 7
    frame.loc[1, "label"] = 7
    msg = _raises(r"class 7 of target column 'label' has only 2 row\(s\)", _csv(tmp_path, frame))
    assert "at least 3 per class" in msg
    assert load(_csv(tmp_path, frame), val_size=0.0).n_classes == 3  # two splits need 2 rows per class


def test_non_numeric_target_for_regression(tmp_path: Path) -> None:
    frame = _frame().assign(label=["lo", "hi"] * 20)
    _raises(r"target column 'label' is not numeric \(e\.g\. 'lo' at row 0\)", _csv(tmp_path, frame),
            task="regression")


def test_mixed_type_column() -> None:
    X = pd.DataFrame({"code": ["a", 1, "b", 2] * 10, "v": np.arange(40.0)})
    _raises(r"column 'code' mixes strings and other values \(e\.g\. 1 at row 1\)", (X, np.arange(40) % 2))


def test_npz_problems(tmp_path: Path) -> None:
    np.savez(tmp_path / "nox.npz", features=np.zeros((5, 2)), y=np.zeros(5))
    msg = _raises(r"has no array named 'X' \(it holds 'features', 'y'\)", tmp_path / "nox.npz")
    assert "np.savez" in msg
    np.savez(tmp_path / "noy.npz", X=np.zeros((5, 2)))
    _raises(r"has no array named 'y'", tmp_path / "noy.npz")
    np.savez(tmp_path / "len.npz", X=np.zeros((5, 2)), y=np.zeros(4))
    _raises(r"X has 5 rows but y has 4", tmp_path / "len.npz")
    np.savez(tmp_path / "flat.npz", X=np.zeros(5), y=np.zeros(5))
    _raises(r"X must be 2-D \(rows, features\) but has shape \(5,\)", tmp_path / "flat.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    _raises(r"could not read .*junk\.npz", tmp_path / "junk.npz")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"val_size": 1.5}, r"'val_size' parameter of load"),
        ({"test_size": -0.1}, r"'test_size' parameter of load"),
        ({"val_size": 0.5, "test_size": 0.5}, r"val_size \+ test_size must be below 1"),
        ({"task": "ranking"}, r"'task' parameter of load"),
        ({"dtype": "int32"}, r"'dtype' parameter of load"),
        ({"seed": -1}, r"'seed' parameter of load"),
        ({"target": "x"}, r"'target' parameter of load only applies"),
    ],
)
def test_bad_parameters_raise_config_error(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load("iris", **kwargs)
