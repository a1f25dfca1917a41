"""Load a data set, validate it with clear messages, split it and scale it.

``load(source)`` turns a bundled scikit-learn data set, a CSV/TSV/Parquet file,
a NumPy ``.npz`` archive or an ``(X, y)`` tuple into a :class:`Dataset`: float32
C-contiguous features standardised on the training split, one-hot encoded
categorical columns, integer labels (classification) or standardised targets
(regression), and a seeded train/val/test split. Bad input raises
:class:`~lrsearch.exceptions.DataError` naming the column or row and the fix.
pandas and scikit-learn are imported lazily, so importing ``Dataset`` is cheap.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence, Union

import numpy as np

from lrsearch._validation import check_bool, check_choice, check_float, check_int
from lrsearch.exceptions import ConfigError, DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BUILTIN_DATASETS", "MAX_INFERRED_CLASSES", "Dataset", "load"]

logger = logging.getLogger(__name__)

_C, _R = "classification", "regression"
_BUILTIN_TASKS = {"iris": _C, "digits": _C, "wine": _C, "breast_cancer": _C, "diabetes": _R, "linnerud": _R}
BUILTIN_DATASETS: tuple[str, ...] = tuple(_BUILTIN_TASKS)
_FILE_TYPES = (".csv", ".tsv", ".parquet", ".pq", ".npz")
_TASKS = (_C, _R)
MAX_INFERRED_CLASSES = 20
"""A numeric, integer-valued target with at most this many levels is inferred as classification."""
_MIN_TRAIN_ROWS = 2

Source = Union[str, Path, tuple[Any, Any]]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated, split and scaled data set, ready for training.

    ``X_*``: float32 (or ``load(dtype=)``) C-contiguous ``(n, n_features)``. ``y_*``:
    int64 labels ``0..K-1`` (classification) or ``(n, n_outputs)`` floats standardised
    with the training split's mean and std (regression). ``n_outputs`` is the number
    of network outputs: ``n_classes``, or the number of target columns. ``x_scaler``
    is a ``StandardScaler`` over a plain array when all features are numeric, else a
    ``ColumnTransformer`` over a DataFrame with the original columns.

    >>> ds = load("iris")
    >>> ds.X_train.shape, ds.n_classes
    ((90, 4), 3)
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    feature_names: list[str]
    target_name: str
    classes: np.ndarray | None
    n_classes: int | None
    n_outputs: int
    name: str
    x_scaler: Any
    y_mean: np.ndarray | None
    y_scale: np.ndarray | None

    @property
    def n_features(self) -> int:
        """Number of feature columns after one-hot encoding."""
        return int(self.X_train.shape[1])

    def inverse_y(self, y_scaled: np.ndarray) -> np.ndarray:
        """Return targets in original units: labels for codes, unscaled values for regression.

        >>> ds = load("diabetes")
        >>> bool(np.allclose(ds.inverse_y(ds.y_train).mean(), 152, atol=10))
        True
        """
        y = np.asarray(y_scaled)
        if self.task == "classification":
            assert self.classes is not None
            return self.classes[y.astype(np.int64)]
        assert self.y_scale is not None and self.y_mean is not None
        return y.astype(np.float64) * self.y_scale + self.y_mean

    def summary(self) -> dict[str, Any]:
        """A small dict describing the data set (for logs and reports).

        >>> load("wine").summary()["rows"]
        {'train': 106, 'val': 36, 'test': 36}
        """
        rows = {"train": len(self.X_train), "val": len(self.X_val), "test": len(self.X_test)}
        classes = None if self.classes is None else self.classes.tolist()
        out = {"name": self.name, "task": self.task, "target": self.target_name, "rows": rows,
               "features": self.n_features, "classes": classes, "n_outputs": self.n_outputs}
        if self.task == "regression" and self.y_scale is not None and self.y_mean is not None:
            # load(scale=False) keeps the targets as given: losses and metrics share their units
            out["target_standardised"] = not (np.all(self.y_mean == 0) and np.all(self.y_scale == 1))
        return out


def load(
    source: Source,
    *,
    target: str | Sequence[str] | None = None,
    task: str | None = None,
    val_size: float = 0.2,
    test_size: float = 0.2,
    seed: int = 0,
    dtype: str = "float32",
    scale: bool = True,
) -> Dataset:
    """Load, validate, split and scale a data set.

    ``source`` is one of :data:`BUILTIN_DATASETS`, a path to a ``.csv``,
    ``.tsv``, ``.parquet``/``.pq`` file (the target is the column named by
    ``target``, default the last column; a list of names gives a multi-output
    regression), a ``.npz`` archive with arrays ``X`` and ``y``, or an
    ``(X, y)`` tuple (``X`` an array or DataFrame). Array columns are named
    ``x0, x1, ...``. Rows in error messages are counted from 0 over data rows.

    Text files are read as users write them, each fix logged as a warning: a
    first line ``sep=X`` (Excel's) gives the separator and is skipped; of the lines
    starting with ``#`` at the top, the last is the header when it splits into as many
    fields as the data line below it (``#name,color,label``, or ``# a,b,y`` as
    ``np.savetxt(header=...)`` writes it; names are kept as written, and a target
    ``#label`` or ``# a`` may also be given as ``label`` or ``a``) unless that line is
    the header itself (a name above a column of numbers), and the lines above it are
    comments, skipped with a warning (a ``#`` further down is data, but for
    ``#`` lines after the last row that do not have the header's fields, a closing
    note); a title line above the header (one filled field, above rows of equal
    width), lines repeating the header (files joined with their headers) and lines
    of separators only (``,,,``) are skipped with a warning; a file
    whose header is all numbers that fit its columns' values (or any numbers, when
    ``target`` is an int position; never pandas' default ``0,1,...``) has no
    header, and its columns are named ``0..k-1``; so does one whose first row holds
    such numbers above the number columns and, above each text column, one of that
    column's values (UCI's ``iris.data``); an unnamed, empty last column (a
    separator ending every row) is dropped; numbers written with thousands
    separators (``"122,910"``) are read as numbers; so is a feature column whose
    every value is a number with one and the same percent sign, currency sign or
    common unit of measurement (``45%`` as 0.45, ``"$1,200"`` as 1200, ``3.5 kg`` as
    3.5, ``2 days``; not a letter or a word that may be part of a code or a label, such
    as ``402B``, ``9am`` or ``35 EUR``; a target column is left as written); a file
    with one column whose name holds ``;``, a tab or ``|`` is read with that separator
    (files separated by any of these may write decimal commas, with dots grouping
    thousands: ``1.234,5``; a column of ``222.551.508`` is read so only in a file that
    writes a decimal comma); a leading unnamed column of distinct integers (a row
    index, as ``to_csv`` writes it, shuffled or filtered, or R's ``write.csv``) is
    dropped; column names are stripped of spaces; and ``target="a,b"`` names two
    target columns. From any source: text cells are stripped of surrounding spaces
    (``'yes '`` is ``'yes'``), numbers written with the Unicode minus sign and
    ``Decimal`` values (Parquet's decimal type) are numbers, and a text feature
    column with a different value in every row (20 rows or more: an identifier or
    free text, which one-hot encoding cannot generalise from) is dropped with a
    warning; a one-hot encoding beyond :data:`MAX_ONE_HOT_CELLS` cells is a
    ``DataError``. Text is UTF-8, or UTF-16/32 with a
    byte-order mark. A feature column of numbers (plain or with a unit) and
    missing-value markers (such as ``?`` or ``NA``) is a ``DataError``; so are rows
    with more fields than the header, and numbers too large to standardise (beyond
    1e150).

    ``task=None`` infers the task. Built-in sets know theirs. Otherwise: several
    target columns -> regression; a non-numeric or bool target -> classification;
    a numeric target whose values are all integers with at most
    :data:`MAX_INFERRED_CLASSES` distinct values -> classification; any other
    numeric target (a fraction anywhere, or many levels) -> regression.

    The split holds ``ceil(val_size * n)`` validation and ``ceil(test_size * n)``
    test rows (either may be 0); it is seeded and, for classification,
    stratified. Every class needs a row in each split, otherwise ``DataError``;
    if stratification is still impossible (e.g. fewer test rows than classes) a
    warning is logged and the split is not stratified.

    ``scale=False`` keeps numeric features and regression targets in their own
    units (categorical columns are still one-hot encoded; ``x_scaler`` is then an
    identity ``StandardScaler`` and ``y_mean``/``y_scale`` are 0 and 1), so that a
    rate measured on the result applies to the arrays as given.

    >>> ds = load("iris", seed=1)
    >>> ds.task, ds.X_train.dtype.name, ds.y_train.dtype.name
    ('classification', 'float32', 'int64')
    """
    if task is not None:
        check_choice(task, "task", "load", _TASKS)
    val_size = check_float(val_size, "val_size", "load", low=0.0, high=1.0, high_open=True)
    test_size = check_float(test_size, "test_size", "load", low=0.0, high=1.0, high_open=True)
    if val_size + test_size >= 1.0:
        raise ConfigError(f"val_size + test_size must be below 1 so that rows remain for training; "
                          f"got {val_size} + {test_size}. Lower one of them.")
    seed = check_int(seed, "seed", "load", low=0, high=2**32 - 1)
    check_bool(scale, "scale", "load")
    out_dtype = check_choice(getattr(dtype, "__name__", dtype), "dtype", "load", ("float32", "float64"))

    features, targets, name, known_task = _read_source(source, target)
    features, targets = _tidy_cells(features, name, "column"), _tidy_cells(targets, name, "target column")
    target_name = ",".join(targets.columns)
    _check_values(features, targets, name)
    if known_task is None:  # the built-in sets are what they are (digits has constant border pixels)
        features = _drop_identifier_text(features, name)
        _warn_about_features(features, name)
    task_inferred = task is None and known_task is None
    if task is None:
        task = known_task or _infer_task(targets)
        logger.info("%s: task=%s (target %r; %s)", name, task, target_name, "built-in" if known_task else "inferred")
    n_val, n_test = _split_sizes(len(features), val_size, test_size)
    if 0 < n_val < MIN_RELIABLE_VAL_ROWS:
        logger.warning("%s: the validation split holds %d row(s): scores on it (a study's objective, a finder's "
                       "probes) move by a whole row's worth; more rows or a larger val_size make them steadier",
                       name, n_val)  # fmt: skip
    n_splits = 1 + (n_val > 0) + (n_test > 0)

    classes: np.ndarray | None = None
    if task == "classification":
        y_all, classes = _encode_labels(targets, n_splits, inferred=task_inferred)
    else:
        y_all = _regression_values(targets)
    train, val, test = _split(y_all if classes is not None else None, len(features), n_val, n_test, seed)

    scaler, feature_names, X_all = _fit_features(features, train, scale)
    y_mean = y_scale = None
    if classes is None and not scale:
        y_mean, y_scale = np.zeros(y_all.shape[1]), np.ones(y_all.shape[1])
        y_all = y_all.astype(out_dtype)
    elif classes is None:
        y_mean, y_scale = y_all[train].mean(axis=0), y_all[train].std(axis=0)
        if np.any(y_scale == 0):
            logger.warning("%s: target %r is constant on the training split", name, target_name)
        y_scale = np.where(y_scale == 0, 1.0, y_scale)
        y_all = ((y_all - y_mean) / y_scale).astype(out_dtype)
    elif len(np.unique(y_all[train])) < len(classes):
        logger.warning("%s: some classes have no training rows", name)

    def part(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.ascontiguousarray(X_all[index], dtype=out_dtype), np.ascontiguousarray(y_all[index])

    (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = part(train), part(val), part(test)
    dataset = Dataset(
        X_tr, y_tr, X_va, y_va, X_te, y_te, task=task, feature_names=feature_names,
        target_name=target_name, classes=classes,
        n_classes=None if classes is None else len(classes),
        n_outputs=len(classes) if classes is not None else int(y_all.shape[1]),
        name=name, x_scaler=scaler, y_mean=y_mean, y_scale=y_scale,
    )
    logger.info("loaded %s", dataset.summary())
    return dataset


def _show(value: Any) -> str:
    """repr of a value, without NumPy's ``np.int64(...)`` wrapper."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _listing(names: Sequence[Any], limit: int = 20) -> str:
    shown = ", ".join(repr(str(n)) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def source_name(source: Any) -> str | None:
    """The name :func:`load` gives a data set from ``source`` (a built-in's key, a file's stem, as
    :func:`_read_source` names it), without reading it; None for arrays and anything else.

    >>> source_name("Breast-Cancer"), source_name("runs/my data.csv"), source_name(([[0.0]], [1]))
    ('breast_cancer', 'my data', None)
    """
    if not isinstance(source, (str, Path)):
        return None
    key = str(source).strip().lower().replace("-", "_")
    if isinstance(source, str) and key in _BUILTIN_TASKS:
        return key
    return Path(source).stem or None


def _read_source(source: Source, target: Any) -> tuple[pd.DataFrame, pd.DataFrame, str, str | None]:
    """Return (features, targets, name, known task) for any kind of source."""
    if isinstance(source, tuple):
        if len(source) != 2:
            raise ConfigError(f"An (X, y) source must have 2 items; got {len(source)}.")
        _no_target(target, "an (X, y) tuple")
        return (*_from_arrays(source[0], source[1]), "arrays", None)
    if not isinstance(source, (str, Path)):
        raise ConfigError(f"The 'source' parameter of load must be a built-in name, a path or an (X, y) tuple. "
                          f"Got {type(source).__name__} instead.")
    key = str(source).strip().lower().replace("-", "_")
    if isinstance(source, str) and key in _BUILTIN_TASKS:
        _no_target(target, "a built-in data set")
        return (*_read_builtin(key), key, _BUILTIN_TASKS[key])
    path = Path(source)
    if not path.exists():
        if isinstance(source, str) and not path.suffix and len(path.parts) == 1:
            raise DataError(f"unknown data set {source!r}; built-in names are {_listing(BUILTIN_DATASETS)}, "
                            f"or give a path to a {'/'.join(_FILE_TYPES)} file")
        raise DataError(f"file '{path}' does not exist; check the path and the working directory")
    suffix = path.suffix.lower()
    if suffix not in _FILE_TYPES:
        raise DataError(f"unsupported file extension {suffix!r} of '{path}'; use one of {', '.join(_FILE_TYPES)}")
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(f"file '{path}' is empty; it needs a header row and at least one data row")
    if suffix == ".npz":
        _no_target(target, "an .npz archive (it holds X and y)")
        return (*_read_npz(path), path.stem, None)
    return (*_read_table(path, suffix, target), path.stem, None)


def _no_target(target: Any, what: str) -> None:
    if target is not None:
        raise ConfigError(f"The 'target' parameter of load only applies to CSV/Parquet files, not to {what}.")


def _read_builtin(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    import pandas as pd
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    features = pd.DataFrame(bunch.data, columns=[str(c) for c in bunch.feature_names])
    y = np.asarray(bunch.target)
    names = [str(c) for c in bunch.target_names] if y.ndim == 2 else ["target"]
    return features, pd.DataFrame(y.reshape(len(y), -1), columns=names)


def _read_table(path: Path, suffix: str, target: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    import pandas as pd

    by_position = isinstance(target, (int, np.integer)) and not isinstance(target, bool)
    if by_position:
        target = str(target)  # a column named by a number: 4 is the fifth column of a file without a header
    elif target is not None and not isinstance(target, str) and not isinstance(target, Sequence):
        raise ConfigError(f"The 'target' parameter of load must be a column name or a list of names. "
                          f"Got {target!r} instead.")
    if isinstance(target, str):
        target = target.strip()
    elif target is not None:
        target = [str(t).strip() for t in target]
    if target is not None and not isinstance(target, str) and not target:
        raise ConfigError("The 'target' parameter of load must name at least one column. Got an empty list instead.")
    is_parquet, sep = suffix in (".parquet", ".pq"), "\t" if suffix == ".tsv" else ","
    decimal_comma = False
    try:
        if is_parquet:
            frame = pd.read_parquet(path)
        else:
            layout = _text_layout(path, _text_encoding(path), sep)
            frame, extra_fields = _read_csv_fields(path, layout)
            if extra_fields and _other_separator(frame, layout.sep) is None:  # else the re-read with it checks
                raise _extra_fields_error(path, frame, layout)
            frame, layout, decimal_comma = _reread_if_misparsed(frame, path, layout, target, by_position)
    except DataError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"file '{path}' is empty; it needs a header row and at least one data row") from exc
    except (OSError, ValueError, ImportError) as exc:  # pandas' ParserError and UnicodeDecodeError are ValueErrors
        raise _read_error(path, exc) from exc
    names = [str(c).strip() for c in frame.columns]
    frame.columns = names if len(set(names)) == len(names) else [str(c) for c in frame.columns]
    frame = _drop_index_column(frame, path)
    if not is_parquet:  # numbers with thousands separators (a decimal comma was read above where it fits)
        frame = _parse_thousands(frame, path)
    columns = list(frame.columns)
    if len(columns) < 2:
        raise DataError(f"file '{path}' has {len(columns)} column(s) ({_listing(columns)}); "
                        f"it needs at least one feature column and a target column")

    def column(name: str) -> str:  # a first column written '# a' or '#id' is also found as 'a' or 'id'
        first = columns[0]
        return first if name not in columns and first.startswith("#") and _without_hash(first) == name else name

    wanted = [columns[-1]] if target is None else [target] if isinstance(target, str) else list(target)
    wanted = [column(name) for name in wanted]
    split = isinstance(target, str) and wanted[0] not in columns and "," in target
    if split:  # "a,b" on the command line: a multi-output regression
        wanted = [column(t.strip()) for t in target.split(",")]
    for name in wanted:
        if name not in columns:
            given = f" (one of the targets {target!r})" if split or len(wanted) > 1 else ""
            raise DataError(f"target column {name!r}{given} not found in '{path}'; its columns are "
                            f"{_listing(columns)}; pass target=<one of them> (--target NAME)")
    twice = next((name for name in wanted if wanted.count(name) > 1), None)
    if twice is not None:
        raise DataError(f"target column {twice!r} is named twice in the targets {target!r}; "
                        f"name each target column once")
    features = frame.drop(columns=wanted)
    if not is_parquet:  # '45%', '$1,200', '3.5 kg': numbers (a target keeps its labels or is an error)
        features = _parse_numbers_with_units(features, path, decimal_comma)
    return features, frame[wanted]


# leading bytes of files that are not text, and what to do with them
_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive",
     "save the sheet as CSV (in Excel: File > Save As > CSV UTF-8)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls)",
     "save the sheet as CSV (in Excel: File > Save As > CSV UTF-8)"),
    (b"PAR1", "a Parquet file", "give it the extension .parquet"),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first (gunzip)"),
    (b"\x93NUMPY", "a NumPy .npy array", "save X and y together with np.savez('data.npz', X=X, y=y)"),
)


def _text_encoding(path: Path) -> str | None:
    """The encoding a CSV/TSV file declares by its byte-order mark (None: UTF-8); DataError for a binary file."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    for bom, encoding in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                          (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):  # fmt: skip
        if head.startswith(bom):
            return encoding
    for signature, what, fix in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise DataError(f"'{path}' is not a text CSV file: it looks like {what}; {fix}")
    if b"\x00" in head:
        raise DataError(f"'{path}' is not a text CSV file: it holds NUL bytes (a binary file, or UTF-16 text "
                        f"without a byte-order mark); save it as a UTF-8 CSV")
    return None


#: Excel's first line naming the separator ("sep=;"; "sep=;;;" once a spreadsheet has saved it again)
_SEP_LINE = re.compile(r'^\s*"?sep=([^\r\n])"?\1*\s*$', re.IGNORECASE)
#: lines read to find the header: a longer preamble of comments is not looked past
_MAX_PREAMBLE = 10_000


@dataclass(frozen=True)
class _TextLayout:
    """How a text file is written: its separator, encoding, and the lines above its header.

    ``skip`` is the number of lines before the header (pandas' ``skiprows``): Excel's
    ``sep=X`` line and comment lines starting with ``#``. ``head`` holds the header line
    and the lines after it as written (up to 20 non-blank ones).
    """

    sep: str
    encoding: str | None = None
    skip: int = 0
    line: int = 1
    head: tuple[str, ...] = ()
    no_data: tuple[int, ...] = ()  # record numbers below the header holding no data (_rows_without_data)

    def read_options(self) -> dict[str, Any]:
        """Keyword arguments of ``pd.read_csv`` for this layout."""
        skip: Any = [*range(self.skip), *self.no_data] if self.no_data else self.skip
        return {"sep": self.sep, "encoding": self.encoding, "skiprows": skip}

    def header_cells(self, width: int) -> list[str] | None:
        """The header line's first ``width`` cells as written (None when it has fewer)."""
        import csv

        try:
            cells = next(csv.reader(self.head, delimiter=self.sep), [])
        except csv.Error:
            return None
        return [c.strip() for c in cells[:width]] if len(cells) >= width else None


def _without_hash(name: str) -> str:
    """A column name without the ``#`` it starts with (``'# a'`` -> ``'a'``, ``'#id'`` -> ``'id'``; ``'#'`` stays).

    Names keep their ``#`` (as pandas keeps them); this is the other name a target may be given by.
    """
    rest = name.lstrip()[1:].strip() if name.lstrip().startswith("#") else name
    return rest or name


def _fields(line: str, sep: str) -> list[str]:
    """The fields of one line (``[]`` when it cannot be split), without the empty one a separator ending it makes."""
    import csv

    try:
        cells = next(csv.reader([line.strip("\r\n")], delimiter=sep), [])
    except csv.Error:
        return []
    return cells[:-1] if len(cells) > 1 and not cells[-1].strip() else cells


def _hash_line_is_header(line: str, head: Sequence[str], sep: str) -> bool:
    """Whether a line starting with ``#`` right above the first other line is the header rather than a comment.

    It is (as pandas reads it) when it splits into as many fields as that line (a
    separator ending either adds nothing), two or more, and is not a row of numbers
    commented out; unless that line is the header itself: it has a name above a
    column that holds numbers in the lines below it (``# note`` above ``a,b,y``).
    """
    def number(cell: str) -> bool:  # a decimal comma counts where the separator is not ','
        return _is_number((cell.replace(",", ".") if sep != "," else cell).strip())

    rows = [_fields(h, sep) for h in head if h.strip()]
    named = _fields(line.strip()[1:], sep)
    if not rows or len(named) != len(rows[0]) or len(named) < 2 or all(number(c) for c in named):
        return False
    first, below = rows[0], rows[1:]
    for j, cell in enumerate(first):
        if not cell.strip() or number(cell) or cell.strip().lower() in _MISSING_MARKERS:
            continue
        values = [r[j] for r in below if len(r) > j and r[j].strip()]
        if values and all(number(v) for v in values):
            return False  # a name above numbers: the first line is the header, the '#' line a comment
    return True


def _text_layout(path: Path, encoding: str | None, sep: str) -> _TextLayout:
    """Find the separator of a text file and the lines above its header.

    A first line ``sep=X`` (Excel's way to name the separator) gives the separator and
    is skipped. Of the lines starting with ``#`` at the top, the last is the header when
    it can be one (:func:`_hash_line_is_header`: ``#name,color,label`` above rows of as
    many fields, ``# a,b,y`` above ``0.5,1.2,1`` as ``np.savetxt(header=...)`` writes it;
    its names are kept as written); the others are comments and are skipped, with a
    warning naming how many and the header line. A ``#`` further down is data (pandas'
    ``comment="#"`` would cut ``#3`` out of any row). Without a ``sep=`` line, the
    separator is found by :func:`_separator`.
    """
    declared: str | None = None
    preamble: list[tuple[int, str]] = []  # (line index, text) of the sep= line and each comment line
    header: int | None = None
    head: list[str] = []
    try:
        with open(path, encoding=encoding or "utf-8-sig", errors="replace", newline="") as handle:
            for index, line in enumerate(handle):
                text = line.strip()
                if header is None:
                    if not text:
                        continue
                    match = _SEP_LINE.match(line.rstrip("\r\n"))
                    if declared is None and not preamble and match:
                        declared, preamble = match.group(1), [(index, line)]
                        continue
                    if text.startswith("#"):
                        preamble.append((index, line))
                        if index > _MAX_PREAMBLE:
                            break
                        continue
                    header = index
                head.append(line)
                if sum(1 for h in head if h.strip()) >= 20:
                    break
    except OSError:
        return _TextLayout(sep, encoding)
    comments = [(i, line) for i, line in preamble if line.strip().startswith("#")]
    if header is None:
        if preamble:
            what = "Excel's 'sep=' line" if not comments else "comment lines (starting with '#')"
            raise DataError(f"'{path}' holds no header or data rows, only {what}; add the header row and the data")
        return _TextLayout(sep, encoding)
    if declared is not None:
        sep = declared
    else:
        sep = _separator([h for h in head if h.strip()], sep)
    hash_header = bool(comments) and comments[-1] == preamble[-1] and _hash_line_is_header(comments[-1][1], head, sep)
    if hash_header:
        header, head = comments[-1][0], [comments[-1][1], *head]
        comments = comments[:-1]
    else:
        header, head = _below_a_title(path, header, head, sep)
    no_data = _rows_without_data(path, encoding, header, head[0], sep, head)
    shown = head[0].strip()
    shown = repr(shown if len(shown) <= 80 else shown[:77] + "...")
    skipped = []
    if declared is not None:
        skipped.append(f"Excel's separator line {preamble[0][1].strip()!r}")
    if comments:
        skipped.append(f"{len(comments)} comment line(s) starting with '#'")
    if skipped:  # a warning when comments are skipped: were the header among them, a data row would name the columns
        log = logger.warning if comments else logger.info
        log("'%s': skipping %s above the header (line %d: %s); if the column names are on another line, delete the "
            "lines above that one", path, " and ".join(skipped), header + 1, shown)  # fmt: skip
    if hash_header:
        first = (_fields(head[0].strip(), sep) or [""])[0].strip()
        alias = _without_hash(first)
        logger.info("'%s': reading the column names from line %d, which starts with '#'; its first column is named "
                    "%r as written%s", path, header + 1, first,
                    f" (a target may also be given as {alias!r})" if alias != first else "")  # fmt: skip
    return _TextLayout(sep, encoding, skip=header, line=header + 1, head=tuple(head), no_data=no_data)


def _below_a_title(path: Path, header: int, head: list[str], sep: str) -> tuple[int, list[str]]:
    """Skip a title line above the header: a first line of one filled field (``Sales 2024``, or ``Sales 2024,,``
    as a spreadsheet saves it) above lines of as many fields as each other (at least 2). Returns (header, head)."""
    rows = [(i, _fields(h.strip(), sep)) for i, h in enumerate(head) if h.strip()]
    if len(rows) < 3:
        return header, head
    width = len(rows[1][1])
    title = rows[0][1]
    if (width < 2 or sum(1 for f in title if f.strip()) != 1 or len(title) > width
            or any(len(f) != width for _, f in rows[2:])):  # fmt: skip
        return header, head
    offset = rows[1][0]
    logger.warning("'%s': skipping line %d, %r, a title above the header (line %d: %r): it has one filled field "
                   "where the rows below have %d", path, header + 1, head[0].strip()[:80], header + offset + 1,
                   head[offset].strip()[:80], width)  # fmt: skip
    return header + offset, head[offset:]


def _rows_without_data(path: Path, encoding: str | None, header: int, line: str, sep: str,
                           head: Sequence[str] = ()) -> tuple[int, ...]:  # fmt: skip
    """The 0-based record numbers (pandas' ``skiprows``: a quoted field spanning lines is one record) below
    ``header`` that hold no data, each kind skipped with one warning: records that repeat a header of names
    (files joined with their headers, ``cat a.csv b.csv``; only when the lines below it, ``head``, hold numbers,
    so that the header cannot be a headerless file's first row), records of empty fields only (``,,,``: rows
    a spreadsheet saved empty), and ``#`` records after the last data record that do not have the header's
    number of fields (a closing note; any other ``#`` line is data)."""
    import csv

    def number(cell: str) -> bool:  # a decimal comma counts too: a ';' file's '2,5'
        cell = cell.strip()
        return _is_number(cell) or bool(re.match(_DECIMAL_COMMA, cell) and any(ch.isdigit() for ch in cell))

    cells = [c.strip() for c in _fields(line.strip(), sep)]
    width = len(cells)
    below = [c for h in head[1:] for c in _fields(h.strip(), sep)]
    names = bool(cells) and not any(number(c) for c in cells) and any(number(c) for c in below)
    repeats: list[int] = []
    empty: list[int] = []
    trailing: list[int] = []
    try:
        with open(path, encoding=encoding or "utf-8-sig", errors="replace", newline="") as handle:
            for index, record in enumerate(csv.reader(handle, delimiter=sep)):
                if index <= header or not record:  # a blank line: pandas skips it itself
                    continue
                fields = [c.strip() for c in record]
                if fields[-1:] == [""] and len(fields) == width + 1:  # a separator ending the row
                    fields = fields[:-1]
                if names and fields == cells:
                    repeats.append(index)
                elif not any(fields):
                    empty.append(index)
                elif fields[0].startswith("#") and len(fields) != width:  # '#3,1.5,0': a row, as any
                    trailing.append(index)
                    continue
                trailing.clear()
    except (OSError, csv.Error):
        return ()
    for found, what in ((repeats, "that repeat the header, as files joined with their headers have"),
                        (empty, "of separators only (rows saved empty)"),
                        (trailing, "starting with '#' after the last data row")):  # fmt: skip
        if found:
            logger.warning("'%s': skipping %d line(s) %s (first: line %d)", path, len(found), what, found[0] + 1)
    return tuple(sorted(repeats + empty + trailing))


def _separator(lines: list[str], sep: str) -> str:
    """The separator the header and first data lines are written with: ``sep``, or ``;``, tab or ``|``.

    A first line with one of those and no ``sep`` is written with it. A first line
    with both is written with the other one when that one splits each of the first
    20 lines into the same number of fields: data rows may hold commas (decimal
    commas, thousands) in numbers that differ from row to row, which a first read
    with ``,`` would take for fields.
    """
    import csv

    lines = lines[:20]
    if not lines:
        return sep
    others = [c for c in (";", "\t", "|") if c != sep and c in lines[0]]
    if sep not in lines[0]:
        return others[0] if len(others) == 1 else sep

    def fields(delimiter: str) -> set[int]:
        return {len(row) for row in csv.reader(lines, delimiter=delimiter)}

    # the first line holds both: the one that splits every line into the same number of fields (a comma may be a
    # decimal comma in a ';' file: '-1,5;-2,5;-1'); when both do, the other one, as commas also sit inside numbers
    consistent = [c for c in others if len(fields(c)) == 1 and fields(c) != {1}]
    if len(consistent) == 1 and (len(fields(sep)) != 1 or len(lines) > 1):
        return consistent[0]
    return sep


def _read_csv_fields(path: Path, layout: _TextLayout, **options: Any) -> tuple[pd.DataFrame, bool]:
    """``pd.read_csv`` that types each column from all its rows (no chunk-wise DtypeWarning) and never takes the
    first column as the row index; returns (frame, whether data rows have more fields than the header).

    (By default pandas would silently make the first field of such rows the index, shifting every column by one;
    with ``index_col=False`` it drops their last fields and warns, a warning turned into the returned flag.)
    """
    import warnings

    import pandas as pd

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        frame = pd.read_csv(path, low_memory=False, index_col=False, **layout.read_options(), **options)
    extra = False
    for warning in caught:
        if issubclass(warning.category, pd.errors.ParserWarning) and "does not match" in str(warning.message):
            extra = True
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return frame, extra


def _read_csv(path: Path, layout: _TextLayout, **options: Any) -> pd.DataFrame:
    """:func:`_read_csv_fields`, with DataError for data rows that have more fields than the header."""
    frame, extra = _read_csv_fields(path, layout, **options)
    if extra:
        raise _extra_fields_error(path, frame, layout)
    return frame


def _extra_fields_error(path: Path, frame: pd.DataFrame, layout: _TextLayout) -> DataError:
    import csv

    rows = [r for r in csv.reader(layout.head[1:], delimiter=layout.sep) if r]
    most = max((len(r) for r in rows), default=frame.shape[1] + 1)
    note = ""
    if most > frame.shape[1] + 1:  # more than a separator ending each row: the header may be a title
        note = (f"; if line {layout.line} is a title or a note rather than the header, delete it or start it "
                f"with '#'")
    return DataError(f"'{path}' has data rows with more fields than its header ({frame.shape[1]}) on line "
                     f"{layout.line}; add the missing column name(s) to the header, or remove the extra field(s) "
                     f"(a separator at the end of each row?){note}")


def _read_error(path: Path, exc: BaseException) -> DataError:
    """A one-line DataError for a file pandas could not read, naming the line and the fix where it can."""
    if isinstance(exc, UnicodeDecodeError) and exc.encoding.replace("-", "").lower().startswith("utf8"):
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:  # where in the file (pandas' position counts from its buffer)
            line, byte = data.count(b"\n", 0, bad.start) + 1, data[bad.start]
            return DataError(f"could not read '{path}': line {line} is not UTF-8 text (byte {byte:#04x}); save the "
                             f"file as UTF-8 (in Excel: CSV UTF-8), e.g. iconv -f latin1 -t utf-8 old.csv > new.csv")
    text = " ".join(str(exc).split())
    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if ragged:
        expected, line, saw = ragged.groups()
        return DataError(f"could not read '{path}': line {line} has {saw} fields but the header has {expected}; "
                         f"fix that line, or quote fields that contain the separator")
    unclosed = re.search(r"EOF inside string starting at row (\d+)", text)
    if unclosed:
        line = int(unclosed.group(1)) + 1
        return DataError(f"could not read '{path}': the quoted field that starts on line {line} is never closed; "
                         f"add the closing quote (\") or remove the opening one")
    return DataError(f"could not read '{path}': {text}")


def _is_number(text: Any) -> bool:
    try:
        return math.isfinite(float(str(text)))
    except ValueError:
        return False


def _other_separator(frame: pd.DataFrame, sep: str) -> str | None:
    """The separator (``;``, tab, ``|`` or ``,``) of a file read as one column whose name holds it, else None."""
    if frame.shape[1] != 1:
        return None
    head = str(frame.columns[0])
    return next((s for s in (";", "\t", "|", ",") if s != sep and s in head), None)


def _reread_if_misparsed(
    frame: pd.DataFrame, path: Path, layout: _TextLayout, target: Any, by_position: bool = False
) -> tuple[pd.DataFrame, _TextLayout, bool]:
    """Re-read a CSV/TSV whose separator is another one, or whose first row is data rather than a header.

    A header of numbers is data when the target was given by position (an int),
    or, unless the target names one of its cells, when every number lies within
    the range of its column's values widened by that range on both sides (years
    or other numbers used as names usually do not). Pandas' default names
    ``0,1,...,k-1`` stay a header. An unnamed, empty last column (a separator
    ending every row) is dropped first, so that it does not pass for a name.
    Returns the frame, the layout it was read with and whether it writes decimal commas.
    """
    import dataclasses

    other = _other_separator(frame, layout.sep)
    if other is not None:
        logger.warning("'%s': its columns are separated by %r, not %r; reading it that way", path, other, layout.sep)
        layout = dataclasses.replace(layout, sep=other)
        frame = _read_csv(path, layout)
    sep = layout.sep
    frame, decimal_commas = _with_decimal_commas(frame, path, sep)
    frame = _drop_trailing_empty_column(frame, path)
    wanted = [] if target is None else [target] if isinstance(target, str) else list(target)
    header = [str(c) for c in frame.columns]
    # the first row as written (pandas renames a repeated name: '1.5', '1.5' -> '1.5', '1.5.1'), its cells as
    # numbers are written in this file (a decimal comma where its columns have them)
    first_row = layout.header_cells(frame.shape[1]) or header
    as_number = [c.replace(",", ".") if decimal_commas else c for c in first_row]
    named_by_pandas = header == [str(j) for j in range(len(header))]  # to_csv of a frame with default column names
    numbers = bool(header) and not named_by_pandas and all(_is_number(c) for c in as_number)
    names_target = bool(wanted) and all(str(t) in header for t in wanted)
    if numbers and not by_position and names_target:
        numbers = False  # the target names a cell: a header of numbers
    elif numbers and not by_position:
        numbers = _header_looks_like_data(frame, as_number)
    mixed = False
    if not numbers and not named_by_pandas and not (names_target and not by_position):
        cells = first_row if len(first_row) == frame.shape[1] else []
        numeric = [not _is_categorical(frame.iloc[:, j]) for j in range(len(cells))]
        cells = [c.replace(",", ".") if decimal_commas and num else c for c, num in zip(cells, numeric)]
        mixed = len(cells) == frame.shape[1] and _mixed_header_looks_like_data(frame, cells)
    if numbers or mixed:
        width = frame.shape[1]
        frame, _ = _with_decimal_commas(_read_csv(path, layout, header=None), path, sep)
        if frame.shape[1] == width + 1 and frame.iloc[:, -1].isna().all():
            frame = frame.iloc[:, :width]  # the empty last column, dropped above with its warning
        frame.columns = [str(j) for j in range(frame.shape[1])]
        what = ("holds only numbers" if numbers else
                "holds numbers above the number columns and values of the text columns above them")
        logger.warning("'%s': the first row %s, so it is read as data, not as a header; columns are named 0..%d "
                       "(the target, by default, is the last)", path, what, frame.shape[1] - 1)  # fmt: skip
    elif len(first_row) == len(header) and _repeated_names(first_row):
        repeated = _repeated_names(first_row)
        renamed = ", ".join(f"{h!r} (written {c!r})" for h, c in zip(header, first_row) if h != c and c in repeated)
        logger.warning("'%s': several columns have the same name, and the repeats are read as %s: rename them in "
                       "the file to choose a target or tell them apart", path, renamed)  # fmt: skip
    return frame, layout, decimal_commas or sep == ";"


def _repeated_names(cells: Sequence[str]) -> set[str]:
    """The header cells written more than once (blank cells, which pandas names 'Unnamed: k', do not count).

    >>> sorted(_repeated_names(["a", "a", "b", "nan", "nan", ""]))
    ['a']
    """
    from collections import Counter

    counts = Counter(c for c in cells if c and c.lower() != "nan")
    return {c for c, k in counts.items() if k > 1}


_INT_THOUSANDS = r"^\s*[+-]?[1-9]\d{0,2}(?:,\d{3})+\s*$"
#: a number written with a decimal comma, perhaps with dots grouping thousands ('2,5', '-0,530', '1.234,5', '3')
_DECIMAL_COMMA = r"^\s*[+-]?(?:(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?\s*$"


def _decimal_comma_values(column: pd.Series) -> np.ndarray:
    """The float64 values of a text column of :data:`_DECIMAL_COMMA` numbers (missing values stay NaN)."""
    import pandas as pd

    text = column.astype(str).str.strip().str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text.where(column.notna()), errors="coerce").to_numpy(np.float64)


def _with_decimal_commas(frame: pd.DataFrame, path: Path, sep: str) -> tuple[pd.DataFrame, bool]:
    """``frame`` with its text columns that are numbers written with decimal commas read as numbers.

    Only for ``;``, tab and ``|`` files (a ``,`` file cannot hold an unquoted decimal
    comma). A column qualifies when each of its values is such a number (``2,5``,
    ``-0,530``, ``1.234,5`` with a dot grouping thousands, ``3``) and one of them holds
    a comma, or, in a file that writes a decimal comma elsewhere, a dot (``1.234.567``;
    without one such a column stays text, as pandas reads it: ``222.551.508`` may be a
    code). Where every comma in it could group thousands (``1,500``), it is read as
    thousands (by :func:`_parse_thousands`, which warns) when a value has two groups
    (``23,881,676``) or when nothing else in a tab or ``|`` file is written with a
    decimal comma; otherwise (a ``;`` file, or decimal commas elsewhere) as decimals,
    with a warning; so is a column whose dots are read as grouping thousands. Returns
    the frame and whether any column was read with decimal commas.
    """
    import pandas as pd

    if sep == "," or frame.shape[1] == 0:
        return frame, False
    gained: list[tuple[int, pd.Series]] = []  # columns of decimal-comma numbers, with their values holding commas
    for j in range(frame.shape[1]):
        plain = frame.iloc[:, j]
        if not _is_categorical(plain) or plain.dtype == bool:
            continue
        text = pd.Series(plain.dropna().astype(str).unique())
        if len(text) and text.str.match(_DECIMAL_COMMA).all() and text.str.contains(r"[,.]").any():
            gained.append((j, text))
    # a comma that cannot group thousands anywhere in the file ('0,487', '2,5', '1.234,5') says it writes decimal
    # commas
    commas = [t[t.str.contains(",", regex=False)] for _, t in gained]
    written = any(len(c) and not c.str.match(_INT_THOUSANDS).all() for c in commas)
    out, used = frame.copy(), False
    for (j, text), with_comma in zip(gained, commas):
        name = str(frame.columns[j])
        if not len(with_comma) and not written:
            continue  # '222.551.508' in a file without a decimal comma: a code, or thousands; left as written
        groups = with_comma.str.match(_INT_THOUSANDS).all() if len(with_comma) else False
        # thousands only with evidence: two groups ('23,881,676'), or a file with no decimal comma elsewhere
        if groups and (with_comma.str.count(",").max() >= 2 or not (written or sep == ";")):
            continue  # _parse_thousands reads it, and warns
        values = _decimal_comma_values(frame.iloc[:, j])
        dotted = text[text.str.contains(".", regex=False)]
        if groups:
            logger.warning("'%s': column %r holds numbers such as %r, read with a decimal comma as the rest of "
                           "the file is; if the comma groups thousands, remove it", path, name,
                           with_comma.iloc[0])  # fmt: skip
        elif len(dotted):
            example = dotted.iloc[0]
            how = " and a decimal comma" if "," in example else ", as the file writes decimal commas"
            logger.warning("'%s': column %r holds numbers such as %r, read as %s with dots grouping thousands%s; "
                           "if they are codes rather than numbers, add a letter to them to keep them as text", path,
                           name, example, f"{_decimal_comma_values(pd.Series([example]))[0]:.15g}", how)  # fmt: skip
        out.isetitem(j, values)
        used = True
    return out, used


def _mixed_header_looks_like_data(frame: pd.DataFrame, header: list[str]) -> bool:
    """Whether a header over number and text columns is a data row (a file without a header, as UCI's iris.data).

    Yes when there are both kinds of column, every cell above a number column is a
    number within its column's widened range (:func:`_header_looks_like_data`), and
    every cell above a text column is one of that column's own values (a name such
    as ``species`` is not; ``Iris-setosa`` is).
    """
    text = [j for j in range(frame.shape[1]) if _is_categorical(frame.iloc[:, j])]
    if not text or len(text) == frame.shape[1] or len(header) != frame.shape[1]:
        return False
    for j in text:
        values = {str(v).strip() for v in frame.iloc[:, j].dropna().unique()}
        if header[j].strip() not in values:
            return False
    numeric = [j for j in range(frame.shape[1]) if j not in text]
    if not all(_is_number(header[j]) for j in numeric):
        return False
    return _header_looks_like_data(frame.iloc[:, numeric], [header[j] for j in numeric])


def _header_looks_like_data(frame: pd.DataFrame, header: list[str]) -> bool:
    """Whether every header number lies within its column's range widened by that range on each side."""
    for name, column in zip(header, (frame.iloc[:, j] for j in range(frame.shape[1]))):
        if _is_categorical(column):
            return False  # a number above a text column: a name
        values = column.to_numpy(np.float64)
        lo, hi = float(np.min(values)), float(np.max(values))
        span = max(hi - lo, abs(hi), abs(lo), 1.0) if hi == lo else hi - lo
        if not lo - span <= float(name) <= hi + span:
            return False
    return True


#: a number with thousands separators ("122,910", "-1,234,567.5"; never "0,125", a decimal comma), or a plain one
_THOUSANDS = r"^\s*[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?\s*$|^\s*[+-]?\d+(?:\.\d*)?\s*$"


def _parse_thousands(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Text columns of numbers written with thousands separators (``"122,910"``) become numbers."""
    import pandas as pd

    for col in frame.columns:
        column = frame[col]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        text = column.dropna().astype(str)
        if text.empty or not text.str.contains(",", regex=False).any() or not text.str.match(_THOUSANDS).all():
            continue
        frame[col] = pd.to_numeric(column.astype(str).str.replace(",", "", regex=False).str.strip()
                                   .where(column.notna()), errors="coerce")  # fmt: skip
        logger.warning("'%s': column %r holds numbers written with thousands separators (e.g. %r); reading them "
                       "as numbers (if those commas are decimal commas, write the values with a point)", path, col,
                       next(v for v in text if "," in v))  # fmt: skip
    return frame


_CURRENCY = "$€£¥₹₩₽₺₪₫₱฿₴₦"
#: signs that make a number a fraction: 45% is 0.45, 5‰ is 0.005
_PER = {"%": 100.0, "‰": 1000.0}
#: units of measurement a column's numbers may be written with and still be read as numbers, as written (a single
#: letter, as in '402B', '100A' or '2005s', is too often part of a code or a label to be read as a unit)
_UNITS = frozenset((  # mass, length, volume and area, time, data, electricity, frequency, temperature, ...
    "mg", "kg", "µg", "μg", "lb", "lbs", "oz",
    "nm", "µm", "μm", "mm", "cm", "km", "mi", "ft", "yd",
    "ml", "mL", "cl", "cL", "dl", "dL", "gal", "cc", "m²", "m³", "cm²", "cm³", "km²", "ft²", "sqft",
    "ns", "µs", "μs", "ms",
    "kB", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "kb", "mb", "gb", "tb",
    "bps", "kbps", "Mbps", "Gbps",
    "mA", "mV", "kV", "mW", "kW", "MW", "GW", "Wh", "kWh", "MWh", "mAh",
    "Hz", "kHz", "MHz", "GHz", "rpm",
    "°C", "°F", "°", "℃", "℉",
    "Pa", "hPa", "kPa", "MPa", "psi", "atm", "mmHg", "mbar",
    "kJ", "MJ", "kcal", "cal",
    "px", "dpi", "ppm", "ppb", "dB", "mph", "kph", "km/h", "m/s", "mol", "mmol",
))  # fmt: skip
#: units that are words, in any case, each with the name it is compared by ('1 day' and '2 days' share a unit)
_UNIT_WORDS = {word: name for name, words in {
    "sec": ("sec", "secs"), "min": ("min", "mins"), "hrs": ("hr", "hrs"), "yrs": ("yr", "yrs"),
    "seconds": ("second", "seconds"), "minutes": ("minute", "minutes"), "hours": ("hour", "hours"),
    "days": ("day", "days"), "weeks": ("week", "weeks"), "months": ("month", "months"), "years": ("year", "years"),
}.items() for word in words}  # fmt: skip
#: a number with a currency sign before it, or any sign or word after it (read only with one of the above)
_WRITTEN_NUMBER = re.compile(rf"^\s*([+-]?)\s*([{_CURRENCY}]?)\s*([+-]?)\s*(\d[\d.,]*|[.,]\d+)\s*"
                             rf"([%‰℃℉{_CURRENCY}]|(?:°|[^\W\d_])[^\s\d]{{0,9}})?\s*$")  # fmt: skip
_NUMBER_STYLES = {
    "point": re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^\.\d+$"),  # 1,200.50
    "comma": re.compile(r"^(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$|^,\d+$"),  # 1.200,50
}


def _unit_name(written: str) -> str:
    """A sign or unit as values are compared by: words in one case and number (``'Day'``, ``'days'`` -> ``'days'``)."""
    return _UNIT_WORDS.get(written.lower(), written)


def _is_unit(unit: str) -> bool:
    """Whether numbers written with ``unit`` (as :func:`_unit_name` gives it) are read as numbers.

    >>> [_is_unit(u) for u in ("%", "$", "€", "kg", "MB", "°C", "days", "B", "am", "PM", "kg-A", "EUR", "yes")]
    [True, True, True, True, True, True, True, False, False, False, False, False, False]
    """
    return unit in _PER or (len(unit) == 1 and unit in _CURRENCY) or unit in _UNITS or unit in _UNIT_WORDS.values()


def _written_numbers(column: pd.Series, styles: Sequence[str]) -> tuple[list[str], np.ndarray | None]:
    """Read a text column of numbers written with a unit, percent or currency sign (``45%``, ``$1,200``, ``3.5 kg``).

    Returns (the signs and words written after or before the numbers, one entry per
    kind; the numbers, with ``NN%`` as ``NN/100`` and missing-value markers such as
    ``?`` as NaN, when every value carries the same one, it is a percent, permille or
    currency sign or a unit of :data:`_UNITS` or :data:`_UNIT_WORDS`, and the numbers
    parse in one of ``styles``; else None). ``([], None)`` when some value is not a
    number followed (or preceded, by a currency sign) by one sign or word, none carries
    one, they are ranks (``1st``, ``2nd``) or markers are half the values or more.
    """
    text = column.dropna().astype(str)
    markers = text.str.strip().str.lower().isin(_MISSING_MARKERS)
    if text.empty or markers.sum() * 2 >= len(text):
        return [], None
    parsed: dict[str, tuple[str, str, str]] = {}  # value -> (sign, number, sign or unit)
    for value in text[~markers].unique():
        match = _WRITTEN_NUMBER.match(value)
        if match is None or (match.group(1) and match.group(3)) or not (match.group(2) or match.group(5)):
            return [], None
        unit = _unit_name(match.group(2) + (match.group(5) or ""))
        if unit.lower() in ("st", "nd", "rd", "th"):  # ranks 1st, 2nd: labels
            return [], None
        parsed[value] = (match.group(1) or match.group(3), match.group(4), unit)
    units = sorted({unit for _, _, unit in parsed.values()})
    style = next((s for s in styles if all(_NUMBER_STYLES[s].match(n) for _, n, _ in parsed.values())), None)
    if len(units) != 1 or style is None or not _is_unit(units[0]):
        return units, None
    thousands, point = ("," , ".") if style == "point" else (".", ",")
    scale = _PER.get(units[0], 1.0)
    numbers = {value: float(sign + number.replace(thousands, "").replace(point, ".")) / scale
               for value, (sign, number, _) in parsed.items()}  # fmt: skip
    values = column.astype(object).map(lambda v: numbers.get(str(v), math.nan) if isinstance(v, str) else math.nan)
    return units, values.to_numpy(np.float64)


def _parse_numbers_with_units(features: pd.DataFrame, path: Path, decimal_comma: bool) -> pd.DataFrame:
    """Text feature columns of numbers written with one unit, percent or currency sign become numbers.

    ``45%`` is read as 0.45, ``$1,200`` as 1200, ``3.5 kg`` as 3.5; decimal commas
    where the file writes them (``12,5 %``). Columns with several units, or with a
    sign or word that is not a unit (``402B``, ``9am``, ``35 EUR``), stay text. A
    column whose other values are missing-value markers (``?``) is a DataError.
    """
    styles = ("point",) if not decimal_comma else ("comma", "point")
    out = features
    for col in features.columns:
        column = features[col]
        if not _is_categorical(column) or column.dtype == bool:
            continue
        units, values = _written_numbers(column, styles)
        if values is None:
            continue
        marked = (column.notna() & column.astype(str).str.strip().str.lower().isin(_MISSING_MARKERS)).to_numpy()
        if marked.any():
            rows = np.flatnonzero(marked)
            shown = ", ".join(repr(t) for t in column[marked].astype(str).str.strip().unique())
            example = column.iloc[int(np.argmax(~np.isnan(values)))]
            raise DataError(f"column {str(col)!r} holds numbers written with {units[0]!r} (e.g. {_show(example)}) "
                            f"except {rows.size} missing value(s) {shown} (first at row {rows[0]}); fill or drop "
                            f"those rows, or replace them with numbers, before loading")  # fmt: skip
        if out is features:
            out = features.copy()
        out[col] = values
        row = int(np.argmax(~np.isnan(values)))
        logger.warning("'%s': column %r holds numbers written with %r; reading them as numbers (%r as %s%s); "
                       "write plain numbers in the file to avoid this warning", path, str(col), units[0],
                       column.iloc[row], f"{values[row]:g}", ", a fraction" if units[0] in _PER else "")  # fmt: skip
    return out


def _drop_trailing_empty_column(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Drop an unnamed last column without a value: what a separator at the end of every row makes."""
    last = frame.columns[-1] if frame.shape[1] > 1 else None
    if last is not None and (str(last) == "" or str(last).startswith("Unnamed: ")) and frame[last].isna().all():
        logger.warning("'%s': dropping its last column, unnamed and empty (each row ends with a separator)", path)
        return frame.drop(columns=[last])
    return frame


def _drop_index_column(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Drop a leading unnamed column of distinct integers: a row index as pandas' ``to_csv`` (0..n-1, or any
    order and gaps after shuffling or filtering) and R's ``write.csv`` (1..n) write it by default. Kept as a
    feature, a shuffled index can carry the label (the rows' original order)."""
    from pandas.api.types import is_integer_dtype

    first = frame.columns[0] if frame.shape[1] > 2 else None
    if (first is not None and (first == "" or first.startswith("Unnamed: 0")) and is_integer_dtype(frame[first])
            and frame[first].is_unique):  # fmt: skip
        values = frame[first].to_numpy()
        what = (f"0..{len(frame) - 1}, as pandas' to_csv writes it" if np.array_equal(values, np.arange(len(frame)))
                else f"1..{len(frame)}, as R's write.csv writes it"
                if np.array_equal(values, np.arange(1, len(frame) + 1))
                else "distinct integers in another order or with gaps: the index of shuffled or filtered rows")
        logger.warning("'%s': dropping its first column %r, unnamed: a row index (%s); save the file without it "
                       "(to_csv(index=False), write.csv(row.names=FALSE)) to avoid this", path, first, what)
        return frame.drop(columns=[first])
    return frame


def _read_npz(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    if path.is_file() and not zipfile.is_zipfile(path):  # a single .npy array, a pickle, text...
        with open(path, "rb") as handle:
            kind = "a single NumPy .npy array" if handle.read(6) == b"\x93NUMPY" else "not a zip archive"
        raise DataError(f"could not read '{path}': it is not a NumPy .npz archive ({kind}); save X and y together "
                        f"with np.savez(path, X=X, y=y)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            files = sorted(archive.files)
            arrays: dict[str, np.ndarray] = {}
            for key in ("X", "y"):
                if key not in archive.files:
                    continue
                try:
                    arrays[key] = archive[key]
                except ValueError as exc:
                    if "allow_pickle" not in str(exc):
                        raise
                    raise DataError(f"array {key!r} in '{path}' is an object array (mixed types or Python objects), "
                                    f"which is not unpickled, for safety; save it as numbers or strings, e.g. "
                                    f"np.savez(path, X=X.astype(float), y=y.astype(str)), or as a CSV") from exc
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"could not read '{path}' as a NumPy .npz archive of numeric arrays: {exc}") from exc
    for key in ("X", "y"):
        if key not in arrays:
            raise DataError(f"'{path}' has no array named {key!r} (it holds {_listing(files)}); "
                            f"save it with np.savez(path, X=X, y=y)")
    return _from_arrays(arrays["X"], arrays["y"])


def _from_arrays(X: Any, y: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        features = X.reset_index(drop=True)
        features.columns = [str(c) for c in features.columns]
    else:
        X = np.asarray(densify(X))  # a SciPy sparse matrix: np.asarray alone makes a 0-d object array
        if X.ndim != 2:
            fix = ("X.reshape(-1, 1) for a single feature" if X.ndim < 2 else
                   f"X.reshape(len(X), -1) to flatten each row's {X.shape[1:]} values into {int(np.prod(X.shape[1:]))}"
                   " features")  # fmt: skip
            raise DataError(f"X must be 2-D (rows, features) but has shape {X.shape}; reshape it, e.g. {fix}")
        features = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    if isinstance(y, (pd.Series, pd.DataFrame)):
        targets = y.to_frame(name=str(y.name or "y")) if isinstance(y, pd.Series) else y
        targets = targets.reset_index(drop=True)
        targets.columns = [str(c) for c in targets.columns]
    else:
        y = np.asarray(y)
        if y.ndim not in (1, 2):
            raise DataError(f"y must be 1-D (one target) or 2-D (rows, outputs) but has shape {y.shape}")
        names = ["y"] if y.ndim == 1 or y.shape[1] == 1 else [f"y{j}" for j in range(y.shape[1])]
        targets = pd.DataFrame(y[:, None] if y.ndim == 1 else y, columns=names)
    if len(features) != len(targets):
        raise DataError(f"X has {len(features)} rows but y has {len(targets)}; they need one entry per row")
    for what, frame in (("X", features), ("y", targets)):
        dup = frame.columns[frame.columns.duplicated()].unique().tolist()
        if dup:
            raise DataError(f"{what} has duplicate column names ({_listing(dup)}); rename or drop the duplicates")
    # an object array of numbers (np.array of mixed lists, DataFrame.values of a mixed frame) holds numbers,
    # not categories: give such columns their numeric dtype
    return features.infer_objects(), targets.infer_objects()


#: the one-hot encoding of text columns may hold this many cells (2 GB in float64); beyond, a DataError
MAX_ONE_HOT_CELLS = 2.5e8

#: sparse input is densified up to this many cells (8 GB in float64); beyond, a clear error
MAX_DENSE_CELLS = 10**9


def densify(X: Any) -> Any:
    """A SciPy sparse matrix (a ``OneHotEncoder``'s default output in a pipeline) as a dense array; else ``X``.

    lrsearch's core trains on dense rows (scikit-learn's MLP multiplies sparse
    matrices directly; this one densifies them), which suits the one-hot columns of
    tabular data; a matrix too large to densify (a large TF-IDF) is a DataError with a
    way out.

    >>> import scipy.sparse
    >>> densify(scipy.sparse.eye(2, format="csr")).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if not (hasattr(X, "toarray") and hasattr(X, "nnz")):
        return X
    cells = int(X.shape[0]) * int(X.shape[1])
    if cells > MAX_DENSE_CELLS:
        raise DataError(f"X is a sparse matrix of shape {X.shape}, which lrsearch densifies (its network trains on "
                        f"dense rows): {cells * X.dtype.itemsize / 1e9:.0f} GB. Reduce its columns first (e.g. "
                        f"sklearn.decomposition.TruncatedSVD, or fewer categories), or pass fewer rows at a time.")  # fmt: skip
    return X.toarray()


def _is_categorical(column: pd.Series) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_bool_dtype(column) or not is_numeric_dtype(column)


def _warn_about_features(features: pd.DataFrame, name: str) -> None:
    """Log a warning for feature columns that are loaded as asked but are likely not what the user meant.

    Constant columns (nothing to learn from), a column of distinct integers named
    like an identifier (``id``, ``*_id``: it would be learnt as a quantity), a text
    column of numbers written with a unit, percent or currency sign (``12%``,
    ``$1,200``: a CSV file's are read as numbers, but not a DataFrame's or a Parquet
    file's, whose types are the user's), one of numbers with different units
    (``3.5 kg``, ``200 g``) with more than 10 distinct values, and a text column with
    distinct values in more than half its rows (one-hot encoded into that many
    features: an identifier, free text or numbers written as text; one with a
    different value in every row is dropped before, by :func:`_drop_identifier_text`).
    """
    from pandas.api.types import is_integer_dtype

    n = len(features)
    constant = [str(c) for c in features.columns if features[c].nunique(dropna=False) <= 1]
    if constant and n > 1:
        logger.warning("%s: feature column(s) %s hold a single value: they carry nothing to learn from; drop them",
                       name, _listing(constant))  # fmt: skip
    for col in features.columns:
        column, label = features[col], str(col).strip().lower()
        if (label == "id" or label.endswith(("_id", " id"))) and is_integer_dtype(column) and column.is_unique:
            logger.warning("%s: column %r looks like a row identifier (distinct integers) and is used as a feature; "
                           "drop it unless it means a quantity", name, str(col))  # fmt: skip
        elif _is_categorical(column) and not column.dtype == bool:
            levels = column.nunique()
            units, values = _written_numbers(column, ("point", "comma"))
            if values is not None:
                logger.warning("%s: text column %r holds numbers written with %r (e.g. %s) and is one-hot encoded "
                               "into %d feature(s): convert it to numbers before loading (45%% as 0.45, $1,200 as "
                               "1200)", name, str(col), units[0], _show(column.iloc[0]), levels)  # fmt: skip
            elif len(units) > 1 and levels > 10:
                logger.warning("%s: text column %r holds numbers with different units or signs (%s; e.g. %s) and "
                               "is one-hot encoded into %d features: if they are quantities, convert them to "
                               "numbers in one unit before loading", name, str(col), _listing(units, 5),
                               _show(column.iloc[0]), levels)  # fmt: skip
            elif units and levels > 10:  # '402B', '9am': a code or a label as likely as a quantity
                logger.warning("%s: text column %r holds numbers followed by %r (e.g. %s) and is one-hot encoded "
                               "into %d features: if they are quantities, write them as plain numbers before "
                               "loading", name, str(col), units[0], _show(column.iloc[0]), levels)  # fmt: skip
            elif levels > 20 and levels > 0.5 * n:
                logger.warning("%s: text column %r has %d distinct values in %d rows and is one-hot encoded into as "
                               "many features: if it is an identifier or free text drop it; if it holds numbers "
                               "(e.g. %s), write them as plain numbers", name, str(col), levels, n,
                               _show(column.iloc[0]))  # fmt: skip


def _drop_identifier_text(features: pd.DataFrame, name: str) -> pd.DataFrame:
    """Drop text columns with a different value in every row (20 rows or more): an identifier or free text.

    One-hot encoded, such a column gives every training row a feature of its own (the network can learn
    each row by it) and every new row none: it cannot generalise, and its encoding grows with the square of
    the rows (20,000 rows: 4 GB). A column that keeps a feature besides it is dropped with a warning; when
    it is the only feature, DataError.
    """
    n = len(features)
    if n < 20:
        return features
    drop = [c for c in features.columns
            if _is_categorical(features[c]) and features[c].dtype != bool and features[c].nunique() == n]  # fmt: skip
    if not drop:
        return features
    example = _show(features[drop[0]].iloc[0])
    if len(drop) == features.shape[1]:
        raise DataError(f"{name}: its feature column(s) {_listing(drop)} hold a different text value in every row "
                        f"(e.g. {example}: an identifier or free text), which cannot be learnt from; add feature "
                        f"columns, or if they hold numbers, write them as plain numbers")  # fmt: skip
    logger.warning("%s: dropping text column(s) %s: a different value in every row (e.g. %s), an identifier or "
                   "free text that one-hot encoding cannot generalise from; if one holds numbers, write them as "
                   "plain numbers to keep it", name, _listing(drop), example)  # fmt: skip
    return features.drop(columns=drop)


def _tidy_cells(frame: pd.DataFrame, name: str, kind: str) -> pd.DataFrame:
    """Text cells as their values: ``Decimal`` numbers (Parquet's and databases' decimal type) as floats, text
    stripped of surrounding spaces (``'yes '`` is ``'yes'``), and numbers written with the Unicode minus sign
    (``'−1.5'``) as numbers. Each change that merges values or converts a column is logged as a warning.

    >>> import pandas as pd
    >>> _tidy_cells(pd.DataFrame({"a": ["x ", " x", "y"], "b": ["−1.5", "2", "3"]}), "d", "column").values.tolist()
    [['x', -1.5], ['x', 2.0], ['y', 3.0]]
    """
    import decimal

    import pandas as pd
    from pandas.api.types import is_string_dtype

    out = None
    for col in frame.columns:
        column = frame[col]
        if not (column.dtype == object or is_string_dtype(column.dtype)):  # not a declared category either
            continue
        values = column.dropna()
        if len(values) and values.map(lambda v: isinstance(v, decimal.Decimal)).all():
            new = column.map(lambda v: float(v) if isinstance(v, decimal.Decimal) else v).astype(np.float64)
        elif len(values) and values.map(lambda v: isinstance(v, str)).all():
            new = column.str.strip()
            if new.nunique() < column.nunique():
                merged = next(v for v in column.dropna() if v != v.strip())
                logger.warning("%s: %s %r has values that differ only by surrounding spaces (e.g. %s): read as one "
                               "value, stripped", name, kind, str(col), _show(merged))  # fmt: skip
            minus = new.str.contains("−", regex=False).fillna(False).astype(bool)
            if minus.any():
                numbers = pd.to_numeric(new.str.replace("−", "-", regex=False), errors="coerce")
                if numbers[new.notna()].notna().all():
                    logger.warning("%s: %s %r writes its negative numbers with the Unicode minus sign (e.g. %s): "
                                   "read as numbers", name, kind, str(col), _show(column[minus].iloc[0]))  # fmt: skip
                    new = numbers.astype(np.float64)
        else:
            continue
        if out is None:
            out = frame.copy()
        out[col] = new
    return frame if out is None else out


def _check_values(features: pd.DataFrame, targets: pd.DataFrame, name: str) -> None:
    """Raise DataError for no rows, no features, missing, infinite, complex, nested or too large values and
    mixed types."""
    from pandas.api.types import is_bool_dtype, is_complex_dtype

    if len(features) == 0:
        raise DataError(f"data set '{name}' has no rows; it needs at least one data row")
    if features.shape[1] == 0:
        raise DataError(f"data set '{name}' has no feature columns besides the target")
    for kind, frame in (("column", features), ("target column", targets)):
        missing = frame.isna().to_numpy()
        bad = np.flatnonzero(missing.any(axis=0))
        if bad.size:
            rows = np.flatnonzero(missing[:, bad[0]])
            present = frame.iloc[:, bad[0]].dropna()
            text = len(present) > 0 and present.map(lambda v: isinstance(v, str)).all()
            hint = ("; in a file, empty cells and markers such as NA, N/A, NaN, null or None are read as missing: if "
                    "one of them is a category of this text column (NA for North America), write it another way "
                    "(e.g. N.A.)" if text else "")  # fmt: skip
            raise DataError(f"{kind} {frame.columns[bad[0]]!r} has {rows.size} missing value(s) "
                            f"(first at row {rows[0]}); fill or drop them before loading{hint}")
        for col in frame.columns:
            column = frame[col]
            if not _is_categorical(column):
                if is_complex_dtype(column):
                    raise DataError(f"{kind} {col!r} holds complex numbers (e.g. {_show(column.iloc[0])} at row 0); "
                                    f"split it into two real columns, its .real and .imag parts, before loading")
                rows = np.flatnonzero(np.isinf(column.to_numpy(np.float64)))
                if rows.size:
                    raise DataError(f"{kind} {col!r} has {rows.size} infinite value(s) (first at row {rows[0]}); "
                                    f"replace or drop them before loading")
                if kind == "column" and not is_bool_dtype(column):
                    _check_magnitude(column, kind, col)  # a target is checked once it is known to be a quantity
            else:
                nested = column.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray))).to_numpy(bool)
                if nested.any():
                    row = int(np.argmax(nested))
                    raise DataError(f"{kind} {col!r} holds {type(column.iloc[row]).__name__} values, not single "
                                    f"numbers or labels (e.g. {_show(column.iloc[row])} at row {row}); expand them "
                                    f"into one column per item, or drop the column, before loading")
                is_str = column.map(lambda v: isinstance(v, str)).to_numpy(bool)
                if is_str.any() and not is_str.all():
                    row = int(np.argmin(is_str)) if is_str[0] else int(np.argmax(is_str))
                    raise DataError(f"{kind} {col!r} mixes strings and other values (e.g. {_show(column.iloc[row])} "
                                    f"at row {row}); convert the column to one type before loading")
                if is_str.all() and kind == "column" and column.dtype.name != "category":  # declared categories stay
                    _check_numbers_as_text(column, kind, col)


#: a validation split smaller than this gets a warning: one row is more than 5% of its score
MIN_RELIABLE_VAL_ROWS = 20

_MAX_ABS_VALUE = 1e150
"""Numbers beyond this size cannot be standardised: their squares (in the variance, in squared errors) overflow."""


def _check_magnitude(column: pd.Series, kind: str, col: str) -> None:
    """Raise DataError for numbers too large to standardise in float64 without overflow.

    The variance sums ``n`` squared deviations, each up to ``(2 * max|x|) ** 2``, so the bound
    is ``sqrt(float64 max / (16 n))`` (a margin of 4 over that sum), capped at 1e150; a column
    of house prices (1e6) or of 1e12 is far below it.
    """
    n = max(len(column), 1)
    limit = min(_MAX_ABS_VALUE, math.sqrt(float(np.finfo(np.float64).max) / (16 * n)))
    size = np.abs(column.to_numpy(np.float64))
    rows = np.flatnonzero(size > limit)
    if rows.size:
        largest = float(size.max())
        raise DataError(f"{kind} {col!r} holds {rows.size} value(s) too large to standardise (first at row "
                        f"{rows[0]}: {_show(column.iloc[rows[0]])}; the limit is {limit:.0e}); rescale the column, "
                        f"e.g. divide it by 1e{math.floor(math.log10(largest))} or take its logarithm, before loading")


_MISSING_MARKERS = frozenset({"?", "-", "--", ".", "na", "n/a", "nan", "null", "none", "missing", "#n/a"})


def _check_numbers_as_text(column: pd.Series, kind: str, col: str) -> None:
    """Raise DataError for a column of numbers whose other values are missing-value markers (such as '?').

    Read as text, such a column would be one-hot encoded into one useless feature
    per number. Other text among numbers (floor 'G', a ZIP+4 code) is a category
    and is left to the encoder.
    """
    import pandas as pd

    text = column.str.strip()
    bad = pd.to_numeric(text, errors="coerce").isna().to_numpy()
    tokens = text[bad].unique()
    if 0 < bad.sum() < 0.5 * len(column) and all(str(t).lower() in _MISSING_MARKERS for t in tokens):
        rows = np.flatnonzero(bad)
        shown = ", ".join(repr(t) for t in tokens)
        raise DataError(f"{kind} {col!r} holds numbers except {rows.size} value(s) {shown} (first at row {rows[0]}); "
                        f"if they mark missing values, fill or drop those rows, otherwise replace them with numbers "
                        f"before loading")


def _infer_task(targets: pd.DataFrame) -> str:
    if targets.shape[1] > 1:
        return "regression"
    column = targets.iloc[:, 0]
    if _is_categorical(column):
        return "classification"
    values = column.to_numpy(np.float64)
    integral = bool(np.all(values == np.round(values)))
    if integral and column.nunique() > MAX_INFERRED_CLASSES and float(np.max(np.abs(values))) < 2.0**53:
        logger.warning("target %r holds %d distinct integers, more than %d, so it is treated as regression; "
                       "if they are class labels, pass task='classification' (--task classification)",
                       str(column.name), column.nunique(), MAX_INFERRED_CLASSES)  # fmt: skip
    return "classification" if integral and column.nunique() <= MAX_INFERRED_CLASSES else "regression"


def _encode_labels(targets: pd.DataFrame, n_splits: int, inferred: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return (int64 codes, original classes); check class counts against the split."""
    from sklearn.preprocessing import LabelEncoder

    if targets.shape[1] != 1:
        raise DataError(f"classification needs one target column but got {targets.shape[1]} "
                        f"({_listing(list(targets.columns))}); pick one or use task='regression' (--task regression)")
    name, column = targets.columns[0], targets.iloc[:, 0]
    values = column.to_numpy() if _is_categorical(column) else column.to_numpy(np.float64)
    if values.dtype.kind == "f" and np.all(values == np.round(values)) and np.all(np.abs(values) < 2.0**53):
        values = values.astype(np.int64)  # labels 1.0, 2.0 read as floats are the integers 1, 2 (not beyond int64)
    encoder = LabelEncoder().fit(values)
    classes = np.asarray(encoder.classes_)
    if len(classes) < 2:
        raise DataError(f"target column {name!r} has a single class ({_show(classes[0])} in all {len(values)} rows); "
                        f"classification needs at least 2 classes: check the target or use task='regression' "
                        f"(--task regression)")
    codes = encoder.transform(values).astype(np.int64)
    counts = np.bincount(codes, minlength=len(classes))
    rare = int(np.argmin(counts))
    if counts[rare] < n_splits:
        raise DataError(f"class {_show(classes[rare])} of target column {name!r} has only {counts[rare]} row(s), but "
                        f"a stratified split into {n_splits} parts needs at least {n_splits} per class; add rows, "
                        f"drop or merge that class, or set val_size/test_size to 0 (--val-size/--test-size)"
                        + (" (or, if the target is a quantity rather than a label, use task='regression', "
                           "--task regression)"
                           if inferred and values.dtype.kind in "iuf" else _quantity_hint(column)))
    return codes, classes


def _quantity_hint(column: pd.Series) -> str:
    """For a text target of numbers written with a sign or unit ('$261.04', '12%'): how to make it a quantity."""
    if not (_is_categorical(column) and column.map(lambda v: isinstance(v, str)).all()):
        return ""
    units, numbers = _written_numbers(column, ("point", "comma"))
    if numbers is None:
        return ""
    return (f". The target holds numbers written with {units[0]!r} (e.g. {_show(column.iloc[0])}), which a target "
            f"keeps as labels: if it is a quantity, write it as plain numbers and use task='regression' "
            f"(--task regression)")


def _regression_values(targets: pd.DataFrame) -> np.ndarray:
    for col in targets.columns:
        column = targets[col]
        if _is_categorical(column) and column.dtype != bool:
            raise DataError(f"target column {col!r} is not numeric (e.g. {_show(column.iloc[0])} at row 0); "
                            f"regression needs numbers: convert the column or use task='classification' "
                            f"(--task classification)")
        if column.dtype != bool:
            _check_magnitude(column, "target column", str(col))
    return targets.to_numpy(np.float64)


def _split_sizes(n: int, val_size: float, test_size: float) -> tuple[int, int]:
    """Return (n_val, n_test) or raise DataError when too few rows remain for training."""

    def sizes(m: int) -> tuple[int, int, int]:
        n_val, n_test = (math.ceil(round(f * m, 9)) for f in (val_size, test_size))
        return m - n_val - n_test, n_val, n_test

    n_train, n_val, n_test = sizes(n)
    if n_train < _MIN_TRAIN_ROWS:
        need = next(m for m in itertools.count(n + 1) if sizes(m)[0] >= _MIN_TRAIN_ROWS)
        raise DataError(f"only {n} row(s), but val_size={val_size} and test_size={test_size} need at least {need} "
                        f"rows (at least {_MIN_TRAIN_ROWS} for training); add rows or lower val_size/test_size "
                        f"(--val-size/--test-size)")
    return n_val, n_test


def _split(labels: np.ndarray | None, n: int, n_val: int, n_test: int, seed: int) -> tuple[np.ndarray, ...]:
    """Seeded (train, val, test) row indices; stratified on ``labels`` when given and possible."""
    rest = np.random.default_rng(seed).permutation(n) if n_val + n_test == 0 else np.arange(n)
    test = val = rest[:0]
    if n_test:
        rest, test = _take(rest, n_test, labels, seed, "test")
    if n_val:
        rest, val = _take(rest, n_val, labels, seed, "validation")
    return rest, val, test


def _take(index: np.ndarray, n_take: int, labels: np.ndarray | None, seed: int, part: str) -> tuple[np.ndarray, ...]:
    from sklearn.model_selection import train_test_split

    if labels is not None:
        try:
            return tuple(train_test_split(index, test_size=n_take, random_state=seed, stratify=labels[index]))
        except ValueError:
            classes, counts = np.unique(labels[index], return_counts=True)
            why = (f"its {n_take} rows cannot hold one of each of the {len(classes)} classes" if n_take < len(classes)
                   else f"a class has {counts.min()} row(s) to share" if counts.min() < 2
                   else "the rest cannot hold one of each class")  # fmt: skip
            logger.warning("cannot stratify the %s split (%s); using a non-stratified split", part, why)
    return tuple(train_test_split(index, test_size=n_take, random_state=seed))


def _fit_features(features: pd.DataFrame, train: np.ndarray, scale: bool = True) -> tuple[Any, list[str], np.ndarray]:
    """Fit the scaler/encoder on the training rows; return (transformer, names, all rows transformed).

    ``scale=False``: the numeric columns pass through (an identity ``StandardScaler``).
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = [c for c in features.columns if _is_categorical(features[c])]
    numeric = [c for c in features.columns if c not in categorical]
    if not categorical:
        values = features.to_numpy(np.float64)
        scaler = StandardScaler(with_mean=scale, with_std=scale).fit(values[train])
        return scaler, list(numeric), scaler.transform(values)
    levels = {c: int(features[c].iloc[train].nunique()) for c in categorical}
    cells = len(features) * sum(levels.values())
    if cells > MAX_ONE_HOT_CELLS:
        big = sorted(levels, key=lambda c: -levels[c])[:5]
        raise DataError(f"one-hot encoding the text column(s) {', '.join(f'{str(c)!r} ({levels[c]} values)' for c in big)}"
                        f" would make {sum(levels.values())} features for {len(features)} rows: {cells * 8 / 1e9:.1f} GB; "
                        f"drop the columns with many values (identifiers, free text) or encode them as numbers "
                        f"before loading")  # fmt: skip
    frame = features.astype({c: np.float64 for c in numeric})
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    num = StandardScaler(with_mean=scale, with_std=scale)
    transformer = ColumnTransformer([("num", num, numeric), ("cat", encoder, categorical)],
                                    sparse_threshold=0.0, verbose_feature_names_out=False)
    transformer.fit(frame.iloc[train])
    return transformer, [str(c) for c in transformer.get_feature_names_out()], transformer.transform(frame)
