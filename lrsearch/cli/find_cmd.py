"""``lrsearch find``: the LR range test on a data set; one line per optimizer.

    $ lrsearch find --data iris --optimizer adam
    suggested learning rate for adam: 2.3e-02 (range 1.1e-02 to 4.5e-02, rule: probe, spread 0.2 decades)

``--optimizer all`` prints one table row per optimizer; ``--plot FILE`` saves
the curves (PNG/SVG/PDF), ``--csv FILE`` the curve values, ``--json`` the whole
result. Warnings (never diverged, never decreased, noisy, wide spread) go to
stderr. Output paths are checked before the range test; a file that still cannot be
written afterwards costs nothing: the result is printed first, then one error line
(exit 2). Heavy modules are imported in :func:`run`, so ``lrsearch --help`` stays fast.

Flags whose parser default is None take :func:`lrsearch.finder.find_lr`'s defaults
(read from its signature, for ``--help`` too), so the CLI and the API cannot drift apart.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lrsearch._validation import check_no_clash
from lrsearch.cli._common import (
    add_data_args,
    add_model_args,
    check_output_path,
    dump_json,
    finder_warnings_printed_elsewhere,
    parse_hidden,
    parse_pairs,
)
from lrsearch.cli._help import defaults_formatter, fill_api_defaults
from lrsearch.exceptions import ConfigError

RULE_CHOICES = ("default", "probe", "edge", "valley", "steepest", "min/10")

#: flags left at None by the parser; they take find_lr's defaults
_FROM_API = ("optimizer", "start_lr", "end_lr", "num_iter", "mode", "smoothing", "diverge_threshold", "repeats",
             "probes", "probe_steps", "rule", "epochs")  # fmt: skip


def _find_lr() -> Callable[..., Any]:
    from lrsearch.finder import find_lr

    return find_lr


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "find",
        help="LR range test: suggest a learning rate (and a range) per optimizer",
        description="Run the LR range test on a data set and suggest a learning rate for an optimizer "
        "(or compare every optimizer with --optimizer all).",
        formatter_class=defaults_formatter(_find_lr),
    )
    add_data_args(p)
    add_model_args(p)
    g = p.add_argument_group("range test")
    g.add_argument("--optimizer", default=None,
                   help="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, or 'all' to compare them")  # fmt: skip
    g.add_argument("--opt-param", action="append", metavar="KEY=VALUE",
                   help="optimizer option, torch.optim names (repeatable; default: torch.optim's)")  # fmt: skip
    g.add_argument("--start-lr", type=float, default=None, help="first rate of the ladder")
    g.add_argument("--end-lr", type=float, default=None, help="last rate of the ladder")
    g.add_argument("--num-iter", type=int, default=None, help="steps per range test")
    g.add_argument("--mode", choices=["exp", "linear"], default=None, help="ladder spacing")
    g.add_argument("--smoothing", type=float, default=None, help="EMA weight on the past, 0 to <1")
    g.add_argument("--diverge-threshold", type=float, default=None,
                   help="stop when the smoothed loss rises this many descents above its best")  # fmt: skip
    g.add_argument("--repeats", type=int, default=None, help="range tests on seeds seed..seed+N-1")
    g.add_argument("--probes", type=int, default=None,
                   help="short constant-rate probes scored on held-out data (0: none)")  # fmt: skip
    g.add_argument("--probe-steps", type=int, default=None, help="steps per probe")
    g.add_argument("--validation", action="store_true",
                   help="record the validation loss at every step (default: off, the batch loss)")  # fmt: skip
    g.add_argument("--epochs", type=int, default=None,
                   help="epochs of the training the rate is for (the probes' rate is lowered for longer trainings)")
    g.add_argument("--rule", choices=RULE_CHOICES, default=None,
                   help="rule that picks the suggestion; 'default' is probe, or edge without probes")  # fmt: skip
    out = p.add_argument_group("output")
    out.add_argument("--plot", metavar="FILE", default=None, help="save the curves to FILE (.png, .svg or .pdf)")
    out.add_argument("--csv", metavar="FILE", default=None, help="save the curve (rate, raw and smoothed loss) as CSV")
    out.add_argument("--json", action="store_true", help="print the whole result as JSON")
    p.set_defaults(func=run)


def _check_paths(args: argparse.Namespace) -> None:
    """Fail before the (short) work if an output path cannot be written, or would overwrite the data."""
    check_no_clash({"--plot": args.plot, "--csv": args.csv}, {"the --data file": args.data if os.path.isfile(args.data) else None})
    for flag, value in (("--plot", args.plot), ("--csv", args.csv)):
        if value is None:
            continue
        path = Path(value)
        check_output_path(value, flag)  # a folder: names an example file for the flag
        if flag == "--plot" and path.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise ConfigError(f"--plot {value!r} must end in .png, .svg or .pdf; e.g. --plot lr.png.")


def summary_line(res: Any) -> str:
    """``suggested learning rate for adam: 3.2e-03 (range 8.0e-04 to 1.6e-02, rule: probe, spread 0.1 decades)``."""
    if not math.isfinite(res.lr):
        why = res.warnings[-1] if res.warnings else res.stop_reason
        prefix = "no rate could be suggested: "
        why = why[len(prefix):] if why.startswith(prefix) else why  # said once, not twice
        return f"no learning rate suggested for {res.optimizer}: {why}"
    lo, hi = res.lr_range
    epochs = (getattr(res, "info", None) or {}).get("epochs")
    horizon = f", for {epochs} epochs" if epochs else ""
    return (f"suggested learning rate for {res.optimizer}: {res.lr:.1e} (range {lo:.1e} to {hi:.1e}, "
            f"rule: {res.rule}, {_spread(res)}{horizon})")  # fmt: skip


def _spread(res: Any) -> str:
    """The repeats' spread, or that one test measured none."""
    if len(getattr(res, "repeats", ())) < 2:
        return "spread not measured: 1 repeat"
    return f"spread {res.spread_decades:.1f} decades"


