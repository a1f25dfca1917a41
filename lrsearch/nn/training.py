"""``train``: a Python loop over epochs, one jitted kernel call per epoch.

The loop computes each epoch's rates, calls :func:`_kernels.train_epoch`,
evaluates on validation data, steps reduce-on-plateau, asks the callback
whether to stop, and turns divergence into a result (status ``diverged``, the
step and the reason), never an exception.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(64, 3)).astype(np.float32)
>>> y = (X[:, 0] > 0).astype(np.int64)
>>> res = train(X, y, hidden=(8,), optimizer="adam", lr=1e-2, epochs=5, batch_size=16)
>>> res.status, res.epochs_run, len(res.lrs)
('completed', 5, 20)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lrsearch._validation import check_bool, check_choice, check_float, check_hidden, check_int
from lrsearch.exceptions import ConfigError, DataError
from lrsearch.nn import _kernels as K
from lrsearch.nn.optimizers import make_optimizer
from lrsearch.nn.params import Layout
from lrsearch.nn.schedules import Plateau, make_schedule

__all__ = [
    "ACTIVATIONS",
    "TASKS",
    "OptimizerState",
    "StepsOutcome",
    "TrainResult",
    "Trainer",
    "check_sample_weight",
    "loss_and_grad",
    "predict_output",
    "train",
]

log = logging.getLogger(__name__)
_WARNED_BATCH: set[tuple[int, int]] = set()  # (batch_size, rows) already warned about
_NO_MOMS = np.zeros(0, dtype=np.float64)  # run_steps without a cycled momentum
_NO_WEIGHTS = np.zeros(0, dtype=np.float64)  # the kernels' "every row weighs the same"

ACTIVATIONS = {"identity": K.ACT_IDENTITY, "relu": K.ACT_RELU, "tanh": K.ACT_TANH, "sigmoid": K.ACT_SIGMOID}
TASKS = {"classification": K.LOSS_XENT, "regression": K.LOSS_MSE}
_DTYPES = {"float32": np.float32, "float64": np.float64}
_REASONS = {
    K.STATUS_NONFINITE_LOSS: "non-finite loss",
    K.STATUS_EXPLODED: "loss exploded",
    K.STATUS_NONFINITE_PARAMS: "non-finite parameters",
}


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced; see ``docs/core-api.md`` for every field."""

    coefs: list[np.ndarray]
    intercepts: list[np.ndarray]
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_score: np.ndarray
    lrs: np.ndarray
    val_metrics: dict[str, float]
    status: str
    reason: str | None
    diverged_step: int | None
    epochs_run: int
    steps_run: int
    task: str = "classification"
    activation: str = "relu"
    n_classes: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    optimizer_state: OptimizerState | None = None

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def best_val_loss(self) -> float:
        """The lowest finite validation loss of any epoch (inf if none)."""
        finite = self.val_loss[np.isfinite(self.val_loss)]
        return float(finite.min()) if finite.size else math.inf


@dataclass(frozen=True)
class OptimizerState:
    """An optimizer's running state, to continue it in a later run: ``train(optimizer_state=...)``.

    ``state`` holds the optimizer's per-parameter buffers (momentum, Adam's
    moments, Adagrad's sums), shape ``(N_STATE, n_params)`` in the layout of
    the flat parameter vector; ``step`` counts the optimizer steps taken
    (Adam's bias correction and Adagrad's ``lr_decay`` read it). ``optimizer``
    names the optimizer that filled it: another one cannot continue it.

    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(8, 2)); y = (X[:, 0] > 0).astype(int)
    >>> res = train(X, y, hidden=(), epochs=2, batch_size=4, keep_optimizer_state=True)
    >>> res.optimizer_state.optimizer, res.optimizer_state.step, res.optimizer_state.state.shape
    ('adam', 4, (3, 6))
    """

    optimizer: str
    state: np.ndarray
    step: int


@dataclass
class _Problem:
    """Validated arrays and codes shared by train, loss_and_grad and predict_output."""

    X: np.ndarray
    y_int: np.ndarray
    Y: np.ndarray
    loss_code: int
    n_outputs: int
    n_classes: int | None


