"""One template for parameter errors, shared by the API, the estimators and the CLI.

Messages follow scikit-learn's wording: ``The 'lr' parameter of train must be a
float in the range (0.0, inf). Got -1 instead.``
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from lrsearch.exceptions import ConfigError


def _fail(name: str, owner: str, what: str, value: Any, fix: str = "") -> ConfigError:
    msg = f"The {name!r} parameter of {owner} must be {what}. Got {value!r} instead."
    if fix:
        msg += f" {fix}"
    return ConfigError(msg)


def check_float(
    value: Any,
    name: str,
    owner: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    fix: str = "",
) -> float:
    """Return ``value`` as a float inside the interval, or raise ConfigError.

    >>> check_float(0.1, "lr", "train", low=0.0, low_open=True)
    0.1
    """
    rb = ")" if high_open or math.isinf(high) else "]"
    lb = "(" if low_open or math.isinf(low) else "["
    what = f"a float in the range {lb}{low}, {high}{rb}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, np.generic) and np.issubdtype(type(value), np.number):
                value = float(value)
            else:
                raise _fail(name, owner, what, value, fix)
        except ImportError:  # pragma: no cover
            raise _fail(name, owner, what, value, fix) from None
    v = float(value)
    if math.isnan(v):
        raise _fail(name, owner, what, value, fix)
    too_low = v <= low if low_open else v < low
    too_high = v >= high if high_open else v > high
    if too_low or too_high:
        raise _fail(name, owner, what, value, fix)
    return v


def check_int(value: Any, name: str, owner: str, *, low: int = 0, high: float = math.inf, fix: str = "") -> int:
    """Return ``value`` as an int in ``[low, high]``, or raise ConfigError.

    >>> check_int(5, "epochs", "train", low=1)
    5
    """
    what = f"an int in the range [{low}, {high}]"
    try:
        import numpy as np

        is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    except ImportError:  # pragma: no cover
        is_int = isinstance(value, int) and not isinstance(value, bool)
    if not is_int or not (low <= int(value) <= high):
        raise _fail(name, owner, what, value, fix)
    return int(value)


def check_choice(value: Any, name: str, owner: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, or raise ConfigError naming them.

    >>> check_choice("adam", "optimizer", "train", ["sgd", "adam"])
    'adam'
    """
    options = list(choices)
    if not isinstance(value, str) or value not in options:
        shown = ", ".join(repr(c) for c in options)
        raise _fail(name, owner, f"one of {{{shown}}}", value)
    return value


def check_hidden(hidden: Any, owner: str) -> tuple[int, ...]:
    """The hidden layer widths ``hidden`` names (an int is one layer), or raise ConfigError.

    >>> check_hidden((64, 32), "train"), check_hidden(16, "train"), check_hidden((), "train")
    ((64, 32), (16,), ())
    """
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (int(hidden),)
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Iterable):
        raise ConfigError(f"The 'hidden' parameter of {owner} must be a sequence of layer widths such as (64,) or "
                          f"(128, 64), or () for no hidden layer. Got {hidden!r} instead.")  # fmt: skip
    return tuple(check_int(h, "hidden", owner, low=1) for h in hidden)


def check_bool(value: Any, name: str, owner: str) -> bool:
    """Return ``value`` if it is a bool, or raise ConfigError."""
    if not isinstance(value, bool):
        raise _fail(name, owner, "a bool (True or False)", value)
    return value


