"""``run_study``: open or resume a study, run workers on it, retrain the best, save the results.

Workers. This process is always worker 0 (one BLAS thread). ``n_jobs > 1``
adds ``n_jobs - 1`` joblib (loky) worker processes, each an Optuna worker on
the same storage with its own sampler seed and one BLAS/Numba thread; the Numba
cache is warmed here first, so that they load compiled kernels instead of
compiling them. Every
machine that runs ``run_study`` on the same storage and study name joins the
same study the same way.

The trial loop is ask/tell, not ``Study.optimize``: under a lock shared by all
workers (:meth:`StorageConfig.budget_lock`) a worker fails stale trials, counts
the trials that use up the budget (complete, pruned, running) and only then
asks for a new one, so ``n_trials`` is the study's exact total however many
workers and machines share it. Each worker's sampler seed is derived from the
study seed and a worker number handed out under that lock, so no two workers,
here or on other machines, repeat each other's draws.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lrsearch.exceptions import ConfigError
from lrsearch.search.objective import StopRequested, direction_of, make_objective, trial_config
from lrsearch.search.results import StudyProgress, StudyResult, trials_frame
from lrsearch.search.space import SearchSpace, _hash, space_from_dict
from lrsearch.search.spec import OBJECTIVES, StudySpec, load_spec, spec_from_dict
from lrsearch.search.storage import DEFAULT_STUDIES_DIR, StorageConfig, StorageError, resolve_storage

__all__ = ["default_study_name", "make_pruner", "make_sampler", "run_study"]

log = logging.getLogger(__name__)

_ATTR = "lrsearch:"
_WAIT_FOR_DEFINITION_S = 15.0


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs (picklable)."""

    dataset: Any
    spec: StudySpec
    space: SearchSpace
    storage: StorageConfig
    study_name: str
    run_id: str
    n_trials: int
    deadline: float | None
    stop_path: str | None = None
    parent_pid: int | None = None


def run_study(
    dataset: Any = None,
    spec: StudySpec | str | os.PathLike[str] | Mapping[str, Any] | None = None,
    *,
    study_name: str | None = None,
    storage: str | os.PathLike[str] | None = None,
    n_jobs: int | None = None,
    overwrite: bool = False,
    retrain: bool = True,
    results_path: str | os.PathLike[str] | bool | None = None,
    progress: Callable[[StudyProgress], None] | None = None,
    studies_dir: str | os.PathLike[str] = DEFAULT_STUDIES_DIR,
    heartbeat_interval: int | None = 10,
    **overrides: Any,
) -> StudyResult:
    """Run (or resume, or join) an Optuna study over optimizer, rate and schedule.

    ``dataset`` is a :class:`~lrsearch.data.Dataset` or anything
    :func:`lrsearch.data.load` takes (default: the spec's ``data``). ``spec`` is a
    :class:`StudySpec`, a TOML path or a spec dict (default: the full default
    space); keyword ``overrides`` replace its ``[study]`` fields (``n_trials=50,
    epochs=40, objective="accuracy", sampler="random", space=...``).

    ``storage``: a journal file, ``sqlite:///...``, ``postgresql://...`` or
    ``"memory"``; default ``$LRSEARCH_STORAGE`` or ``<studies_dir>/<name>.journal``.
    The same name on the same storage resumes the study (a different space or
    training setting is a :class:`~lrsearch.exceptions.ConfigError`;
    ``overwrite=True`` deletes the old study first). ``n_trials`` is the study's
    total: a resumed study runs only what is missing. ``n_jobs`` worker processes
    (-1: one per core) share the storage. ``heartbeat_interval`` (seconds)
    applies to RDB storages.

    ``results_path``: where the results JSON goes (default next to the journal,
    or ``<studies_dir>/<name>.json``; ``False`` for none). ``progress`` is
    called with a :class:`StudyProgress` as trials finish (at most four times a
    second, and once at the end). Ctrl-C stops the
    workers; finished trials are kept and the result has ``interrupted=True``.
    """
    with quiet_optuna():  # lrsearch reports trials itself; Optuna's INFO line per trial is noise
        spec = _resolve_spec(spec, overrides)
        ds = _resolve_dataset(dataset, spec)
        _check_fit(spec, ds)
        name = study_name or spec.name or default_study_name(ds)
        n_jobs = _resolve_jobs(spec.n_jobs if n_jobs is None else n_jobs)
        cfg = resolve_storage(storage if storage is not None else spec.storage, name, studies_dir=studies_dir,
                              heartbeat_interval=heartbeat_interval)  # fmt: skip
        if cfg.kind == "memory" and n_jobs > 1:
            raise ConfigError("In-memory storage is private to one process; use n_jobs=1 or a journal file/database.")
        _check_sampler(spec.sampler)

        # the workers start while this process opens the study (no more than the trials asked for)
        pool = _prestart_workers(min(n_jobs, spec.n_trials), ds, spec.dtype)
        raw_storage = cfg.open()
        study, space, range_tests, created = _open_study(raw_storage, cfg, name, spec, ds, overwrite)
        if not created and not getattr(raw_storage, "get_heartbeat_interval", lambda: None)():
            _fail_dead_local_trials(study)  # with heartbeats, stale trials are failed and retried by Optuna
        run_id = uuid.uuid4().hex[:12]
        started = time.time()
        deadline = started + spec.timeout if spec.timeout else None
        job = _Job(ds, spec, space, cfg, name, run_id, spec.n_trials, deadline)
        report = _progress_reporter(study, job, started, progress)

        remaining = spec.n_trials - _counted(study)
        if n_jobs > 1 and remaining < n_jobs:
            n_jobs = max(1, remaining)  # no process without a trial to run
        interrupted = False
        workers: list[dict[str, Any]] = []
        try:
            if n_jobs == 1:
                with _one_blas_thread():  # a worker is one thread: multi-threaded BLAS only spins on these sizes
                    workers = [_work(job, storage=raw_storage, on_trial=report)]
            else:
                workers = _run_parallel(job, n_jobs, report, raw_storage, pool)
        except KeyboardInterrupt:
            interrupted = True
            log.warning("interrupted: stopping the workers; finished trials are kept")
        finally:
            _fail_orphans(study, run_id)
        elapsed = time.time() - started
        if report is not None:
            report(final=True)
        return _finish(study, cfg, name, spec, space, ds, range_tests, run_id, n_jobs, elapsed, interrupted,
                       retrain, results_path, studies_dir, created, workers)  # fmt: skip


