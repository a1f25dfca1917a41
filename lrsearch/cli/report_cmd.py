"""``lrsearch report``: rebuild the HTML report of a stored study (and saved range tests).

    lrsearch report --study-name iris --out reports/iris.html
    lrsearch report --study-name digits --storage postgresql://user@host/db --find-json adam.json
    lrsearch report --find-json find.json --out reports/find.html

The study is read through ``lrsearch.search.load_study_result`` when that exists, else
straight from its storage (``optuna.load_study``, completed by the results JSON that
``lrsearch study`` saves next to it); range tests come from the JSON that
``lrsearch find --json`` prints (``RangeTestResult.to_dict()``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lrsearch._validation import check_no_clash, results_file, storage_file
from lrsearch.cli._common import check_output_path
from lrsearch.cli._help import defaults_formatter, fill_api_defaults
from lrsearch.exceptions import ConfigError

log = logging.getLogger(__name__)

#: what to tell the user when a --find-json file is not what 'lrsearch find --json' wrote
_RESAVE = "save it with 'lrsearch find ... --json > FILE'"


def _build_report() -> Any:
    from lrsearch.report.html import build_report

    return build_report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a stored study and/or saved range tests",
        description="Rebuild the HTML report (tables, figures, recommendation) of a study kept in an Optuna "
        "storage, optionally with range tests saved by 'lrsearch find --json'. The page is one file that opens offline.",
        formatter_class=defaults_formatter(_build_report),
    )  # fmt: skip
    p.add_argument("--study-name", default=None, metavar="NAME", help="name of the stored study (as given to lrsearch study)")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="Optuna storage: an RDB URL (sqlite:///..., postgresql://...) or a journal file; "
                        "default: $LRSEARCH_STORAGE, else STUDIES_DIR/NAME.journal")  # fmt: skip
    p.add_argument("--studies-dir", default="studies", metavar="DIR",
                   help="the --studies-dir the study ran with: where its default journal and, for a database, "
                        "its results JSON are (default studies/)")  # fmt: skip
    p.add_argument("--find-json", action="append", default=None, metavar="FILE",
                   help="range-test result(s) saved by 'lrsearch find --json' (repeatable)")  # fmt: skip
    p.add_argument("--out", default=None, metavar="FILE",
                   help="HTML file to write (default: reports/<study name>.html, or reports/range_test.html "
                        "without --study-name)")  # fmt: skip
    p.add_argument("--title", default=None,
                   help="page title (default: 'lrsearch report: <study name>', or 'lrsearch report: LR range test')")
    p.add_argument("--notes", default=None, metavar="TEXT",
                   help="text shown in a Notes section (prefix with @ to read a file; default: no Notes section)")
    p.add_argument("--top-k", type=int, default=None, metavar="N", help="trials whose validation curves are drawn")
    p.add_argument("--extras", action="store_true", help="also write the trials table as CSV and every figure as PNG")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lrsearch.report import build_report

    if not args.study_name and not args.find_json:
        raise ConfigError("Nothing to report: pass --study-name NAME (a stored study) and/or --find-json FILE "
                          "(saved by 'lrsearch find --json').")  # fmt: skip
    fill_api_defaults(args, build_report, ("top_k",))
    if args.top_k < 1:
        raise ConfigError(f"--top-k must be a positive integer; got {args.top_k}.")
    out = Path(args.out) if args.out else Path("reports") / f"{_slug(args.study_name or 'range_test')}.html"
    check_output_path(str(out), "--out")
    studies_dir = args.studies_dir
    journal = storage_file(args.storage, args.study_name, studies_dir) if args.study_name else None
    # and the results JSON the report reads too, where run_study writes it
    inputs = {"the study's storage": journal,
              "the study's results JSON": results_file(args.storage, args.study_name, studies_dir)}
    inputs.update({f"the --find-json file {i + 1}": f for i, f in enumerate(args.find_json or [])})
    check_no_clash({"--out": str(out)}, inputs)
    range_tests = [rt for path in args.find_json or [] for rt in load_range_tests(path)]
    study = load_study(args.study_name, args.storage, studies_dir=studies_dir) if args.study_name else None
    if study is not None and range_tests:
        range_tests = _with_study_range_tests(study, range_tests)
    notes = args.notes
    if notes and notes.startswith("@"):
        try:
            notes = Path(notes[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--notes {args.notes!r}: cannot read the file ({exc.strerror}); check the path.") from None
    try:
        # the data set the saved range tests ran on (lrsearch find --json records it), when no study says; tests
        # of several data sets have no one data set to describe (each test is labelled with its own instead)
        saved = [d for d in (getattr(rt, "data", None) for rt in range_tests) if isinstance(d, dict)]
        data = saved[0] if saved and len({str(d.get("name")) for d in saved}) == 1 else None
        path = build_report(out, title=args.title, study=study, range_tests=range_tests, notes=notes,
                            extras=args.extras, top_k=args.top_k,
                            dataset_summary=data if study is None else None)  # fmt: skip
    except OSError as exc:  # a path check cannot foresee every refusal (/proc, a read-only mount, a full disk)
        raise ConfigError(f"--out {str(out)!r}: could not write the report ({exc.strerror or exc}); "
                          "pick another path.") from None  # fmt: skip
    print(f"wrote {path}")
    return 0


def _with_study_range_tests(study: Any, range_tests: list[Any]) -> list[Any]:
    """The study's own range tests (an aimed study's) followed by the ``--find-json`` ones, so that
    neither replaces the other; a warning for every file whose range tests ran on another data set."""
    own = list(getattr(study, "range_tests", None) or ())
    study_data = (getattr(study, "dataset_summary", None) or {}).get("name")
    name = getattr(study, "name", None) or getattr(study, "study_name", "")
    warned: set[str] = set()
    for rt in range_tests:
        saved_data = getattr(rt, "data", None)  # lrsearch find --json records the data set it ran on
        data = saved_data.get("name") if isinstance(saved_data, dict) else None
        source = getattr(rt, "source", "--find-json")
        if study_data and data and data != study_data and source not in warned:
            warned.add(source)
            log.warning("--find-json %s: its range tests ran on the data set %r, but the study %r on %r, so their "
                        "rates are for %r; the report shows them beside the study's own. For this data set, save "
                        "range tests with 'lrsearch find --data %s ... --json > FILE'", source, data, name,
                        study_data, data, study_data)  # fmt: skip
    if own:
        log.info("the study %r has %d range tests of its own (--aim finder): shown before the --find-json ones",
                 name, len(own))  # fmt: skip
    return [*own, *range_tests]


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "report"


# ----------------------------------------------------------------------------- range tests


def load_range_tests(path: str | Path) -> list[SimpleNamespace]:
    """Range-test results from a ``lrsearch find --json`` file: one result
    (``RangeTestResult.to_dict()``), a list of them, an object holding them under
    ``results``/``range_tests``, or a mapping optimizer -> result.

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
    is_study = isinstance(data, dict) and "study_name" in data and "trials" in data
    if is_study:  # a study's results hold at most summaries of its range tests (no curves): report the study
        raise ConfigError(f"--find-json {str(p)!r} is a study's results (lrsearch study), not a range test: report "
                          "that study with --study-name NAME (an aimed study's range tests come with it), and "
                          "range tests from a file saved with 'lrsearch find ... --json > FILE'.")  # fmt: skip
    if isinstance(data, dict) and "lrs" not in data:
        listed = [data[k] for k in ("results", "range_tests", "tests") if isinstance(data.get(k), list)]
        if listed:
            data = listed[0]
        elif data and all(isinstance(v, dict) and "lrs" in v for v in data.values()):  # {optimizer: result}
            data = list(data.values())
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ConfigError(f"--find-json {str(p)!r} holds no range-test result (an empty list); {_RESAVE}.")
    out = []
    for i, item in enumerate(items):
        where = f"--find-json {str(p)!r}" + (f", entry {i}," if len(items) > 1 else "")
        if not isinstance(item, dict) or "lrs" not in item or "optimizer" not in item:
            raise ConfigError(f"{where} is not a range-test result (it needs 'optimizer' and 'lrs'); {_RESAVE}.")
        rt = _range_test(item, where)
        rt.source = p.name  # which file it came from, when the page shows range tests of several sources
        out.append(rt)
    return out