def _cast_finite(a: np.ndarray, dtype: type, what: str) -> np.ndarray:
    """``a`` as a C-contiguous ``dtype`` array; DataError for non-finite values or values the cast overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(a, dtype=dtype)
    if not np.all(np.isfinite(out)):
        bad = tuple(np.argwhere(~np.isfinite(out))[0])
        where = f"row {bad[0]}" + (f", column {bad[1]}" if len(bad) > 1 else "")
        before = a[bad] if np.issubdtype(a.dtype, np.number) else None
        if before is not None and np.isfinite(before):
            raise DataError(f"{what}: the value {float(before):g} at {where} is too large for {np.dtype(dtype).name} (at most "
                            f"{float(np.finfo(dtype).max):.1e}); standardise or rescale it first (lrsearch.data.load "
                            "standardises features).")  # fmt: skip
        raise DataError(f"{what} holds non-finite values (first at {where}); fill or drop them.")
    return out


def check_sample_weight(sample_weight: Any, n_rows: int, *, what: str = "sample_weight") -> np.ndarray | None:
    """``sample_weight`` as a new float64 array of ``n_rows`` finite weights >= 0, not all 0; None stays None.

    A single number weighs every row the same. The message of a refused weight
    names the row and the fix.

    >>> check_sample_weight([1, 0, 2.5], 3)
    array([1. , 0. , 2.5])
    >>> check_sample_weight([1, -1], 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lrsearch.exceptions.DataError: sample_weight holds a negative value (-1) at row 1; weights must be >= 0 ...
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if not (np.issubdtype(w.dtype, np.number) or w.dtype == np.bool_) or np.issubdtype(w.dtype, np.complexfloating):
        raise DataError(f"{what} must hold real numbers, one weight per row; got dtype {w.dtype}.")
    if w.ndim == 0:
        w = np.full(n_rows, w)
    if w.ndim != 1:
        raise DataError(f"{what} must be 1-D, one weight per row; got shape {w.shape}. To weigh the outputs "
                        "of a regression differently, rescale the target columns instead.")  # fmt: skip
    if w.shape[0] != n_rows:
        raise DataError(f"{what} has {w.shape[0]} entries for {n_rows} rows; pass one weight per row.")
    with np.errstate(over="ignore", invalid="ignore"):
        w = np.array(w, dtype=np.float64)  # a copy: the caller's array is never changed
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        raise DataError(f"{what} holds a non-finite value ({w[bad[0]]}) at row {bad[0]}; weights must be finite "
                        "numbers >= 0: fill it, or give the row weight 0 to leave it out.")  # fmt: skip
    bad = np.flatnonzero(w < 0)
    if bad.size:
        raise DataError(f"{what} holds a negative value ({w[bad[0]]:g}) at row {bad[0]}; weights must be >= 0 "
                        "(a weight of 0 leaves the row out).")  # fmt: skip
    if not np.any(w > 0):
        raise DataError(f"{what} is zero for every row, which leaves no row to train on (or score); give at least "
                        "one row a positive weight.")  # fmt: skip
    return w


def _relative(w: np.ndarray | None) -> np.ndarray | None:
    """Weights count only relative to each other: None when all are equal (the unweighted kernels, bit for bit),
    else ``w / max(w)`` (sums of many huge weights cannot overflow)."""
    if w is None:
        return None
    top = float(w.max())
    if np.all(w == top):
        return None
    return np.ascontiguousarray(w / top)


def _row_weights(sample_weight: Any, n_rows: int, what: str = "sample_weight") -> np.ndarray | None:
    """What the kernels take: :func:`check_sample_weight`'s weights relative to the largest (:func:`_relative`)."""
    return _relative(check_sample_weight(sample_weight, n_rows, what=what))


def _as_problem(X: Any, y: Any, task: str, n_classes: int | None, dtype: type, owner: str, what: str = "X") -> _Problem:
    X = np.asarray(X)
    if X.ndim != 2:
        raise DataError(f"{what} must be a 2-D array (n_samples, n_features); got shape {X.shape}.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"{what} is empty (shape {X.shape}); pass at least one row and one feature.")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
        raise DataError(f"{what} must be numeric; got dtype {X.dtype}. Encode categorical columns first (lrsearch.data.load does).")
    X = _cast_finite(X, dtype, what)
    y = np.asarray(y)
    if y.ndim == 0:
        raise DataError(f"the targets must be an array with one entry per row of {what}; got the scalar {y!r}.")
    if y.shape[0] != X.shape[0]:
        raise DataError(f"{what} has {X.shape[0]} rows but its targets have {y.shape[0]}; pass one target per row.")
    if task == "classification":
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]  # a column vector of labels
        numeric = np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_
        if y.ndim != 1 or not numeric or not (np.issubdtype(y.dtype, np.integer) or np.all(np.mod(y, 1) == 0)):
            raise DataError(
                "classification targets must be a 1-D array of integer labels 0..K-1; "
                "encode other labels first (lrsearch.data.load does)."
            )
        y_int = np.ascontiguousarray(y, dtype=np.int64)
        if y_int.min() < 0:
            raise DataError(f"classification labels must be >= 0; got {y_int.min()}.")
        k = int(y_int.max()) + 1 if n_classes is None else n_classes
        if y_int.max() >= k:
            raise DataError(f"label {y_int.max()} is out of range for n_classes={k}.")
        if k < 2:
            raise DataError("classification needs at least 2 classes; the targets hold one. Use more data or a regression task.")
        return _Problem(X, y_int, np.zeros((0, 1), dtype=dtype), K.LOSS_XENT, k, k)
    if not np.issubdtype(y.dtype, np.number):
        raise DataError(f"regression targets must be numeric; got dtype {y.dtype}.")
    if y.ndim > 2:
        raise DataError(f"regression targets must be 1-D (n,) or 2-D (n, outputs); got shape {y.shape}.")
    Y = y.reshape(-1, 1) if y.ndim == 1 else y
    Y = _cast_finite(Y, dtype, "regression targets")
    return _Problem(X, np.zeros(0, dtype=np.int64), Y, K.LOSS_MSE, Y.shape[1], None)


def _keep_rows(prob: _Problem, keep: np.ndarray) -> _Problem:
    """The problem restricted to the rows where ``keep`` is True."""
    y_int = np.ascontiguousarray(prob.y_int[keep]) if prob.y_int.shape[0] else prob.y_int
    Y = np.ascontiguousarray(prob.Y[keep]) if prob.Y.shape[0] else prob.Y
    return _Problem(np.ascontiguousarray(prob.X[keep]), y_int, Y, prob.loss_code, prob.n_outputs, prob.n_classes)


class _Buffers:
    """Batch-sized work arrays, allocated once per run."""

    def __init__(self, sizes: np.ndarray, batch_size: int, n_outputs_target: int, dtype: type):
        widths = sizes[1:]
        self.batch_size = batch_size
        self.Xb = np.empty((batch_size, int(sizes[0])), dtype=dtype)
        self.yb = np.empty(batch_size, dtype=np.int64)
        self.Yb = np.empty((batch_size, n_outputs_target), dtype=dtype)
        self.acts = np.empty(batch_size * int(widths.sum()), dtype=dtype)
        self.d_a = np.empty(batch_size * int(widths.max()), dtype=dtype)
        self.d_b = np.empty_like(self.d_a)


def _evaluate(prob: _Problem, layout: Layout, act: int, theta: np.ndarray, buf: _Buffers,
              sw: np.ndarray | None = None) -> tuple[float, np.ndarray]:  # fmt: skip
    out = np.empty((prob.X.shape[0], int(layout.sizes[-1])), dtype=theta.dtype)
    loss = K.evaluate(
        prob.X, prob.y_int, prob.Y, _NO_WEIGHTS if sw is None else sw, buf.batch_size, layout.sizes, act,
        prob.loss_code, theta, buf.Xb, buf.acts, buf.d_a, out,
    )  # fmt: skip
    return float(loss), out


def _score(prob: _Problem, out: np.ndarray, sw: np.ndarray | None = None) -> float:
    """Cheap per-epoch score: accuracy, or R² averaged over outputs (weighted by ``sw`` as scikit-learn's
    ``accuracy_score`` and ``r2_score`` weigh them)."""
    if prob.loss_code == K.LOSS_XENT:
        return float(np.average(np.argmax(out, axis=1) == prob.y_int, weights=sw))
    if sw is None:
        ss_res = ((prob.Y - out) ** 2).sum(axis=0)
        ss_tot = ((prob.Y - prob.Y.mean(axis=0)) ** 2).sum(axis=0)
    else:
        ss_res = (sw[:, None] * (prob.Y - out) ** 2).sum(axis=0)
        ss_tot = (sw[:, None] * (prob.Y - np.average(prob.Y, axis=0, weights=sw)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a constant column: 1 if predicted exactly, else 0 (scikit-learn's r2_score, force_finite=True)
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.where(ss_res > 0, 0.0, 1.0))
    return float(np.mean(r2))


def _check_common(task: str, activation: str, hidden: Sequence[int], dtype: str, owner: str) -> tuple[int, list[int], type]:
    check_choice(task, "task", owner, TASKS)
    act = ACTIVATIONS[check_choice(activation, "activation", owner, ACTIVATIONS)]
    widths = list(check_hidden(hidden, owner))
    check_choice(dtype, "dtype", owner, _DTYPES)
    return act, widths, _DTYPES[dtype]


class Trainer:
    """A network, its optimizer state and work buffers: the core's stateful engine.

    :func:`train` drives one; the LR range test drives one step by step with its
    own rate ladder (:meth:`run_steps`), and restores a :meth:`snapshot`. All
    arguments are validated as :func:`train` validates them.

    ``sample_weight`` (one weight >= 0 per row) makes each batch's loss the
    weighted mean ``sum w_i l_i / sum w_i``; rows of weight 0 are left out
    (``n_rows`` and the row indices of :meth:`run_steps` count the others).
    ``optimizer_state`` continues an earlier run's optimizer
    (:meth:`optimizer_state`, ``TrainResult.optimizer_state``).

    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(32, 2)); y = (X[:, 0] > 0).astype(int)
    >>> tr = Trainer(X, y, hidden=(4,), optimizer="sgd", batch_size=8, dtype="float64")
    >>> snap = tr.snapshot()
    >>> out = tr.run_steps(np.arange(32), np.full(4, 0.1))
    >>> out.taken, out.status, len(out.losses)
    (4, 'ok', 4)
    >>> tr.restore(snap); tr.step
    0
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        *,
        task: str = "classification",
        hidden: Sequence[int] = (64,),
        activation: str = "relu",
        optimizer: str = "adam",
        optimizer_params: Mapping[str, Any] | None = None,
        batch_size: int = 32,
        seed: int = 0,
        dtype: str = "float32",
        init: str | tuple[Sequence[np.ndarray], Sequence[np.ndarray]] = "auto",
        clip_norm: float | None = None,
        clip_value: float | None = None,
        normalize_grad: bool = False,
        layer_lrs: Sequence[float] | None = None,
        n_classes: int | None = None,
        diverge_factor: float = 1e3,
        sample_weight: Any = None,
        optimizer_state: OptimizerState | None = None,
        owner: str = "train",
    ):
        self.act, widths, self.np_dtype = _check_common(task, activation, hidden, dtype, owner)
        self.task, self.activation = task, activation
        batch_size = check_int(batch_size, "batch_size", owner, low=1)
        self.seed = check_int(seed, "seed", owner, low=0)
        check_bool(normalize_grad, "normalize_grad", owner)
        self.normalize_grad = normalize_grad
        diverge_factor = check_float(diverge_factor, "diverge_factor", owner, low=1.0, low_open=True)
        self.clip_norm = 0.0 if clip_norm is None else check_float(clip_norm, "clip_norm", owner, low=0.0, low_open=True)
        self.clip_value = 0.0 if clip_value is None else check_float(clip_value, "clip_value", owner, low=0.0, low_open=True)
        self.opt = make_optimizer(optimizer, optimizer_params)
        self.prob = _as_problem(X, y, task, n_classes, self.np_dtype, owner)
        weights = _row_weights(sample_weight, self.prob.X.shape[0])
        if weights is not None and not np.all(weights > 0):
            # a row of weight 0 is as good as absent (it would only make batches smaller); so is one whose weight
            # is 0 relative to the largest (1e-300 next to 1e300): a batch of only those would weigh 0 in all
            keep = weights > 0
            self.prob, weights = _keep_rows(self.prob, keep), _relative(weights[keep])
        #: None (every row weighs the same), or the rows' weights relative to the largest
        self.sample_weight = weights
        n = self.prob.X.shape[0]
        if batch_size > n:
            if (batch_size, n) not in _WARNED_BATCH:  # once per process: a study trains the same rows many times
                _WARNED_BATCH.add((batch_size, n))
                log.warning("batch_size=%d is larger than the %d training rows; using %d.", batch_size, n, n)
            batch_size = n
        self.batch_size = batch_size
        self.layout = Layout([self.prob.X.shape[1], *widths, self.prob.n_outputs])
        if layer_lrs is None:
            self.layer_mult = np.ones(self.layout.n_layers, dtype=np.float64)
        else:
            if len(layer_lrs) != self.layout.n_layers:
                raise ConfigError(
                    f"layer_lrs must hold one multiplier per layer ({self.layout.n_layers} for "
                    f"hidden={tuple(widths)}); got {len(layer_lrs)}."
                )
            self.layer_mult = np.array([check_float(m, "layer_lrs", owner, low=0.0) for m in layer_lrs])
            if not np.any(self.layer_mult > 0):
                raise ConfigError(f"layer_lrs {list(layer_lrs)} freeze every layer, so nothing would train; "
                                  "give at least one layer a multiplier above 0 (1 is the base rate).")  # fmt: skip
        if isinstance(init, str):
            scheme = check_choice(init, "init", owner, ["auto", "he", "glorot"])
            if scheme == "auto":
                scheme = "he" if activation == "relu" else "glorot"
            self.theta = self.layout.initialise(scheme, seed=self.seed, dtype=self.np_dtype)
        else:
            try:
                coefs0, intercepts0 = init
            except (TypeError, ValueError):
                raise ConfigError("init must be 'auto', 'he', 'glorot' or a pair (coefs, intercepts).") from None
            self.theta = self.layout.pack(coefs0, intercepts0, self.np_dtype)
        self.grad = np.zeros_like(self.theta)
        self.state = self.opt.initial_state(self.layout.n_params, self.np_dtype)
        self.step = 0
        if optimizer_state is not None:
            self._continue(optimizer_state)
        self.hp = self.opt.hyperparameters()
        self.buf = _Buffers(self.layout.sizes, batch_size, self.prob.Y.shape[1], self.np_dtype)
        self.explode = np.array([diverge_factor, math.nan])

    def _continue(self, saved: OptimizerState) -> None:
        """Start from an earlier run's optimizer state (checked against this network and optimizer)."""
        if not isinstance(saved, OptimizerState):
            raise ConfigError(f"optimizer_state must be an OptimizerState (TrainResult.optimizer_state); got "
                              f"{type(saved).__name__}.")  # fmt: skip
        if saved.optimizer != self.opt.name:
            raise ConfigError(f"optimizer_state was filled by optimizer {saved.optimizer!r} but this run uses "
                              f"{self.opt.name!r}, which cannot continue it; pass optimizer_state=None to start "
                              "the optimizer afresh.")  # fmt: skip
        state = np.asarray(saved.state)
        if state.shape != self.state.shape:
            raise ConfigError(f"optimizer_state has shape {state.shape} but this network's optimizer needs "
                              f"{self.state.shape} (layer sizes {self.layout.sizes.tolist()}); pass the state of a "
                              "run with the same layer sizes, or optimizer_state=None.")  # fmt: skip
        self.state[...] = state
        self.step = check_int(saved.step, "optimizer_state.step", "train", low=0)

    def optimizer_state(self) -> OptimizerState:
        """A copy of the optimizer's state and step count, to continue it later (``train(optimizer_state=...)``)."""
        return OptimizerState(self.opt.name, self.state.copy(), self.step)

    @property
    def n_rows(self) -> int:
        return int(self.prob.X.shape[0])

    @property
    def steps_per_epoch(self) -> int:
        return (self.n_rows + self.batch_size - 1) // self.batch_size

    def run_steps(self, order: np.ndarray, lrs: np.ndarray, moms: np.ndarray | None = None) -> StepsOutcome:
        """Train on the batches of ``order`` (row indices, rows may repeat), one rate per batch.

        ``moms``: one momentum (SGD, RMSprop) or beta1 (Adam, AdamW) per batch,
        for a schedule that cycles it; None keeps the optimizer's own.

        Stops at the first batch whose loss is non-finite or exploded (that batch
        is not applied), or after an update that made the parameters non-finite.
        """
        order = np.ascontiguousarray(order, dtype=np.int64)
        if order.ndim != 1:
            raise DataError(f"run_steps takes a 1-D array of row indices; got shape {order.shape}.")
        if order.size and (order.min() < 0 or order.max() >= self.n_rows):  # the kernel does not check: a crash
            raise DataError(f"run_steps: row indices must lie in 0..{self.n_rows - 1} (the trainer's rows); got "
                            f"{order.min()}..{order.max()}.")  # fmt: skip
        lrs = np.ascontiguousarray(lrs, dtype=np.float64)
        n_batches = (order.shape[0] + self.batch_size - 1) // self.batch_size
        if lrs.shape[0] < n_batches:
            raise ConfigError(f"run_steps needs one rate per batch ({n_batches}); got {lrs.shape[0]}.")
        losses = np.full(n_batches, np.nan)
        moms = _NO_MOMS if moms is None else np.ascontiguousarray(moms, dtype=np.float64)
        if 0 < moms.shape[0] < n_batches:
            raise ConfigError(f"run_steps needs one momentum per batch ({n_batches}); got {moms.shape[0]}.")
        if moms.shape[0] and self.opt.code == K.OPT_ADAGRAD:
            raise ConfigError("schedule one_cycle with cycle_momentum=True needs an optimizer with a momentum or "
                              "beta1 (not adagrad, which torch's OneCycleLR refuses too); set cycle_momentum=False "
                              "or use another optimizer.")  # fmt: skip
        mom_slot = K.HP_BETA1 if self.opt.code == K.OPT_ADAM else K.HP_MOMENTUM
        own_mom = float(self.hp[mom_slot])  # the kernel writes each cycled momentum here; put the optimizer's back
        p, b = self.prob, self.buf
        w_order = _NO_WEIGHTS if self.sample_weight is None else self.sample_weight[order]
        loss_sum, rows, taken, code = K.train_epoch(
            p.X, p.y_int, p.Y, order, w_order, self.batch_size, self.layout.sizes, self.act, p.loss_code,
            self.theta, self.grad, self.state, self.step, self.opt.code, self.hp, self.layer_mult, lrs,
            moms, mom_slot, self.clip_value, self.clip_norm, self.normalize_grad, self.explode,
            b.Xb, b.yb, b.Yb, b.acts, b.d_a, b.d_b, losses,
        )  # fmt: skip
        self.hp[mom_slot] = own_mom
        self.step += taken
        n_seen = taken + (code in (K.STATUS_NONFINITE_LOSS, K.STATUS_EXPLODED))
        status = "ok" if code == K.STATUS_OK else "diverged"
        # loss_sum covers the first `rows` entries of order (the batches whose loss was finite)
        weight = float(rows) if self.sample_weight is None else float(w_order[:rows].sum())
        return StepsOutcome(losses[:n_seen], taken, status, _REASONS.get(code), float(loss_sum), int(rows), weight)

    def evaluate(self, X: Any, y: Any, sample_weight: Any = None) -> tuple[float, np.ndarray]:
        """Mean loss on (X, y) (weighted by ``sample_weight``, if given) and the outputs (probabilities or
        predictions)."""
        prob = _as_problem(X, y, self.task, self.prob.n_classes, self.np_dtype, "evaluate", what="X_val")
        sw = _row_weights(sample_weight, prob.X.shape[0], what="sample_weight_val")
        # the kernel trusts the shapes: a narrower X read past its rows (and corrupted memory)
        if prob.X.shape[1] != self.prob.X.shape[1]:
            raise DataError(f"X_val has {prob.X.shape[1]} columns but the network was built for "
                            f"{self.prob.X.shape[1]}; pass rows with the training data's columns.")  # fmt: skip
        if prob.Y.shape[1] != self.prob.Y.shape[1]:
            raise DataError(f"y_val has {prob.Y.shape[1]} outputs but the network has {self.prob.Y.shape[1]}; "
                            "pass targets shaped as the training targets.")  # fmt: skip
        return _evaluate(prob, self.layout, self.act, self.theta, self.buf, sw)

    def snapshot(self) -> dict[str, Any]:
        """Copies of the parameters, optimizer state, step count and divergence reference."""
        return {"theta": self.theta.copy(), "state": self.state.copy(), "step": self.step, "explode": self.explode.copy()}

    def restore(self, snap: Mapping[str, Any]) -> None:
        """Return to a :meth:`snapshot` (in place: views stay valid)."""
        self.theta[...] = snap["theta"]
        self.state[...] = snap["state"]
        self.step = int(snap["step"])
        self.explode[...] = snap["explode"]

    def coefs(self) -> list[np.ndarray]:
        return [w.copy() for w in self.layout.coefs(self.theta)]

    def intercepts(self) -> list[np.ndarray]:
        return [b.copy() for b in self.layout.intercepts(self.theta)]


@dataclass(frozen=True)
class StepsOutcome:
    """What :meth:`Trainer.run_steps` did: per-batch losses seen (before each update), steps taken.

    ``loss_sum`` sums the losses of the ``rows`` rows of the batches applied
    (each weighted by its sample weight, relative to the largest, when the
    trainer has weights); ``weight_sum`` is their total weight (``rows``
    without weights), so ``loss_sum / weight_sum`` is their mean loss.
    """

    losses: np.ndarray
    taken: int
    status: str
    reason: str | None
    loss_sum: float
    rows: int
    weight_sum: float = math.nan


def train(
    X: Any,
    y: Any,
    *,
    task: str = "classification",
    hidden: Sequence[int] = (64,),
    activation: str = "relu",
    optimizer: str = "adam",
    lr: float = 1e-3,
    optimizer_params: Mapping[str, Any] | None = None,
    schedule: str = "constant",
    schedule_params: Mapping[str, Any] | None = None,
    epochs: int = 20,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 0,
    dtype: str = "float32",
    init: str | tuple[Sequence[np.ndarray], Sequence[np.ndarray]] = "auto",
    X_val: Any = None,
    y_val: Any = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    normalize_grad: bool = False,
    layer_lrs: Sequence[float] | None = None,
    n_classes: int | None = None,
    diverge_factor: float = 1e3,
    compute_metrics: bool = True,
    callback: Callable[[int, TrainResult], bool | None] | None = None,
    early_stopping: int | None = None,
    min_delta: float = 0.0,
    restore_best: bool = True,
    sample_weight: Any = None,
    sample_weight_val: Any = None,
    optimizer_state: OptimizerState | None = None,
    keep_optimizer_state: bool = False,
) -> TrainResult:
    """Train an MLP by minibatch gradient descent; return a :class:`TrainResult`.

    ``lr`` is the base rate as ``torch.optim`` means it; ``schedule`` scales it
    per epoch or per step; ``optimizer_params`` take torch.optim's names.
    Divergence (non-finite loss or parameters, or a batch loss above
    ``diverge_factor`` times the first batch's) ends the run with status
    ``diverged`` and the last good epoch's parameters. ``callback(epoch,
    result_so_far)`` returning True stops the run (status ``stopped``).
    ``early_stopping=k`` ends the run (status ``early_stopped``) once the
    validation loss has not fallen more than ``min_delta`` below its best for
    ``k`` epochs in a row (Keras' ``EarlyStopping(patience=k, min_delta=...)``);
    with ``restore_best`` the result holds the best epoch's parameters and
    metrics (``info["best_epoch"]``, 1-based; ``info["restored_epoch"]`` when
    they are not the last epoch's), also when the run reached ``epochs`` first,
    as Keras 3 does. The curves keep every epoch run.
    ``compute_metrics=False`` skips the final scikit-learn metrics.

    ``sample_weight`` (one weight >= 0 per row of ``X``) makes every batch's
    loss the weighted mean ``sum w_i l_i / sum w_i`` of its rows, and its
    gradient that mean's: an integer weight counts a row that many times,
    rows of weight 0 are left out, and weights that are all equal are no
    weights at all (bit for bit). ``train_loss`` is then the weighted mean
    over the epoch's rows. Weight decay is the optimizer's, untouched by the
    weights. ``sample_weight_val`` weighs the validation loss and score the
    same way (``val_metrics`` stay unweighted). ``optimizer_state`` continues
    an earlier run's optimizer (momentum, Adam's moments and step count);
    ``keep_optimizer_state=True`` returns this run's in
    ``TrainResult.optimizer_state`` (that of the last good epoch after a
    divergence).

    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 40).reshape(-1, 1)
    >>> res = train(X, 2 * X[:, 0], task="regression", hidden=(), optimizer="sgd", lr=0.5,
    ...             epochs=30, batch_size=40, dtype="float64")
    >>> round(float(res.coefs[0][0, 0]), 3)
    2.0
    """
    owner = "train"
    lr = check_float(lr, "lr", owner, low=0.0, low_open=True, high_open=True)
    epochs = check_int(epochs, "epochs", owner, low=1)
    check_bool(shuffle, "shuffle", owner)
    if early_stopping is not None:
        early_stopping = check_int(early_stopping, "early_stopping", owner, low=1,
                                   fix="It is the patience in epochs; None turns early stopping off.")  # fmt: skip
    min_delta = check_float(min_delta, "min_delta", owner, low=0.0)
    check_bool(restore_best, "restore_best", owner)
    check_bool(keep_optimizer_state, "keep_optimizer_state", owner)
    sched = make_schedule(schedule, schedule_params)
    tr = Trainer(
        X, y, task=task, hidden=hidden, activation=activation, optimizer=optimizer,
        optimizer_params=optimizer_params, batch_size=batch_size, seed=seed, dtype=dtype, init=init,
        clip_norm=clip_norm, clip_value=clip_value, normalize_grad=normalize_grad, layer_lrs=layer_lrs,
        n_classes=n_classes, diverge_factor=diverge_factor, sample_weight=sample_weight,
        optimizer_state=optimizer_state,
    )  # fmt: skip
    val = None
    w_val = None
    if (X_val is None) != (y_val is None):
        raise ConfigError("Pass both X_val and y_val, or neither.")
    if X_val is not None and all(np.ndim(a) > 0 and np.shape(a)[0] == 0 for a in (X_val, y_val)):
        X_val = y_val = None  # an empty validation split (val_size=0): train without validation
        if sample_weight_val is not None and np.ndim(sample_weight_val) > 0 and np.shape(sample_weight_val)[0] == 0:
            sample_weight_val = None
    if X_val is None and sample_weight_val is not None:
        raise ConfigError("sample_weight_val weighs the validation rows; pass X_val and y_val with it, or leave "
                          "it out.")  # fmt: skip
    if X_val is not None:
        val = _as_problem(X_val, y_val, task, tr.prob.n_classes, tr.np_dtype, owner, what="X_val")
        w_val = _row_weights(sample_weight_val, val.X.shape[0], what="sample_weight_val")
        if val.X.shape[1] != tr.prob.X.shape[1]:
            raise DataError(f"X_val has {val.X.shape[1]} features but X has {tr.prob.X.shape[1]}; use the same columns.")
        if task == "regression" and val.Y.shape[1] != tr.prob.Y.shape[1]:
            raise DataError(f"y_val has {val.Y.shape[1]} targets but y has {tr.prob.Y.shape[1]}.")
    if early_stopping is not None and val is None:
        raise ConfigError("early_stopping watches the validation loss; pass X_val and y_val, or early_stopping=None.")

    n, spe = tr.n_rows, tr.steps_per_epoch
    warm, unit = sched.params["warmup"], sched.params["interval"]
    length = epochs if unit == "epoch" else epochs * spe
    if warm and warm >= length:
        raise ConfigError(f"Schedule {sched.name!r}: warmup={warm} {unit}s is not shorter than the run ({length} "
                          f"{unit}s), so the rate would never reach lr; lower warmup below {length} or raise "
                          f"epochs.")  # fmt: skip
    base_rates = sched.rates(lr, spe, epochs)
    momenta = sched.momenta(spe, epochs)  # run_steps refuses them for adagrad
    plateau = None
    if sched.name == "plateau":
        p = sched.params
        plateau = Plateau(lr=lr, factor=p["factor"], patience=p["patience"], threshold=p["threshold"],
                          cooldown=p["cooldown"], min_lr=p["min_lr"])  # fmt: skip
    rng = np.random.default_rng(tr.seed)
    identity = np.arange(n, dtype=np.int64)
    train_loss: list[float] = []
    val_loss: list[float] = []
    val_score: list[float] = []
    used_lrs: list[np.ndarray] = []
    status, reason, diverged_step = "completed", None, None
    multiplier = 1.0
    last_good = tr.theta.copy()
    good_state = tr.state.copy() if keep_optimizer_state else None  # the optimizer as of last_good
    good_step = tr.step
    meta = {"task": task, "activation": activation, "n_classes": tr.prob.n_classes}
    best_loss, best_epoch, best_theta, best_outputs, waited = math.inf, 0, None, None, 0

    for epoch in range(epochs):
        order = rng.permutation(n).astype(np.int64) if shuffle else identity
        rates = base_rates[epoch * spe : (epoch + 1) * spe] * multiplier
        out = tr.run_steps(order, rates, None if momenta is None else momenta[epoch * spe : (epoch + 1) * spe])
        used_lrs.append(rates[: out.taken])
        if out.status != "ok":
            diverged_step = tr.step
            status = "diverged"
            bad_lr = rates[min(len(out.losses), len(rates)) - 1] if len(out.losses) else rates[0]
            reason = f"{out.reason} at step {diverged_step} (epoch {epoch + 1}, lr {bad_lr:.3g})"
            tr.theta[...] = last_good
            log.info("training diverged: %s", reason)
            break
        train_loss.append(out.loss_sum / out.weight_sum)
        if val is not None:
            vl, outputs = _evaluate(val, tr.layout, tr.act, tr.theta, tr.buf, w_val)
            val_loss.append(vl)
            val_score.append(_score(val, outputs, w_val) if math.isfinite(vl) else math.nan)
        else:
            val_loss.append(math.nan)
            val_score.append(math.nan)
        last_good[...] = tr.theta
        if good_state is not None:
            good_state[...] = tr.state
            good_step = tr.step
        if early_stopping is not None:
            if val_loss[-1] < best_loss - min_delta:
                best_loss, best_epoch, waited = val_loss[-1], epoch + 1, 0
                if restore_best:
                    best_theta, best_outputs = tr.theta.copy(), outputs.copy()
            else:
                waited += 1
                if waited >= early_stopping:
                    status = "early_stopped"
                    reason = (f"the validation loss did not fall more than {min_delta:g} below its best "
                              f"({best_loss:.4g}, epoch {best_epoch}) for {early_stopping} epochs")  # fmt: skip
                    break
        if plateau is not None and epoch >= sched.params["warmup"]:
            # the plateau rule watches the main schedule only, not the warm-up ramp
            multiplier = plateau.step(val_loss[-1] if val is not None else train_loss[-1])
        if callback is not None:
            partial = _result(tr.layout, tr.theta, train_loss, val_loss, val_score, used_lrs, {}, "running",
                              None, None, epoch + 1, tr.step, meta)  # fmt: skip
            if callback(epoch, partial):
                status, reason = "stopped", f"stopped by callback after epoch {epoch + 1}"
                break

    info: dict[str, Any] = {}
    if early_stopping is not None:
        info["best_epoch"] = best_epoch or None
        # restored at the end of any run that early stopping watched (Keras 3's EarlyStopping and scikit-learn's
        # MLP do the same), not only one it stopped; a diverged run keeps its last finite parameters
        if (status != "diverged" and restore_best and best_theta is not None
                and best_epoch != len(train_loss)):  # fmt: skip
            tr.theta[...] = best_theta
            outputs = best_outputs
            info["restored_epoch"] = best_epoch
    metrics: dict[str, float] = {}
    if val is not None and compute_metrics and train_loss:
        from lrsearch.metrics import compute_metrics as _metrics

        # the last evaluation saw the final parameters (a diverged run returns to them)
        final_loss = best_loss if info.get("restored_epoch") else val_loss[-1]  # the returned parameters' loss
        # (lrsearch.metrics takes no weights: with sample_weight_val its cross-entropy is its own, unweighted too)
        exact = task == "classification" and w_val is None
        metrics = _metrics(task, val.y_int if task == "classification" else val.Y, outputs,
                           cross_entropy=final_loss if exact else None)  # fmt: skip
    return _result(tr.layout, tr.theta, train_loss, val_loss, val_score, used_lrs, metrics, status, reason,
                   diverged_step, len(train_loss), tr.step, meta, info,
                   None if good_state is None else OptimizerState(tr.opt.name, good_state, good_step))  # fmt: skip


def _result(layout: Layout, theta: np.ndarray, train_loss: list[float], val_loss: list[float], val_score: list[float],
            used_lrs: list[np.ndarray], metrics: dict[str, float], status: str, reason: str | None,
            diverged_step: int | None, epochs_run: int, steps: int, meta: dict[str, Any],
            info: dict[str, Any] | None = None,
            optimizer_state: OptimizerState | None = None) -> TrainResult:  # fmt: skip
    lrs = np.concatenate(used_lrs) if used_lrs else np.zeros(0)
    return TrainResult(
        coefs=[w.copy() for w in layout.coefs(theta)],
        intercepts=[b.copy() for b in layout.intercepts(theta)],
        train_loss=np.asarray(train_loss, dtype=np.float64),
        val_loss=np.asarray(val_loss, dtype=np.float64),
        val_score=np.asarray(val_score, dtype=np.float64),
        lrs=lrs,
        val_metrics=metrics,
        status=status,
        reason=reason,
        diverged_step=diverged_step,
        epochs_run=epochs_run,
        steps_run=steps,
        task=meta["task"],
        activation=meta["activation"],
        n_classes=meta["n_classes"],
        info=dict(info or {}),
        optimizer_state=optimizer_state,
    )


def _network(coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray]) -> tuple[Layout, np.ndarray]:
    if len(coefs) == 0:
        raise ConfigError("coefs is empty; pass one weight matrix per layer.")
    sizes = [np.asarray(coefs[0]).shape[0]] + [np.asarray(w).shape[1] for w in coefs]
    dtype = np.asarray(coefs[0]).dtype
    dtype = dtype if dtype in (np.float32, np.float64) else np.float64
    layout = Layout(sizes)
    return layout, layout.pack(coefs, intercepts, dtype)


def loss_and_grad(
    X: Any, y: Any, coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray], *,
    task: str = "classification", activation: str = "relu", n_classes: int | None = None,
    sample_weight: Any = None,
) -> tuple[float, list[np.ndarray], list[np.ndarray]]:  # fmt: skip
    """Mean loss over all rows of ``X`` and its gradient, per layer (dtype of ``coefs[0]``).

    With ``sample_weight`` (one weight >= 0 per row), the weighted mean
    ``sum w_i l_i / sum w_i`` and its gradient: what one training batch of
    these rows descends.

    >>> import numpy as np
    >>> W, b = [np.zeros((2, 2))], [np.zeros(2)]
    >>> loss, gW, gb = loss_and_grad(np.ones((3, 2)), np.array([0, 1, 1]), W, b, activation="identity")
    >>> round(loss, 4)   # log(2): uniform softmax
    0.6931
    >>> X, y = np.array([[1.0], [2.0]]), np.array([1.0, 0.0])
    >>> loss, _, _ = loss_and_grad(X, y, [np.ones((1, 1))], [np.zeros(1)], task="regression", sample_weight=[3, 1])
    >>> round(loss, 9)   # squared errors 0 and 4, weighted (3 * 0 + 1 * 4) / (3 + 1)
    1.0
    """
    act = ACTIVATIONS[check_choice(activation, "activation", "loss_and_grad", ACTIVATIONS)]
    check_choice(task, "task", "loss_and_grad", TASKS)
    layout, theta = _network(coefs, intercepts)
    prob = _as_problem(X, y, task, n_classes or (int(layout.sizes[-1]) if task == "classification" else None),
                       theta.dtype.type, "loss_and_grad")  # fmt: skip
    if prob.n_outputs != layout.sizes[-1] or prob.X.shape[1] != layout.sizes[0]:
        raise DataError(f"X/y do not fit the network's layer sizes {layout.sizes.tolist()}.")
    n = prob.X.shape[0]
    sw = _row_weights(sample_weight, n)
    buf = _Buffers(layout.sizes, n, prob.Y.shape[1], theta.dtype.type)
    grad = np.zeros_like(theta)
    loss = K.loss_grad(prob.X, prob.y_int, prob.Y, _NO_WEIGHTS if sw is None else sw, layout.sizes, act, prob.loss_code,
                       theta, grad, buf.acts, buf.d_a, buf.d_b)  # fmt: skip
    return float(loss), [w.copy() for w in layout.coefs(grad)], [b.copy() for b in layout.intercepts(grad)]


def predict_output(
    X: Any, coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray], *,
    task: str = "classification", activation: str = "relu", batch_size: int = 256,
) -> np.ndarray:  # fmt: skip
    """Class probabilities (classification) or predictions (regression) for ``X``.

    >>> import numpy as np
    >>> predict_output(np.ones((1, 2)), [np.zeros((2, 3))], [np.zeros(3)], activation="identity").round(3)
    array([[0.333, 0.333, 0.333]])
    """
    return _output(X, None, coefs, intercepts, task, activation, batch_size, "predict_output")[1]


