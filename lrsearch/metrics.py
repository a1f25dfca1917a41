"""Evaluation metrics, computed by :mod:`sklearn.metrics` (imported on first use).

Classification: accuracy, precision, recall, F1 (macro averages over the
classes that the true labels or the predictions hold, scikit-learn's default
``labels``) and cross-entropy (log loss); regression: MSE and R² (uniform average over outputs).

>>> import numpy as np
>>> m = compute_metrics("classification", np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]))
>>> m["accuracy"], round(m["cross_entropy"], 4)
(1.0, 0.1643)
"""

from __future__ import annotations

import numpy as np

__all__ = ["CLASSIFICATION_METRICS", "REGRESSION_METRICS", "GREATER_IS_BETTER", "compute_metrics"]

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "cross_entropy")
REGRESSION_METRICS = ("mse", "r2")
#: direction of every metric (and of the losses), for studies and reports
GREATER_IS_BETTER = {
    "accuracy": True, "precision": True, "recall": True, "f1": True, "r2": True,
    "cross_entropy": False, "mse": False, "val_loss": False, "loss": False,
}  # fmt: skip


def compute_metrics(task: str, y_true: np.ndarray, output: np.ndarray, *,
                    cross_entropy: float | None = None) -> dict[str, float]:  # fmt: skip
    """Metrics of a network's ``output`` (probabilities, or predictions) against ``y_true``.

    For classification ``y_true`` holds labels 0..K-1 and ``output`` one column per class.
    ``cross_entropy``, when given, is the exact mean cross-entropy (from the network's
    log-softmax, :func:`lrsearch.nn.training.evaluate_output`) and is reported instead of
    scikit-learn's ``log_loss`` of the probabilities, which clips a probability that
    underflowed to 0 at 1e-15 and so understates a confidently wrong prediction.
    """
    from sklearn import metrics as skm

    if task == "classification":
        y_true = np.asarray(y_true)
        proba = np.clip(np.asarray(output, dtype=np.float64), 1e-15, None)
        proba /= proba.sum(axis=1, keepdims=True)  # float32 softmax rows sum to 1 only within rounding
        pred = np.argmax(proba, axis=1)
        labels = np.arange(proba.shape[1])
        # macro over the classes in y_true or in the predictions (scikit-learn's default labels): a class
        # this split neither holds nor predicts has nothing to score, and must not count as a 0
        p, r, f, _ = skm.precision_recall_fscore_support(y_true, pred, average="macro", zero_division=0)
        return {
            "accuracy": float(skm.accuracy_score(y_true, pred)),
            "precision": float(p), "recall": float(r), "f1": float(f),
            "cross_entropy": float(skm.log_loss(y_true, proba, labels=labels)) if cross_entropy is None
            else float(cross_entropy),
        }  # fmt: skip
    y_true = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(output, dtype=np.float64).reshape(y_true.shape)
    r2 = float(skm.r2_score(y_true, pred)) if y_true.shape[0] > 1 else float("nan")
    return {"mse": float(skm.mean_squared_error(y_true, pred)), "r2": r2}
