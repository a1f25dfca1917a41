"""Train on a :class:`~lrsearch.data.Dataset` and score the result on its splits.

Regression metrics are reported in the target's original units (the network
trains on standardised targets), classification metrics on the class codes.

>>> from lrsearch.data import load
>>> fit = fit_dataset(load("iris"), hidden=(16,), lr=1e-2, epochs=30)
>>> fit.result.status, fit.test_metrics["accuracy"] > 0.8
('completed', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lrsearch.metrics import compute_metrics
from lrsearch.nn.training import TrainResult, evaluate_output, predict_output, train

__all__ = ["FitOutcome", "fit_dataset", "score_split"]


@dataclass(frozen=True)
class FitOutcome:
    """A training run on a data set, with validation and test metrics."""

    result: TrainResult
    val_metrics: dict[str, float]
    test_metrics: dict[str, float]


def score_split(dataset: Any, result: TrainResult, split: str = "test") -> dict[str, float]:
    """Metrics of a trained network on ``split`` ("train", "val" or "test") of ``dataset``."""
    X = getattr(dataset, f"X_{split}")
    y = getattr(dataset, f"y_{split}")
    if len(X) == 0:
        return {}
    if dataset.task == "regression":
        out = predict_output(X, result.coefs, result.intercepts, task="regression", activation=result.activation)
        return compute_metrics("regression", dataset.inverse_y(y), dataset.inverse_y(out))
    loss, out = evaluate_output(X, y, result.coefs, result.intercepts, activation=result.activation)
    return compute_metrics("classification", y, out, cross_entropy=loss)  # exact, as the training loss


def fit_dataset(dataset: Any, **train_kwargs: Any) -> FitOutcome:
    """Train on the training split (validating on the validation split) and score val and test.

    ``train_kwargs`` are :func:`lrsearch.nn.train`'s keyword arguments.
    """
    kwargs = dict(train_kwargs)
    kwargs.setdefault("n_classes", dataset.n_classes)
    result = train(
        dataset.X_train, dataset.y_train, task=dataset.task, X_val=dataset.X_val, y_val=dataset.y_val, **kwargs
    )
    return FitOutcome(result, score_split(dataset, result, "val"), score_split(dataset, result, "test"))
