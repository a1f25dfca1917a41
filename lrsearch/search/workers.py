"""The trial loop and the worker processes of a study.

This process is always worker 0 (one BLAS thread). ``n_jobs > 1`` adds
``n_jobs - 1`` joblib (loky) worker processes, each an Optuna worker on the
same storage with its own sampler seed and one BLAS/Numba thread; the Numba
cache is warmed first, so that they load compiled kernels instead of compiling
them.

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
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lrsearch.search._signals import SIGTERM_NOTED, sigint_handler
from lrsearch.search.objective import StopRequested, make_objective
from lrsearch.search.samplers import make_pruner, make_sampler
from lrsearch.search.space import SearchSpace
from lrsearch.search.spec import StudySpec
from lrsearch.search.storage import StorageConfig

__all__ = [
    "ATTR", "SIGINT_NOTED", "SIGTERM_NOTED", "Job", "counted", "fail_dead_local_trials", "fail_orphans", "one_blas_thread",
    "prestart_workers", "run_parallel", "sigint_noted", "warm_numba", "work", "worker_executor",
]

log = logging.getLogger(__name__)

#: prefix of the study's own user attributes
ATTR = "lrsearch:"


@dataclass(frozen=True)
class Job:
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


_COUNTED = ("COMPLETE", "PRUNED", "RUNNING")


def counted(study: Any) -> int:
    """Trials that use up the budget: complete, pruned and running (failed ones are rerun)."""
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=tuple(TrialState[s] for s in _COUNTED)))


#: set by :class:`sigint_noted`'s handler: a Ctrl-C that a callback swallowed still stops the trial loop
SIGINT_NOTED = threading.Event()


@contextlib.contextmanager
def sigint_noted() -> Iterator[None]:
    """While a study runs in the main thread, note every Ctrl-C before raising KeyboardInterrupt as usual.

    A KeyboardInterrupt raised inside a ctypes callback (a compiled library calling
    back into Python) is printed and dropped ("Exception ignored on calling ctypes
    callback function"), and the study ran on to its end; the trial loop checks
    :data:`SIGINT_NOTED` before each trial and stops as for any Ctrl-C.
    """
    if threading.current_thread() is threading.main_thread():  # a study in a thread leaves the note alone
        SIGINT_NOTED.clear()
        SIGTERM_NOTED.clear()  # a SIGTERM noted before this study (an earlier command in this process) is not its
    with sigint_handler(_note, over=lambda previous: previous is signal.default_int_handler):
        yield


def _note(signum: int, frame: Any) -> None:
    SIGINT_NOTED.set()
    raise KeyboardInterrupt


def work(job: Job, *, storage: Any = None, on_trial: Callable[..., None] | None = None,
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
        slot = int(study.user_attrs.get(ATTR + "workers", 0))
        study.set_user_attr(ATTR + "workers", slot + 1)
    seed = int(np.random.SeedSequence([spec.seed, slot]).generate_state(1)[0])
    study.sampler = make_sampler(spec.sampler, seed, spec.seed, lock=lock)  # QMC's shared counter: under the lock
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
    waiting_for: set[int] | None = None
    wait_until = 0.0
    warned = False
    while True:
        trial = beat = None
        try:
            with lock, warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
                if ((SIGINT_NOTED.is_set() or SIGTERM_NOTED.is_set()) and job.parent_pid is None  # a Ctrl-C
                        # (or the command line's SIGTERM) that a callback swallowed,
                        and threading.current_thread() is threading.main_thread()):  # for the main thread's study
                    raise KeyboardInterrupt
                if (job.deadline is not None and time.time() >= job.deadline) or should_stop():
                    break
                if heartbeat_on:
                    optuna.storages.fail_stale_trials(study)
                if counted(study) >= job.n_trials:
                    # a running trial may be a dead machine's: it counts until its heartbeat is found stale, when
                    # it is failed and queued again; stopping now would leave it RUNNING for good. Wait for the
                    # trials running when the budget was reached to end or go stale (and then run the retry
                    # here), no longer than it takes a dead one's heartbeat to go stale
                    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                    now = {t.number for t in running}
                    if waiting_for is None:
                        waiting_for = now
                        wait_until = time.time() + _stale_after(storage)
                    if heartbeat_on and not warned and job.parent_pid is None:
                        # the trials of this run's own live workers end in a moment (or, if a worker dies, go
                        # stale too): only a wait on another machine's or process's trials is worth a warning,
                        # from this machine's main process (its other workers wait alike, without a word)
                        elsewhere = [t for t in running if t.number in waiting_for and not own_live(t, job.run_id)]
                        if elsewhere:
                            warned = True
                            log.warning("budget reached while %d trial(s) run elsewhere: waiting up to %.0f s for "
                                        "them to end or go stale (a dead machine's trial is then retried here)",
                                        len(elsewhere), max(0.0, wait_until - time.time()))  # fmt: skip
                    if not (heartbeat_on and waiting_for & now and time.time() < wait_until):
                        break
                else:
                    trial = study.ask()
                    # first heartbeat at once: a trial that never beat is never found stale
                    beat = Heartbeat(storage, trial._trial_id).start()  # Optuna has no public trial-id accessor
                    # under the lock: a worker that finds the budget reached sees whose trial this is
                    trial.set_user_attr("run", job.run_id)  # marks this run's trials, for the clean-up after Ctrl-C
                    trial.set_user_attr("worker", worker)
            if trial is None:  # waiting for another machine's trial (above)
                time.sleep(WAIT_POLL_S)
                continue
        except KeyboardInterrupt:
            if beat is not None:
                beat.stop()
            if trial is not None:
                fail_and_requeue(study, trial.number)
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
            fail_and_requeue(study, trial.number)
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


def _worker_entry(job: Job) -> dict[str, Any]:
    """A loky worker process: one thread for BLAS and Numba (set in its environment at start), then the loop."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with one_blas_thread():
        return work(job, raise_interrupt=False)


def one_blas_thread() -> Any:
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


def run_parallel(job: Job, n_jobs: int, report: Callable[..., None] | None, storage: Any,
                  pool: tuple[Any, int] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """This process is worker 0; ``n_jobs - 1`` loky processes are the others.

    ``pool``: the executor :func:`prestart_workers` started and its size, used
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
        pool = prestart_workers(n_jobs, job.dataset, job.spec.dtype)  # spawned here, in the main thread
    executor = pool[0] if pool is not None else worker_executor(n_jobs)

    def run() -> None:
        try:
            futures = [executor.submit(_worker_entry, others) for _ in range(n_jobs - 1)]
            outcome["workers"] = [f.result() for f in futures]
        except BaseException as exc:  # handed to the main thread
            # a worker process killed outright (the OOM killer, kill -9) breaks the pool: a lost worker, not a
            # bug; this process carries on, and the lost trials are failed (and rerun) like a Ctrl-C's
            outcome["lost" if _lost_worker(exc) else "error"] = exc
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
        with one_blas_thread():
            mine = work(job, storage=storage, on_trial=on_trial)
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
    if "lost" in outcome:
        import optuna

        log.warning("a worker process died (%s): its running trial is marked failed and rerun; this process "
                    "finishes the study alone", type(outcome["lost"]).__name__)  # fmt: skip
        # the dead worker's trial stayed RUNNING and counted against the budget, so this process stopped one
        # trial short: fail it (a process of this machine that is gone) and run what is left here
        opened = storage if storage is not None else job.storage.open()
        fail_dead_local_trials(optuna.load_study(study_name=job.study_name, storage=opened))
        with one_blas_thread():
            workers.append(work(job, storage=opened, on_trial=on_trial))
    if any(w.get("interrupted") for w in workers):  # Ctrl-C reached the workers (a terminal's process group)
        raise KeyboardInterrupt
    return workers


def _lost_worker(exc: BaseException) -> bool:
    """Whether ``exc`` is loky's report of a worker process that died (not an error inside a worker)."""
    return type(exc).__name__ in ("TerminatedWorkerError", "BrokenProcessPool", "ShutdownExecutorError")


def worker_executor(n_jobs: int) -> Any:
    """The ``n_jobs - 1`` loky worker processes (joblib's executor directly: ``joblib.Parallel`` with
    one job would run in this process), one BLAS/Numba thread each; the same executor on every call.

    It is joblib's own reusable executor (``get_memmapping_executor``, arrays pickled, never
    memory-mapped), not loky's bare one: that process-wide singleton is the one a later
    ``joblib.Parallel`` (``GridSearchCV(n_jobs=2)``, say) reuses, and a bare one lacks joblib's
    temporary-folder manager, which made such a call fail after a parallel study.
    """
    from joblib.executor import get_memmapping_executor

    return get_memmapping_executor(n_jobs - 1, env={v: "1" for v in _THREAD_VARS}, max_nbytes=None)


def prestart_workers(n_jobs: int, dataset: Any, dtype: str) -> tuple[Any, int] | None:
    """Start ``n_jobs - 1`` worker processes and load the Numba cache in each, without waiting for them.

    A worker takes 0.6-0.8 s to start (Python, imports, the compiled kernels);
    started before the study is opened (and its range tests run) it is ready, or
    nearly, when the trials begin. Returns ``(executor, n_jobs - 1)``, or None
    when there is nothing to start or the start failed (``run_parallel`` then
    starts the workers itself and reports real failures).
    """
    if n_jobs < 2:
        return None
    try:
        executor = worker_executor(n_jobs)
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
    with sigint_handler(signal.SIG_IGN):
        yield


def _warm_worker(task: str, n_features: int, dtype: str) -> None:
    from types import SimpleNamespace

    import optuna  # noqa: F401  (imported here, not at the first trial)

    warm_numba(SimpleNamespace(task=task, X_train=np.zeros((1, n_features))), dtype)


def _safe(report: Callable[..., None]) -> None:
    try:
        report()
    except Exception as exc:  # a display problem must not stop the study
        log.debug("progress display failed: %s", exc)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def fail_and_requeue(study: Any, number: int, frozen: Any = None) -> None:
    """Mark trial ``number`` failed; an aimed first trial (enqueued from a range test) is queued again.

    A failed trial does not count against the budget, so the study samples a
    new one in its place; the finder's first trials carry the range test's rate
    and would be lost. Database storages with heartbeats re-queue their stale
    trials through Optuna's retry callback (at most :data:`MAX_REQUEUE` times);
    this does the same for trials failed by a Ctrl-C or a worker that died on a
    journal. Only a trial that was still running is queued again, and only once
    (a second call, from another process finding the same dead trial, does not).
    ``frozen``: the trial as already read (saves reading every trial again).
    """
    from optuna.trial import TrialState

    if frozen is None or frozen.number != number:
        frozen = next((t for t in study.get_trials(deepcopy=False) if t.number == number), None)
    was_running = frozen is not None and frozen.state == TrialState.RUNNING
    study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
    if not was_running:
        return
    fixed = frozen.system_attrs.get("fixed_params")
    retries = int(frozen.user_attrs.get("requeued", 0))
    if not fixed or not frozen.user_attrs.get("aimed_by") or retries >= MAX_REQUEUE:
        return
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    if any(t.user_attrs.get("retry_of") == number for t in waiting):
        return  # another process queued it already
    study.enqueue_trial(dict(fixed), user_attrs={"aimed_by": frozen.user_attrs["aimed_by"], "retry_of": number,
                                                 "requeued": retries + 1})  # fmt: skip
    log.info("trial %d (an aimed first trial) failed; queued again with the same parameters", number)


#: seconds between looks at the running trials once the budget is reached (heartbeat storages)
WAIT_POLL_S = 0.5


def _stale_after(storage: Any) -> float:
    """Seconds after which a dead worker's trial is found stale: the grace period plus two heartbeats."""
    hb = float(getattr(storage, "get_heartbeat_interval", lambda: None)() or 0)
    grace = getattr(storage, "grace_period", None) or 2 * hb
    return float(grace) + 2 * hb

#: how many times one aimed first trial is queued again after failing (Optuna's retry callback default: 2)
MAX_REQUEUE = 2


def fail_dead_local_trials(study: Any) -> None:
    """Fail RUNNING trials of worker processes of this machine that no longer exist.

    A journal has no heartbeats: a worker killed outright (SIGKILL, a crash of
    the whole run) would leave its trial RUNNING for ever, counted against the
    budget. Only for storages without heartbeats; trials of other machines are
    not touched.
    """
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if worker_of(t) == ("local", False):
            log.warning("trial %d was left running by worker process %s, which is gone; marking it failed",
                        t.number, str(t.user_attrs["worker"]).split(":")[1])  # fmt: skip
            fail_and_requeue(study, t.number, t)


def worker_of(trial: Any) -> tuple[str, bool | None]:
    """Where the trial's recorded worker (``host:pid:slot``) runs: ``("local", alive)`` for a process of this
    machine, ``("remote", None)`` for another machine's, ``("unknown", None)`` when none is recorded."""
    parts = str(trial.user_attrs.get("worker", "")).split(":")
    if len(parts) < 2 or not parts[1].isdigit():
        return "unknown", None
    if parts[0] == socket.gethostname():
        return "local", pid_alive(int(parts[1]))
    return "remote", None


def own_live(trial: Any, run_id: str) -> bool:
    """Whether ``trial`` is run by a worker of run ``run_id`` (this run) whose process is alive."""
    return trial.user_attrs.get("run") == run_id and worker_of(trial) == ("local", True)


def fail_orphans(study: Any, run_id: str) -> None:
    """Fail trials of this run left RUNNING by a killed worker (journal storage has no heartbeats)."""
    from optuna.trial import TrialState

    try:
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if t.user_attrs.get("run") == run_id:
                fail_and_requeue(study, t.number, t)
    except Exception as exc:  # never mask the real outcome
        log.warning("could not mark interrupted trials as failed: %s", exc)
