"""The search space: optimizer, base rate, schedule and their conditional parameters.

A :class:`SearchSpace` is plain validated data. :meth:`SearchSpace.sample`
turns an Optuna trial (or a :class:`optuna.trial.FixedTrial` holding a finished
trial's parameters) into the keyword arguments of :func:`lrsearch.nn.train`.
Parameters are *conditional*: the rate of Adam is ``lr_adam`` and exists only in
trials that chose Adam (a rate means something different for each optimizer);
``step_gamma`` exists only in trials with the step schedule, and so on.

Optuna parameter names:

* ``optimizer``, ``schedule`` (categorical, always present);
* ``lr_<optimizer>`` (log-uniform, per-optimizer bounds);
* ``<schedule>_<param>`` (e.g. ``exponential_gamma``, ``step_step_size``,
  ``one_cycle_pct_start``); ``cosine_eta_min_factor`` is eta_min as a fraction
  of the base rate;
* ``warmup`` (epochs of linear warm-up; every schedule but one_cycle, which has
  its own ramp);
* optional: ``batch_size``, ``hidden`` (categorical, "64,32"), ``momentum``
  (momentum, nesterov), ``beta1``/``beta2`` (adam, adamw), ``weight_decay``
  (L2, every optimizer but adamw), ``adamw_weight_decay`` (decoupled),
  ``clip_norm`` (global-norm clipping).

>>> space = default_space(epochs=30, optimizers=("adam",), schedules=("cosine",))
>>> import optuna
>>> cfg = space.sample(optuna.trial.FixedTrial({"optimizer": "adam", "lr_adam": 1e-3,
...                    "schedule": "cosine", "cosine_eta_min_factor": 0.01, "warmup": 2}))
>>> cfg["optimizer"], cfg["lr"], cfg["schedule_params"]["warmup"], cfg["schedule_params"]["eta_min"]
('adam', 0.001, 2, 1e-05)
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lrsearch.exceptions import ConfigError

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_LR_BOUNDS",
    "OPTIMIZER_NAMES",
    "OPTIONAL_PARAMS",
    "SCHEDULE_NAMES",
    "Choice",
    "Range",
    "SearchSpace",
    "default_space",
    "dim_values",
    "space_from_dict",
]

OPTIMIZER_NAMES: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULE_NAMES: tuple[str, ...] = (
    "constant", "linear", "exponential", "inverse_time", "step", "cosine", "one_cycle", "plateau",
)  # fmt: skip

#: log-uniform bounds of the base rate per optimizer (standardised inputs, small MLPs)
DEFAULT_LR_BOUNDS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "sgd": (1e-3, 1.0),
        "momentum": (1e-4, 0.3),
        "nesterov": (1e-4, 0.3),
        "adagrad": (1e-3, 1.0),
        "rmsprop": (1e-5, 0.1),
        "adam": (1e-5, 0.1),
        "adamw": (1e-5, 0.1),
    }
)


@dataclass(frozen=True)
class Range:
    """A numeric range sampled by Optuna: ``[low, high]``, integer or float, log or linear."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "log": self.log, "int": self.integer}


@dataclass(frozen=True)
class Choice:
    """A categorical choice among ``values`` (numbers, strings or tuples of ints for ``hidden``)."""

    values: tuple[Any, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"choices": [list(v) if isinstance(v, tuple) else v for v in self.values]}


Dim = Range | Choice | int | float | str | bool
"""A dimension: sampled (:class:`Range`, :class:`Choice`) or fixed (a plain value)."""

# Schedule parameters the space knows: name -> (integer?, log scale by default?).
# ``eta_min_factor`` stands for cosine's eta_min as a fraction of the base rate.
_SCHEDULE_KEYS: Mapping[str, Mapping[str, tuple[bool, bool]]] = MappingProxyType(
    {
        "constant": {},
        "linear": {"start_factor": (False, False), "end_factor": (False, False), "total_iters": (True, False)},
        "exponential": {"gamma": (False, False)},
        "inverse_time": {"decay_rate": (False, True)},
        "step": {"step_size": (True, False), "gamma": (False, False)},
        "cosine": {"eta_min_factor": (False, False), "T_max": (True, False)},
        "one_cycle": {"pct_start": (False, False), "div_factor": (False, True), "final_div_factor": (False, True)},
        "plateau": {
            "factor": (False, False), "patience": (True, False), "threshold": (False, True),
            "cooldown": (True, False), "min_lr": (False, True),
        },
    }
)  # fmt: skip
_COMMON_SCHEDULE_KEYS = {"warmup_start_factor": (False, False), "interval": (False, False)}

