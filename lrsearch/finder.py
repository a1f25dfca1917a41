"""The LR range test: which learning rate should this network use with this optimizer?

:func:`find_lr` runs short trainings in which the rate grows along a ladder
from ``start_lr`` to ``end_lr`` (one rate per minibatch, all steps of a test in
one jitted call of the core), records the loss before every update, smooths it,
finds where and why it stopped, and reads every suggestion rule off the curve.
By default it then trains a few short *probes* at constant rates around the
range test's answer and keeps the rate whose held-out loss is lowest (the
``"probe"`` rule, chosen by ``benchmarks/lr_quality.py``; see ``docs/finder.md``).

The network and optimizer state a test starts from is restored afterwards:
:func:`range_test` snapshots the :class:`~lrsearch.nn.Trainer` it is given and
restores it, and :func:`find_lr` never writes to the ``init`` arrays it is passed.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 4)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
>>> res = find_lr(X, y, hidden=(16,), optimizer="adam", repeats=1, probes=0)
>>> res.optimizer, res.lrs.size <= 100, res.suggestions["edge"].lr > 0
('adam', True, True)
"""

from __future__ import annotations

import inspect
import logging
import math
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lrsearch._finder_rules import (
    DEFAULT_RULE,
    EDGE_DIVISOR,
    PROBE_CENTER,
    RULES,
    Suggestion,
    edge_point,
    ema,
    find_stop,
    horizon_factor,
    lr_ladder,
    next_probe,
    noise_scale,
    probe_ladder,
    suggest,
    suggest_edge,
    suggest_min_div10,
    suggest_probe,
    suggest_steepest,
    suggest_valley,
    trend,
    trend_window,
)
from lrsearch._validation import check_bool, check_choice, check_float, check_int
from lrsearch.exceptions import ConfigError, DataError

__all__ = [
    "DEFAULT_RULE",
    "RULES",
    "ProbeResult",
    "RangeTestCurve",
    "RangeTestResult",
    "Suggestion",
    "constant_loss",
    "find_lr",
    "find_lr_all",
    "lr_ladder",
    "range_test",
    "suggest",
    "suggest_edge",
    "suggest_min_div10",
    "suggest_probe",
    "suggest_steepest",
    "suggest_valley",
]

log = logging.getLogger(__name__)

_OWNER = "find_lr"
#: validation mode evaluates every step on at most this many validation rows
VAL_ROWS = 512
#: held-out rows carved from the training arrays when no validation split is given
HOLDOUT_SHARE = 0.2
#: arrays of fewer rows hold none out (the probes need held-out rows; the edge rule answers)
MIN_ROWS_TO_HOLD_OUT = 25
#: a data set's validation split needs this many rows for the probes (a fifth of MIN_ROWS_TO_HOLD_OUT)
MIN_HELD_ROWS = 5
#: a spread (p10 to p90 of per-repeat answers) wider than this draws a warning
WIDE_SPREAD = 0.5


@dataclass(frozen=True, eq=False)
class RangeTestCurve:
    """One range test: the ladder it ran, raw and smoothed losses, where and why it stopped.

    ``lrs``, ``losses`` and ``smoothed`` end at ``stop_index`` (inclusive).
    ``stop_reason`` is ``"completed"`` (reached ``end_lr``), ``"diverged"`` (the
    smoothed loss rose past the threshold), ``"non-finite loss"`` or ``"loss
    exploded"`` (the core stopped the run). ``seed`` seeded its shuffle and, with
    the default initialisation, its weights.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    stop_index: int
    stop_reason: str
    num_iter: int
    seed: int
    steps: int = 0
    #: validation mode: each step's batch loss (the noise the stopping rule reads), else None
    batch_losses: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """Short constant-rate trainings from the test's starting point and their held-out losses."""

    lrs: np.ndarray
    losses: np.ndarray
    steps: int
    held_out: str
    train_steps: int = 0
    """Optimizer steps of the training the suggestion is for (``epochs`` x batches per epoch)."""


