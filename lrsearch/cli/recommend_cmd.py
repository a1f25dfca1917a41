"""``lrsearch recommend``: optimizer, learning rate and schedule for a data set, with evidence.

Flags left at None by the parser take :func:`lrsearch.recommend.recommend`'s defaults
(read from its signature, for ``--help`` too). The results are printed before the
report is written: a report that cannot be written costs one error line (exit 2),
never the results.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from lrsearch._validation import check_no_clash, storage_file
from lrsearch.cli._common import (
    add_data_args,
    check_output_path,
    dump_json,
    finder_warnings_printed_elsewhere,
    parse_hidden,
)
from lrsearch.cli._help import defaults_formatter, fill_api_defaults

#: flags left at None by the parser; they take recommend()'s defaults
_FROM_API = ("hidden", "activation", "batch_size", "epochs", "method", "n_trials", "n_jobs")
#: flags that only the study method reads
_STUDY_ONLY = (("n_trials", "--n-trials"), ("n_jobs", "--n-jobs"), ("storage", "--storage"),
               ("study_name", "--study-name"), ("overwrite", "--overwrite"))


def _recommend() -> Callable[..., Any]:
    from lrsearch.recommend import recommend

    return recommend


def _default_optimizers() -> str:
    from lrsearch.recommend import DEFAULT_OPTIMIZERS  # a light module: no NumPy, no Numba

    return ",".join(DEFAULT_OPTIMIZERS)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recommend",
        help="recommend an optimizer, rate and schedule (range tests + measured trainings, or a study)",
        description="Recommend an optimizer, base learning rate and schedule, with the measurements behind it.",
        formatter_class=defaults_formatter(_recommend),
    )
    add_data_args(p)
    g = p.add_argument_group("network")
    g.add_argument("--hidden", default=None, help="hidden widths, comma-separated; '' for none")
    g.add_argument("--activation", default=None, choices=["relu", "tanh", "sigmoid", "identity"],
                   help="hidden-layer activation")  # fmt: skip
    g.add_argument("--batch-size", type=int, default=None, help="minibatch rows")
    g = p.add_argument_group("recommendation")
    g.add_argument("--method", choices=["finder", "study"], default=None,
                   help="finder: range tests + a few trainings (seconds); study: an aimed Optuna study (minutes)")  # fmt: skip
    g.add_argument("--optimizers", default=None,
                   help=f"comma-separated optimizers to compare, or 'all' (default {_default_optimizers()})")  # fmt: skip
    g.add_argument("--epochs", type=int, default=None, help="training budget of every candidate")
    g = p.add_argument_group("study (--method study only)")
    g.add_argument("--n-trials", type=int, default=None, help="trials of the study")
    g.add_argument("--n-jobs", type=int, default=None, help="worker processes (-1: one per core)")
    g.add_argument("--storage", default=None, metavar="URL",
                   help="journal file or database URL to keep the study in; the same storage resumes it "
                        "(default: in memory, or a temporary journal file for --n-jobs above 1)")  # fmt: skip
    g.add_argument("--study-name", default=None, metavar="NAME",
                   help="the study's name in --storage; the same name resumes it (default: the data set's name "
                        "followed by '-recommend')")  # fmt: skip
    g.add_argument("--overwrite", action="store_true", default=None,
                   help="delete a stored study of that name first (its search space or settings differ)")  # fmt: skip
    out = p.add_argument_group("output")
    out.add_argument("--report", default=None, metavar="FILE.html", help="also write the HTML report")
    out.add_argument("--json", action="store_true", help="print the recommendation as JSON")
    p.set_defaults(func=run)


def _parse_optimizers(text: str | None) -> list[str] | str | None:
    """``'adam, sgd'`` -> ``['adam', 'sgd']``; ``'all'`` -> ``'all'``; None (not given) -> None; nothing named -> ConfigError."""
    from lrsearch.exceptions import ConfigError

    if text is None:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise ConfigError(f"--optimizers {text!r} names no optimizer; give at least one, such as --optimizers "
                          f"adam,sgd, or leave the flag out to compare {_default_optimizers()}.")  # fmt: skip
    if names == ["all"]:  # every optimizer of the core, as `lrsearch find --optimizer all`
        return "all"
    return names


def run(args: argparse.Namespace) -> int:
    from lrsearch.data import load
    from lrsearch.exceptions import ConfigError
    from lrsearch.recommend import recommend

    check_output_path(args.report, "--report")  # before the work: a bad path must not cost its results
    study_name = args.study_name if args.method == "study" else None
    check_no_clash({"--report": args.report},
                   {"the --data file": args.data if os.path.isfile(args.data) else None,
                    "the study's storage": storage_file(args.storage, study_name) if args.method == "study"
                    else None})  # fmt: skip
    if args.val_size == 0:
        raise ConfigError("recommend compares its candidates on the validation split, which --val-size 0 leaves "
                          "empty; set --val-size above 0 (default 0.2).")  # fmt: skip
    optimizers = _parse_optimizers(args.optimizers)
    fill_api_defaults(args, recommend, ("method",))
    if args.method != "study":
        given = [flag for dest, flag in _STUDY_ONLY if getattr(args, dest) is not None]
        if given:
            verb = "apply" if len(given) > 1 else "applies"
            raise ConfigError(f"{' and '.join(given)} {verb} to --method study only (the finder method runs no "
                              f"study); add --method study, or drop {' and '.join(given)}.")  # fmt: skip
    fill_api_defaults(args, recommend, _FROM_API)
    hidden = parse_hidden(args.hidden) if isinstance(args.hidden, str) else tuple(args.hidden)
    ds = load(args.data, target=args.target, task=args.task, val_size=args.val_size, test_size=args.test_size,
              seed=args.seed)  # fmt: skip
    # the finder method prints the chosen range test's warnings once, in the evidence
    with finder_warnings_printed_elsewhere(getattr(args, "verbose", 0) == 0 and args.method != "study"):
        rec = recommend(ds, method=args.method, optimizers=optimizers, hidden=hidden, activation=args.activation,
                        batch_size=args.batch_size, epochs=args.epochs, seed=args.seed, n_trials=args.n_trials,
                        n_jobs=args.n_jobs, storage=args.storage, study_name=args.study_name,
                        overwrite=bool(args.overwrite))  # fmt: skip

    # the results first: a report that cannot be written must not cost them
    if args.json:
        print(dump_json(rec.to_dict()))
    else:
        _print_recommendation(rec)
    if not args.report:
        return 0
    try:
        result = getattr(rec, "study", None)
        if result is not None:  # its name is known now: never write the report over the study's own files
            check_no_clash({"--report": args.report},
                           {"the study's storage": storage_file(result.storage, result.study_name),
                            "the study's results JSON": result.results_path})  # fmt: skip
        path = _write_report(args.report, ds, rec)
    except (OSError, ConfigError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        print(f"lrsearch recommend: error: could not write the report {args.report!r} ({why}); the results above "
              f"are complete; re-run with another --report path to get the report", file=sys.stderr)  # fmt: skip
        return 2
    if not args.json:
        print(f"report: {path}")
    return 0


def _write_report(path: str, ds: Any, rec: Any) -> Any:
    from lrsearch.report import build_report

    return build_report(path, title=f"lrsearch recommendation: {ds.name}", dataset_summary=ds.summary(),
                        study=rec.study, range_tests=rec.range_tests, recommendation=rec)  # fmt: skip


def _print_recommendation(rec: Any) -> None:
    sp = ", ".join(f"{k}={v}" for k, v in rec.schedule_params.items())
    print(f"recommended: {rec.optimizer}, lr {rec.lr:.3g}, schedule {rec.schedule}" + (f" ({sp})" if sp else ""))
    shown = "  ".join(f"{k} {v:.4g}" for k, v in rec.expected_score.items())
    print(f"expected (validation): {shown}")
    if rec.test_metrics:
        print("test: " + "  ".join(f"{k} {v:.4g}" for k, v in rec.test_metrics.items()))
    for line in rec.evidence:
        print(f"  - {line}")
