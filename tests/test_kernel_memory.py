"""The epoch kernel allocates nothing per minibatch (Numba's NRT allocation counter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = r"""
import numpy as np
from numba.core.runtime import rtsys
from lrsearch.nn import Trainer

rng = np.random.default_rng(0)
X = rng.normal(size=(400, 12)).astype(np.float32)
y = rng.integers(0, 3, 400)
w = rng.uniform(0.5, 2.0, 400)  # the weighted path: a batch's weights are a view of the epoch's, not a copy
runs = [(opt, opt, None) for opt in ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw")]
for label, opt, weights in runs + [("adam+sample_weight", "adam", w)]:
    tr = Trainer(X, y, hidden=(16, 8), optimizer=opt, batch_size=10, clip_norm=1.0, sample_weight=weights)
    order = rng.permutation(400)
    tr.run_steps(order[:10], np.full(1, 1e-3))  # compile
    counts = []
    for n_batches in (1, 40):
        before = rtsys.get_allocation_stats().alloc
        tr.run_steps(order[: 10 * n_batches], np.full(n_batches, 1e-3))
        counts.append(rtsys.get_allocation_stats().alloc - before)
    print(label, counts[0], counts[1])
"""


def test_no_allocation_per_minibatch():
    env = {**os.environ, "NUMBA_NRT_STATS": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.strip().splitlines()]
    assert len(rows) == 7
    for opt, one, forty in rows:
        # the same (small, per call) number of allocations for 1 batch and for 40
        assert int(one) == int(forty), (opt, one, forty)
        # what remains per call is the wrapping of the array arguments (about 20 of them)
        assert int(one) <= 32, (opt, one)
