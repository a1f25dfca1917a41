"""Learning-rate schedules as closed forms, turned into one rate per step.

Schedules are orthogonal to optimizers: every schedule works with every
optimizer, and multiplies the base rate ``lr``. Each is stepped per epoch (the
rate is constant within an epoch) or per step, and any of them can have a
linear warm-up in front. Reduce-on-plateau depends on the run, so it is a small
state machine (:class:`Plateau`) that the training loop steps between epochs.

>>> rates = schedule_rates("step", 0.1, steps_per_epoch=2, epochs=4, step_size=2, gamma=0.5)
>>> rates.tolist()
[0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from lrsearch._validation import check_bool, check_choice, check_float, check_int, merge_options
from lrsearch.exceptions import ConfigError

__all__ = ["SCHEDULES", "Plateau", "ScheduleSpec", "make_schedule", "schedule_rates"]

#: warmup_start_factor's default is torch's LinearLR start_factor (1/3): with a warm-up stepped per epoch,
#: a factor of 0 trained the whole first epoch at rate 0 (and a pruner then judged the untrained network)
_COMMON: dict[str, Any] = {"interval": "epoch", "warmup": 0, "warmup_start_factor": 1.0 / 3.0}

#: name -> default parameters (besides interval, warmup and warmup_start_factor).
SCHEDULES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "constant": {},
        "linear": {"start_factor": 1.0, "end_factor": 0.0, "total_iters": None},
        "exponential": {"gamma": 0.95},
        "inverse_time": {"decay_rate": 0.1},
        "step": {"step_size": 10, "gamma": 0.5},
        "cosine": {"T_max": None, "eta_min": 0.0},
        "one_cycle": {"pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4, "cycle_momentum": False,
                      "base_momentum": 0.85, "max_momentum": 0.95},
        "plateau": {"factor": 0.1, "patience": 10, "threshold": 1e-4, "cooldown": 0, "min_lr": 0.0},
    }
)


@dataclass(frozen=True)
class ScheduleSpec:
    """A validated schedule: its name and every parameter (defaults filled in)."""

    name: str
    params: Mapping[str, Any]

    @property
    def interval(self) -> str:
        return self.params["interval"]

    def rates(self, lr: float, steps_per_epoch: int, epochs: int) -> np.ndarray:
        """Per-step rates for a run (plateau: the warm-up only; it adjusts between epochs).

        >>> make_schedule("exponential", {"gamma": 0.5}).rates(1.0, 1, 3).tolist()
        [1.0, 0.5, 0.25]
        """
        total = epochs if self.interval == "epoch" else steps_per_epoch * epochs
        t = np.arange(total, dtype=np.float64)
        factors = self._factors(t, total, lr)
        if self.interval == "epoch":
            factors = np.repeat(factors, steps_per_epoch)
        return lr * factors

    def momenta(self, steps_per_epoch: int, epochs: int) -> np.ndarray | None:
        """Per-step momentum (SGD, RMSprop) or beta1 (Adam, AdamW) when the schedule cycles it, else None.

        Only ``one_cycle`` with ``cycle_momentum=True`` does, as torch's
        ``OneCycleLR``: from ``max_momentum`` down to ``base_momentum`` while the
        rate rises, then back up while it anneals (cosine, the same phases);
        ``max_momentum`` during a warm-up in front.

        >>> m = make_schedule("one_cycle", {"cycle_momentum": True}).momenta(1, 10)
        >>> round(float(m[0]), 2), round(float(m.min()), 2), round(float(m[-1]), 2)
        (0.95, 0.85, 0.95)
        """
        p = self.params
        if self.name != "one_cycle" or not p["cycle_momentum"]:
            return None
        # the same clock as rates(): epochs (then repeated within each) or steps (one_cycle has no warm-up)
        total = epochs if self.interval == "epoch" else steps_per_epoch * epochs
        t = np.arange(total, dtype=np.float64)
        out = _one_cycle(t, max(total, 1), p["pct_start"], 1.0, 1.0,
                         ends=(p["max_momentum"], p["base_momentum"], p["max_momentum"]))  # fmt: skip
        if self.interval == "epoch":
            out = np.repeat(out, steps_per_epoch)
        return out

    def _factors(self, t: np.ndarray, total: int, lr: float) -> np.ndarray:
        p = self.params
        w = p["warmup"]
        out = np.empty_like(t)
        warm = t < w
        if w > 0:
            s = p["warmup_start_factor"]
            out[warm] = s + (1.0 - s) * t[warm] / w
        horizon = max(total - w, 1)
        out[~warm] = self._main(t[~warm] - w, horizon, lr)
        return out

    def _main(self, t: np.ndarray, horizon: int, lr: float) -> np.ndarray:
        p, name = self.params, self.name
        if name in ("constant", "plateau"):
            return np.ones_like(t)
        if name == "linear":
            n = p["total_iters"] or horizon
            s, e = p["start_factor"], p["end_factor"]
            return s + (e - s) * np.minimum(t, n) / n
        if name == "exponential":
            return p["gamma"] ** t
        if name == "inverse_time":
            return 1.0 / (1.0 + p["decay_rate"] * t)
        if name == "step":
            return p["gamma"] ** np.floor(t / p["step_size"])
        if name == "cosine":
            big_t = p["T_max"] or horizon
            floor = p["eta_min"] / lr  # eta_min is an absolute rate; above lr the rate rises to it, as torch's
            return floor + (1.0 - floor) * _cosine(t, big_t)
        if name == "one_cycle":
            return _one_cycle(t, horizon, p["pct_start"], p["div_factor"], p["final_div_factor"])
        raise AssertionError(name)  # pragma: no cover


def _cosine(t: np.ndarray, big_t: int) -> np.ndarray:
    """(1 + cos(pi * min(t, T) / T)) / 2: goes from 1 to 0."""
    return (1.0 + np.cos(math.pi * np.minimum(t, big_t) / big_t)) / 2.0


def _one_cycle(t: np.ndarray, total: int, pct_start: float, div: float, final_div: float,
               ends: tuple[float, float, float] | None = None) -> np.ndarray:  # fmt: skip
    """torch ``OneCycleLR`` (two phases, cosine annealing) as a factor of max_lr; ``ends`` = (start, middle, end)
    values instead (the momentum's: max, base, max)."""
    initial = 1.0 / div
    minimum = initial / final_div
    v0, v1, v2 = ends if ends is not None else (initial, 1.0, minimum)
    end1 = float(pct_start * total) - 1.0
    end2 = float(total - 1)
    out = np.empty_like(t)
    for i, s in enumerate(t):
        if s <= end1:
            start, stop, a, b = 0.0, end1, v0, v1
        else:
            start, stop, a, b = end1, end2, v1, v2
        pct = (s - start) / (stop - start) if stop > start else 1.0
        out[i] = b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1.0)
    return out


