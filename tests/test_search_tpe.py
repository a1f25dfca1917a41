"""CachedTPESampler draws exactly what Optuna's stock TPESampler draws (the reference), trial by trial."""

from __future__ import annotations

import math
import warnings

import optuna
import pytest

from lrsearch.search.runner import make_sampler
from lrsearch.search.tpe import CachedTPESampler, tpe_sampler

optuna.logging.set_verbosity(optuna.logging.ERROR)


def _suggest(trial: optuna.trial.Trial) -> float:
    """A conditional space like the study's: an optimizer, its own log rate, a schedule with its own parameter."""
    opt = trial.suggest_categorical("optimizer", ["a", "b", "c"])
    lr = trial.suggest_float(f"lr_{opt}", 1e-4, 1.0, log=True)
    schedule = trial.suggest_categorical("schedule", ["p", "q"])
    if schedule == "p":
        extra = trial.suggest_int("p_steps", 0, 5)
    else:
        extra = trial.suggest_float("q_gamma", -1.0, 1.0)
    return (math.log10(lr) + 2 + (opt == "b")) ** 2 + 0.1 * extra + (schedule == "q") * extra**2


def _run(sampler: optuna.samplers.BaseSampler, direction: str, n_trials: int, parallel: int) -> list[dict]:
    """Ask ``parallel`` trials, sample each in full, then report/prune/tell them (running trials meet the liar)."""
    study = optuna.create_study(direction=direction, sampler=sampler,
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))  # fmt: skip
    sign = 1.0 if direction == "minimize" else -1.0
    while len(study.trials) < n_trials:
        batch = [study.ask() for _ in range(parallel)]
        values = [_suggest(t) for t in batch]
        for trial, value in zip(reversed(batch), reversed(values)):
            state, final = optuna.trial.TrialState.COMPLETE, sign * value
            for step in range(1, 5):
                v = math.nan if trial.number % 11 == 5 and step == 3 else sign * value * (2 - step / 4)
                trial.report(v, step)
                if trial.should_prune():
                    state = optuna.trial.TrialState.PRUNED
                    break
            study.tell(trial, final if state == optuna.trial.TrialState.COMPLETE else None, state=state)
    return [(t.number, t.state, t.params) for t in study.trials]


@pytest.mark.parametrize(("direction", "liar", "parallel"), [("minimize", True, 3), ("maximize", True, 2),
                                                             ("minimize", False, 1), ("maximize", False, 2)])  # fmt: skip
def test_same_draws_as_stock_tpe(direction, liar, parallel):
    kw = {"seed": 7, "multivariate": True, "constant_liar": liar, "n_startup_trials": 5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stock = _run(optuna.samplers.TPESampler(**kw), direction, 120, parallel)
        cached = _run(CachedTPESampler(**kw), direction, 120, parallel)
    states = {s for _, s, _ in stock}
    assert optuna.trial.TrialState.PRUNED in states and optuna.trial.TrialState.COMPLETE in states
    assert cached == stock


def test_univariate_and_reused_across_studies():
    """One sampler object used for two studies in turn (its caches are per study) still matches stock."""
    kw = {"seed": 1, "multivariate": False, "n_startup_trials": 4}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stock_sampler, cached_sampler = optuna.samplers.TPESampler(**kw), CachedTPESampler(**kw)
        for direction in ("minimize", "maximize"):
            assert _run(cached_sampler, direction, 40, 1) == _run(stock_sampler, direction, 40, 1)


def test_study_uses_the_cached_sampler():
    assert type(make_sampler("tpe", 0)) is CachedTPESampler
    assert type(tpe_sampler(seed=0)) is CachedTPESampler
