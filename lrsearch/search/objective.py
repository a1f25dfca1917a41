"""The objective: one trial = sample a configuration, train with per-epoch reports, score it.

The value is the objective metric on the validation split at the last epoch
(regression metrics in the target's original units). Every ``report_every``
epochs, and at the last epoch whether or not ``report_every`` divides the
epochs, the same metric is reported to Optuna; the pruner is asked at every
report but the last (a finished run is complete, never pruned), and a pruned
trial stops at once. A diverged run is never an exception: its reason is saved
as the user attribute ``diverged_reason``, a NaN is reported at the epoch where
it happened (so the sampler ranks it below every trial that got further) and
the trial is pruned.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from lrsearch.metrics import GREATER_IS_BETTER
from lrsearch.nn.training import TrainResult, evaluate_output, predict_output, train

__all__ = ["StopRequested", "direction_of", "epoch_value_fn", "make_objective", "trial_config", "val_metrics"]


class StopRequested(Exception):
    """The run was asked to stop (Ctrl-C in the parent); the trial is failed, to be rerun on resume."""


def direction_of(objective: str) -> str:
    """``maximize`` or ``minimize``.

    >>> direction_of("accuracy"), direction_of("val_loss")
    ('maximize', 'minimize')
    """
    return "maximize" if GREATER_IS_BETTER[objective] else "minimize"


def trial_config(spec: Any, space: Any, trial: Any) -> dict[str, Any]:
    """The full :func:`lrsearch.nn.train` keyword arguments of a trial (fixed settings + sampled ones)."""
    return {**spec.train_kwargs(), **space.sample(trial)}


def epoch_value_fn(dataset: Any, objective: str) -> Callable[[TrainResult], float]:
    """How to read the objective off a partial result after an epoch (cheapest exact way)."""
    if objective == "val_loss":
        return lambda res: float(res.val_loss[-1])
    if (objective == "accuracy" and dataset.task == "classification") or (
        objective == "r2" and dataset.task == "regression"
    ):
        return lambda res: float(res.val_score[-1])  # R² is scale-free, so standardised targets give the same value
    return lambda res: float(val_metrics(dataset, res)[objective])


def val_metrics(dataset: Any, result: TrainResult) -> dict[str, float]:
    """The metrics of :mod:`lrsearch.metrics` on the validation split, computed with NumPy.

    Equal to ``lrsearch.evaluation.score_split(dataset, result, "val")`` (to
    rounding; pinned by a test) but ~100x cheaper: scikit-learn's input checks
    cost ~13 ms per call, as much as a small trial's training. Classification:
    accuracy, macro precision/recall/F1 over the classes the split holds or the
    network predicts (0 where undefined),
    the exact cross-entropy (the training loss's log-softmax); regression: MSE and
    R² (uniform over outputs) in the target's original units.
    """
    if dataset.task == "classification":
        y = np.asarray(dataset.y_val, dtype=np.int64)
        loss, out = evaluate_output(dataset.X_val, y, result.coefs, result.intercepts, activation=result.activation)
        k = out.shape[1]
        pred = np.argmax(out, axis=1)  # as compute_metrics' argmax of the clipped, renormalised rows
        cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
        tp = np.diag(cm).astype(np.float64)
        predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(predicted > 0, tp / predicted, 0.0)
            recall = np.where(actual > 0, tp / actual, 0.0)
            f1 = np.where(predicted + actual > 0, 2 * tp / (predicted + actual), 0.0)
        seen = predicted + actual > 0  # scikit-learn's default labels: the classes y or the predictions hold
        return {
            "accuracy": float(np.mean(pred == y)), "precision": float(precision[seen].mean()),
            "recall": float(recall[seen].mean()), "f1": float(f1[seen].mean()), "cross_entropy": float(loss),
        }  # fmt: skip
    out = predict_output(dataset.X_val, result.coefs, result.intercepts, task="regression",
                         activation=result.activation)  # fmt: skip
    y_true = np.asarray(dataset.inverse_y(dataset.y_val), dtype=np.float64).reshape(len(dataset.y_val), -1)
    pred = np.asarray(dataset.inverse_y(out), dtype=np.float64).reshape(y_true.shape)
    mse = float(np.mean((y_true - pred) ** 2))
    if len(y_true) < 2:
        return {"mse": mse, "r2": float("nan")}
    ss_res = ((y_true - pred) ** 2).sum(axis=0)
    ss_tot = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.where(ss_res > 0, 0.0, 1.0))
    return {"mse": mse, "r2": float(r2.mean())}


def make_objective(
    dataset: Any, spec: Any, space: Any, should_stop: Callable[[], bool] | None = None
) -> Callable[[Any], float]:
    """The Optuna objective for ``dataset`` under ``spec`` over ``space``.

    ``should_stop()`` is asked after every epoch; when it says True the run
    ends and :class:`StopRequested` is raised.
    """
    import optuna

    objective = spec.objective
    every = spec.resolved_report_every
    value_of = epoch_value_fn(dataset, objective)

    def run_trial(trial: Any) -> float:
        config = trial_config(spec, space, trial)
        last = int(config["epochs"])
        pruned_at: list[int] = []
        stopped: list[bool] = []

        def report(epoch: int, partial: TrainResult) -> bool:
            if should_stop is not None and should_stop():
                stopped.append(True)
                return True
            step = epoch + 1
            if step % every and step != last:
                return False
            trial.report(value_of(partial), step)
            # the last epoch is always reported (its value is the trial's), never pruned: the run is done, and
            # pruning it would throw away a finished result to save nothing
            if step < last and trial.should_prune():
                pruned_at.append(step)
                return True
            return False

        res = train(
            dataset.X_train, dataset.y_train, task=dataset.task, X_val=dataset.X_val, y_val=dataset.y_val,
            n_classes=dataset.n_classes, compute_metrics=False, callback=report, **config,
        )  # fmt: skip
        if stopped:
            raise StopRequested(f"stopped after epoch {res.epochs_run}")
        trial.set_user_attr("epochs_run", int(res.epochs_run))
        if res.status == "diverged":
            _diverged(trial, res.reason or "diverged", res.epochs_run + 1)
        if pruned_at:
            raise optuna.TrialPruned(f"pruned after epoch {pruned_at[0]}")
        val = val_metrics(dataset, res)
        value = float(res.val_loss[-1]) if objective == "val_loss" else float(val[objective])
        if not math.isfinite(value):
            _diverged(trial, f"non-finite validation {objective} after epoch {res.epochs_run}", res.epochs_run + 1)
        trial.set_user_attr("val_metrics", {k: float(v) for k, v in val.items()})
        return value

    return run_trial


def _diverged(trial: Any, reason: str, step: int) -> None:
    import optuna

    trial.set_user_attr("diverged_reason", reason)
    trial.report(math.nan, step)  # a step no epoch reported: the run ended inside it
    raise optuna.TrialPruned(f"diverged: {reason}")
