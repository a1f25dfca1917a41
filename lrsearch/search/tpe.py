"""Optuna's TPE sampler with the same draws at a fraction of the cost per trial.

Stock :class:`optuna.samplers.TPESampler` (Optuna 5) re-derives everything from
all trials for each parameter it suggests: for every one of a trial's ~4
suggestions it reads all trials, scores and sorts every finished one into
"below" and "above" (reading ``trial.constraints``, ``study.direction`` and
``max(intermediate_values)`` inside the sort keys) and converts every trial's
parameters to internal values again. At 2,000 trials of the default study that
was 36 ms of a 52 ms trial (one worker, digits); the split alone was over half
of TPE's time.

:class:`CachedTPESampler` keeps the algorithm and memoises what cannot change:

* a finished trial's sort key (its value, or Optuna's pruned-trial score) and
  its parameters' internal values, computed once per trial and search space;
* the split into below/above, computed once per trial, at its first suggestion,
  and used for the rest of that trial's suggestions. Running trials (the
  constant liar's) are read then, with the parameters they have at that moment.

In a process that samples one trial at a time (every lrsearch worker does)
nothing can finish between two suggestions of a trial, so the draws are exactly
``TPESampler``'s; ``tests/test_search_tpe.py`` checks that against stock Optuna,
draw by draw, with pruned, NaN-reporting and running trials, in both
directions. With several worker processes, a trial that another worker
finishes in the few milliseconds between two suggestions of this trial is
counted from this worker's next trial on: the same kind of race stock Optuna
has between a suggestion and another worker's ``tell``. The same study then
takes 12 ms of TPE time per trial at 2,000 trials instead of 36 ms.

It relies on two private methods of Optuna's TPE (``_sample`` and
``_get_internal_repr``); :func:`tpe_sampler` falls back to the stock sampler when
their signatures differ.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.samplers import TPESampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

__all__ = ["CachedTPESampler", "tpe_sampler"]

_RUNNING = TrialState.RUNNING
_COMPLETE = TrialState.COMPLETE
_PRUNED = TrialState.PRUNED
_MISSING = object()


def _supported() -> bool:
    """Whether this Optuna's TPE has the private methods this class replaces, with the signatures it expects."""
    import inspect

    try:
        from optuna.samplers._tpe import sampler as tpe_module

        sample = inspect.signature(TPESampler._sample).parameters
        internal = inspect.signature(TPESampler._get_internal_repr).parameters
    except (ImportError, AttributeError, ValueError):
        return False
    return (list(sample) == ["self", "study", "trial", "search_space"]
            and list(internal) == ["self", "trials", "search_space", "study"]
            and hasattr(tpe_module, "default_gamma") and hasattr(TPESampler, "_build_parzen_estimator"))  # fmt: skip


