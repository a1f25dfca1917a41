"""Review, session 8: data as real exports write it (a shuffled or R row index, identifier columns, labels with
spaces, the Unicode minus, Parquet decimals, NA as a category, sparse and 3-D X, file names as study names)."""

from __future__ import annotations

import decimal
import logging

import numpy as np
import pandas as pd
import pytest

from lrsearch import data as data_module
from lrsearch.data import load
from lrsearch.exceptions import DataError


@pytest.fixture
def noise():
    """600 rows of three noise features and a label in blocks (the rows' original order carries the label)."""
    rng = np.random.default_rng(7)
    df = pd.DataFrame(rng.normal(size=(600, 3)), columns=list("abc"))
    df["label"] = np.repeat(["s", "v", "g"], 200)
    return df


@pytest.mark.parametrize("how", ["shuffled", "filtered", "r"])
def test_a_row_index_of_any_order_is_dropped_with_a_warning(tmp_path, caplog, noise, how):
    """Only an index 0..n-1 was dropped: a shuffled one (df.sample().to_csv()) was used as a feature and leaked
    the label (test accuracy 0.975 on noise); R's write.csv writes 1..n under an empty name."""
    path = tmp_path / "d.csv"
    if how == "shuffled":
        noise.sample(frac=1, random_state=0).to_csv(path)
    elif how == "filtered":
        noise[noise.index % 3 != 1].to_csv(path)
    else:
        out = noise.copy()
        out.index = np.arange(1, len(out) + 1)
        out.to_csv(path, index_label="")
    with caplog.at_level(logging.WARNING, logger="lrsearch.data"):
        ds = load(str(path))
    assert ds.feature_names == ["a", "b", "c"]
    assert "a row index" in caplog.text


def test_an_unnamed_first_column_that_repeats_values_is_kept(tmp_path, noise):
    path = tmp_path / "d.csv"
    noise.index = np.arange(len(noise)) % 7  # not an index: a feature that happens to have no name
    noise.to_csv(path)
    assert load(str(path)).feature_names[0] == "Unnamed: 0"


def test_a_text_column_with_a_value_in_every_row_is_dropped(caplog):
    """A customer id was one-hot encoded into one feature per row: rows squared in memory (20k rows: 4 GB),
    and a feature that cannot generalise."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"customer_id": [f"C{i:07d}" for i in range(300)], "x": rng.normal(size=300)})
    with caplog.at_level(logging.WARNING, logger="lrsearch.data"):
        ds = load((X, (X["x"] > 0).astype(int)))
    assert ds.feature_names == ["x"] and "dropping text column(s) 'customer_id'" in caplog.text
    with pytest.raises(DataError, match="different text value in every row.*cannot be learnt"):
        load((X[["customer_id"]], np.arange(300) % 2))  # the only feature: nothing left
    few = X.iloc[:10]  # under 20 rows: a category per row is still a category
    assert "customer_id_C0000000" in load((few, np.arange(10) % 2), val_size=0.0, test_size=0.0).feature_names


def test_a_one_hot_encoding_too_large_for_memory_is_refused(monkeypatch):
    monkeypatch.setattr(data_module, "MAX_ONE_HOT_CELLS", 1000)
    X = pd.DataFrame({"city": [f"c{i % 50}" for i in range(200)], "x": np.arange(200.0)})
    with pytest.raises(DataError, match=r"one-hot encoding the text column\(s\) 'city' \(\d+ values\).*GB"):
        load((X, np.arange(200) % 2))


def test_labels_that_differ_only_by_surrounding_spaces_are_one_class(tmp_path, caplog):
    rng = np.random.default_rng(0)
    labels = np.array(["yes", "yes ", "no", " no"])[rng.integers(0, 4, 80)]
    rows = "".join(f"{v:.3f},{lab}\n" for v, lab in zip(rng.normal(size=80), labels))
    (tmp_path / "d.csv").write_text("x,y\n" + rows)
    with caplog.at_level(logging.WARNING, logger="lrsearch.data"):
        ds = load(str(tmp_path / "d.csv"))
    assert ds.classes.tolist() == ["no", "yes"]
    assert "differ only by surrounding spaces" in caplog.text


def test_numbers_with_the_unicode_minus_sign_are_numbers(tmp_path):
    rng = np.random.default_rng(1)
    a = rng.normal(size=60)
    text = [f"{v:.4f}".replace("-", "\u2212") for v in a]
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{t},{v:.2f},{int(v > 0)}\n" for t, v in zip(text, a)),
                                    encoding="utf-8")  # fmt: skip
    ds = load(str(tmp_path / "d.csv"), scale=False, val_size=0.0, test_size=0.0)
    assert ds.feature_names == ["a", "b"]
    np.testing.assert_allclose(np.sort(ds.X_train[:, 0]), np.sort(np.round(a, 4)), rtol=1e-6)


def test_decimal_columns_are_numbers():
    """Parquet's decimal type (database and Spark exports) arrives as Decimal objects: it was one-hot encoded."""
    rng = np.random.default_rng(2)
    v = rng.normal(size=50).round(2)
    X = pd.DataFrame({"dec": [decimal.Decimal(str(t)) for t in v], "x": rng.normal(size=50)})
    ds = load((X, (v > 0).astype(int)), scale=False, val_size=0.0, test_size=0.0)
    assert ds.feature_names == ["dec", "x"]
    np.testing.assert_allclose(np.sort(ds.X_train[:, 0]), np.sort(v), rtol=1e-6)
    y = pd.Series([decimal.Decimal(str(t)) for t in v], name="price")  # a decimal target is a quantity
    assert load((X[["x"]], y), task="regression").task == "regression"


