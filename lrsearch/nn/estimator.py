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

``fit(X, y, sample_weight=...)`` weighs each row's loss; ``partial_fit`` trains
one epoch on the rows it is given and keeps the optimizer running between calls
(see :meth:`MLPClassifier.partial_fit`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from lrsearch._validation import check_bool, check_float, check_int
from lrsearch.data import densify
from lrsearch.exceptions import ConfigError, DataError
from lrsearch.nn.training import OptimizerState, TrainResult, check_sample_weight, predict_output, train

__all__ = ["MLPClassifier", "MLPRegressor"]

log = logging.getLogger(__name__)


class _BaseMLP(BaseEstimator):
    _task = "classification"
    #: the losses the estimator reports (and ``tol`` applies to) are the core's times this: scikit-learn's
    #: regressor reports half the mean squared error (its ``squared_loss``), the core torch's ``MSELoss``
    _loss_scale = 1.0

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
        batch_size: int | str = 32,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float32",
        clip_norm: float | None = None,
        clip_value: float | None = None,
        normalize_grad: bool = False,
        layer_lrs: Sequence[float] | None = None,
        warm_start: bool = False,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: float = 10,  # an int, or np.inf
        tol: float = 1e-4,
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
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol

    def _fit_core(self, X: np.ndarray, y: np.ndarray, n_classes: int | None, sample_weight: np.ndarray | None = None,
                  incremental: bool = False) -> TrainResult:  # fmt: skip
        """Train and set the fitted attributes: a fit (``epochs``, or more with ``warm_start``), or with
        ``incremental`` one epoch of ``partial_fit`` that continues the weights and the optimizer's state."""
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        init: Any = "auto"
        hidden = self.hidden_layer_sizes
        hidden = (hidden,) if isinstance(hidden, (int, np.integer)) else hidden  # train checks the rest
        fitted = hasattr(self, "coefs_")
        if fitted and (incremental or self.warm_start):
            self._check_warm_shapes(X, y, hidden, n_classes, incremental)
            init = (self.coefs_, self.intercepts_)
        warm = (incremental or self.warm_start) and hasattr(self, "loss_curve_")
        val: dict[str, Any] = {}
        plateau: list[int] = []
        callback = None
        run: dict[str, Any] = {"epochs": self.epochs, "schedule": self.schedule,
                               "schedule_params": self.schedule_params}  # fmt: skip
        if incremental:
            if self.early_stopping:
                raise ConfigError(f"{type(self).__name__}.partial_fit trains one epoch on the rows it is given and "
                                  "holds none out, so it cannot stop early; set early_stopping=False (or use fit, "
                                  "which holds out validation_fraction of its rows).")  # fmt: skip
            if not self._watches_plateau():
                warnings.warn(f"{type(self).__name__}.partial_fit trains at the constant rate lr={self.lr!r}: "
                              f"schedule={self.schedule!r} (and any warm-up) applies to fit only, which knows its "
                              "epochs; lower lr between calls with set_params(lr=...) to decay it.",
                              UserWarning, stacklevel=3)  # fmt: skip
            run = {"epochs": 1, "schedule": "constant", "schedule_params": None,
                   "optimizer_state": self._saved_optimizer_state() if fitted else None}  # fmt: skip
        elif self.early_stopping:
            X, y, sample_weight, val = self._validation_split(X, y, sample_weight, seed)
        elif self._watches_plateau():
            callback = self._plateau_rule(plateau)
        result = train(
            X, y, task=self._task, hidden=hidden, activation=_activation(self.activation), optimizer=self.optimizer,
            lr=self.lr, optimizer_params=self.optimizer_params, batch_size=self._batch_rows(len(X)),
            shuffle=bool(self.shuffle), seed=seed, dtype=self.dtype, init=init, clip_norm=self.clip_norm,
            clip_value=self.clip_value, normalize_grad=bool(self.normalize_grad), layer_lrs=self.layer_lrs,
            n_classes=n_classes, compute_metrics=False, callback=callback, sample_weight=sample_weight,
            keep_optimizer_state=True, **run, **val,
        )  # fmt: skip
        if plateau:
            result = dataclasses.replace(result, reason=(
                f"the training loss did not fall by more than tol={self.tol} below its best for more than "
                f"n_iter_no_change={self.n_iter_no_change} epochs"))  # fmt: skip
        elif val and result.status == "early_stopped":  # in the estimator's units (the core's min_delta is tol/scale)
            best_epoch = result.info.get("best_epoch")
            result = dataclasses.replace(result, reason=(
                f"the validation loss did not fall by more than tol={self.tol} below its best "
                f"({self._loss_scale * result.best_val_loss:.4g}, epoch {best_epoch}) for more than "
                f"n_iter_no_change={self.n_iter_no_change} epochs"))  # fmt: skip
        self.result_ = result
        self._optimizer_state = result.optimizer_state  # what partial_fit continues
        if not incremental or not hasattr(self, "validation_scores_"):  # partial_fit validates nothing
            scale = self._loss_scale
            self.validation_loss_curve_ = (scale * result.val_loss).tolist() if val else None
            self.best_validation_loss_ = scale * result.best_val_loss if val else None
            self.best_epoch_ = result.info.get("best_epoch") if val else None
            # a warm start continues the run, as scikit-learn's: the curves and the samples seen add up (n_iter_
            # counts this fit's epochs, as scikit-learn's does)
            old_scores = (getattr(self, "validation_scores_", None) or []) if warm else []
            # scikit-learn's names: the per-epoch validation score (accuracy, R²) with early stopping, and the
            # score of the epoch whose weights are kept; the best training loss without early stopping
            self.validation_scores_ = [*old_scores, *result.val_score.tolist()] if val else None
            best_epoch = self.best_epoch_ or result.epochs_run
            kept = result.val_score[best_epoch - 1] if val and 0 < best_epoch <= len(result.val_score) else np.nan
            self.best_validation_score_ = float(kept) if np.isfinite(kept) else None
        previous = (self.loss_curve_, self.t_) if warm else ([], 0)
        self.coefs_ = result.coefs
        self.intercepts_ = result.intercepts
        self.loss_curve_ = [*previous[0], *(self._loss_scale * result.train_loss).tolist()]
        if result.epochs_run or not incremental or not hasattr(self, "loss_"):  # a diverged partial_fit keeps it
            self.loss_ = self.loss_curve_[-1] if result.epochs_run else float("nan")
        finite_loss = [v for v in self.loss_curve_ if np.isfinite(v)]
        self.best_loss_ = None if val else (min(finite_loss) if finite_loss else None)
        # partial_fit adds its epoch to the model's count (scikit-learn's restarts it at 1 every call)
        self.n_iter_ = result.epochs_run + (self.n_iter_ if incremental and fitted else 0)
        # training samples seen, as scikit-learn counts (rows of weight 0 are left out, so not seen)
        self.t_ = previous[1] + result.epochs_run * len(X)
        self.n_layers_ = len(result.coefs) + 1
        self.n_outputs_ = result.coefs[-1].shape[1]
        self.out_activation_ = "softmax" if self._task == "classification" else "identity"
        self.status_ = "converged" if plateau else result.status
        return result

    def _check_params(self) -> None:
        """Check the parameters this estimator reads itself, at fit as scikit-learn's ``_validate_params`` does
        (its MLP's ``_parameter_constraints``): an invalid value is a ConfigError (a ValueError) naming the
        parameter, the value and the valid range, never a silent change of behaviour. The core checks the
        rest (``hidden_layer_sizes``, ``activation``, ``optimizer``, ``schedule``, ``dtype``, the clipping, the
        optimizer's other options) as ``train`` receives them."""
        owner = type(self).__name__
        check_int(self.epochs, "epochs", owner, low=1)
        auto = isinstance(self.batch_size, str) and self.batch_size == "auto"
        if not auto and not (_is_int(self.batch_size) and self.batch_size >= 1):
            raise ConfigError(f"The 'batch_size' parameter of {owner} must be 'auto' (min(200, n_samples), as "
                              f"scikit-learn's) or an int in the range [1, inf]. Got {self.batch_size!r} "
                              "instead.")  # fmt: skip
        check_float(self.lr, "lr", owner, low=0.0, low_open=True, high_open=True)
        check_float(self.tol, "tol", owner, low=0.0,
                    fix="To train every epoch without a plateau stop, set n_iter_no_change=np.inf.")  # fmt: skip
        patience = self.n_iter_no_change
        if not (_is_int(patience) and patience >= 1) and not (_is_real(patience) and patience == math.inf):
            raise ConfigError(f"The 'n_iter_no_change' parameter of {owner} must be an int in the range [1, inf] "
                              f"or np.inf (never stop on a plateau). Got {patience!r} instead.")  # fmt: skip
        check_float(self.validation_fraction, "validation_fraction", owner, low=0.0, high=1.0, high_open=True)
        for name in ("shuffle", "warm_start", "early_stopping", "normalize_grad"):
            value = getattr(self, name)  # NumPy's bools too, as scikit-learn's "boolean" constraint takes them
            check_bool(bool(value) if isinstance(value, np.bool_) else value, name, owner)
        given = self.optimizer_params
        if isinstance(given, Mapping):  # torch's names; the core checks the keys and the other ranges
            if "momentum" in given:  # scikit-learn's momentum is in [0, 1] (torch only asks for >= 0)
                check_float(given["momentum"], "momentum", f"{owner}'s optimizer_params", low=0.0, high=1.0)
            if "eps" in given:  # scikit-learn's epsilon > 0: with eps=0 a weight whose gradient is 0 gets 0/0
                check_float(given["eps"], "eps", f"{owner}'s optimizer_params", low=0.0, low_open=True)

    def _batch_rows(self, n: int) -> int:
        """The minibatch size for ``n`` training rows, as scikit-learn's MLP: ``'auto'`` is ``min(200, n)``; an int
        larger than ``n`` is clipped to ``n`` with scikit-learn's UserWarning (a warning a filter can silence,
        where the core logs it)."""
        if isinstance(self.batch_size, str):  # 'auto' (checked by _check_params)
            return min(200, n)
        if self.batch_size > n:
            warnings.warn(f"Got `batch_size` larger than sample size. It is going to be clipped: "
                          f"batch_size={self.batch_size!r}, but {type(self).__name__} trains on {n} rows here, so "
                          f"each epoch is one batch of {n}.", UserWarning, stacklevel=4)  # fmt: skip
            return n
        return int(self.batch_size)

    def _saved_optimizer_state(self) -> OptimizerState | None:
        """The optimizer state the last fit or partial_fit left, if this optimizer can continue it."""
        saved = getattr(self, "_optimizer_state", None)
        if saved is not None and saved.optimizer != self.optimizer:
            log.info("%s.partial_fit: optimizer %r cannot continue the state %r left; it starts afresh.",
                     type(self).__name__, self.optimizer, saved.optimizer)  # fmt: skip
            return None
        return saved

    def _weighted_rows(self, X: np.ndarray, y: np.ndarray, sample_weight: Any) -> tuple[Any, Any, np.ndarray | None]:
        """Validate ``sample_weight`` and leave out the rows of weight 0: fitting with a weight of 0 is fitting
        without the row (its label included), exactly."""
        w = check_sample_weight(sample_weight, X.shape[0])
        if w is not None and not np.all(w > 0):
            keep = w > 0
            X, y, w = X[keep], y[keep], w[keep]
        return X, y, w

    def _watches_plateau(self) -> bool:
        """Whether a training-loss plateau ends the fit: with a constant rate, as scikit-learn's default
        (``learning_rate='constant'``). A schedule runs its whole course (``plateau`` lowers the rate on a
        plateau itself, as scikit-learn's ``'adaptive'`` does instead of stopping)."""
        return self.schedule == "constant" and not (self.schedule_params or {}).get("warmup")

    def _plateau_rule(self, stopped: list[int]) -> Any:
        """scikit-learn's stop without early stopping: the training loss has not fallen by more than ``tol``
        below its best for more than ``n_iter_no_change`` epochs (``stopped`` receives the epoch)."""
        state = {"best": np.inf, "count": 0}

        def rule(epoch: int, partial: TrainResult) -> bool:
            loss = self._loss_scale * float(partial.train_loss[-1]) if len(partial.train_loss) else np.inf
            state["count"] = state["count"] + 1 if not loss < state["best"] - self.tol else 0
            state["best"] = min(state["best"], loss)
            if state["count"] > self.n_iter_no_change:
                stopped.append(epoch + 1)
                return True
            return False

        return rule

    def _validation_split(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None,
                          seed: int) -> tuple[Any, Any, Any, dict[str, Any]]:  # fmt: skip
        """Hold out ``validation_fraction`` of the rows (stratified for classes where it can be) for early stopping.

        The weights split with their rows (as scikit-learn's do): the held-out
        rows' weights weigh the validation loss and score.

        Training stops once the validation loss has not fallen by more than ``tol`` below
        its best for more than ``n_iter_no_change`` epochs in a row (scikit-learn's MLP
        stops at ``count > n_iter_no_change`` too), and the best epoch's weights are
        kept (``best_epoch_``), also when ``epochs`` ran out first.
        """
        from sklearn.model_selection import train_test_split

        frac = float(self.validation_fraction)  # in [0, 1) (_check_params); early stopping needs some rows
        if frac == 0.0:
            raise ConfigError(f"The 'validation_fraction' parameter of {type(self).__name__} must be a float in "
                              f"the range (0.0, 1.0) with early_stopping=True, which validates on that share of "
                              f"the rows. Got {self.validation_fraction!r} instead.")  # fmt: skip
        n_val = int(np.ceil(frac * len(X)))
        if n_val < 2 or len(X) - n_val < 1:  # scikit-learn's MLP refuses a validation set under 2 rows too
            raise ConfigError(f"early_stopping needs rows to train on and at least 2 to validate on; {len(X)} rows "
                              f"with validation_fraction={frac} give {n_val} for validation and {len(X) - n_val} "
                              f"for training: raise validation_fraction (or pass more rows), or set "
                              f"early_stopping=False.")  # fmt: skip
        stratify = y if self._task == "classification" and np.min(np.bincount(y)) >= 2 else None
        arrays = (X, y) if sample_weight is None else (X, y, sample_weight)  # the same split either way
        try:
            parts = train_test_split(*arrays, test_size=n_val, random_state=seed, stratify=stratify)
        except ValueError:  # too few rows per class for a stratified split
            parts = train_test_split(*arrays, test_size=n_val, random_state=seed)
        X_tr, X_va, y_tr, y_va = parts[:4]
        w_tr, w_va = parts[4:] if sample_weight is not None else (None, None)
        # n_iter_no_change=np.inf never stops (scikit-learn's too): a patience the run cannot reach, so the best
        # epoch is still tracked and kept
        patience = self.epochs + 1 if self.n_iter_no_change == math.inf else int(self.n_iter_no_change) + 1
        return X_tr, y_tr, w_tr, {"X_val": X_va, "y_val": y_va, "sample_weight_val": w_va,
                                  "early_stopping": patience, "min_delta": self.tol / self._loss_scale}  # fmt: skip

    def _warn_if_diverged(self, incremental: bool = False) -> None:
        """The ConvergenceWarning of a diverged fit, or of one whose epochs ran out before it converged (as
        scikit-learn's at ``max_iter``; not for partial_fit, which runs one epoch by design); issued last, once
        every fitted attribute is set."""
        result = self.result_
        if result.status == "diverged":
            if incremental:
                kept = "the weights and optimizer state from before this call"
            else:
                kept = f"the weights after epoch {result.epochs_run}" if result.epochs_run else "the initial weights"
            warnings.warn(f"{type(self).__name__} training diverged: {result.reason}; kept {kept} "
                          f"(status_ == 'diverged'). Lower lr (lrsearch.find_lr suggests one).",
                          ConvergenceWarning, stacklevel=3)  # fmt: skip
        elif not incremental and result.status == "completed" and result.epochs_run == self.epochs and (
                self.early_stopping or self._watches_plateau()):  # a schedule that ran its course is done
            watched = "validation" if self.early_stopping else "training"
            if self.n_iter_no_change == math.inf:  # scikit-learn's MLP warns at max_iter then too
                why = ("with n_iter_no_change=inf, which never stops on a plateau, so nothing says it has converged; "
                       "raise epochs if the loss still falls")  # fmt: skip
            else:
                why = (f"while the {watched} loss still improved by more than tol={self.tol} within "
                       f"{self.n_iter_no_change} epochs: it has not converged yet; raise epochs (or lr)")  # fmt: skip
            warnings.warn(f"{type(self).__name__}: epochs={self.epochs} ran out {why}",
                          ConvergenceWarning, stacklevel=3)  # fmt: skip

    @contextlib.contextmanager
    def _unchanged_on_error(self) -> Iterator[None]:
        """Undo what ``validate_data`` recorded (``n_features_in_``, ``feature_names_in_``) if the fit raises."""
        kept = {k: getattr(self, k) for k in ("n_features_in_", "feature_names_in_") if hasattr(self, k)}
        try:
            yield
        except BaseException:
            for k in ("n_features_in_", "feature_names_in_"):
                if k in kept:
                    setattr(self, k, kept[k])
                elif hasattr(self, k):
                    delattr(self, k)
            raise

    def _check_warm_shapes(self, X: np.ndarray, y: np.ndarray, hidden: Any, n_classes: int | None,
                           incremental: bool = False) -> None:  # fmt: skip
        """warm_start and partial_fit continue from ``coefs_``: the network asked for now must have their shapes."""
        try:
            widths = [int(h) for h in hidden]
        except (TypeError, ValueError):
            return  # train names what is wrong with hidden_layer_sizes
        n_out = n_classes if n_classes is not None else (y.shape[1] if np.ndim(y) == 2 else 1)
        wanted = [X.shape[1], *widths, n_out]
        fitted = [self.coefs_[0].shape[0], *(w.shape[1] for w in self.coefs_)]
        if wanted != fitted and incremental:
            if wanted[:-1] == fitted[:-1]:  # (the features were checked against n_features_in_ already)
                raise DataError(f"partial_fit continues the fitted model, which has {fitted[-1]} output(s); y has "
                                f"{n_out}: pass targets shaped as in the first fit, or call fit to start "
                                "afresh.")  # fmt: skip
            raise ConfigError(f"partial_fit continues from the fitted weights, layer sizes {fitted}, but these "
                              f"rows and hidden_layer_sizes need {wanted} (features, hidden layers, outputs); "
                              "set hidden_layer_sizes back, or call fit to start afresh.")  # fmt: skip
        if wanted != fitted:
            raise ConfigError(
                f"warm_start=True continues from the fitted weights, layer sizes {fitted}, but this fit needs "
                f"{wanted} (features, hidden_layer_sizes, outputs); set warm_start=False to start afresh."
            )

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # densified (see lrsearch.data.densify)
        return tags

    def _output(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coefs_")
        X = densify(validate_data(self, X, reset=False, dtype=[np.float64, np.float32], accept_sparse=True))
        # predict in float64: float32 BLAS results depend on the batch's composition,
        # and a row's prediction must not depend on which other rows come with it
        coefs = [np.asarray(w, dtype=np.float64) for w in self.coefs_]
        intercepts = [np.asarray(b, dtype=np.float64) for b in self.intercepts_]
        return predict_output(X, coefs, intercepts, task=self._task, activation=_activation(self.activation))


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier (softmax + cross-entropy) trained by lrsearch's core.

    Parameters mirror :func:`lrsearch.nn.train`; ``hidden_layer_sizes`` and
    ``random_state`` keep scikit-learn's names. ``early_stopping=True`` holds out
    ``validation_fraction`` of the rows (stratified) and stops once the validation
    loss has not fallen by more than ``tol`` below its best for more than
    ``n_iter_no_change`` epochs, keeping the best epoch's weights (``best_epoch_``,
    ``validation_loss_curve_``), as scikit-learn's ``MLPClassifier(early_stopping=True)``
    does with its score (its best also moves on gains smaller than ``tol``; here it
    moves on gains larger than ``tol``, as Keras' ``min_delta``). Without early
    stopping, at a constant rate, the same rule watches the training loss
    (``status_ == "converged"``) and a fit whose ``epochs`` run out first warns
    (``ConvergenceWarning``), as scikit-learn's MLP does; a schedule runs its
    whole course. docs/core-api.md maps scikit-learn's parameter names.

    ``batch_size`` is an int (32) or ``'auto'`` (``min(200, n_samples)``, as
    scikit-learn's); an int larger than the rows trained on is clipped to them with
    scikit-learn's ``UserWarning``. ``fit`` checks the parameters first, as
    scikit-learn's ``_parameter_constraints`` do (``tol >= 0``, ``n_iter_no_change``
    an int >= 1 or ``np.inf``, ``validation_fraction`` in [0, 1), ``momentum`` in
    [0, 1], ``eps > 0``...): an invalid value is a :class:`~lrsearch.ConfigError`,
    a ``ValueError``, naming it and its valid range.

    ``fit`` and ``partial_fit`` take ``sample_weight``: each minibatch's loss
    is the weighted mean of its rows' losses, as in scikit-learn's MLP.
    """

    _task = "classification"

    def _checked_input(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """X (dense) and labels as scikit-learn checks them; ``reset``: a new fit (else the fitted features)."""
        _refuse_multilabel(y)
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=reset, accept_sparse=True)
        check_classification_targets(y)
        return densify(X), y

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Fit to ``X`` and labels ``y`` of any type; returns ``self``.

        ``sample_weight`` (one weight >= 0 per row) makes each minibatch's loss
        the weighted mean ``sum w_i l_i / sum w_i`` of its rows' losses (and
        weighs the validation loss and score of early stopping the same way),
        as scikit-learn's MLP does; an integer weight counts a row that many
        times. A row of weight 0 is left out before anything else, label
        included: ``classes_`` lists the labels of the rows that weigh
        something. Weights that are all equal change nothing. Weight decay
        (``optimizer_params``) is the optimizer's, not scaled by the weights.

        A fit that raises leaves a fitted estimator as it was (its ``classes_`` never
        describe weights they were not trained with).

        >>> import numpy as np
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1, 0])
        >>> clf = MLPClassifier(hidden_layer_sizes=(), lr=0.1, epochs=100, batch_size=4, random_state=0)
        >>> clf.fit(X, y, sample_weight=[1, 1, 1, 1, 0]).predict([[3.0]])   # the last row left out
        array([1])
        """
        self._check_params()
        with self._unchanged_on_error():
            warm = self.warm_start and hasattr(self, "coefs_") and hasattr(self, "classes_")
            X, y = self._checked_input(X, y, reset=not warm)
            X, y, w = self._weighted_rows(X, y, sample_weight)
            if not warm:
                encoder = LabelEncoder().fit(y)
            else:
                encoder = self._encoder
                known = set(self.classes_.tolist())
                unseen = [v for v in np.unique(y).tolist() if v not in known]
                if unseen:
                    raise ConfigError(f"warm_start=True keeps the classes of the first fit, "
                                      f"{self.classes_[:10].tolist()}; y holds others ({unseen[:10]}); "
                                      "set warm_start=False to start afresh.")  # fmt: skip
            codes = encoder.transform(y)
            self._fit_core(X, codes, n_classes=max(len(encoder.classes_), 2), sample_weight=w)
            self._encoder = encoder
            self.classes_ = encoder.classes_
        self._warn_if_diverged()
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None, *, sample_weight: Any = None) -> MLPClassifier:
        """Train one epoch on the rows given (scikit-learn's ``partial_fit``); returns ``self``.

        ``classes`` lists every label the calls will hold (e.g. ``np.unique(y_all)``):
        required on the first call, optional afterwards (then it must be the same);
        a ``y`` need not hold them all, but a label outside them is an error. After
        a ``fit`` the classes are that fit's.

        Each call continues the model: the fitted weights (from ``fit`` or an earlier
        call) and the optimizer's state (momentum, Adam's moments and step count),
        as scikit-learn's does; ``n_iter_`` grows by 1, ``t_`` by the rows trained
        on and ``loss_curve_`` by this epoch's loss. The rows are shuffled if
        ``shuffle``; nothing is held out (``early_stopping=True`` is refused) and
        nothing stops. The rate is the constant ``lr``: ``schedule`` is laid over
        the ``epochs`` of a fit and applies to ``fit`` only (a warning says so);
        decay the rate over a stream with ``set_params(lr=...)`` between calls.
        ``k`` calls on the same rows with ``shuffle=False`` are ``fit`` with
        ``epochs=k`` and a constant rate. A call that diverges changes nothing
        but ``status_`` and ``result_`` and warns.

        ``sample_weight`` is keyword-only (scikit-learn's MLP takes it third;
        here ``classes`` comes third, as in its other ``partial_fit``s).

        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(40, 3)); y = np.where(X[:, 0] > 0, "pos", "neg")
        >>> clf = MLPClassifier(hidden_layer_sizes=(8,), lr=0.05, batch_size=10, random_state=0)
        >>> for start in range(0, 40, 10):
        ...     clf = clf.partial_fit(X[start:start + 10], y[start:start + 10], classes=["neg", "pos"])
        >>> clf.n_iter_, clf.t_, len(clf.loss_curve_), clf.classes_.tolist()
        (4, 40, 4, ['neg', 'pos'])
        """
        self._check_params()
        with self._unchanged_on_error():
            fitted = hasattr(self, "coefs_") and hasattr(self, "classes_")
            X, y = self._checked_input(X, y, reset=not fitted)
            if fitted:
                encoder = self._encoder
                if classes is not None and not _same_labels(classes, self.classes_):
                    raise ConfigError(f"classes={_show(classes)} is not the classes of the first call (classes_ = "
                                      f"{_show(self.classes_)}); pass the same classes, or none after the first "
                                      "call, or call fit to start afresh.")  # fmt: skip
            elif classes is None:
                raise ConfigError(f"{type(self).__name__}.partial_fit needs classes= on its first call: every label "
                                  "the calls will hold, e.g. classes=np.unique(y_all) (a y need not hold them "
                                  "all).")  # fmt: skip
            else:
                encoder = LabelEncoder().fit(_check_classes(classes))
            known = set(encoder.classes_.tolist())
            unseen = [v for v in np.unique(y).tolist() if v not in known]
            if unseen:
                raise DataError(f"y holds labels that are not in classes {_show(encoder.classes_)}: {unseen[:10]}; "
                                "partial_fit learns the classes of its first call only: list every label there "
                                "(classes=np.unique(y_all)), or call fit to start afresh.")  # fmt: skip
            X, y, w = self._weighted_rows(X, y, sample_weight)
            codes = encoder.transform(y)
            self._fit_core(X, codes, n_classes=max(len(encoder.classes_), 2), sample_weight=w, incremental=True)
            self._encoder = encoder
            self.classes_ = encoder.classes_
        self._warn_if_diverged(incremental=True)
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

    The network trains on torch's ``MSELoss`` (the mean over rows and outputs),
    as the core does; the losses it reports (``loss_``, ``loss_curve_``,
    ``best_loss_``, ``validation_loss_curve_``, ``best_validation_loss_``) and
    ``tol`` are scikit-learn's ``squared_loss``, half of it, so they compare with
    scikit-learn's and stop where its would (``result_`` keeps the core's MSE). A
    step at a given ``lr`` is ``2 / n_outputs`` times scikit-learn's at the same
    ``learning_rate_init``: ``lr=0.05`` here is scikit-learn's 0.1 for one output.
    """

    _task = "regression"
    _loss_scale = 0.5

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def _checked_input(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """X (dense) and numeric targets (one or more outputs) as scikit-learn checks them; ``reset``: a new fit."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], multi_output=True, y_numeric=True,
                             reset=reset, accept_sparse=True)  # fmt: skip
        return densify(X), y

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Fit to ``X`` and targets ``y`` ((n,) or (n, k)); returns ``self``.

        ``sample_weight`` weighs each row's squared error as in
        :meth:`MLPClassifier.fit`: each minibatch's loss is ``sum w_i l_i / sum w_i``.

        >>> import numpy as np
        >>> X = np.array([[0.0], [0.0]]); y = np.array([0.0, 4.0])
        >>> reg = MLPRegressor(hidden_layer_sizes=(), optimizer="sgd", lr=0.2, epochs=200, batch_size=2,
        ...                    dtype="float64")
        >>> round(float(reg.fit(X, y, sample_weight=[3, 1]).predict([[0.0]])[0]), 3)   # the weighted mean
        1.0
        """
        self._check_params()
        with self._unchanged_on_error():
            X, y = self._checked_input(X, y, reset=not (self.warm_start and hasattr(self, "coefs_")))
            X, y, w = self._weighted_rows(X, y, sample_weight)
            self._fit_core(X, y, n_classes=None, sample_weight=w)
            self._y_ndim = np.ndim(y)  # after the training: a fit that raised keeps the fitted shape
        self._warn_if_diverged()
        return self

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train one epoch on the rows given, continuing the model; returns ``self``.

        As :meth:`MLPClassifier.partial_fit` (without ``classes``): the weights and
        the optimizer's state carry over between calls and from a ``fit``, the rate
        is the constant ``lr``, ``n_iter_`` grows by 1 and ``t_`` by the rows.

        >>> import numpy as np
        >>> X = np.linspace(-1, 1, 20).reshape(-1, 1)
        >>> reg = MLPRegressor(hidden_layer_sizes=(), optimizer="sgd", lr=0.5, batch_size=20, dtype="float64")
        >>> for _ in range(50):
        ...     reg = reg.partial_fit(X, 3 * X[:, 0])
        >>> reg.n_iter_, round(float(reg.coefs_[0][0, 0]), 3)
        (50, 3.0)
        """
        self._check_params()
        with self._unchanged_on_error():
            X, y = self._checked_input(X, y, reset=not hasattr(self, "coefs_"))
            X, y, w = self._weighted_rows(X, y, sample_weight)
            self._fit_core(X, y, n_classes=None, sample_weight=w, incremental=True)
            self._y_ndim = np.ndim(y)
        self._warn_if_diverged(incremental=True)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions, shaped like the ``y`` given to ``fit``."""
        out = self._output(X).astype(np.float64)
        return out[:, 0] if self._y_ndim == 1 else out


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _refuse_multilabel(y: Any) -> None:
    """A 2-D y of several columns (multilabel) is refused with the way out (scikit-learn's says "1d array")."""
    shape = getattr(y, "shape", None)  # (not np.ndim: array-likes that refuse NumPy's functions pass here)
    if isinstance(shape, tuple) and len(shape) == 2 and shape[1] > 1:
        raise DataError(f"y has {shape[1]} columns: multilabel (several 0/1 labels per row) targets "
                        "are not supported; fit one classifier per label, e.g. "
                        "sklearn.multioutput.MultiOutputClassifier(MLPClassifier(...)).")  # fmt: skip


def _check_classes(classes: Any) -> np.ndarray:
    """partial_fit's ``classes``: a 1-D array of labels (repeats allowed)."""
    arr = np.asarray(classes)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ConfigError(f"classes must be a 1-D array of every label, e.g. np.unique(y_all); got {_show(classes)}.")
    return arr


def _same_labels(classes: Any, fitted: np.ndarray) -> bool:
    try:
        return np.array_equal(np.unique(_check_classes(classes)), fitted)
    except TypeError:  # labels of types that do not compare
        return False


def _show(labels: Any) -> str:
    """At most ten labels, for a message."""
    if not np.ndim(labels):
        return repr(labels)
    values = np.asarray(labels).ravel().tolist()
    return repr(values[:10]) + (" ..." if len(values) > 10 else "")


def _activation(name: Any) -> Any:
    """scikit-learn's name ``'logistic'`` is lrsearch's ``'sigmoid'``; any other name goes to the core as is."""
    return "sigmoid" if name == "logistic" else name