@dataclass(frozen=True, eq=False)
class RangeTestResult:
    """What :func:`find_lr` measured and suggests for one optimizer.

    The curve (``lrs``, ``losses``, ``smoothed``) is the pointwise median of the
    repeats' raw losses (a single test's losses when ``repeats=1``), smoothed by
    the bias-corrected EMA and cut where it stopped. ``suggestions`` maps every
    rule name to its :class:`Suggestion`; ``lr`` is the answer of ``rule``.
    ``lr_range`` is ``(base_lr, max_lr)`` for a cyclic schedule and
    ``one_cycle_range`` ``(initial_lr, max_lr)`` for one-cycle; ``search_bounds``
    are the bounds for a study's log-uniform rate. ``repeats`` holds each repeat's
    answer of the range-test rule, and ``spread_decades`` their p10-p90 width.
    """

    optimizer: str
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    stop_reason: str
    stop_index: int
    suggestions: dict[str, Suggestion]
    lr: float
    rule: str
    lr_range: tuple[float, float]
    one_cycle_range: tuple[float, float]
    search_bounds: tuple[float, float]
    spread_decades: float
    repeats: tuple[Suggestion, ...]
    warnings: tuple[str, ...]
    num_iter: int
    start_lr: float
    end_lr: float
    mode: str
    smoothing: float
    diverge_threshold: float
    curves: tuple[RangeTestCurve, ...] = ()
    probes: ProbeResult | None = None
    validation: bool = False
    task: str = "classification"
    steps: int = 0
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def suggestion(self) -> Suggestion:
        """The :class:`Suggestion` of the rule that produced ``lr``."""
        return self.suggestions[self.rule]

    def curve_table(self) -> dict[str, list[float]]:
        """Columns ``step, lr, loss, smoothed, trend`` and ``loss_repeat<r>`` of every repeat."""
        n = self.lrs.size
        cols: dict[str, list[float]] = {
            "step": list(range(n)),
            "lr": self.lrs.tolist(),
            "loss": self.losses.tolist(),
            "smoothed": self.smoothed.tolist(),
            "trend": trend(self.losses, trend_window(n)).tolist(),
        }
        if len(self.curves) > 1:
            for r, c in enumerate(self.curves):
                col = np.full(n, np.nan)
                m = min(n, c.losses.size)
                col[:m] = c.losses[:m]
                cols[f"loss_repeat{r}"] = col.tolist()
        return cols

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain Python values (arrays as lists), for JSON."""

        def sug(s: Suggestion) -> dict[str, Any]:
            return {"rule": s.rule, "lr": s.lr, "index": s.index, "loss": s.loss}

        return {
            "optimizer": self.optimizer, "lr": self.lr, "rule": self.rule,
            "lr_range": list(self.lr_range), "one_cycle_range": list(self.one_cycle_range),
            "search_bounds": list(self.search_bounds), "spread_decades": self.spread_decades,
            "suggestions": {k: sug(v) for k, v in self.suggestions.items()},
            "repeats": [sug(s) for s in self.repeats], "warnings": list(self.warnings),
            "stop_reason": self.stop_reason, "stop_index": self.stop_index,
            "num_iter": self.num_iter, "start_lr": self.start_lr, "end_lr": self.end_lr, "mode": self.mode,
            "smoothing": self.smoothing, "diverge_threshold": self.diverge_threshold,
            "validation": self.validation, "task": self.task, "steps": self.steps, "seconds": self.seconds,
            "epochs": self.info.get("epochs"),  # the length of the training the rate is for
            "lrs": self.lrs.tolist(), "losses": self.losses.tolist(), "smoothed": self.smoothed.tolist(),
            "curves": [{"seed": c.seed, "stop_reason": c.stop_reason, "stop_index": c.stop_index,
                        "losses": c.losses.tolist()} for c in self.curves],
            "probes": None if self.probes is None else {
                "lrs": self.probes.lrs.tolist(), "losses": self.probes.losses.tolist(),
                "steps": self.probes.steps, "held_out": self.probes.held_out,
                "train_steps": self.probes.train_steps},
        }  # fmt: skip


# --------------------------------------------------------------------------- one range test


def _order(n_rows: int, n_needed: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices for ``n_needed`` draws: consecutive permutations (epochs) of ``n_rows``."""
    reps = -(-n_needed // n_rows)
    return np.concatenate([rng.permutation(n_rows) for _ in range(reps)])[:n_needed].astype(np.int64)


def range_test(
    trainer: Any,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    mode: str = "exp",
    smoothing: float = 0.98,
    diverge_threshold: float = 1.0,
    seed: int = 0,
    X_val: Any = None,
    y_val: Any = None,
) -> RangeTestCurve:
    """Run one range test on ``trainer`` (a :class:`lrsearch.nn.Trainer`) and restore its state.

    ``num_iter`` minibatches (rows shuffled by ``seed``, the data repeating as
    needed) each take one rate of :func:`lr_ladder`. Without validation data the
    whole test is one call of :meth:`Trainer.run_steps` and the loss of a step is
    its batch's loss before the update; with ``X_val, y_val`` each step is
    preceded by the mean loss on that validation data. The trainer's parameters,
    optimizer state and step count are restored afterwards, even on error.
    """
    _check_ladder(start_lr, end_lr, num_iter, mode, "range_test")
    smoothing = check_float(smoothing, "smoothing", "range_test", low=0.0, high=1.0, high_open=True)
    diverge_threshold = check_float(diverge_threshold, "diverge_threshold", "range_test", low=0.0, low_open=True)
    seed = check_int(seed, "seed", "range_test", low=0)
    if (X_val is None) != (y_val is None):
        raise ConfigError("range_test takes X_val and y_val together (validation mode) or neither.")
    ladder = lr_ladder(start_lr, end_lr, num_iter, mode)
    bs = trainer.batch_size
    order = _order(trainer.n_rows, num_iter * bs, np.random.default_rng(seed))
    snap = trainer.snapshot()
    batch_losses = None  # validation mode: each step's batch loss, the noise the stopping rule reads
    try:
        if X_val is None:
            out = trainer.run_steps(order, ladder)
            raw = np.asarray(out.losses, dtype=np.float64)
            core_reason = out.reason
            taken = out.taken
        else:
            vals: list[float] = []
            batch: list[float] = []
            core_reason = None
            taken = 0
            for k in range(num_iter):
                vl, _ = trainer.evaluate(X_val, y_val)
                vals.append(vl)
                if not math.isfinite(vl):
                    batch.append(math.nan)
                    break
                out = trainer.run_steps(order[k * bs : (k + 1) * bs], ladder[k : k + 1])
                batch.append(float(out.losses[0]) if len(out.losses) else math.nan)
                taken += out.taken
                if out.status != "ok":
                    core_reason = out.reason
                    break
            raw = np.asarray(vals, dtype=np.float64)
            batch_losses = np.asarray(batch, dtype=np.float64)
    finally:
        trainer.restore(snap)
    sm = ema(raw, smoothing)
    stop, reason = find_stop(raw, sm, smoothing, diverge_threshold, noise=batch_losses)
    if reason == "completed" and raw.size < num_iter:
        reason = core_reason or "loss exploded"
    m = stop + 1
    return RangeTestCurve(ladder[:m].copy(), raw[:m].copy(), sm[:m], stop, reason, num_iter, seed, taken,
                          None if batch_losses is None else batch_losses[:m].copy())  # fmt: skip


# --------------------------------------------------------------------------- data


@dataclass
class _Data:
    X: np.ndarray  # rows the range tests train on
    y: np.ndarray
    X_probe: np.ndarray  # rows the probes train on
    y_probe: np.ndarray
    X_held: np.ndarray | None  # held-out rows (validation split, or carved from the arrays)
    y_held: np.ndarray | None
    held_out: str
    task: str
    n_classes: int | None
    notes: tuple[str, ...] = ()  # warnings about the data itself (its scale, an inferred task), for every optimizer
    no_held: str = ""  # why there are no held-out rows (for the probes' warning)


def _infer_task(y: np.ndarray) -> tuple[str, str | None]:
    """The task ``y`` implies, and a warning when integer targets were read as a quantity."""
    from lrsearch.data import MAX_INFERRED_CLASSES

    if y.ndim == 2 and y.shape[1] > 1:
        return "regression", None
    if not np.issubdtype(y.dtype, np.number) or y.dtype == bool:
        return "classification", None
    values = y.astype(np.float64).ravel()
    integral = bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))
    distinct = np.unique(values).size
    if integral and distinct <= MAX_INFERRED_CLASSES:
        return "classification", None
    if integral and y.ndim == 1:
        return "regression", (f"task inferred as regression: y holds {distinct} distinct integers (more than "
                              f"{MAX_INFERRED_CLASSES} count as a quantity); pass task='classification' if they "
                              "are class labels")  # fmt: skip
    return "regression", None


