"""How good are the finder's suggestions? Regret against the best rate of a log grid.

For every task (iris, digits and synthetic problems from ``tasks.py``), every
optimizer (SGD, momentum, Adam, RMSprop, AdaGrad) and every seed:

1. ``find_lr`` runs with its defaults on the task's *training* rows only (its
   probes score on rows it holds out of them, never on the validation split the
   regret is measured on). The anchor rules are read from the first repeat's
   curve, as fastai and torch-lr-finder read their single test: fastai ``valley``
   and ``minimum``/10 on the bias-corrected EMA (beta 0.98, fastai's), steepest
   on torch-lr-finder's own EMA (weight 0.05 on the new loss, not bias-corrected).
2. Every rate of a log grid (4 per decade, 1e-5 to 10: 25 rates) and every rule's
   suggested rate trains the task's network for a fixed budget (20 epochs, batch
   32, constant rate) from ``--train-seeds`` initialisations/shuffles; a rate's
   score is the mean final validation loss over them. A run that diverges scores
   the loss of its initial network (it produced nothing usable).
3. Per rule: regret = score / best grid score - 1; the distance in decades from
   the best grid rate; the share of grid rates that scored better; and a
   normalised regret, (score - best) / (worst - best) with worst the larger of
   the initial network's loss and the grid's worst score: the share of the
   achievable improvement given up, which stays meaningful when the best loss is
   near zero (a separable validation split) and the relative regret explodes.

An "oracle" row reads the best rate off one training seed's grid and scores it
on the others' mean: how well even a perfect look at one training does, i.e. the
noise floor of this measurement.

Run ``python benchmarks/lr_quality.py`` (a few minutes on 2 cores) or ``--quick``
(under a minute). ``--json FILE`` saves every case; ``--cache FILE`` keeps the
trainings between runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("NUMBA_CACHE_DIR", "/tmp/nbcache_lrsearch")

from tasks import DESIGN_TASKS, HOLDOUT_TASKS, Task, make_task  # noqa: E402

from lrsearch.finder import find_lr, suggest_min_div10, suggest_steepest, suggest_valley  # noqa: E402
from lrsearch.nn import Trainer, train  # noqa: E402

OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop", "adagrad")
RULES = ("default", "edge", "valley", "steepest", "min/10")
EPOCHS, BATCH = 20, 32


def torch_ema(losses: np.ndarray, smooth_f: float = 0.05) -> np.ndarray:
    """torch-lr-finder's smoothing: ``s_k = f*x_k + (1-f)*s_{k-1}``, ``s_0 = x_0`` (no bias correction)."""
    out = np.empty_like(losses)
    for k, x in enumerate(losses):
        out[k] = x if k == 0 else smooth_f * x + (1 - smooth_f) * out[k - 1]
    return out


class Scorer:
    """Trains a task at a rate for the fixed budget; ``cache`` maps (task, optimizer, lr, seed) to a score."""

    def __init__(self, task: Task, optimizer: str, train_seeds: list[int], cache: dict | None = None, tag: str = ""):
        self.task, self.optimizer, self.seeds = task, optimizer, train_seeds
        self.cache = {} if cache is None else cache
        self.tag = tag
        self.init_loss = {}
        for s in train_seeds:
            tr = Trainer(task.X_train, task.y_train, task=task.task, hidden=task.hidden, activation=task.activation,
                         optimizer=optimizer, seed=s, n_classes=task.n_classes)  # fmt: skip
            self.init_loss[s] = tr.evaluate(task.X_val, task.y_val)[0]

    def run(self, lr: float, seed: int) -> tuple[float, bool]:
        t = self.task
        if not (math.isfinite(lr) and lr > 0):
            return self.init_loss[seed], True
        key = (self.tag, self.optimizer, float(lr), seed)
        if key in self.cache:
            return self.cache[key]
        res = train(t.X_train, t.y_train, X_val=t.X_val, y_val=t.y_val, task=t.task, hidden=t.hidden,
                    activation=t.activation, optimizer=self.optimizer, lr=float(lr), epochs=EPOCHS, batch_size=BATCH,
                    seed=seed, n_classes=t.n_classes, compute_metrics=False)  # fmt: skip
        final = res.val_loss[-1] if len(res.val_loss) else math.nan
        failed = res.status != "completed" or not math.isfinite(final)
        out = (self.init_loss[seed], True) if failed else (float(final), False)
        self.cache[key] = out
        return out

    def score(self, lr: float) -> tuple[float, np.ndarray, int]:
        per_seed = [self.run(lr, s) for s in self.seeds]
        losses = np.array([p[0] for p in per_seed])
        return float(losses.mean()), losses, sum(p[1] for p in per_seed)


