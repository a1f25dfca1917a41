"""``run_study``: open or resume a study, run its workers, retrain the best, save the results.

The trial loop and the worker processes are :mod:`lrsearch.search.workers`;
samplers and pruners by name, :mod:`lrsearch.search.samplers`. Every machine
that runs ``run_study`` on the same storage and study name joins the same study
the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lrsearch._validation import check_no_clash, default_results_path, storage_file
from lrsearch.exceptions import ConfigError
from lrsearch.search.objective import direction_of, trial_config
from lrsearch.search.results import StudyProgress, StudyResult, trials_frame
from lrsearch.search.samplers import check_sampler, make_pruner, make_sampler, sampler_notes
from lrsearch.search.space import SearchSpace, _hash, dim_values, space_from_dict
from lrsearch.search.spec import OBJECTIVES, StudySpec, apply_overrides, spec_from_dict, spec_from_sources
from lrsearch.search.storage import DEFAULT_STUDIES_DIR, StorageConfig, StorageError, resolve_storage
from lrsearch.search.workers import (
    ATTR,
    SIGTERM_NOTED,
    Job,
    counted,
    fail_dead_local_trials,
    fail_orphans,
    one_blas_thread,
    prestart_workers,
    run_parallel,
    sigint_noted,
    work,
    worker_of,
)

__all__ = ["default_study_name", "make_pruner", "make_sampler", "run_study"]

log = logging.getLogger(__name__)

_WAIT_FOR_DEFINITION_S = 15.0


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
    or ``<studies_dir>/<name>.json``; ``False`` for none). A default file that
    holds the results of a same-named study in another storage is never
    written over: the results go beside it as ``<storage stem>-<name>.json``,
    and when that one is another's too (or the storage is a server) it is a
    :class:`~lrsearch.exceptions.ConfigError` before the study runs. ``progress`` is
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
        check_sampler(spec.sampler)
        source = dataset if dataset is not None else spec.data
        check_no_clash({"results_path (--results)": _results_path(results_path, cfg, name, studies_dir)},
                       {"the study's storage": storage_file(cfg.location, name),
                        "the data file": source if isinstance(source, (str, os.PathLike)) and os.path.isfile(source)
                        else None})  # fmt: skip
        # the default results file is named after the study alone: when a same-named study of another storage
        # wrote it, this study's go beside it under the storage's name too (_results_path), or it is refused here
        _results_path(results_path, cfg, name, studies_dir)

        # the workers start while this process opens the study (no more than the trials asked for)
        pool = prestart_workers(min(n_jobs, spec.n_trials), ds, spec.dtype)
        raw_storage = cfg.open()
        study, space, range_tests, created = _open_study(raw_storage, cfg, name, spec, ds, overwrite)
        for note in sampler_notes(spec.sampler, space.optimizers, space.schedules):
            log.warning(note)
        if not created and not getattr(raw_storage, "get_heartbeat_interval", lambda: None)():
            fail_dead_local_trials(study)  # with heartbeats, stale trials are failed and retried by Optuna
        run_id = uuid.uuid4().hex[:12]
        started = time.time()
        deadline = started + spec.timeout if spec.timeout else None
        job = Job(ds, spec, space, cfg, name, run_id, spec.n_trials, deadline)
        report = _progress_reporter(study, job, started, progress)

        remaining = spec.n_trials - counted(study)
        if n_jobs > 1 and remaining < n_jobs:
            n_jobs = max(1, remaining)  # no process without a trial to run
        if n_jobs > (cores := usable_cores()):
            log.warning("%d worker processes on %d CPU core%s: they take turns on the cores, so trials run no "
                        "faster than with %d and each takes longer; --n-jobs -1 (n_jobs=-1) runs one per core",
                        n_jobs, cores, "" if cores == 1 else "s", cores)  # fmt: skip
        interrupted = False
        workers: list[dict[str, Any]] = []
        try:
            with sigint_noted():
                if n_jobs == 1:
                    with one_blas_thread():  # a worker is one thread: multi-threaded BLAS only spins on these sizes
                        workers = [work(job, storage=raw_storage, on_trial=report)]
                else:
                    workers = run_parallel(job, n_jobs, report, raw_storage, pool)
        except KeyboardInterrupt:
            interrupted = True
            log.warning("interrupted: stopping the workers; finished trials are kept%s",
                        " in memory, until this process ends" if cfg.kind == "memory" else f" in {cfg.masked}")
        finally:
            fail_orphans(study, run_id)
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
    if isinstance(spec, StudySpec):  # built already: its space stays as built (StudySpec.replace)
        return spec.replace(**overrides) if overrides else spec
    # a file or dict is built with the overrides, as the command line does: a space whose default ranges follow
    # the epochs (warm-up, step size, patience) follows an epochs= override too
    space = overrides.pop("space", None)
    dotted = {f"study.{k}": v for k, v in overrides.items()}
    if isinstance(spec, Mapping):
        base = spec_from_dict(apply_overrides(spec, dotted), source="spec")
    elif isinstance(spec, (str, os.PathLike)):
        base = spec_from_sources(spec, dotted)
    else:
        raise ConfigError(f"spec must be a StudySpec, a TOML path or a dict; got {type(spec).__name__}.")
    return base.replace(space=space) if space is not None else base


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
    if spec.objective == "r2" and len(ds.X_val) < 2:
        raise ConfigError(f"objective 'r2' needs at least 2 validation rows (R² of one row is undefined); the "
                          f"validation split holds {len(ds.X_val)}: raise val_size, or use objective 'mse'.")  # fmt: skip
    # epochs a step or a plateau waits: values that leave it no epoch to act in never change the rate. A step
    # at the end of epoch k acts from epoch k + 1 (k < epochs); a plateau needs a first epoch to set its best,
    # then patience + 1 epochs without a gain, and acts from the next (patience <= epochs - 3)
    for schedule, key, limit in (("step", "step_size", spec.epochs), ("plateau", "patience", spec.epochs - 2)):
        params = spec.space.schedule_params.get(schedule, {})
        dim = params.get(key)
        per_step = any(v != "epoch" for v in dim_values(params["interval"])) if "interval" in params else False
        if schedule not in spec.space.schedules or dim is None or per_step or limit < 1 or spec.epochs < 2:
            continue  # per-step sizes count optimizer steps; a run of 1 (or, for a plateau, 2) epochs has no room
        values = dim_values(dim)
        if min(values) >= limit:
            raise ConfigError(f"{schedule} {key} is {min(values)} or more, too long for the study's {spec.epochs} "
                              f"epochs: the {schedule} schedule would never change the rate; give {key} below "
                              f"{limit} (--set space.{schedule}.{key}=...) or raise epochs.")  # fmt: skip
        if max(values) >= limit:
            log.warning("%s %s reaches %s, too long for the study's %d epochs: trials drawing %s or more never "
                        "change the rate (a constant schedule in disguise); cap it below %d (--set space.%s.%s=...)",
                        schedule, key, max(values), spec.epochs, limit, limit, schedule, key)  # fmt: skip
    warm = spec.space.warmup
    longest = int(max(dim_values(warm)))
    if any(s != "one_cycle" for s in spec.space.schedules) and longest >= spec.epochs:
        example = f"[0, {spec.epochs // 5}]" if spec.epochs // 5 else "0"
        raise ConfigError(f"warmup reaches {longest} epochs, not shorter than the study's {spec.epochs} epochs: such "
                          f"a trial would never train at its rate; give warmup below {spec.epochs} (e.g. warmup = "
                          f"{example}) or raise epochs.")  # fmt: skip


def default_study_name(ds: Any) -> str:
    """The study name a data set gets when none is given: its name, made safe for a file name.

    A name ``--study-name`` accepts too: it starts with a letter or digit and
    has at most 100 characters.

    >>> from types import SimpleNamespace
    >>> default_study_name(SimpleNamespace(name="my data/v2.csv"))
    'my-data-v2.csv'
    >>> default_study_name(SimpleNamespace(name="_x")), len(default_study_name(SimpleNamespace(name="a" * 120)))
    ('x', 100)
    """
    import re

    name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(ds.name)).lstrip("-._")[:100].rstrip("-.")
    return name or "study"


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity mask where the system has one, else every core."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity masks here (macOS, Windows)
        return os.cpu_count() or 1


def _resolve_jobs(n_jobs: int) -> int:
    if n_jobs == -1:
        return usable_cores()
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ConfigError(f"n_jobs must be a positive integer or -1 (all cores); got {n_jobs!r}.")
    return n_jobs


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


def _refuse_to_delete_a_running_study(study: Any, raw_storage: Any, name: str) -> None:
    """``overwrite`` of a study that another process or machine still runs would pull it from under them (a
    joining machine with the same --overwrite command did): refuse while trials of live workers run.

    Live: a worker process of this machine that still exists, or, on a storage with heartbeats, a trial of
    another machine that has not gone stale. A trial nobody can vouch for (no worker recorded, another
    machine's on a journal) does not stop the overwrite, as before.
    """
    import optuna
    from optuna.exceptions import ExperimentalWarning
    from optuna.trial import TrialState

    heartbeats = bool(getattr(raw_storage, "get_heartbeat_interval", lambda: None)())
    if heartbeats:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
    # a live local process's trial, or another machine's that survived the stale check; none recorded: no one's
    live = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if (w := worker_of(t)) == ("local", True) or (heartbeats and w[0] == "remote")]  # fmt: skip
    if live:
        workers = sorted({str(t.user_attrs.get("worker")) for t in live})
        raise ConfigError(f"--overwrite would delete the study {name!r} while {len(live)} of its trials run "
                          f"(workers {', '.join(workers[:4])}): stop every machine running it first, or choose "
                          f"another --study-name.")  # fmt: skip


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
        _refuse_to_delete_a_running_study(existing, raw_storage, name)
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
    study.set_user_attr(ATTR + "version", __version__)
    study.set_user_attr(ATTR + "space", space.to_dict())
    study.set_user_attr(ATTR + "range_tests", [_rt_json(rt) for rt in range_tests])
    study.set_user_attr(ATTR + "definition", definition)
    study.set_user_attr(ATTR + "fingerprint", fingerprint)  # last: its presence marks the study ready
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
    while ATTR + "fingerprint" not in attrs and waited < _WAIT_FOR_DEFINITION_S:
        if study.get_trials(deepcopy=False):
            break  # it has trials but no definition: not an lrsearch study
        time.sleep(0.2)  # its creator is writing the definition right now
        waited += 0.2
        attrs = study.user_attrs
    if ATTR + "fingerprint" not in attrs:
        raise StorageError(f"study {name!r} in {cfg.masked} was not created by lrsearch study (it has no lrsearch "
                           f"definition); choose another --study-name.")  # fmt: skip
    stored = attrs.get(ATTR + "definition", {})
    if isinstance(stored, dict) and "defaults" not in stored:
        # created before the definition held the core's defaults (session 7): it is checked as it was made, on
        # everything else, and resumes with today's defaults, as it did before
        definition = {k: v for k, v in definition.items() if k != "defaults"}
        fingerprint = _hash(definition)
    if attrs[ATTR + "fingerprint"] != fingerprint:
        diff = _diff(stored, definition)
        raise ConfigError(
            f"study {name!r} in {cfg.masked} was created with a different definition ({diff}); "
            f"resume it with the same settings, choose a new --study-name, or pass --overwrite to delete it."
            + _space_hint(stored, definition)
        )
    space = space_from_dict(attrs[ATTR + "space"], epochs=definition["epochs"], where="stored space")
    log.info("resuming study %r in %s (%d trials so far)", name, cfg.masked, len(study.get_trials(deepcopy=False)))
    return study, space, ()


def _changes(old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """(dotted key, old value, new value) for every leaf where two definitions differ."""
    out: list[tuple[str, Any, Any]] = []

    def walk(a: Any, b: Any, prefix: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                walk(a.get(key), b.get(key), f"{prefix}{key}.")
        elif a != b:
            out.append((prefix.rstrip("."), a, b))

    walk(old, new, "")
    return out


def _diff(old: Any, new: Any) -> str:
    """'epochs: 30 -> 50; space.optimizer: [...] -> [...]' for the keys that differ."""
    out = [f"{key}: {_short(a)} -> {_short(b)}" for key, a, b in _changes(old, new)]
    # the least nested keys first: a changed space.optimizer explains the space.lr.<optimizer> entries after it
    out.sort(key=lambda line: line.split(":", 1)[0].count("."))
    return "; ".join(out[:4]) + (f"; and {len(out) - 4} more" if len(out) > 4 else "")


def _space_hint(stored: Any, definition: dict[str, Any]) -> str:
    """When only search ranges differ, the ``--set`` flags that resume the study as it was created.

    The same command can give another space after an upgrade (the default ranges of a short study
    changed in session 7), so "the same settings" may not be enough to say.

    >>> _space_hint({"space": {"warmup": {"low": 0, "high": 1, "log": False, "int": True}}, "epochs": 2},
    ...             {"space": {"warmup": 0}, "epochs": 2})
    " If the command is the one that created it, the default ranges changed since; resume it as created with: --set 'space.warmup=[0, 1]'."
    """
    flags = []
    for key, old, _ in _changes(stored, definition):
        if not key.startswith("space."):
            return ""  # more than ranges differ: the settings themselves changed
        if isinstance(old, dict) and set(old) == {"low", "high", "log", "int"} and not old["log"]:
            flags.append(f"--set '{key}=[{old['low']!r}, {old['high']!r}]'")
        elif isinstance(old, (int, float, str)) and not isinstance(old, bool):
            flags.append(f"--set '{key}={old!r}'")
        else:
            return ""  # a value --set cannot give back as it was: no half hint
    if not flags:
        return ""
    return (" If the command is the one that created it, the default ranges changed since; resume it as created "
            "with: " + " ".join(flags) + ".")


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


# -- the worker loop ---------------------------------------------------------------------

# -- progress ----------------------------------------------------------------------------


def _progress_reporter(study: Any, job: Job, started: float,
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
    # trials this run finished (complete or pruned); a failed one (Ctrl-C, a dead worker) is rerun, not counted
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    this_run = sum(1 for t in study.get_trials(deepcopy=False)
                   if t.user_attrs.get("run") == run_id and t.state in done)  # fmt: skip
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
    complete, pruned = int(states.get("COMPLETE", 0)), int(states.get("PRUNED", 0))
    summary = {
        "n_trials": int(len(frame)),
        "target_trials": spec.n_trials,
        "done": complete + pruned,  # the trials that count toward target_trials and are over (StudyProgress.finished)
        "complete": complete,
        "pruned": pruned,
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
        # which signal stopped it: Ctrl-C (SIGINT), or SIGTERM (kill, timeout, docker stop, a batch scheduler)
        "interrupted_by": (("SIGTERM" if SIGTERM_NOTED.is_set() else "SIGINT") if interrupted else None),
        "timeout_s": spec.timeout,
        "timed_out": bool(spec.timeout) and not interrupted and elapsed >= spec.timeout
                     and complete + pruned < spec.n_trials,
        "space": space.to_dict(),
        "aim_range_tests": study.user_attrs.get(ATTR + "range_tests", []),
        "importances": _importances(study) if not interrupted else {},
    }
    result = StudyResult(
        study=study, study_name=name, storage=cfg.masked, direction=direction_of(spec.objective),
        objective=spec.objective, trials=frame, best_params=best_params, best_value=best_value,
        best_val_metrics=best_val, best_test_metrics=best_test, best_result=best_result, summary=summary,
        range_tests=tuple(range_tests), dataset_summary=ds.summary(), best_config=_plain(best_config),
        best_number=best_number, interrupted=interrupted,
    )  # fmt: skip
    try:  # checked before the run too; a same-named study of another storage may have written it since
        path = _results_path(results_path, cfg, name, studies_dir)  # a default that is not another's, or raises
    except ConfigError as exc:
        log.warning("results not saved: %s", exc)
        path = None
    if path is not None:
        result.save_json(path)
        from dataclasses import replace

        result = replace(result, results_path=path)
        try:  # where they are, for lrsearch report (a --results file is not where it looks by default)
            study.set_user_attr(ATTR + "results_path", os.path.abspath(path))
        except Exception as exc:  # the results are saved; the pointer is a convenience
            log.debug("could not record the results path in the study: %s", exc)
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
    # beside a journal, studies_dir for a database; <storage stem>-<name>.json when another storage's study of
    # that name holds <name>.json (ConfigError when both are taken)
    default = default_results_path(cfg.location, name, cfg.masked, studies_dir)
    return None if default is None else Path(default)