def _range_test(d: dict[str, Any], where: str = "range test") -> SimpleNamespace:
    """A range-test result from its JSON (``RangeTestResult.to_dict``): arrays back to NumPy,
    JSON nulls back to NaN, and the fields the range-test plot reads filled in when absent.

    A field of the wrong type (a hand-edited file) is a ConfigError naming ``where`` and the field.
    """
    import numpy as np

    def bad(name: str, what: str, value: Any) -> ConfigError:
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        return ConfigError(f"{where} field {name!r} must be {what}; got {shown}. Fix the file, or {_RESAVE}.")

    def is_num(v: Any) -> bool:
        return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))

    def num(name: str, value: Any, default: float = math.nan) -> float:
        if not is_num(value):
            raise bad(name, "a number or null", value)
        return default if value is None else float(value)

    def arr(name: str, values: Any, size: int | None = None) -> np.ndarray:
        if values is None:
            return np.full(size or 0, math.nan)
        if not isinstance(values, list) or not all(is_num(v) for v in values):
            raise bad(name, "a list of numbers (null for a missing value)", values)
        if size is not None and len(values) != size:
            raise ConfigError(f"{where} field {name!r} has {len(values)} values but 'lrs' has {size}: one per rate. "
                              f"Fix the file, or {_RESAVE}.")  # fmt: skip
        return np.asarray([math.nan if v is None else v for v in values], dtype=float)

    def pair(name: str, values: Any) -> tuple[float, float]:
        if values is None:
            return math.nan, math.nan
        if not isinstance(values, list) or len(values) > 2:
            raise bad(name, "a list of two numbers [low, high] or null", values)
        lo, hi = (values + [None, None])[:2]
        return num(name, lo), num(name, hi)

    def text(name: str, value: Any, default: str = "") -> str:
        if value is not None and not isinstance(value, str):
            raise bad(name, "a string", value)
        return value or default

    if d.get("optimizer") is not None and not isinstance(d["optimizer"], str):
        raise bad("optimizer", "an optimizer name such as 'adam'", d["optimizer"])
    lrs = arr("lrs", d.get("lrs"))
    n = len(lrs)
    warnings = d.get("warnings")
    if warnings is not None and (not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings)):
        raise bad("warnings", "a list of strings", warnings)
    suggestions = d.get("suggestions")
    if suggestions is not None and not isinstance(suggestions, dict):
        raise bad("suggestions", "an object of rule: {rule, lr, index, loss}", suggestions)
    sugg = {}
    for key, s in (suggestions or {}).items():
        field = f"suggestions.{key}"
        if is_num(s):
            s = {"lr": s}
        if not isinstance(s, dict):
            raise bad(field, "an object {rule, lr, index, loss} or a number", s)
        index = s.get("index")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or (n and not -1 <= index < n)):
            raise bad(f"{field}.index", f"a position in 'lrs' (0 to {n - 1}) or -1", index)
        sugg[key] = SimpleNamespace(rule=text(f"{field}.rule", s.get("rule"), key), lr=num(f"{field}.lr", s.get("lr")),
                                    loss=num(f"{field}.loss", s.get("loss")),
                                    index=-1 if index is None else index)  # fmt: skip
    curves_raw = d.get("curves")
    if curves_raw is not None and not isinstance(curves_raw, list):
        raise bad("curves", "a list of {seed, losses, ...} objects", curves_raw)
    curves = tuple(SimpleNamespace(**{**c, "losses": arr(f"curves[{k}].losses", c.get("losses"))})
                   for k, c in enumerate(curves_raw or []) if isinstance(c, dict))  # fmt: skip
    probes_raw = d.get("probes")
    if probes_raw is not None and not isinstance(probes_raw, dict):
        raise bad("probes", "an object {lrs, losses, steps, held_out, train_steps} or null", probes_raw)
    probes = None
    if probes_raw is not None:
        p_lrs = arr("probes.lrs", probes_raw.get("lrs"))
        probes = SimpleNamespace(**{**probes_raw, "lrs": p_lrs,
                                    "losses": arr("probes.losses", probes_raw.get("losses"), len(p_lrs))})  # fmt: skip
    fields = dict(d)
    # what the file does not hold stays missing (None/NaN, a dash on the page): a study's saved summary of its
    # range tests has no rule, stop reason, mode or smoothing, and none is made up for it
    fields.update(
        lrs=lrs, losses=arr("losses", d.get("losses"), n), smoothed=arr("smoothed", d.get("smoothed"), n),
        suggestions=sugg, lr=num("lr", d.get("lr")), lr_range=pair("lr_range", d.get("lr_range")),
        one_cycle_range=pair("one_cycle_range", d.get("one_cycle_range")),
        spread_decades=num("spread_decades", d.get("spread_decades")), warnings=list(warnings or []),
        stop_reason=text("stop_reason", d.get("stop_reason")) or None, rule=text("rule", d.get("rule")) or None,
        mode=text("mode", d.get("mode")) or None, smoothing=num("smoothing", d.get("smoothing")), curves=curves,
        probes=probes, probe_loss=num("probe_loss", d.get("probe_loss")),
    )  # fmt: skip
    return SimpleNamespace(**fields)


