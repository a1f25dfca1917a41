"""How good are the finder's suggestions? Regret against the best rate of a log grid.

For every task (built-in data sets and synthetic problems from ``tasks.py``),
every optimizer (SGD, momentum, Adam, RMSprop, AdaGrad) and every split seed:

1. ``find_lr`` runs with its defaults on the task's *training* rows only (its
   probes score on rows it holds out of them, never on the validation split the
   regret is measured on). The anchor rules read one range test of the same rows,
   seed and ladder (``find_lr``'s first repeat), run and *stopped as their
   libraries do* (:func:`peer_curves`): fastai ``valley`` and ``minimum``/10 on
   the bias-corrected EMA (beta 0.98) cut at fastai's 4x-best stop, steepest on
   torch-lr-finder's EMA (weight 0.05, no bias correction) cut at its 5x-best stop.
2. Every rate of a log grid (4 per decade, 1e-5 to 10: 25 rates) and every rule's
   suggested rate trains the task's network for a fixed budget (20 epochs, batch
   32, constant rate) from the same ``--train-seeds`` initialisations/shuffles
   (*paired*: every rate of a case sees the same seeds, checked bit-for-bit at
   start-up); a rate's score is the mean final validation loss over them. A run
   that diverges scores the loss of its initial network.
3. Per rule: regret = score / best grid score - 1 (the issue's definition); a
   *floored* regret, (score - best) / max(best, 0.05 x initial loss), which only
   differs where the best validation loss is near zero (a separable validation
   split, where the relative regret explodes); the distance in decades from the
   best grid rate; the share of grid rates that scored better; and a normalised
   regret, (score - best) / (worst - best), worst the larger of the initial loss
   and the grid's worst score.

Validation splits are large enough to measure on: the synthetic tasks validate on
2000 fresh rows from their generator; the built-in sets on their validation and
test rows (40%). iris and wine still validate on 60 to 72 rows: they run on five
splits and are also reported apart. An "oracle" row reads the best rate off one
training seed's grid and scores it on the other seeds' mean: the noise floor of
the measurement, per task too. Tasks come in four groups: design (used to choose
the rule), the first designer's held-out tasks (seen by later revisions), a
first fresh set (blind for the second revision, seen by the third) and a second
blind set (written after the third revision, run once with it).

Run ``python benchmarks/lr_quality.py`` (about 6 minutes on the shared 2-core
machine) or ``--quick`` (under a minute). ``--json FILE`` saves every case;
``--cache FILE`` keeps the trainings between runs.
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

from tasks import BLIND2_TASKS, DESIGN_TASKS, FRESH_TASKS, HOLDOUT_TASKS, SMALL_TASKS, Task, make_task  # noqa: E402

from lrsearch._finder_rules import ema  # noqa: E402
from lrsearch.finder import find_lr, range_test, suggest_min_div10, suggest_steepest, suggest_valley  # noqa: E402
from lrsearch.nn import Trainer, train  # noqa: E402

OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop", "adagrad")
RULES = ("default", "edge", "valley", "steepest", "min/10")
EPOCHS, BATCH = 20, 32
#: the floored regret divides by max(best grid score, FLOOR x the initial network's loss)
FLOOR = 0.05
#: the small real sets (validation split under 100 rows) run on this many more splits than the others
SMALL_EXTRA_SPLITS = 3


def torch_ema(losses: np.ndarray, smooth_f: float = 0.05) -> np.ndarray:
    """torch-lr-finder's smoothing: ``s_k = f*x_k + (1-f)*s_{k-1}``, ``s_0 = x_0`` (no bias correction)."""
    out = np.empty_like(losses)
    for k, x in enumerate(losses):
        out[k] = x if k == 0 else smooth_f * x + (1 - smooth_f) * out[k - 1]
    return out


