"""Optimizer specifications with the semantics and defaults of ``torch.optim``.

Each optimizer is a name, a kernel code and its options, validated here and
packed into the ``hp`` vector the kernels read. The same base rate means the
same thing here and in PyTorch.

>>> spec = make_optimizer("adam", {"betas": (0.9, 0.99)})
>>> spec.name, spec.params["betas"], spec.params["eps"]
('adam', (0.9, 0.99), 1e-08)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from lrsearch._validation import check_bool, check_float, merge_options
from lrsearch.exceptions import ConfigError
from lrsearch.nn import _kernels as K

__all__ = ["OPTIMIZERS", "OptimizerSpec", "make_optimizer"]

_SGD = {"momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0}

#: name -> (kernel code, default options). Options are named as torch.optim names them.
OPTIMIZERS: Mapping[str, tuple[int, Mapping[str, Any]]] = MappingProxyType(
    {
        "sgd": (K.OPT_SGD, dict(_SGD)),
        "momentum": (K.OPT_SGD, {**_SGD, "momentum": 0.9}),
        "nesterov": (K.OPT_SGD, {**_SGD, "momentum": 0.9, "nesterov": True}),
        "adagrad": (
            K.OPT_ADAGRAD,
            {"lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0, "eps": 1e-10},
        ),
        "rmsprop": (
            K.OPT_RMSPROP,
            {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False},
        ),
        "adam": (K.OPT_ADAM, {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False}),
        "adamw": (K.OPT_ADAM, {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False}),
    }
)


@dataclass(frozen=True)
class OptimizerSpec:
    """A validated optimizer: its registry name, kernel code and full options."""

    name: str
    code: int
    params: Mapping[str, Any] = field(default_factory=dict)

    def hyperparameters(self) -> np.ndarray:
        """The float64 ``hp`` vector read by the kernels."""
        p = self.params
        hp = np.zeros(K.N_HP, dtype=np.float64)
        hp[K.HP_WEIGHT_DECAY] = p["weight_decay"]
        if self.code == K.OPT_SGD:
            hp[K.HP_MOMENTUM] = p["momentum"]
            hp[K.HP_DAMPENING] = p["dampening"]
            hp[K.HP_NESTEROV] = float(p["nesterov"])
        elif self.code == K.OPT_ADAGRAD:
            hp[K.HP_EPS] = p["eps"]
            hp[K.HP_LR_DECAY] = p["lr_decay"]
        elif self.code == K.OPT_RMSPROP:
            hp[K.HP_EPS] = p["eps"]
            hp[K.HP_BETA1] = p["alpha"]
            hp[K.HP_MOMENTUM] = p["momentum"]
            hp[K.HP_FLAG] = float(p["centered"])
        else:
            hp[K.HP_EPS] = p["eps"]
            hp[K.HP_BETA1], hp[K.HP_BETA2] = p["betas"]
            hp[K.HP_FLAG] = float(p["amsgrad"])
            hp[K.HP_DECOUPLED] = float(self.name == "adamw")
        return hp

    def initial_state(self, n_params: int, dtype: np.dtype) -> np.ndarray:
        """Fresh optimizer state, shape ``(N_STATE, n_params)``."""
        state = np.zeros((K.N_STATE, n_params), dtype=dtype)
        if self.code == K.OPT_ADAGRAD:
            state[K.ST_SQ] = self.params["initial_accumulator_value"]
        return state


def _check_betas(value: Any, owner: str) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ConfigError(
            f"The 'betas' parameter of {owner} must be a pair of floats in [0.0, 1.0). "
            f"Got {value!r} instead."
        )
    b1 = check_float(value[0], "betas[0]", owner, low=0.0, high=1.0, high_open=True)
    b2 = check_float(value[1], "betas[1]", owner, low=0.0, high=1.0, high_open=True)
    return (b1, b2)


def make_optimizer(name: str, params: Mapping[str, Any] | None = None) -> OptimizerSpec:
    """Validate ``name`` and ``params`` and return the optimizer's spec.

    Unknown options are an error naming the options the optimizer takes.

    >>> make_optimizer("nesterov").params["momentum"]
    0.9
    """
    if name not in OPTIMIZERS:
        known = ", ".join(OPTIMIZERS)
        raise ConfigError(f"Unknown optimizer {name!r}; choose one of: {known}.")
    code, defaults = OPTIMIZERS[name]
    p = merge_options("Optimizer", name, defaults, params)
    owner = f"optimizer {name!r}"
    for key in ("weight_decay", "momentum", "dampening", "lr_decay", "initial_accumulator_value"):
        if key in p:
            p[key] = check_float(p[key], key, owner, low=0.0)
    if "eps" in p:
        p["eps"] = check_float(p["eps"], "eps", owner, low=0.0)
    if "alpha" in p:
        p["alpha"] = check_float(p["alpha"], "alpha", owner, low=0.0, high=1.0)
    for key in ("nesterov", "centered", "amsgrad"):
        if key in p:
            p[key] = check_bool(p[key], key, owner)
    if "betas" in p:
        p["betas"] = _check_betas(p["betas"], owner)
    if name == "nesterov" and not p["nesterov"]:
        raise ConfigError(f"{owner} with nesterov=False would be plain momentum; use optimizer 'momentum' "
                          "instead, or leave nesterov out.")  # fmt: skip
    if p.get("nesterov") and (p["momentum"] <= 0.0 or p["dampening"] != 0.0):
        raise ConfigError(
            f"Nesterov momentum of {owner} requires momentum > 0 and dampening = 0; "
            f"got momentum={p['momentum']}, dampening={p['dampening']}."
        )
    return OptimizerSpec(name=name, code=code, params=MappingProxyType(p))
