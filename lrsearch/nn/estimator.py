"""scikit-learn compatible estimators over the lrsearch core.

Conventions follow ``sklearn.neural_network``: ``__init__`` only stores its
keyword arguments, ``fit`` returns ``self``, fitted state ends in ``_``
(``coefs_``, ``intercepts_``, ``loss_curve_``, ``n_iter_``, ``result_``), and
``predict`` starts with ``check_is_fitted``. ``lr`` is the base rate as
``torch.optim`` means it, for every optimizer.

>>> from sklearn.datasets import load_iris
>>> from sklearn.preprocessing import StandardScaler
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier(hidden_layer_sizes=(16,), lr=1e-2, epochs=60, random_state=0)
>>> clf.fit(StandardScaler().fit_transform(X), y).score(StandardScaler().fit_transform(X), y) > 0.9
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from lrsearch.nn.training import TrainResult, predict_output, train

__all__ = ["MLPClassifier", "MLPRegressor"]


class _BaseMLP(BaseEstimator):
    _task = "classification"

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (64,),
        activation: str = "relu",
        optimizer: str = "adam",
        lr: float = 1e-3,
        optimizer_params: Mapping[str, Any] | None = None,
        schedule: str = "constant",
        schedule_params: Mapping[str, Any] | None = None,
        epochs: int = 50,
        batch_size: int = 32,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float32",
        clip_norm: float | None = None,
        clip_value: float | None = None,
        normalize_grad: bool = False,
        layer_lrs: Sequence[float] | None = None,
        warm_start: bool = False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.lr = lr
        self.optimizer_params = optimizer_params
        self.schedule = schedule
        self.schedule_params = schedule_params
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.dtype = dtype
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.normalize_grad = normalize_grad
        self.layer_lrs = layer_lrs
        self.warm_start = warm_start

    def _fit_core(self, X: np.ndarray, y: np.ndarray, n_classes: int | None) -> TrainResult:
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        init: Any = "auto"
        if self.warm_start and hasattr(self, "coefs_"):
            init = (self.coefs_, self.intercepts_)
        hidden = self.hidden_layer_sizes
        hidden = (hidden,) if isinstance(hidden, (int, np.integer)) else hidden  # train checks the rest
        result = train(
            X, y, task=self._task, hidden=hidden, activation=self.activation, optimizer=self.optimizer,
            lr=self.lr, optimizer_params=self.optimizer_params, schedule=self.schedule,
            schedule_params=self.schedule_params, epochs=self.epochs, batch_size=self.batch_size,
            shuffle=self.shuffle, seed=seed, dtype=self.dtype, init=init, clip_norm=self.clip_norm,
            clip_value=self.clip_value, normalize_grad=self.normalize_grad, layer_lrs=self.layer_lrs,
            n_classes=n_classes, compute_metrics=False,
        )  # fmt: skip
        self.result_ = result
        self.coefs_ = result.coefs
        self.intercepts_ = result.intercepts
        self.loss_curve_ = result.train_loss.tolist()
        self.loss_ = float(result.train_loss[-1]) if result.epochs_run else float("nan")
        self.n_iter_ = result.epochs_run
        self.t_ = result.steps_run
        self.n_layers_ = len(result.coefs) + 1
        self.n_outputs_ = result.coefs[-1].shape[1]
        self.status_ = result.status
        if result.status == "diverged":
            kept = f"the weights after epoch {result.epochs_run}" if result.epochs_run else "the initial weights"
            warnings.warn(f"{type(self).__name__} training diverged: {result.reason}; kept {kept} "
                          f"(status_ == 'diverged'). Lower lr (lrsearch.find_lr suggests one).",
                          ConvergenceWarning, stacklevel=3)  # fmt: skip
        return result

    def _output(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coefs_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        # predict in float64: float32 BLAS results depend on the batch's composition,
        # and a row's prediction must not depend on which other rows come with it
        coefs = [np.asarray(w, dtype=np.float64) for w in self.coefs_]
        intercepts = [np.asarray(b, dtype=np.float64) for b in self.intercepts_]
        return predict_output(X, coefs, intercepts, task=self._task, activation=self.activation)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier (softmax + cross-entropy) trained by lrsearch's core.

    Parameters mirror :func:`lrsearch.nn.train`; ``hidden_layer_sizes`` and
    ``random_state`` keep scikit-learn's names.
    """

    _task = "classification"

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Fit to ``X`` and labels ``y`` of any type; returns ``self``."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=not (self.warm_start and hasattr(self, "coefs_")))
        check_classification_targets(y)
        if not (self.warm_start and hasattr(self, "classes_")):
            self._encoder = LabelEncoder().fit(y)
            self.classes_ = self._encoder.classes_
        codes = self._encoder.transform(y)
        self._fit_core(X, codes, n_classes=max(len(self.classes_), 2))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        proba = self._output(X).astype(np.float64)
        if len(self.classes_) == 1:  # fitted on one class: the network's second unit is a placeholder
            return np.ones((len(proba), 1))
        return proba[:, : len(self.classes_)]

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (of the type given to ``fit``)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor (linear output + mean squared error).

    Targets are used as given; for targets far from unit scale wrap it in
    ``sklearn.compose.TransformedTargetRegressor`` (or use ``lrsearch.load``,
    which standardises them).
    """

    _task = "regression"

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Fit to ``X`` and targets ``y`` ((n,) or (n, k)); returns ``self``."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], multi_output=True, y_numeric=True,
                             reset=not (self.warm_start and hasattr(self, "coefs_")))  # fmt: skip
        self._y_ndim = np.ndim(y)
        self._fit_core(X, y, n_classes=None)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions, shaped like the ``y`` given to ``fit``."""
        out = self._output(X).astype(np.float64)
        return out[:, 0] if self._y_ndim == 1 else out
