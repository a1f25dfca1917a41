"""``lrsearch study``: an Optuna study over optimizer, base rate and schedule (see docs/study.md).

Settings come from the defaults, then a TOML spec (``--spec``), then flags and
``--set KEY=VALUE`` overrides, in that order. Exit codes: 0 done, 2 bad input
(one line), 1 internal error, 130 interrupted by Ctrl-C, 143 by SIGTERM (finished trials are kept).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from typing import Any

from lrsearch._validation import alternate_results_file, check_no_clash, results_file, storage_file
from lrsearch.exceptions import ConfigError

log = logging.getLogger("lrsearch.cli.study")

_EPILOG = """\
examples:
  lrsearch study --data iris --n-trials 50 --report reports/iris.html
  lrsearch study --spec studies/digits.toml --n-jobs 2
  lrsearch study --data digits --optimizers adam,sgd --schedules cosine,one_cycle --aim finder
  lrsearch study --spec studies/digits.toml --storage postgresql://USER@HOST/DB   # on every machine

The same --study-name on the same storage resumes (or joins) the study;
--n-trials is the study's total across all workers and runs.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "study",
        help="search optimizer, learning rate and schedule with Optuna",
        description="Run, resume or join an Optuna study over optimizer, base learning rate and decay schedule "
        "(with their conditional parameters), pruned on validation reports; retrain the best on the test split.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--spec", default=None, metavar="FILE.toml", help="study specification (e.g. studies/digits.toml)")
    g = p.add_argument_group("data (default: the spec's [study] data)")
    g.add_argument(
        "--data",
        default=None,
        help="built-in name (iris, digits, wine, breast_cancer, diabetes, linnerud) or a CSV/TSV/Parquet/NPZ file",
    )
    g.add_argument("--target", default=None, help="target column of a CSV/Parquet file (default: the last column)")
    g.add_argument("--task", choices=["classification", "regression"], default=None, help="default: inferred")
    g.add_argument("--val-size", type=float, default=None, help="share of rows for validation (default 0.2)")
    g.add_argument("--test-size", type=float, default=None, help="share of rows for the test split (default 0.2)")
    g = p.add_argument_group("study")
    g.add_argument("--study-name", default=None, help="study name (default: the spec's name, else the data set's name)")
    g.add_argument("--storage", default=None,
                   help="journal file, sqlite:///FILE, postgresql://USER:PASSWORD@HOST/DB or 'memory' "
                        "(default: $LRSEARCH_STORAGE, else studies/NAME.journal)")  # fmt: skip
    g.add_argument(
        "--n-trials", type=int, default=None, help="total trials of the study, all workers and runs (default 100)"
    )
    g.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    g.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="worker processes on this machine, this one included (-1: one per core it may use; default 1)",
    )
    g.add_argument("--objective", default=None,
                   help="val_loss (default), accuracy, precision, recall, f1, cross_entropy; "
                        "regression: mse, r2")  # fmt: skip
    g.add_argument("--sampler", default=None, help="tpe (default), random, cmaes, qmc, gp")
    g.add_argument("--pruner", default=None, help="median (default), successive_halving, hyperband, none")
    g.add_argument(
        "--report-every", type=int, default=None, help="epochs between reports to the pruner (default: ~10 per trial)"
    )
    g.add_argument("--aim", choices=["none", "finder"], default=None,
                   help="finder: an LR range test per optimizer sets its rate bounds and first trial")  # fmt: skip
    g = p.add_argument_group("fixed training settings")
    g.add_argument("--epochs", type=int, default=None, help="epochs per trial (default 30)")
    g.add_argument("--hidden", default=None, help="hidden widths, comma-separated; '' for none (default 64)")
    g.add_argument("--activation", default=None, choices=["relu", "tanh", "sigmoid", "identity"])
    g.add_argument("--batch-size", type=int, default=None, help="default 32 (search it with --search batch_size)")
    g.add_argument("--dtype", default=None, choices=["float32", "float64"])
    g.add_argument("--seed", type=int, default=None, help="seed of the split, initialisation, shuffling and samplers")
    g = p.add_argument_group("search space")
    g.add_argument(
        "--optimizers", default=None, help="comma-separated (default: sgd,momentum,nesterov,adagrad,rmsprop,adam,adamw)"
    )
    g.add_argument("--schedules", default=None,
                   help="comma-separated (default: constant,linear,exponential,inverse_time,step,cosine,"
                        "one_cycle,plateau)")  # fmt: skip
    g.add_argument("--search", default=None,
                   help="also search these, with default ranges: batch_size, hidden, momentum, beta1, beta2, "
                        "weight_decay, adamw_weight_decay, clip_norm")  # fmt: skip
    g.add_argument("--set", action="append", metavar="KEY=VALUE", dest="overrides",
                   help="override any spec key, TOML value: study.epochs=40, space.lr.adam=[1e-4,1e-2], "
                        "space.step.gamma=[0.2,0.8] (repeatable)")  # fmt: skip
    g = p.add_argument_group("storage and output")
    g.add_argument("--overwrite", action="store_true", help="delete an existing study of that name first")
    g.add_argument("--heartbeat", type=int, default=None, metavar="SECONDS",
                   help="heartbeat interval for database storages; a dead worker's trial is retried after 3x "
                        "(default 10; 0: off)")  # fmt: skip
    g.add_argument("--studies-dir", default="studies", help="where default journals and results go (default studies/)")
    g.add_argument("--results", default=None, metavar="FILE.json",
                   help="results JSON (default: NAME.json beside the journal, or in --studies-dir for a database; "
                        "STORAGE-NAME.json there when NAME.json holds a same-named study of another storage)")  # fmt: skip
    g.add_argument("--report", default=None, metavar="FILE.html", help="write an HTML report of the study")
    g.add_argument("--json", action="store_true", help="print the results as JSON")
    g.add_argument("--no-progress", action="store_true", help="no progress line on the terminal")
    p.set_defaults(func=run)


