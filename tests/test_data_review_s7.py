"""CSV files as spreadsheets and scripts write them: preambles, numbers written as text, European numbers.

Each test writes its file into ``tmp_path`` and checks what :func:`lrsearch.load` makes of it: Excel's
``sep=;`` line and ``#`` comments above the header, ``45%``/``$1,200``/``3.5 kg`` columns, a decimal comma
with dots grouping thousands (``1.234,5``), and how many times a file is parsed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lrsearch.data import load
from lrsearch.exceptions import DataError

_ALL_ROWS = {"val_size": 0.0, "test_size": 0.0, "scale": False, "dtype": "float64"}


def _same_rows(actual: np.ndarray, expected: np.ndarray) -> None:
    """The split of ``val_size=test_size=0`` shuffles the rows: compare them in one order."""
    actual, expected = (np.asarray(a, np.float64).reshape(len(a), -1) for a in (actual, expected))
    np.testing.assert_allclose(actual[np.lexsort(actual.T[::-1])], expected[np.lexsort(expected.T[::-1])])


def _rows(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(size=(n, 2)) * 3, 2), np.arange(n) % 2


# --- A. lines above the header ------------------------------------------------------------------


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_excel_sep_line_names_the_separator_and_is_skipped(tmp_path: Path, sep: str) -> None:
    """Excel (European locale) writes 'sep=;' first, with a byte-order mark and decimal commas."""
    X, y = _rows()
    lines = [f"sep={sep}", sep.join(["a", "b", "y"])]
    lines += [sep.join([f"{a:.2f}".replace(".", ","), f"{b:.2f}".replace(".", ","), str(t)]) for (a, b), t in zip(X, y)]
    path = tmp_path / "sepline.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    # was: "'sepline.csv' has data rows with more fields than its header (2); add the missing column name(s)..."
    ds = load(path, **_ALL_ROWS)
    assert ds.feature_names == ["a", "b"] and ds.target_name == "y"
    _same_rows(ds.X_train, X)


def test_leading_comment_lines_are_skipped_but_a_hash_in_the_data_is_data(tmp_path: Path, caplog) -> None:
    X, y = _rows()
    lines = ["# exported by the lab logger, v2", "# units: a in m, b in s", "a,b,code,y"]
    lines += [f"{a},{b},#{i % 3},{t}" for i, ((a, b), t) in enumerate(zip(X, y))]
    lines += ["#3,1.5,#1,0"]  # a row whose first value starts with '#'... is a row (here text in column a)
    path = tmp_path / "comments.csv"
    path.write_text("\n".join(lines) + "\n")
    caplog.set_level(logging.INFO, logger="lrsearch.data")
    # was: "could not read 'comments.csv': line 3 has 4 fields but the header has 2" (the comment as the header;
    # a comment without a comma gave "has data rows with more fields than its header (1)")
    ds = load(path, val_size=0.0, test_size=0.0)
    assert len(ds.X_train) == len(X) + 1 and ds.target_name == "y"
    assert {"code_#0", "code_#1", "code_#2"} <= set(ds.feature_names)  # '#' values kept, not cut
    # '#3' made column a text, with a value in every row: dropped since session 8 (an identifier, to one-hot)
    assert "dropping text column(s) 'a'" in caplog.text and "e.g. '" in caplog.text
    said = [r for r in caplog.records if "skipping 2 comment line(s)" in r.getMessage()]
    assert said and said[0].levelno == logging.WARNING  # was INFO: a skipped line may have been the header
    assert "skipping 2 comment line(s) starting with '#' above the header (line 3: 'a,b,code,y')" in caplog.text


def test_a_header_written_after_a_hash_by_np_savetxt_names_the_columns(tmp_path: Path) -> None:
    X, y = _rows()
    path = tmp_path / "savetxt.csv"
    np.savetxt(path, np.c_[X, y], delimiter=",", header="a,b,y", fmt="%.2f")
    assert path.read_text().startswith("# a,b,y\n")
    ds = load(path, **_ALL_ROWS)
    assert ds.feature_names == ["# a", "b"] and ds.target_name == "y" and len(ds.X_train) == len(X)  # as pandas
    _same_rows(ds.X_train, X)
    assert load(path, target="a", **_ALL_ROWS).target_name == "# a"  # the name without its '# ' finds it too
    path.write_text("# a commented-out row comes first\n# 9.99,9.99,1\n" + path.read_text())
    assert load(path, **_ALL_ROWS).feature_names == ["# a", "b"]  # only the line right above the data is a header


def test_lines_above_the_header_do_not_shift_line_numbers_in_errors(tmp_path: Path) -> None:
    rows = ["sep=;", "# note", "a;b;y"] + [f"{i};{i % 3};{i % 2}" for i in range(20)]
    rows[7] += ";7"  # line 8 of the file
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"line 8 has 4 fields but the header has 3"):
        load(path)


def test_a_title_line_above_the_header_is_named_with_its_fix(tmp_path: Path) -> None:
    X, y = _rows()
    path = tmp_path / "title.csv"
    path.write_text("Sales report Q3\na,b,y\n" + "".join(f"{a},{b},{t}\n" for (a, b), t in zip(X, y)))
    # session 8: a title line above rows of as many fields as each other is skipped with a warning
    assert load(path, val_size=0.0, test_size=0.0).feature_names == ["a", "b"]
    extra = tmp_path / "extra.csv"  # one field more than the header in each row: no title to suggest
    extra.write_text("a,b,y\n" + "".join(f"{a},{b},{t},1\n" for (a, b), t in zip(X, y)))
    with pytest.raises(DataError, match=r"than its header \(3\) on line 1; add the missing") as info:
        load(extra)
    assert "a title or a note" not in str(info.value)


def test_a_file_of_comments_only_says_so(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("# to be filled in\n# by the lab\n")
    with pytest.raises(DataError, match=r"holds no header or data rows, only comment lines"):
        load(path)  # was: "has 1 column(s) ('# to be filled in')"


# --- B. numbers written as text ---------------------------------------------------------------


def test_percentages_in_a_csv_are_read_as_fractions_and_labels_stay_labels(tmp_path: Path, caplog) -> None:
    """The review's file: ~30 distinct percentages over 200 rows, which were one-hot encoded silently."""
    rng = np.random.default_rng(0)
    n = 200
    pct = rng.integers(0, 30, n) * 3 + 1
    frame = pd.DataFrame({
        "rate": [f"{p}%" for p in pct], "size": np.array(["small", "medium", "large"])[np.arange(n) % 3],
        "cell": np.array(["A1", "B2"])[np.arange(n) % 2], "rank": np.array(["1st", "2nd", "3rd"])[np.arange(n) % 3],
        "y": (pct > 45).astype(int),
    })  # fmt: skip
    path = tmp_path / "pct.csv"
    frame.to_csv(path, index=False)
    ds = load(path, **_ALL_ROWS)
    assert ds.feature_names[0] == "rate"  # one numeric feature, not ~30 one-hot columns
    _same_rows(ds.X_train[:, 0], pct / 100)
    assert "column 'rate' holds numbers written with '%'; reading them as numbers" in caplog.text
    assert {"size_small", "cell_A1", "rank_1st"} <= set(ds.feature_names)  # labels: one-hot, no warning
    for col in ("size", "cell", "rank"):
        assert f"'{col}'" not in caplog.text


