"""Small stand-ins for the study and range-test results the report layer reads.

They carry exactly the fields ``lrsearch.search`` and ``lrsearch.finder`` were asked to
produce, so the report tests do not depend on those modules. No tests live here.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd

NAN = math.nan


def fake_trials() -> pd.DataFrame:
    """Six trials, hand-made so that every expectation can be computed by hand.

    number  state     value  optimizer  lr      schedule  gamma  diverged
    0       COMPLETE  0.40   sgd        0.1     constant  -      -
    1       COMPLETE  0.20   adam       0.003   cosine    -      -
    2       PRUNED    -      adam       0.3     step      0.5    non-finite loss
    3       COMPLETE  0.30   adam       0.01    step      0.7    -
    4       FAIL      -      sgd        2.0     constant  -      loss exploded
    5       COMPLETE  0.25   sgd        0.05    cosine    -      -
    """
    return pd.DataFrame({
        "number": [0, 1, 2, 3, 4, 5],
        "state": ["COMPLETE", "COMPLETE", "PRUNED", "COMPLETE", "FAIL", "COMPLETE"],
        "value": [0.40, 0.20, NAN, 0.30, NAN, 0.25],
        "duration_s": [1.0, 2.0, 0.5, 1.5, 0.1, 1.2],
        "epochs_run": [10, 10, 2, 10, 1, 10],
        "diverged_reason": [None, None, "non-finite loss at step 7", None, "loss exploded at step 3", None],
        "param_optimizer": ["sgd", "adam", "adam", "adam", "sgd", "sgd"],
        "param_lr": [0.1, 0.003, 0.3, 0.01, 2.0, 0.05],
        "param_schedule": ["constant", "cosine", "step", "step", "constant", "cosine"],
        "param_gamma": [NAN, NAN, 0.5, 0.7, NAN, NAN],
        "curve": [[0.9, 0.6, 0.4], [0.8, 0.3, 0.2], [2.0, 5.0], [0.7, 0.4, 0.3], [], [0.9, 0.5, 0.25]],
    })  # fmt: skip


def fake_range_test(optimizer: str = "adam", lr: float = 3e-3, warnings: tuple[str, ...] = ()) -> SimpleNamespace:
    lrs = np.geomspace(1e-6, 1.0, 50)
    losses = 1.0 / (1.0 + 1e3 * lrs) + np.where(lrs > 0.1, 50 * (lrs - 0.1), 0.0)
    s = lambda rule, x, i: SimpleNamespace(rule=rule, lr=x, index=i, loss=float(losses[i]))  # noqa: E731
    return SimpleNamespace(
        optimizer=optimizer, lrs=lrs, losses=losses, smoothed=losses * 1.01, stop_reason="diverged",
        suggestions={"valley": s("valley", lr, 30), "steepest": s("steepest", lr / 3, 25), "min_div_10": s("min_div_10", lr * 2, 33)},
        lr=lr, rule="valley", lr_range=(lr / 10, lr * 3), one_cycle_range=(lr / 25, lr), spread_decades=0.12,
        warnings=list(warnings), mode="exp", smoothing=0.98,
    )  # fmt: skip


def fake_study(name: str = "demo", trials: pd.DataFrame | None = None, **overrides) -> SimpleNamespace:
    trials = fake_trials() if trials is None else trials
    fields = dict(
        study=None, study_name=name, storage="studies/demo.journal", direction="minimize", objective="val_loss",
        trials=trials,
        best_params={"optimizer": "adam", "lr": 0.003, "schedule": "cosine", "warmup": 2},
        best_value=0.20, best_val_metrics={"accuracy": 0.95, "cross_entropy": 0.20},
        best_test_metrics={"accuracy": 0.93, "cross_entropy": 0.22},
        best_result=None,
        summary={"n_trials": 6, "complete": 4, "pruned": 1, "failed": 1, "diverged": 2, "elapsed_s": 7.5,
                 "n_jobs": 2, "sampler": "TPESampler", "pruner": "MedianPruner", "aim": "plain"},
        range_tests=(), dataset_summary={"name": "iris", "task": "classification", "rows": {"train": 90, "val": 30, "test": 30},
                                         "features": 4, "classes": [0, 1, 2]},
    )  # fmt: skip
    fields.update(overrides)
    return SimpleNamespace(**fields)


def fake_train_result(epochs: int = 5, steps_per_epoch: int = 4) -> SimpleNamespace:
    t = np.arange(1, epochs + 1, dtype=float)
    return SimpleNamespace(train_loss=1.0 / t, val_loss=1.1 / t, lrs=np.linspace(1e-2, 1e-4, epochs * steps_per_epoch),
                           status="completed", reason=None, epochs_run=epochs)  # fmt: skip


def make_optuna_study(storage, name: str = "tiny", n_trials: int = 12, *, fail_all: bool = False, seed: int = 0):
    """A real Optuna study with the parameter names and user attributes ``lrsearch study`` uses.

    Rates above 0.5 "diverge" (pruned, with a ``diverged_reason``); the others report a
    per-epoch validation loss that is lowest near lr = 10**-2.5 and shrinks each epoch.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=name, storage=storage, direction="minimize",
                                sampler=optuna.samplers.RandomSampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2))  # fmt: skip
    study.set_user_attr("objective", "val_loss")

    def objective(trial):
        trial.suggest_categorical("optimizer", ["sgd", "adam"])
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        if trial.suggest_categorical("schedule", ["constant", "step"]) == "step":
            trial.suggest_float("gamma", 0.1, 0.9)
        if fail_all:
            trial.set_user_attr("diverged_reason", "non-finite loss at step 1")
            raise optuna.TrialPruned()
        if lr > 0.5:
            trial.set_user_attr("diverged_reason", f"loss exploded at step 3 (lr {lr:.3g})")
            raise optuna.TrialPruned()
        v = 1.0
        for epoch in range(5):
            v = 0.8 * v + 0.05 * abs(math.log10(lr) + 2.5)
            trial.report(v, epoch)
            if trial.should_prune():
                trial.set_user_attr("epochs_run", epoch + 1)
                raise optuna.TrialPruned()
        trial.set_user_attr("epochs_run", 5)
        trial.set_user_attr("val_metrics", {"cross_entropy": v, "accuracy": 1 - v / 2})
        return v

    study.optimize(objective, n_trials=n_trials)
    return study


def journal_storage(path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(path)))