def peer_curves(task: Task, optimizer: str, seed: int) -> tuple:
    """The anchors' single range test, run and stopped as their libraries do.

    The same test as ``find_lr``'s first repeat (same rows, seed, ladder 1e-7 to
    10 over 100 steps, batch 32), but with lrsearch's divergence test disabled, so
    that each peer's own stop applies: fastai stops after the first step whose
    bias-corrected EMA (beta 0.98) exceeds 4 times its best so far; torch-lr-finder
    after the first whose EMA (weight 0.05 on the new loss, no bias correction)
    exceeds 5 times its best. Both keep that last step. Returns
    ``(fastai_view, torch_view)`` curves for the anchor rules.
    """
    tr = Trainer(task.X_train, task.y_train, task=task.task, hidden=task.hidden, activation=task.activation,
                 optimizer=optimizer, batch_size=BATCH, seed=seed, n_classes=task.n_classes)  # fmt: skip
    c = range_test(tr, diverge_threshold=1e300, seed=seed)

    def cut(sm: np.ndarray, factor: float):
        best = np.minimum.accumulate(sm)
        over = np.nonzero(~(sm <= factor * best))[0]  # NaN counts as a stop, as in both libraries
        m = int(over[0]) + 1 if over.size else sm.size
        return replace(c, lrs=c.lrs[:m], losses=c.losses[:m], smoothed=sm[:m], stop_index=m - 1)

    return cut(ema(c.losses, 0.98), 4.0), cut(torch_ema(c.losses), 5.0)


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
             cache: dict | None = None, extra_rules: dict | None = None) -> dict:
    """One case. ``extra_rules`` maps a name to ``fn(task, optimizer, seed, result) -> rate`` (for rule research)."""
    t0 = time.perf_counter()
    res = find_lr(task.X_train, task.y_train, task=task.task, hidden=task.hidden, activation=task.activation,
                  optimizer=optimizer, seed=seed)  # fmt: skip
    find_seconds = time.perf_counter() - t0
    fastai_view, torch_view = peer_curves(task, optimizer, seed)
    rates = {
        "default": res.lr,
        "edge": res.suggestions["edge"].lr,
        "valley": suggest_valley(fastai_view).lr,
        "steepest": suggest_steepest(torch_view).lr,
        "min/10": suggest_min_div10(fastai_view).lr,
    }
    for name, fn in (extra_rules or {}).items():
        rates[name] = float(fn(task, optimizer, seed, res))
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
    init = float(np.mean(list(scorer.init_loss.values())))
    worst = max(init, float(grid_scores.max()))
    denom = max(best, FLOOR * init)
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
            "floored": (mean - best) / denom,
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
                       "floored": (others[pick] - others.min()) / max(others.min(), FLOOR * init),
                       "distance": abs(math.log10(grid[pick]) - math.log10(grid[int(np.argmin(others))]))})  # fmt: skip
    rules["oracle"] = {
        "lr": math.nan, "score": math.nan, "diverged": 0, "share_better": math.nan, "normalized": math.nan,
        "regret": float(np.mean([o["regret"] for o in oracle])),
        "floored": float(np.mean([o["floored"] for o in oracle])),
        "distance": float(np.median([o["distance"] for o in oracle])),
    }  # fmt: skip
    return {
        "task": task.name, "optimizer": optimizer, "seed": seed, "best_lr": best_lr, "best_score": best,
        "grid": grid.tolist(), "grid_scores": grid_scores.tolist(), "rules": rules, "init_loss": init,
        "n_val": int(len(task.X_val)), "grid_per_seed": per_seed.tolist(),
        "find_seconds": find_seconds, "find_steps": res.steps,
        "train_seconds": train_seconds, "warnings": list(res.warnings),
        "spread": res.spread_decades,
    }  # fmt: skip


COLUMNS = ("median regret", "mean regret", "median floored", "mean floored", "median dist", "share better",
           "norm. regret", "diverged")


def stats(cases: list[dict], name: str) -> dict[str, float]:
    """The summary numbers of rule ``name`` over ``cases``."""
    r = [c["rules"][name] for c in cases]
    reg = np.array([x["regret"] for x in r])
    flo = np.array([x["floored"] for x in r])
    share = np.array([x["share_better"] for x in r], dtype=float)
    norm = np.array([x["normalized"] for x in r], dtype=float)
    return {
        "median regret": float(np.median(reg)), "mean regret": float(np.mean(reg)),
        "median floored": float(np.median(flo)), "mean floored": float(np.mean(flo)),
        "median dist": float(np.median([x["distance"] for x in r])),
        "share better": float(np.nanmean(share)) if np.isfinite(share).any() else math.nan,
        "norm. regret": float(np.nanmean(norm)) if np.isfinite(norm).any() else math.nan,
        "diverged": float(sum(x["diverged"] > 0 for x in r)),
    }  # fmt: skip


def summarise(cases: list[dict], names: tuple[str, ...], title: str) -> str:
    lines = [title, f"{'rule':<10}" + "".join(f"{c:>15}" for c in COLUMNS)]
    for name in names:
        st = stats(cases, name)
        cells = []
        for c in COLUMNS:
            v = st[c]
            cells.append(f"{'-':>15}" if not math.isfinite(v) else f"{int(v):15d}" if c == "diverged"
                         else f"{v:15.3f}")  # fmt: skip
        lines.append(f"{name:<10}" + "".join(cells))
    return "\n".join(lines)