def quiet_optuna() -> Any:
    """Optuna's loggers at WARNING for the run (restored after), unless lrsearch's own log is at DEBUG (-vv)."""
    import optuna

    if logging.getLogger("lrsearch").isEnabledFor(logging.DEBUG):
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def quiet() -> Any:
        before = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(max(before, optuna.logging.WARNING))
        try:
            yield
        finally:
            optuna.logging.set_verbosity(before)

    return quiet()


# -- inputs ------------------------------------------------------------------------------


def _resolve_spec(spec: Any, overrides: Mapping[str, Any]) -> StudySpec:
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if spec is None:
        raw: dict[str, Any] = {"study": {k: v for k, v in overrides.items() if k != "space"}}
        if isinstance(overrides.get("space"), Mapping):
            raw["space"] = overrides["space"]
        base = spec_from_dict(raw, source="run_study")
        if isinstance(overrides.get("space"), SearchSpace):
            base = base.replace(space=overrides["space"])
        return base
    if isinstance(spec, StudySpec):
        base = spec
    elif isinstance(spec, Mapping):
        base = spec_from_dict(spec, source="spec")
    elif isinstance(spec, (str, os.PathLike)):
        base = load_spec(spec)
    else:
        raise ConfigError(f"spec must be a StudySpec, a TOML path or a dict; got {type(spec).__name__}.")
    return base.replace(**overrides) if overrides else base


def _resolve_dataset(dataset: Any, spec: StudySpec) -> Any:
    from lrsearch.data import Dataset, load

    if isinstance(dataset, Dataset):
        return dataset
    source = dataset if dataset is not None else spec.data
    if source is None:
        raise ConfigError("No data: pass a dataset (or --data NAME|FILE), or set data in the spec's [study] table.")
    return load(source, target=spec.target, task=spec.task, val_size=spec.val_size, test_size=spec.test_size,
                seed=spec.seed, dtype=spec.dtype)  # fmt: skip


def _check_fit(spec: StudySpec, ds: Any) -> None:
    allowed = OBJECTIVES[ds.task]
    if spec.objective not in allowed:
        raise ConfigError(f"objective {spec.objective!r} does not apply to {ds.task} data set {ds.name!r}; "
                          f"choose one of: {', '.join(allowed)}.")  # fmt: skip
    if len(ds.X_val) == 0:
        raise ConfigError("A study scores trials on the validation split, which is empty; set val_size > 0.")