def test_currency_units_and_decimal_comma_percentages_are_numbers(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 40
    price, kg, pct = rng.integers(500, 5000, n), np.round(rng.uniform(1, 9, n), 1), np.round(rng.uniform(0, 99, n), 1)
    path = tmp_path / "units.csv"
    path.write_text(
        "price,weight,y\n" + "".join(f'"${p:,}",{w} kg,{i % 2}\n' for i, (p, w) in enumerate(zip(price, kg)))
    )
    ds = load(path, **_ALL_ROWS)
    _same_rows(ds.X_train, np.c_[price, kg])
    semi = tmp_path / "eu.csv"  # a ';' file writes decimal commas: '12,5 %'
    semi.write_text("share;y\n" + "".join(f"{str(p).replace('.', ',')} %;{i % 2}\n" for i, p in enumerate(pct)))
    _same_rows(load(semi, **_ALL_ROWS).X_train[:, 0], pct / 100)


def test_missing_markers_among_percentages_are_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("rate,x,y\n" + "".join(f"{'?' if i in (4, 9) else f'{i}%'},{i * 0.5},{i % 2}\n" for i in range(40)))
    with pytest.raises(DataError, match=r"column 'rate' holds numbers written with '%' \(e.g. '0%'\) except 2 "
                       r"missing value\(s\) '\?' \(first at row 4\); fill or drop those rows"):
        load(path)  # was: one-hot encoded silently, '?' a category of its own


def test_numbers_as_text_in_a_dataframe_are_warned_about_not_converted(caplog) -> None:
    rng = np.random.default_rng(2)
    n = 200
    X = pd.DataFrame({"rate": [f"{v}%" for v in rng.integers(0, 30, n)], "size": ["small", "large"] * (n // 2)})
    ds = load((X, np.arange(n) % 2), val_size=0.0, test_size=0.0)
    assert "rate_0%" in ds.feature_names  # the DataFrame's types are the user's
    assert "text column 'rate' holds numbers written with '%'" in caplog.text
    assert "convert it to numbers before loading" in caplog.text and "'size'" not in caplog.text


def test_numbers_with_different_units_are_warned_about(tmp_path: Path, caplog) -> None:
    rng = np.random.default_rng(3)
    path = tmp_path / "mixed.csv"
    path.write_text("w,y\n" + "".join(f"{rng.integers(1, 30)} {'kg' if i % 2 else 'g'},{i % 2}\n" for i in range(200)))
    ds = load(path, val_size=0.0, test_size=0.0)
    assert ds.n_features > 10  # kilograms and grams cannot be read as one number
    assert "text column 'w' holds numbers with different units or signs ('g', 'kg'" in caplog.text
    assert "convert them to numbers in one unit" in caplog.text


# --- leftovers: European thousands, reads per file ----------------------------------------------


def test_a_decimal_comma_with_dots_grouping_thousands_is_a_number(tmp_path: Path) -> None:
    vals = [1234.5, 987.25, 12345678.5, 0.5, 3.0] * 8
    path = tmp_path / "eu.csv"
    path.write_text("amount;y\n" + "".join(f"{v:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
                                           + f";{i % 2}\n" for i, v in enumerate(vals)))  # fmt: skip
    assert path.read_text().splitlines()[1] == "1.234,50;0"
    ds = load(path, **_ALL_ROWS)  # was: text, one-hot encoded
    assert ds.feature_names == ["amount"]
    _same_rows(ds.X_train[:, 0], vals)


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_a_file_is_parsed_once(tmp_path: Path, monkeypatch, sep: str) -> None:
    X, y = _rows()
    path = tmp_path / ("data.tsv" if sep == "\t" else "data.csv")
    decimal = "." if sep == "," else ","
    path.write_text("\n".join([sep.join(["a", "b", "y"])] + [sep.join([f"{a:.2f}".replace(".", decimal),
                    f"{b:.2f}".replace(".", decimal), str(t)]) for (a, b), t in zip(X, y)]) + "\n")  # fmt: skip
    calls = []
    read_csv = pd.read_csv

    def counting(*args, **kwargs):
        calls.append(kwargs.get("sep"))
        return read_csv(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", counting)
    ds = load(path, **_ALL_ROWS)
    _same_rows(ds.X_train, X)
    assert calls == [sep]  # was: 3 reads of a ';', tab or '|' file (header row, decimal commas), 2 of a ',' one


# --- the review of the above: '#' headers, codes that end in a letter, dot-grouped codes ----------


def _text_rows(n: int = 30) -> str:
    return "".join(f"n{i},{('red', 'blue', 'green')[i % 3]},{('yes', 'no')[i % 2]}\n" for i in range(n))


def test_a_header_starting_with_a_hash_is_the_header_over_any_rows(tmp_path: Path, caplog) -> None:
    """As pandas reads them: the '#' line right above rows of as many fields is the header, not a comment."""
    text = tmp_path / "text.csv"
    text.write_text("#name,color,label\n" + _text_rows())
    ds = load(text, val_size=0.0, test_size=0.0)  # was: columns 'n0', 'red', 'yes' (a data row), at INFO only
    assert ds.target_name == "label" and "color_red" in ds.feature_names
    assert len(ds.X_train) == 30  # '#name' (n0..n29, one per row) is a column, dropped as an identifier
    assert "dropping text column(s) '#name'" in caplog.text
    trailing = tmp_path / "trailing.csv"  # every row ends with a separator: one empty field more than the header
    trailing.write_text("#id,x,y\n" + "".join(f"{i},{i * 0.13:.2f},{i % 2},\n" for i in range(30)))
    ds = load(trailing, **_ALL_ROWS)  # was: columns '0', '1', '2' (the first row read as data, then renamed)
    assert ds.feature_names == ["#id", "x"] and ds.target_name == "y" and len(ds.X_train) == 30
    caplog.set_level(logging.INFO, logger="lrsearch.data")
    noted = tmp_path / "noted.csv"  # comments above such a header are skipped, with a warning naming the header
    noted.write_text("# exported 2024-05-01\n# by the lab\n#name,color,label\n" + _text_rows())
    assert load(noted, val_size=0.0, test_size=0.0).target_name == "label"
    said = [r for r in caplog.records if "skipping 2 comment line(s)" in r.getMessage()]
    assert said and said[0].levelno == logging.WARNING
    assert "above the header (line 3: '#name,color,label')" in said[0].getMessage()


def test_a_hash_line_above_a_header_of_names_over_numbers_is_a_comment(tmp_path: Path, caplog) -> None:
    X, y = _rows()
    path = tmp_path / "commented.csv"  # the '#' line has as many fields, but 'a,b,y' sits above numbers
    path.write_text("# run 7, lab B, v2\na,b,y\n" + "".join(f"{a},{b},{t}\n" for (a, b), t in zip(X, y)))
    ds = load(path, **_ALL_ROWS)
    assert ds.feature_names == ["a", "b"] and ds.target_name == "y"
    _same_rows(ds.X_train, X)
    assert "skipping 1 comment line(s) starting with '#' above the header (line 2: 'a,b,y')" in caplog.text


def test_column_names_starting_with_a_hash_are_kept_and_found_with_or_without_it(tmp_path: Path) -> None:
    X, y = _rows()
    rows = "".join(f"{t},{a},{b}\n" for (a, b), t in zip(X, y))
    path = tmp_path / "label.csv"
    path.write_text("#label,x,z\n" + rows)
    # was: "target column '#label' not found in 'label.csv'; its columns are 'label', 'x', 'z'"
    assert load(path, target="#label", **_ALL_ROWS).target_name == "#label"
    assert load(path, target="label", **_ALL_ROWS).target_name == "#label"
    rooms = tmp_path / "rooms.csv"
    rooms.write_text("# of rooms,x,y\n" + "".join(f"{i % 5 + 1},{a},{t}\n" for i, ((a, _), t) in enumerate(zip(X, y))))
    assert load(rooms, **_ALL_ROWS).feature_names == ["# of rooms", "x"]  # was: 'of rooms'
    assert load(rooms, target="# of rooms", **_ALL_ROWS).feature_names == ["x", "y"]


@pytest.mark.parametrize("values", [
    ("402B", "100B", "12B"), ("100A", "20A"), ("12kg-A", "3kg-A"), ("9am", "10am"), ("11 PM", "3 PM"),
    ("2005s", "1990s"), ("3.3b", "2.1b"), ("5 yes", "3 yes"), ("35 EUR", "12 EUR"), ("EUR 35", "EUR 12"),
    ("1 star", "2 stars"),
])  # fmt: skip
def test_codes_and_labels_with_a_letter_or_word_after_a_number_stay_text(tmp_path: Path, values) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("w,x,y\n" + "".join(f"{values[i % len(values)]},{i},{i % 2}\n" for i in range(40)))
    ds = load(path, **_ALL_ROWS)  # was (but for 'EUR 35' and '1 star'): read as the numbers 402, 100, 12, ...
    assert {f"w_{v}" for v in values} <= set(ds.feature_names)


def test_numbers_with_a_common_unit_are_read_and_many_codes_with_one_letter_are_warned_about(
    tmp_path: Path, caplog
) -> None:
    n = 60
    path = tmp_path / "units.csv"
    path.write_text("size,clock,age,part,y\n" + "".join(
        f"{i + 1} MB,{2 + i / 10:.1f}GHz,{i % 9 + 1} {'day' if i % 9 == 0 else 'days'},{100 + 7 * i}B,{i % 2}\n"
        for i in range(n)))  # fmt: skip
    ds = load(path, **_ALL_ROWS)
    assert ds.feature_names[:3] == ["size", "clock", "age"]
    assert ds.feature_names == ["size", "clock", "age"]  # 'part': a code per row, dropped (session 8)
    _same_rows(ds.X_train[:, :3], np.c_[np.arange(n) + 1, 2 + np.arange(n) / 10, np.arange(n) % 9 + 1])
    assert "dropping text column(s) 'part': a different value in every row (e.g. '100B')" in caplog.text
    repeated = tmp_path / "repeated.csv"  # codes that repeat stay a one-hot text column, with the warning
    repeated.write_text("part,x,y\n" + "".join(f"{100 + 7 * (i % 30)}B,{i},{i % 2}\n" for i in range(n)))
    ds = load(repeated, **_ALL_ROWS)
    assert sum(f.startswith("part_") for f in ds.feature_names) == 30
    assert "column 'part' holds numbers followed by 'B' (e.g. '100B') and is one-hot encoded into 30 features" in (
        caplog.text)  # fmt: skip


def test_a_unit_column_with_missing_value_markers_says_which(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("w,x,y\n" + "".join(f"{'?' if i % 7 == 3 else f'{i} kg'},{i},{i % 2}\n" for i in range(30)))
    # was: "column 'w' has 4 missing value(s) (first at row 3); fill or drop them" (the '?' not named)
    with pytest.raises(DataError, match=r"column 'w' holds numbers written with 'kg' \(e.g. '0 kg'\) except 4 "
                       r"missing value\(s\) '\?' \(first at row 3\); fill or drop those rows, or replace them"):
        load(path)


@pytest.mark.parametrize("sep", ["\t", "|"])
def test_dot_grouped_integers_are_numbers_only_in_a_file_with_decimal_commas(tmp_path: Path, sep: str, caplog) -> None:
    codes = [f"{222 + i}.551.508" for i in range(30)]
    path = tmp_path / ("codes.tsv" if sep == "\t" else "codes.csv")
    path.write_text(f"a{sep}b{sep}y\n" + "".join(f"{c}{sep}{i * 0.5}{sep}{i % 2}\n" for i, c in enumerate(codes)))
    ds = load(path, **_ALL_ROWS)  # was: the numbers 222551508, ... without a warning (pandas keeps text)
    assert ds.feature_names == ["b"]  # 'a' kept as text: a code per row, dropped as an identifier (session 8)
    assert "dropping text column(s) 'a'" in caplog.text and "dots grouping" not in caplog.text
    eu = tmp_path / ("eu.tsv" if sep == "\t" else "eu.csv")  # a decimal comma elsewhere: European numbers, warned
    eu.write_text(f"a{sep}b{sep}y\n" + "".join(f"{c}{sep}{i},5{sep}{i % 2}\n" for i, c in enumerate(codes)))
    ds = load(eu, **_ALL_ROWS)
    assert ds.feature_names == ["a", "b"]
    _same_rows(ds.X_train, np.c_[[222551508 + 1_000_000 * i for i in range(30)], np.arange(30) + 0.5])
    assert "column 'a' holds numbers such as '222.551.508', read as 222551508 with dots grouping thousands" in (
        caplog.text)  # fmt: skip
