"""Inputs other than the bundled data sets: user CSV quirks, raw arrays, estimators, divergence.

Each test pins one bug found in review; the expected values are computed independently
(row counts from the file written here, results of the equivalent well-formed input).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lrsearch.cli import main
from lrsearch.data import MAX_INFERRED_CLASSES, load
from lrsearch.exceptions import ConfigError, DataError


def _frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": np.arange(n) % 2})


# --- CSV files -----------------------------------------------------------------------------


def test_csv_without_header_keeps_its_first_row(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    frame = _frame()
    path = tmp_path / "nohdr.csv"
    frame.to_csv(path, index=False, header=False)
    with caplog.at_level(logging.WARNING, logger="lrsearch.data"):
        ds = load(path, val_size=0.0, test_size=0.0)
    assert len(ds.X_train) == len(frame)  # was 59: the first data row became the header
    assert ds.target_name == "3" and ds.classes.tolist() == [0, 1]
    assert "first row holds only numbers" in caplog.text
    assert load(path, target=3, val_size=0.0, test_size=0.0).target_name == "3"  # a column named by a number


def test_numeric_header_kept_when_the_target_names_one_of_its_cells(tmp_path: Path) -> None:
    frame = _frame().rename(columns={"a": "1", "b": "2", "c": "3", "y": "4"})
    path = tmp_path / "years.csv"
    frame.to_csv(path, index=False)
    ds = load(path, target="4", val_size=0.0, test_size=0.0)
    assert len(ds.X_train) == len(frame) and ds.feature_names == ["1", "2", "3"]


def test_header_of_pandas_default_column_names_stays_a_header(tmp_path: Path) -> None:
    """``DataFrame(array).to_csv(index=False)`` writes the header 0,1,...,k-1: a header, not a data row."""
    frame = _frame()
    path = tmp_path / "default_names.csv"
    pd.DataFrame(frame.to_numpy()).to_csv(path, index=False)
    assert path.read_text().splitlines()[0] == "0,1,2,3"
    ds = load(path, val_size=0.0, test_size=0.0)
    assert len(ds.X_train) == len(frame) and ds.feature_names == ["0", "1", "2"] and ds.target_name == "3"


def test_semicolon_separated_csv_is_read_by_its_separator(tmp_path: Path) -> None:
    frame = _frame()
    path = tmp_path / "semi.csv"
    frame.to_csv(path, sep=";", index=False)
    ds = load(path, val_size=0.0, test_size=0.0)  # was: "has 1 column(s) ('a;b;c;y')"
    assert ds.feature_names == ["a", "b", "c"] and ds.target_name == "y" and len(ds.X_train) == len(frame)
    frame.to_csv(path, sep=";", decimal=",", index=False)  # European: decimal commas as well
    eu = load(path, val_size=0.0, test_size=0.0)
    assert eu.feature_names == ["a", "b", "c"]
    np.testing.assert_allclose(eu.x_scaler.mean_, frame[["a", "b", "c"]].mean().to_numpy())


def test_pandas_row_index_column_is_not_a_feature(tmp_path: Path) -> None:
    frame = _frame()
    path = tmp_path / "indexed.csv"
    frame.to_csv(path)  # index=True: a leading unnamed 0..n-1 column
    assert load(path).feature_names == ["a", "b", "c"]
    ids = frame.assign(ident=np.arange(len(frame)) * 7)[["ident", "a", "b", "c", "y"]]  # named: kept
    ids.to_csv(tmp_path / "ids.csv", index=False)
    assert load(tmp_path / "ids.csv").feature_names == ["ident", "a", "b", "c"]


def test_column_names_with_spaces_match_the_target(tmp_path: Path) -> None:
    frame = _frame().rename(columns={"a": " a", "y": "Label "})
    path = tmp_path / "spaces.csv"
    frame.to_csv(path, index=False)
    ds = load(path, target="Label")
    assert ds.target_name == "Label" and ds.feature_names == ["a", "b", "c"]


def test_question_mark_in_a_numeric_column_is_a_clear_error(tmp_path: Path, capsys) -> None:
    frame = _frame().astype({"b": object})
    frame.loc[[4, 9], "b"] = "?"
    path = tmp_path / "q.csv"
    frame.to_csv(path, index=False)
    # was: silently one-hot encoded, 50-odd useless features
    with pytest.raises(DataError, match=r"column 'b' holds numbers except 2 value\(s\) '\?' \(first at row 4\)"):
        load(path)
    assert main(["train", "--data", str(path), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "fill or drop" in err and "Traceback" not in err
    # a real categorical column is still one-hot encoded
    cat = _frame().assign(b=np.array(["x", "y", "z"])[np.arange(60) % 3])
    cat.to_csv(tmp_path / "cat.csv", index=False)
    assert load(tmp_path / "cat.csv").feature_names == ["a", "c", "b_x", "b_y", "b_z"]


def test_comma_separated_targets_on_the_command_line_give_multi_output(tmp_path: Path, capsys) -> None:
    frame = _frame().assign(t1=lambda f: 1e5 + 3e4 * f.a, t2=lambda f: -5e4 + f.b)
    path = tmp_path / "multi.csv"
    frame.to_csv(path, index=False)
    assert load(path, target="t1, t2").n_outputs == 2
    assert main(["train", "--data", str(path), "--target", "t1,t2", "--epochs", "1", "--json"]) == 0
    assert '"n_outputs": 2' in capsys.readouterr().out


# --- task inference ---------------------------------------------------------------------------


def test_many_integer_levels_warn_that_they_are_treated_as_regression(caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(1)
    k = MAX_INFERRED_CLASSES + 30
    X, y = rng.normal(size=(5 * k, 3)), np.arange(5 * k) % k
    with caplog.at_level(logging.WARNING, logger="lrsearch.data"):
        ds = load((X, y))
    assert ds.task == "regression" and "task='classification'" in caplog.text
    assert load((X, y), task="classification").n_classes == k


def test_rare_level_of_an_inferred_integer_target_suggests_regression() -> None:
    X = np.random.default_rng(2).normal(size=(40, 2))
    y = np.arange(40) % 4
    y[0] = 9  # a count that occurs once
    with pytest.raises(DataError, match="task='regression'"):
        load((X, y))
    assert load((X, y), task="regression").task == "regression"


def test_object_array_of_numbers_is_numeric_not_one_hot() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    y = 1e5 + 3e4 * X[:, 0]
    ds = load((X.astype(object), y.astype(object)))
    ref = load((X, y))
    assert ds.n_features == 3 and ds.task == "regression"  # was 3 x 36 one-hot columns and classification
    np.testing.assert_array_equal(ds.X_train, ref.X_train)


# --- the core: train ---------------------------------------------------------------------------


def _xy(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(4).normal(size=(n, 3))
    return X, (X[:, 0] > 0).astype(np.int64)


def test_train_string_labels_raise_a_data_error_not_a_type_error() -> None:
    from lrsearch.nn import train

    X, y = _xy()
    with pytest.raises(DataError, match="integer labels 0..K-1"):
        train(X, np.array(["no", "yes"])[y], epochs=1)


def test_train_column_vector_labels_equal_1d_labels() -> None:
    from lrsearch.nn import train

    X, y = _xy()
    a = train(X, y[:, None], epochs=2, hidden=(4,))
    b = train(X, y, epochs=2, hidden=(4,))
    np.testing.assert_array_equal(a.train_loss, b.train_loss)


def test_train_bool_features_equal_their_0_1_floats() -> None:
    from lrsearch.nn import train

    X, y = _xy()
    a = train(X > 0, y, epochs=2, hidden=(4,))
    b = train((X > 0).astype(np.float64), y, epochs=2, hidden=(4,))
    np.testing.assert_array_equal(a.train_loss, b.train_loss)


def test_train_rejects_an_infinite_rate() -> None:
    from lrsearch.nn import train

    X, y = _xy()
    with pytest.raises(ConfigError, match=r"'lr' parameter of train must be a float in the range \(0.0, inf\)"):
        train(X, y, lr=float("inf"), epochs=1)


def test_empty_validation_split_trains_without_validation(capsys) -> None:
    from lrsearch.nn import train

    X, y = _xy()
    a = train(X, y, X_val=X[:0], y_val=y[:0], epochs=2, hidden=(4,))
    b = train(X, y, epochs=2, hidden=(4,))
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    assert np.isnan(a.val_loss).all()
    # the command line with --val-size 0 (was: "X_val is empty", exit 2)
    assert main(["train", "--data", "iris", "--val-size", "0", "--test-size", "0", "--epochs", "1"]) == 0
    assert "no test split" in capsys.readouterr().out


def test_recommend_without_validation_split_says_so(capsys) -> None:
    assert main(["recommend", "--data", "iris", "--val-size", "0", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "--val-size" in err and "diverged" not in err  # was: "every candidate diverged or failed"


# --- estimators --------------------------------------------------------------------------------


def test_classifier_fitted_on_one_class_gives_probability_one() -> None:
    from lrsearch import MLPClassifier

    X, _ = _xy()
    clf = MLPClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0).fit(X, np.full(len(X), "only"))
    proba = clf.predict_proba(X[:5])
    np.testing.assert_array_equal(proba, np.ones((5, 1)))  # was a column of softmax values < 1
    assert clf.predict(X[:2]).tolist() == ["only", "only"]


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_estimator_divergence_is_reported_with_a_warning(kind: str) -> None:
    from sklearn.exceptions import ConvergenceWarning

    from lrsearch import MLPClassifier, MLPRegressor

    X, y = _xy()
    est = (MLPClassifier if kind == "classifier" else MLPRegressor)(
        hidden_layer_sizes=(4,), optimizer="sgd", lr=1e9, epochs=3, random_state=0)  # fmt: skip
    with pytest.warns(ConvergenceWarning, match="diverged.*Lower lr"):
        est.fit(X, y if kind == "classifier" else 1e5 * X[:, 0])
    assert est.status_ == "diverged" and np.isfinite(est.predict(X)).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a run that converges does not warn
        est.set_params(lr=1e-3, epochs=5, tol=10.0, n_iter_no_change=1).fit(X, y if kind == "classifier" else X[:, 0])
    assert est.status_ == "converged" and est.n_iter_ == 3  # the loss fell by less than tol twice in a row
    with pytest.warns(ConvergenceWarning, match="epochs=5 ran out"):  # one whose epochs run out first does
        est.set_params(tol=0.0, n_iter_no_change=50).fit(X, y if kind == "classifier" else X[:, 0])


# --- output paths: a bad one must not cost finished work ---------------------------------------


def test_study_and_recommend_check_the_report_path_before_working(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("")
    for cmd in (["study", "--data", "iris", "--storage", "memory", "--n-trials", "1", "--epochs", "1", "--no-progress"],
                ["recommend", "--data", "iris", "--epochs", "1"]):  # fmt: skip
        assert main([*cmd, "--report", str(blocker / "r.html")]) == 2  # was: exit 1 after all the work
        err = capsys.readouterr().err
        assert "is a file, not a folder" in err and "internal error" not in err
    assert main(["study", "--data", "iris", "--storage", "memory", "--n-trials", "1", "--no-progress",
                 "--results", str(tmp_path)]) == 2  # fmt: skip
    assert "is a folder" in capsys.readouterr().err


def test_study_prints_its_results_when_the_report_fails(monkeypatch, capsys) -> None:
    from lrsearch.cli import study_cmd

    def broken(path, result):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(study_cmd, "_write_report", broken)
    code = main(["study", "--data", "iris", "--storage", "memory", "--n-trials", "2", "--epochs", "2",
                 "--no-progress", "--report", "r.html"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2 and "best trial" in out  # was: only "internal error", the in-memory study lost
    assert "No space left on device" in err and "results above are kept" in err


def test_duplicate_column_names_are_a_data_error() -> None:
    X = pd.DataFrame(np.random.default_rng(5).normal(size=(30, 3)), columns=["a", "a", "b"])
    with pytest.raises(DataError, match=r"X has duplicate column names \('a'\)"):  # was a bare pandas ValueError
        load((X, np.arange(30) % 2))


def test_target_by_position_reads_a_header_of_numbers_as_data(tmp_path: Path) -> None:
    """``target=4`` on a file without a header whose first row happens to hold a 4: still data, not names."""
    frame = _frame()
    frame.iloc[0] = [3.0, 4.0, 1.0, 0]
    path = tmp_path / "nohdr4.csv"
    frame.to_csv(path, index=False, header=False)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(["3,4,1,0", *lines[1:]]) + "\n")  # the first row reads as names "3", "4", "1", "0"
    ds = load(path, target=3, val_size=0.0, test_size=0.0)
    assert len(ds.X_train) == len(frame) and ds.target_name == "3" and ds.feature_names == ["0", "1", "2"]
    np.testing.assert_array_equal(np.sort(ds.classes), [0, 1])


def test_years_as_column_names_stay_a_header(tmp_path: Path) -> None:
    """A header of numbers far outside their columns' values (years above 0-1 data) is a header."""
    frame = _frame().rename(columns={"a": "2019", "b": "2020", "c": "2021", "y": "2022"})
    path = tmp_path / "years.csv"
    frame.to_csv(path, index=False)
    ds = load(path, val_size=0.0, test_size=0.0)
    assert len(ds.X_train) == len(frame) and ds.feature_names == ["2019", "2020", "2021"]


