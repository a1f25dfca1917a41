"""SnapshotPercentilePruner decides exactly as Optuna's PercentilePruner/MedianPruner (the reference), report by report."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest

from lrsearch.search.pruners import SnapshotPercentilePruner, median_pruner
from lrsearch.search.runner import make_pruner
from lrsearch.search.spec import spec_from_dict

optuna.logging.set_verbosity(optuna.logging.ERROR)
pytestmark = pytest.mark.filterwarnings("ignore:All-NaN slice encountered:RuntimeWarning")  # stock Optuna's nanmax


def _curves(n_trials: int, n_steps: int, seed: int) -> list[list[float]]:
    """Noisy decreasing curves of random levels; some hold a NaN (a diverged run), some are all-NaN."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_trials):
        level, slope = rng.uniform(0.1, 2.0), rng.uniform(0.0, 0.3)
        curve = [level * (1 - slope * s / n_steps) + rng.normal(0, 0.05) for s in range(n_steps)]
        if i % 9 == 4:
            curve[n_steps // 2] = math.nan
        if i % 23 == 11:
            curve = [math.nan] * n_steps
        out.append(curve)
    return out


def _decisions(pruner: optuna.pruners.BasePruner, direction: str, curves: list[list[float]], every: int) -> list:
    """Report each curve (every ``every`` steps) and ask the pruner; the per-trial list of (step, pruned?)."""
    study = optuna.create_study(direction=direction, pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0))
    sign = 1.0 if direction == "minimize" else -1.0
    out = []
    for curve in curves:
        trial = study.ask()
        asked = []
        state = optuna.trial.TrialState.COMPLETE
        for step in range(every, len(curve) + 1, every):
            trial.report(sign * curve[step - 1], step)
            pruned = trial.should_prune()
            asked.append((step, pruned))
            if pruned:
                state = optuna.trial.TrialState.PRUNED
                break
        value = sign * curve[-1] if state == optuna.trial.TrialState.COMPLETE and math.isfinite(curve[-1]) else None
        study.tell(trial, value, state=state if value is not None or state != optuna.trial.TrialState.COMPLETE
                   else optuna.trial.TrialState.FAIL)  # fmt: skip
        out.append(asked)
    return out


@pytest.mark.parametrize(
    ("percentile", "kwargs", "direction", "every"),
    [
        (50.0, {"n_startup_trials": 5, "n_warmup_steps": 6, "interval_steps": 1}, "minimize", 3),
        (50.0, {"n_startup_trials": 2, "n_warmup_steps": 0, "interval_steps": 4}, "maximize", 1),
        (25.0, {"n_startup_trials": 3, "n_warmup_steps": 2, "interval_steps": 3, "n_min_trials": 4}, "minimize", 1),
        (75.0, {"n_startup_trials": 0, "n_warmup_steps": 5, "interval_steps": 2}, "maximize", 2),
    ],
)
def test_same_decisions_as_optuna(percentile, kwargs, direction, every):
    curves = _curves(150, 30, seed=int(percentile) + every)
    stock = _decisions(optuna.pruners.PercentilePruner(percentile, **kwargs), direction, curves, every)
    ours = _decisions(SnapshotPercentilePruner(percentile, **kwargs), direction, curves, every)
    n_pruned = sum(any(p for _, p in trial) for trial in stock)
    assert 10 < n_pruned < 140  # the comparison covers both outcomes
    assert ours == stock


def test_median_is_the_50th_percentile_and_the_studys_pruner():
    curves = _curves(80, 20, seed=3)
    kw = {"n_startup_trials": 4, "n_warmup_steps": 4, "interval_steps": 1}
    assert _decisions(median_pruner(**kw), "minimize", curves, 2) == _decisions(
        optuna.pruners.MedianPruner(**kw), "minimize", curves, 2
    )
    spec = spec_from_dict({"study": {"epochs": 30}}, source="test")
    pruner = make_pruner("median", spec)
    assert isinstance(pruner, SnapshotPercentilePruner)
    assert (pruner._percentile, pruner._n_startup_trials, pruner._n_warmup_steps) == (50.0, 5, 6)


def test_statistics_are_per_study():
    """One pruner object used by two studies in turn keeps their completed trials apart."""
    pruner = SnapshotPercentilePruner(50.0, n_startup_trials=1)
    good, bad = [[0.1] * 4] * 3, [[5.0] * 4] * 3
    _decisions(pruner, "minimize", bad, 1)
    # in a fresh study whose completed trials are all good, a bad trial is pruned at once
    assert _decisions(pruner, "minimize", good + [[5.0] * 4], 1)[-1] == [(1, True)]