# ----------------------------------------------------------------------------- studies


def load_study(study_name: str, storage: str | None, *, studies_dir: str | Path = "studies") -> Any:
    """The stored study as a result object the report reads.

    Uses ``lrsearch.search.load_study_result(study_name, storage)`` when the search
    module provides it, else reads the study with Optuna directly. ``studies_dir``:
    the ``--studies-dir`` the study ran with (its default journal, a database's results JSON).
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
    return load_with_optuna(study_name, storage, studies_dir=studies_dir)


def resolve_storage(
    storage: str | None, study_name: str, *, studies_dir: str | Path = "studies"
) -> tuple[Any, str, Path | None]:
    """An Optuna storage to read ``study_name`` from, how to name it on the page, and where
    ``lrsearch study`` saves its results JSON for that storage.

    Resolution is ``lrsearch study``'s own (:func:`lrsearch.search.storage.resolve_storage`:
    ``None`` = ``$LRSEARCH_STORAGE`` or ``<studies_dir>/<name>.journal``; a path = a journal file;
    ``sqlite:///``, ``postgresql://`` = RDB), but nothing is created: a missing journal or
    SQLite file is a ConfigError.
    """
    from lrsearch.search.storage import resolve_storage as resolve

    cfg = resolve(storage, study_name, studies_dir=studies_dir)  # bad URLs raise StorageError, an LRSearchError (exit 2)
    if cfg.kind == "memory":
        raise ConfigError("--storage memory lives only inside the process that ran the study; "
                          "pass the journal file or database URL it was stored in.")  # fmt: skip
    location, missing = cfg.location, None
    if cfg.kind == "journal" and not Path(location).is_file():
        missing = f"no journal file {location!r}" + (" (the default storage)" if storage is None else "")
    elif location.startswith("sqlite:///") and not Path(location[len("sqlite:///"):]).is_file():
        missing = f"the SQLite file {location[len('sqlite:///'):]!r} does not exist"
    if missing:
        raise ConfigError(f"Cannot read study {study_name!r}: {missing}; pass --storage with the journal file or "
                          "database URL that lrsearch study used, or --studies-dir with the one it ran with (default journals are "
                          "STUDIES_DIR/NAME.journal, STUDIES_DIR being studies/ by default).")  # fmt: skip
    saved = None  # lrsearch study's results JSON: <journal dir>/<name>.json, else <studies_dir>/<name>.json
    if "/" not in study_name and "\\" not in study_name and not study_name.startswith("."):
        from lrsearch._validation import alternate_results_file, results_file

        default = results_file(location, study_name, studies_dir)
        # <storage stem>-<name>.json when a same-named study of another storage held <name>.json: read it when
        # it is this study's and the default is not (another's, moved away or unreadable)
        alternate = alternate_results_file(location, study_name, studies_dir)
        saved = Path(default) if default else None
        if alternate and not _records_study(default, study_name, cfg.masked) and _records_study(
                alternate, study_name, cfg.masked):  # fmt: skip
            saved = Path(alternate)
    return cfg.open(), cfg.masked, saved


def _records_study(path: Any, study_name: str, storage: str) -> bool:
    """Whether ``path`` is a results JSON of study ``study_name`` in ``storage`` (as results files record it)."""
    from lrsearch._validation import _same_storage, results_owner

    owner = results_owner(path)
    return owner is not None and owner[0] == study_name and _same_storage(owner[1], storage)


def load_with_optuna(study_name: str, storage: str | None, *, studies_dir: str | Path = "studies") -> Any:
    """Read ``study_name`` with ``optuna.load_study`` into a ``StudyView`` for the report."""
    import dataclasses

    import optuna

    from lrsearch.report.tables import study_view

    store, shown, saved_json = resolve_storage(storage, study_name, studies_dir=studies_dir)
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
    view = dataclasses.replace(study_view(st), storage=shown)
    if saved_json is None or not _records_study(saved_json, study_name, shown):
        # lrsearch study records where it wrote the results (a --results file, or another working directory)
        recorded = st.user_attrs.get("lrsearch:results_path")
        if isinstance(recorded, str) and _records_study(recorded, study_name, shown):
            saved_json = Path(recorded)
        elif st.user_attrs.get("lrsearch:fingerprint") is not None:  # a study of lrsearch's
            looked = f" (looked at {saved_json}{f' and {recorded}' if isinstance(recorded, str) else ''})" if (
                saved_json is not None) else ""  # fmt: skip
            log.warning("no results JSON of study %r found%s: the page shows what the storage holds, without the "
                        "retrained best configuration's test metrics and the data set; they are in the JSON "
                        "lrsearch study wrote (its results: line)", study_name, looked)  # fmt: skip
    view = _with_saved_results(view, saved_json)
    stored = st.user_attrs.get("lrsearch:range_tests") or []
    if not getattr(view, "range_tests", None) and stored:
        # no results file here (another machine wrote it): the study keeps its aim's range-test summaries too
        parsed = _aim_range_tests(stored, f"the study {study_name!r}")
        if parsed:
            view = dataclasses.replace(view, range_tests=parsed)
    return view


def _aim_range_tests(items: list[Any], where: str) -> tuple[Any, ...]:
    """An aimed study's saved range-test summaries, read for the report (none, with a warning, if malformed)."""
    try:
        return tuple(_range_test({**rt, "source": "this study's --aim finder"}, where)
                     for rt in items if isinstance(rt, dict))  # fmt: skip
    except ConfigError as exc:
        log.warning("ignoring the range tests of %s: %s", where, exc)
        return ()


