"""Input files that used to give a raw exception, pandas/NumPy warnings or a misleading message.

Each test writes the file into ``tmp_path``, checks that :func:`lrsearch.load` raises a
``DataError`` whose one-line message names the problem and the fix (or that a readable
file now loads), and, for several, that ``lrsearch train`` exits 2 with that line on stderr.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lrsearch.cli import main
from lrsearch.data import load
from lrsearch.exceptions import ConfigError, DataError


def _frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": np.arange(n) % 2})


def _csv(tmp_path: Path, frame: pd.DataFrame, name: str = "data.csv", **options) -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False, **options)
    return path


def _train_error(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """Run ``lrsearch train`` on ``path``; check exit 2 and a single error line; return that line."""
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["train", "--data", str(path), "--epochs", "1", *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("lrsearch train: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not [w for w in caught if issubclass(w.category, (RuntimeWarning, UserWarning))], [
        str(w.message) for w in caught]
    return err


def _load_error(*args, **kwargs) -> str:
    """The message of the DataError ``load`` raises, checked to be one line."""
    with pytest.raises(DataError) as info:
        load(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message, message
    return message


# --- targets -------------------------------------------------------------------------------


def test_a_target_named_twice_is_a_data_error(tmp_path: Path, capsys) -> None:
    path = _csv(tmp_path, _frame())
    # was: internal error "AttributeError: 'DataFrame' object has no attribute 'dtype'"
    for target in ("y,y", ["y", "y"], "a, y,a"):
        message = _load_error(path, target=target)
        assert "is named twice" in message and "name each target column once" in message
    assert "target column 'y' is named twice" in _load_error(path, target="y,y")
    assert "target column 'a' is named twice" in _load_error(path, target=["a", "y", "a"])
    assert "target column 'y' is named twice in the targets 'y,y'" in _train_error(path, capsys, "--target", "y,y")


def test_a_missing_column_among_targets_is_named(tmp_path: Path, capsys) -> None:
    path = _csv(tmp_path, _frame())
    message = _load_error(path, target="y,nope")
    # was: "target column 'y,nope' not found"
    assert message.startswith("target column 'nope' (one of the targets 'y,nope') not found")
    assert "its columns are 'a', 'b', 'c', 'y'" in message
    assert "target column 'nope'" in _load_error(path, target=["y", "nope"])
    assert "target column 'nope'" in _load_error(path, target="nope,y")
    err = _train_error(path, capsys, "--target", "y,nope")
    assert "target column 'nope'" in err and "'a', 'b', 'c', 'y'" in err
    # the single-target message is unchanged, and good pairs still give two targets
    assert _load_error(path, target="nope").startswith("target column 'nope' not found in")
    assert load(path, target="b,c").n_outputs == 2


def test_an_empty_list_of_targets_is_a_config_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, _frame())
    with pytest.raises(ConfigError, match="must name at least one column"):
        load(path, target=[])


def test_an_all_empty_target_column_says_so(tmp_path: Path) -> None:
    path = _csv(tmp_path, _frame().assign(y=np.nan))
    assert "target column 'y' has 60 missing value(s) (first at row 0)" in _load_error(path)


# --- CSV structure ---------------------------------------------------------------------------


def _ragged(tmp_path: Path, sep: str = ",") -> Path:
    path = tmp_path / "ragged.csv"
    rows = [sep.join("aby")] + [sep.join(map(str, (i, i % 3, i % 2))) for i in range(30)]
    rows[5] += f"{sep}7"  # line 6 of the file: one field too many
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_row_with_too_many_fields_names_its_line(tmp_path: Path, capsys) -> None:
    path = _ragged(tmp_path)
    message = _load_error(path)
    # was: "Error tokenizing data. C error: Expected 3 fields in line 6, saw 4" and a blank second line
    assert message == (f"could not read '{path}': line 6 has 4 fields but the header has 3; fix that line, "
                       f"or quote fields that contain the separator")
    assert "line 6 has 4 fields but the header has 3" in _train_error(path, capsys)
    semicolons = _ragged(tmp_path, ";")  # read after the switch to ';'
    assert "line 6 has 4 fields but the header has 3" in _load_error(semicolons)


def test_an_unclosed_quote_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    rows = ["a,b,y"] + [f"{i},{i % 3},{i % 2}" for i in range(20)]
    rows[7] = '6,"oops,1'  # line 8
    path.write_text("\n".join(rows) + "\n")
    assert "the quoted field that starts on line 8 is never closed" in _load_error(path)


def test_data_rows_with_one_field_more_than_the_header_are_an_error_not_shifted(tmp_path: Path, capsys) -> None:
    frame = _frame(30)
    path = tmp_path / "trailing.csv"
    rows = ["a,b,c,y"] + [",".join(map(str, row)) + ",1" for row in frame.itertuples(index=False)]
    path.write_text("\n".join(rows) + "\n")
    # was: loaded silently with the first column as the index and every column shifted by one
    message = _load_error(path)
    assert message.startswith(f"'{path}' has data rows with more fields than its header (4)")
    assert "add the missing column name(s) to the header" in message
    assert "more fields than its header" in _train_error(path, capsys)


def test_a_large_csv_with_text_late_in_a_column_loads_without_dtype_warnings(tmp_path: Path, recwarn) -> None:
    """pandas reads big files in chunks of 2**18 rows, typing each chunk on its own."""
    n = 2**18 + 100
    b = (np.arange(n) % 7).astype(str)
    b[-5:] = "x"
    path = tmp_path / "big.csv"
    path.write_text("a,b,y\n" + "".join(f"{i % 13},{v},{i % 2}\n" for i, v in enumerate(b)))
    ds = load(path, val_size=0.0, test_size=0.0)
    # was: a DtypeWarning, then "column 'b' mixes strings and other values (e.g. '1' at row 262144)"
    assert sorted(ds.feature_names) == sorted(["a", *(f"b_{k}" for k in range(7)), "b_x"])
    assert not [w for w in recwarn if "mixed types" in str(w.message)]


# --- encodings and files that are not text --------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_utf16_and_bom_csv_load_like_utf8(tmp_path: Path, encoding: str) -> None:
    frame = _frame()
    plain = load(_csv(tmp_path, frame, "plain.csv"), target="a", val_size=0.0, test_size=0.0)
    # utf-16 was: "could not read ...: 'utf-8' codec can't decode byte 0xff in position 0"
    other = load(_csv(tmp_path, frame, "other.csv", encoding=encoding), target="a", val_size=0.0, test_size=0.0)
    assert other.feature_names == plain.feature_names == ["b", "c", "y"] and other.target_name == "a"
    np.testing.assert_array_equal(other.X_train, plain.X_train)
    tab = load(_csv(tmp_path, frame, "tab.tsv", sep="\t", encoding=encoding), val_size=0.0, test_size=0.0)
    assert tab.feature_names == ["a", "b", "c"]


def test_a_latin1_csv_says_it_is_not_utf8(tmp_path: Path, capsys) -> None:
    path = tmp_path / "latin.csv"
    cities = ["Orl\xe9ans" if i == 3 else "Paris" for i in range(30)]
    text = "a,city,y\n" + "".join(f"{i},{city},{i % 2}\n" for i, city in enumerate(cities))
    path.write_bytes(text.encode("latin-1"))
    message = _load_error(path)
    # was: "'utf-8' codec can't decode byte 0xe9 in position 3: invalid continuation byte"
    assert message.startswith(f"could not read '{path}': line 5 is not UTF-8 text (byte 0xe9); save the file as UTF-8")
    assert "line 5 is not UTF-8" in _train_error(path, capsys)


@pytest.mark.parametrize("content, what", [
    (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4, "an Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4, "an old Excel workbook (.xls)"),
    (b"\x1f\x8b\x08\x00" + bytes(range(256)), "a gzip-compressed file"),
])  # fmt: skip
def test_a_binary_file_named_csv_says_what_it_is(tmp_path: Path, capsys, content: bytes, what: str) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(content)
    # was: "could not read ...: 'utf-8' codec can't decode byte 0xff in position 14"
    assert _load_error(path).startswith(f"'{path}' is not a text CSV file: it looks like {what}")
    assert f"it looks like {what}" in _train_error(path, capsys)


def test_a_parquet_file_named_csv_and_a_text_file_named_parquet(tmp_path: Path) -> None:
    frame = _frame()
    parquet = tmp_path / "data.parquet"
    frame.to_parquet(parquet)
    renamed = tmp_path / "data.csv"
    renamed.write_bytes(parquet.read_bytes())
    assert "it looks like a Parquet file; give it the extension .parquet" in _load_error(renamed)
    text = _csv(tmp_path, frame, "text.parquet")
    assert "not a parquet file" in _load_error(text).lower()  # pyarrow's own message, already clear


def test_nul_bytes_are_not_a_text_csv(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"a,b,y\n" + b"1,2\x00,3\n" * 10)  # was: loaded, NUL bytes and all
    assert "holds NUL bytes" in _load_error(path)


# --- values ------------------------------------------------------------------------------------


def test_values_too_large_to_standardise_name_the_column(tmp_path: Path, capsys, recwarn) -> None:
    frame = _frame().assign(b=lambda f: f.b * 1e300)
    path = _csv(tmp_path, frame)
    message = _load_error(path)
    # was: many lines of overflow RuntimeWarnings, then "X holds non-finite values... fill or drop them"
    assert message.startswith("column 'b' holds 60 value(s) too large to standardise (first at row 0")
    assert "rescale the column, e.g. divide it by 1e300" in message
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    err = _train_error(path, capsys)
    assert "column 'b' holds 60 value(s) too large to standardise" in err and "non-finite" not in err
    # one huge value among ordinary ones
    frame.loc[:, "b"] = 1.0
    frame.loc[7, "b"] = -3e200
    assert "column 'b' holds 1 value(s) too large to standardise (first at row 7: -3e+200" in _load_error(
        _csv(tmp_path, frame, "one.csv"))
    # arrays too
    X = np.column_stack([np.arange(30.0), np.full(30, 1e250)])
    assert "column 'x1' holds 30 value(s) too large" in _load_error((X, np.arange(30) % 2))


def test_a_regression_target_too_large_to_standardise(tmp_path: Path, capsys, recwarn) -> None:
    frame = _frame().assign(y=lambda f: (1.0 + f.a) * 1e200)
    path = _csv(tmp_path, frame)
    assert _load_error(path).startswith("target column 'y' holds 60 value(s) too large to standardise")
    err = _train_error(path, capsys)
    assert "target column 'y'" in err and "internal error" not in err  # was: "ValueError: Input contains NaN"
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    # huge class labels are labels, not quantities to standardise
    labels = frame.assign(y=np.where(np.arange(60) % 2, 1e200, 2e200))
    assert load(_csv(tmp_path, labels, "labels.csv")).n_classes == 2


@pytest.mark.parametrize("scale", [1e6, 1e12, 1e40, 1e100])
def test_large_but_finite_values_still_load(tmp_path: Path, recwarn, scale: float) -> None:
    """House prices (1e6), 1e12, beyond float32 (1e40): standardised before the float32 cast, so they load."""
    frame = _frame()
    frame["a"] = 5 * scale + scale * frame.a
    frame["price"] = 3 * scale + scale * frame.b
    ds = load(_csv(tmp_path, frame.drop(columns="y")), val_size=0.0, test_size=0.0)
    assert ds.task == "regression" and ds.X_train.dtype == np.float32
    assert np.all(np.isfinite(ds.X_train)) and np.all(np.isfinite(ds.y_train))
    np.testing.assert_allclose(np.sort(ds.inverse_y(ds.y_train)[:, 0]), np.sort(frame.price), rtol=1e-6)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_complex_values_are_a_data_error_without_complex_warnings(recwarn) -> None:
    X = np.random.default_rng(0).normal(size=(30, 2)) + 1j
    message = _load_error((X, np.arange(30) % 2))
    # was: ComplexWarnings, then silently dropped imaginary parts
    assert message.startswith("column 'x0' holds complex numbers") and ".real and .imag" in message
    assert not [w for w in recwarn if "complex" in str(w.message).lower()]


def test_list_cells_in_a_parquet_file_are_a_data_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "lists.parquet"
    pd.DataFrame({"a": [[1, 2]] * 30, "b": np.arange(30.0), "y": np.arange(30) % 2}).to_parquet(path)
    # was: internal error "TypeError: unhashable type: 'numpy.ndarray'"
    assert _load_error(path).startswith("column 'a' holds ndarray values, not single numbers or labels")
    assert "expand them into one column per item" in _train_error(path, capsys)


# --- .npz archives -----------------------------------------------------------------------------


def test_npz_with_an_object_array_names_it(tmp_path: Path, capsys) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, X=np.zeros((30, 2)), y=np.array([1, "a"] * 15, dtype=object))
    message = _load_error(path)
    assert message.startswith(f"array 'y' in '{path}' is an object array") and "np.savez(" in message
    assert "array 'y'" in _train_error(path, capsys)


def test_npz_that_is_not_an_archive(tmp_path: Path, capsys) -> None:
    single = tmp_path / "single.npz"
    with open(single, "wb") as handle:
        np.save(handle, np.zeros((30, 3)))
    # was: internal error "TypeError: 'numpy.ndarray' object does not support the context manager protocol"
    assert f"could not read '{single}': it is not a NumPy .npz archive (a single NumPy .npy array)" in _load_error(single)
    assert "np.savez(path, X=X, y=y)" in _train_error(single, capsys)
    text = tmp_path / "text.npz"
    text.write_text("a,b,y\n1,2,3\n")  # was: "This file contains pickled (object) data..."
    assert "is not a NumPy .npz archive (not a zip archive)" in _load_error(text)
    other = tmp_path / "other.npz"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert "has no array named 'X'" in _load_error(other)


def test_npz_with_y_of_another_length(tmp_path: Path) -> None:
    path = tmp_path / "lengths.npz"
    np.savez(path, X=np.zeros((30, 3)), y=np.arange(20) % 2)
    assert _load_error(path) == "X has 30 rows but y has 20; they need one entry per row"


def _uci_rows(n: int = 60) -> list[str]:
    rng = np.random.default_rng(0)
    kinds = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    return [f"{rng.uniform(4, 8):.1f},{rng.uniform(2, 4):.1f},{kinds[i % 3]}" for i in range(n)]


def test_a_headerless_file_with_a_text_column_keeps_its_first_row(tmp_path: Path, caplog) -> None:
    """UCI-style files (iris.data) have no header: a first row of numbers above the number columns and a value of
    the text column above it is data, not a header; a header of names stays a header."""
    rows = _uci_rows()
    path = tmp_path / "iris.data.csv"
    path.write_text("\n".join(rows) + "\n")
    ds = load(path, val_size=0.2, test_size=0.2)
    assert len(ds.X_train) + len(ds.X_val) + len(ds.X_test) == 60 and ds.target_name == "2"
    assert sorted(ds.classes) == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert "read as data, not as a header" in caplog.text
    assert load(path, target=2).target_name == "2"  # by position
    named = tmp_path / "named.csv"
    named.write_text("length,width,species\n" + "\n".join(rows) + "\n")
    ds = load(named)
    assert ds.target_name == "species" and len(ds.X_train) + len(ds.X_val) + len(ds.X_test) == 60
    # a header cell above the text column that is not one of its values: a name, even over number-like cells
    odd = tmp_path / "odd.csv"
    odd.write_text("5.0,3.0,kind\n" + "\n".join(rows) + "\n")
    assert load(odd).target_name == "kind"


def test_a_separator_ending_every_row_is_not_a_column(tmp_path: Path, caplog) -> None:
    rng = np.random.default_rng(0)
    lines = ["a,b,y,"] + [f"{rng.normal():.3f},{rng.normal():.3f},{i % 2}," for i in range(40)]
    path = tmp_path / "trail.csv"
    path.write_text("\n".join(lines) + "\n")
    ds = load(path)
    assert ds.target_name == "y" and ds.feature_names == ["a", "b"] and ds.task == "classification"
    assert "unnamed and empty" in caplog.text
    # an unnamed last column that holds values is data: kept (and, as the last column, the default target)
    path.write_text("a,b,\n" + "\n".join(f"{rng.normal():.3f},{rng.normal():.3f},{i % 2}" for i in range(40)))
    assert load(path).target_name.startswith("Unnamed")


def test_numbers_with_thousands_separators_are_numbers(tmp_path: Path, caplog) -> None:
    rng = np.random.default_rng(0)
    price = rng.integers(10_000, 900_000, size=40)
    lines = ["rooms,area,price"] + [f'{r},"{a:,}","{p:,}"' for r, a, p in
                                   zip(rng.integers(1, 6, 40), rng.integers(500, 5000, 40), price)]  # fmt: skip
    path = tmp_path / "houses.csv"
    path.write_text("\n".join(lines) + "\n")
    ds = load(path, seed=0)
    assert ds.task == "regression" and ds.feature_names == ["rooms", "area"]
    got = np.sort(np.concatenate([ds.inverse_y(p).ravel() for p in (ds.y_train, ds.y_val, ds.y_test)]))
    np.testing.assert_allclose(got, np.sort(price.astype(float)), rtol=1e-5)  # float32 standardised
    assert "thousands separators" in caplog.text
    # text with commas that are not thousands separators stays text
    path.write_text("x,label\n" + "\n".join(f'{i},"a,b"' if i % 2 else f'{i},"c,d"' for i in range(40)) + "\n")
    assert load(path).task == "classification"


def test_suspect_feature_columns_are_warned_about(tmp_path: Path, caplog) -> None:
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({
        "id": np.arange(1000, 1000 + n), "const": 1.0, "rate": [f"{v}%" for v in rng.integers(0, 100, n)],
        "x": rng.normal(size=n), "y": rng.integers(0, 2, n),
    })  # fmt: skip
    path = tmp_path / "suspect.csv"
    frame.to_csv(path, index=False)
    load(path)
    text = caplog.text
    assert "'const'" in text and "single value" in text
    assert "'id' looks like a row identifier" in text
    assert "column 'rate' holds numbers written with '%'; reading them as numbers" in text  # was: one-hot, warned
    caplog.clear()
    load("iris")  # nothing suspect there
    assert "single value" not in caplog.text and "identifier" not in caplog.text and "one-hot" not in caplog.text


def test_built_in_sets_load_without_feature_warnings(caplog) -> None:
    """digits has constant border pixels; a bundled set cannot be changed, so it is not warned about."""
    for name in ("digits", "iris", "wine", "breast_cancer", "diabetes"):
        load(name)
    assert "single value" not in caplog.text and "identifier" not in caplog.text


def test_decimal_commas_are_never_read_as_thousands(tmp_path: Path) -> None:
    """A tab-separated file with decimal commas ("0,125", "-0,530"): never thousands (those need a ',' file's
    quoted fields, and never start with 0)."""
    rng = np.random.default_rng(0)
    vals = rng.uniform(-1, 1, 40)
    lines = ["x\ty"] + [f"{v:.3f}".replace(".", ",") + f"\t{i % 2}" for i, v in enumerate(vals)]
    path = tmp_path / "dec.tsv"
    path.write_text("\n".join(lines) + "\n")
    ds = load(path, val_size=0.0, test_size=0.0, scale=False, dtype="float64")
    assert ds.feature_names == ["x"]  # read as decimal commas: numbers in [-1, 1], in the file's order
    np.testing.assert_allclose(np.sort(ds.X_train[:, 0]), np.sort(np.round(vals, 3)))
    quoted = tmp_path / "codes.csv"  # "0,125" in a ',' file: a decimal comma or a list, never a thousands number
    quoted.write_text("x,y\n" + "\n".join(f'"0,{i:03d}",{i % 2}' for i in range(40)) + "\n")
    with pytest.raises(DataError, match="different text value in every row"):  # kept as text (since session 8 an
        load(quoted)  # all-distinct text column is no feature), not read as 0..39 thousand


def test_a_headerless_file_with_separators_ending_rows_keeps_every_row(tmp_path: Path) -> None:
    rows = [r + "," for r in _uci_rows(30)]
    path = tmp_path / "trail.data.csv"
    path.write_text("\n".join(rows) + "\n")
    ds = load(path, val_size=0.2, test_size=0.2)
    assert len(ds.X_train) + len(ds.X_val) + len(ds.X_test) == 30 and ds.target_name == "2"
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("\n".join(f"{a:.2f},{b:.2f},{i % 2}," for i, (a, b) in
                                 enumerate(np.random.default_rng(1).normal(size=(30, 2)))) + "\n")  # fmt: skip
    ds = load(numbers, val_size=0.2, test_size=0.2)
    assert len(ds.X_train) + len(ds.X_val) + len(ds.X_test) == 30 and ds.feature_names == ["0", "1"]


def test_a_headerless_first_row_with_a_repeated_value_is_data(tmp_path: Path) -> None:
    """pandas renames a repeated name ('yes', 'yes' -> 'yes.1'): the first row as written decides."""
    rng = np.random.default_rng(2)
    rows = [f"{rng.uniform(0, 1):.3f},{'yes' if i % 2 else 'no'},{'yes' if i % 3 else 'no'},{i % 2}"
            for i in range(30)]  # fmt: skip
    rows[0] = "0.455,yes,yes,1"
    path = tmp_path / "rep.csv"
    path.write_text("\n".join(rows) + "\n")
    ds = load(path, val_size=0.2, test_size=0.2)
    assert len(ds.X_train) + len(ds.X_val) + len(ds.X_test) == 30 and ds.target_name == "3"


def test_a_tiny_validation_split_is_warned_about(caplog) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    load((X, (X[:, 0] > 0).astype(int)))
    assert "the validation split holds 6 row(s)" in caplog.text
    caplog.clear()
    load("iris")  # 30 validation rows
    assert "validation split holds" not in caplog.text


@pytest.mark.parametrize("sep", ["\t", ";", "|"])
def test_thousands_and_decimal_commas_in_files_not_separated_by_commas(tmp_path: Path, sep: str) -> None:
    """Every comma grouping thousands (500, 1,500, 120,000, 23,881,676): thousands. A comma anywhere else
    (0,487, 2,5): a decimal comma. Values keep their order either way."""
    pop = [500, 999, 1500, 120000, 23881676] * 6
    dec = [0.487, 2.5, 1.125, 3.0, 0.1] * 6
    lines = [sep.join(["pop", "dec", "y"])] + [sep.join([f"{p:,}", f"{d}".replace(".", ","), str(i % 2)])
                                             for i, (p, d) in enumerate(zip(pop, dec))]  # fmt: skip
    path = tmp_path / ("t.tsv" if sep == "\t" else "t.csv")
    path.write_text("\n".join(lines) + "\n")
    ds = load(path, val_size=0.0, test_size=0.0, scale=False, dtype="float64")
    assert ds.feature_names == ["pop", "dec"]
    np.testing.assert_allclose(np.sort(ds.X_train[:, 0]), np.sort(np.array(pop, dtype=float)))
    np.testing.assert_allclose(np.sort(ds.X_train[:, 1]), np.sort(np.array(dec)))


def test_a_headerless_tab_file_with_decimal_commas_keeps_its_first_row(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    rows = ["\t".join([f"{a:.3f}".replace(".", ","), f"{b:.3f}".replace(".", ","), str(i % 2)])
            for i, (a, b) in enumerate(rng.uniform(0.1, 2, size=(40, 2)))]  # fmt: skip
    path = tmp_path / "nohead.tsv"
    path.write_text("\n".join(rows) + "\n")
    ds = load(path, val_size=0.0, test_size=0.0)
    assert len(ds.X_train) == 40 and ds.feature_names == ["0", "1"] and ds.target_name == "2"


def test_ambiguous_commas_follow_the_file_s_convention(tmp_path: Path) -> None:
    """'5,117' could be 5.117 or 5117: in a ';' file (or one with decimal commas elsewhere) it is a decimal;
    in a tab file with no decimal comma anywhere, thousands."""
    rng = np.random.default_rng(0)
    vals = np.round(rng.uniform(1, 50, 30), 3)
    semi = tmp_path / "semi.csv"
    semi.write_text("x;y\n" + "\n".join(f"{v:.3f}".replace(".", ",") + f";{i % 2}" for i, v in enumerate(vals)))
    ds = load(semi, val_size=0.0, test_size=0.0, scale=False, dtype="float64")
    np.testing.assert_allclose(np.sort(ds.X_train[:, 0]), np.sort(vals))
    mixed = tmp_path / "mixed.tsv"  # a decimal comma in another column decides for the ambiguous one
    mixed.write_text("a\tw\ty\n" + "\n".join(f"0,{i + 1}\t{i + 1},250\t{i % 2}" for i in range(30)))
    ds = load(mixed, val_size=0.0, test_size=0.0, scale=False, dtype="float64")
    np.testing.assert_allclose(np.sort(ds.X_train[:, 1]), np.arange(1, 31) + 0.25)


@pytest.mark.parametrize("sep", [";", "|", "\t"])
def test_a_headerless_csv_with_decimal_commas_finds_its_separator(tmp_path: Path, sep: str) -> None:
    """'-1,5;-2,5;-1' holds commas and ';': the separator is the one that splits every line alike."""
    rng = np.random.default_rng(1)
    a, b = np.round(rng.normal(size=(2, 30)) * 3, 2)
    rows = [sep.join([f"{x:.2f}".replace(".", ","), f"{z:.2f}".replace(".", ","), str(i % 2)])
            for i, (x, z) in enumerate(zip(a, b))]  # fmt: skip
    path = tmp_path / "nohead.csv"
    path.write_text("\n".join(rows) + "\n")
    ds = load(path, val_size=0.0, test_size=0.0, scale=False, dtype="float64")
    assert ds.feature_names == ["0", "1"] and len(ds.X_train) == 30
    np.testing.assert_allclose(np.sort(ds.X_train[:, 0]), np.sort(a))


def test_a_headerless_first_row_with_a_repeated_number_is_data(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    rows = ["1.5,1.5,0"] + [f"{x:.2f},{z:.2f},{i % 2}" for i, (x, z) in enumerate(rng.uniform(0, 3, (29, 2)))]
    path = tmp_path / "rep.csv"
    path.write_text("\n".join(rows) + "\n")
    ds = load(path, val_size=0.0, test_size=0.0)
    assert len(ds.X_train) == 30 and ds.feature_names == ["0", "1"]


def test_a_text_column_with_a_value_in_every_row_is_warned_about_once(tmp_path: Path, caplog) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"name": [f"n{i}" for i in range(30)], "x": rng.normal(size=30), "y": np.arange(30) % 2})
    path = tmp_path / "names.csv"
    frame.to_csv(path, index=False)
    load(path)
    assert caplog.text.count("'name'") == 1 and "a different value in every row" in caplog.text