def make_schedule(name: str, params: Mapping[str, Any] | None = None) -> ScheduleSpec:
    """Validate a schedule's name and parameters and fill in the defaults.

    >>> make_schedule("cosine").params["interval"]
    'epoch'
    """
    if name not in SCHEDULES:
        raise ConfigError(f"Unknown schedule {name!r}; choose one of: {', '.join(SCHEDULES)}.")
    defaults = {**_COMMON, **SCHEDULES[name]}
    if name == "one_cycle":
        defaults["interval"] = "step"
    p = merge_options("Schedule", name, defaults, params)
    owner = f"schedule {name!r}"
    check_choice(p["interval"], "interval", owner, ["epoch", "step"])
    if name == "plateau" and p["interval"] != "epoch":
        raise ConfigError("Schedule 'plateau' adjusts the rate between epochs; use interval='epoch'.")
    p["warmup"] = check_int(p["warmup"], "warmup", owner, low=0)
    # torch's LinearLR refuses a start factor of 0 too: the first warm-up unit would train at rate 0
    p["warmup_start_factor"] = check_float(p["warmup_start_factor"], "warmup_start_factor", owner, low=0.0,
                                           high=1.0, low_open=True)  # fmt: skip
    if name == "one_cycle" and p["warmup"]:
        raise ConfigError("Schedule 'one_cycle' warms up on its own (its first pct_start of the run rises from "
                          "lr/div_factor to lr); a warm-up before it would climb to lr and then drop to "
                          "lr/div_factor. Drop warmup, or raise pct_start for a longer ramp.")  # fmt: skip
    _check_specific(name, p, owner)
    return ScheduleSpec(name=name, params=MappingProxyType(p))


