"""``lrsearch report``: rebuild the HTML report of a stored study (and saved range tests).

    lrsearch report --study-name iris --out reports/iris.html
    lrsearch report --study-name digits --storage postgresql://user@host/db --find-json adam.json
    lrsearch report --find-json find.json --out reports/find.html

The study is read through ``lrsearch.search.load_study_result`` when that exists, else
straight from Optuna (``optuna.load_study``); range tests come from the JSON that
``lrsearch find --json`` prints.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lrsearch.exceptions import ConfigError

#: where ``lrsearch study`` keeps its embedded storage (``studies/<name>.journal``)
STUDIES_DIR = Path("studies")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a stored study and/or saved range tests",
        description="Rebuild the HTML report (tables, figures, recommendation) of a study kept in an Optuna "
        "storage, optionally with range tests saved by 'lrsearch find --json'. The page is one file that opens offline.",
    )  # fmt: skip
    p.add_argument("--study-name", default=None, help="name of the stored study (as given to lrsearch study)")
    p.add_argument("--storage", default=None,
                   help="Optuna storage: an RDB URL (sqlite:///..., postgresql://...) or a journal file; "
                        "default: the study's journal under studies/")  # fmt: skip
    p.add_argument("--find-json", action="append", default=None, metavar="FILE",
                   help="range-test result(s) saved by 'lrsearch find --json' (repeatable)")  # fmt: skip
    p.add_argument("--out", default=None, help="HTML file to write (default reports/<study name>.html)")
    p.add_argument("--title", default=None, help="page title")
    p.add_argument("--notes", default=None, help="text shown in a Notes section (prefix with @ to read a file)")
    p.add_argument("--top-k", type=int, default=5, help="trials whose validation curves are drawn (default 5)")
    p.add_argument("--extras", action="store_true", help="also write the trials table as CSV and every figure as PNG")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lrsearch.report import build_report

    if not args.study_name and not args.find_json:
        raise ConfigError("Nothing to report: pass --study-name NAME (a stored study) and/or --find-json FILE "
                          "(saved by 'lrsearch find --json').")  # fmt: skip
    if args.top_k < 1:
        raise ConfigError(f"--top-k must be a positive integer; got {args.top_k}.")
    range_tests = [rt for path in args.find_json or [] for rt in load_range_tests(path)]
    study = load_study(args.study_name, args.storage) if args.study_name else None
    out = Path(args.out) if args.out else Path("reports") / f"{_slug(args.study_name or 'range_test')}.html"
    notes = args.notes
    if notes and notes.startswith("@"):
        try:
            notes = Path(notes[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--notes {args.notes!r}: cannot read the file ({exc.strerror}); check the path.") from None
    path = build_report(out, title=args.title, study=study, range_tests=range_tests, notes=notes,
                        extras=args.extras, top_k=args.top_k)  # fmt: skip
    print(f"wrote {path}")
    return 0


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "report"


# ----------------------------------------------------------------------------- range tests


def load_range_tests(path: str | Path) -> list[SimpleNamespace]:
    """Range-test results from a ``lrsearch find --json`` file: one result, a list of them,
    or an object holding them under ``results``/``range_tests``.

    >>> load_range_tests("adam.json")[0].lr  # doctest: +SKIP
    0.0032
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--find-json {str(p)!r}: cannot read the file ({exc.strerror}); "
                          "save one with 'lrsearch find ... --json > FILE'.") from None  # fmt: skip
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--find-json {str(p)!r} is not JSON ({exc.msg} at line {exc.lineno}); "
                          "save it with 'lrsearch find ... --json > FILE'.") from None  # fmt: skip
    if isinstance(data, dict):
        for key in ("results", "range_tests", "tests"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    items = data if isinstance(data, list) else [data]
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "lrs" not in item or "optimizer" not in item:
            raise ConfigError(f"--find-json {str(p)!r}: entry {i} is not a range-test result (it needs 'optimizer' and "
                              "'lrs'); save one with 'lrsearch find ... --json > FILE'.")  # fmt: skip
        out.append(_range_test(item))
    return out


def _range_test(d: dict[str, Any]) -> SimpleNamespace:
    import numpy as np

    def arr(key: str) -> np.ndarray:
        return np.asarray([math.nan if v is None else v for v in d.get(key) or []], dtype=float)

    sugg = {}
    for key, s in (d.get("suggestions") or {}).items():
        s = s if isinstance(s, dict) else {"lr": s}
        sugg[key] = SimpleNamespace(rule=s.get("rule", key), lr=s.get("lr"), index=s.get("index"), loss=s.get("loss"))
    fields = dict(d)
    fields.update(lrs=arr("lrs"), losses=arr("losses"), smoothed=arr("smoothed"), suggestions=sugg,
                  lr_range=tuple(d.get("lr_range") or ()), warnings=list(d.get("warnings") or []))  # fmt: skip
    return SimpleNamespace(**fields)


# ----------------------------------------------------------------------------- studies


def load_study(study_name: str, storage: str | None) -> Any:
    """The stored study as a result object the report reads.

    Uses ``lrsearch.search.load_study_result(study_name, storage)`` when the search
    module provides it, else reads the study with Optuna directly.
    """
    import importlib

    try:
        search = importlib.import_module("lrsearch.search")
    except ModuleNotFoundError as exc:
        if exc.name != "lrsearch.search":
            raise
        search = None
    loader = getattr(search, "load_study_result", None)
    if loader is not None:
        return loader(study_name, storage)
    return load_with_optuna(study_name, storage)


def resolve_storage(storage: str | None, study_name: str) -> tuple[Any, str]:
    """An Optuna storage to read ``study_name`` from, and how to name it on the page.

    Resolution is ``lrsearch.search.storage.resolve_storage``'s when that module exists
    (``None`` = ``$LRSEARCH_STORAGE`` or ``studies/<name>.journal``; a path = a journal
    file; ``sqlite:///``, ``postgresql://`` = RDB), else the same rules read directly.
    Nothing is created: a missing journal or SQLite file is a ConfigError.
    """
    try:
        from lrsearch.search.storage import resolve_storage as resolve
    except ImportError:
        resolve = None
    if resolve is not None:
        cfg = resolve(storage, study_name)  # bad URLs raise StorageError, an LRSearchError (exit 2)
        kind, location, shown = cfg.kind, cfg.location, cfg.masked
    else:
        location = storage or os.environ.get("LRSEARCH_STORAGE") or str(STUDIES_DIR / f"{study_name}.journal")
        kind = "rdb" if "://" in location else "journal"
        from lrsearch.report.tables import mask_password

        shown = mask_password(location)
    if kind == "memory":
        raise ConfigError("--storage memory lives only inside the process that ran the study; "
                          "pass the journal file or database URL it was stored in.")  # fmt: skip
    missing = None
    if kind == "journal" and not Path(location).is_file():
        missing = f"no journal file {location!r}" + (" (the default storage)" if storage is None else "")
    elif kind == "rdb" and location.startswith("sqlite:///") and not Path(location[len("sqlite:///"):]).is_file():
        missing = f"the SQLite file {location[len('sqlite:///'):]!r} does not exist"
    if missing:
        raise ConfigError(f"Cannot read study {study_name!r}: {missing}; pass --storage with the journal file or "
                          "database URL that lrsearch study used (journal files live under studies/ by default).")  # fmt: skip
    if resolve is not None:
        return cfg.open(), shown
    if kind == "rdb":
        return location, shown
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(location)), shown


def load_with_optuna(study_name: str, storage: str | None) -> Any:
    """Read ``study_name`` with ``optuna.load_study`` into a ``StudyView`` for the report."""
    import dataclasses

    import optuna

    from lrsearch.report.tables import study_view

    store, shown = resolve_storage(storage, study_name)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        st = optuna.load_study(study_name=study_name, storage=store)
    except KeyError:
        try:
            names = optuna.get_all_study_names(storage=store)
        except Exception:  # the storage itself is unusable; the KeyError is what matters
            names = []
        hint = f"it holds {', '.join(map(repr, names))}" if names else "it holds no study"
        raise ConfigError(f"No study named {study_name!r} in {shown!r} ({hint}); check --study-name and --storage.") from None
    except ImportError as exc:
        raise ConfigError(f"--storage {shown!r} needs a database driver that is not installed ({exc.name}); "
                          "for PostgreSQL: pip install 'lrsearch[postgres]'.") from None  # fmt: skip
    except Exception as exc:  # connection refused, bad URL, foreign schema...
        raise ConfigError(f"Cannot open study {study_name!r} in {shown!r}: {type(exc).__name__}: {exc}") from None
    return dataclasses.replace(study_view(st), storage=shown)