def build_spec(args: argparse.Namespace) -> Any:
    """The StudySpec from the defaults, ``--spec``, the flags and ``--set`` (in that order)."""
    from lrsearch.cli._common import parse_hidden
    from lrsearch.search import spec_from_sources

    overrides: dict[str, Any] = {}
    flags = {
        "data": args.data, "target": args.target, "task": args.task, "val_size": args.val_size,
        "test_size": args.test_size, "n_trials": args.n_trials, "timeout": args.timeout, "n_jobs": args.n_jobs,
        "objective": args.objective, "sampler": args.sampler, "pruner": args.pruner,
        "report_every": args.report_every, "aim": args.aim, "epochs": args.epochs, "activation": args.activation,
        "batch_size": args.batch_size, "dtype": args.dtype, "seed": args.seed, "name": args.study_name,
    }  # fmt: skip
    for key, value in flags.items():
        if value is not None:
            overrides[f"study.{key}"] = value
    if args.hidden is not None:
        overrides["study.hidden"] = list(parse_hidden(args.hidden))
    if args.optimizers is not None:
        overrides["space.optimizer"] = _names(args.optimizers)
    if args.schedules is not None:
        overrides["space.schedule"] = _names(args.schedules)
    import difflib

    from lrsearch.search.space import OPTIONAL_PARAMS

    for name in _names(args.search) if args.search else []:
        if name not in OPTIONAL_PARAMS:
            always = " (always searched: set its range with --set)" if name in ("lr", "optimizer", "schedule",
                                                                                 "warmup") else ""  # fmt: skip
            close = difflib.get_close_matches(name, list(OPTIONAL_PARAMS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"--search {name!r} is not an optional dimension{always}.{hint} --search takes "
                              f"{', '.join(OPTIONAL_PARAMS)}.")  # fmt: skip
        if _spec_space(args.spec).get(name) not in (None, False):
            continue  # the spec file gives its range: --search keeps it (True would put the default range back)
        overrides[f"space.{name}"] = True
    spec = spec_from_sources(args.spec, overrides, args.overrides)
    for flag, key in (("--batch-size", "batch_size"), ("--hidden", "hidden")):
        given = getattr(args, key)
        if given is not None and key in spec.space.optional:
            log.warning("%s %s is not used: the study searches %s (--search %s or the spec), its range %s; drop "
                        "one or the other", flag, given, key, key, spec.space.to_dict().get(key))  # fmt: skip
    return spec


def _spec_space(path: str | None) -> dict[str, Any]:
    """The ``[space]`` table of a spec file as written (empty without one); read as the spec's loading reads it,
    so an unreadable file is the same ConfigError."""
    from lrsearch.search.spec import _read_toml

    table = _read_toml(path).get("space", {}) if path else {}
    return table if isinstance(table, dict) else {}


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def run(args: argparse.Namespace) -> int:
    import optuna

    from lrsearch.cli._common import check_output_path, dump_json
    from lrsearch.search import run_study

    check_output_path(args.report, "--report")  # before the study: a bad path must not cost its results
    optuna.logging.set_verbosity(optuna.logging.INFO if getattr(args, "verbose", 0) >= 2 else optuna.logging.WARNING)
    spec = build_spec(args)
    # the storage run_study will use: --storage, the spec's, $LRSEARCH_STORAGE, else the default journal
    storage = args.storage or spec.storage or os.environ.get("LRSEARCH_STORAGE") or None
    if args.heartbeat and (storage is None or "://" not in storage):  # Optuna's heartbeats need a database
        kind = "memory storage" if storage in ("memory", ":memory:") else "a journal file"
        log.warning("--heartbeat applies to database storages (sqlite:///, postgresql://); %s has no heartbeats "
                    "(it is for one machine: a dead worker's trial is failed when the study is next opened there)",
                    kind)  # fmt: skip
    # an output must not overwrite what the study reads or writes (its journal held the trials)
    name = args.study_name or spec.name
    if name is None and spec.data is not None:  # run_study names it after the data set: the same name here
        from types import SimpleNamespace

        from lrsearch.data import source_name
        from lrsearch.search.runner import default_study_name

        stem = source_name(spec.data)
        name = None if stem is None else default_study_name(SimpleNamespace(name=stem))
    journal = storage_file(storage, name, args.studies_dir)
    if name is not None:  # --results may replace this study's own results, never another study's
        check_output_path(args.results, "--results", own_results=(name, storage or journal or ""))
    else:
        check_output_path(args.results, "--results")
    results = None if args.results else results_file(storage, name, args.studies_dir)  # the default one
    # and <storage stem>-<name>.json, where the results go when <name>.json holds another storage's study
    alternate = None if args.results else alternate_results_file(storage, name, args.studies_dir)
    check_no_clash({"--report": args.report, "--results": args.results},
                   {"the --data file": spec.data if isinstance(spec.data, str) and os.path.isfile(spec.data) else None,
                    "the --spec file": args.spec, "the study's storage": journal,
                    "the study's results JSON": results,
                    "the study's results JSON (when NAME.json is another storage's)": alternate})  # fmt: skip
    show = not args.json and not args.no_progress and sys.stderr.isatty()
    bar = _ProgressLine(spec.objective) if show else None
    result = run_study(
        None, spec, storage=args.storage, overwrite=args.overwrite, results_path=args.results,
        progress=bar, studies_dir=args.studies_dir,
        heartbeat_interval=(10 if args.heartbeat is None else args.heartbeat) or None,
    )  # fmt: skip
    if bar is not None:
        bar.close()
    report_error = None
    try:
        # the names known now (a study named after its data): never write the report over the study's own files
        check_no_clash({"--report": args.report},
                       {"the study's results JSON": result.results_path,
                        "the study's storage": storage_file(result.storage, result.study_name)})  # fmt: skip
        report_path = _write_report(args.report, result) if args.report else None
    except (OSError, ConfigError) as exc:  # the study is done: still print its results
        report_path, report_error = None, exc
    if args.json:
        out = result.to_dict()
        out["results_path"] = str(result.results_path) if result.results_path else None
        out["report_path"] = str(report_path) if report_path else None
        print(dump_json(out))
    else:
        _print_summary(result, report_path)
    if report_error is not None:
        why = str(report_error).rstrip(".") if isinstance(report_error, ConfigError) else (
            f"could not write the report {args.report!r} ({report_error})")  # fmt: skip
        print(f"lrsearch study: error: {why}; the results above are kept; run 'lrsearch report' to write "
              f"the report again", file=sys.stderr)  # fmt: skip
        return 2  # a path the user gave could not be written: bad input, as for every command
    if result.interrupted:  # 128 + the signal, as a shell reports it: 130 for Ctrl-C, 143 for SIGTERM
        return 143 if result.summary.get("interrupted_by") == "SIGTERM" else 130
    return 0


def _write_report(path: str, result: Any) -> Any:
    try:
        from lrsearch.report import build_report
    except ImportError as exc:
        log.warning("HTML reports are not available in this installation (%s); skipped %s", exc, path)
        return None
    return build_report(path, title=f"lrsearch study: {result.study_name}", dataset_summary=result.dataset_summary,
                        study=result, range_tests=result.range_tests)  # fmt: skip


def _at_a_bound(cfg: dict[str, Any], space: dict[str, Any], decades: float = 0.05, aimed: bool = False) -> str | None:
    """A note when the best rate lies within ``decades`` of its optimizer's search bound: the best may lie beyond.

    >>> _at_a_bound({"optimizer": "adam", "lr": 0.0985}, {"lr": {"adam": [1e-4, 0.1]}})
    "the best rate 0.0985 sits at the upper bound of adam's search (0.1): the best may lie beyond it; widen lr.adam"
    """
    from lrsearch.search.results import rate_bound_note

    bounds = (space.get("lr") or {}).get(cfg.get("optimizer"))
    return rate_bound_note(cfg.get("optimizer"), cfg.get("lr"), bounds, aimed=aimed, decades=decades)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _trial_counts(complete: int, pruned: int, diverged: int = 0, failed: int = 0) -> list[str]:
    """The trials by state in words, as the progress line and the summary print them (diverged ones are pruned).

    >>> _trial_counts(5, 3, diverged=1, failed=2)
    ['5 complete', '3 pruned', '1 of them diverged', '2 failed']
    """
    parts = [f"{complete} complete", f"{pruned} pruned"]
    if diverged:
        parts.append(f"{diverged} of them diverged")
    if failed:
        parts.append(f"{failed} failed")
    return parts


def _print_summary(result: Any, report_path: Any) -> None:
    s = result.summary
    parts = _trial_counts(s["complete"], s["pruned"], s["diverged"], s["failed"])
    if s.get("running"):
        parts.append(f"{s['running']} still running elsewhere")
    if s.get("waiting"):
        parts.append(f"{s['waiting']} queued, not started: the finder's first trials run first on resume")
    head = ("interrupted" if result.interrupted else
            f"stopped at the --timeout of {s['timeout_s']:g} s" if s.get("timed_out") else "done")  # fmt: skip
    # N of M trials done: N counts what the budget counts and is over (complete and pruned, the progress line's
    # and the JSON's "done"); a failed trial is rerun and a queued one has not started, so they are listed only
    total, target, running = s["n_trials"], s["target_trials"], s.get("running", 0)
    done = s["done"]
    note = ""
    if done > target:  # a resumed study asked for fewer trials than it already holds
        count = f"{done} trials (it already held more than the {target} asked for)"
    elif total > done + running:  # failed or queued trials: listed, not counted
        count = f"{done} of the {target} asked for done"
        kinds = [k for k, n in (("failed", s["failed"]), ("queued", s.get("waiting", 0))) if n]
        note = f"; {' and '.join(kinds)} trials do not count toward them"
    else:
        count = f"{done} of {target} trials done"
    print(f"study {result.study_name} ({result.storage}): {head}; {count} ({', '.join(parts)}){note}")
    rate = f", {s['trials_per_min']:.0f} trials/min" if s.get("trials_per_min") else ""
    print(f"this run: {s['trials_this_run']} trials in {s['elapsed_s']:.1f} s with {s['n_jobs']} worker(s){rate}")
    if result.best_number is None:
        if result.interrupted:
            again = ("" if str(result.storage).startswith("memory") else
                     "; run the same command again to resume")
            print(f"no trial completed before the interruption{again}")
        elif s["failed"] and not s["pruned"]:
            print("no trial completed: every trial failed; run with -vv to see the errors")
        else:
            print("no trial completed yet: every trial was pruned or diverged; try narrower rate bounds "
                  "(--aim finder measures them)")  # fmt: skip
    else:
        print(f"best trial #{result.best_number}: {result.objective} {result.best_value:.5g}")
        cfg = result.best_config
        sched = ", ".join(f"{k}={_fmt(v)}" for k, v in cfg.get("schedule_params", {}).items())
        opt = ", ".join(f"{k}={_fmt(v)}" for k, v in cfg.get("optimizer_params", {}).items())
        print(f"  optimizer {cfg['optimizer']}{f' ({opt})' if opt else ''}  lr {cfg['lr']:.4g}  "
              f"schedule {cfg['schedule']}{f' ({sched})' if sched else ''}")  # fmt: skip
        extras = [f"{k} {_fmt(cfg[k])}" for k in ("batch_size", "hidden", "clip_norm") if k in result.best_params]
        if extras:
            print("  " + "  ".join(extras))
        for label, metrics in (("validation", result.best_val_metrics), ("test", result.best_test_metrics)):
            if metrics:
                shown = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items() if not math.isnan(v))
                print(f"  {label:<11}{shown}")
        edge = _at_a_bound(cfg, s.get("space", {}), aimed=s.get("aim") == "finder")
        if edge:
            print(f"  note: {edge}")
    if result.results_path:
        print(f"results: {result.results_path}")
    if report_path:
        print(f"report: {report_path}")
    if result.interrupted or done + running < target:
        print(f"resume: run the same command again (study {result.study_name!r} keeps its finished trials)")


class _ProgressLine:
    """One self-overwriting line on stderr: trials done (by state, as the summary counts them), best so far,
    time left."""

    def __init__(self, objective: str):
        self.objective = objective
        self.width = 0

    def __call__(self, p: Any) -> None:
        best = (
            f"best {self.objective} {p.best_value:.4g} (#{p.best_number})"
            if p.best_value is not None
            else "no best yet"
        )
        eta = f", ~{_duration(p.eta_s)} left" if p.eta_s is not None else ""
        parts = ", ".join(_trial_counts(p.complete, p.pruned, p.diverged, p.failed) + [f"{p.running} running"])
        line = f"{p.finished} of {p.target} trials done ({parts}) | {best} | {_duration(p.elapsed_s)}{eta}"
        pad = max(0, self.width - len(line))
        self.width = len(line)
        sys.stderr.write("\r" + line + " " * pad)
        sys.stderr.flush()

    def close(self) -> None:
        if self.width:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
