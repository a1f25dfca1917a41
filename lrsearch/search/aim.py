"""Finder-aimed search: an LR range test per optimizer sets its rate bounds and first trial.

For every optimizer in the space, :func:`lrsearch.finder.find_lr` runs one range
test on the training split with the study's network, batch size and seed, for a
training of the study's length (``epochs``: the finder lowers a rate measured on
short probes for longer trainings, so a rate for its default 20 epochs would
be the wrong rate for a 30-epoch study); its ``search_bounds``
replace the optimizer's default bounds, and its suggested ``lr`` (with the
constant schedule and no warm-up, when the space has them) is enqueued as a
first trial, so the sampler starts from measured rates instead of guesses. The
first trials are ordered by the lowest held-out loss of each optimizer's probes
(best first), so a budget smaller than the queue goes to the most promising.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from lrsearch.exceptions import ConfigError
from lrsearch.search.results import best_probe_loss
from lrsearch.search.space import Range, SearchSpace

__all__ = ["aim_with_finder"]

log = logging.getLogger(__name__)


def aim_with_finder(
    dataset: Any, spec: Any, space: SearchSpace
) -> tuple[SearchSpace, tuple[Any, ...], list[dict[str, Any]]]:
    """Run a range test per optimizer; return (aimed space, range test results, trials to enqueue)."""
    try:
        from lrsearch.finder import find_lr
    except ImportError as exc:
        raise ConfigError(
            f"--aim finder needs the LR range test (lrsearch.finder), which is unavailable here: {exc}"
        ) from None
    bounds: dict[str, tuple[float, float]] = {}
    results = []
    first_trials = []
    for opt in space.optimizers:
        # a Dataset: the finder trains on its training split and probes on its validation split
        rt = find_lr(dataset, task=dataset.task, hidden=tuple(spec.hidden), activation=spec.activation,
                     optimizer=opt, batch_size=spec.batch_size, seed=spec.seed, dtype=spec.dtype,
                     epochs=spec.epochs)  # fmt: skip
        results.append(rt)
        low, high = _bounds(rt)
        if low is None:
            log.warning("range test of %s gave no usable bounds (%r); keeping the default %s", opt,
                        getattr(rt, "search_bounds", None), space.lr[opt])  # fmt: skip
            low, high = space.lr[opt]
        else:
            bounds[opt] = (low, high)
        params: dict[str, Any] = {"optimizer": opt}
        lr = getattr(rt, "lr", None)
        if isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0:
            params[f"lr_{opt}"] = float(min(max(lr, low), high))
        if "constant" in space.schedules:
            params["schedule"] = "constant"
            if isinstance(space.warmup, Range) and space.warmup.low < space.warmup.high:
                params["warmup"] = int(space.warmup.low)
        first_trials.append(params)
    # the most promising first: when the budget is smaller than the queue, it goes to the optimizers whose
    # short trainings at the finder's rates reached the lowest held-out loss (stable: ties keep the space's order)
    order = sorted(range(len(results)), key=lambda i: best_probe_loss(results[i]))
    first_trials = [first_trials[i] for i in order]
    if spec.n_trials < len(first_trials):
        skipped = ", ".join(str(p["optimizer"]) for p in first_trials[spec.n_trials:])
        log.warning("n_trials=%d is below the %d first trials the range tests queue (one per optimizer): the "
                    "first trials of %s stay queued and run first when the study resumes with a larger n_trials",
                    spec.n_trials,
                    len(first_trials), skipped)  # fmt: skip
    return space.with_lr_bounds(bounds), tuple(results), first_trials




def _bounds(rt: Any) -> tuple[float | None, float | None]:
    try:
        low, high = (float(v) for v in rt.search_bounds)
    except (TypeError, ValueError, AttributeError):
        return None, None
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        return None, None
    return low, high
