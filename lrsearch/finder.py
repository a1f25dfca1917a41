"""The LR range test (draft)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lrsearch._finder_rules import Suggestion, ema, find_stop, lr_ladder
from lrsearch.exceptions import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Curve:
    """One range test: the ladder it ran, raw and smoothed losses, where and why it stopped."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    stop_index: int
    stop_reason: str
    num_iter: int
    seed: int


def _order(n_rows: int, n_needed: int, rng: np.random.Generator) -> np.ndarray:
    reps = -(-n_needed // n_rows)
    return np.concatenate([rng.permutation(n_rows) for _ in range(reps)])[:n_needed].astype(np.int64)


def run_curve(trainer, ladder, *, smoothing, diverge_threshold, rng, val=None, seed=0) -> Curve:
    snap = trainer.snapshot()
    bs = trainer.batch_size
    n = ladder.size
    order = _order(trainer.n_rows, n * bs, rng)
    try:
        if val is None:
            out = trainer.run_steps(order, ladder)
            raw = np.asarray(out.losses, dtype=np.float64)
        else:
            Xv, yv = val
            vals = []
            for k in range(n):
                vl, _ = trainer.evaluate(Xv, yv)
                vals.append(vl)
                if not math.isfinite(vl):
                    break
                out = trainer.run_steps(order[k * bs : (k + 1) * bs], ladder[k : k + 1])
                if out.status != "ok":
                    break
            raw = np.asarray(vals, dtype=np.float64)
    finally:
        trainer.restore(snap)
    sm = ema(raw, smoothing)
    stop, reason = find_stop(raw, sm, smoothing, diverge_threshold)
    if reason == "completed" and raw.size < n:
        reason = "loss exploded"
    m = stop + 1
    return Curve(ladder[:m].copy(), raw[:m], sm[:m], stop, reason, n, seed)