def run_case(task: Task, optimizer: str, seed: int, grid: np.ndarray, train_seeds: list[int],
             cache: dict | None = None) -> dict:
    t0 = time.perf_counter()
    res = find_lr(task.X_train, task.y_train, task=task.task, hidden=task.hidden, activation=task.activation,
                  optimizer=optimizer, seed=seed)  # fmt: skip
    find_seconds = time.perf_counter() - t0
    single = res.curves[0]
    torch_view = replace(single, smoothed=torch_ema(single.losses))
    rates = {
        "default": res.lr,
        "edge": res.suggestions["edge"].lr,
        "valley": suggest_valley(single).lr,
        "steepest": suggest_steepest(torch_view).lr,
        "min/10": suggest_min_div10(single).lr,
    }
    scorer = Scorer(task, optimizer, train_seeds, cache, f"{task.name}/{seed}")
    grid_scores, grid_per_seed = [], []
    for lr in grid:
        mean, per, _ = scorer.score(lr)
        grid_scores.append(mean)
        grid_per_seed.append(per)
    grid_scores = np.array(grid_scores)
    per_seed = np.array(grid_per_seed)  # (rates, seeds)
    b = int(np.argmin(grid_scores))
    best, best_lr = float(grid_scores[b]), float(grid[b])
    worst = max(float(np.mean(list(scorer.init_loss.values()))), float(grid_scores.max()))
    t1 = time.perf_counter()  # one full training, never from the cache
    train(task.X_train, task.y_train, X_val=task.X_val, y_val=task.y_val, task=task.task, hidden=task.hidden,
          activation=task.activation, optimizer=optimizer, lr=best_lr, epochs=EPOCHS, batch_size=BATCH,
          seed=seed, n_classes=task.n_classes, compute_metrics=False)  # fmt: skip
    train_seconds = time.perf_counter() - t1
    rules = {}
    for name, lr in rates.items():
        mean, _, diverged = scorer.score(lr)
        rules[name] = {
            "lr": lr, "score": mean, "regret": mean / best - 1.0, "diverged": diverged,
            "normalized": (mean - best) / (worst - best) if worst > best else 0.0,
            "distance": abs(math.log10(lr) - math.log10(best_lr)) if math.isfinite(lr) and lr > 0 else math.inf,
            "share_better": float(np.mean(grid_scores < mean)),
        }  # fmt: skip
    # noise floor: the best rate of one training seed's grid, scored on the other seeds' mean
    oracle = []
    for j in range(per_seed.shape[1]):
        others = np.delete(per_seed, j, axis=1).mean(axis=1)
        pick = int(np.argmin(per_seed[:, j]))
        oracle.append({"regret": others[pick] / others.min() - 1.0,
                       "distance": abs(math.log10(grid[pick]) - math.log10(grid[int(np.argmin(others))]))})  # fmt: skip
    rules["oracle"] = {
        "lr": math.nan, "score": math.nan, "diverged": 0, "share_better": math.nan, "normalized": math.nan,
        "regret": float(np.mean([o["regret"] for o in oracle])),
        "distance": float(np.median([o["distance"] for o in oracle])),
    }  # fmt: skip
    return {
        "task": task.name, "optimizer": optimizer, "seed": seed, "best_lr": best_lr, "best_score": best,
        "grid": grid.tolist(), "grid_scores": grid_scores.tolist(), "rules": rules,
        "find_seconds": find_seconds, "find_steps": res.steps,
        "train_seconds": train_seconds, "warnings": list(res.warnings),
        "spread": res.spread_decades,
    }  # fmt: skip


def summarise(cases: list[dict], names: tuple[str, ...], title: str) -> str:
    lines = [title, f"{'rule':<10} {'median regret':>13} {'mean regret':>11} {'median dist':>11} "
             f"{'share better':>12} {'norm. regret':>12} {'diverged':>8}"]  # fmt: skip
    for name in names:
        reg = np.array([c["rules"][name]["regret"] for c in cases])
        dist = np.array([c["rules"][name]["distance"] for c in cases])
        share = np.array([c["rules"][name]["share_better"] for c in cases])
        norm = np.array([c["rules"][name]["normalized"] for c in cases])
        div = sum(c["rules"][name]["diverged"] > 0 for c in cases)
        share_txt = f"{np.nanmean(share):12.3f}" if np.isfinite(share).any() else f"{'-':>12}"
        norm_txt = f"{np.nanmean(norm):12.4f}" if np.isfinite(norm).any() else f"{'-':>12}"
        lines.append(f"{name:<10} {np.median(reg):13.3f} {np.mean(reg):11.3f} {np.median(dist):11.2f} "
                     f"{share_txt} {norm_txt} {div:8d}")  # fmt: skip
    return "\n".join(lines)