def _check_specific(name: str, p: dict[str, Any], owner: str) -> None:
    pos = {"low": 0.0, "low_open": True}
    if name == "linear":
        # torch's LinearLR ranges: a start factor of 0 trains at rate 0, factors above 1 are a larger lr
        fix = "(factors of lr, as torch's LinearLR; for higher rates raise lr instead)"
        p["start_factor"] = check_float(p["start_factor"], "start_factor", owner, low=0.0, high=1.0, low_open=True,
                                        fix=fix)  # fmt: skip
        p["end_factor"] = check_float(p["end_factor"], "end_factor", owner, low=0.0, high=1.0, fix=fix)
        if p["total_iters"] is not None:
            p["total_iters"] = check_int(p["total_iters"], "total_iters", owner, low=1)
    elif name in ("exponential", "step"):
        p["gamma"] = check_float(p["gamma"], "gamma", owner, **pos)
        if name == "step":
            p["step_size"] = check_int(p["step_size"], "step_size", owner, low=1)
    elif name == "inverse_time":
        p["decay_rate"] = check_float(p["decay_rate"], "decay_rate", owner, low=0.0)
    elif name == "cosine":
        p["eta_min"] = check_float(p["eta_min"], "eta_min", owner, low=0.0)
        if p["T_max"] is not None:
            p["T_max"] = check_int(p["T_max"], "T_max", owner, low=1)
    elif name == "one_cycle":
        p["pct_start"] = check_float(p["pct_start"], "pct_start", owner, low=0.0, high=1.0, low_open=True, high_open=True)
        p["div_factor"] = check_float(p["div_factor"], "div_factor", owner, **pos)
        p["final_div_factor"] = check_float(p["final_div_factor"], "final_div_factor", owner, **pos)
        p["cycle_momentum"] = check_bool(p["cycle_momentum"], "cycle_momentum", owner)
        p["base_momentum"] = check_float(p["base_momentum"], "base_momentum", owner, low=0.0, high=1.0, high_open=True)
        p["max_momentum"] = check_float(p["max_momentum"], "max_momentum", owner, low=0.0, high=1.0, high_open=True)
        if p["base_momentum"] > p["max_momentum"]:
            raise ConfigError(f"Schedule 'one_cycle': base_momentum ({p['base_momentum']}) must not exceed "
                              f"max_momentum ({p['max_momentum']}); swap them.")  # fmt: skip
    elif name == "plateau":
        p["factor"] = check_float(p["factor"], "factor", owner, low=0.0, high=1.0, low_open=True, high_open=True)
        p["patience"] = check_int(p["patience"], "patience", owner, low=0)
        p["threshold"] = check_float(p["threshold"], "threshold", owner, low=0.0)
        p["cooldown"] = check_int(p["cooldown"], "cooldown", owner, low=0)
        p["min_lr"] = check_float(p["min_lr"], "min_lr", owner, low=0.0)


def schedule_rates(name: str, lr: float, *, steps_per_epoch: int, epochs: int, **params: Any) -> np.ndarray:
    """Per-step rates (``steps_per_epoch * epochs`` values) of a schedule.

    For ``plateau`` only the warm-up shows: its reductions depend on the run.

    >>> schedule_rates("constant", 0.01, steps_per_epoch=3, epochs=1).tolist()
    [0.01, 0.01, 0.01]
    """
    spec = make_schedule(name, params)
    check_float(lr, "lr", "schedule_rates", low=0.0, low_open=True)
    check_int(steps_per_epoch, "steps_per_epoch", "schedule_rates", low=1)
    check_int(epochs, "epochs", "schedule_rates", low=1)
    return spec.rates(lr, steps_per_epoch, epochs)


class Plateau:
    """torch ``ReduceLROnPlateau`` (mode min, relative threshold) as a rate multiplier.

    >>> p = Plateau(lr=1.0, factor=0.5, patience=0, threshold=0.0, cooldown=0, min_lr=0.0)
    >>> [p.step(v) for v in (1.0, 1.0, 0.5)]
    [1.0, 0.5, 0.5]
    """

    def __init__(self, *, lr: float, factor: float, patience: int, threshold: float, cooldown: int, min_lr: float):
        self.lr = lr
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.multiplier = 1.0
        self.best = math.inf
        self.num_bad = 0
        self.cooldown_counter = 0

    def step(self, metric: float) -> float:
        """Record an epoch's validation loss; return the multiplier for the next epoch."""
        if metric < self.best * (1.0 - self.threshold):
            self.best = metric
            self.num_bad = 0
        else:
            self.num_bad += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad = 0
        if self.num_bad > self.patience:
            old = self.lr * self.multiplier
            new = max(old * self.factor, self.min_lr)
            if old - new > 1e-8:  # torch's eps
                self.multiplier = new / self.lr
            self.cooldown_counter = self.cooldown
            self.num_bad = 0
        return self.multiplier
