"""The Numba-JIT MLP training core.

>>> from lrsearch.nn import train, OPTIMIZERS, SCHEDULES
>>> sorted(OPTIMIZERS)[:3]
['adagrad', 'adam', 'adamw']
"""

from __future__ import annotations

from lrsearch.nn.optimizers import OPTIMIZERS, OptimizerSpec, make_optimizer
from lrsearch.nn.schedules import SCHEDULES, ScheduleSpec, make_schedule, schedule_rates
from lrsearch.nn.training import (
    ACTIVATIONS,
    TASKS,
    OptimizerState,
    StepsOutcome,
    Trainer,
    TrainResult,
    evaluate_output,
    loss_and_grad,
    predict_output,
    train,
)

__all__ = [
    "ACTIVATIONS",
    "OPTIMIZERS",
    "SCHEDULES",
    "TASKS",
    "OptimizerSpec",
    "OptimizerState",
    "ScheduleSpec",
    "StepsOutcome",
    "TrainResult",
    "Trainer",
    "evaluate_output",
    "loss_and_grad",
    "make_optimizer",
    "make_schedule",
    "predict_output",
    "schedule_rates",
    "train",
]
