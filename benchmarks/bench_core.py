"""Speed of one training epoch: lrsearch against scikit-learn and PyTorch, same run.

One Adam epoch, softmax cross-entropy, float32, the same network and batch size
in every engine, with 1 thread per engine and again with 2. Prints samples/s,
the ratios, lrsearch's achieved GFLOP/s as a share of a NumPy float32 matrix
product timed in the same run, start-up times, and the joblib scaling of two
trainings. The machine is shared and noisy: read the ratios, not the times.

    python benchmarks/bench_core.py                 # everything
    python benchmarks/bench_core.py --workloads S --threads 1 --skip-startup
    python benchmarks/bench_core.py --json results.json

PyTorch is optional (``pip install torch==2.13.0``); without it its columns are empty.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401  (the BLAS numba calls: load it before limiting threads)
from threadpoolctl import threadpool_limits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TARGETS = {  # workload: (min ratio to sklearn, min ratio to torch), 1 thread each
    "S": (6.0, 8.0),
    "M": (2.0, 1.5),
    "L": (1.4, 1.0),
}


@dataclass(frozen=True)
class Workload:
    name: str
    n: int
    d: int
    hidden: tuple[int, ...]
    k: int
    batch: int

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        if self.name == "S":
            from sklearn.datasets import load_digits

            X, y = load_digits(return_X_y=True)
            X = (X - X.mean(0)) / (X.std(0) + 1e-6)
            return X.astype(np.float32), y.astype(np.int64)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(self.n, self.d)).astype(np.float32)
        W = rng.normal(size=(self.d, self.k))
        y = np.argmax(X @ W + rng.normal(scale=2.0, size=(self.n, self.k)), axis=1).astype(np.int64)
        return X, y

    def flops_per_sample(self) -> float:
        sizes = (self.d, *self.hidden, self.k)
        macs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
        # forward 2*mac; backward: dW 2*mac for all, dA 2*mac for all but the first layer
        return 2.0 * sum(macs) + 2.0 * sum(macs) + 2.0 * sum(macs[1:])


WORKLOADS = {
    "S": Workload("S", 1797, 64, (128,), 10, 32),
    "M": Workload("M", 20000, 100, (256, 256), 10, 128),
    "L": Workload("L", 30000, 784, (512, 256), 10, 256),
}


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def lrsearch_epoch(w: Workload, X: np.ndarray, y: np.ndarray):
    """A function running one lrsearch Adam epoch (compiled and warmed)."""
    from lrsearch.nn import Trainer

    tr = Trainer(X, y, hidden=w.hidden, optimizer="adam", batch_size=w.batch, dtype="float32")
    rng = np.random.default_rng(0)
    rates = np.full(tr.steps_per_epoch, 1e-3)

    def epoch():
        tr.run_steps(rng.permutation(tr.n_rows), rates)

    epoch()
    return epoch


def sklearn_epoch(w: Workload, X: np.ndarray, y: np.ndarray):
    """One scikit-learn MLPClassifier epoch (``partial_fit``, solver adam)."""
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=w.hidden, solver="adam", batch_size=w.batch, learning_rate_init=1e-3,
                        random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(X, y, classes=np.unique(y))

    def epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(X, y)

    return epoch


def torch_epoch(w: Workload, X: np.ndarray, y: np.ndarray, threads: int):
    """One PyTorch epoch (Linear/ReLU, Adam, CrossEntropyLoss, shuffled batches), or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    sizes = (w.d, *w.hidden, w.k)
    layers: list = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)
    n = X.shape[0]

    def epoch():
        perm = torch.randperm(n)
        for start in range(0, n, w.batch):
            idx = perm[start : start + w.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    epoch()
    return epoch


def interleaved_best(fns: dict, repeats: int) -> dict:
    """Best-of-``repeats`` time of each function, the engines taking turns in every round,
    so that a burst of load from elsewhere hits them all alike."""
    best = {k: float("inf") for k, f in fns.items() if f is not None}
    for _ in range(repeats):
        for k in best:
            t0 = time.perf_counter()
            fns[k]()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def matmul_gflops(repeats: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(512, 1024)).astype(np.float32)
    b = rng.normal(size=(1024, 1024)).astype(np.float32)
    a @ b
    t = best_time(lambda: a @ b, max(repeats, 5))
    return 2.0 * 512 * 1024 * 1024 / t / 1e9


def run_speed(workloads: list[str], threads: list[int], repeats: int) -> list[dict]:
    import numba

    rows = []
    for t in threads:
        with threadpool_limits(limits=t):
            numba.set_num_threads(min(t, numba.config.NUMBA_NUM_THREADS))
            peak = matmul_gflops(repeats)
            for name in workloads:
                w = WORKLOADS[name]
                X, y = w.data()
                n = X.shape[0]
                fns = {"lrsearch": lrsearch_epoch(w, X, y), "sklearn": sklearn_epoch(w, X, y),
                       "torch": torch_epoch(w, X, y, t)}  # fmt: skip
                best = interleaved_best(fns, repeats)
                ours, sk, th = best["lrsearch"], best["sklearn"], best.get("torch")
                gflops = w.flops_per_sample() * n / ours / 1e9
                row = {
                    "workload": name, "threads": t, "lrsearch": n / ours, "sklearn": n / sk,
                    "torch": (n / th) if th else None, "vs_sklearn": sk / ours,
                    "vs_torch": (th / ours) if th else None, "gflops": gflops, "peak_gflops": peak,
                    "share_of_matmul": gflops / peak,
                }  # fmt: skip
                rows.append(row)
                print_row(row)
    return rows


def print_row(r: dict) -> None:
    torch_s = f"{r['torch'] / 1e3:8.0f}k" if r["torch"] else "       -"
    vs_t = f"{r['vs_torch']:6.2f}x" if r["vs_torch"] else "     -"
    target = TARGETS[r["workload"]]
    print(
        f"{r['workload']}  threads={r['threads']}  lrsearch {r['lrsearch'] / 1e3:8.0f}k  sklearn {r['sklearn'] / 1e3:8.0f}k"
        f"  torch {torch_s} samples/s | vs sklearn {r['vs_sklearn']:6.2f}x (target {target[0]}x)"
        f"  vs torch {vs_t} (target {target[1]}x) | {r['gflops']:6.1f} GFLOP/s = {100 * r['share_of_matmul']:4.1f}% "
        f"of matmul ({r['peak_gflops']:.0f})",
        flush=True,
    )


_STARTUP = r"""
import time, sys
t0 = time.perf_counter()
import lrsearch
t_import = time.perf_counter() - t0
import numpy as np
from lrsearch.nn import train
t_core = time.perf_counter() - t0
rng = np.random.default_rng(0)
X = rng.normal(size=(256, 20)).astype(np.float32); y = (X[:, 0] > 0).astype(np.int64)
t1 = time.perf_counter()
train(X, y, hidden=(32,), epochs=1, compute_metrics=False)
t_train = time.perf_counter() - t1
print(t_import, t_core, t_train, time.perf_counter() - t0)
"""


def run_startup() -> dict:
    cache = tempfile.mkdtemp(prefix="lrsearch-bench-cache-")
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": ROOT}
    out = {}
    for label in ("cold", "warm"):
        res = subprocess.run([sys.executable, "-c", _STARTUP], env=env, capture_output=True, text=True, check=True)
        imp, core, first, total = map(float, res.stdout.split())
        out[label] = {"import_s": imp, "import_core_s": core, "first_training_s": first, "process_s": total}
    print(f"import lrsearch: {out['warm']['import_s']:.4f} s (target < 0.5 s)")
    print(f"import lrsearch.nn (numpy + numba): {out['warm']['import_core_s']:.3f} s")
    print(f"first training, fresh cache (compile): {out['cold']['first_training_s']:.2f} s (target < 10 s)")
    print(f"first training, warm cache: {out['warm']['first_training_s']:.2f} s (target < 1 s)")
    return out


def _one_training(seed: int) -> float:
    os.environ["OMP_NUM_THREADS"] = "1"
    from threadpoolctl import threadpool_limits as limits

    from lrsearch.nn import train

    w = WORKLOADS["M"]
    X, y = w.data()
    with limits(limits=1):
        t0 = time.perf_counter()
        train(X, y, hidden=w.hidden, batch_size=w.batch, epochs=6, seed=seed, compute_metrics=False)
        return time.perf_counter() - t0


def run_joblib() -> dict:
    from joblib import Parallel, delayed

    _one_training(0)  # warm the cache in the parent
    t0 = time.perf_counter()
    for s in (1, 2):
        _one_training(s)
    sequential = time.perf_counter() - t0
    with Parallel(n_jobs=2, backend="loky") as par:
        par(delayed(_one_training)(s) for s in (3, 4))  # start workers, load the cache
        t0 = time.perf_counter()
        par(delayed(_one_training)(s) for s in (1, 2))
        parallel = time.perf_counter() - t0
    ratio = parallel / sequential
    print(f"two trainings in 2 joblib workers: {parallel:.2f} s vs {sequential:.2f} s one after the other "
          f"= {ratio:.2f}x (target <= 0.6x)")  # fmt: skip
    return {"parallel_s": parallel, "sequential_s": sequential, "ratio": ratio}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", nargs="+", default=["S", "M", "L"], choices=sorted(WORKLOADS))
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-startup", action="store_true")
    ap.add_argument("--skip-joblib", action="store_true")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    results: dict = {}
    if not args.skip_startup:
        results["startup"] = run_startup()
    results["speed"] = run_speed(args.workloads, args.threads, args.repeats)
    if not args.skip_joblib:
        results["joblib"] = run_joblib()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
