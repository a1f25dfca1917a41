"""lrsearch's study against Optuna driving scikit-learn, worker scaling, and finder-aimed search.

Three measurements on digits (hidden (64,), batch 32, 30 epochs, validation loss):

``sklearn``  the same wall-clock time and the same number of worker processes (scikit-learn
             gets the whole wall time of the lrsearch command, start-up included):
             ``lrsearch study`` (full default space, median pruning) against Optuna
             (TPE, same seeds) driving scikit-learn's ``MLPClassifier`` over the closest
             space it offers: solver sgd/adam, ``learning_rate_init`` (log, per solver, the
             same bounds as lrsearch's sgd/adam), ``learning_rate`` constant/invscaling/
             adaptive and ``momentum`` (sgd), ``alpha=0`` (lrsearch's default has no weight
             decay), ``max_iter`` = epochs. scikit-learn has no per-epoch hook, so no pruning.
             Both sides run as processes on a journal file and pay their own start-up.
             Reported: trials finished, best validation loss, test accuracy of the best
             configuration retrained.
``scaling``  ``lrsearch study`` for the budget with 1 and with 2 workers, alternated:
             trials per minute (all finished, and complete only). Pruning off and on.
``aim``      per seed: a plain study of 100 trials, then a finder-aimed one; how many
             aimed trials reach the plain study's best-of-100 validation loss.

    python benchmarks/study_vs_sklearn.py                    # all three, 60 s budgets
    python benchmarks/study_vs_sklearn.py --part sklearn --budget 120 --json out.json

The machine's other load changes the numbers; the load average is printed with each row.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EPOCHS = 30
HIDDEN = (64,)
BATCH = 32


def _load() -> float:
    return float(open("/proc/loadavg").read().split()[0]) if os.path.exists("/proc/loadavg") else float("nan")


# -- lrsearch side: the CLI as a user runs it ---------------------------------------------


def run_cli(budget: float, n_jobs: int, storage: Path, *, seed: int = 0, pruner: str = "median") -> dict[str, Any]:
    cmd = [sys.executable, "-m", "lrsearch", "study", "--data", "digits", "--epochs", str(EPOCHS), "--hidden", "64",
           "--batch-size", str(BATCH), "--n-trials", "1000000", "--timeout", str(budget), "--n-jobs", str(n_jobs),
           "--seed", str(seed), "--pruner", pruner, "--storage", str(storage), "--study-name", "bench",
           "--json", "--no-progress"]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.time() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"lrsearch study failed: {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout)
    s = out["summary"]
    return {"wall_s": wall, "elapsed_s": s["elapsed_s"], "finished": s["complete"] + s["pruned"], "complete": s["complete"],
            "pruned": s["pruned"], "best_val_loss": out["best_value"],
            "test_accuracy": out["best_test_metrics"].get("accuracy"), "best": out["best_config"], "load": _load()}  # fmt: skip


# -- scikit-learn side ---------------------------------------------------------------------


def _sk_model(params: dict[str, Any], seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    kw: dict[str, Any] = {"solver": params["solver"]}
    if params["solver"] == "sgd":
        kw.update(learning_rate_init=params["lr_sgd"], learning_rate=params["learning_rate"], momentum=params["momentum"])
    else:
        kw.update(learning_rate_init=params["lr_adam"])
    return MLPClassifier(hidden_layer_sizes=HIDDEN, batch_size=BATCH, max_iter=EPOCHS, alpha=0.0, random_state=seed, **kw)


def _sk_objective(trial: Any, ds: Any, seed: int) -> float:
    import numpy as np
    from sklearn.metrics import log_loss

    solver = trial.suggest_categorical("solver", ["sgd", "adam"])
    params: dict[str, Any] = {"solver": solver}
    if solver == "sgd":
        params["lr_sgd"] = trial.suggest_float("lr_sgd", 1e-3, 1.0, log=True)
        params["learning_rate"] = trial.suggest_categorical("learning_rate", ["constant", "invscaling", "adaptive"])
        params["momentum"] = trial.suggest_float("momentum", 0.0, 0.99)
    else:
        params["lr_adam"] = trial.suggest_float("lr_adam", 1e-5, 0.1, log=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = _sk_model(params, seed).fit(ds.X_train, ds.y_train)
        proba = clf.predict_proba(ds.X_val)
    if not np.all(np.isfinite(proba)):
        raise ValueError("non-finite probabilities")
    trial.set_user_attr("val_accuracy", float(np.mean(np.argmax(proba, axis=1) == ds.y_val)))
    return float(log_loss(ds.y_val, proba, labels=list(range(ds.n_classes))))


def _sk_worker(path: str, ds: Any, seed: int, worker: int, deadline: float) -> int:
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="sk", storage=JournalStorage(JournalFileBackend(path)),
                              sampler=optuna.samplers.TPESampler(seed=seed * 1000 + worker, multivariate=True))  # fmt: skip
    study.optimize(lambda t: _sk_objective(t, ds, seed), timeout=max(0.0, deadline - time.time()), catch=(ValueError,))
    return len(study.trials)


def run_sklearn(budget: float, n_jobs: int, storage: Path, ds: Any, seed: int = 0) -> dict[str, Any]:
    import dataclasses

    import optuna
    from joblib import Parallel, delayed, parallel_config
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.time()
    deadline = t0 + budget
    optuna.create_study(study_name="sk", storage=JournalStorage(JournalFileBackend(str(storage))), direction="minimize")
    light = dataclasses.replace(ds, x_scaler=None)
    with parallel_config(backend="loky", inner_max_num_threads=1):
        Parallel(n_jobs=n_jobs)(delayed(_sk_worker)(str(storage), light, seed, w, deadline) for w in range(n_jobs))
    wall = time.time() - t0
    study = optuna.load_study(study_name="sk", storage=JournalStorage(JournalFileBackend(str(storage))))
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    best = study.best_trial
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = _sk_model(best.params, seed).fit(ds.X_train, ds.y_train)
    acc = float((clf.predict(ds.X_test) == ds.y_test).mean())
    return {"wall_s": wall, "finished": len(done), "complete": len(done), "best_val_loss": best.value,
            "test_accuracy": acc, "best": best.params, "load": _load()}  # fmt: skip


# -- finder-aimed against plain -------------------------------------------------------------


def run_aim(seeds: list[int], n_trials: int = 100) -> list[dict[str, Any]]:
    import optuna

    from lrsearch.data import load
    from lrsearch.search import run_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ds = load("digits", seed=0)
    rows = []
    for seed in seeds:
        common = {"storage": "memory", "n_trials": n_trials, "seed": seed, "epochs": EPOCHS, "hidden": list(HIDDEN),
                  "batch_size": BATCH, "results_path": False, "retrain": False}  # fmt: skip
        t0 = time.time()
        plain = run_study(ds, **common)
        t_plain = time.time() - t0
        t0 = time.time()
        aimed = run_study(ds, aim="finder", **common)
        t_aimed = time.time() - t0
        target = plain.best_value
        needed = None
        best = float("inf")
        for row in aimed.trials.sort_values("number").itertuples():
            if row.state == "COMPLETE" and row.value is not None:
                best = min(best, row.value)
            if best <= target:
                needed = int(row.number) + 1
                break
        finder_s = sum(getattr(rt, "seconds", 0.0) for rt in aimed.range_tests)
        plain_needed = int(plain.trials.loc[plain.trials["value"] == target, "number"].min()) + 1
        rows.append({"seed": seed, "plain_best": target, "plain_best_at": plain_needed, "aimed_best": aimed.best_value,
                     "aimed_trials_to_plain_best": needed, "finder_s": round(finder_s, 2),
                     "plain_s": round(t_plain, 1), "aimed_s": round(t_aimed, 1)})  # fmt: skip
        print(f"  seed {seed}: plain best-of-{n_trials} {target:.4f} (reached at trial {plain_needed}); aimed best "
              f"{aimed.best_value:.4f}; aimed trials to reach {target:.4f}: {needed if needed else f'>{n_trials}'} "
              f"(range tests {finder_s:.1f} s)", flush=True)  # fmt: skip
    return rows


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=60.0, help="seconds per study (default 60)")
    p.add_argument("--n-jobs", type=int, default=2, help="worker processes on each side (default 2)")
    p.add_argument("--part", choices=["all", "sklearn", "scaling", "aim"], default="all")
    p.add_argument("--repeats", type=int, default=2, help="scaling: alternations of 1 and 2 workers (default 2)")
    p.add_argument("--seeds", type=int, default=3, help="aim: seeds (default 3)")
    p.add_argument("--json", default=None, help="also write the numbers here")
    args = p.parse_args(argv)
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(tempfile.gettempdir(), "lrsearch-bench-numba"))
    results: dict[str, Any] = {"budget_s": args.budget, "n_jobs": args.n_jobs, "cpus": os.cpu_count()}
    tmp = Path(tempfile.mkdtemp(prefix="lrsearch-bench-"))
    # compile the kernels once, so that no measured run pays for it
    subprocess.run([sys.executable, "-m", "lrsearch", "study", "--data", "digits", "--n-trials", "2", "--storage", "memory",
                    "--no-progress", "--json"], env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True)  # fmt: skip

    if args.part in ("all", "sklearn"):
        from lrsearch.data import load

        ds = load("digits", seed=0)
        print(f"== same budget: {args.budget:.0f} s, {args.n_jobs} worker processes each, digits", flush=True)
        ours = run_cli(args.budget, args.n_jobs, tmp / "ours.journal")
        # scikit-learn gets the whole wall time lrsearch used, start-up, data loading and retraining included
        theirs = run_sklearn(ours["wall_s"], args.n_jobs, tmp / "sk.journal", ds)
        for name, r in (("lrsearch study", ours), ("optuna + sklearn MLP", theirs)):
            extra = f" ({r['complete']} complete, {r['pruned']} pruned)" if "pruned" in r else ""
            print(f"  {name:<22} trials {r['finished']:>6}{extra:<28} best val loss {r['best_val_loss']:.4f}  "
                  f"test accuracy {r['test_accuracy']:.4f}  wall {r['wall_s']:.1f} s  load {r['load']:.2f}")  # fmt: skip
        ratio = ours["finished"] / max(theirs["finished"], 1)
        print(f"  trials ratio {ratio:.1f}x; best val loss {ours['best_val_loss']:.4f} vs {theirs['best_val_loss']:.4f}",
              flush=True)  # fmt: skip
        results["sklearn"] = {"lrsearch": ours, "sklearn": theirs, "trials_ratio": ratio}

    if args.part in ("all", "scaling"):
        print(f"== scaling: {args.budget:.0f} s studies on digits, 1 vs {args.n_jobs} workers, alternated", flush=True)
        scaling: dict[str, Any] = {}
        for pruner in ("none", "median"):
            rates: dict[int, list[float]] = {1: [], args.n_jobs: []}
            complete_rates: dict[int, list[float]] = {1: [], args.n_jobs: []}
            for rep in range(args.repeats):
                for jobs in (1, args.n_jobs):
                    r = run_cli(args.budget, jobs, tmp / f"scale-{pruner}-{rep}-{jobs}.journal", pruner=pruner)
                    rate = r["finished"] / r["elapsed_s"] * 60
                    crate = r["complete"] / r["elapsed_s"] * 60
                    rates[jobs].append(rate)
                    complete_rates[jobs].append(crate)
                    print(f"  pruner {pruner:<6} workers {jobs}: {r['finished']:>5} trials ({r['complete']} complete) in "
                          f"{r['elapsed_s']:.1f} s = {rate:.0f}/min ({crate:.0f} complete/min)  load {r['load']:.2f}",
                          flush=True)  # fmt: skip
            ratio = statistics.median(rates[args.n_jobs]) / statistics.median(rates[1])
            cratio = statistics.median(complete_rates[args.n_jobs]) / statistics.median(complete_rates[1])
            pairs = [b / a for a, b in zip(rates[1], rates[args.n_jobs])]
            print(f"  pruner {pruner}: {args.n_jobs} workers / 1 worker = {ratio:.2f}x trials/min "
                  f"({cratio:.2f}x complete/min); per pair {', '.join(f'{x:.2f}' for x in pairs)}", flush=True)  # fmt: skip
            scaling[pruner] = {"rates": rates, "complete_rates": complete_rates, "ratio": ratio, "complete_ratio": cratio}
        results["scaling"] = scaling

    if args.part in ("all", "aim"):
        print(f"== finder-aimed vs plain on digits: trials to reach the plain study's best of 100 ({args.seeds} seeds)",
              flush=True)  # fmt: skip
        rows = run_aim(list(range(args.seeds)))
        needed = [r["aimed_trials_to_plain_best"] or 101 for r in rows]
        print(f"  median aimed trials needed: {statistics.median(needed)} (>100 counted as 101)")
        results["aim"] = rows

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
