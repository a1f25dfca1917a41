"""Optuna samplers and pruners by name, as a study's spec names them.

>>> make_sampler("random", seed=1).__class__.__name__
'RandomSampler'
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Any

from lrsearch.exceptions import ConfigError
from lrsearch.search.spec import StudySpec

__all__ = ["check_sampler", "halving_min_resource", "make_pruner", "make_sampler"]


def check_sampler(name: str) -> None:
    """Raise ConfigError if sampler ``name`` needs a package that is not installed (with the install command)."""
    import importlib.util

    needs = {"cmaes": ("cmaes", "pip install cmaes"), "gp": ("torch", "pip install torch (CPU build is enough)"),
             "qmc": ("scipy", "pip install scipy")}  # fmt: skip
    if name in needs:
        module, fix = needs[name]
        if importlib.util.find_spec(module) is None:
            raise ConfigError(f"sampler {name!r} needs the {module} package, which is not installed: {fix}.")


_PARTIAL = {
    "gp": "models only the parameters every trial has (optimizer, schedule); each optimizer's rate and the schedule "
          "parameters are drawn at random",
    "cmaes": "models no categorical parameter and only those every trial has, so here every parameter is drawn by its "
             "independent sampler (univariate TPE)",
    "qmc": "spreads only the parameters of the study's first trial (one optimizer's rate, one schedule's "
           "parameters); the others are drawn at random",
}


def sampler_notes(name: str, optimizers: Sequence[str], schedules: Sequence[str]) -> list[str]:
    """Warnings for a sampler that cannot model a conditional space (several optimizers or schedules).

    Optuna's GP, CMA-ES and QMC samplers work on the parameters every trial has;
    the per-optimizer rates and per-schedule parameters of a space with several
    of either are left to their independent sampler.

    >>> sampler_notes("tpe", ["adam", "sgd"], ["cosine"])
    []
    >>> len(sampler_notes("gp", ["adam", "sgd"], ["cosine"]))
    1
    """
    if name not in _PARTIAL or (len(optimizers) <= 1 and len(schedules) <= 1):
        return []
    return [f"sampler {name!r} {_PARTIAL[name]}: with {len(optimizers)} optimizers and {len(schedules)} schedules "
            f"use sampler 'tpe' (or 'random'), or restrict the space to one optimizer and one schedule"]  # fmt: skip


def make_sampler(name: str, seed: int, base_seed: int | None = None, lock: Any = None) -> Any:
    """An Optuna sampler by name, seeded (``base_seed``: the study seed, for QMC's shared sequence).

    ``lock``: a context manager shared by every worker of the study (its budget
    lock), under which QMC takes its next point of the shared sequence.

    TPE is Optuna 5's default configuration: multivariate over the parameters
    every trial has (optimizer, schedule), univariate for the conditional ones
    (each ``lr_<optimizer>`` is modelled on that optimizer's trials only), and a
    constant liar so that parallel workers do not pile onto one point.
    ``group=True`` (joint models per conditional sub-space) measured no better on
    digits (best-of-100 over 3 seeds: 0.132 vs 0.126) and about 1.5x slower.
    """
    import optuna
    from optuna.exceptions import ExperimentalWarning

    from lrsearch.search.tpe import tpe_sampler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        if name == "tpe":
            return tpe_sampler(seed=seed, multivariate=True, constant_liar=True)
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if name == "cmaes":
            return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False,
                                                independent_sampler=tpe_sampler(seed=seed))  # fmt: skip
        if name == "qmc":
            # one scrambled Sobol sequence shared by all workers (Optuna indexes it by a counter kept in
            # the study, read and advanced at a trial's first suggestion: under ``lock``, see _qmc_sampler)
            return _qmc_sampler()(
                lock, qmc_type="sobol", scramble=True, seed=seed if base_seed is None else base_seed,
                independent_sampler=optuna.samplers.RandomSampler(seed=seed), warn_independent_sampling=False,
            )  # fmt: skip
        if name == "gp":
            return optuna.samplers.GPSampler(seed=seed, independent_sampler=optuna.samplers.RandomSampler(seed=seed),
                                             warn_independent_sampling=False)  # fmt: skip
    raise ConfigError(f"Unknown sampler {name!r}; choose tpe, random, cmaes, qmc or gp.")


@functools.cache
def _qmc_sampler() -> type:
    """:class:`optuna.samplers.QMCSampler` taking its point of the shared sequence under a lock of the study.

    Optuna reads the study's QMC counter and writes it back plus one, two
    storage calls with nothing around them (its source says so: "only ensures
    that each sample_id is sampled at least once"), at a trial's first
    suggestion. Two workers there at once took the same index and trained the
    same point: 5 to 8 repeats in 600 trials of two workers on iris. Under the
    lock every worker of the study shares (the trial-budget lock, never held
    while a trial runs) each index is taken once. Without a lock (one
    process, tests) it is Optuna's sampler.
    """
    import optuna

    class LockedQMCSampler(optuna.samplers.QMCSampler):
        def __init__(self, lock: Any, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._lock = lock

        def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
            if self._lock is None or not search_space:  # no point of the sequence taken
                return super().sample_relative(study, trial, search_space)
            with self._lock:
                return super().sample_relative(study, trial, search_space)

    return LockedQMCSampler


def make_pruner(name: str, spec: StudySpec) -> Any:
    """An Optuna pruner by name; steps are epoch numbers (reports every ``report_every`` epochs and at the last).

    Successive halving and Hyperband get their rungs from :func:`halving_min_resource`.
    ``median`` is :class:`lrsearch.search.pruners.SnapshotPercentilePruner` at the
    50th percentile: Optuna's ``MedianPruner`` decisions at a cost that does not
    grow with every report.
    """
    import optuna

    every = spec.resolved_report_every
    if name == "median":  # Optuna's MedianPruner, reading the completed trials once per trial
        from lrsearch.search.pruners import median_pruner

        # no report before a fifth of the epochs is judged: epoch 2 of 8 is the first (epoch 1 was judged before)
        return median_pruner(n_startup_trials=5, n_warmup_steps=max(every, -(-spec.epochs // 5)), interval_steps=1)
    if name == "successive_halving":
        first = halving_min_resource(spec.epochs, every)
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=first, reduction_factor=_REDUCTION)
    if name == "hyperband":
        first = halving_min_resource(spec.epochs, every)
        return optuna.pruners.HyperbandPruner(min_resource=first, max_resource=spec.epochs,
                                              reduction_factor=_REDUCTION)  # fmt: skip
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError(f"Unknown pruner {name!r}; choose median, successive_halving, hyperband or none.")


#: successive halving and Hyperband keep the best third of the trials at each rung
_REDUCTION = 3


def halving_min_resource(epochs: int, every: int, reduction_factor: int = _REDUCTION) -> int:
    """The first rung (in epochs) of successive halving, so that its rungs count back from the full run.

    Optuna's rungs are ``min_resource * reduction_factor**k`` epochs, and a
    trial is judged at its first report at or past a rung. Climbing from the
    first report (``min_resource=report_every``), the last rung before the end
    fell anywhere up to it: 27 of 30 epochs, 9 of 10, where a pruned trial
    had done nearly all its work. Successive halving's rungs are ``epochs/3``,
    ``epochs/9``, ...: here the ladder starts at ``ceil(epochs / 3**n)``, ``n``
    the number of rungs (``3**n * report_every <= epochs``, at least one), so the
    rung after the last one that prunes is at or past the last epoch (where no
    trial is pruned), and the last one that prunes lies below two thirds of the run.

    >>> [halving_min_resource(30, 3), halving_min_resource(10, 3), halving_min_resource(27, 3)]
    [4, 4, 3]
    """
    n = 1
    while reduction_factor ** (n + 1) * every <= epochs:
        n += 1
    return max(1, -(-epochs // reduction_factor**n))
