"""The objective: one trial = sample a configuration, train with per-epoch reports, score it.

The value is the objective metric on the validation split at the last epoch
(regression metrics in the target's original units). Every ``report_every``
epochs the same metric is reported to Optuna and the pruner asked; a pruned
trial stops at once. A diverged run is never an exception: its reason is saved
as the user attribute ``diverged_reason``, a NaN is reported at the epoch where
it happened (so the sampler ranks it below every trial that got further) and
the trial is pruned.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from lrsearch.evaluation import score_split
from lrsearch.metrics import GREATER_IS_BETTER
from lrsearch.nn.training import TrainResult, train

__all__ = ["direction_of", "epoch_value_fn", "make_objective", "trial_config"]


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
    if (objective == "accuracy" and dataset.task == "classification") or (objective == "r2" and dataset.task == "regression"):
        return lambda res: float(res.val_score[-1])  # R² is scale-free, so standardised targets give the same value
    return lambda res: float(score_split(dataset, res, "val")[objective])


def make_objective(dataset: Any, spec: Any, space: Any) -> Callable[[Any], float]:
    """The Optuna objective for ``dataset`` under ``spec`` over ``space``."""
    import optuna

    objective = spec.objective
    every = spec.resolved_report_every
    value_of = epoch_value_fn(dataset, objective)

    def run_trial(trial: Any) -> float:
        config = trial_config(spec, space, trial)
        pruned_at: list[int] = []

        def report(epoch: int, partial: TrainResult) -> bool:
            step = epoch + 1
            if step % every:
                return False
            trial.report(value_of(partial), step)
            if trial.should_prune():
                pruned_at.append(step)
                return True
            return False

        res = train(
            dataset.X_train, dataset.y_train, task=dataset.task, X_val=dataset.X_val, y_val=dataset.y_val,
            n_classes=dataset.n_classes, compute_metrics=False, callback=report, **config,
        )  # fmt: skip
        trial.set_user_attr("epochs_run", int(res.epochs_run))
        if res.status == "diverged":
            _diverged(trial, res.reason or "diverged", res.epochs_run + 1)
        if pruned_at:
            raise optuna.TrialPruned(f"pruned after epoch {pruned_at[0]}")
        val = score_split(dataset, res, "val")
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