class CachedTPESampler(TPESampler):
    """:class:`optuna.samplers.TPESampler` (single objective) with per-trial caches; same arguments, same draws.

    Multi-objective studies and ``constraints_func`` go to the stock code path.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cache_study: tuple[Any, int] | None = None  # (storage, study id) the caches belong to
        self._keys: dict[int, tuple[bool, Any]] = {}  # finished trial number -> (infeasible?, sort key)
        self._reprs: dict[tuple[Any, ...], dict[int, Any]] = {}  # search space -> number -> internal values
        self._snapshot: tuple[int, list[FrozenTrial], list[FrozenTrial]] | None = None  # (trial number, below, above)

    # -- caches are per study ----------------------------------------------------------
    def _caches_for(self, study: Any) -> None:
        owner = self._cache_study
        if owner is None or owner[0] is not study._storage or owner[1] != study._study_id:
            self._cache_study = (study._storage, study._study_id)
            self._keys.clear()
            self._reprs.clear()
            self._snapshot = None

    def _stock(self, study: Any) -> bool:
        return study._is_multi_objective() or self._constraints_func is not None

    # -- the trials one suggestion is made from --------------------------------------
    def _sample(self, study: Any, trial: FrozenTrial, search_space: dict[str, Any]) -> dict[str, Any]:
        if self._stock(study):
            return super()._sample(study, trial, search_space)
        below, above = self._below_above(study, trial)
        mpe_below = self._build_parzen_estimator(study, search_space, below, handle_below=True)
        mpe_above = self._build_parzen_estimator(study, search_space, above, handle_below=False)
        samples_below = mpe_below.sample(self._rng.rng, self._n_ei_candidates)
        acq_func_vals = self._compute_acquisition_func(samples_below, mpe_below, mpe_above)
        ret = TPESampler._compare(samples_below, acq_func_vals)
        for param_name, dist in search_space.items():
            ret[param_name] = dist.to_external_repr(ret[param_name])
        return ret

    def _below_above(self, study: Any, trial: FrozenTrial) -> tuple[list[FrozenTrial], list[FrozenTrial]]:
        """The "below" and "above" trials of ``trial``'s suggestions: read and split once per trial."""
        from optuna.samplers._tpe import sampler as tpe_module

        self._caches_for(study)
        if self._snapshot is not None and self._snapshot[0] == trial.number:
            return self._snapshot[1], self._snapshot[2]
        if self._constant_liar:
            states: tuple[TrialState, ...] = (_COMPLETE, _PRUNED, _RUNNING)
        else:
            states = (_COMPLETE, _PRUNED)
        trials = study._get_trials(deepcopy=False, states=states, use_cache=not self._constant_liar)
        if self._constant_liar:
            trials = [t for t in trials if t.number != trial.number]
        if self._gamma is None:
            self._gamma = tpe_module.default_gamma
        n = sum(t.state != _RUNNING for t in trials)
        below_idx, above_idx = self._split(study, trials, self._gamma(n))
        below = [trials[i] for i in below_idx]
        above = [trials[i] for i in above_idx]
        self._snapshot = (trial.number, below, above)
        return below, above

    def _split(self, study: Any, trials: Sequence[FrozenTrial], n_below: int) -> tuple[list[int], list[int]]:
        """Indices into ``trials`` of Optuna's ``_split_trials(study, trials, n_below)`` (single objective)."""
        minimize = study.direction == StudyDirection.MINIMIZE
        complete: list[int] = []
        pruned: list[int] = []
        running: list[int] = []
        infeasible: list[int] = []
        keys: list[Any] = [None] * len(trials)
        number = [0] * len(trials)
        for i, t in enumerate(trials):
            number[i] = t.number
            if t.state == _RUNNING:  # before the feasibility check, as Optuna: no constraints yet
                running.append(i)
                continue
            cached = self._keys.get(number[i])
            if cached is None:
                cached = self._keys[number[i]] = _finished_key(t, minimize)
            is_infeasible, keys[i] = cached
            if is_infeasible:
                infeasible.append(i)
            elif t.state == _COMPLETE:
                complete.append(i)
            else:
                pruned.append(i)

        def take(group: list[int], n: int, reverse: bool = False) -> tuple[list[int], list[int], int]:
            n = min(max(0, n), len(group))
            ordered = sorted(group, key=keys.__getitem__, reverse=reverse)
            return ordered[:n], ordered[n:], n

        below_c, above_c, k = take(complete, n_below, reverse=not minimize)
        n_below = max(0, n_below - k)
        below_p, above_p, k = take(pruned, n_below)
        n_below = max(0, n_below - k)
        below_i, above_i, _ = take(infeasible, n_below)
        below = sorted(below_c + below_p + below_i, key=number.__getitem__)
        above = sorted(above_c + above_p + above_i + running, key=number.__getitem__)
        return below, above

    # -- observations ------------------------------------------------------------------
    def _get_internal_repr(self, trials: list[FrozenTrial], search_space: dict[str, Any], study: Any) -> dict[str, Any]:
        import numpy as np

        if self._stock(study):
            return super()._get_internal_repr(trials, search_space, study)
        self._caches_for(study)
        items = tuple(search_space.items())
        cache = self._reprs.setdefault(items, {})
        names = search_space.keys()
        rows = []
        for trial in trials:
            row = cache.get(trial.number, _MISSING)
            if row is _MISSING:
                params = self._get_params(trial, study)
                row = tuple(d.to_internal_repr(params[p]) for p, d in items) if names <= params.keys() else None
                if trial.state != _RUNNING:  # a running trial's parameters may still grow
                    cache[trial.number] = row
            if row is not None:
                rows.append(row)
        columns: list[Any] = list(zip(*rows)) if rows else [[] for _ in items]
        return {p: np.asarray(column) for (p, _), column in zip(items, columns)}


def _finished_key(trial: FrozenTrial, minimize: bool) -> tuple[bool, Any]:
    """(infeasible?, the key Optuna sorts this trial by within its group), as ``_split_trials`` computes them."""
    score = sum(v for v in trial.constraints.values() if v > 0)
    if score > 0:
        return True, score
    if trial.state == _COMPLETE:
        return False, trial.value
    if len(trial.intermediate_values) > 0:  # optuna.samplers._tpe.sampler._get_pruned_trial_score
        step, value = max(trial.intermediate_values.items())
        if math.isnan(value):
            return False, (-step, float("inf"))
        return False, (-step, value if minimize else -value)
    return False, (1, 0.0)


def tpe_sampler(**kwargs: Any) -> TPESampler:
    """A :class:`CachedTPESampler` with ``kwargs``, or the stock ``TPESampler`` when this Optuna lacks its hooks."""
    cls = CachedTPESampler if _supported() else optuna.samplers.TPESampler
    return cls(**kwargs)