def _same_study(saved: dict[str, Any], view: Any) -> bool:
    """Whether a results JSON describes the study in ``view`` and not another one of the same name elsewhere.

    Two studies share a name and a results file when they live in different storages (a journal and a
    database, say). The first trial's start time tells them apart; without trials in either, the storage does.
    """
    import pandas as pd

    trials = saved.get("trials")
    first = next((t for t in trials if isinstance(t, dict) and t.get("number") == 0), None) if isinstance(trials, list) else None
    rows = view.trials[view.trials["number"] == 0] if "datetime_start" in getattr(view.trials, "columns", ()) else None
    if first is not None and first.get("datetime_start") and rows is not None and len(rows):
        try:
            return pd.Timestamp(first["datetime_start"]) == pd.Timestamp(rows["datetime_start"].iloc[0])
        except (TypeError, ValueError):
            return False
    return saved.get("storage") in (None, view.storage)


#: summary fields of one run of a study, not of the study
_RUN_FIELDS = ("interrupted", "target_trials", "trials_this_run", "elapsed_s", "trials_per_min", "n_jobs",
               "worker_cpu_s", "created")


def _with_saved_results(view: Any, path: Path | None) -> Any:
    """``view`` completed by the results JSON ``lrsearch study`` saved next to the study.

    The JSON adds what the storage does not hold: the retrained best configuration's
    validation and test metrics and settings (only while the study's best trial is still
    the one the JSON describes), the data set, the run's settings and its range tests.
    Trial counts always come from the storage.
    """
    import dataclasses

    if path is None or not path.is_file():
        return view
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring the study results %s: %s", path, exc)
        return view
    if not isinstance(saved, dict) or saved.get("study_name") != view.name:
        return view
    if not _same_study(saved, view):
        log.warning("ignoring %s: it describes another study named %r (from %s, not %s); re-run lrsearch study "
                    "with --results to keep each study's results apart", path, view.name, saved.get("storage"),
                    view.storage)  # fmt: skip
        return view
    run_summary = dict(saved.get("summary") or {})
    saved_trials = saved.get("trials")
    if isinstance(saved_trials, list) and len(saved_trials) < len(view.trials):
        # an older run's file (a later run wrote its results elsewhere): its run figures (interrupted, target,
        # this run's trials and time) describe that run, not the study as it is now
        for key in _RUN_FIELDS:
            run_summary.pop(key, None)
        log.info("the saved results %s predate %d of the study's trials: their run figures are not used", path,
                 len(view.trials) - len(saved_trials))  # fmt: skip
    changes: dict[str, Any] = {"summary": {**run_summary, **view.summary}}
    if saved.get("dataset") and not view.dataset_summary:
        changes["dataset_summary"] = saved["dataset"]
    if saved.get("range_tests"):
        parsed = _aim_range_tests(saved["range_tests"], f"the study results {str(path)!r}")
        if parsed:
            changes["range_tests"] = parsed
    if view.objective == "value" and isinstance(saved.get("objective"), str):
        changes["objective"] = saved["objective"]
    best = None if view.best_index is None else int(view.trials.at[view.best_index, "number"])
    if best is not None and saved.get("best_number") == best:
        # an interrupted study saved no retrained metrics: the best trial's own validation metrics stay
        changes.update(best_config=saved.get("best_config") or {},
                       best_val_metrics=saved.get("best_val_metrics") or view.best_val_metrics,
                       best_test_metrics=saved.get("best_test_metrics") or {})  # fmt: skip
    else:
        log.info("the saved results %s describe trial %s, not the current best %s: metrics not used",
                 path, saved.get("best_number"), best)  # fmt: skip
    return dataclasses.replace(view, **changes)