def _num(value: float, width: int = 9) -> str:
    return f"{value:{width}.2e}" if math.isfinite(value) else f"{'-':>{width}}"


def _table(results: dict[str, Any]) -> str:
    def held(res: Any) -> float:
        if res.probes is None or not len(res.probes.losses):
            return math.nan
        return float(min(res.probes.losses))

    finite = {name: held(r) for name, r in results.items() if math.isfinite(held(r))}
    best = min(finite, key=finite.__getitem__) if finite else None  # the first of any tie: one mark
    head = f"{'optimizer':<10} {'lr':>9} {'base_lr':>9} {'max_lr':>9} {'spread':>7} {'held-out':>9}  {'rule':<6} stop"
    lines = [head]
    for name, r in results.items():
        h = held(r)
        mark = " *" if name == best else "  "
        h_txt = f"{h:9.4f}" if math.isfinite(h) else f"{'-':>9}"
        measured = len(getattr(r, "repeats", ())) > 1 and math.isfinite(r.spread_decades)
        spread = f"{r.spread_decades:7.1f}" if measured else f"{'-':>7}"
        lines.append(f"{name:<10} {_num(r.lr)} {_num(r.lr_range[0])} {_num(r.lr_range[1])} {spread} "
                     f"{h_txt}{mark}{r.rule:<6} {r.stop_reason}")  # fmt: skip
    if best is not None:
        lines.append("held-out: loss of the best probe (same steps and data for every optimizer); * lowest")
    epochs = {(getattr(r, "info", None) or {}).get("epochs") for r in results.values()} - {None}
    if len(epochs) == 1:
        lines.append(f"lr: for a training of {epochs.pop()} epochs (--epochs)")
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

    from lrsearch.data import load
    from lrsearch.finder import find_lr, find_lr_all

    _check_paths(args)
    fill_api_defaults(args, find_lr, _FROM_API)
    dataset = load(args.data, target=args.target, task=args.task, val_size=args.val_size,
                   test_size=args.test_size, seed=args.seed, dtype=args.dtype)  # fmt: skip
    if args.validation and len(dataset.X_val) == 0:
        raise ConfigError("--validation records the loss on the validation split, which --val-size 0 leaves empty; "
                          "set --val-size above 0 (default 0.2), or drop --validation.")  # fmt: skip
    kwargs = dict(
        hidden=parse_hidden(args.hidden), activation=args.activation, batch_size=args.batch_size,
        optimizer_params=parse_pairs(args.opt_param, "--opt-param") or None, start_lr=args.start_lr,
        end_lr=args.end_lr, num_iter=args.num_iter, mode=args.mode, smoothing=args.smoothing,
        diverge_threshold=args.diverge_threshold, repeats=args.repeats, validation=args.validation,
        seed=args.seed, dtype=args.dtype, rule=args.rule, probes=args.probes, probe_steps=args.probe_steps,
        epochs=args.epochs,
    )  # fmt: skip
    with finder_warnings_printed_elsewhere(args.verbose == 0):  # printed below, once
        if args.optimizer == "all":
            try:
                results = find_lr_all(dataset, **kwargs)
            except ConfigError as exc:
                if not args.opt_param or "ptimizer " not in str(exc):  # not about an optimizer's options
                    raise
                raise ConfigError(f"{exc} With --optimizer all, --opt-param applies to every optimizer: name one "
                                  "optimizer with --optimizer to give it options.") from None  # fmt: skip
        else:
            results = {args.optimizer: find_lr(dataset, optimizer=args.optimizer, **kwargs)}

    # the results first: a file that cannot be written must not cost them
    if args.json:
        # each entry carries the data set it ran on, for `lrsearch report --find-json`
        payload = {name: {**r.to_dict(), "data": dataset.summary()} for name, r in results.items()}
        print(dump_json(payload if args.optimizer == "all" else next(iter(payload.values()))))
    elif args.optimizer == "all":
        print(_table(results))
    else:
        print(summary_line(next(iter(results.values()))))
    for name, r in results.items():
        for w in r.warnings:
            print(f"lrsearch find: warning: {name}: {w}", file=sys.stderr)
    return _write_outputs(args, results)


def _write_outputs(args: argparse.Namespace, results: dict[str, Any]) -> int:
    """Write --plot and --csv; 2 after one error line per file that could not be written, else 0."""

    def save_plot(path: str) -> None:
        from lrsearch.report.plot_finder import save_range_test_plot

        save_range_test_plot(results, path)

    code = 0
    for flag, path, write in (("--plot", args.plot, save_plot), ("--csv", args.csv, lambda p: _write_csv(p, results))):
        if path is None:
            continue
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)  # as every other output: a new folder is made
            write(path)
        except (OSError, ConfigError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            print(f"lrsearch find: error: could not write {flag} {path!r} ({why}); the result above is complete; "
                  f"re-run with another {flag} path to save it", file=sys.stderr)  # fmt: skip
            code = 2
    return code