def test_na_as_a_category_names_the_marker():
    frame = pd.read_csv(__import__("io").StringIO("region,x,y\nNA,1,0\nEU,2,1\nNA,3,0\nEU,4,1\n"))
    with pytest.raises(DataError, match="NA for North America"):
        load((frame[["region", "x"]], frame["y"]))


def test_sparse_and_3d_x_get_the_right_message_or_load():
    import scipy.sparse as sp

    X = np.random.default_rng(0).normal(size=(40, 3))
    ds = load((sp.csr_matrix(X), np.arange(40) % 2), scale=False, val_size=0.0, test_size=0.0)
    assert ds.n_features == 3  # it was "X must be 2-D ... but has shape ()"
    with pytest.raises(DataError, match=r"X.reshape\(len\(X\), -1\) to flatten each row's \(8, 8\) values into 64"):
        load((np.zeros((30, 8, 8)), np.arange(30) % 2))


def test_a_study_name_from_a_file_name_is_one_study_name_accepts():
    from types import SimpleNamespace

    from lrsearch.search.runner import default_study_name
    from lrsearch.search.spec import _NAME_RE

    for raw in ("_x", ".hidden data", "a" * 120, "-lead-", "données"):
        assert _NAME_RE.match(default_study_name(SimpleNamespace(name=raw))), raw


def test_a_target_of_numbers_with_a_currency_sign_says_how_to_make_it_a_quantity(tmp_path):
    rng = np.random.default_rng(3)
    prices = rng.uniform(10, 900, 50)
    (tmp_path / "p.csv").write_text("x,price\n" + "".join(f"{v / 100:.3f},${v:,.2f}\n" for v in prices))
    with pytest.raises(DataError, match=r"has only 1 row.*numbers written with '\$'.*plain numbers.*--task regression"):
        load(str(tmp_path / "p.csv"))


def _table_rows(n=60, seed=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)).round(3)
    return X, (X[:, 0] > 0).astype(int)


def test_a_header_repeated_inside_the_file_is_skipped(tmp_path, caplog):
    """cat a.csv b.csv: the second header was a data row, and every column became text."""
    X, y = _table_rows()
    rows = [f"{a},{b},{t}" for (a, b), t in zip(X, y)]
    (tmp_path / "d.csv").write_text("\n".join(["a,b,y", *rows[:30], "a,b,y", *rows[30:]]) + "\n")
    with caplog.at_level(logging.WARNING, logger="lrsearch.data"):
        ds = load(str(tmp_path / "d.csv"), scale=False, val_size=0.0, test_size=0.0, dtype="float64")
    assert ds.feature_names == ["a", "b"] and len(ds.X_train) == 60
    np.testing.assert_allclose(np.sort(ds.X_train[:, 0]), np.sort(X[:, 0]))
    assert "skipping 1 line(s) that repeat the header, as files joined with their headers have (first: line 32)" in (
        caplog.text)  # fmt: skip


@pytest.mark.parametrize("tail", ["# end of file\n", ",,\n,,\n", ",,\n# exported by the logger\n"])
def test_empty_rows_and_a_closing_note_below_the_data_are_skipped(tmp_path, caplog, tail):
    """Excel's empty rows (',,') and a closing '# end of file' were a row of missing values: a DataError."""
    X, y = _table_rows()
    rows = "".join(f"{a},{b},{t}\n" for (a, b), t in zip(X, y))
    (tmp_path / "d.csv").write_text("a,b,y\n" + rows + tail)
    with caplog.at_level(logging.WARNING, logger="lrsearch.data"):
        ds = load(str(tmp_path / "d.csv"), val_size=0.0, test_size=0.0)
    assert len(ds.X_train) == 60 and ds.feature_names == ["a", "b"]
    assert "skipping" in caplog.text and "line 62" in caplog.text


def test_a_title_line_above_the_header_is_skipped(tmp_path, caplog):
    X, y = _table_rows()
    body = "".join(f"{a},{b},{t}\n" for (a, b), t in zip(X, y))
    for title in ("Quarterly sales report", "Quarterly sales report,,"):  # as typed; as a spreadsheet saves it
        (tmp_path / "d.csv").write_text(f"{title}\na,b,y\n" + body)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="lrsearch.data"):
            ds = load(str(tmp_path / "d.csv"), scale=False, val_size=0.0, test_size=0.0, dtype="float64")
        assert ds.feature_names == ["a", "b"] and ds.target_name == "y" and len(ds.X_train) == 60
        assert "a title above the header (line 2" in caplog.text
    (tmp_path / "plain.csv").write_text("a,b,y\n" + body)  # no title: nothing skipped
    assert len(load(str(tmp_path / "plain.csv"), val_size=0.0, test_size=0.0).X_train) == 60


def test_a_headerless_files_first_row_repeated_is_data(tmp_path):
    """Only a line of names is a repeated header: in a headerless file the first line is a row, and rows repeat."""
    X, y = _table_rows(40)
    rows = [f"{a},{b},{t}" for (a, b), t in zip(X, y)]
    rows[20] = rows[0]  # a duplicate of the first row
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    ds = load(str(tmp_path / "d.csv"), val_size=0.0, test_size=0.0)
    assert len(ds.X_train) == 40