def default_study_name(ds: Any) -> str:
    """The study name a data set gets when none is given: its name, made safe for a file name.

    >>> from types import SimpleNamespace
    >>> default_study_name(SimpleNamespace(name="my data/v2.csv"))
    'my-data-v2.csv'
    """
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(ds.name)).strip("-.") or "study"


def _resolve_jobs(n_jobs: int) -> int:
    if n_jobs == -1:
        return os.cpu_count() or 1
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ConfigError(f"n_jobs must be a positive integer or -1 (all cores); got {n_jobs!r}.")
    return n_jobs


def _check_sampler(name: str) -> None:
    import importlib.util

    needs = {"cmaes": ("cmaes", "pip install cmaes"), "gp": ("torch", "pip install torch (CPU build is enough)"),
             "qmc": ("scipy", "pip install scipy")}  # fmt: skip
    if name in needs:
        module, fix = needs[name]
        if importlib.util.find_spec(module) is None:
            raise ConfigError(f"sampler {name!r} needs the {module} package, which is not installed: {fix}.")


# -- samplers and pruners ----------------------------------------------------------------


def make_sampler(name: str, seed: int, base_seed: int | None = None) -> Any:
    """An Optuna sampler by name, seeded (``base_seed``: the study seed, for QMC's shared sequence).

    TPE is Optuna 5's default configuration: multivariate over the parameters
    every trial has (optimizer, schedule), univariate for the conditional ones
    (each ``lr_<optimizer>`` is modelled on that optimizer's trials only), and a
    constant liar so that parallel workers do not pile onto one point.
    ``group=True`` (joint models per conditional sub-space) measured no better on
    digits (best-of-100 over 3 seeds: 0.132 vs 0.126) and about 1.5x slower.
    """
    import optuna
    from optuna.exceptions import ExperimentalWarning

    from lrsearch.search.tpe import tpe_sampler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        if name == "tpe":
            return tpe_sampler(seed=seed, multivariate=True, constant_liar=True)
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if name == "cmaes":
            return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False,
                                                independent_sampler=tpe_sampler(seed=seed))  # fmt: skip
        if name == "qmc":
            # one scrambled Sobol sequence shared by all workers (indexed by trial number)
            return optuna.samplers.QMCSampler(
                qmc_type="sobol", scramble=True, seed=seed if base_seed is None else base_seed,
                independent_sampler=optuna.samplers.RandomSampler(seed=seed), warn_independent_sampling=False,
            )  # fmt: skip
        if name == "gp":
            return optuna.samplers.GPSampler(seed=seed, independent_sampler=optuna.samplers.RandomSampler(seed=seed),
                                             warn_independent_sampling=False)  # fmt: skip
    raise ConfigError(f"Unknown sampler {name!r}; choose tpe, random, cmaes, qmc or gp.")


