"""Many machines, simulated: worker processes sharing one study on a real PostgreSQL server.

The fixture starts a throwaway cluster (tests/pg.py) and skips when no server
binaries or no psycopg2 are installed (``.ci/run`` installs Debian's postgresql).
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
from pg import postgres_server, skip_reason

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.postgres, pytest.mark.slow]
optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def pg_url():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with postgres_server() as url:
        yield url


def _cli(url: str, name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "lrsearch", "study", "--data", "iris", "--storage", url, "--study-name", name,
            "--optimizers", "adam,sgd", "--schedules", "constant,cosine", "--no-progress", *args]  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@functools.cache
def _storage(url: str) -> optuna.storages.BaseStorage:
    """One storage (one connection pool) per server: the polling loops below would open a new pool per
    call, and the server's 50 connections run out before the garbage collector closes them."""
    return optuna.storages.get_storage(url.replace("postgresql://", "postgresql+psycopg2://"))


def _load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=_storage(url))


def test_two_worker_processes_share_one_study_and_its_trial_budget(pg_url, tmp_path):
    """Two machines (processes) split one study's 16 trials, exactly.

    The first worker is frozen mid-trial until the second has started one, so both
    take part however long each takes to start (a fast first worker could otherwise
    run all 16 trials before the second one has imported lrsearch).
    """
    name = "shared"
    # heartbeats far apart: the frozen worker's trial must not be failed as stale while the other starts
    args = ("--n-trials", "16", "--epochs", "400", "--hidden", "256", "--pruner", "none", "--json",
            "--heartbeat", "120", "--studies-dir", str(tmp_path))  # fmt: skip
    first = subprocess.Popen(_cli(pg_url, name, *args), env=_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    procs = [first]
    try:
        _freeze_mid_trial(first, pg_url, name)
        second = subprocess.Popen(_cli(pg_url, name, *args), env=_env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)  # fmt: skip
        procs.append(second)
        deadline = time.time() + 90
        pid = str(second.pid)
        while time.time() < deadline and second.poll() is None:
            if any(t.user_attrs.get("worker", "").split(":")[1:2] == [pid] for t in _load(pg_url, name).trials):
                break  # the second worker has a trial of its own
            time.sleep(0.1)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    results = [json.loads(out) for out, _ in outs]
    assert sum(r["summary"]["trials_this_run"] for r in results) == 16
    study = _load(pg_url, name)
    states = Counter(t.state.name for t in study.trials)
    assert states == {"COMPLETE": 16}  # exact total, no overshoot, nothing left RUNNING
    workers = {t.user_attrs["worker"].rsplit(":", 2)[1] for t in study.trials}
    assert workers == {str(p.pid) for p in procs}  # both machines (processes) worked on it


def _stopped(pid: int, timeout: float = 5.0) -> bool:
    """True once the process shows state T (stopped) in /proc."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "Tt":
                return True
        except (OSError, IndexError):
            return False
        time.sleep(0.01)
    return False


def _freeze_mid_trial(proc: subprocess.Popen, url: str, name: str, timeout: float = 90.0) -> int:
    """Stop ``proc`` (SIGSTOP) while one of its trials is training; return that trial's number.

    A trial is training once it has reported an epoch: it is RUNNING and every
    parameter has been suggested (so its retry must repeat all of them).

    A trial can finish between the poll that sees it running and the signal, so the
    state is read again once the process is frozen (nothing it sends can land then);
    when the trial got done first, the process is resumed and the next trial tried.
    """
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            running = [t.number for t in _load(url, name).get_trials(states=(optuna.trial.TrialState.RUNNING,))
                       if "worker" in t.user_attrs and t.intermediate_values]  # fmt: skip
        except KeyError:  # not created yet
            running = []
        if running:
            os.kill(proc.pid, signal.SIGSTOP)
            assert _stopped(proc.pid), "the worker did not stop on SIGSTOP"
            time.sleep(0.3)  # a commit sent just before the stop has landed by now
            states = {t.number: t.state for t in _load(url, name).trials}
            if states.get(running[0]) == optuna.trial.TrialState.RUNNING:
                return running[0]
            os.kill(proc.pid, signal.SIGCONT)  # it finished that trial first: catch the next one
        time.sleep(0.05)
    raise AssertionError(f"no trial of the worker was caught running (worker exit code {proc.poll()})")


def test_a_killed_workers_trial_is_failed_by_heartbeat_and_retried(pg_url, tmp_path):
    from lrsearch.search import run_study

    name = "heartbeat"
    common = {"epochs": 400, "pruner": "none"}
    args = ("--n-trials", "40", "--epochs", "400", "--pruner", "none", "--heartbeat", "1",
            "--studies-dir", str(tmp_path), "--hidden", "256")  # fmt: skip
    proc = subprocess.Popen(_cli(pg_url, name, *args), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        killed = _freeze_mid_trial(proc, pg_url, name)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # a machine dies mid-trial (frozen, so it cannot finish the trial)
        proc.wait(timeout=10)
    before = Counter(t.state.name for t in _load(pg_url, name).trials)
    assert before["RUNNING"] == 1 and before["FAIL"] == 0, before
    time.sleep(3.5)  # grace period: 3 x heartbeat
    res = run_study("iris", storage=pg_url, study_name=name, heartbeat_interval=1, hidden=(256,),
                    space={"optimizer": ["adam", "sgd"], "schedule": ["constant", "cosine"]},
                    results_path=False, retrain=False, n_trials=before["COMPLETE"] + 1, **common)  # fmt: skip
    trials = {t.number: t for t in res.study.trials}
    assert trials[killed].state == optuna.trial.TrialState.FAIL
    retries = [t for t in trials.values() if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1 and retries[0].state == optuna.trial.TrialState.COMPLETE
    assert retries[0].params == trials[killed].params
    assert Counter(t.state.name for t in trials.values()) == {"COMPLETE": before["COMPLETE"] + 1, "FAIL": 1}
