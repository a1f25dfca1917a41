"""``lrsearch train``: one training run on a data set; per-epoch losses and test metrics."""

from __future__ import annotations

import argparse
import math
import sys

from lrsearch.cli._common import add_data_args, add_model_args, dump_json, parse_hidden, parse_pairs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train one network and print its losses and test metrics",
        description="Train an MLP on a data set: per-epoch train/validation loss, then test metrics.",
    )
    add_data_args(p)
    add_model_args(p)
    g = p.add_argument_group("optimisation")
    g.add_argument("--optimizer", default="adam", help="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw (default adam)")
    g.add_argument("--lr", type=float, default=1e-3, help="base learning rate, as torch.optim means it (default 1e-3)")
    g.add_argument("--opt-param", action="append", metavar="KEY=VALUE", help="optimizer option, torch.optim names (repeatable)")
    g.add_argument("--schedule", default="constant",
                   help="constant (default), linear, exponential, inverse_time, step, cosine, one_cycle, plateau")  # fmt: skip
    g.add_argument("--schedule-param", action="append", metavar="KEY=VALUE", help="schedule parameter (repeatable)")
    g.add_argument("--warmup", type=int, default=None,
                   help="linear warm-up length (epochs, or steps with interval=step; not with one_cycle, "
                        "whose first pct_start is its ramp)")  # fmt: skip
    g.add_argument("--epochs", type=int, default=20, help="passes over the training split (default 20)")
    g.add_argument("--clip-norm", type=float, default=None, help="clip the gradient's global norm")
    g.add_argument("--clip-value", type=float, default=None, help="clip every gradient element to [-c, c]")
    g.add_argument("--normalize-grad", action="store_true", help="scale the whole gradient to unit norm")
    g.add_argument("--layer-lrs", default=None, help="one rate multiplier per layer, comma-separated")
    g.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without a lower validation loss and keep the best epoch "
                        "(default: off)")  # fmt: skip
    g.add_argument("--min-delta", type=float, default=None,
                   help="with --early-stopping: the least fall of the validation loss that counts (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lrsearch.data import load
    from lrsearch.evaluation import fit_dataset
    from lrsearch.exceptions import ConfigError

    if args.early_stopping is not None and args.val_size == 0:
        raise ConfigError("--early-stopping watches the validation loss, which --val-size 0 leaves empty; set "
                          "--val-size above 0 (default 0.2), or drop --early-stopping.")  # fmt: skip
    if args.min_delta is not None and args.early_stopping is None:
        raise ConfigError("--min-delta applies with --early-stopping PATIENCE only (no early stopping runs without "
                          "it); add --early-stopping, or drop --min-delta.")  # fmt: skip
    schedule_params = parse_pairs(args.schedule_param, "--schedule-param")
    if args.warmup is not None:
        schedule_params["warmup"] = args.warmup
    layer_lrs = None
    if args.layer_lrs:
        try:
            layer_lrs = [float(v) for v in args.layer_lrs.split(",")]
        except ValueError:
            raise ConfigError(f"--layer-lrs must be comma-separated numbers such as 0.1,1; got {args.layer_lrs!r}.") from None
    dataset = load(args.data, target=args.target, task=args.task, val_size=args.val_size,
                   test_size=args.test_size, seed=args.seed, dtype=args.dtype)  # fmt: skip

    def progress(epoch: int, res) -> bool:
        if not args.json:
            vl = res.val_loss[-1]
            print(f"epoch {epoch + 1:4d}  train_loss {res.train_loss[-1]:.5f}  val_loss {vl:.5f}  "
                  f"lr {res.lrs[-1]:.3g}")  # fmt: skip
            sys.stdout.flush()
        return False

    fit = fit_dataset(
        dataset,
        hidden=parse_hidden(args.hidden), activation=args.activation, optimizer=args.optimizer, lr=args.lr,
        optimizer_params=parse_pairs(args.opt_param, "--opt-param"), schedule=args.schedule,
        schedule_params=schedule_params, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
        dtype=args.dtype, clip_norm=args.clip_norm, clip_value=args.clip_value,
        normalize_grad=args.normalize_grad, layer_lrs=layer_lrs, callback=progress,
        early_stopping=args.early_stopping, min_delta=0.0 if args.min_delta is None else args.min_delta,
    )  # fmt: skip
    res = fit.result
    if args.json:
        print(dump_json({
            "data": dataset.summary(), "status": res.status, "reason": res.reason,
            "epochs_run": res.epochs_run, "steps_run": res.steps_run, "best_epoch": res.info.get("best_epoch"),
            "train_loss": res.train_loss, "val_loss": res.val_loss,
            "val_metrics": fit.val_metrics, "test_metrics": fit.test_metrics,
        }))  # fmt: skip
        return 0
    if res.status == "diverged":
        print(f"diverged: {res.reason}; try a smaller --lr (lrsearch find suggests one)")
    elif res.status == "early_stopped":
        print(f"stopped early: {res.reason}; the metrics are those of epoch {res.info['best_epoch']}")
    elif res.info.get("restored_epoch"):
        print(f"completed {res.epochs_run} epochs; the best validation loss was at epoch "
              f"{res.info['restored_epoch']}, whose weights and metrics are kept")  # fmt: skip
    # 4 decimals, or 5 significant digits for a value too large or small for them (a raw regression target's MSE)
    shown = "  ".join(f"{k} {v:.4f}" if 1e-3 <= abs(v) < 1e6 or v == 0 else f"{k} {v:.5g}"
                      for k, v in fit.test_metrics.items() if not math.isnan(v))  # fmt: skip
    print(f"test  {shown}" if fit.test_metrics else "test  (no test split: --test-size is 0)")
    return 0