def _prepare(X: Any, y: Any, task: str | None, seed: int, dtype: str) -> _Data:
    """Resolve what :func:`find_lr` was given into training, probe and held-out rows.

    As :func:`lrsearch.recommend` takes its data: a data-set name or path, or an
    ``(X, y)`` tuple, goes through :func:`lrsearch.data.load` (standardised); a
    loaded Dataset is used as it is; ``X, y`` arrays of numbers are used as given
    (see :func:`_numeric_arrays`), and other arrays (text columns, text labels) are
    loaded as ``recommend(X, y)`` loads them, ``load((X, y), scale=False)``.
    """
    if isinstance(X, (str, Path)) or (y is None and isinstance(X, tuple) and len(X) == 2):
        from lrsearch.data import load

        return _from_dataset(load(X, task=task, seed=seed, dtype=dtype))
    if hasattr(X, "X_train") and hasattr(X, "y_val"):
        if task is not None and task != X.task:
            raise ConfigError(f"task={task!r} does not match the data set's task {X.task!r}; leave task=None.")
        return _from_dataset(X)
    if y is None:
        raise ConfigError("find_lr needs targets: pass find_lr(X, y, ...) or a data-set name such as find_lr('iris').")
    arrays = _numeric_arrays(X, y)
    if arrays is None:
        from lrsearch.data import load

        # text features or labels need encoding: one-hot and label codes, in the arrays' own units, as
        # recommend(X, y) loads them (its validation split is then the probes' held-out data)
        log.info("find_lr: X or y holds values other than numbers; loading them as recommend(X, y) does "
                 "(lrsearch.data.load((X, y), scale=False))")  # fmt: skip
        return _from_dataset(load((X, y), task=task, seed=seed, dtype=dtype, scale=False))
    X, y = arrays
    if X.ndim != 2:
        raise DataError(f"X must be a 2-D array (n_samples, n_features); got shape {X.shape}.")
    if y.ndim not in (1, 2):
        raise DataError(f"y must be 1-D (one target per row) or 2-D (rows, outputs); got shape {y.shape}.")
    if y.shape[0] != X.shape[0]:
        raise DataError(f"X has {X.shape[0]} rows but y has {y.shape[0]}; pass one target per row.")
    note = None
    if task is None:
        task, note = _infer_task(y)
        log.info("find_lr: task=%s (inferred from y)", task)
    check_choice(task, "task", _OWNER, ("classification", "regression"))
    n_classes = None
    if task == "classification":
        if y.ndim != 1:
            raise DataError(f"classification needs one target column, but y has shape {y.shape}; pick one column, "
                            "or pass task='regression' for several outputs.")  # fmt: skip
        if y.dtype.kind not in "iu":
            if y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
                bad = y[np.mod(y, 1) != 0][0]
                raise DataError(f"classification targets must be integer labels 0..K-1, but y holds {bad:g}; pass "
                                "task='regression' if y is a quantity, or encode the labels (find_lr((X, y)) "
                                "encodes them, as lrsearch.data.load does).")  # fmt: skip
            y = y.astype(np.int64)
        n_classes = max(int(y.max()) + 1, 2) if y.size else None  # one class (all 0s): warned about, as all 1s
    notes = (*_scale_warnings(X, y, task), *([note] if note else []))
    n = X.shape[0]
    n_held = int(round(HOLDOUT_SHARE * n))
    if n < MIN_ROWS_TO_HOLD_OUT:  # the documented threshold (a fifth of 25 rows: 5 held out)
        return _Data(X, y, X, y, None, None, "none", task, n_classes, notes,
                     f"{n} rows of arrays, under {MIN_ROWS_TO_HOLD_OUT}")  # fmt: skip
    perm = np.random.default_rng([seed, 2]).permutation(n)
    groups = _duplicate_groups(X, y)
    if groups is None:
        held, rest = np.sort(perm[:n_held]), np.sort(perm[n_held:])
    else:  # a row and its copies go to one side: a held-out copy of a training row measures memorising it
        shuffled = groups[perm]
        _, first = np.unique(shuffled, return_index=True)
        order = shuffled[np.sort(first)]  # the groups in the order their first member appears in the permutation
        sizes = np.bincount(groups)
        held_groups = np.zeros(sizes.size, dtype=bool)
        room = n_held
        for g in order:  # each group that still fits, in turn (a large one is skipped, not an end)
            if sizes[g] <= room:
                held_groups[g] = True
                room -= sizes[g]
        held, rest = np.flatnonzero(held_groups[groups]), np.flatnonzero(~held_groups[groups])
        if held.size < MIN_HELD_ROWS or rest.size == 0:
            return _Data(X, y, X, y, None, None, "none", task, n_classes, notes,
                         f"the rows are copies of a few distinct ones: {held.size} could be held out apart from "
                         f"their copies, under {MIN_HELD_ROWS}")  # fmt: skip
    return _Data(X, y, X[rest], y[rest], X[held], y[held], "held-out rows", task, n_classes, notes)


def _from_dataset(ds: Any) -> _Data:
    """A loaded :class:`~lrsearch.data.Dataset`: the tests train on its training split, its validation split is held out."""
    held = (ds.X_val, ds.y_val) if len(ds.X_val) >= MIN_HELD_ROWS else (None, None)
    notes = _scale_warnings(ds.X_train, ds.y_train, ds.task)
    if 0 < len(ds.X_val) < MIN_HELD_ROWS:
        notes.append(f"the validation split holds {len(ds.X_val)} row(s), too few to rank the probes (at least "
                     f"{MIN_HELD_ROWS}, as arrays of {MIN_ROWS_TO_HOLD_OUT} rows hold out): a larger val_size "
                     "lets them run")  # fmt: skip
    why = ("the data set has no validation split" if len(ds.X_val) == 0 else
           f"its validation split holds {len(ds.X_val)} row(s), under {MIN_HELD_ROWS}")  # fmt: skip
    return _Data(ds.X_train, ds.y_train, ds.X_train, ds.y_train, held[0], held[1],
                 "validation split" if held[0] is not None else "none", ds.task, ds.n_classes,
                 tuple(notes), why)  # fmt: skip