def make_pruner(name: str, spec: StudySpec) -> Any:
    """An Optuna pruner by name; steps are epoch numbers (reports every ``report_every`` epochs).

    ``median`` is :class:`lrsearch.search.pruners.SnapshotPercentilePruner` at the
    50th percentile: Optuna's ``MedianPruner`` decisions at a cost that does not
    grow with every report.
    """
    import optuna

    every = spec.resolved_report_every
    if name == "median":  # Optuna's MedianPruner, reading the completed trials once per trial
        from lrsearch.search.pruners import median_pruner

        return median_pruner(n_startup_trials=5, n_warmup_steps=max(every, spec.epochs // 5), interval_steps=1)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=every, reduction_factor=3)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=every, max_resource=spec.epochs, reduction_factor=3)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError(f"Unknown pruner {name!r}; choose median, successive_halving, hyperband or none.")


# -- opening a study ---------------------------------------------------------------------


def _definition(spec: StudySpec, ds: Any) -> dict[str, Any]:
    d = spec.definition()
    d["data"] = _data_fingerprint(ds)
    return d


def _data_fingerprint(ds: Any) -> dict[str, Any]:
    import hashlib

    h = hashlib.sha256()
    for arr in (ds.X_train, ds.y_train, ds.X_val, ds.y_val):
        h.update(np.ascontiguousarray(arr).tobytes())
    return {"name": str(ds.name), "task": ds.task, "rows": [len(ds.X_train), len(ds.X_val), len(ds.X_test)],
            "features": int(ds.X_train.shape[1]), "sha256": h.hexdigest()[:16]}  # fmt: skip


def _open_study(raw_storage: Any, cfg: StorageConfig, name: str, spec: StudySpec, ds: Any,
                overwrite: bool) -> tuple[Any, SearchSpace, tuple[Any, ...], bool]:  # fmt: skip
    """Load the study (checking its definition) or create it; return (study, space, range tests, created)."""
    import optuna

    definition = _definition(spec, ds)
    fingerprint = _hash(definition)
    pruner = make_pruner(spec.pruner, spec)
    sampler = make_sampler(spec.sampler, spec.seed, spec.seed)
    existing = _load(raw_storage, cfg, name, sampler, pruner)
    if existing is not None and overwrite:
        log.warning("deleting the existing study %r in %s (overwrite)", name, cfg.masked)
        optuna.delete_study(study_name=name, storage=raw_storage)
        existing = None
    if existing is not None:
        return _check_existing(existing, cfg, name, definition, fingerprint) + (False,)

    space, range_tests, first_trials = spec.space, (), []
    if spec.aim == "finder":
        from lrsearch.search.aim import aim_with_finder

        space, range_tests, first_trials = aim_with_finder(ds, spec, spec.space)
    try:
        study = optuna.create_study(study_name=name, storage=raw_storage, sampler=sampler, pruner=pruner,
                                    direction=direction_of(spec.objective))  # fmt: skip
    except optuna.exceptions.DuplicatedStudyError:  # another worker created it a moment ago
        existing = _load(raw_storage, cfg, name, sampler, pruner)
        assert existing is not None
        return _check_existing(existing, cfg, name, definition, fingerprint) + (False,)
    except Exception as exc:
        raise StorageError(f"cannot create study {name!r} in {cfg.masked}: {type(exc).__name__}: {exc}") from None
    from lrsearch import __version__

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([spec.objective])
    study.set_user_attr(_ATTR + "version", __version__)
    study.set_user_attr(_ATTR + "space", space.to_dict())
    study.set_user_attr(_ATTR + "range_tests", [_rt_json(rt) for rt in range_tests])
    study.set_user_attr(_ATTR + "definition", definition)
    study.set_user_attr(_ATTR + "fingerprint", fingerprint)  # last: its presence marks the study ready
    for params in first_trials:
        study.enqueue_trial(params, user_attrs={"aimed_by": "finder"})
    log.info("created study %r in %s", name, cfg.masked)
    return study, space, range_tests, True


def _rt_json(rt: Any) -> dict[str, Any]:
    from lrsearch.search.results import range_test_summary

    return range_test_summary(rt)


def _load(raw_storage: Any, cfg: StorageConfig, name: str, sampler: Any, pruner: Any) -> Any:
    import optuna

    try:
        return optuna.load_study(study_name=name, storage=raw_storage, sampler=sampler, pruner=pruner)
    except KeyError:
        return None
    except Exception as exc:
        raise StorageError(f"cannot read study {name!r} from {cfg.masked}: {type(exc).__name__}: {exc}") from None


def _check_existing(study: Any, cfg: StorageConfig, name: str, definition: dict[str, Any],
                    fingerprint: str) -> tuple[Any, SearchSpace, tuple[Any, ...]]:  # fmt: skip
    attrs = study.user_attrs
    waited = 0.0
    while _ATTR + "fingerprint" not in attrs and waited < _WAIT_FOR_DEFINITION_S:
        if study.get_trials(deepcopy=False):
            break  # it has trials but no definition: not an lrsearch study
        time.sleep(0.2)  # its creator is writing the definition right now
        waited += 0.2
        attrs = study.user_attrs
    if _ATTR + "fingerprint" not in attrs:
        raise StorageError(f"study {name!r} in {cfg.masked} was not created by lrsearch study (it has no lrsearch "
                           f"definition); choose another --study-name.")  # fmt: skip
    if attrs[_ATTR + "fingerprint"] != fingerprint:
        diff = _diff(attrs.get(_ATTR + "definition", {}), definition)
        raise ConfigError(
            f"study {name!r} in {cfg.masked} was created with a different definition ({diff}); "
            f"resume it with the same settings, choose a new --study-name, or pass --overwrite to delete it."
        )
    space = space_from_dict(attrs[_ATTR + "space"], epochs=definition["epochs"], where="stored space")
    log.info("resuming study %r in %s (%d trials so far)", name, cfg.masked, len(study.get_trials(deepcopy=False)))
    return study, space, ()


def _diff(old: Any, new: Any) -> str:
    """'epochs: 30 -> 50; space.optimizer: [...] -> [...]' for the keys that differ."""
    out: list[str] = []

    def walk(a: Any, b: Any, prefix: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                walk(a.get(key), b.get(key), f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix.rstrip('.')}: {_short(a)} -> {_short(b)}")

    walk(old, new, "")
    return "; ".join(out[:4]) + (f"; and {len(out) - 4} more" if len(out) > 4 else "")


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


# -- the worker loop ---------------------------------------------------------------------

_COUNTED = ("COMPLETE", "PRUNED", "RUNNING")


def _counted(study: Any) -> int:
    """Trials that use up the budget: complete, pruned and running (failed ones are rerun)."""
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=tuple(TrialState[s] for s in _COUNTED)))


def _work(job: _Job, *, storage: Any = None, on_trial: Callable[..., None] | None = None,
          raise_interrupt: bool = True) -> dict[str, Any]:  # fmt: skip
    """Run trials until the study has ``n_trials`` (or the deadline passes, or a stop is requested).

    Ctrl-C fails the running trial, then re-raises (``raise_interrupt``) or returns.
    """
    import optuna
    from optuna.exceptions import ExperimentalWarning
    from optuna.trial import TrialState

    from lrsearch.search.storage import Heartbeat

    storage = job.storage.open() if storage is None else storage
    spec = job.spec
    pruner = make_pruner(spec.pruner, spec)
    study = optuna.load_study(study_name=job.study_name, storage=storage, sampler=optuna.samplers.RandomSampler(),
                              pruner=pruner)  # fmt: skip
    lock = job.storage.budget_lock(job.study_name)
    with lock:
        slot = int(study.user_attrs.get(_ATTR + "workers", 0))
        study.set_user_attr(_ATTR + "workers", slot + 1)
    seed = int(np.random.SeedSequence([spec.seed, slot]).generate_state(1)[0])
    study.sampler = make_sampler(spec.sampler, seed, spec.seed)
    stop_path = job.stop_path

    def should_stop() -> bool:
        # a stop file from the parent (Ctrl-C), or the parent is gone (killed): finish up
        if job.parent_pid is not None and os.getppid() != job.parent_pid:
            return True
        return stop_path is not None and os.path.exists(stop_path)

    objective = make_objective(job.dataset, spec, job.space, should_stop if (stop_path or job.parent_pid) else None)
    worker = f"{socket.gethostname()}:{os.getpid()}:{slot}"
    done = {"worker": worker, "seed": seed, "trials": 0, "complete": 0, "pruned": 0, "interrupted": False, "cpu_s": 0.0}
    cpu0 = time.process_time()
    heartbeat_on = bool(getattr(storage, "get_heartbeat_interval", lambda: None)())
    while True:
        trial = beat = None
        try:
            with lock, warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
                if (job.deadline is not None and time.time() >= job.deadline) or should_stop():
                    break
                if heartbeat_on:
                    optuna.storages.fail_stale_trials(study)
                if _counted(study) >= job.n_trials:
                    break
                trial = study.ask()
                # first heartbeat at once: a trial that never beat is never found stale
                beat = Heartbeat(storage, trial._trial_id).start()  # Optuna has no public trial-id accessor
            trial.set_user_attr("run", job.run_id)  # marks this run's trials, for the clean-up after Ctrl-C
            trial.set_user_attr("worker", worker)
        except KeyboardInterrupt:
            if beat is not None:
                beat.stop()
            if trial is not None:
                study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            if raise_interrupt:
                raise
            done["interrupted"] = True
            break
        state, value = TrialState.COMPLETE, None
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            state = TrialState.PRUNED
        except (KeyboardInterrupt, StopRequested) as exc:  # fail this trial (resuming reruns it), stop
            beat.stop()
            trial.set_user_attr("interrupted", True)
            study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            if raise_interrupt and isinstance(exc, KeyboardInterrupt):
                raise
            done["interrupted"] = True
            break
        except BaseException as exc:  # a bug: fail this trial, stop this worker
            beat.stop()
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:500])
            study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            raise
        beat.stop()
        study.tell(trial, value, state=state, skip_if_finished=True)
        done["trials"] += 1
        done["complete" if state == TrialState.COMPLETE else "pruned"] += 1
        done["cpu_s"] = time.process_time() - cpu0
        if on_trial is not None:
            on_trial()
    done["cpu_s"] = time.process_time() - cpu0
    return done


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")  # fmt: skip


