"""``lrsearch find``: the LR range test on a data set; one line per optimizer.

    $ lrsearch find --data iris --optimizer adam
    suggested learning rate for adam: 2.3e-02 (range 1.1e-02 to 4.5e-02, rule: probe, spread 0.2 decades)

``--optimizer all`` prints one table row per optimizer; ``--plot FILE`` saves
the curves (PNG/SVG/PDF), ``--csv FILE`` the curve values, ``--json`` the whole
result. Warnings (never diverged, never decreased, noisy, wide spread) go to
stderr. Heavy modules are imported in :func:`run`, so ``lrsearch --help`` stays fast.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path
from typing import Any

from lrsearch.cli._common import add_data_args, add_model_args, dump_json, parse_hidden, parse_pairs
from lrsearch.exceptions import ConfigError

RULE_CHOICES = ("default", "probe", "edge", "valley", "steepest", "min/10")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "find",
        help="LR range test: suggest a learning rate (and a range) per optimizer",
        description="Run the LR range test on a data set and suggest a learning rate for an optimizer "
        "(or compare every optimizer with --optimizer all).",
    )
    add_data_args(p)
    add_model_args(p)
    g = p.add_argument_group("range test")
    g.add_argument("--optimizer", default="adam",
                   help="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, or 'all' to compare them")  # fmt: skip
    g.add_argument("--opt-param", action="append", metavar="KEY=VALUE",
                   help="optimizer option, torch.optim names (repeatable)")  # fmt: skip
    g.add_argument("--start-lr", type=float, default=1e-7, help="first rate of the ladder (default 1e-7)")
    g.add_argument("--end-lr", type=float, default=10.0, help="last rate of the ladder (default 10)")
    g.add_argument("--num-iter", type=int, default=100, help="steps per range test (default 100)")
    g.add_argument("--mode", choices=["exp", "linear"], default="exp", help="ladder spacing (default exp)")
    g.add_argument("--smoothing", type=float, default=0.98, help="EMA weight on the past, 0 to <1 (default 0.98)")
    g.add_argument("--diverge-threshold", type=float, default=1.0,
                   help="stop when the smoothed loss rises this many descents above its best (default 1)")  # fmt: skip
    g.add_argument("--repeats", type=int, default=2, help="range tests on seeds seed..seed+N-1 (default 2)")
    g.add_argument("--probes", type=int, default=3, help="short constant-rate probes scored on held-out data (0: none)")
    g.add_argument("--probe-steps", type=int, default=100, help="steps per probe (default 100)")
    g.add_argument("--validation", action="store_true", help="record the validation loss at every step")
    g.add_argument("--rule", choices=RULE_CHOICES, default="default", help="rule that picks the suggestion")
    out = p.add_argument_group("output")
    out.add_argument("--plot", metavar="FILE", default=None, help="save the curves to FILE (.png, .svg or .pdf)")
    out.add_argument("--csv", metavar="FILE", default=None, help="save the curve (rate, raw and smoothed loss) as CSV")
    out.add_argument("--json", action="store_true", help="print the whole result as JSON")
    p.set_defaults(func=run)


def _check_paths(args: argparse.Namespace) -> None:
    """Fail before the (short) work if an output path cannot be written."""
    if args.plot is not None:
        path = Path(args.plot)
        if path.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise ConfigError(f"--plot {args.plot!r} must end in .png, .svg or .pdf; e.g. --plot lr.png.")
        if not path.parent.exists():
            raise ConfigError(f"--plot: the folder of '{path}' does not exist; create it or pick another path.")
    if args.csv is not None and not Path(args.csv).parent.exists():
        raise ConfigError(f"--csv: the folder of '{args.csv}' does not exist; create it or pick another path.")


def summary_line(res: Any) -> str:
    """``suggested learning rate for adam: 3.2e-03 (range 8.0e-04 to 1.6e-02, rule: probe, spread 0.1 decades)``."""
    if not math.isfinite(res.lr):
        why = res.warnings[-1] if res.warnings else res.stop_reason
        return f"no learning rate suggested for {res.optimizer}: {why}"
    lo, hi = res.lr_range
    return (f"suggested learning rate for {res.optimizer}: {res.lr:.1e} (range {lo:.1e} to {hi:.1e}, "
            f"rule: {res.rule}, spread {res.spread_decades:.1f} decades)")  # fmt: skip


def _table(results: dict[str, Any]) -> str:
    def held(res: Any) -> float:
        if res.probes is None or not len(res.probes.losses):
            return math.nan
        return float(min(res.probes.losses))

    best = min((held(r) for r in results.values()), default=math.nan)
    head = f"{'optimizer':<10} {'lr':>9} {'base_lr':>9} {'max_lr':>9} {'spread':>7} {'held-out':>9}  {'rule':<6} stop"
    lines = [head]
    for name, r in results.items():
        h = held(r)
        mark = " *" if math.isfinite(h) and h == best else "  "
        h_txt = f"{h:9.4f}" if math.isfinite(h) else f"{'-':>9}"
        lines.append(f"{name:<10} {r.lr:9.2e} {r.lr_range[0]:9.2e} {r.lr_range[1]:9.2e} {r.spread_decades:7.1f} "
                     f"{h_txt}{mark}{r.rule:<6} {r.stop_reason}")  # fmt: skip
    if math.isfinite(best):
        lines.append("held-out: loss of the best probe (same steps and data for every optimizer); * lowest")
    return "\n".join(lines)


def _write_csv(path: str, results: dict[str, Any]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        header: list[str] | None = None
        for name, res in results.items():
            cols = res.curve_table()
            keys = sorted(cols, key=lambda k: k.startswith("loss_repeat"))  # stable: the curve first
            if header is None:
                header = ["optimizer", *keys]
                writer.writerow(header)
            for i in range(len(cols["step"])):
                writer.writerow([name, *(cols[k][i] if k in cols else "" for k in header[1:])])


def run(args: argparse.Namespace) -> int:
    import logging

    from lrsearch.data import load
    from lrsearch.finder import find_lr, find_lr_all

    _check_paths(args)
    dataset = load(args.data, target=args.target, task=args.task, val_size=args.val_size,
                   test_size=args.test_size, seed=args.seed, dtype=args.dtype)  # fmt: skip
    kwargs = dict(
        hidden=parse_hidden(args.hidden), activation=args.activation, batch_size=args.batch_size,
        optimizer_params=parse_pairs(args.opt_param, "--opt-param") or None, start_lr=args.start_lr,
        end_lr=args.end_lr, num_iter=args.num_iter, mode=args.mode, smoothing=args.smoothing,
        diverge_threshold=args.diverge_threshold, repeats=args.repeats, validation=args.validation,
        seed=args.seed, dtype=args.dtype, rule=args.rule, probes=args.probes, probe_steps=args.probe_steps,
    )  # fmt: skip
    finder_log = logging.getLogger("lrsearch.finder")
    level = finder_log.level
    if args.verbose == 0:
        finder_log.setLevel(logging.ERROR)  # the CLI prints the warnings itself, once
    try:
        if args.optimizer == "all":
            results = find_lr_all(dataset, **kwargs)
        else:
            results = {args.optimizer: find_lr(dataset, optimizer=args.optimizer, **kwargs)}
    finally:
        finder_log.setLevel(level)

    if args.plot is not None:
        from lrsearch.report.plot_finder import save_range_test_plot

        save_range_test_plot(results, args.plot)
    if args.csv is not None:
        _write_csv(args.csv, results)
    if args.json:
        payload = {name: r.to_dict() for name, r in results.items()}
        print(dump_json(payload if args.optimizer == "all" else next(iter(payload.values()))))
    elif args.optimizer == "all":
        print(_table(results))
    else:
        print(summary_line(next(iter(results.values()))))
    for name, r in results.items():
        for w in r.warnings:
            print(f"lrsearch find: warning: {name}: {w}", file=sys.stderr)
    return 0