def _numeric_arrays(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``X`` and ``y`` as the arrays of numbers find_lr uses as given, or None when either holds other values.

    A SciPy sparse ``X`` is densified (:func:`lrsearch.data.densify`, which refuses
    one too large); a numeric DataFrame or Series is its values; a column vector
    ``y`` of shape ``(n, 1)`` is the one target it holds, as a 1-D array. None
    (text, categories, mixed types, e.g. a DataFrame with a text column or string
    labels): the caller has :func:`lrsearch.data.load` encode them.

    >>> _numeric_arrays(np.eye(2), np.array([[0], [1]]))[1].shape
    (2,)
    >>> _numeric_arrays(np.eye(2), np.array(["a", "b"])) is None
    True
    """
    if hasattr(X, "toarray") and hasattr(X, "nnz"):
        from lrsearch.data import densify

        X = densify(X)
    out = []
    for name, value in (("X", X), ("y", y)):
        try:
            out.append(np.asarray(value))
        except ValueError as exc:  # ragged rows: NumPy's own message, as a DataError
            raise DataError(f"{name} cannot be read as an array with one row per sample ({exc}); pass a 2-D array "
                            "or a DataFrame for X and a 1-D array or a Series for y.") from exc  # fmt: skip
    Xa, ya = out
    if Xa.dtype.kind not in "biuf" or ya.dtype.kind not in "biuf":
        return None
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]  # a column vector holds one target
    return Xa, ya


def _duplicate_groups(X: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """A group id per row (identical rows of X and y share one), or None when every row is distinct.

    >>> _duplicate_groups(np.array([[1.0], [2.0], [1.0]]), np.array([0, 1, 0])).tolist()
    [0, 1, 0]
    """
    # every row distinct (the usual case): known from the rows' bytes in one pass (np.unique over rows sorts
    # them, 1.6 s for 20000 x 1000); + 0.0 makes -0.0 the bytes of 0.0, which np.unique takes as equal
    Xc = np.ascontiguousarray(X) + 0.0
    yc = (np.ascontiguousarray(y) + 0.0).reshape(len(y), -1)
    if len({hash((a.tobytes(), b.tobytes())) for a, b in zip(Xc, yc)}) == len(Xc):
        return None
    rows = np.concatenate([np.asarray(X, dtype=np.float64).reshape(len(X), -1),
                           np.asarray(y, dtype=np.float64).reshape(len(y), -1)], axis=1)  # fmt: skip
    _, groups = np.unique(rows, axis=0, return_inverse=True)
    groups = np.asarray(groups).reshape(-1)
    return None if groups.max() + 1 == len(groups) else groups


# --------------------------------------------------------------------------- the finder


def _check_ladder(start_lr: Any, end_lr: Any, num_iter: Any, mode: Any, owner: str) -> None:
    start_lr = check_float(start_lr, "start_lr", owner, low=0.0, low_open=True,
                           fix="Pass a positive rate such as 1e-7.")  # fmt: skip
    end_lr = check_float(end_lr, "end_lr", owner, low=0.0, low_open=True, high=math.inf, high_open=True,
                         fix="Pass a positive rate such as 10; it must be finite.")  # fmt: skip
    if end_lr <= start_lr:
        raise ConfigError(f"end_lr must be larger than start_lr; got start_lr={start_lr:g}, end_lr={end_lr:g}. "
                          f"Swap them or raise end_lr (the default range is 1e-7 to 10).")  # fmt: skip
    if start_lr < sys.float_info.min or not math.isfinite(end_lr / start_lr):
        # a subnormal start loses its precision, and end/start overflows to inf: the ladder would be NaN
        raise ConfigError(f"start_lr={start_lr:g} is too small for a ladder to end_lr={end_lr:g} (end_lr / start_lr "
                          f"must be a finite float); pass a rate such as 1e-7.")  # fmt: skip
    check_int(num_iter, "num_iter", owner, low=2, fix="A range test needs at least 2 steps; 100 is typical.")
    check_choice(mode, "mode", owner, ("exp", "linear"))


def _pool(curves: Sequence[RangeTestCurve]) -> tuple[np.ndarray, str | None]:
    """Pointwise median of the repeats' raw losses, while a majority of them still ran."""
    n = max(c.losses.size for c in curves)
    M = _padded([c.losses for c in curves], n)
    running = np.isfinite(M).sum(axis=0) * 2 > len(curves)
    m = int(np.argmin(running)) if not running.all() else n
    if m == 0:
        # no majority has even one finite loss (the loss before the first update was not finite):
        # a one-point curve holding that loss, as a single test's curve is, so lrs and losses stay aligned
        with np.errstate(invalid="ignore"):
            first = float(np.median(M[:, 0]))
        reasons = Counter(c.stop_reason for c in curves if not np.isfinite(c.losses[:1]).all())
        return np.array([first if not math.isfinite(first) else math.nan]), (
            reasons.most_common(1)[0][0] if reasons else "non-finite loss")
    pooled = np.nanmedian(M[:, :m], axis=0)  # every column has a majority of finite values
    # why the majority stopped where the pooled curve ends: those that ended there or earlier
    # (all of them, when every repeat stopped at the same step); None if they reached end_lr
    ended = [c.stop_reason for c in curves if c.losses.size <= m]
    if m == n and sum(r != "completed" for r in ended) * 2 <= len(curves):
        return pooled, None  # a majority ran to end_lr
    reasons = Counter(r for r in ended if r != "completed")
    return pooled, reasons.most_common(1)[0][0] if reasons else None


def _padded(rows: Sequence[np.ndarray], n: int) -> np.ndarray:
    """The repeats' series as the rows of a (repeats, n) matrix, NaN past each one's end (cut at n)."""
    M = np.full((len(rows), n), np.nan)
    for r, row in enumerate(rows):
        M[r, : min(n, row.size)] = row[:n]
    return M


def _pooled_batch_losses(curves: Sequence[RangeTestCurve], n: int) -> np.ndarray:
    """The repeats' batch losses (validation mode), pooled as :func:`_pool` pools the losses, over ``n`` steps."""
    M = _padded([c.batch_losses if c.batch_losses is not None else np.zeros(0) for c in curves], n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column (every repeat stopped) stays NaN
        return np.nanmedian(M, axis=0)


def _quantile_spread(lrs: Iterable[float]) -> float:
    x = np.log10([v for v in lrs if math.isfinite(v) and v > 0])
    if x.size < 2:
        return 0.0
    p10, p90 = np.percentile(x, [10, 90])
    return float(p90 - p10)


_Pair = tuple[float, float]


def _ranges(lr: float, edge_lr: float, spread: float) -> tuple[_Pair, _Pair, _Pair]:
    """Cyclic (base, max), one-cycle (initial, max) and study bounds around ``lr``.

    ``max_lr = 2 * lr`` (kept below half the instability edge, and never below
    ``lr``). Cyclic ``base_lr = max_lr / 4`` (Smith: a third to a quarter), so the
    cycle runs from ``lr / 2`` to ``2 * lr``, centred on the suggested rate in
    log-space. One-cycle starts at ``max_lr / 25`` (Smith: a tenth to a 25th;
    torch's ``div_factor`` default). The study bounds reach a decade plus the
    spread either side of ``lr``.

    >>> _ranges(0.01, 1.0, 0.0)[0], _ranges(0.01, 0.03, 0.0)[0][1]
    ((0.005, 0.02), 0.015)
    """
    if not math.isfinite(lr):
        nan = (math.nan, math.nan)
        return nan, nan, nan
    top = 2.0 * lr
    if math.isfinite(edge_lr):
        top = max(lr, min(top, edge_lr / 2.0))
    width = 1.0 + spread
    return (top / 4.0, top), (top / 25.0, top), (lr * 10.0**-width, lr * 10.0**width)


def _diverged_early(stop_reason: str, stop_index: int, num_iter: int) -> bool:
    """Whether the test stopped within its first tenth (at least 3 steps): then start_lr was already too high."""
    # <=: the stopping rule cannot call a divergence before step 10, the first tenth's end at 100 steps
    return stop_reason != "completed" and stop_index <= max(3, num_iter // 10)


def _warnings(result_curve: np.ndarray, stop_reason: str, stop_index: int, num_iter: int, end_lr: float,
              start_lr: float, spread: float, repeats: int, mode: str = "exp") -> list[str]:  # fmt: skip
    out: list[str] = []
    x = result_curve[np.isfinite(result_curve)]
    if stop_reason == "completed":
        out.append(f"the loss never diverged up to end_lr={end_lr:g}: the edge may lie beyond it; "
                   f"raise end_lr (e.g. {end_lr * 100:g}) to see it")  # fmt: skip
    if x.size == 0 and stop_reason != "completed":
        out.append("the loss was not finite before the first update, so no rate is to blame: look for extreme "
                   "values in X, y or init= (float32 overflows above 3.4e38; dtype='float64' has more room)")  # fmt: skip
    elif _diverged_early(stop_reason, stop_index, num_iter):
        steps = f"{stop_index + 1} step{'s' if stop_index else ''}"
        if mode == "linear":  # the second rung is about end_lr/num_iter whatever start_lr is
            out.append(f"the loss diverged within {steps}: a linear ladder's steps are end_lr/num_iter apart, so "
                       "lower end_lr or use mode='exp' (lowering start_lr does not help)")  # fmt: skip
        else:
            out.append(f"the loss diverged within {steps} of start_lr={start_lr:g}: lower start_lr")
    if x.size >= 5:
        i, _, descent = edge_point(x)
        noise = noise_scale(x)
        if not (descent > 2.0 * noise / math.sqrt(trend_window(x.size))):
            out.append(f"the loss never clearly decreased (start_lr={start_lr:g} to the stop): lower start_lr, "
                       "or check the data and the network")  # fmt: skip
        elif noise > descent:
            out.append(f"the curve is noisy (batch noise {noise:.3g} vs a descent of {descent:.3g}): "
                       "raise batch_size or repeats for a stable suggestion")  # fmt: skip
    if num_iter < SHORT_TEST:
        out.append(f"num_iter={num_iter} is a short test: its curve has too few points to read and its "
                   f"suggestion is rough; use num_iter={SHORT_TEST} or more (100 by default)")  # fmt: skip
    if repeats > 1 and spread > WIDE_SPREAD:
        out.append(f"the suggestion moves {spread:.1f} decades between repeats (p10 to p90): "
                   "treat it as rough; raise repeats or batch_size")  # fmt: skip
    return out


#: range tests of fewer steps than this get a warning: too few points per decade to read
SHORT_TEST = 30

#: the training lengths (optimizer steps) over which benchmarks/lr_quality.py measured the horizon correction
MEASURED_TRAIN_STEPS = (60, 940)

#: root-mean-square sizes beyond which inputs count as unscaled (standardised data have 1)
FEATURE_SCALE_LIMIT = 100.0
TARGET_SCALE_LIMITS = (1e-2, 30.0)


def _scale_warnings(X: np.ndarray, y: np.ndarray, task: str) -> list[str]:
    """Warnings for features or regression targets far from unit scale: rates found on them do not transfer.

    A data set from :func:`lrsearch.data.load` is standardised and never warns; raw arrays may not be.

    >>> _scale_warnings(np.ones((4, 2)), np.array([1e5, 2e5, 3e5, 4e5]), "regression")[0][:40]
    'regression targets are far from unit sca'
    """
    out: list[str] = []
    with np.errstate(over="ignore", invalid="ignore"):
        feature_rms = np.sqrt(np.mean(np.square(X, dtype=np.float64), axis=0)) if X.size else np.zeros(1)
    worst = int(np.argmax(feature_rms))
    if feature_rms[worst] > FEATURE_SCALE_LIMIT:
        out.append(f"features are far from unit scale (column {worst} has a root-mean-square of "
                   f"{feature_rms[worst]:.3g}): the suggested rate holds for these units only and training in them "
                   "is slow; standardise X (lrsearch.data.load does: find_lr((X, y)) loads them so)")  # fmt: skip
    if task == "classification" and y.size and np.unique(y).size < 2:
        out.append("the targets hold one class: there is nothing to learn but a bias, so the suggested rate says "
                   "little about a real target")  # fmt: skip
    if task == "regression" and y.size:
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        constant = np.ptp(Y, axis=0) == 0
        if constant.any():
            cols = ", ".join(str(c) for c in np.flatnonzero(constant))
            which = "the regression target is" if Y.shape[1] == 1 else f"regression target column(s) {cols} are"
            out.append(f"{which} constant: there is nothing to learn but a bias, so the suggested rate says "
                       "little about a real target")  # fmt: skip
            if constant.all():
                return out  # "standardise y" would divide by a zero spread
        rms = float(np.max(np.sqrt(np.mean(np.square(Y), axis=0))))
        low, high = TARGET_SCALE_LIMITS
        if not (low <= rms <= high):
            out.append(f"regression targets are far from unit scale (root-mean-square {rms:.3g}): the suggested "
                       "rate holds for these units only; standardise y (lrsearch.data.load does, and reports "
                       "metrics in the original units)")  # fmt: skip
    return out


def find_lr(
    X: Any,
    y: Any = None,
    *,
    task: str | None = None,
    hidden: Sequence[int] = (64,),
    activation: str = "relu",
    optimizer: str = "adam",
    optimizer_params: Mapping[str, Any] | None = None,
    batch_size: int = 32,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    mode: str = "exp",
    smoothing: float = 0.98,
    diverge_threshold: float = 1.0,
    repeats: int = 2,
    validation: bool = False,
    seed: int = 0,
    dtype: str = "float32",
    rule: str = "default",
    init: tuple[Sequence[np.ndarray], Sequence[np.ndarray]] | None = None,
    probes: int = 3,
    probe_steps: int = 100,
    epochs: int = 20,
    trainer_options: Mapping[str, Any] | None = None,
) -> RangeTestResult:
    """Run the LR range test for one optimizer and suggest a learning rate.

    The data, taken as :func:`lrsearch.recommend` takes it:

    * a data-set name or path, or an ``(X, y)`` tuple: loaded by
      :func:`lrsearch.data.load` (``task``, ``seed``, ``dtype`` passed on), so
      features and regression targets are standardised and labels encoded; ``y``
      is unused;
    * a loaded :class:`~lrsearch.data.Dataset`: used as it is; ``y`` is unused;
    * ``X, y`` arrays of numbers (a NumPy array, a numeric DataFrame or Series, a
      SciPy sparse ``X``, densified; a column-vector ``y`` of shape ``(n, 1)`` is
      its one target): used as given, in their own units (nothing is
      standardised), with integer labels ``0..K-1`` for classification;
    * ``X, y`` holding anything else (a DataFrame with text or category columns,
      text labels): loaded as ``recommend(X, y)`` loads them,
      ``load((X, y), scale=False)``: one-hot encoded columns and label codes, the
      numbers in their own units.

    A loaded data set's validation split is the probes' held-out data (the range
    tests train on its training split); arrays used as given hold out a seeded
    fifth of their rows for the probes (the range tests still train on every
    row). ``task=None`` infers it. The network and optimizer arguments
    are :func:`lrsearch.nn.train`'s; ``trainer_options`` passes the rest
    (``clip_norm``, ``layer_lrs``, ...). ``init=(coefs, intercepts)`` starts every
    test from those weights (they are copied, never changed).

    The test: ``repeats`` runs of ``num_iter`` steps on seeds ``seed, seed+1, ...``
    along :func:`lr_ladder` (``mode`` ``"exp"`` or ``"linear"``), smoothed by a
    bias-corrected EMA with weight ``smoothing`` on the past, stopped when the
    smoothed loss rises ``diverge_threshold`` times the descent above its best
    (:func:`lrsearch._finder_rules.find_stop`). ``validation=True`` records the
    loss on (at most 512 rows of) the held-out data before each step instead of
    the batch loss. Then ``probes`` constant-rate trainings of ``probe_steps``
    steps each, around the range test's answer, are scored on the held-out data
    (0 disables them; they need held-out rows); the best, a rate for a run of
    ``probe_steps`` steps, is lowered for a training of ``epochs`` epochs
    (:func:`lrsearch._finder_rules.horizon_factor`). Cost: ``repeats * num_iter +
    probes * probe_steps`` optimizer steps (500 by default).

    ``rule`` picks the answer in ``lr``: ``"default"`` (``"probe"``, or
    ``"edge"`` without probes) or any name in :data:`RULES`. Every rule's answer
    is in ``suggestions`` either way. Bad arguments raise
    :class:`~lrsearch.exceptions.ConfigError`, unusable data
    :class:`~lrsearch.exceptions.DataError`; a diverging test is a result.
    """
    if optimizer == "all":
        raise ConfigError("find_lr tests one optimizer; use find_lr_all(...) to compare every optimizer.")
    _check_args(start_lr, end_lr, num_iter, mode, smoothing, diverge_threshold, repeats, validation, rule,
                probes, probe_steps, seed)  # fmt: skip
    check_int(epochs, "epochs", _OWNER, low=1, fix="It is the length of the training the rate is for.")
    _check_trainer_options(trainer_options)
    data = _prepare(X, y, task, seed, dtype)
    return _find(data, optimizer=optimizer, hidden=hidden, activation=activation, optimizer_params=optimizer_params,
                 batch_size=batch_size, start_lr=float(start_lr), end_lr=float(end_lr), num_iter=num_iter, mode=mode,
                 smoothing=float(smoothing), diverge_threshold=float(diverge_threshold), repeats=repeats,
                 validation=validation, seed=seed, dtype=dtype, rule=rule, init=init, probes=probes,
                 probe_steps=probe_steps, epochs=epochs, trainer_options=trainer_options)  # fmt: skip


def find_lr_all(
    X: Any, y: Any = None, *, optimizers: Sequence[str] | None = None, **kwargs: Any
) -> dict[str, RangeTestResult]:
    """:func:`find_lr` for every optimizer (default: all of :data:`lrsearch.nn.OPTIMIZERS`), data loaded once.

    Returns ``{optimizer: RangeTestResult}`` in the order tested. Keyword
    arguments are :func:`find_lr`'s (``optimizer_params`` applies to each).
    """
    from lrsearch.nn import OPTIMIZERS

    if isinstance(optimizers, str):
        raise ConfigError(f"optimizers of find_lr_all must be a list of optimizer names such as ['adam', 'sgd']; "
                          f"got the string {optimizers!r} (use find_lr(..., optimizer={optimizers!r}) for one).")  # fmt: skip
    names = list(OPTIMIZERS) if optimizers is None else list(optimizers)
    if not names:
        raise ConfigError("optimizers is empty; name at least one of: " + ", ".join(OPTIMIZERS) + ".")
    for name in names:
        check_choice(name, "optimizers", "find_lr_all", OPTIMIZERS)
    if "optimizer" in kwargs:
        raise ConfigError("find_lr_all takes optimizers=[...], not optimizer=.")
    # find_lr's own defaults, read from its signature so the two cannot drift apart
    defaults = {k: p.default for k, p in inspect.signature(find_lr).parameters.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY and k != "optimizer"}  # fmt: skip
    opts = {**defaults, **kwargs}
    _check_args(opts["start_lr"], opts["end_lr"], opts["num_iter"], opts["mode"], opts["smoothing"],
                opts["diverge_threshold"], opts["repeats"], opts["validation"], opts["rule"], opts["probes"],
                opts["probe_steps"], opts["seed"])  # fmt: skip
    check_int(opts["epochs"], "epochs", "find_lr_all", low=1)
    _check_trainer_options(opts["trainer_options"], "find_lr_all")
    data = _prepare(X, y, opts.pop("task"), opts["seed"], opts["dtype"])
    return {name: _find(data, optimizer=name, **opts) for name in names}


#: the Trainer arguments trainer_options may set (find_lr's own arguments set the rest)
TRAINER_OPTIONS = ("clip_norm", "clip_value", "normalize_grad", "layer_lrs", "n_classes", "diverge_factor")


def _check_trainer_options(options: Any, owner: str = _OWNER) -> None:
    """``trainer_options`` may only hold :data:`TRAINER_OPTIONS` (a TypeError from the Trainer named none of this)."""
    if options is None:
        return
    if not isinstance(options, Mapping):
        raise ConfigError(f"trainer_options of {owner} must be a dict such as {{'clip_norm': 1.0}}; "
                          f"got {type(options).__name__}.")  # fmt: skip
    own = set(inspect.signature(find_lr).parameters)
    for key in options:
        if key in TRAINER_OPTIONS:
            continue
        if key in own or key == "hidden_layer_sizes":
            raise ConfigError(f"trainer_options sets {key!r}, which is {owner}'s own argument: pass {key}=... to "
                              f"{owner} instead.")  # fmt: skip
        raise ConfigError(f"trainer_options has an unknown key {key!r}; it takes: {', '.join(TRAINER_OPTIONS)}.")


def _check_args(start_lr: Any, end_lr: Any, num_iter: Any, mode: Any, smoothing: Any, diverge_threshold: Any,
                repeats: Any, validation: Any, rule: Any, probes: Any, probe_steps: Any,
                seed: Any) -> None:  # fmt: skip
    _check_ladder(start_lr, end_lr, num_iter, mode, _OWNER)
    check_float(smoothing, "smoothing", _OWNER, low=0.0, high=1.0, high_open=True,
                fix="It is the EMA's weight on the past: 0 (none) to just below 1; 0.98 is fastai's.")  # fmt: skip
    check_float(diverge_threshold, "diverge_threshold", _OWNER, low=0.0, low_open=True,
                fix="It is a multiple of the loss's descent; 1.0 stops where the loss is back at its start.",
                )  # fmt: skip
    check_int(repeats, "repeats", _OWNER, low=1)
    check_bool(validation, "validation", _OWNER)
    check_choice(rule, "rule", _OWNER, ["default", *RULES])
    check_int(probes, "probes", _OWNER, low=0)
    check_int(probe_steps, "probe_steps", _OWNER, low=1)
    check_int(seed, "seed", _OWNER, low=0)


def _find(data: _Data, *, optimizer: str, hidden: Sequence[int] = (64,), activation: str = "relu",
          optimizer_params: Mapping[str, Any] | None = None, batch_size: int = 32, start_lr: float, end_lr: float,
          num_iter: int, mode: str, smoothing: float, diverge_threshold: float, repeats: int, validation: bool,
          seed: int, dtype: str, rule: str, init: Any = None, probes: int, probe_steps: int, epochs: int = 20,
          trainer_options: Mapping[str, Any] | None = None) -> RangeTestResult:  # fmt: skip
    from lrsearch.nn import Trainer

    t0 = time.perf_counter()
    if validation and data.X_held is None:
        raise ConfigError("validation=True needs held-out rows: pass a data set with a validation split, "
                          "or at least 25 rows of arrays (a fifth is held out).")  # fmt: skip
    options = dict(trainer_options or {})
    options.setdefault("n_classes", data.n_classes)

    def make(X: np.ndarray, y: np.ndarray, s: int) -> Any:
        return Trainer(X, y, task=data.task, hidden=hidden, activation=activation, optimizer=optimizer,
                       optimizer_params=optimizer_params, batch_size=batch_size, seed=s, dtype=dtype,
                       init="auto" if init is None else init, owner=_OWNER, **options)  # fmt: skip

    val = None
    if validation:
        rows = np.random.default_rng([seed, 3]).permutation(len(data.X_held))[:VAL_ROWS]
        val = (data.X_held[np.sort(rows)], data.y_held[np.sort(rows)])
    sweep_X, sweep_y = (data.X_probe, data.y_probe) if validation else (data.X, data.y)
    curves = []
    for r in range(repeats):
        tr = make(sweep_X, sweep_y, seed + r)
        curves.append(range_test(tr, start_lr=start_lr, end_lr=end_lr, num_iter=num_iter, mode=mode,
                                 smoothing=smoothing, diverge_threshold=diverge_threshold, seed=seed + r,
                                 X_val=None if val is None else val[0],
                                 y_val=None if val is None else val[1]))  # fmt: skip
    steps = sum(c.steps for c in curves)

    if repeats == 1:
        c = curves[0]
        lrs, raw, sm, stop, reason = c.lrs, c.losses, c.smoothed, c.stop_index, c.stop_reason
    else:
        pooled, pooled_reason = _pool(curves)
        sm_full = ema(pooled, smoothing)
        noise = _pooled_batch_losses(curves, pooled.size) if validation else None
        stop, reason = find_stop(pooled, sm_full, smoothing, diverge_threshold, noise=noise)
        if reason == "completed" and pooled_reason is not None:
            reason = pooled_reason
        lrs = lr_ladder(start_lr, end_lr, num_iter, mode)[: stop + 1]
        raw, sm = pooled[: stop + 1], sm_full[: stop + 1]
    view = _View(lrs, raw, sm, num_iter, None)
    per_repeat = tuple(suggest_edge(c) for c in curves)
    spread = _quantile_spread(s.lr for s in per_repeat) if repeats > 1 else 0.0

    probe_result = None
    probe_note = None
    held_start = math.nan
    edge = suggest_edge(view)
    if probes > 0 and data.X_held is not None and math.isfinite(edge.lr):
        train_steps = epochs * -(-len(data.X) // min(batch_size, len(data.X)))
        tr = make(data.X_probe, data.y_probe, seed)
        snap = tr.snapshot()
        # what a probe must beat: the untrained network, and the best constant answer (the class prior, the mean)
        held_start, _ = tr.evaluate(data.X_held, data.y_held)
        held_start = min(held_start, constant_loss(data.y_probe, data.y_held, data.task, tr.prob.n_classes))
        order = _order(tr.n_rows, probe_steps * tr.batch_size, np.random.default_rng([seed, 4]))

        def probe(rate: float) -> float:
            nonlocal steps
            out = tr.run_steps(order, np.full(probe_steps, rate))
            steps += out.taken
            held = math.inf
            if out.status == "ok":
                held, _ = tr.evaluate(data.X_held, data.y_held)
                held = held if math.isfinite(held) else math.inf
            tr.restore(snap)
            return held

        rates, losses = _probe_search(probe, PROBE_CENTER * edge.lr, probes)
        probe_result = ProbeResult(rates, losses, probe_steps, data.held_out, train_steps)
        finite = losses[np.isfinite(losses)]
        if finite.size and math.isfinite(held_start) and not finite.min() < held_start - 0.02 * abs(held_start):
            probe_note = (f"the probes' best held-out loss ({finite.min():.4g}) is no better than a constant "
                          f"answer's or the untrained network's ({held_start:.4g}): in {probe_steps} steps no rate "
                          "tried learned anything that carries to held-out rows (nothing is learned that fast, or "
                          "the network overfits at once), so they rank the rates poorly and the suggestion is "
                          "rough; check that the features predict the target, or try more probe_steps, a smaller "
                          "network, another activation or optimizer")  # fmt: skip
    view = _View(lrs, raw, sm, num_iter, probe_result)
    suggestions = {name: fn(view) for name, fn in RULES.items()}
    chosen = DEFAULT_RULE if rule == "default" else rule
    if chosen == "probe" and probe_result is None:
        chosen = "edge"
        suggestions.pop("probe")
    elif chosen != "probe" and probe_result is None:
        suggestions.pop("probe")
    answer = suggestions[chosen].lr
    edge_lr = float(lrs[edge.index]) if edge.index >= 0 else math.nan
    lr_range, one_cycle, bounds = _ranges(answer, edge_lr, spread)
    warns = _warnings(raw, reason, stop, num_iter, end_lr, start_lr, spread, repeats, mode)
    warns += data.notes
    if reason == "completed" and chosen == "edge" and math.isfinite(answer):
        warns.append(f"without a divergence the edge rule's answer ({answer:.3g}) is set by the ladder's end "
                     "(end_lr), not measured: raising end_lr raises it too; give the probes held-out rows, or "
                     "read the curve")  # fmt: skip
    if probe_result is not None and chosen == "probe" and not (
            MEASURED_TRAIN_STEPS[0] / 4 <= probe_result.train_steps <= MEASURED_TRAIN_STEPS[1] * 4):
        warns.append(f"the training this rate is for has {probe_result.train_steps} steps (epochs={epochs}); the "
                     f"correction from the probes' {probe_steps} steps to it was measured for "
                     f"{MEASURED_TRAIN_STEPS[0]} to {MEASURED_TRAIN_STEPS[1]} steps, so the suggestion is "
                     "rough: check it against a neighbour or two (x3, /3)")  # fmt: skip
    if probe_note is not None and chosen == "probe":
        warns.append(probe_note)
    if rule == "probe" and chosen != "probe":
        why = "probes=0" if probes == 0 else (f"no held-out rows: {data.no_held}"
                                              if data.X_held is None else "the range test gave no edge to place them")
        warns.append(f"rule='probe' needs probes, but there were none ({why}): lr is the edge rule's answer")
    elif rule == "default" and chosen != "probe" and probes > 0 and math.isfinite(answer):
        # asked for probes, got none: the answer is rougher
        why = f"no held-out rows: {data.no_held}" if data.X_held is None else "the range test gave no edge to place them"
        warns.append(f"the probes did not run ({why}): lr is the edge rule's answer, rougher than the probes' "
                     "(docs/finder.md measures both)")  # fmt: skip
    if math.isfinite(answer) and answer < start_lr:
        warns.append(f"the suggested rate {answer:.3g} is below start_lr={start_lr:g}, where the range test did not "
                     f"look: lower start_lr (e.g. {start_lr / 100:g}) to measure it")  # fmt: skip
    if not math.isfinite(answer):  # kept last: the command line prints it as the reason
        if not np.isfinite(raw).any():
            why = "the loss was not finite before the first update (check X, y and init= for extreme values)"
        elif _diverged_early(reason, stop, num_iter):
            why = (f"the loss diverged within {stop + 1} steps of the linear ladder, whose steps are "
                   "end_lr/num_iter apart; lower end_lr or use mode='exp'" if mode == "linear" else
                   f"the loss diverged within {stop + 1} steps of start_lr={start_lr:g}; lower start_lr")  # fmt: skip
        else:
            why = f"the curve is too short for the {chosen} rule; lower start_lr or raise num_iter"
        warns.append(f"no rate could be suggested: {why}")
    for w in warns:
        log.warning("find_lr(%s): %s", optimizer, w)
    seconds = time.perf_counter() - t0
    log.info("find_lr(%s): lr=%.3g rule=%s stop=%s at %d, %d steps in %.2fs", optimizer, answer, chosen, reason,
             stop, steps, seconds)  # fmt: skip
    return RangeTestResult(
        optimizer=optimizer, lrs=np.asarray(lrs, dtype=np.float64), losses=np.asarray(raw, dtype=np.float64),
        smoothed=np.asarray(sm, dtype=np.float64), stop_reason=reason, stop_index=int(stop), suggestions=suggestions,
        lr=float(answer), rule=chosen, lr_range=lr_range, one_cycle_range=one_cycle, search_bounds=bounds,
        spread_decades=spread, repeats=per_repeat, warnings=tuple(warns), num_iter=num_iter, start_lr=start_lr,
        end_lr=end_lr, mode=mode, smoothing=smoothing, diverge_threshold=diverge_threshold, curves=tuple(curves),
        probes=probe_result, validation=validation, task=data.task, steps=int(steps), seconds=seconds,
        info={"edge_lr": edge_lr, "edge_divisor": EDGE_DIVISOR, "epochs": epochs, "held_out": data.held_out,
              "horizon_factor": None if probe_result is None
              else horizon_factor(probe_result.train_steps, probe_steps),
              "probe_start_loss": held_start},
    )  # fmt: skip


def constant_loss(y_train: np.ndarray, y_held: np.ndarray, task: str, n_classes: int | None) -> float:
    """The held-out loss of the best constant answer learned from ``y_train``, in the core's loss.

    Classification: the cross-entropy of the training class frequencies (add-one
    smoothed); regression: the mean squared error of the training mean.

    >>> round(constant_loss(np.array([0, 1, 0, 1]), np.array([0, 1]), "classification", 2), 4)
    0.6931
    """
    if task == "classification":
        k = int(n_classes or (max(y_train.max(), y_held.max()) + 1))
        prior = (np.bincount(y_train.astype(np.int64), minlength=k) + 1.0) / (len(y_train) + k)
        return float(-np.mean(np.log(prior[y_held.astype(np.int64)])))
    yt = np.asarray(y_train, dtype=np.float64).reshape(len(y_train), -1)
    yh = np.asarray(y_held, dtype=np.float64).reshape(len(y_held), -1)
    return float(np.mean((yh - yt.mean(axis=0)) ** 2))


def _probe_search(probe: Any, center: float, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Run ``count`` probes, each placed by :func:`~lrsearch._finder_rules.next_probe` on the ladder around ``center``.

    ``probe(rate)`` trains one probe and returns its held-out loss (``inf`` if it
    diverged). Returns the rates (ascending) and their losses.
    """
    tried: dict[float, float] = {}
    while len(tried) < count:
        k = next_probe(tried)
        tried[k] = probe(float(probe_ladder(center, k)))
    ks = sorted(tried)
    return probe_ladder(center, ks), np.array([tried[k] for k in ks])


@dataclass(frozen=True, eq=False)
class _View:
    """The pooled curve as the rules read it."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    num_iter: int
    probes: ProbeResult | None