def _worker_entry(job: _Job) -> dict[str, Any]:
    """A loky worker process: one thread for BLAS and Numba (set in its environment at start), then the loop."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with _one_blas_thread():
        return _work(job, raise_interrupt=False)


def _one_blas_thread() -> Any:
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def warm_numba(dataset: Any, dtype: str) -> None:
    """Compile (or load from the cache) the training kernels once, before workers start."""
    from lrsearch.nn.training import train

    X = np.zeros((4, dataset.X_train.shape[1]), dtype=dtype)
    if dataset.task == "classification":
        y: Any = np.array([0, 1, 0, 1])
        kw: dict[str, Any] = {"n_classes": 2}
    else:
        y, kw = np.zeros(4), {}
    train(X, y, task=dataset.task, hidden=(2,), epochs=1, batch_size=2, dtype=dtype, X_val=X, y_val=y,
          compute_metrics=False, **kw)  # fmt: skip


def _run_parallel(job: _Job, n_jobs: int, report: Callable[..., None] | None, storage: Any,
                  pool: tuple[Any, int] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """This process is worker 0; ``n_jobs - 1`` loky processes are the others.

    ``pool``: the executor :func:`_prestart_workers` started and its size, used
    as is when it is large enough (resizing a loky executor waits for its
    jobs). The parent works from the first trial while the other processes
    finish starting (0.6-0.8 s from their start: Python, imports, the Numba
    cache), shows progress after its own
    trials and handles Ctrl-C. Ctrl-C does not kill the workers (a worker killed
    while it writes the journal leaves Optuna's file lock behind): a stop file,
    checked by every worker after each epoch, makes each fail its running trial
    and return. A second Ctrl-C (or workers still busy after a minute) kills them.
    """
    import tempfile
    from dataclasses import replace

    warm_numba(job.dataset, job.spec.dtype)
    stop_path = Path(tempfile.gettempdir()) / f"lrsearch-stop-{job.run_id}"
    # workers need the arrays, not the fitted feature scaler (unpickling it imports scikit-learn: ~1 s per worker)
    light = replace(job.dataset, x_scaler=None)
    others = replace(job, dataset=light, stop_path=str(stop_path), parent_pid=os.getpid())
    outcome: dict[str, Any] = {}
    finished = threading.Event()  # waited on instead of Thread.join: an interrupted join can mark a live thread dead

    if pool is None or pool[1] < n_jobs - 1:
        pool = _prestart_workers(n_jobs, job.dataset, job.spec.dtype)  # spawned here, in the main thread
    executor = pool[0] if pool is not None else _executor(n_jobs)

    def run() -> None:
        try:
            futures = [executor.submit(_worker_entry, others) for _ in range(n_jobs - 1)]
            outcome["workers"] = [f.result() for f in futures]
        except BaseException as exc:  # handed to the main thread
            outcome["error"] = exc
        finally:
            finished.set()

    def on_trial() -> None:
        if "error" in outcome:  # another worker hit a bug: stop here too
            raise outcome["error"]
        if report is not None:
            _safe(report)

    thread = threading.Thread(target=run, name="lrsearch-workers", daemon=True)
    thread.start()
    try:
        with _one_blas_thread():
            mine = _work(job, storage=storage, on_trial=on_trial)
        while not finished.wait(0.5):  # the others finish their last trials
            if report is not None:
                _safe(report)
    except KeyboardInterrupt:
        stop_path.touch()
        try:
            finished.wait(timeout=60)
        except KeyboardInterrupt:
            pass
        if not finished.is_set():
            log.warning("workers did not stop; killing them")
            executor.shutdown(wait=False, kill_workers=True)
        raise
    finally:
        if finished.is_set():
            stop_path.unlink(missing_ok=True)
    if "error" in outcome:
        raise outcome["error"]
    workers = [mine, *outcome.get("workers", [])]
    if any(w.get("interrupted") for w in workers):  # Ctrl-C reached the workers (a terminal's process group)
        raise KeyboardInterrupt
    return workers


def _executor(n_jobs: int) -> Any:
    """The ``n_jobs - 1`` loky worker processes (joblib's executor directly: ``joblib.Parallel`` with
    one job would run in this process), one BLAS/Numba thread each; the same executor on every call.

    It is joblib's own reusable executor (``get_memmapping_executor``, arrays pickled, never
    memory-mapped), not loky's bare one: that process-wide singleton is the one a later
    ``joblib.Parallel`` (``GridSearchCV(n_jobs=2)``, say) reuses, and a bare one lacks joblib's
    temporary-folder manager, which made such a call fail after a parallel study.
    """
    from joblib.executor import get_memmapping_executor

    return get_memmapping_executor(n_jobs - 1, env={v: "1" for v in _THREAD_VARS}, max_nbytes=None)


def _prestart_workers(n_jobs: int, dataset: Any, dtype: str) -> tuple[Any, int] | None:
    """Start ``n_jobs - 1`` worker processes and load the Numba cache in each, without waiting for them.

    A worker takes 0.6-0.8 s to start (Python, imports, the compiled kernels);
    started before the study is opened (and its range tests run) it is ready, or
    nearly, when the trials begin. Returns ``(executor, n_jobs - 1)``, or None
    when there is nothing to start or the start failed (``_run_parallel`` then
    starts the workers itself and reports real failures).
    """
    if n_jobs < 2:
        return None
    try:
        executor = _executor(n_jobs)
        with _sigint_ignored():  # loky spawns the processes at the first submit
            for _ in range(n_jobs - 1):
                executor.submit(_warm_worker, dataset.task, dataset.X_train.shape[1], dtype)
    except Exception as exc:  # only a head start
        log.debug("could not start the workers early: %s", exc)
        return None
    return executor, n_jobs - 1


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT in this process meanwhile, so that the processes it starts ignore it for good.

    A terminal's Ctrl-C reaches every process of its group; a worker that got it
    while importing would print a traceback. Workers stop on the parent's stop
    file instead (the parent handles Ctrl-C). Only the main thread can set a
    signal handler; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _warm_worker(task: str, n_features: int, dtype: str) -> None:
    from types import SimpleNamespace

    import optuna  # noqa: F401  (imported here, not at the first trial)

    warm_numba(SimpleNamespace(task=task, X_train=np.zeros((1, n_features))), dtype)


def _safe(report: Callable[..., None]) -> None:
    try:
        report()
    except Exception as exc:  # a display problem must not stop the study
        log.debug("progress display failed: %s", exc)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _fail_dead_local_trials(study: Any) -> None:
    """Fail RUNNING trials of worker processes of this machine that no longer exist.

    A journal has no heartbeats: a worker killed outright (SIGKILL, a crash of
    the whole run) would leave its trial RUNNING for ever, counted against the
    budget. Only for storages without heartbeats; trials of other machines are
    not touched.
    """
    from optuna.trial import TrialState

    host = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        parts = str(t.user_attrs.get("worker", "")).split(":")
        if len(parts) >= 2 and parts[0] == host and parts[1].isdigit() and not _pid_alive(int(parts[1])):
            log.warning("trial %d was left running by worker process %s, which is gone; marking it failed",
                        t.number, parts[1])  # fmt: skip
            study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)


def _fail_orphans(study: Any, run_id: str) -> None:
    """Fail trials of this run left RUNNING by a killed worker (journal storage has no heartbeats)."""
    from optuna.trial import TrialState

    try:
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if t.user_attrs.get("run") == run_id:
                study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
    except Exception as exc:  # never mask the real outcome
        log.warning("could not mark interrupted trials as failed: %s", exc)


# -- progress ----------------------------------------------------------------------------


def _progress_reporter(study: Any, job: _Job, started: float,
                       progress: Callable[[StudyProgress], None] | None) -> Callable[..., None] | None:  # fmt: skip
    """Call ``progress`` at most every 0.25 s (reading the storage is O(trials)), and at the end."""
    if progress is None:
        return None
    last = [0.0]

    def report(final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - last[0] < 0.25:
            return
        last[0] = now
        progress(study_progress(study, job.n_trials, started, job.run_id))

    return report


def study_progress(study: Any, target: int, started: float, run_id: str | None = None) -> StudyProgress:
    """Counts and the best value so far, read from the storage."""
    counts = {"COMPLETE": 0, "PRUNED": 0, "FAIL": 0, "RUNNING": 0}
    diverged = done_here = 0
    best_value = best_number = None
    maximize = study.direction.name == "MAXIMIZE"
    for t in study.get_trials(deepcopy=False):
        name = t.state.name
        counts[name] = counts.get(name, 0) + 1
        if "diverged_reason" in t.user_attrs:
            diverged += 1
        if run_id is not None and t.user_attrs.get("run") == run_id and name in ("COMPLETE", "PRUNED"):
            done_here += 1
        if name == "COMPLETE" and t.value is not None:
            if best_value is None or (t.value > best_value if maximize else t.value < best_value):
                best_value, best_number = t.value, t.number
    elapsed = time.time() - started
    finished = counts["COMPLETE"] + counts["PRUNED"]
    eta = None
    if done_here and finished < target:
        eta = (target - finished) * elapsed / done_here
    return StudyProgress(target, counts["COMPLETE"], counts["PRUNED"], diverged, counts["FAIL"], counts["RUNNING"],
                         best_value, best_number, elapsed, done_here, eta)  # fmt: skip


# -- results -----------------------------------------------------------------------------


def _finish(study: Any, cfg: StorageConfig, name: str, spec: StudySpec, space: SearchSpace, ds: Any,
            range_tests: tuple[Any, ...], run_id: str, n_jobs: int, elapsed: float, interrupted: bool,
            retrain: bool, results_path: Any, studies_dir: Any, created: bool,
            workers: list[dict[str, Any]]) -> StudyResult:  # fmt: skip
    import optuna

    frame = trials_frame(study)
    states = frame["state"].value_counts().to_dict() if len(frame) else {}
    this_run = sum(1 for t in study.get_trials(deepcopy=False)
                   if t.user_attrs.get("run") == run_id and t.state.is_finished())  # fmt: skip
    best_params: dict[str, Any] = {}
    best_value = best_number = best_result = None
    best_val: dict[str, float] = {}
    best_test: dict[str, float] = {}
    best_config: dict[str, Any] = {}
    try:
        best = study.best_trial
    except ValueError:  # no complete trial
        best = None
    if best is not None:
        best_params, best_value, best_number = dict(best.params), best.value, best.number
        best_config = trial_config(spec, space, optuna.trial.FixedTrial(best.params))
        if retrain and not interrupted:
            from lrsearch.evaluation import fit_dataset

            fit = fit_dataset(ds, **best_config)
            best_result, best_val, best_test = fit.result, fit.val_metrics, fit.test_metrics
    summary = {
        "n_trials": int(len(frame)),
        "target_trials": spec.n_trials,
        "complete": int(states.get("COMPLETE", 0)),
        "pruned": int(states.get("PRUNED", 0)),
        "failed": int(states.get("FAIL", 0)),
        "running": int(states.get("RUNNING", 0)),
        "waiting": int(states.get("WAITING", 0)),
        "diverged": int(frame["diverged_reason"].notna().sum()) if len(frame) else 0,
        "trials_this_run": this_run,
        "elapsed_s": round(elapsed, 3),
        "trials_per_min": round(this_run / elapsed * 60.0, 2) if elapsed > 0 else None,
        "n_jobs": n_jobs,
        "worker_cpu_s": round(sum(w.get("cpu_s", 0.0) for w in workers), 3) if workers else None,
        "sampler": spec.sampler,
        "pruner": spec.pruner,
        "aim": spec.aim,
        "objective": spec.objective,
        "epochs": spec.epochs,
        "report_every": spec.resolved_report_every,
        "seed": spec.seed,
        "created": created,
        "interrupted": interrupted,
        "space": space.to_dict(),
        "aim_range_tests": study.user_attrs.get(_ATTR + "range_tests", []),
        "importances": _importances(study) if not interrupted else {},
    }
    result = StudyResult(
        study=study, study_name=name, storage=cfg.masked, direction=direction_of(spec.objective),
        objective=spec.objective, trials=frame, best_params=best_params, best_value=best_value,
        best_val_metrics=best_val, best_test_metrics=best_test, best_result=best_result, summary=summary,
        range_tests=tuple(range_tests), dataset_summary=ds.summary(), best_config=_plain(best_config),
        best_number=best_number, interrupted=interrupted,
    )  # fmt: skip
    path = _results_path(results_path, cfg, name, studies_dir)
    if path is not None:
        result.save_json(path)
        from dataclasses import replace

        result = replace(result, results_path=path)
    return result


def _importances(study: Any) -> dict[str, float]:
    """Parameter importances by Optuna's default evaluator (PED-ANOVA in Optuna 5) over complete trials."""
    import optuna

    if len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))) < 8:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {k: round(float(v), 4) for k, v in optuna.importance.get_param_importances(study).items()}
    except Exception as exc:  # importance needs a usable common sub-space; it is a bonus
        log.debug("parameter importances unavailable: %s", exc)
        return {}


def _plain(config: dict[str, Any]) -> dict[str, Any]:
    out = dict(config)
    for key in ("hidden",):
        if key in out:
            out[key] = list(out[key])
    if "optimizer_params" in out and "betas" in out["optimizer_params"]:
        out["optimizer_params"] = {**out["optimizer_params"], "betas": list(out["optimizer_params"]["betas"])}
    return out


def _results_path(results_path: Any, cfg: StorageConfig, name: str, studies_dir: Any) -> Path | None:
    if results_path is False:
        return None
    if results_path not in (None, True):
        return Path(results_path)
    if cfg.kind == "journal":
        return Path(cfg.location).with_name(f"{name}.json")
    if cfg.kind == "memory":
        return None
    return Path(studies_dir) / f"{name}.json"