def test_a_parse_error_after_a_separator_switch_is_a_data_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "semi_bad.csv"
    rows = ["a;b;y"] + [f"{i};{i % 3};{i % 2}" for i in range(30)]
    rows[11] += ";7"  # one row with a field too many
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match="could not read"):
        load(path)
    assert main(["train", "--data", str(path), "--epochs", "1"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_text_among_numbers_that_is_not_a_missing_marker_is_a_category(tmp_path: Path) -> None:
    """Floors 1..8 plus 'G' and 'B' are categories (one-hot), not a column to reject; nor are target labels."""
    rng = np.random.default_rng(0)
    floors = rng.integers(1, 9, 60).astype(str)
    floors[[3, 7]] = ["G", "B"]
    frame = pd.DataFrame({"a": rng.random(60), "floor": floors, "y": np.r_[["1", "2", "3", "none"] * 15]})
    path = tmp_path / "floors.csv"
    frame.to_csv(path, index=False)
    ds = load(path, val_size=0.0, test_size=0.0)
    assert {"floor_G", "floor_B"} <= set(ds.feature_names) and sorted(ds.classes) == ["1", "2", "3", "none"]


def test_batch_larger_than_the_data_warns_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    """A study trains the same rows in every trial: the clamp is said once, not once per trial."""
    from lrsearch.nn import train

    X, y = _xy(40)
    with caplog.at_level(logging.WARNING, logger="lrsearch.nn.training"):
        first = train(X, y, task="classification", n_classes=2, hidden=(4,), epochs=1, batch_size=997)
        train(X, y, task="classification", n_classes=2, hidden=(4,), epochs=1, batch_size=997)
    said = [r for r in caplog.records if "batch_size=997 is larger than the 40 training rows" in r.getMessage()]
    assert len(said) == 1 and first.status == "completed"


@pytest.mark.parametrize("hidden", [None, "64", 3.5])
def test_hidden_that_is_not_a_sequence_of_widths_is_a_config_error(hidden) -> None:
    from lrsearch.nn import train
    from lrsearch.nn.estimator import MLPClassifier

    X, y = _xy()
    with pytest.raises(ConfigError, match="sequence of layer widths"):
        train(X, y, task="classification", n_classes=2, hidden=hidden, epochs=1)
    with pytest.raises(ConfigError, match="sequence of layer widths"):
        MLPClassifier(hidden_layer_sizes=hidden, epochs=1).fit(X, y)


def test_check_hidden_is_the_one_rule_for_hidden_widths():
    import numpy as np

    from lrsearch._validation import check_hidden
    from lrsearch.exceptions import ConfigError

    assert check_hidden(np.int64(8), "train") == (8,)
    assert check_hidden([np.int32(4), 2], "train") == (4, 2)
    for bad in ("64", True, 3.5, [0], [8, -1], None):
        with pytest.raises(ConfigError, match="'hidden' parameter of recommend"):
            check_hidden(bad, "recommend")