def merge_options(kind: str, name: str, defaults: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """``defaults`` updated by ``given``; an unknown key is an error listing the known ones.

    >>> merge_options("Optimizer", "sgd", {"momentum": 0.0}, {"momentum": 0.9})
    {'momentum': 0.9}
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        word = "option" if kind == "Optimizer" else "parameter"
        raise ConfigError(
            f"{kind} {name!r} has no {word} {', '.join(map(repr, unknown))}; "
            f"its {word}s are: {', '.join(defaults)}."
        )
    return {**defaults, **given}


def check_no_clash(outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> None:
    """Refuse an output path that names an input file, or another output: writing it would destroy the other.

    ``outputs`` maps a flag (``"--report"``) to a path or None; ``inputs`` maps a
    description (``"the study's journal"``) to a path or None. Paths compare after
    resolving symlinks and ``..``.

    >>> check_no_clash({"--csv": "a.csv"}, {"the --data file": "b.csv"})
    >>> check_no_clash({"--csv": "x/../a.csv"}, {"the --data file": "a.csv"})
    Traceback (most recent call last):
    ...
    lrsearch.exceptions.ConfigError: --csv 'x/../a.csv' is the --data file: writing it would destroy that; pick another file name.
    """
    import os

    def key(path: Any) -> str | None:
        if path is None or path is False or path is True:
            return None
        try:
            return os.path.realpath(os.fspath(path))
        except (OSError, TypeError, ValueError):
            return None

    seen: dict[str, str] = {}
    for flag, path in outputs.items():
        k = key(path)
        if k is None:
            continue
        for what, other in inputs.items():
            if key(other) == k:
                raise ConfigError(f"{flag} {os.fspath(path)!r} is {what}: writing it would destroy that; "
                                  "pick another file name.")  # fmt: skip
        if k in seen:
            raise ConfigError(f"{seen[k]} and {flag} name the same file {os.fspath(path)!r}; give each its own.")
        seen[k] = flag


def storage_file(storage: Any, study_name: str | None, studies_dir: Any = "studies") -> str | None:
    """The file a study's storage lives in: a journal file or an SQLite database (None for servers and memory).

    ``storage=None`` is ``$LRSEARCH_STORAGE`` or the default journal
    ``<studies_dir>/<study_name>.journal`` (None when the name is not known yet).

    >>> storage_file("sqlite:///db/x.db?timeout=30", "s"), storage_file("sqlite+pysqlite:////abs.db", "s")
    ('db/x.db', '/abs.db')
    >>> storage_file("x.journal", "s"), storage_file("postgresql://h/d", "s"), storage_file("memory", "s")
    ('x.journal', None, None)
    """
    import os
    import re

    if storage is None:
        storage = os.environ.get("LRSEARCH_STORAGE") or None
    if storage is None:
        return None if study_name is None else os.path.join(os.fspath(studies_dir), f"{study_name}.journal")
    text = os.fspath(storage).strip()
    sqlite = re.match(r"sqlite(\+\w+)?:///", text)
    if sqlite:
        return text[sqlite.end():].split("?", 1)[0] or None
    if "://" in text or text in ("", "memory", ":memory:"):
        return None
    return text


def results_file(storage: Any, study_name: str | None, studies_dir: Any = "studies") -> str | None:
    """Where a study's results JSON goes by default: beside its journal, in ``studies_dir`` for a database,
    nowhere for memory (None also when the name is not known yet). ``storage`` as :func:`storage_file` reads it.

    >>> results_file("runs/a.journal", "a"), results_file("sqlite:///x.db", "a"), results_file("memory", "a")
    ('runs/a.json', 'studies/a.json', None)
    """
    import os

    if study_name is None:
        return None
    text = os.fspath(storage).strip() if storage is not None else (os.environ.get("LRSEARCH_STORAGE") or "")
    if text in ("memory", ":memory:"):
        return None
    if "://" in text:
        return os.path.join(os.fspath(studies_dir), f"{study_name}.json")
    journal = storage_file(storage, study_name, studies_dir)
    return os.path.join(os.path.dirname(journal), f"{study_name}.json") if journal else None


def alternate_results_file(storage: Any, study_name: str | None, studies_dir: Any = "studies") -> str | None:
    """Where a study's results go when its default file (:func:`results_file`) holds another storage's study.

    Beside it, named after the storage file as well: ``<journal stem>-<study>.json`` for a journal,
    ``<database stem>-<study>.json`` in ``studies_dir`` for SQLite; None for a server or memory.

    >>> alternate_results_file("runs/e2.journal", "iris"), alternate_results_file("sqlite:///db/b.db", "iris")
    ('runs/e2-iris.json', 'studies/b-iris.json')
    """
    import os

    default = results_file(storage, study_name, studies_dir)
    file = storage_file(storage, study_name, studies_dir)
    if default is None or file is None:
        return None
    stem = os.path.splitext(os.path.basename(file))[0]
    return os.path.join(os.path.dirname(default), f"{stem}-{study_name}.json")


def results_owner(path: Any) -> tuple[str, str] | None:
    """(study, storage) a results file records; None when there is no file, it is unreadable or not a results file.

    An SQLite storage comes back with its file's absolute path when the file records it (``storage_file``), so
    that ``sqlite:///a.db`` run from two working directories counts as two databases.
    """
    import json
    import os

    if path is None or not os.path.isfile(path):
        return None  # none yet (or a device or pipe, which holds no results to keep)
    try:
        with open(os.fspath(path), encoding="utf-8") as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return None  # none yet, or nothing readable to keep
    if not isinstance(saved, dict):
        return None
    name, where = saved.get("study_name"), saved.get("storage")
    if not isinstance(name, str) or not isinstance(where, str):
        return None
    file = saved.get("storage_file")  # an SQLite file as an absolute path: a relative URL names another
    if isinstance(file, str) and os.path.isabs(file) and where.strip().startswith("sqlite"):  # file elsewhere
        return name, "sqlite:///" + file
    return name, where


def results_of_another(path: Any, study_name: str, storage: str) -> tuple[str, str] | None:
    """(study, storage) a results file records when they are not ``study_name`` in ``storage``, else None
    (no file, unreadable, not a results file, or this study's own)."""
    owner = results_owner(path)
    if owner is None or (owner[0] == study_name and _same_storage(owner[1], storage)):
        return None
    return owner


def default_results_path(storage: Any, study_name: str, masked: str, studies_dir: Any = "studies") -> str | None:
    """The default results file of ``study_name`` in ``storage`` (``masked``: as results files record it).

    :func:`results_file`, unless that file holds the results of a same-named study of another storage (two
    journals in one folder, two SQLite files): then :func:`alternate_results_file`, so that neither study's
    results are lost. ConfigError when that one is taken too, or a server's study has no other name.
    """
    default = results_file(storage, study_name, studies_dir)
    if default is None or results_of_another(default, study_name, masked) is None:
        return default
    alternate = alternate_results_file(storage, study_name, studies_dir)
    if alternate is not None and results_of_another(alternate, study_name, masked) is None:
        logging.getLogger("lrsearch").debug(
            "%s holds the results of a study of the same name in another storage; this study's go to %s",
            default, alternate)  # fmt: skip
        return alternate
    check_results_owner(alternate or default, study_name, masked)  # raises, naming the study it holds
    return alternate or default


def check_results_owner(path: Any, study_name: str, storage: str) -> None:
    """Refuse to write a study's *default* results file over the results of another study.

    The default file is named after the study alone (:func:`results_file`), so a study of the same name in
    another storage gets the same file: two journals in one folder (``big.journal`` and ``big2.journal``, both
    holding a study named after the data), two SQLite databases, two servers. A results file records its study's
    name and storage (password masked; ``storage`` is this study's, as :class:`StudyResult` records it): one
    that names another study or storage is kept, and this raises ConfigError before the study runs. A file
    of this study (an earlier run, or a study deleted and created again in the same storage) is replaced, and
    so is one that records no study (not a results file, unreadable).
    """
    import os

    other = results_of_another(path, study_name, storage)
    if other is None:
        return
    name, where = other
    raise ConfigError(f"The default results file {os.fspath(path)!r} holds the results of study {name!r} in "
                      f"{where}; this study is {study_name!r} in {storage}, and writing its results there would "
                      f"destroy them: give this study's results their own file with --results FILE (results_path= in "
                      f"Python), give the study its own name with --study-name NAME (its default results file is "
                      f"NAME.json), or move that file away.")  # fmt: skip


def _same_storage(saved: str, ours: str) -> bool:
    """Whether two storages as results files record them (password masked) are the same one.

    Journals compare by file name: a default results file sits beside its journal, so two journals behind one
    default file share a folder, and the same journal may be named from another working directory. SQLite files
    compare as paths from here; servers by URL without driver, password or query.

    >>> _same_storage("studies/a.journal", "/home/u/studies/a.journal"), _same_storage("a.journal", "b.journal")
    (True, False)
    >>> _same_storage("postgresql+psycopg2://u:***@h/db", "postgresql://u@h/db?sslmode=require")
    True
    """
    import os
    import re

    if saved == ours:
        return True
    files = storage_file(saved, None), storage_file(ours, None)
    if files[0] is not None and files[1] is not None:
        if ("://" in saved) != ("://" in ours):  # a journal and an SQLite file
            return False
        if "://" in saved:
            return os.path.realpath(files[0]) == os.path.realpath(files[1])
        return os.path.basename(files[0]) == os.path.basename(files[1])
    if files[0] is not None or files[1] is not None or "://" not in saved or "://" not in ours:
        return False

    def plain(url: str) -> str:
        scheme, _, rest = url.strip().partition("://")
        scheme = scheme.split("+", 1)[0].lower()
        scheme = "postgresql" if scheme == "postgres" else scheme
        rest = re.sub(r":[^:@/]*@", "@", rest.split("?", 1)[0], count=1)  # user:***@ -> user@
        return f"{scheme}://{rest.rstrip('/')}"

    return plain(saved) == plain(ours)
