"""lrsearch's study against Optuna driving scikit-learn, worker scaling, and finder-aimed search.

Three measurements (hidden (64,), batch 32, 30 epochs, validation loss; digits unless told):

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
``scaling``  ``lrsearch study`` of the same number of trials (800) with 1 and with 2 workers,
             alternated: trials per minute (finished: complete or pruned), and the CPU the
             workers spent per trial. Equal trial counts, because TPE's cost per trial grows
             with the study (a fixed time budget would charge the faster setting for its
             extra trials). Before and after, plain training in 1 and 2 processes shows what
             the shared machine allows right now. Pruning off and on.
``aim``      per data set (``--aim-data``, default digits and diabetes) and seed: a plain study
             of 100 trials, then a finder-aimed one; how many aimed trials reach the plain
             study's best-of-100 validation loss (target: at most 30).

    python benchmarks/study_vs_sklearn.py                    # all three, 60 s budgets
    python benchmarks/study_vs_sklearn.py --part sklearn --budget 120 --json out.json

The machine's other load changes the numbers; the load average is printed with each row.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
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


def run_cli(budget: float | None, n_jobs: int, storage: Path, *, seed: int = 0, pruner: str = "median",
            n_trials: int = 1_000_000, sampler: str = "tpe") -> dict[str, Any]:  # fmt: skip
    cmd = [sys.executable, "-m", "lrsearch", "study", "--data", "digits", "--epochs", str(EPOCHS), "--hidden", "64",
           "--batch-size", str(BATCH), "--n-trials", str(n_trials), "--n-jobs", str(n_jobs),
           "--seed", str(seed), "--pruner", pruner, "--sampler", sampler, "--storage", str(storage),
           "--study-name", "bench", "--json", "--no-progress",
           "--results", str(storage.with_suffix(".json"))]  # one results file per journal: every study is "bench"  # fmt: skip
    if budget is not None:
        cmd += ["--timeout", str(budget)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.time() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"lrsearch study failed: {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout)
    s = out["summary"]
    return {"wall_s": wall, "elapsed_s": s["elapsed_s"], "cpu_s": s.get("worker_cpu_s"), "epochs": _epochs_run(storage),
            "finished": s["complete"] + s["pruned"], "complete": s["complete"],
            "pruned": s["pruned"], "best_val_loss": out["best_value"],
            "test_accuracy": out["best_test_metrics"].get("accuracy"), "best": out["best_config"], "load": _load()}  # fmt: skip


def _epochs_run(storage: Path) -> int:
    """Epochs trained by all trials of the study "bench" in a journal file (pruned trials stop early)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    study = optuna.load_study(study_name="bench", storage=optuna.storages.JournalStorage(JournalFileBackend(str(storage))))
    return sum(int(t.user_attrs.get("epochs_run") or 0) for t in study.get_trials(deepcopy=False))


# -- scikit-learn side ---------------------------------------------------------------------