#: optional dimensions (searched only when the spec names them) and their default ranges
OPTIONAL_PARAMS: Mapping[str, Dim] = MappingProxyType(
    {
        "batch_size": Choice((16, 32, 64, 128)),
        "hidden": Choice(((32,), (64,), (128,), (64, 32))),
        "momentum": Range(0.5, 0.99),
        "beta1": Range(0.8, 0.95),
        "beta2": Range(0.99, 0.9999),
        "weight_decay": Range(1e-6, 1e-2, log=True),
        "adamw_weight_decay": Range(1e-4, 0.3, log=True),
        "clip_norm": Range(0.1, 10.0, log=True),
    }
)
_OPTIONAL_INT = {"batch_size"}
_MOMENTUM_OPTIMIZERS = ("momentum", "nesterov")
_ADAM_OPTIMIZERS = ("adam", "adamw")


def default_schedule_params(epochs: int) -> dict[str, dict[str, Dim]]:
    """The searched parameters of each schedule; ranges that count epochs scale with ``epochs``.

    Epoch counts are rounded down and kept where they can act within the run, whatever warm-up the default
    range draws (:func:`default_warmup`): a step of ``step_size`` epochs must fall inside the run
    (``step_size <= epochs - 1 - warm-up``), and a plateau of ``patience`` epochs must cut the rate for at
    least one epoch (the first cut comes after ``patience + 1`` epochs that do not improve on the first one,
    so ``patience <= epochs - 3 - warm-up``). Where one value is left, it is fixed; a run too short for any
    (step: 1 epoch; plateau: under 3) keeps the smallest value, and such trials train at a constant rate.

    >>> default_schedule_params(30)["step"]["step_size"]
    Range(low=3, high=15, log=False, integer=True)
    >>> [dim_values(default_schedule_params(e)["step"]["step_size"]) for e in (1, 2, 3, 6)]
    [[1], [1], [1, 2], [1, 3]]
    >>> [dim_values(default_schedule_params(e)["plateau"]["patience"]) for e in (2, 3, 4, 5, 6)]
    [[0], [0], [1], [1], [1, 2]]
    """
    warm = int(max(dim_values(default_warmup(epochs))))
    room = epochs - warm  # epochs of the main schedule after the longest default warm-up
    step_low = max(1, epochs // 10)
    step_high = max(step_low, min(max(2, epochs // 2), room - 1))
    patience_high = max(0, min(max(2, epochs // 5), room - 3))
    return {
        "constant": {},
        "linear": {"end_factor": Range(0.0, 0.5)},
        "exponential": {"gamma": Range(0.8, 0.999)},
        "inverse_time": {"decay_rate": Range(1e-3, 1.0, log=True)},
        "step": {"step_size": _int_range(step_low, step_high), "gamma": Range(0.1, 0.9)},
        "cosine": {"eta_min_factor": Range(0.0, 0.1)},
        "one_cycle": {"pct_start": Range(0.1, 0.5), "div_factor": Range(5.0, 100.0, log=True)},
        "plateau": {"patience": _int_range(min(1, patience_high), patience_high), "factor": Range(0.1, 0.7)},
    }


def _int_range(low: int, high: int) -> Dim:
    """An integer range, or the one value when ``low == high`` (fixed, not searched)."""
    return Range(low, high, integer=True) if high > low else low


def default_warmup(epochs: int) -> Dim:
    """Warm-up epochs searched by default: 0 to a tenth of the run, rounded down, but 0-1 from 5 epochs on, and
    none below 5 (one epoch would be over a fifth of the run, and leave the schedule too few to act in).

    >>> [dim_values(default_warmup(e)) for e in (4, 5, 19, 35)]
    [[0], [0, 1], [0, 1], [0, 3]]
    """
    return _int_range(0, max(1, epochs // 10)) if epochs >= _MIN_WARMUP_EPOCHS else 0


#: the shortest run whose default space searches a warm-up (one epoch of it)
_MIN_WARMUP_EPOCHS = 5


@dataclass(frozen=True)
class SearchSpace:
    """Which optimizers, rates, schedules and extras a study searches (validated, immutable).

    Build one with :func:`default_space` or :func:`space_from_dict` (what a TOML
    spec's ``[space]`` table becomes); :meth:`to_dict` round-trips.
    """

    optimizers: tuple[str, ...]
    lr: Mapping[str, tuple[float, float]]
    schedules: tuple[str, ...]
    schedule_params: Mapping[str, Mapping[str, Dim]]
    warmup: Dim = 0
    optional: Mapping[str, Dim] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate_space(self)

    # -- sampling ------------------------------------------------------------------------
    def sample(self, trial: Any) -> dict[str, Any]:
        """Draw one configuration from ``trial``; return :func:`lrsearch.nn.train` keyword arguments.

        Only the parameters of the chosen optimizer and schedule are suggested.
        The result holds ``optimizer``, ``lr``, ``optimizer_params``,
        ``schedule``, ``schedule_params`` and, when searched, ``batch_size``,
        ``hidden`` and ``clip_norm``.
        """
        opt = trial.suggest_categorical("optimizer", list(self.optimizers))
        low, high = self.lr[opt]
        lr = _suggest(trial, f"lr_{opt}", Range(low, high, log=True))
        schedule = trial.suggest_categorical("schedule", list(self.schedules))
        sched: dict[str, Any] = {}
        for key, dim in self.schedule_params.get(schedule, {}).items():
            value = _suggest(trial, f"{schedule}_{key}", dim)
            if key == "eta_min_factor":
                sched["eta_min"] = float(value) * lr
            else:
                sched[key] = value
        if schedule != "one_cycle":
            warm = _suggest(trial, "warmup", self.warmup)
            if warm:
                sched["warmup"] = int(warm)
        config: dict[str, Any] = {"optimizer": opt, "lr": lr, "schedule": schedule, "schedule_params": sched}
        opt_params: dict[str, Any] = {}
        extra = self.optional
        if "batch_size" in extra:
            config["batch_size"] = int(_suggest(trial, "batch_size", extra["batch_size"]))
        if "hidden" in extra:
            config["hidden"] = _decode_hidden(_suggest(trial, "hidden", extra["hidden"]))
        if "momentum" in extra and opt in _MOMENTUM_OPTIMIZERS:
            opt_params["momentum"] = _suggest(trial, "momentum", extra["momentum"])
        if opt in _ADAM_OPTIMIZERS and ("beta1" in extra or "beta2" in extra):
            b1 = _suggest(trial, "beta1", extra["beta1"]) if "beta1" in extra else 0.9
            b2 = _suggest(trial, "beta2", extra["beta2"]) if "beta2" in extra else 0.999
            opt_params["betas"] = (float(b1), float(b2))
        if "weight_decay" in extra and opt != "adamw":
            opt_params["weight_decay"] = _suggest(trial, "weight_decay", extra["weight_decay"])
        if "adamw_weight_decay" in extra and opt == "adamw":
            opt_params["weight_decay"] = _suggest(trial, "adamw_weight_decay", extra["adamw_weight_decay"])
        if "clip_norm" in extra:
            config["clip_norm"] = _suggest(trial, "clip_norm", extra["clip_norm"])
        config["optimizer_params"] = opt_params
        return config

    def with_lr_bounds(self, bounds: Mapping[str, tuple[float, float]]) -> SearchSpace:
        """A copy whose rate bounds of the optimizers in ``bounds`` are replaced."""
        lr = dict(self.lr)
        lr.update({k: (float(v[0]), float(v[1])) for k, v in bounds.items()})
        return SearchSpace(self.optimizers, lr, self.schedules, self.schedule_params, self.warmup, self.optional)

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (the ``[space]`` table of a spec, fully expanded).

        >>> space_from_dict(default_space(epochs=20).to_dict()) == default_space(epochs=20)
        True
        """
        out: dict[str, Any] = {
            "optimizer": list(self.optimizers),
            "lr": {k: list(self.lr[k]) for k in self.optimizers},
            "schedule": list(self.schedules),
            "warmup": _dim_to_json(self.warmup),
        }
        for name in self.schedules:
            params = self.schedule_params.get(name, {})
            if params:
                out[name] = {k: _dim_to_json(v) for k, v in params.items()}
        for key, dim in self.optional.items():
            out[key] = _dim_to_json(dim)
        return out

    def core_defaults(self) -> dict[str, Any]:
        """The parameters this space's trials train with that the space leaves to the core's defaults.

        Per schedule, what :func:`lrsearch.nn.schedules.make_schedule` fills in
        (``interval``, ``warmup_start_factor``, plateau's ``threshold``, ...);
        per optimizer, the options of :func:`lrsearch.nn.optimizers.make_optimizer`
        that no dimension sets (``eps``, Adam's ``betas``, AdamW's
        ``weight_decay``, ...). Part of a study's definition: a default that
        changes (the warm-up's start factor went from 0 to 1/3 once) changes
        every trial after it.

        >>> default_space(10, optimizers=["adam"], schedules=["cosine"]).core_defaults()["schedule"]["cosine"]
        {'interval': 'epoch', 'warmup_start_factor': 0.3333333333333333, 'T_max': None}
        """
        from lrsearch.nn.optimizers import make_optimizer
        from lrsearch.nn.schedules import make_schedule

        def plain(value: Any) -> Any:
            return list(value) if isinstance(value, tuple) else value

        schedules: dict[str, dict[str, Any]] = {}
        for name in self.schedules:
            given: set[str] = set(self.schedule_params.get(name, {}))
            if "eta_min_factor" in given:
                given.add("eta_min")
            if name != "one_cycle":  # sample() sets every other schedule's warm-up
                given.add("warmup")
            schedules[name] = {k: plain(v) for k, v in make_schedule(name).params.items() if k not in given}
        optimizers: dict[str, dict[str, Any]] = {}
        extra = self.optional
        for name in self.optimizers:
            given = set()
            if "momentum" in extra and name in _MOMENTUM_OPTIMIZERS:
                given.add("momentum")
            if name in _ADAM_OPTIMIZERS and ("beta1" in extra or "beta2" in extra):
                given.add("betas")
            if ("weight_decay" in extra and name != "adamw") or ("adamw_weight_decay" in extra and name == "adamw"):
                given.add("weight_decay")
            optimizers[name] = {k: plain(v) for k, v in make_optimizer(name).params.items() if k not in given}
        return {"schedule": schedules, "optimizer": optimizers}

    def fingerprint(self) -> str:
        """A short stable hash of :meth:`to_dict`."""
        return _hash(self.to_dict())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.fingerprint())


def default_space(
    epochs: int = 30,
    *,
    optimizers: Sequence[str] = OPTIMIZER_NAMES,
    schedules: Sequence[str] = SCHEDULE_NAMES,
    search: Sequence[str] = (),
) -> SearchSpace:
    """The default space: the given optimizers and schedules with default bounds.

    ``search`` names optional dimensions to add with their default ranges
    (:data:`OPTIONAL_PARAMS`).

    >>> sorted(default_space(30, search=["momentum"]).optional)
    ['momentum']
    """
    unknown = [s for s in search if s not in OPTIONAL_PARAMS]
    if unknown:
        raise ConfigError(f"Cannot search {unknown[0]!r}; optional dimensions are: {', '.join(OPTIONAL_PARAMS)}.")
    _check_names(optimizers, OPTIMIZER_NAMES, "optimizer")
    _check_names(schedules, SCHEDULE_NAMES, "schedule")
    all_params = default_schedule_params(epochs)
    _warn_unused(optimizers, search, (), "--search")
    return SearchSpace(
        optimizers=tuple(optimizers),
        lr={k: DEFAULT_LR_BOUNDS[k] for k in optimizers},
        schedules=tuple(schedules),
        schedule_params={k: all_params[k] for k in schedules},
        warmup=default_warmup(epochs),
        optional={k: OPTIONAL_PARAMS[k] for k in search},
    )


_SPACE_KEYS = ("optimizer", "lr", "schedule", "warmup", *SCHEDULE_NAMES, *OPTIONAL_PARAMS)


def space_from_dict(table: Mapping[str, Any], *, epochs: int = 30, where: str = "space") -> SearchSpace:
    """Build a space from a ``[space]`` table; keys left out take the defaults.

    ``optimizer`` and ``schedule`` are lists of names; ``lr`` is one ``[low, high]``
    for every optimizer or a table of them per optimizer; ``warmup`` an int or a
    ``[low, high]`` int range; a schedule's table (``[space.step]``) gives its
    parameters, each a fixed value, a ``[low, high]`` range or an inline table
    ``{low, high, log}``; optional dimensions (``batch_size``, ``hidden``: lists
    of choices; ``momentum``, ``beta1``, ``beta2``, ``weight_decay``,
    ``adamw_weight_decay``, ``clip_norm``: ranges, or ``true`` for the default
    range) are searched only when present. Errors name the key (``where`` is the
    prefix) and the fix.

    >>> space_from_dict({"optimizer": ["adam"], "lr": [1e-4, 1e-2], "schedule": ["constant"], "warmup": 0}).lr
    {'adam': (0.0001, 0.01)}
    """
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table; got {table!r}.")
    for key in table:
        if key not in _SPACE_KEYS:
            raise ConfigError(_unknown_key(f"{where}.{key}", key, _SPACE_KEYS))
    optimizers = _name_list(table.get("optimizer", OPTIMIZER_NAMES), OPTIMIZER_NAMES, f"{where}.optimizer")
    schedules = _name_list(table.get("schedule", SCHEDULE_NAMES), SCHEDULE_NAMES, f"{where}.schedule")
    lr = {k: DEFAULT_LR_BOUNDS[k] for k in optimizers}
    raw_lr = table.get("lr")
    if raw_lr is not None:
        if isinstance(raw_lr, Mapping):
            for name, bounds in raw_lr.items():
                if name not in OPTIMIZER_NAMES:
                    raise ConfigError(_unknown_key(f"{where}.lr.{name}", name, OPTIMIZER_NAMES))
                if name in lr:
                    lr[name] = _lr_bounds(bounds, f"{where}.lr.{name}")
        else:
            both = _lr_bounds(raw_lr, f"{where}.lr")
            lr = {k: both for k in optimizers}
    defaults = default_schedule_params(epochs)
    schedule_params: dict[str, dict[str, Dim]] = {}
    for name in schedules:
        params = dict(defaults[name])
        given = table.get(name, {})
        if not isinstance(given, Mapping):
            raise ConfigError(f"{where}.{name} must be a table of {name!r} schedule parameters; got {given!r}.")
        allowed = {**_SCHEDULE_KEYS[name], **_COMMON_SCHEDULE_KEYS}
        for key, raw in given.items():
            if key not in allowed:
                raise ConfigError(_unknown_key(f"{where}.{name}.{key}", key, allowed))
            integer, log = allowed[key]
            params[key] = _parse_dim(raw, f"{where}.{name}.{key}", integer=integer, log=log)
        schedule_params[name] = params
    for name in SCHEDULE_NAMES:
        if name in table and name not in schedules:
            raise ConfigError(
                f"{where}.{name} sets parameters of schedule {name!r}, which {where}.schedule leaves out; "
                f"add it to {where}.schedule or drop the table."
            )
    warmup = (
        _parse_dim(table["warmup"], f"{where}.warmup", integer=True, log=False)
        if "warmup" in table
        else default_warmup(epochs)
    )
    optional: dict[str, Dim] = {}
    for key, default in OPTIONAL_PARAMS.items():
        if key not in table or table[key] is False:
            continue
        raw = table[key]
        where_key = f"{where}.{key}"
        if key in ("hidden", "batch_size") and isinstance(raw, Mapping) and set(raw) == {"choices"}:
            raw = raw["choices"]
        if raw is True:
            optional[key] = default
        elif key == "hidden":
            optional[key] = Choice(tuple(_hidden_choice(v, where_key) for v in _list(raw, where_key)))
        elif key == "batch_size":
            values = _list(raw, where_key)
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
                raise ConfigError(f"{where_key} must be a list of positive integers such as [16, 32, 64]; got {raw!r}.")
            optional[key] = Choice(tuple(values))
        else:
            assert isinstance(default, Range)
            optional[key] = _parse_dim(raw, where_key, integer=False, log=default.log)
    unused_lr = [k for k in raw_lr if k not in optimizers] if isinstance(raw_lr, Mapping) else []
    _warn_unused(optimizers, optional, unused_lr, where)
    try:
        return SearchSpace(tuple(optimizers), lr, tuple(schedules), schedule_params, warmup, optional)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


# -- helpers ------------------------------------------------------------------------------

#: optional dimension -> the optimizers it applies to (None: every optimizer)
_APPLIES_TO: Mapping[str, tuple[str, ...] | None] = MappingProxyType({
    "momentum": _MOMENTUM_OPTIMIZERS, "beta1": _ADAM_OPTIMIZERS, "beta2": _ADAM_OPTIMIZERS,
    "weight_decay": tuple(o for o in OPTIMIZER_NAMES if o != "adamw"), "adamw_weight_decay": ("adamw",),
})  # fmt: skip


def _warn_unused(optimizers: Sequence[str], optional: Any, lr_keys: Sequence[str], where: str) -> None:
    """Log a warning for settings that no trial of the space will use (they are legal, but probably a slip)."""
    for key in optional:
        targets = _APPLIES_TO.get(key)
        if targets is not None and not any(o in targets for o in optimizers):
            log.warning("%s: %r applies only to %s, and the space's optimizers are %s: it will not be searched",
                        where, key, "/".join(targets), ", ".join(optimizers))  # fmt: skip
    for key in lr_keys:
        log.warning("%s.lr.%s sets bounds for optimizer %r, which the space's optimizer list leaves out: unused",
                    where, key, key)  # fmt: skip



def _suggest(trial: Any, name: str, dim: Dim) -> Any:
    if isinstance(dim, Range):
        if dim.low == dim.high:
            return int(dim.low) if dim.integer else float(dim.low)
        if dim.integer:
            return trial.suggest_int(name, int(dim.low), int(dim.high), log=dim.log)
        return trial.suggest_float(name, float(dim.low), float(dim.high), log=dim.log)
    if isinstance(dim, Choice):
        encoded = [_encode_choice(v) for v in dim.values]
        return trial.suggest_categorical(name, encoded)
    return dim


def _encode_choice(value: Any) -> Any:
    """Optuna categoricals hold None/bool/int/float/str: hidden sizes become '64,32'."""
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return value


def _decode_hidden(value: Any) -> tuple[int, ...]:
    if isinstance(value, tuple):
        return value
    text = str(value).strip()
    return tuple(int(t) for t in text.split(",")) if text else ()


def _hidden_choice(value: Any, where: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, str):
        try:
            value = [int(t) for t in value.split(",") if t.strip()]
        except ValueError:
            value = None
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
    ):
        raise ConfigError(f"{where} must list hidden layer sizes such as [[64], [128, 64]]; got an entry {value!r}.")
    return tuple(value)


def _list(raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ConfigError(f"{where} must be a non-empty list of choices; got {raw!r}.")
    return list(raw)


def _name_list(raw: Any, known: Sequence[str], where: str) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    values = _list(raw, where)
    for v in values:
        if v not in known:
            raise ConfigError(_unknown_key(where, v, known, what="value"))
    if len(set(values)) != len(values):
        raise ConfigError(f"{where} lists a name twice: {values!r}.")
    return [str(v) for v in values]


def _check_names(values: Sequence[str], known: Sequence[str], what: str) -> None:
    if isinstance(values, str) or not values:
        raise ConfigError(f"Pass at least one {what} name (a list); got {values!r}.")
    for v in values:
        if v not in known:
            raise ConfigError(_unknown_key(what, v, known, what="value"))


def _unknown_key(where: str, key: Any, known: Any, what: str = "key") -> str:
    names = [str(k) for k in known]
    close = difflib.get_close_matches(str(key), names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    if what == "value":
        return f"{where}: unknown name {key!r}.{hint} Valid names: {', '.join(names)}."
    return f"Unknown key {where!r}.{hint} Valid keys here: {', '.join(names)}."


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _lr_bounds(raw: Any, where: str) -> tuple[float, float]:
    if isinstance(raw, Mapping):
        unknown = sorted(str(k) for k in set(raw) - {"low", "high", "log"})
        if unknown:
            raise ConfigError(f"{where} has unknown key(s) {', '.join(map(repr, unknown))}; a rate range takes "
                              f"low and high (e.g. {{low = 1e-4, high = 1e-1}}) or [low, high].")  # fmt: skip
        if "log" in raw and raw["log"] is not True:
            raise ConfigError(f"{where}: rates are always searched log-uniformly (log = true); got log = "
                              f"{raw['log']!r}. Remove log, or set log = true.")  # fmt: skip
        raw = [raw.get("low"), raw.get("high")]
    if not isinstance(raw, (list, tuple)) or len(raw) != 2 or not all(_is_number(v) for v in raw):
        raise ConfigError(f"{where} must be a pair [low, high] of rates such as [1e-4, 1e-1]; got {raw!r}.")
    low, high = float(raw[0]), float(raw[1])
    if not 0.0 < low <= high:
        raise ConfigError(f"{where} must satisfy 0 < low <= high; got [{raw[0]}, {raw[1]}].")
    return (low, high)


def _parse_dim(raw: Any, where: str, *, integer: bool, log: bool) -> Dim:
    """A fixed value, ``[low, high]``, or ``{low, high, log}`` / ``{choices}``."""
    if isinstance(raw, Mapping):
        unknown = sorted(set(raw) - {"low", "high", "log", "int", "choices"})
        if unknown:
            raise ConfigError(_unknown_key(f"{where}.{unknown[0]}", unknown[0], ["low", "high", "log", "choices"]))
        if "choices" in raw:
            return Choice(tuple(_list(raw["choices"], f"{where}.choices")))
        if raw.get("int", integer) != integer:
            raise ConfigError(f"{where} is {'an integer' if integer else 'a float'} parameter; drop its 'int' key.")
        log = raw.get("log", log)
        if not isinstance(log, bool):
            raise ConfigError(f"{where}.log must be true or false; got {log!r}.")
        raw = [raw.get("low"), raw.get("high")]
    if isinstance(raw, (list, tuple)):
        if len(raw) != 2 or not all(_is_number(v) for v in raw):
            kind = "integers" if integer else "numbers"
            raise ConfigError(f"{where} must be a fixed value or a range [low, high] of {kind}; got {list(raw)!r}.")
        low, high = raw
        if integer and not all(float(v).is_integer() for v in (low, high)):
            raise ConfigError(f"{where} must be a range of integers; got [{low}, {high}].")
        if low > high:
            raise ConfigError(f"{where} must have low <= high; got [{low}, {high}].")
        if log and low <= 0:
            raise ConfigError(f"{where} is searched on a log scale, so low must be > 0; got [{low}, {high}].")
        if integer:
            return Range(int(low), int(high), log=log, integer=True)
        return Range(float(low), float(high), log=log)
    if integer:
        if not (_is_number(raw) and float(raw).is_integer()):
            raise ConfigError(f"{where} must be an integer or a range [low, high] of integers; got {raw!r}.")
        return int(raw)
    if isinstance(raw, (bool, str)) or _is_number(raw):
        return raw
    raise ConfigError(f"{where} must be a fixed value or a range [low, high]; got {raw!r}.")


def _dim_to_json(dim: Dim) -> Any:
    return dim.to_dict() if isinstance(dim, (Range, Choice)) else dim


def dim_values(dim: Dim) -> list[Any]:
    """The extreme values of a dimension (for validating through the core's checks).

    >>> dim_values(Range(0, 3, integer=True)), dim_values(Choice((16, 32, 64))), dim_values(2)
    ([0, 3], [16, 32, 64], [2])
    """
    if isinstance(dim, Range):
        return [dim.low, dim.high]
    if isinstance(dim, Choice):
        return list(dim.values)
    return [dim]


def _validate_space(space: SearchSpace) -> None:
    """Check names and bounds, and every schedule's extremes through the core's own validation."""
    from lrsearch.nn.optimizers import make_optimizer
    from lrsearch.nn.schedules import make_schedule

    _check_names(space.optimizers, OPTIMIZER_NAMES, "optimizer")
    _check_names(space.schedules, SCHEDULE_NAMES, "schedule")
    for opt in space.optimizers:
        if opt not in space.lr:
            raise ConfigError(f"No rate bounds for optimizer {opt!r}; give lr.{opt} = [low, high].")
        low, high = space.lr[opt]
        if not (_is_number(low) and _is_number(high) and 0 < low <= high):
            raise ConfigError(f"lr.{opt} must satisfy 0 < low <= high; got [{low}, {high}].")
    for values in (dim_values(space.warmup),):
        if any(not isinstance(v, int) or v < 0 for v in values):
            raise ConfigError(f"warmup must be whole epochs >= 0; got {_dim_to_json(space.warmup)!r}.")
    for name in space.schedules:
        params = space.schedule_params.get(name, {})
        # both corners (every bound low, every bound high), then each choice with the others at their low end:
        # a Choice's third value used to go unchecked and stop the study at the first trial that drew it
        combos = [{k: dim_values(d)[min(corner, len(dim_values(d)) - 1)] for k, d in params.items()}
                  for corner in (0, 1)]  # fmt: skip
        for key, dim in params.items():
            combos += [{**combos[0], key: v} for v in dim_values(dim)[2:]]
        for n_combo, combo in enumerate(combos):
            concrete: dict[str, Any] = {}
            for key, value in combo.items():
                if key == "eta_min_factor":
                    if not (_is_number(value) and 0.0 <= value <= 1.0):
                        raise ConfigError(
                            f"{name}.eta_min_factor (eta_min as a fraction of lr) must be in [0, 1]; got {value!r}."
                        )
                    continue
                concrete[key] = value
            try:
                make_schedule(name, concrete)
            except ConfigError as exc:
                ranges = n_combo < 2 and any(isinstance(d, Range) for d in params.values())
                hint = " A range's ends can be drawn (samplers such as GP and CMA-ES clip to them): move the end " \
                       "inside the allowed values (e.g. 0.01 rather than 0)." if ranges else ""  # fmt: skip
                raise ConfigError(f"{name}: {exc}{hint}") from None
    extra = space.optional
    for key in extra:
        if key not in OPTIONAL_PARAMS:
            raise ConfigError(_unknown_key(key, key, OPTIONAL_PARAMS))
    checks = {
        "momentum": ("momentum", {"momentum": None}),
        "weight_decay": ("adam", {"weight_decay": None}),
        "adamw_weight_decay": ("adamw", {"weight_decay": None}),
    }
    if "nesterov" in space.optimizers:  # Nesterov needs momentum > 0, which the momentum optimizer does not
        checks["nesterov momentum"] = ("nesterov", {"momentum": None})
    for key, (opt, template) in checks.items():
        dim = extra.get(key.split()[-1])
        if dim is not None:
            for v in dim_values(dim):
                try:
                    make_optimizer(opt, {k: v for k in template})
                except ConfigError as exc:
                    hint = " A range's ends can be drawn: move the end inside the allowed values (e.g. 0.01 " \
                           "rather than 0)." if isinstance(dim, Range) else ""  # fmt: skip
                    raise ConfigError(f"{key}: {exc}{hint}") from None
    for key in ("beta1", "beta2"):
        if key in extra and any(not (_is_number(v) and 0.0 <= v < 1.0) for v in dim_values(extra[key])):
            raise ConfigError(f"{key} must lie in [0, 1); got {_dim_to_json(extra[key])!r}.")
    if "clip_norm" in extra and any(not (_is_number(v) and v > 0) for v in dim_values(extra["clip_norm"])):
        raise ConfigError(f"clip_norm must be > 0; got {_dim_to_json(extra['clip_norm'])!r}.")
    if "batch_size" in extra and any(not (isinstance(v, int) and v >= 1) for v in dim_values(extra["batch_size"])):
        raise ConfigError(f"batch_size choices must be positive integers; got {_dim_to_json(extra['batch_size'])!r}.")


def _hash(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
