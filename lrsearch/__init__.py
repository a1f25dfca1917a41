"""lrsearch: which optimizer, learning rate and decay schedule should this network use?

The public API is imported lazily, so ``import lrsearch`` stays fast (numba,
optuna, pandas and matplotlib load only when a function needs them).

>>> import lrsearch
>>> ds = lrsearch.load("iris")
>>> lrsearch.find_lr(ds, optimizer="adam").lr          # doctest: +SKIP
>>> lrsearch.recommend(ds).train_kwargs()               # doctest: +SKIP
>>> lrsearch.run_study(ds, n_trials=50, aim="finder")   # doctest: +SKIP
"""

from __future__ import annotations

from lrsearch._lazy import lazy_getattr

__version__ = "0.1.0"

_LAZY = {
    "train": "lrsearch.nn.training",
    "TrainResult": "lrsearch.nn.training",
    "loss_and_grad": "lrsearch.nn.training",
    "predict_output": "lrsearch.nn.training",
    "load": "lrsearch.data",
    "Dataset": "lrsearch.data",
    "fit_dataset": "lrsearch.evaluation",
    "compute_metrics": "lrsearch.metrics",
    "MLPClassifier": "lrsearch.nn.estimator",
    "MLPRegressor": "lrsearch.nn.estimator",
    "find_lr": "lrsearch.finder",
    "find_lr_all": "lrsearch.finder",
    "RangeTestResult": "lrsearch.finder",
    "run_study": "lrsearch.search",
    "StudyResult": "lrsearch.search",
    "StudySpec": "lrsearch.search",
    "load_spec": "lrsearch.search",
    "SearchSpace": "lrsearch.search",
    "default_space": "lrsearch.search",
    "recommend": "lrsearch.recommend",
    "Recommendation": "lrsearch.recommend",
    "build_report": "lrsearch.report",
    "plot_range_test": "lrsearch.report",
    "LRSearchError": "lrsearch.exceptions",
    "DataError": "lrsearch.exceptions",
    "ConfigError": "lrsearch.exceptions",
}

__all__ = sorted(_LAZY) + ["__version__"]


__getattr__ = lazy_getattr("lrsearch", _LAZY)


def __dir__() -> list[str]:
    return __all__