def _sk_model(params: dict[str, Any], seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    kw: dict[str, Any] = {"solver": params["solver"]}
    if params["solver"] == "sgd":
        kw.update(
            learning_rate_init=params["lr_sgd"], learning_rate=params["learning_rate"], momentum=params["momentum"]
        )
    else:
        kw.update(learning_rate_init=params["lr_adam"])
    return MLPClassifier(
        hidden_layer_sizes=HIDDEN, batch_size=BATCH, max_iter=EPOCHS, alpha=0.0, random_state=seed, **kw
    )


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

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # diverged fits are failed trials, not news
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
    failed = [t for t in study.trials if t.state.name == "FAIL"]  # diverged fits: finished trials too
    best = study.best_trial
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = _sk_model(best.params, seed).fit(ds.X_train, ds.y_train)
    acc = float((clf.predict(ds.X_test) == ds.y_test).mean())
    return {"wall_s": wall, "finished": len(done) + len(failed), "complete": len(done), "failed": len(failed),
            "best_val_loss": best.value,
            "test_accuracy": acc, "best": best.params, "load": _load()}  # fmt: skip


# -- what the machine allows --------------------------------------------------------------

_TRAIN_LOOP = """
import sys, time
from lrsearch.data import load
from lrsearch.nn import train
ds = load("digits")
train(ds.X_train, ds.y_train, X_val=ds.X_val, y_val=ds.y_val, n_classes=10, epochs=1, compute_metrics=False)
t, n = time.time(), 0
while time.time() - t < float(sys.argv[1]):
    train(ds.X_train, ds.y_train, X_val=ds.X_val, y_val=ds.y_val, n_classes=10, epochs=30, compute_metrics=False, seed=n)
    n += 1
print(n / (time.time() - t))
"""


def machine_ceiling(n_procs: int, seconds: float = 8.0) -> float:
    """Plain training runs (no Optuna) in ``n_procs`` processes at once vs one: the speed-up this
    machine gives right now (other jobs on a shared machine take their share)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")

    def rate(k: int) -> float:
        procs = [subprocess.Popen([sys.executable, "-c", _TRAIN_LOOP, str(seconds)], env=env, stdout=subprocess.PIPE,
                                  text=True) for _ in range(k)]  # fmt: skip
        return sum(float(p.communicate()[0]) for p in procs)

    return rate(n_procs) / rate(1)


# -- finder-aimed against plain -------------------------------------------------------------


CHECKPOINTS = (10, 30, 100)  # trials at which the aimed and the plain study's best so far are compared


def _best_so_far(trials: Any) -> list[float]:
    """Best value among the first k trials, for k = 1..len (inf until a trial completes)."""
    best, out = float("inf"), []
    for row in trials.sort_values("number").itertuples():
        if row.state == "COMPLETE" and row.value is not None and row.value == row.value:
            best = min(best, float(row.value))
        out.append(best)
    return out


def aim_summary(rows: list[dict[str, Any]]) -> str:
    """Median over seeds of the aimed study's best after k trials relative to the plain study's (same seed)."""
    parts = []
    for k in CHECKPOINTS[:2]:
        same = statistics.median(r[f"aimed_best_{k}"] / r[f"plain_best_{k}"] - 1 for r in rows)
        full = statistics.median(r[f"aimed_best_{k}"] / r["plain_best"] - 1 for r in rows)
        won = sum(r[f"aimed_best_{k}"] <= r[f"plain_best_{k}"] for r in rows)
        parts.append(f"after {k}: {same:+.1%} vs plain's first {k} (aimed better or equal on {won}/{len(rows)}), "
                     f"{full:+.1%} vs plain's best of all its trials")  # fmt: skip
    return "aimed best, median over seeds: " + "; ".join(parts)


@contextlib.contextmanager
def _other_sampler_seed(offset: int = 1000):
    """Studies in this block draw with other sampler seeds; the trials' training seed (the study's) is kept."""
    from lrsearch.search import workers

    original = workers.make_sampler

    def shifted(name: str, seed: int, *args: Any, **kwargs: Any) -> Any:
        return original(name, seed + offset, *args, **kwargs)

    workers.make_sampler = shifted
    try:
        yield
    finally:
        workers.make_sampler = original


def run_aim(seeds: list[int], n_trials: int = 100, data: str = "digits", replica: bool = False) -> list[dict[str, Any]]:
    """Plain and aimed studies per seed; ``replica``: also a second plain study that differs from the first only in
    its sampler seed, to calibrate "trials to reach the plain study's best" (what an independent draw needs)."""
    import optuna

    from lrsearch.data import load
    from lrsearch.search import run_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("lrsearch.finder").setLevel(logging.ERROR)  # its advice on rough suggestions is not news here
    ds = load(data, seed=0)
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
        curve_p, curve_a = _best_so_far(plain.trials), _best_so_far(aimed.trials)
        needed = next((k + 1 for k, best in enumerate(curve_a) if best <= target), None)
        replica_needed = None
        if replica:
            with _other_sampler_seed():
                twin = run_study(ds, **common)
            replica_needed = next((k + 1 for k, best in enumerate(_best_so_far(twin.trials)) if best <= target), None)
        finder_s = sum(getattr(rt, "seconds", 0.0) for rt in aimed.range_tests)
        plain_needed = int(plain.trials.loc[plain.trials["value"] == target, "number"].min()) + 1
        rows.append({"data": data, "seed": seed, "plain_best": target, "plain_best_at": plain_needed, "aimed_best": aimed.best_value,
                     "aimed_trials_to_plain_best": needed, "replica_trials_to_plain_best": replica_needed,
                     "finder_s": round(finder_s, 2),
                     "plain_s": round(t_plain, 1), "aimed_s": round(t_aimed, 1),
                     **{f"plain_best_{k}": curve_p[min(k, len(curve_p)) - 1] for k in CHECKPOINTS},
                     **{f"aimed_best_{k}": curve_a[min(k, len(curve_a)) - 1] for k in CHECKPOINTS}})  # fmt: skip
        print(f"  {data} seed {seed}: plain best-of-{n_trials} {target:.4f} (reached at trial {plain_needed}); aimed best "
              f"{aimed.best_value:.4f}; aimed trials to reach {target:.4f}: {needed if needed else f'>{n_trials}'} "
              f"(range tests {finder_s:.1f} s)"
              + (f"; replica plain study: {replica_needed or f'>{n_trials}'}" if replica else ""), flush=True)  # fmt: skip
    return rows


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=60.0, help="seconds per study (default 60)")
    p.add_argument("--n-jobs", type=int, default=2, help="worker processes on each side (default 2)")
    p.add_argument("--part", choices=["all", "sklearn", "scaling", "aim"], default="all")
    p.add_argument("--repeats", type=int, default=3, help="scaling: alternations of 1 and 2 workers (default 3)")
    p.add_argument("--scaling-trials", type=int, default=800, help="scaling: trials per study (default 800)")
    p.add_argument("--random-too", action="store_true", help="sklearn: also run lrsearch with the random sampler")
    p.add_argument("--pruners", default="none,median", help="scaling: pruners to measure with (default none,median)")
    p.add_argument("--seeds", type=int, default=24, help="aim: seeds 0..N-1 (default 24)")
    p.add_argument("--aim-data", default="digits,diabetes",
                   help="aim: built-in data sets, comma-separated (default digits,diabetes)")  # fmt: skip
    p.add_argument("--replica", action="store_true",
                   help="aim: also run a plain study with another sampler seed, the calibration of the target")
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
            extra = (f" ({r['complete']} complete, {r['pruned']} pruned)" if "pruned" in r
                     else f" ({r['complete']} complete, {r['failed']} diverged)")  # fmt: skip
            print(f"  {name:<22} trials {r['finished']:>6}{extra:<28} best val loss {r['best_val_loss']:.4f}  "
                  f"test accuracy {r['test_accuracy']:.4f}  wall {r['wall_s']:.1f} s  load {r['load']:.2f}")  # fmt: skip
        ratio = ours["finished"] / max(theirs["finished"], 1)
        print(f"  trials ratio {ratio:.1f}x; best val loss {ours['best_val_loss']:.4f} vs {theirs['best_val_loss']:.4f}",
              flush=True)  # fmt: skip
        results["sklearn"] = {"lrsearch": ours, "sklearn": theirs, "trials_ratio": ratio}
        if args.random_too:  # how much of lrsearch's time TPE takes: the same study with random sampling
            rnd = run_cli(args.budget, args.n_jobs, tmp / "random.journal", sampler="random")
            print(f"  {'lrsearch, random':<22} trials {rnd['finished']:>6} ({rnd['complete']} complete, {rnd['pruned']} pruned)"
                  f"  best val loss {rnd['best_val_loss']:.4f}  test accuracy {rnd['test_accuracy']:.4f}  "
                  f"load {rnd['load']:.2f}", flush=True)  # fmt: skip
            results["sklearn"]["lrsearch_random"] = rnd

    if args.part in ("all", "scaling"):
        n = args.scaling_trials
        print(
            f"== scaling: time to run {n} trials on digits with 1 and with {args.n_jobs} workers, alternated",
            flush=True,
        )
        ceiling = machine_ceiling(args.n_jobs)
        print(f"  machine now: {args.n_jobs} processes of plain training run {ceiling:.2f}x one "
              f"(load {_load():.2f}); that bounds any speed-up below", flush=True)  # fmt: skip
        scaling: dict[str, Any] = {"ceiling_before": ceiling, "n_trials": n}
        for pruner in args.pruners.split(","):
            rows: dict[int, list[dict[str, float]]] = {1: [], args.n_jobs: []}
            for rep in range(args.repeats):
                for jobs in (1, args.n_jobs):
                    # each pair shares a seed and the seed changes between pairs: the 1-worker side samples
                    # the study-to-study variation (how many trials the pruner stops) as the 2-worker side does
                    r = run_cli(None, jobs, tmp / f"scale-{pruner}-{rep}-{jobs}.journal", pruner=pruner, n_trials=n,
                                seed=rep)
                    row = {"elapsed_s": r["elapsed_s"], "per_min": r["finished"] / r["elapsed_s"] * 60,
                           "per_cpu_min": r["finished"] / r["cpu_s"] * 60, "complete": r["complete"], "load": r["load"],
                           "epochs_per_min": r["epochs"] / r["elapsed_s"] * 60}  # fmt: skip
                    rows[jobs].append(row)
                    print(f"  pruner {pruner:<6} workers {jobs}: {r['finished']} trials ({r['complete']} complete) in "
                          f"{r['elapsed_s']:.1f} s = {row['per_min']:.0f}/min ({row['epochs_per_min']:.0f} epochs/min); "
                          f"{row['per_cpu_min']:.0f} per worker-CPU-minute; "
                          f"load {r['load']:.2f}", flush=True)  # fmt: skip

            def med(jobs: int, key: str, rows: dict[int, list[dict[str, float]]] = rows) -> float:
                return statistics.median(x[key] for x in rows[jobs])

            ratio = med(args.n_jobs, "per_min") / med(1, "per_min")
            eff = med(args.n_jobs, "per_cpu_min") / med(1, "per_cpu_min")
            work = med(args.n_jobs, "epochs_per_min") / med(1, "epochs_per_min")
            pairs = [b["per_min"] / a["per_min"] for a, b in zip(rows[1], rows[args.n_jobs])]
            print(f"  pruner {pruner}: {args.n_jobs} workers / 1 worker = {ratio:.2f}x trials/min (per pair "
                  f"{', '.join(f'{x:.2f}' for x in pairs)}); {work:.2f}x epochs/min (pruning stops trials at "
                  f"different epochs in the two runs); CPU per trial {1 / eff:.2f}x one worker's", flush=True)  # fmt: skip
            scaling[pruner] = {"rows": rows, "ratio": ratio, "pairs": pairs, "cpu_efficiency": eff,
                               "epochs_ratio": work}  # fmt: skip
        scaling["ceiling_after"] = machine_ceiling(args.n_jobs)
        print(f"  machine after: {args.n_jobs} processes of plain training run {scaling['ceiling_after']:.2f}x one "
              f"(load {_load():.2f})", flush=True)  # fmt: skip
        results["scaling"] = scaling

    if args.part in ("all", "aim"):
        results["aim"] = []
        for data in args.aim_data.split(","):
            print(f"== finder-aimed vs plain on {data}: trials to reach the plain study's best of 100 "
                  f"({args.seeds} seeds)", flush=True)  # fmt: skip
            rows = run_aim(list(range(args.seeds)), data=data, replica=args.replica)
            needed = [r["aimed_trials_to_plain_best"] or 101 for r in rows]
            print(f"  {data}: aimed trials needed {needed}; median {statistics.median(needed)} (>100 counted as 101); "
                  f"at most 30 on {sum(n <= 30 for n in needed)} of {len(needed)} seeds", flush=True)  # fmt: skip
            if args.replica:
                twin = [r["replica_trials_to_plain_best"] or 101 for r in rows]
                print(f"  {data}: replica plain studies (another sampler seed) needed {twin}; median "
                      f"{statistics.median(twin)}; at most 30 on {sum(n <= 30 for n in twin)} of {len(twin)} seeds",
                      flush=True)  # fmt: skip
            print(f"  {data}: {aim_summary(rows)}", flush=True)
            results["aim"] += rows

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