def per_task(cases: list[dict], names: tuple[str, ...], key: str = "regret") -> str:
    tasks = list(dict.fromkeys(c["task"] for c in cases))
    lines = [f"median {key} per task (oracle = the noise floor: one training seed's grid choice)",
             f"{'task':<14}{'cases':>6}{'val rows':>9}" + "".join(f"{n:>10}" for n in names)]
    for t in tasks:
        sub = [c for c in cases if c["task"] == t]
        lines.append(f"{t:<14}{len(sub):6d}{sub[0].get('n_val', 0):9d}"
                     + "".join(f"{np.median([c['rules'][n][key] for c in sub]):10.3f}" for n in names))  # fmt: skip
    return "\n".join(lines)


def check_paired(task: Task, optimizer: str = "adam") -> None:
    """Every rate of a case trains from the same initialisations and shuffles: a rerun must be bit-identical."""
    a = train(task.X_train, task.y_train, X_val=task.X_val, y_val=task.y_val, task=task.task, hidden=task.hidden,
              activation=task.activation, optimizer=optimizer, lr=1e-3, epochs=2, batch_size=BATCH, seed=7,
              n_classes=task.n_classes, compute_metrics=False)  # fmt: skip
    b = train(task.X_train, task.y_train, X_val=task.X_val, y_val=task.y_val, task=task.task, hidden=task.hidden,
              activation=task.activation, optimizer=optimizer, lr=1e-3, epochs=2, batch_size=BATCH, seed=7,
              n_classes=task.n_classes, compute_metrics=False)  # fmt: skip
    if list(a.val_loss) != list(b.val_loss):
        raise SystemExit("trainings are not reproducible: the benchmark's pairing across rates is broken")


GROUPS = {
    "design": DESIGN_TASKS,
    "held-out (first designer's)": HOLDOUT_TASKS,
    "first fresh set (blind in session 1, seen in session 2)": FRESH_TASKS,
    "second blind set (session 2: run once)": BLIND2_TASKS,
}


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
        tasks = list(DESIGN_TASKS + HOLDOUT_TASKS + FRESH_TASKS + BLIND2_TASKS)
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
    check_paired(warm)
    cases = []
    for name in tasks:
        task_seeds = seeds + [max(seeds) + 1 + k for k in range(SMALL_EXTRA_SPLITS)] if (
            name in SMALL_TASKS and not args.quick) else seeds  # fmt: skip
        for seed in task_seeds:
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
    print(f"regret = score / best grid score - 1; floored = (score - best) / max(best, {FLOOR} x initial loss); "
          f"paired: every rate of a case trains from the same {train_seeds} seeds")  # fmt: skip
    print()
    print(summarise(cases, names, f"all tasks ({len(cases)} cases: {len(tasks)} tasks x {len(optimizers)} "
                                  f"optimizers x {len(seeds)}+ splits; {train_seeds} trainings per rate)"))  # fmt: skip
    big = [c for c in cases if c["task"] not in SMALL_TASKS]
    small = [c for c in cases if c["task"] in SMALL_TASKS]
    if big and small:
        print()
        print(summarise(big, names, f"validation split >= 178 rows (all but {', '.join(SMALL_TASKS)})"))
        print()
        n_splits = len({c["seed"] for c in small})
        print(summarise(small, names, f"small real sets ({', '.join(SMALL_TASKS)}: 60 to 72 validation rows, "
                                      f"{n_splits} splits)"))  # fmt: skip
    for title, members in GROUPS.items():
        sub = [c for c in cases if c["task"] in members]
        if sub and len(sub) < len(cases):
            print()
            print(summarise(sub, names, f"{title}: {', '.join(members)}"))
    print()
    print(per_task(cases, names))
    print()
    print(per_task(cases, names, "floored"))
    find_t = np.median([c["find_seconds"] for c in cases])
    train_t = np.median([c["train_seconds"] for c in cases])
    steps = int(np.median([c["find_steps"] for c in cases]))
    print()
    print(f"time: default find_lr median {find_t:.3f}s ({steps} optimizer steps) "
          f"vs one full training ({EPOCHS} epochs) median {train_t:.3f}s; benchmark total {total:.0f}s")  # fmt: skip
    if args.cache:
        import pickle

        Path(args.cache).write_bytes(pickle.dumps(cache))
    if args.json:
        Path(args.json).write_text(json.dumps(cases, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
