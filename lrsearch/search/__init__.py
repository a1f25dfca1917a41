"""The Optuna study: which optimizer, base rate and schedule, searched as one conditional space.

>>> from lrsearch.search import default_space
>>> default_space(epochs=30).optimizers[:3]
('sgd', 'momentum', 'nesterov')

``run_study`` (and everything that imports Optuna or pandas) loads on first use,
so importing this package for a spec or a space stays cheap.
"""

from __future__ import annotations

from lrsearch._lazy import lazy_getattr
from lrsearch.search.space import (
    DEFAULT_LR_BOUNDS,
    OPTIMIZER_NAMES,
    OPTIONAL_PARAMS,
    SCHEDULE_NAMES,
    Choice,
    Range,
    SearchSpace,
    default_space,
    space_from_dict,
)
from lrsearch.search.spec import (
    OBJECTIVES,
    PRUNERS,
    SAMPLERS,
    StudySpec,
    apply_overrides,
    load_spec,
    parse_set,
    spec_from_dict,
    spec_from_sources,
)
from lrsearch.search.storage import StorageConfig, StorageError, mask_url, resolve_storage

_LAZY = {
    "run_study": "lrsearch.search.runner",
    "make_sampler": "lrsearch.search.samplers",
    "make_pruner": "lrsearch.search.samplers",
    "study_progress": "lrsearch.search.runner",
    "StudyResult": "lrsearch.search.results",
    "StudyProgress": "lrsearch.search.results",
    "trials_frame": "lrsearch.search.results",
    "TRIAL_COLUMNS": "lrsearch.search.results",
    "CachedTPESampler": "lrsearch.search.tpe",
    "SnapshotPercentilePruner": "lrsearch.search.pruners",
}

__all__ = [
    "DEFAULT_LR_BOUNDS",
    "OBJECTIVES",
    "OPTIMIZER_NAMES",
    "OPTIONAL_PARAMS",
    "PRUNERS",
    "SAMPLERS",
    "SCHEDULE_NAMES",
    "Choice",
    "Range",
    "SearchSpace",
    "StorageConfig",
    "StorageError",
    "StudySpec",
    "default_space",
    "load_spec",
    "mask_url",
    "parse_set",
    "resolve_storage",
    "space_from_dict",
    "spec_from_dict",
    "spec_from_sources",
    "apply_overrides",
    *sorted(_LAZY),
]


__getattr__ = lazy_getattr("lrsearch.search", _LAZY)