def evaluate_output(
    X: Any, y: Any, coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray], *,
    task: str = "classification", activation: str = "relu", batch_size: int = 256,
    sample_weight: Any = None,
) -> tuple[float, np.ndarray]:  # fmt: skip
    """The network's mean loss on ``(X, y)`` (exact softmax cross-entropy, or MSE) and its outputs.

    The loss is the training loss's own formula (log-softmax, no clipping), so
    it equals ``train``'s ``val_loss`` for the same data and parameters (with
    ``sample_weight``, the weighted mean ``sum w_i l_i / sum w_i``, as
    ``train``'s ``sample_weight_val`` weighs it).

    >>> import numpy as np
    >>> loss, out = evaluate_output(np.ones((2, 2)), np.array([0, 1]), [np.zeros((2, 2))], [np.zeros(2)],
    ...                             activation="identity")
    >>> round(loss, 4)   # log(2)
    0.6931
    """
    return _output(X, y, coefs, intercepts, task, activation, batch_size, "evaluate_output", sample_weight)


def _output(X: Any, y: Any, coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray], task: str,
            activation: str, batch_size: int, owner: str,
            sample_weight: Any = None) -> tuple[float, np.ndarray]:  # fmt: skip
    act = ACTIVATIONS[check_choice(activation, "activation", owner, ACTIVATIONS)]
    check_choice(task, "task", owner, TASKS)
    layout, theta = _network(coefs, intercepts)
    X = np.asarray(X)
    k = int(layout.sizes[-1])
    if y is None:
        y = np.zeros(X.shape[0], dtype=np.int64) if task == "classification" else np.zeros((X.shape[0], k))
    prob = _as_problem(X, y, task, k if task == "classification" else None, theta.dtype.type, owner, what="X")
    if prob.X.shape[1] != layout.sizes[0]:
        raise DataError(f"X has {prob.X.shape[1]} features but the network expects {layout.sizes[0]}.")
    if prob.n_outputs != k:
        raise DataError(f"y has {prob.n_outputs} targets but the network has {k} outputs.")
    sw = _row_weights(sample_weight, prob.X.shape[0])
    buf = _Buffers(layout.sizes, min(batch_size, prob.X.shape[0]), prob.Y.shape[1], theta.dtype.type)
    return _evaluate(prob, layout, act, theta, buf, sw)
