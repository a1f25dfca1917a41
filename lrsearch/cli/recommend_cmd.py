"""``lrsearch recommend``: optimizer, learning rate and schedule for a data set, with evidence."""

from __future__ import annotations

import argparse

from lrsearch.cli._common import add_data_args, check_output_path, dump_json, parse_hidden


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recommend",
        help="recommend an optimizer, rate and schedule (range tests + measured trainings, or a study)",
        description="Recommend an optimizer, base learning rate and schedule, with the measurements behind it.",
    )
    add_data_args(p)
    p.add_argument("--hidden", default="64", help="hidden widths, comma-separated (default 64)")
    p.add_argument("--activation", default="relu", choices=["relu", "tanh", "sigmoid", "identity"])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--epochs", type=int, default=30, help="training budget of every candidate (default 30)")
    p.add_argument("--method", choices=["finder", "study"], default="finder",
                   help="finder: range tests + a few trainings (seconds); study: an aimed Optuna study (minutes)")  # fmt: skip
    p.add_argument("--optimizers", default=None, help="comma-separated optimizers to compare (default: sgd,momentum,adagrad,rmsprop,adam)")
    p.add_argument("--n-trials", type=int, default=60, help="study trials (--method study)")
    p.add_argument("--n-jobs", type=int, default=1, help="study worker processes (--method study)")
    p.add_argument("--report", default=None, metavar="FILE.html", help="also write the HTML report")
    p.add_argument("--json", action="store_true", help="print the recommendation as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lrsearch.data import load
    from lrsearch.exceptions import ConfigError
    from lrsearch.recommend import recommend

    check_output_path(args.report, "--report")  # before the work: a bad path must not cost its results
    if args.val_size == 0:
        raise ConfigError("recommend compares its candidates on the validation split, which --val-size 0 leaves "
                          "empty; set --val-size above 0 (default 0.2).")  # fmt: skip
    ds = load(args.data, target=args.target, task=args.task, val_size=args.val_size, test_size=args.test_size,
              seed=args.seed)  # fmt: skip
    optimizers = [o.strip() for o in args.optimizers.split(",")] if args.optimizers else None
    rec = recommend(ds, method=args.method, optimizers=optimizers, hidden=parse_hidden(args.hidden),
                    activation=args.activation, batch_size=args.batch_size, epochs=args.epochs, seed=args.seed,
                    n_trials=args.n_trials, n_jobs=args.n_jobs)  # fmt: skip
    if args.report:
        from lrsearch.report import build_report

        path = build_report(args.report, title=f"lrsearch recommendation: {ds.name}", dataset_summary=ds.summary(),
                            study=rec.study, range_tests=rec.range_tests, recommendation=rec)  # fmt: skip
        if not args.json:
            print(f"report: {path}")
    if args.json:
        print(dump_json(rec.to_dict()))
        return 0
    sp = ", ".join(f"{k}={v}" for k, v in rec.schedule_params.items())
    print(f"recommended: {rec.optimizer}, lr {rec.lr:.3g}, schedule {rec.schedule}" + (f" ({sp})" if sp else ""))
    shown = "  ".join(f"{k} {v:.4f}" for k, v in rec.expected_score.items())
    print(f"expected (validation): {shown}")
    if rec.test_metrics:
        print("test: " + "  ".join(f"{k} {v:.4f}" for k, v in rec.test_metrics.items()))
    for line in rec.evidence:
        print(f"  - {line}")
    return 0