def per_task(cases: list[dict], names: tuple[str, ...]) -> str:
    tasks = list(dict.fromkeys(c["task"] for c in cases))
    lines = ["median regret per task", f"{'task':<14}" + "".join(f"{n:>10}" for n in names)]
    for t in tasks:
        sub = [c for c in cases if c["task"] == t]
        lines.append(f"{t:<14}" + "".join(f"{np.median([c['rules'][n]['regret'] for c in sub]):10.3f}" for n in names))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3 tasks, 1 seed, 3 training seeds (about a minute)")
    p.add_argument("--tasks", default=None, help="comma-separated task names (default: all)")
    p.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    p.add_argument("--seeds", type=int, default=2, help="benchmark seeds (split, range test)")
    p.add_argument("--train-seeds", type=int, default=5, help="trainings averaged per rate")
    p.add_argument("--json", default=None, help="write every case to this file")
    p.add_argument("--cache", default=None, help="pickle of training scores reused across runs (for rule work)")
    args = p.parse_args(argv)

    if args.quick:
        tasks, seeds, train_seeds = ["iris", "digits", "friedman"], [0], 3
    else:
        tasks = list(DESIGN_TASKS + HOLDOUT_TASKS)
        seeds, train_seeds = list(range(args.seeds)), args.train_seeds
    if args.tasks:
        tasks = args.tasks.split(",")
    optimizers = args.optimizers.split(",")
    grid = 10.0 ** np.linspace(-5, 1, 25)

    cache: dict = {}
    if args.cache and Path(args.cache).exists():
        import pickle

        cache = pickle.loads(Path(args.cache).read_bytes())
    logging.getLogger("lrsearch").setLevel(logging.ERROR)  # the finder's warnings are per case noise here
    t_start = time.perf_counter()
    warm = make_task("iris", 0)  # compile (or load) the kernels before timing anything
    find_lr(warm.X_train, warm.y_train, repeats=1, probes=1)
    cases = []
    for name in tasks:
        for seed in seeds:
            task = make_task(name, seed)
            for opt in optimizers:
                case = run_case(task, opt, seed, grid, [100 * seed + j for j in range(train_seeds)], cache)
                cases.append(case)
                r = case["rules"]
                print(f"{name:<13} {opt:<9} seed {seed}  best {case['best_lr']:8.2e} ({case['best_score']:.4f})  "
                      f"default {r['default']['lr']:8.2e} regret {r['default']['regret']:7.3f}  "
                      f"valley {r['valley']['regret']:7.3f}  find {case['find_seconds']:.2f}s "
                      f"train {case['train_seconds']:.2f}s", flush=True)  # fmt: skip
    total = time.perf_counter() - t_start

    names = RULES + ("oracle",)
    print()
    print(summarise(cases, names, f"all tasks ({len(cases)} cases: {len(tasks)} tasks x {len(optimizers)} "
                                  f"optimizers x {len(seeds)} seeds; {train_seeds} trainings per rate)"))  # fmt: skip
    design = [c for c in cases if c["task"] in DESIGN_TASKS]
    held = [c for c in cases if c["task"] in HOLDOUT_TASKS]
    if design and held:
        print()
        print(summarise(design, names, f"design tasks ({', '.join(DESIGN_TASKS)})"))
        print()
        print(summarise(held, names, f"held-out tasks ({', '.join(HOLDOUT_TASKS)})"))
    print()
    print(per_task(cases, names))
    find_t = np.median([c["find_seconds"] for c in cases])
    train_t = np.median([c["train_seconds"] for c in cases])
    steps = int(np.median([c["find_steps"] for c in cases]))
    print()
    print(f"time: default find_lr median {find_t:.3f}s ({steps} optimizer steps, 3 repeats x 100 + 4 probes x 50) "
          f"vs one full training ({EPOCHS} epochs) median {train_t:.3f}s; benchmark total {total:.0f}s")  # fmt: skip
    if args.cache:
        import pickle

        Path(args.cache).write_bytes(pickle.dumps(cache))
    if args.json:
        Path(args.json).write_text(json.dumps(cases, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
